// API tests of what every route shares: bearer-token authentication (auth.cc) and the strict
// parsing of request bodies (http_util.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

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
