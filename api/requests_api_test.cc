// API tests of what every route shares: bearer-token authentication (auth.cc) and the strict
// parsing of request bodies (http_util.cc).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"
#include "api/routes.h"

namespace tongban::api::api_test {
namespace {

// ---- Authentication -----------------------------------------------------------------------------

TEST_F(ApiTest, EveryProtectedRouteNeedsAValidBearerToken) {
  std::string id = Submitted();
  struct Call {
    std::string method;
    std::string path;
  };
  const std::vector<Call> calls = {
      {"GET", "/v1/definitions"},
      {"POST", "/v1/definitions"},
      {"GET", "/v1/definitions/construction-permit"},
      {"GET", "/v1/definitions/construction-permit/graph"},
      {"POST", "/v1/cases"},
      {"GET", "/v1/cases"},
      {"GET", "/v1/cases/" + id},
      {"POST", "/v1/cases/" + id + "/actions"},
      {"GET", "/v1/cases/" + id + "/history"},
      {"GET", "/v1/cases/" + id + "/verify"},
      {"POST", "/v1/admin/clock"},
      {"GET", "/v1/delegations"},
      {"POST", "/v1/delegations"},
      {"GET", "/v1/delegations/food-licence-dz-2026"},
      {"POST", "/v1/delegations/food-licence-dz-2026/revoke"},
      {"GET", "/v1/credit-records"},
      {"GET", "/v1/credit-records/credit-x"},
      {"POST", "/v1/credit-records/credit-x/repair"},
      {"GET", "/v1/mandates"},
      {"POST", "/v1/mandates"},
      {"GET", "/v1/mandates/mandate-x"},
      {"POST", "/v1/mandates/mandate-x/revoke"},
      {"GET", "/v1/ledger"},
  };
  for (const Call& call : calls) {
    for (const std::string& token :
         {std::string(), std::string("not-a-token"), std::string("demo-applicant-tokenX")}) {
      SCOPED_TRACE(call.method + " " + call.path + " token '" + token + "'");
      Reply r = call.method == "GET" ? api().Get(call.path, token)
                                     : api().Post(call.path, token, json::object());
      ExpectProblem(r, 401, "unauthenticated");
    }
  }
  // Another scheme, or the bearer scheme without a token.
  for (const std::string& header :
       {std::string("Basic ZGVtbzpkZW1v"), std::string("Bearer "),
        std::string("bearer demo-admin-token"), std::string("demo-admin-token")}) {
    SCOPED_TRACE(header);
    Reply r = api().Get("/v1/definitions", "", {{"Authorization", header}});
    ExpectProblem(r, 401, "unauthenticated");
  }
  // The token is never echoed back.
  Reply r = api().Get("/v1/definitions", "secret-token-value");
  EXPECT_EQ(r.body.find("secret-token-value"), std::string::npos);
}

// ---- Request bodies -----------------------------------------------------------------------------

TEST_F(ApiTest, MalformedJsonIs400WithLineAndColumn) {
  Reply r = api().PostRaw("/v1/cases", kApplicant,
                          "{\n  \"definition\": \"construction-permit\",\n  \"form\": {,}\n}");
  ExpectProblem(r, 400, "malformed-json");
  EXPECT_EQ(r.doc.value("line", 0), 3) << r;
  EXPECT_EQ(r.doc.value("column", 0), 12) << r;
  EXPECT_NE(r.doc.value("detail", "").find("line 3, column 12"), std::string::npos) << r;

  for (const std::string& body :
       {std::string(""), std::string("{"), std::string("{\"definition\": 'x'}"),
        std::string("{\"definition\": \"x\",}"), std::string("{} {}"), std::string("nul"),
        std::string("{\"a\": 01}"), std::string("\xff\xfe")}) {
    SCOPED_TRACE(body);
    Reply bad = api().PostRaw("/v1/cases", kApplicant, body);
    ExpectProblem(bad, 400, "malformed-json");
  }
  // The same on every route that takes a body.
  std::string id = Submitted();
  ExpectProblem(api().PostRaw("/v1/cases/" + id + "/actions", kClerk, "{\"action\":"), 400,
                "malformed-json");
  ExpectProblem(api().PostRaw("/v1/admin/clock", kAdmin, "{\"advance\": {\"days\": 1}"), 400,
                "malformed-json");
}

TEST_F(ApiTest, DuplicateKeysAre400) {
  Reply r = api().PostRaw(
      "/v1/cases", kApplicant,
      "{\"definition\": \"construction-permit\", \"definition\": \"seal-engraving-filing\"}");
  ExpectProblem(r, 400, "malformed-json");
  EXPECT_NE(r.doc.value("detail", "").find("duplicate"), std::string::npos) << r;
  EXPECT_EQ(r.doc.value("line", 0), 1) << r;
  std::string id = Submitted();
  ExpectProblem(api().PostRaw("/v1/cases/" + id + "/actions", kClerk,
                              "{\"action\": \"accept\", \"data\": {\"a\": 1, \"a\": 2}}"),
                400, "malformed-json");
  EXPECT_EQ(History(id).size(), 1u);
}

TEST_F(ApiTest, NestingDeeperThan32LevelsIs400) {
  auto nested = [](int levels) {
    // The body object is level 1; "form" adds levels - 1 more.
    std::string inner = "1";
    for (int i = 1; i < levels; ++i)
      inner = "{\"x\": " + inner + "}";
    return "{\"definition\": \"construction-permit\", \"form\": " + inner + "}";
  };
  // 32 levels parse (and then fail the item's form rules).
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, nested(32)), 422, "invalid");
  Reply deep = api().PostRaw("/v1/cases", kApplicant, nested(33));
  ExpectProblem(deep, 400, "malformed-json");
  EXPECT_NE(deep.doc.value("detail", "").find("nesting"), std::string::npos) << deep;
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, nested(2000)), 400, "malformed-json");
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, std::string(5000, '[')), 400,
                "malformed-json");
}

// Every POST route parses its body strictly (or takes none): malformed JSON, an array, deep
// nesting and unknown members are refused with a problem pointing at what is wrong, and nothing
// changes. (POST /v1/definitions/validate answers them all as 422 diagnostics.) The table must name
// every POST route of the route table.
TEST_F(ApiTest, EveryPostRouteRefusesABadBodyAndChangesNothing) {
  const std::string id = Submitted();
  Reply granted = api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}});
  ASSERT_EQ(granted.status, 201) << granted;
  const std::string mandate = granted.doc.value("id", "");
  json definition =
      json::parse(ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json"));
  definition["version"] = 900;
  struct Row {
    std::string path;   // a concrete path
    std::string token;  // a caller the route would serve
    json valid;         // a body it would accept (to which an unknown member is added)
  };
  const std::map<std::string, Row> rows = {
      {"/v1/definitions", {"/v1/definitions", kAdmin, definition}},
      {"/v1/definitions/validate", {"/v1/definitions/validate", kClerk, definition}},
      {"/v1/cases", {"/v1/cases", kApplicant, NewPermit()}},
      {"/v1/cases/{id}/actions", {"/v1/cases/" + id + "/actions", kClerk, {{"action", "accept"}}}},
      {"/v1/delegations",
       {"/v1/delegations",
        kAdmin,
        {{"id", "registration-review-dz-api"},
         {"item", "establishment-registration"},
         {"from", {{"id", "city-amr"}, {"name", kAmrName}}},
         {"to", {{"id", "dz-approval-bureau"}, {"name", kBureauName}}},
         {"powers", {"review"}},
         {"form", "entrustment"},
         {"legal_basis",
          {{{"citation", "《中华人民共和国行政许可法》"}, {"article", "第二十四条"}}}},
         {"effective_from", "2026-01-01"}}}},
      {"/v1/delegations/{id}/revoke",
       {"/v1/delegations/food-licence-dz-2026/revoke", kAdmin, {{"reason", "调整"}}}},
      // No credit record exists yet: the body is refused before the record is looked up.
      {"/v1/credit-records/{id}/repair",
       {"/v1/credit-records/credit-x/repair", kAdmin, {{"reason", "已整改"}}}},
      {"/v1/mandates", {"/v1/mandates", kApplicant, {{"agent", "agent-demo"}}}},
      {"/v1/mandates/{id}/revoke",
       {"/v1/mandates/" + mandate + "/revoke", kApplicant, json::object()}},
      {"/v1/admin/clock", {"/v1/admin/clock", kAdmin, {{"advance", {{"days", 1}}}}}},
      {"/v1/admin/checkpoints", {"/v1/admin/checkpoints", kAdmin, json::object()}},
  };
  for (const Route& route : RouteTable()) {
    // The document upload's body is the file, not JSON (documents_api_test.cc refuses its bodies).
    if (std::string(route.method) == "POST" && route.path != std::string(kDocumentUploadPath)) {
      EXPECT_EQ(rows.count(route.path), 1u) << "no row for POST " << route.path;
    }
  }
  // What any of these routes could change.
  auto state = [&] {
    return json{{"history", History(id)},
                {"cases", api().Get("/v1/cases", kAuditor).doc},
                {"ledger", api().Get("/v1/ledger", kAdmin).doc},
                {"definitions", api().Get("/v1/definitions", kAdmin).doc},
                {"delegations", api().Get("/v1/delegations", kAdmin).doc},
                {"mandate", api().Get("/v1/mandates/" + mandate, kApplicant).doc},
                {"clock", FormatTimestamp(server_->clock().Now())}};
  };
  const json before = state();
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const std::string deep_object =
      "{\"a\": " + std::string(5000, '[') + std::string(5000, ']') + "}";
  for (const auto& [name, row] : rows) {
    SCOPED_TRACE(name);
    // 400: not JSON, or nested too deep; 422: not an object.
    for (const std::string& body :
         {std::string("{"), std::string("{\"a\": 1,}"), std::string("{\"a\": 1, \"a\": 1}"),
          std::string("\xff"), deep, deep_object, std::string("[1]"), std::string("\"x\""),
          std::string("null"), std::string("42")}) {
      SCOPED_TRACE(body.substr(0, 20));
      Reply r = api().PostRaw(row.path, row.token, body);
      if (name == "/v1/definitions/validate") {
        // Its body is the text a modeller typed: what is wrong with it is a diagnostic.
        ExpectProblem(r, 422, "invalid-definition");
      } else {
        EXPECT_TRUE(r.status == 400 || r.status == 422) << r;
        ExpectProblem(r, r.status, r.status == 400 ? "malformed-json" : "invalid");
      }
      ASSERT_TRUE(r.doc.contains("errors")) << r;
      EXPECT_EQ(r.doc["errors"][0].value("pointer", "?"), "") << r;
    }
    // 422: an unknown member, pointed at.
    json unknown = row.valid;
    unknown["zzz_unknown"] = 1;
    Reply r = api().Post(row.path, row.token, unknown);
    ExpectInvalidAt(r, "/zzz_unknown",
                    name.rfind("/v1/definitions", 0) == 0 ? "invalid-definition" : "invalid");
  }
  EXPECT_EQ(state(), before);
  // The mandate is revoked by an empty body, or {}, and by nothing else.
  Reply revoked = api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "{}");
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.doc["revoked"], true);
}

// An action's `data` holds the fields the action takes and nothing else: an unknown member is 422
// naming it, and nothing is recorded.
TEST_F(ApiTest, AnActionsDataTakesOnlyItsFields) {
  const std::string id = Submitted();
  const json before = History(id);
  struct Row {
    std::string action;
    json data;
    std::string refused_member;
  };
  for (const Row& row : std::vector<Row>{
           {"accept", {{"zzz", 1}}, "data.zzz"},
           {"refuse", {{"reason", "材料不符"}, {"decision", "deny"}}, "data.decision"},
           {"request_correction",
            {{"missing", json::array()}, {"materials", json::array()}},
            "data.materials"},
       }) {
    SCOPED_TRACE(row.action);
    Reply r = api().Post("/v1/cases/" + id + "/actions", kClerk,
                         {{"action", row.action}, {"data", row.data}});
    ExpectProblem(r, 422, "invalid");
    EXPECT_NE(r.doc.value("detail", "").find(row.refused_member), std::string::npos) << r;
  }
  EXPECT_EQ(History(id), before);
  // A comment beside the fields is always taken; the step action `pass` takes no other field.
  Reply accepted = api().Post("/v1/cases/" + id + "/actions", kClerk,
                              {{"action", "accept"}, {"data", {{"comment", "收件"}}}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  Reply pass = api().Post("/v1/cases/" + id + "/actions", kReviewer,
                          {{"action", "pass"}, {"data", {{"result", "ok"}}}});
  ExpectProblem(pass, 422, "invalid");
  EXPECT_NE(pass.doc.value("detail", "").find("data.result"), std::string::npos) << pass;
  EXPECT_EQ(api().Post("/v1/cases/" + id + "/actions", kReviewer, {{"action", "pass"}}).status,
            200);
}

// Free text (comments, reasons, notes) is at most 4,000 characters, counted as characters, not
// bytes; longer is 422 pointing at it, and nothing is recorded.
TEST_F(ApiTest, FreeTextIsAtMost4000Characters) {
  auto text = [](size_t chars) {
    std::string s;
    for (size_t i = 0; i < chars; ++i)
      s += "审";  // three bytes in UTF-8
    return s;
  };
  const std::string id = UnderReview();
  ExpectInvalidAt(api().Post("/v1/cases/" + id + "/actions", kReviewer,
                             {{"action", "pass"}, {"comment", text(4001)}}),
                  "/comment");
  ExpectInvalidAt(api().Post("/v1/cases/" + id + "/actions", kReviewer,
                             {{"action", "pass"}, {"comment", std::string(1 << 19, 'x')}}),
                  "/comment");
  EXPECT_EQ(History(id).size(), 2u);
  Reply passed = api().Post("/v1/cases/" + id + "/actions", kReviewer,
                            {{"action", "pass"}, {"comment", text(4000)}});
  ASSERT_EQ(passed.status, 200) << passed;
  ExpectInvalidAt(api().Act(id, kApprover, "send_back", {{"reason", text(4001)}}), "/data/reason");
  EXPECT_EQ(History(id).size(), 3u);
  EXPECT_EQ(History(id)[2]["data"]["comment"], text(4000));
  // The registers' reasons and notes.
  ExpectInvalidAt(
      api().Post("/v1/delegations/food-licence-dz-2026/revoke", kAdmin, {{"reason", text(4001)}}),
      "/reason");
  ExpectInvalidAt(
      api().Post("/v1/credit-records/credit-x/repair", kAdmin, {{"reason", text(4001)}}),
      "/reason");
  ExpectInvalidAt(
      api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}, {"note", text(4001)}}),
      "/note");
  EXPECT_EQ(api().Get("/v1/ledger", kAdmin).doc["entries"].size(), 0u);
  // A body over 1 MiB is 413 before it is read.
  Reply huge = api().Post("/v1/cases/" + id + "/actions", kApprover,
                          {{"action", "send_back"}, {"comment", std::string(1 << 20, 'x')}});
  ExpectProblem(huge, 413, "too-large");
  EXPECT_EQ(History(id).size(), 3u);
}

TEST(ApiServerTest, OversizedBodyIs413) {
  ServerOptions options;
  options.max_body_bytes = 2048;
  TestServer server(options);
  Api api(server.port());
  json small = NewPermit();
  ASSERT_LT(small.dump().size(), 2048u);
  EXPECT_EQ(api.Post("/v1/cases", kApplicant, small).status, 201);
  json big = NewPermit();
  big["form"]["project_name"] = std::string(4096, 'x');
  Reply r = api.Post("/v1/cases", kApplicant, big);
  EXPECT_EQ(r.status, 413) << r;
  EXPECT_EQ(r.ContentType(), "application/problem+json");
  EXPECT_EQ(r.ProblemType(), "https://tongban.dev/problems/too-large");
  EXPECT_EQ(r.doc.value("status", 0), 413);
  // The server is fine afterwards, and nothing was stored but the small case.
  Api fresh(server.port());
  Reply list = fresh.Get("/v1/cases", kAuditor);
  EXPECT_EQ(list.doc["cases"].size(), 1u) << list;
  Reply action = fresh.Post("/v1/cases/whatever/actions", kClerk,
                            {{"action", "accept"}, {"comment", std::string(3000, 'y')}});
  EXPECT_EQ(action.status, 413) << action;
  Reply deploy =
      fresh.Post("/v1/definitions", kAdmin,
                 json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json")));
  EXPECT_EQ(deploy.status, 413) << deploy;
}

}  // namespace
}  // namespace tongban::api::api_test
