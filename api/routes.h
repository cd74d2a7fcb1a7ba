// The route table: every route of the API in one place — method, httplib pattern, OpenAPI path and
// handler — and the wrapper that turns a handler's refusal into a problem and records the request
// in the metrics under its OpenAPI path.
//
// The handlers live in a file per route group (handlers.h lists them); they share an ApiContext.
//
// Thread safety: the table is immutable; registered handlers run concurrently.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "api/context.h"

namespace tongban::api {

using Handler = void (*)(const ApiContext& ctx, const httplib::Request& req,
                         httplib::Response& res);

struct Route {
  const char* method;   // GET or POST
  const char* pattern;  // httplib's regex; captures are req.matches[1…]
  const char* path;     // the OpenAPI path, used in metrics and routes()
  Handler handler;
  bool simulated_clock_only = false;  // exists only on a simulated clock
  bool checkpoint_key_only = false;   // exists only when the server holds a checkpoint key
};

// The OpenAPI path of the document upload: the one route whose body may exceed
// ServerOptions::max_body_bytes, up to the engine's document limit (engine/documents.h).
inline constexpr const char* kDocumentUploadPath = "/v1/cases/{id}/documents";
inline constexpr const char* kDocumentUploadPattern = R"(/v1/cases/([^/]+)/documents)";

// Every route, in the order httplib matches them.
const std::vector<Route>& RouteTable();

// Registers the routes that exist in `ctx` (the clock route only on a simulated clock) on `http`,
// each wrapped so that a ProblemError or any other exception is sent as a problem and the request
// is counted in ctx.metrics. Returns "GET /v1/cases/{id}" for every route registered. `ctx` must
// outlive `http`.
std::vector<std::string> RegisterRoutes(const ApiContext& ctx, httplib::Server& http);

}  // namespace tongban::api
