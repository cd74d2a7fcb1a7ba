#include "api/auth.h"

#include <string>

#include "api/http_util.h"
#include "workflows/sha256.h"

namespace tongban::api {

const Principal& Authenticate(const ApiContext& ctx, const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  static const std::string kBearer = "Bearer ";
  if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0) {
    std::string presented = Sha256Hex(header.substr(kBearer.size()));
    // Every principal is compared, so the time taken does not depend on which one matched.
    const Principal* found = nullptr;
    for (const Principal& p : ctx.principals->principals) {
      if (ConstantTimeEquals(presented, p.token_sha256)) found = &p;
    }
    if (found != nullptr) return *found;
  }
  Problem p = MakeProblem(401, "unauthenticated", "Authentication required",
                          "send Authorization: Bearer TOKEN with a valid token");
  throw ProblemError{p};
}

Actor Authorize(const Principal& p, Operation operation) {
  auto actor = Permissions::AuthorizeOperation(p, operation);
  if (!actor.ok()) Fail(actor.status());
  return *actor;
}

}  // namespace tongban::api
