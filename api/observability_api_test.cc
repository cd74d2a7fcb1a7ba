// API tests of the observability routes (observability_routes.cc): /healthz, /metrics,
// /openapi.json, and the OpenAPI document against the routes and the statuses they give.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"
#include "workflows/sha256.h"

namespace tongban::api::api_test {
namespace {

// ---- Operations ---------------------------------------------------------------------------------

TEST_F(ApiTest, HealthzNeedsNoToken) {
  Reply r = api().Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.doc, json({{"status", "ok"}}));
  EXPECT_EQ(r.ContentType(), "application/json");
}

TEST_F(ApiTest, UnknownPathIsProblem404) {
  ExpectProblem(api().Get("/v2/nothing", kAdmin), 404, "not-found");
}

TEST_F(ApiTest, OpenApiDocumentIsServedAsCompiledIn) {
  Reply r = api().Get("/openapi.json");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.ContentType(), "application/json");
  ASSERT_TRUE(r.doc.is_object()) << "not JSON";
  EXPECT_EQ(r.doc.value("openapi", ""), "3.1.0");
  EXPECT_EQ(r.doc, json::parse(ReadFile(kSourceDir + "/api/openapi.json")));
  EXPECT_EQ(r.body, OpenApiDocument());
  const json& schemes = r.doc["components"]["securitySchemes"];
  EXPECT_EQ(schemes["bearerAuth"]["type"], "http");
  EXPECT_EQ(schemes["bearerAuth"]["scheme"], "bearer");
  // The problem schema every error response refers to.
  const json& problem = r.doc["components"]["schemas"]["Problem"];
  for (const char* member : {"type", "title", "status", "detail", "errors"}) {
    EXPECT_TRUE(problem["properties"].contains(member)) << member;
  }
  const json& error = r.doc["components"]["schemas"]["ProblemError"];
  EXPECT_TRUE(error["properties"].contains("pointer"));
  EXPECT_TRUE(error["properties"].contains("message"));
}

// Every registered route is documented, and every documented operation is registered.
TEST_F(ApiTest, RoutesAndOpenApiPathsAgree) {
  json doc = json::parse(OpenApiDocument());
  std::set<std::string> documented;
  static const std::set<std::string> kMethods = {"get",   "put",     "post", "delete",
                                                 "patch", "options", "head", "trace"};
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (kMethods.count(method) == 0) continue;
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      documented.insert(upper + " " + path);
    }
  }
  std::set<std::string> registered(server_->server().routes().begin(),
                                   server_->server().routes().end());
  EXPECT_EQ(registered.size(), server_->server().routes().size()) << "a route registered twice";
  for (const std::string& route : registered) {
    EXPECT_EQ(documented.count(route), 1u) << route << " is registered but not documented";
  }
  for (const std::string& operation : documented) {
    EXPECT_EQ(registered.count(operation), 1u) << operation << " is documented but not registered";
  }
  // 19 routes for definitions, cases (the rating included), tracking and operations; 4 for
  // documents and the archive; 12 for the registers; 6 for the audit queries and the indicators.
  EXPECT_EQ(registered.size(), 41u);
  EXPECT_EQ(registered.count("POST /v1/admin/checkpoints"), 1u);
  EXPECT_EQ(registered.count("POST /v1/admin/clock"), 1u);
  for (const char* route :
       {"GET /v1/delegations", "POST /v1/delegations", "GET /v1/delegations/{id}",
        "POST /v1/delegations/{id}/revoke", "GET /v1/credit-records", "GET /v1/credit-records/{id}",
        "POST /v1/credit-records/{id}/repair", "GET /v1/mandates", "POST /v1/mandates",
        "GET /v1/mandates/{id}", "POST /v1/mandates/{id}/revoke", "GET /v1/ledger"}) {
    EXPECT_EQ(registered.count(route), 1u) << route;
  }
  // The schemas of what the new routes take and give, and the new members of a case.
  const json& schemas = doc["components"]["schemas"];
  for (const char* schema :
       {"BundleCase", "BundlePart", "BundleTrack", "Delegation", "NewDelegation", "CreditRecord",
        "Mandate", "NewMandate", "LedgerEntry", "Ledger", "Commitment", "Reason"}) {
    EXPECT_TRUE(schemas.contains(schema)) << schema;
  }
  for (const char* member : {"reception", "bundle", "commitment", "issued_in", "verification"}) {
    EXPECT_TRUE(schemas["Case"]["properties"].contains(member)) << member;
  }
  EXPECT_TRUE(schemas["Clock"]["properties"].contains("verification"));
  const std::string actions = schemas["ActionRequest"]["properties"]["action"].dump();
  EXPECT_NE(actions.find("transfer"), std::string::npos);
  EXPECT_NE(actions.find("verify"), std::string::npos);
}

// Every documented response of an authenticated operation refers to a schema, and every error
// response is a problem document.
TEST_F(ApiTest, OpenApiErrorResponsesAreProblems) {
  json doc = json::parse(OpenApiDocument());
  const json& shared = doc["components"]["responses"];
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      ASSERT_TRUE(operation.contains("responses")) << method << " " << path;
      for (const auto& [code, response] : operation["responses"].items()) {
        SCOPED_TRACE(method + " " + path + " " + code);
        if (code[0] != '4' && code[0] != '5') continue;
        json resolved = response;
        if (response.contains("$ref")) {
          std::string name = response["$ref"].get<std::string>();
          name = name.substr(name.rfind('/') + 1);
          ASSERT_TRUE(shared.contains(name)) << name;
          resolved = shared[name];
        }
        ASSERT_TRUE(resolved["content"].contains("application/problem+json"));
        EXPECT_EQ(resolved["content"]["application/problem+json"]["schema"]["$ref"],
                  "#/components/schemas/Problem");
      }
    }
  }
}

TEST_F(ApiTest, MetricsExposeRequestsLatencyTransitionsStoreAndCases) {
  std::string id = AtDecision();
  ASSERT_EQ(api().Act(id, kApprover, "approve").status, 200);
  api().Get("/v1/cases/nope", kClerk);
  Reply r = api().Get("/metrics");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.ContentType().rfind("text/plain", 0), 0u) << r.ContentType();
  for (const char* expected : {
           "# TYPE tongban_http_requests_total counter",
           "tongban_http_requests_total{route=\"/v1/cases\",status=\"201\"} 1",
           "tongban_http_requests_total{route=\"/v1/cases/{id}/actions\",status=\"200\"} 3",
           "tongban_http_requests_total{route=\"/v1/cases/{id}\",status=\"404\"} 1",
           "# TYPE tongban_http_request_duration_seconds histogram",
           "tongban_http_request_duration_seconds_bucket{route=\"/v1/cases/{id}/"
           "actions\",le=\"+Inf\"} 3",
           "tongban_http_request_duration_seconds_count{route=\"/v1/cases/{id}/actions\"} 3",
           "tongban_http_request_duration_seconds_sum{route=\"/v1/cases/{id}/actions\"}",
           "# TYPE tongban_transitions_total counter",
           "tongban_transitions_total{action=\"submit\",status=\"submitted\"} 1",
           "tongban_transitions_total{action=\"accept\",status=\"under_review\"} 1",
           "tongban_transitions_total{action=\"pass\",status=\"under_review\"} 1",
           "tongban_transitions_total{action=\"approve\",status=\"approved\"} 1",
           "# TYPE tongban_store_commits_total counter",
           "tongban_store_commits_total ",
           "# TYPE tongban_cases gauge",
           "tongban_cases{status=\"approved\"} 1",
           "tongban_open_cases_by_light{light=\"green\"} 0",
       }) {
    EXPECT_NE(r.body.find(expected), std::string::npos) << expected << "\n" << r.body;
  }
  std::smatch commits;
  ASSERT_TRUE(
      std::regex_search(r.body, commits, std::regex("\ntongban_store_commits_total ([0-9]+)")));
  EXPECT_GE(std::stoi(commits[1].str()), 4);
  // Idempotent replays are not counted as transitions again.
  std::string id2 = Submitted();
  api().Act(id2, kClerk, "accept", json::object(), {{"Idempotency-Key", "m"}});
  api().Act(id2, kClerk, "accept", json::object(), {{"Idempotency-Key", "m"}});
  EXPECT_NE(
      api()
          .Get("/metrics")
          .body.find("tongban_transitions_total{action=\"accept\",status=\"under_review\"} 2"),
      std::string::npos);
}

// tongban_transitions_total counts what was committed, once: item actions, timers, a bundle's own
// events and part_changed, the children a bundle creates and the actions it cascades to them —
// and no idempotent replay. It agrees with the events in the store, series by series.
TEST_F(ApiTest, TransitionsAgreeWithTheStoredEvents) {
  // Item actions, one replayed.
  const std::string id = UnderReview();
  ASSERT_EQ(api().Act(id, kReviewer, "pass", json::object(), {{"Idempotency-Key", "p"}}).status,
            200);
  ASSERT_EQ(api().Act(id, kReviewer, "pass", json::object(), {{"Idempotency-Key", "p"}}).status,
            200);
  // A bundle: its children created with it; a child's action records part_changed on the bundle;
  // the bundle's withdraw cascades to its open parts, and is replayed.
  Reply startup = Create(kApplicant, NewStartup());
  const std::string bundle = startup.doc.value("id", "");
  const std::string registration = startup.doc["parts"][0].value("case_id", "");
  ASSERT_EQ(api().Act(registration, kClerk, "accept").status, 200);
  for (int i = 0; i < 2; ++i) {
    Reply withdrawn =
        api().Act(bundle, kApplicant, "withdraw", json::object(), {{"Idempotency-Key", "w"}});
    ASSERT_EQ(withdrawn.status, 200) << withdrawn;
  }
  // Timers: deemed acceptance, then overdue.
  const std::string waiting = Submitted();
  ASSERT_EQ(api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-12T09:00:00+08:00"}}).status,
            200);
  ASSERT_GE(History(waiting).size(), 3u);

  std::map<std::pair<std::string, std::string>, int64_t> stored;
  ASSERT_TRUE(server_->service()
                  .store()
                  ->ForEachEvent([&](const Event& e) {
                    ++stored[{e.action, e.status}];
                    return true;
                  })
                  .ok());
  std::map<std::pair<std::string, std::string>, int64_t> counted;
  const std::string metrics = api().Get("/metrics").body;
  static const std::regex kSeries(
      "\ntongban_transitions_total\\{action=\"([^\"]*)\",status=\"([^\"]*)\"\\} ([0-9]+)");
  for (auto it = std::sregex_iterator(metrics.begin(), metrics.end(), kSeries);
       it != std::sregex_iterator(); ++it) {
    counted[{(*it)[1].str(), (*it)[2].str()}] = std::stoll((*it)[3].str());
  }
  for (const char* action :
       {"submit", "accept", "pass", "part_changed", "withdraw", "deem_accepted", "mark_overdue"}) {
    SCOPED_TRACE(action);
    bool found = false;
    for (const auto& [key, n] : stored)
      found = found || key.first == action;
    EXPECT_TRUE(found) << "the test drives no " << action;
  }
  EXPECT_EQ(counted, stored) << metrics;
}

// Every response status an operation documents is one the server gives (the tour below produces
// each), and every status the server gave on the tour is documented. The tour's statuses are read
// back from the server's own request metrics. 500 and 503 (failures of the store) and 413 (answered
// before any handler) are outside the tour.
TEST_F(ApiTest, DocumentedStatusesAreTheStatusesGiven) {
  std::string id = Submitted();
  std::string number = api().Get("/v1/cases/" + id, kApplicant).doc.value("number", "");
  std::string code = api().Get("/v1/cases/" + id, kApplicant).doc.value("query_code", "");
  json permit = json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json"));
  // A version above the shipped one, whatever that is.
  json v2 = permit;
  v2["version"] = permit["version"].get<int>() + 1;
  json changed = v2;
  changed["title"] = "x";
  json invalid = v2;
  invalid["version"] = permit["version"].get<int>() + 2;
  invalid["steps"] = "none";

  api().Get("/healthz");
  api().Get("/metrics");
  api().Get("/openapi.json");
  api().Get("/v1/definitions", kApplicant);
  api().Get("/v1/definitions");
  api().Post("/v1/definitions", kAdmin, v2);                // 201
  api().Post("/v1/definitions", kAdmin, v2);                // 200
  api().PostRaw("/v1/definitions", kAdmin, "{");            // 400
  api().Post("/v1/definitions", "", v2);                    // 401
  api().Post("/v1/definitions", kClerk, v2);                // 403
  api().Post("/v1/definitions", kAdmin, changed);           // 409
  api().Post("/v1/definitions", kAdmin, invalid);           // 422
  api().Post("/v1/definitions/validate", kClerk, v2);       // 200
  api().Post("/v1/definitions/validate", "", v2);           // 401
  api().Post("/v1/definitions/validate", kApplicant, v2);   // 403
  api().Post("/v1/definitions/validate", kClerk, changed);  // 409
  api().PostRaw("/v1/definitions/validate", kClerk, "{");   // 422
  api().Get("/v1/cases/counts", kClerk);                    // 200
  api().Get("/v1/cases/counts");                            // 401
  api().Get("/v1/cases/counts?status=pending", kClerk);     // 422
  api().Get("/v1/definitions/construction-permit", kClerk);
  api().Get("/v1/definitions/construction-permit");
  api().Get("/v1/definitions/nothing", kClerk);
  api().Get("/v1/definitions/construction-permit?version=x", kClerk);
  api().Get("/v1/definitions/construction-permit/graph", kClerk);
  api().Get("/v1/definitions/construction-permit/graph");
  api().Get("/v1/definitions/nothing/graph", kClerk);
  api().Get("/v1/definitions/construction-permit/graph?format=png", kClerk);
  json unknown = NewPermit();
  unknown["definition"] = "nothing";
  api().Post("/v1/cases", kApplicant, NewPermit());  // 201
  api().PostRaw("/v1/cases", kApplicant, "[");       // 400
  api().Post("/v1/cases", "", NewPermit());          // 401
  api().Post("/v1/cases", kAuditor, NewPermit());    // 403
  api().Post("/v1/cases", kApplicant, unknown);      // 404
  api().Post("/v1/cases", kApplicant, {{"x", 1}});   // 422
  api().Get("/v1/cases", kClerk);
  api().Get("/v1/cases");
  api().Get("/v1/cases?limit=0", kClerk);
  api().Get("/v1/cases/" + id, kClerk);
  api().Get("/v1/cases/" + id);
  api().Get("/v1/cases/" + id, kOtherApplicant);
  api().Get("/v1/cases/" + id + "?at=never", kClerk);
  api().PostRaw("/v1/cases/" + id + "/actions", kClerk, "{");                // 400
  api().Act(id, "", "accept");                                               // 401
  api().Act(id, kReviewer, "accept");                                        // 403
  api().Act(id, kOtherApplicant, "accept");                                  // 404
  api().Act(id, kClerk, "fly");                                              // 422
  api().Act(id, kClerk, "accept", json::object(), {{"If-Match", "\"9\""}});  // 412
  api().Act(id, kClerk, "accept");                                           // 200
  api().Act(id, kClerk, "accept");                                           // 409
  // cases_routes.cc: rating (好差评) a withdrawn case.
  std::string withdrawn = Submitted();
  api().Act(withdrawn, kApplicant, "withdraw");
  const std::string rating = "/v1/cases/" + withdrawn + "/rating";
  api().PostRaw(rating, kApplicant, "{");                                 // 400
  api().Post(rating, "", {{"score", 5}});                                 // 401
  api().Post(rating, kClerk, {{"score", 5}});                             // 403
  api().Post(rating, kOtherApplicant, {{"score", 5}});                    // 404
  api().Post("/v1/cases/" + id + "/rating", kApplicant, {{"score", 5}});  // 409
  api().Post(rating, kApplicant, {{"score", 9}});                         // 422
  api().Post(rating, kApplicant, {{"score", 5}});                         // 201
  api().Get("/v1/cases/" + id + "/history", kClerk);
  api().Get("/v1/cases/" + id + "/history");
  api().Get("/v1/cases/nothing/history", kClerk);
  api().Get("/v1/cases/" + id + "/verify", kClerk);
  api().Get("/v1/cases/" + id + "/verify");
  api().Get("/v1/cases/nothing/verify", kClerk);
  api().Get("/v1/track/" + number + "?code=" + code);
  api().Get("/v1/track/" + number + "?code=nope");
  api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"minutes", 1}}}});  // 200
  api().PostRaw("/v1/admin/clock", kAdmin, "{");                           // 400
  api().Post("/v1/admin/clock", "", {{"advance", {{"minutes", 1}}}});      // 401
  api().Post("/v1/admin/clock", kClerk, {{"advance", {{"minutes", 1}}}});  // 403
  api().Post("/v1/admin/clock", kAdmin, {{"later", 1}});                   // 422
  api().PostRaw("/v1/admin/checkpoints", kAdmin, "");                      // 201
  api().PostRaw("/v1/admin/checkpoints", kAdmin, "{");                     // 400
  api().PostRaw("/v1/admin/checkpoints", "", "");                          // 401
  api().PostRaw("/v1/admin/checkpoints", kAuditor, "");                    // 403
  api().Post("/v1/admin/checkpoints", kAdmin, {{"later", 1}});             // 422

  // The registers.
  json delegation = {{"id", "tour-delegation"},
                     {"item", "establishment-registration"},
                     {"from", {{"id", "city-amr"}, {"name", kAmrName}}},
                     {"to", {{"id", "dz-approval-bureau"}, {"name", kBureauName}}},
                     {"powers", {"review"}},
                     {"form", "entrustment"},
                     {"legal_basis", {{{"citation", "《中华人民共和国行政许可法》"}}}},
                     {"effective_from", "2026-01-01"}};
  api().Get("/v1/delegations", kClerk);                      // 200
  api().Get("/v1/delegations");                              // 401
  api().Get("/v1/delegations", kApplicant);                  // 403
  api().Post("/v1/delegations", kAdmin, delegation);         // 201
  api().PostRaw("/v1/delegations", kAdmin, "{");             // 400
  api().Post("/v1/delegations", kAdmin, delegation);         // 409
  api().Post("/v1/delegations", kAdmin, {{"id", 1}});        // 422
  api().Get("/v1/delegations/tour-delegation", kClerk);      // 200
  api().Get("/v1/delegations/tour-delegation");              // 401
  api().Get("/v1/delegations/tour-delegation", kApplicant);  // 403
  api().Get("/v1/delegations/nothing", kClerk);              // 404
  const std::string revoke = "/v1/delegations/tour-delegation/revoke";
  api().PostRaw(revoke, kAdmin, "{");                                       // 400
  api().Post(revoke, "", {{"reason", "x"}});                                // 401
  api().Post(revoke, kClerk, {{"reason", "x"}});                            // 403
  api().Post("/v1/delegations/nothing/revoke", kAdmin, {{"reason", "x"}});  // 404
  api().Post(revoke, kAdmin, json::object());                               // 422
  api().Post(revoke, kAdmin, {{"reason", "x"}});                            // 200
  api().Post(revoke, kAdmin, {{"reason", "x"}});                            // 409
  std::string committed = api().Post("/v1/cases", kApplicant, NewFood("commitment")).doc["id"];
  api().Act(committed, kClerk, "accept");
  api().Act(committed, kVerifier, "verify", {{"result", "breach"}, {"reason", "承诺不实"}});
  std::string record = api().Get("/v1/credit-records", kAuditor).doc["credit_records"][0]["id"];
  api().Get("/v1/credit-records");                        // 401
  api().Get("/v1/credit-records/" + record, kApplicant);  // 200
  api().Get("/v1/credit-records/" + record);              // 401
  api().Get("/v1/credit-records/nothing", kAuditor);      // 404
  const std::string repair = "/v1/credit-records/" + record + "/repair";
  api().PostRaw(repair, kAdmin, "{");                                          // 400
  api().Post(repair, "", {{"reason", "x"}});                                   // 401
  api().Post(repair, kClerk, {{"reason", "x"}});                               // 403
  api().Post("/v1/credit-records/nothing/repair", kAdmin, {{"reason", "x"}});  // 404
  api().Post(repair, kAdmin, {{"why", "x"}});                                  // 422
  api().Post(repair, kAdmin, {{"reason", "x"}});                               // 200
  api().Post(repair, kAdmin, {{"reason", "x"}});                               // 409
  api().Get("/v1/mandates", kApplicant);                                       // 200
  api().Get("/v1/mandates");                                                   // 401
  std::string mandate =
      api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}}).doc["id"];  // 201
  api().PostRaw("/v1/mandates", kApplicant, "{");                                   // 400
  api().Post("/v1/mandates", kClerk, {{"agent", "agent-demo"}});                    // 403
  api().Post("/v1/mandates", kApplicant, {{"agent", "nobody"}});                    // 422
  api().Get("/v1/mandates/" + mandate, kAgent);                                     // 200
  api().Get("/v1/mandates/" + mandate);                                             // 401
  api().Get("/v1/mandates/" + mandate, kOtherApplicant);                            // 404
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", "", "");                     // 401
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kAgent, "");                 // 404
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "{");            // 400
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "{\"a\": 1}");   // 422
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "");             // 200
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "");             // 409
  api().Get("/v1/ledger", kAuditor);                                                // 200
  api().Get("/v1/ledger");                                                          // 401
  api().Get("/v1/ledger", kClerk);                                                  // 403
  // documents_routes.cc
  const std::string pdf = "%PDF-1.7 tour";
  const std::string documents = "/v1/cases/" + id + "/documents";
  api().PostBytes(documents, kApplicant, pdf, "application/pdf");                     // 201
  api().PostBytes(documents, "", pdf, "application/pdf");                             // 401
  api().PostBytes(documents, kAuditor, pdf, "application/pdf");                       // 403
  api().PostBytes("/v1/cases/nope/documents", kApplicant, pdf, "application/pdf");    // 404
  api().PostBytes(documents, kApplicant, "text", "text/plain");                       // 415
  api().PostBytes(documents + "?kind=decision", kApplicant, pdf, "application/pdf");  // 422
  api().Get(documents, kApplicant);                                                   // 200
  api().Get(documents + "/" + Sha256Hex(pdf), kApplicant);                            // 200
  api().Get(documents + "/" + Sha256Hex(pdf));                                        // 401
  api().Get(documents + "/" + Sha256Hex("none"), kApplicant);                         // 404
  api().Get("/v1/cases/" + id + "/archive", kAuditor);                                // 200
  api().Get("/v1/cases/" + id + "/archive");                                          // 401
  api().Get("/v1/cases/" + id + "/archive", kOtherApplicant);                         // 404

  // The audit queries and the indicators: 200, 401, 403, 422 each.
  for (const char* path :
       {"/v1/audit/late-decisions", "/v1/audit/cases", "/v1/audit/actors/clerk-demo/actions",
        "/v1/audit/delegated-actions", "/v1/audit/verifications", "/v1/indicators"}) {
    const std::string route = path;
    api().Get(route + "?month=2026-03", kAuditor);  // 200
    api().Get(route + "?month=2026-03");            // 401
    api().Get(route + "?month=2026-03", kClerk);    // 403
    api().Get(route + "?month=2026-13", kAuditor);  // 422
  }

  std::set<std::string> given;  // "route status"
  std::istringstream metrics(api().Get("/metrics").body);
  std::regex series(
      "tongban_http_requests_total\\{route=\"([^\"]+)\",status=\"([0-9]+)\"\\} [0-9]+");
  std::string line;
  while (std::getline(metrics, line)) {
    std::smatch m;
    if (std::regex_match(line, m, series)) given.insert(m[1].str() + " " + m[2].str());
  }
  json doc = json::parse(OpenApiDocument());
  std::set<std::string> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      for (const auto& [status, response] : operation["responses"].items()) {
        if (status == "500" || status == "503" || status == "413") continue;
        documented.insert(path + " " + status);
      }
    }
  }
  // Only one method per path is on the tour's record (metrics are by path), so compare per path.
  for (const std::string& s : documented)
    EXPECT_EQ(given.count(s), 1u) << s << " never given";
  for (const std::string& s : given)
    EXPECT_EQ(documented.count(s), 1u) << s << " not documented";
}

}  // namespace
}  // namespace tongban::api::api_test
