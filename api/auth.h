// Authentication: the principal a request's bearer token belongs to.
//
// Tokens are looked up by their SHA-256 among the principals (never stored in the database, never
// logged) and compared in constant time. Who may see or do what is not decided here: the engine
// decides (engine/permissions.h), and the handlers translate its refusals.
//
// Thread safety: pure; the principal set is read-only.
#pragma once

#include <httplib.h>

#include "api/context.h"
#include "engine/permissions.h"
#include "workflows/principals.h"

namespace tongban::api {

// The principal of `Authorization: Bearer TOKEN`; a 401 problem (ProblemError) without a valid
// token. The reference lives as long as ctx.principals.
const Principal& Authenticate(const ApiContext& ctx, const httplib::Request& req);

// The actor as whom `p` performs `operation` (Permissions::AuthorizeOperation); the engine's
// refusal as a 403 problem (ProblemError) otherwise.
Actor Authorize(const Principal& p, Operation operation);

}  // namespace tongban::api
