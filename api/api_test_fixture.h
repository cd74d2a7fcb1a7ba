// The fixture of the HTTP API tests (api_test): the demo principals with the tests' additions,
// their tokens, request bodies for the shipped items and bundles, and ApiTest — a fresh in-process
// server (api/test_harness.h) over the shipped definitions at kStart for every test.
//
// The tests are in a file per route group (cases_api_test.cc, registers_api_test.cc, …), all in
// this namespace, all in the one api_test executable.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "api/test_harness.h"
#include "workflows/principals.h"

namespace tongban::api::api_test {

using harness::Api;
using harness::At;
using harness::ReadFile;
using harness::RemoveDatabase;
using harness::Reply;
using harness::TempPath;
using harness::ToReply;
using nlohmann::json;

inline const std::string kSourceDir = TONGBAN_SOURCE_DIR;
inline const std::string kBinary = TONGBAN_BINARY;
inline constexpr const char* kStart = "2026-03-02T09:00:00+08:00";

// The problem types the OpenAPI document lists (the slugs of components.schemas.Problem's `type`):
// every problem a test expects must be one a client can look up.
inline const std::set<std::string>& DocumentedProblemSlugs() {
  static const std::set<std::string> slugs = [] {
    std::set<std::string> out;
    json doc = json::parse(OpenApiDocument());
    std::string text =
        doc["components"]["schemas"]["Problem"]["properties"]["type"].value("description", "");
    const std::string lead = "one of: ";
    size_t at = text.find(lead);
    if (at == std::string::npos) return out;
    text = text.substr(at + lead.size());
    if (!text.empty() && text.back() == '.') text.pop_back();
    for (size_t start = 0; start <= text.size();) {
      size_t comma = text.find(", ", start);
      out.insert(
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return out;
  }();
  return slugs;
}

// Demo tokens (the "note" of each principal in definitions/principals/demo.json).
inline constexpr const char* kApplicant = "demo-applicant-token";
inline constexpr const char* kOtherApplicant = "demo-other-applicant-token";
inline constexpr const char* kClerk = "demo-clerk-token";
inline constexpr const char* kReviewer = "demo-reviewer-token";
inline constexpr const char* kApprover = "demo-approver-token";
inline constexpr const char* kAuditor = "demo-auditor-token";
inline constexpr const char* kAdmin = "demo-admin-token";
inline constexpr const char* kVerifier = "demo-verifier-token";
inline constexpr const char* kAgent = "demo-agent-token";               // agent-demo, no organ
inline constexpr const char* kRemoteClerk = "demo-remote-clerk-token";  // nz-service-centre
inline constexpr const char* kAmr = "demo-amr-token";  // city-amr: clerk, reviewer and approver
// Added by the tests to a copy of the demo principals.
inline constexpr const char* kSecondClerk = "test-second-clerk-token";
inline constexpr const char* kForeignClerk = "test-foreign-clerk-token";
inline constexpr const char* kAmrApprover =
    "test-amr-approver-token";  // a second person at city-amr

// Organ names as the shipped definitions spell them.
inline constexpr const char* kBureauName = "××开发区行政审批局";
inline constexpr const char* kBureauSeal = "××开发区行政审批局行政审批专用章";
inline constexpr const char* kAmrName = "××市市场监督管理局";

inline constexpr const char* kPermitMaterials[] = {"application_form",
                                                   "land_approval",
                                                   "planning_permit",
                                                   "site_readiness",
                                                   "contractor_contract",
                                                   "funding_commitment",
                                                   "drawing_review_certificate",
                                                   "quality_safety_measures"};

// The demo principals, and the same with a second clerk of the demo organ and a clerk of another
// organ, both compiled through DefinitionSet as the server does.
std::shared_ptr<const PrincipalSet> LoadPrincipals(bool with_test_principals);

// ---- Request bodies ----------------------------------------------------------------------------

json PermitForm();
json PermitMaterials(const std::set<std::string>& without = {});
json NewPermit(const std::set<std::string>& without = {});
// 食品经营许可 (food-business-licence v2): city-amr's item, which the zone bureau accepts, reviews
// and decides under the concentrated delegation food-licence-dz-2026.
json FoodForm();
// The signed commitment of the food licence's template (告知承诺书).
json FoodCommitment();
// Standard mode with every required material; commitment mode with those a commitment does not
// replace.
json NewFood(const std::string& mode = "standard");
// 企业设立登记 (establishment-registration): city-amr's item; the bureau holds only `accept`.
json NewRegistration();
// 开办企业一件事 (business-startup): registration first, then seal, invoices and social insurance
// (employees) in parallel; no housing fund. No credit_code: the enterprise gets it at registration,
// and the later parts need it.
json NewStartup(const std::set<std::string>& without = {});

bool Contains(const std::string& text, const std::string& part);

// ---- The in-process server ---------------------------------------------------------------------

// The shipped definitions and the demo principals with the tests' additions, at kStart.
class TestServer : public harness::TestServer {
 public:
  explicit TestServer(ServerOptions options = {}, CaseServiceOptions service_options = {})
      : harness::TestServer(LoadPrincipals(true), kSourceDir + "/definitions", kStart, options,
                            std::move(service_options)) {}
};

class ApiTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>();
    api_ = std::make_unique<Api>(server_->port());
  }
  void TearDown() override {
    api_.reset();
    server_.reset();
  }

  Api& api() { return *api_; }

  // A new construction-permit case by the demo applicant; returns the response.
  Reply Create(const std::string& token = kApplicant, const json& body = NewPermit()) {
    Reply r = api().Post("/v1/cases", token, body);
    EXPECT_EQ(r.status, 201) << r;
    return r;
  }
  // Case ids in a given state, by going through the process.
  std::string Submitted() { return Create().doc.value("id", ""); }
  std::string UnderReview() {
    std::string id = Submitted();
    Reply r = api().Act(id, kClerk, "accept");
    EXPECT_EQ(r.status, 200) << r;
    return id;
  }
  std::string AtDecision() {
    std::string id = UnderReview();
    Reply r = api().Act(id, kReviewer, "pass");
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.doc.value("step", ""), "decide");
    return id;
  }
  // The action ids a case (or bundle) offers the caller.
  static std::set<std::string> ActionIds(const Reply& r) {
    std::set<std::string> out;
    for (const json& a : r.doc.value("available_actions", json::array()))
      out.insert(a.value("action", ""));
    return out;
  }
  static std::string Detail(const Reply& r) { return r.doc.value("detail", ""); }
  // A new case (item or bundle) created by `token` with `body`; its id.
  std::string CreateId(const std::string& token, const json& body) {
    return Create(token, body).doc.value("id", "");
  }
  json History(const std::string& id) {
    Reply r = api().Get("/v1/cases/" + id + "/history", kAuditor);
    EXPECT_EQ(r.status, 200) << r;
    return r.doc.value("events", json::array());
  }

  void ExpectProblem(const Reply& r, int status, const std::string& slug) {
    EXPECT_EQ(r.status, status) << r;
    EXPECT_EQ(r.ContentType(), "application/problem+json") << r;
    ASSERT_TRUE(r.doc.is_object()) << r;
    EXPECT_EQ(r.ProblemType(), "https://tongban.dev/problems/" + slug) << r;
    EXPECT_TRUE(DocumentedProblemSlugs().count(slug)) << slug << " is not in api/openapi.json";
    EXPECT_EQ(r.doc.value("status", 0), status) << r;
    EXPECT_FALSE(r.doc.value("title", "").empty()) << r;
    EXPECT_TRUE(r.doc.contains("detail")) << r;
    // Every 401 carries the challenge (RFC 9110 §15.5.2), or a client cannot tell how to log in.
    if (status == 401) {
      EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"tongban\"") << r;
    }
  }
  // A 422 whose errors[] names `pointer`.
  void ExpectInvalidAt(const Reply& r, const std::string& pointer,
                       const std::string& slug = "invalid") {
    ExpectProblem(r, 422, slug);
    ASSERT_TRUE(r.doc.contains("errors") && r.doc["errors"].is_array()) << r;
    bool found = false;
    for (const json& e : r.doc["errors"]) {
      EXPECT_TRUE(e.contains("pointer") && e.contains("message")) << e.dump();
      found = found || e.value("pointer", "") == pointer;
    }
    EXPECT_TRUE(found) << "no error at " << pointer << " in " << r;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Api> api_;
};

}  // namespace tongban::api::api_test
