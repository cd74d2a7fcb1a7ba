#include "api/routes.h"

#include <chrono>
#include <exception>

#include "api/handlers.h"
#include "api/http_util.h"

namespace tongban::api {

const std::vector<Route>& RouteTable() {
  static const std::vector<Route> table = {
      // observability_routes.cc
      {"GET", "/healthz", "/healthz", Health},
      {"GET", "/metrics", "/metrics", MetricsText},
      {"GET", "/openapi.json", "/openapi.json", OpenApi},
      // definitions_routes.cc
      {"GET", "/v1/definitions", "/v1/definitions", ListDefinitions},
      {"POST", "/v1/definitions", "/v1/definitions", DeployDefinition},
      {"POST", "/v1/definitions/validate", "/v1/definitions/validate", ValidateDefinition},
      {"GET", R"(/v1/definitions/([^/]+))", "/v1/definitions/{id}", GetDefinition},
      {"GET", R"(/v1/definitions/([^/]+)/graph)", "/v1/definitions/{id}/graph", GetGraph},
      // cases_routes.cc
      {"POST", "/v1/cases", "/v1/cases", CreateCase},
      {"GET", "/v1/cases", "/v1/cases", ListCases},
      // Before /v1/cases/{id}, which would take "counts" for a case id (routes match in order).
      {"GET", "/v1/cases/counts", "/v1/cases/counts", CountCases},
      {"GET", R"(/v1/cases/([^/]+))", "/v1/cases/{id}", GetCase},
      {"POST", R"(/v1/cases/([^/]+)/actions)", "/v1/cases/{id}/actions", ActOnCase},
      {"GET", R"(/v1/cases/([^/]+)/history)", "/v1/cases/{id}/history", History},
      {"GET", R"(/v1/cases/([^/]+)/verify)", "/v1/cases/{id}/verify", Verify},
      // documents_routes.cc
      {"POST", kDocumentUploadPattern, kDocumentUploadPath, UploadDocument},
      {"GET", R"(/v1/cases/([^/]+)/documents)", "/v1/cases/{id}/documents", ListDocuments},
      {"GET", R"(/v1/cases/([^/]+)/documents/([0-9a-f]{64}))", "/v1/cases/{id}/documents/{hash}",
       GetDocument},
      {"GET", R"(/v1/cases/([^/]+)/archive)", "/v1/cases/{id}/archive", GetArchive},
      // tracking_routes.cc
      {"GET", R"(/v1/track/([^/]+))", "/v1/track/{number}", Track},
      // registers_routes.cc
      {"GET", "/v1/delegations", "/v1/delegations", ListDelegations},
      {"POST", "/v1/delegations", "/v1/delegations", AddDelegation},
      {"GET", R"(/v1/delegations/([^/]+))", "/v1/delegations/{id}", GetDelegation},
      {"POST", R"(/v1/delegations/([^/]+)/revoke)", "/v1/delegations/{id}/revoke",
       RevokeDelegation},
      {"GET", "/v1/credit-records", "/v1/credit-records", ListCreditRecords},
      {"GET", R"(/v1/credit-records/([^/]+))", "/v1/credit-records/{id}", GetCreditRecord},
      {"POST", R"(/v1/credit-records/([^/]+)/repair)", "/v1/credit-records/{id}/repair",
       RepairCreditRecord},
      {"GET", "/v1/mandates", "/v1/mandates", ListMandates},
      {"POST", "/v1/mandates", "/v1/mandates", GrantMandate},
      {"GET", R"(/v1/mandates/([^/]+))", "/v1/mandates/{id}", GetMandate},
      {"POST", R"(/v1/mandates/([^/]+)/revoke)", "/v1/mandates/{id}/revoke", RevokeMandate},
      {"GET", "/v1/ledger", "/v1/ledger", Ledger},
      // admin_routes.cc
      {"POST", "/v1/admin/clock", "/v1/admin/clock", AdvanceClock,
       /*simulated_clock_only=*/true},
      {"POST", "/v1/admin/checkpoints", "/v1/admin/checkpoints", RecordCheckpointNow,
       /*simulated_clock_only=*/false, /*checkpoint_key_only=*/true},
  };
  return table;
}

std::vector<std::string> RegisterRoutes(const ApiContext& ctx, httplib::Server& http) {
  using SteadyClock = std::chrono::steady_clock;
  std::vector<std::string> registered;
  for (const Route& route : RouteTable()) {
    if (route.simulated_clock_only && ctx.simulated_clock == nullptr) continue;
    if (route.checkpoint_key_only &&
        (ctx.options->checkpoints == nullptr || !ctx.options->checkpoints->enabled()))
      continue;
    const std::string method = route.method;
    const std::string path = route.path;
    registered.push_back(method + " " + path);
    auto wrapped = [&ctx, path, handler = route.handler](const httplib::Request& req,
                                                         httplib::Response& res) {
      auto started = SteadyClock::now();
      try {
        // The server reads bodies up to the document limit; every other route keeps its own.
        if (path != std::string(kDocumentUploadPath) &&
            req.body.size() > ctx.options->max_body_bytes) {
          throw ProblemError{MakeProblem(413, "too-large", "Request body too large",
                                         "the request body exceeds the server's limit")};
        }
        handler(ctx, req, res);
      } catch (const ProblemError& e) {
        SendProblem(res, e.problem);
      } catch (const std::exception& e) {
        SendProblem(res, MakeProblem(500, "internal", "Internal error", e.what()));
      }
      ctx.metrics->RecordRequest(
          path, res.status, std::chrono::duration<double>(SteadyClock::now() - started).count());
    };
    if (method == "GET") http.Get(route.pattern, wrapped);
    if (method == "POST") http.Post(route.pattern, wrapped);
  }
  return registered;
}

}  // namespace tongban::api
