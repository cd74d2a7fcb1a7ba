// Principals: who may call the API, compiled from a "principals" definition file.
//
// The file maps SHA-256 hashes of bearer tokens (never the tokens) to principals: an id, a name,
// roles, the organ they work for, and for applicants their unified social credit code
// (统一社会信用代码). `tongban token` prints a new token and the line to add.
//
// Roles. A principal may hold the built-in roles below and any role a deployed item declares
// (an inspector, a fire reviewer): the compiler alone accepts any well-formed role id, because a
// principals file does not know the definitions; CheckPrincipalRoles then refuses, against the
// definitions a server runs, a role that nothing declares.
//
// Thread safety: immutable after compilation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"
#include "workflows/item.h"

namespace tongban {

// The roles every principal may hold whatever is deployed: the API's own roles and the step roles
// built into every item.
inline const std::vector<std::string>& PrincipalRoles() {
  static const std::vector<std::string> roles = {"applicant", "agent",    "clerk",   "reviewer",
                                                 "approver",  "verifier", "auditor", "admin"};
  return roles;
}

// PrincipalRoles() followed by every role the items declare (each once, sorted after the
// built-ins). Bundles declare no roles of their own: their parts are items.
std::vector<std::string> KnownPrincipalRoles(const std::vector<std::shared_ptr<const Item>>& items);

struct Principal {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string organ;        // "" for applicants; "*" for an auditor or admin of every organ
  std::string credit_code;  // applicants: 统一社会信用代码
  std::string token_sha256;

  bool HasRole(const std::string& role) const;
};

struct PrincipalSet {
  std::string id;
  bool demo = false;  // shipped demo principals: the server warns when it starts with them
  std::vector<Principal> principals;
};

// Returns null when any error was reported. Roles are checked to be slugs only (see above).
std::shared_ptr<const PrincipalSet> CompilePrincipals(const nlohmann::json& root,
                                                      DiagnosticSink* sink);

// Reports an "unknown-role" error, at the role's JSON pointer (/principals/I/roles/K) and with a
// "did you mean", for every role of `set` that is not in `known` (KnownPrincipalRoles). `set` must
// be the one compiled from the document `sink` reports on. Returns whether none was reported.
bool CheckPrincipalRoles(const PrincipalSet& set, const std::vector<std::string>& known,
                         DiagnosticSink* sink);

// Joint parties (会签) of `items` that no principal of `set` can sign: nobody holds the party's
// role in the party's organ (or in every organ, "*"). One line per party, for a start-up warning.
std::vector<std::string> UnsignableJointParties(
    const PrincipalSet& set, const std::vector<std::shared_ptr<const Item>>& items);

// Checks the shape of a unified social credit code (18 characters, GB 32100-2015 check digit).
bool IsValidCreditCode(const std::string& code);

}  // namespace tongban
