// End-to-end tests of the HTTP API against the real server.
//
// Most tests start an ApiServer in-process on an ephemeral loopback port, over a temporary SQLite
// file, the shipped definitions and the demo principals, on a simulated clock at
// 2026-03-02T09:00:00+08:00 (a Monday), and talk to it with httplib::Client. The shutdown test runs
// the real `tongban serve` binary in a child process and stops it with SIGTERM under load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "api/test_harness.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"
#include "workflows/definition_set.h"
#include "workflows/sha256.h"

namespace tongban::api {
namespace {

namespace fs = std::filesystem;
using harness::Api;
using harness::At;
using harness::ReadFile;
using harness::RemoveDatabase;
using harness::Reply;
using harness::TempPath;
using harness::ToReply;
using nlohmann::json;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
const std::string kBinary = TONGBAN_BINARY;
constexpr const char* kStart = "2026-03-02T09:00:00+08:00";

// Demo tokens (the "note" of each principal in definitions/principals/demo.json).
constexpr const char* kApplicant = "demo-applicant-token";
constexpr const char* kOtherApplicant = "demo-other-applicant-token";
constexpr const char* kClerk = "demo-clerk-token";
constexpr const char* kReviewer = "demo-reviewer-token";
constexpr const char* kApprover = "demo-approver-token";
constexpr const char* kAuditor = "demo-auditor-token";
constexpr const char* kAdmin = "demo-admin-token";
constexpr const char* kVerifier = "demo-verifier-token";
constexpr const char* kAgent = "demo-agent-token";               // agent-demo, no organ
constexpr const char* kRemoteClerk = "demo-remote-clerk-token";  // nz-service-centre
constexpr const char* kAmr = "demo-amr-token";  // city-amr: clerk, reviewer and approver
// Added by the tests to a copy of the demo principals.
constexpr const char* kSecondClerk = "test-second-clerk-token";
constexpr const char* kForeignClerk = "test-foreign-clerk-token";
constexpr const char* kAmrApprover = "test-amr-approver-token";  // a second person at city-amr

// Organ names as the shipped definitions spell them.
constexpr const char* kBureauName = "××开发区行政审批局";
constexpr const char* kBureauSeal = "××开发区行政审批局行政审批专用章";
constexpr const char* kAmrName = "××市市场监督管理局";

const char* const kPermitMaterials[] = {"application_form",
                                        "land_approval",
                                        "planning_permit",
                                        "site_readiness",
                                        "contractor_contract",
                                        "funding_commitment",
                                        "drawing_review_certificate",
                                        "quality_safety_measures"};

// The demo principals, and the same with a second clerk of the demo organ and a clerk of another
// organ, both compiled through DefinitionSet as the server does.
std::shared_ptr<const PrincipalSet> LoadPrincipals(bool with_test_principals) {
  DefinitionSet set;
  std::string path = kSourceDir + "/definitions/principals/demo.json";
  if (!with_test_principals) {
    set.AddPath(path, true);
  } else {
    json doc = json::parse(ReadFile(path));
    doc["id"] = "api-test";
    doc["principals"].push_back({{"id", "clerk-second"},
                                 {"name", "second window clerk"},
                                 {"roles", {"clerk"}},
                                 {"organ", "dz-approval-bureau"},
                                 {"token_sha256", Sha256Hex(kSecondClerk)}});
    doc["principals"].push_back({{"id", "clerk-foreign"},
                                 {"name", "clerk of another organ"},
                                 {"roles", {"clerk"}},
                                 {"organ", "other-organ"},
                                 {"token_sha256", Sha256Hex(kForeignClerk)}});
    doc["principals"].push_back({{"id", "amr-approver-test"},
                                 {"name", "second approver of the city AMR"},
                                 {"roles", {"approver"}},
                                 {"organ", "city-amr"},
                                 {"token_sha256", Sha256Hex(kAmrApprover)}});
    set.AddText("api-test-principals.json", doc.dump(2), true);
  }
  set.Compile();
  EXPECT_FALSE(set.HasErrors());
  for (const Diagnostic& d : set.Diagnostics())
    ADD_FAILURE() << FormatDiagnostic(d);
  auto principals = set.FindPrincipals();
  EXPECT_NE(principals, nullptr);
  return principals;
}

// True when nothing listens on the loopback port (the connection is refused).
bool ConnectionRefused(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int error = errno;
  close(fd);
  return rc != 0 && error == ECONNREFUSED;
}

// ---- HTTP client helpers ---------------------------------------------------------------------

json PermitForm() {
  return {{"project_name", "示例园区一期厂房"}, {"project_code", "2026-330100-47-01-000001"},
          {"builder_name", "示例科技有限公司"}, {"builder_credit_code", "91330100MA2TB00014"},
          {"project_category", "房屋建筑工程"}, {"contract_price_wan", 1200},
          {"building_area_m2", 8600},           {"planned_start_date", "2026-04-01"}};
}

json PermitMaterials(const std::set<std::string>& without = {}) {
  json materials = json::array();
  for (const char* m : kPermitMaterials) {
    if (without.count(m) == 0) materials.push_back(m);
  }
  return materials;
}

json NewPermit(const std::set<std::string>& without = {}) {
  return {{"definition", "construction-permit"},
          {"form", PermitForm()},
          {"materials", PermitMaterials(without)}};
}

// 食品经营许可 (food-business-licence v2): city-amr's item, which the zone bureau accepts, reviews
// and decides under the concentrated delegation food-licence-dz-2026.
json FoodForm() {
  return {{"applicant_name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00014"},
          {"legal_representative", "张三"},       {"premises_address", "开发区创新路1号"},
          {"business_type", "食品销售经营者"},    {"sells_special_food", false}};
}

// The signed commitment of the food licence's template (告知承诺书).
json FoodCommitment() {
  return {{"template_id", "food-business-licence-commitment"},
          {"template_version", 1},
          {"signed_by", "张三"}};
}

// Standard mode with every required material; commitment mode with those a commitment does not
// replace.
json NewFood(const std::string& mode = "standard") {
  json body = {{"definition", "food-business-licence"}, {"form", FoodForm()}};
  if (mode == "commitment") {
    body["mode"] = "commitment";
    body["commitment"] = FoodCommitment();
    body["materials"] = {"application_form", "business_licence", "identity_document"};
  } else {
    body["materials"] = {"application_form", "business_licence", "identity_document",
                         "premises_layout",  "equipment_list",   "safety_rules"};
  }
  return body;
}

// 企业设立登记 (establishment-registration): city-amr's item; the bureau holds only `accept`.
json NewRegistration() {
  return {{"definition", "establishment-registration"},
          {"form",
           {{"enterprise_name", "示例新材料有限公司"},
            {"enterprise_type", "有限责任公司"},
            {"residence", "开发区创新路8号"},
            {"legal_representative", "李四"},
            {"business_scope", "新材料技术研发"},
            {"requires_pre_approval", false}}},
          {"materials",
           {"application_form", "articles", "investor_documents", "officer_documents",
            "residence_document"}}};
}

// 开办企业一件事 (business-startup): registration first, then seal, invoices and social insurance
// (employees) in parallel; no housing fund. No credit_code: the enterprise gets it at registration,
// and the later parts need it.
json NewStartup(const std::set<std::string>& without = {}) {
  json materials = json::array();
  for (const char* m : {"application_form", "articles", "investor_documents", "officer_documents",
                        "residence_document", "agent_identity"}) {
    if (without.count(m) == 0) materials.push_back(m);
  }
  return {{"definition", "business-startup"},
          {"form",
           {{"enterprise_name", "示例新材料有限公司"},
            {"enterprise_type", "有限责任公司"},
            {"residence", "开发区创新路8号"},
            {"legal_representative", "李四"},
            {"registered_capital_wan", 100},
            {"business_scope", "新材料技术研发"},
            {"requires_pre_approval", false},
            {"seal_type", "法定名称章"},
            {"seal_count", 1},
            {"engraver_name", "开发区刻章社"},
            {"taxpayer_type", "小规模纳税人"},
            {"paper_invoices", false},
            {"has_employees", true},
            {"employee_count", 5},
            {"opens_housing_fund", false}}},
          {"materials", materials}};
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- The in-process server ---------------------------------------------------------------------

// The shipped definitions and the demo principals with the tests' additions, at kStart.
class TestServer : public harness::TestServer {
 public:
  explicit TestServer(ServerOptions options = {})
      : harness::TestServer(LoadPrincipals(true), kSourceDir + "/definitions", kStart, options) {}
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
    EXPECT_EQ(r.doc.value("status", 0), status) << r;
    EXPECT_FALSE(r.doc.value("title", "").empty()) << r;
    EXPECT_TRUE(r.doc.contains("detail")) << r;
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

// ---- Operations
// ------------------------------------------------------------------------------------

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
  // 15 routes for definitions, cases, tracking and operations; 12 for the registers.
  EXPECT_EQ(registered.size(), 27u);
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

// The admin clock exists only with a simulated clock.
TEST(ApiServerTest, AdminClockOnlyWithSimulatedClock) {
  std::string db_path = TempPath(".db");
  SqliteStoreOptions store_options;
  store_options.path = db_path;
  auto store = SqliteStore::Open(store_options);
  ASSERT_TRUE(store.ok());
  DefinitionRegistry registry(store->get());
  SystemClock clock;
  ASSERT_TRUE(registry.DeployDirectory(kSourceDir + "/definitions", clock.Now()).ok());
  CaseService service(store->get(), &registry, &clock);
  ServerOptions options;
  options.port = 0;
  options.threads = 4;
  {
    ApiServer server(&service, LoadPrincipals(false), nullptr, options);
    auto port = server.Bind();
    ASSERT_TRUE(port.ok());
    std::thread serving([&] { server.Serve(); });
    for (const std::string& route : server.routes())
      EXPECT_NE(route, "POST /v1/admin/clock");
    EXPECT_EQ(server.routes().size(), 26u);
    Api api(*port);
    Reply r = api.Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 1}}}});
    EXPECT_EQ(r.status, 404) << r;
    EXPECT_EQ(api.Get("/healthz").status, 200);
    server.Stop();
    serving.join();
  }
  store->reset();
  RemoveDatabase(db_path);
}

// Stop() right after Bind(), before the serving thread has even started, still ends Serve().
TEST(ApiServerTest, StopBeforeServeDoesNotHang) {
  std::string db_path = TempPath(".db");
  SqliteStoreOptions store_options;
  store_options.path = db_path;
  auto store = SqliteStore::Open(store_options);
  ASSERT_TRUE(store.ok());
  DefinitionRegistry registry(store->get());
  SimulatedClock clock(At(kStart));
  CaseService service(store->get(), &registry, &clock);
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  auto principals = LoadPrincipals(false);
  for (int i = 0; i < 20; ++i) {
    ApiServer server(&service, principals, &clock, options);
    ASSERT_TRUE(server.Bind().ok());
    server.Stop();
    std::thread serving([&] { server.Serve(); });
    serving.join();
  }
  // Stop() racing with the start of Serve(): before the fix a stop that came before httplib marked
  // itself running was lost, and Serve() never returned.
  for (int i = 0; i < 200; ++i) {
    ApiServer server(&service, principals, &clock, options);
    auto port = server.Bind();
    ASSERT_TRUE(port.ok());
    std::thread serving([&] { server.Serve(); });
    if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::microseconds(50 * (i % 7)));
    server.Stop();
    serving.join();
    EXPECT_TRUE(ConnectionRefused(*port));
  }
  store->reset();
  RemoveDatabase(db_path);
}

// ---- Authentication
// ----------------------------------------------------------------------------------

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

// ---- Definitions
// ---------------------------------------------------------------------------------

TEST_F(ApiTest, DefinitionsListGetAndGraph) {
  Reply list = api().Get("/v1/definitions", kApplicant);
  ASSERT_EQ(list.status, 200) << list;
  std::set<std::string> items;
  std::set<std::string> bundles;
  for (const json& d : list.doc["definitions"]) {
    (d.value("kind", "") == "bundle" ? bundles : items).insert(d.value("id", ""));
    if (d["id"] == "construction-permit") {
      EXPECT_EQ(d["kind"], "item");
      EXPECT_EQ(d["latest_version"], 1);
      EXPECT_EQ(d["versions"], json::array({1}));
      EXPECT_EQ(d["organ"]["id"], "dz-approval-bureau");
      EXPECT_EQ(d["case_type"], "promised");
      EXPECT_EQ(d["modes"], json::array({"standard", "commitment"}));
    }
    if (d["id"] == "food-business-licence") {
      // Version 2 is the city bureau's item; the zone bureau holds it by delegation.
      EXPECT_EQ(d["latest_version"], 2);
      EXPECT_EQ(d["organ"]["id"], "city-amr");
    }
    if (d["id"] == "business-startup") {
      EXPECT_EQ(d["latest_version"], 1);
      EXPECT_EQ(d["versions"], json::array({1}));
      EXPECT_EQ(d["organ"]["id"], "dz-approval-bureau");
      EXPECT_EQ(d["promised_days"], 2);
      EXPECT_FALSE(d.contains("case_type")) << d;
      ASSERT_EQ(d["parts"].size(), 5u) << d;
      EXPECT_EQ(d["parts"][0]["id"], "registration");
      EXPECT_EQ(d["parts"][0]["item"], "establishment-registration");
      EXPECT_EQ(d["parts"][0]["after"], json::array());
      EXPECT_EQ(d["parts"][3]["after"], json::array({"registration"}));
      EXPECT_EQ(d["parts"][3]["conditional"], true);
    }
  }
  // The shipped items and bundles (definitions/README.md lists them).
  EXPECT_EQ(
      items,
      (std::set<std::string>{
          "construction-permit", "deregistration-registration", "drawing-review-commitment",
          "establishment-registration", "food-business-licence", "housing-fund-registration",
          "invoice-tax-device", "joint-drawing-review", "low-risk-joint-acceptance",
          "low-risk-project-permit", "seal-engraving-filing", "social-insurance-deregistration",
          "social-insurance-registration", "tax-clearance"}));
  EXPECT_EQ(items.size(), 14u);
  EXPECT_EQ(bundles, (std::set<std::string>{"business-startup", "enterprise-deregistration",
                                            "low-risk-project"}));

  Reply item = api().Get("/v1/definitions/construction-permit", kClerk);
  ASSERT_EQ(item.status, 200) << item;
  EXPECT_EQ(item.doc,
            json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json")));
  EXPECT_TRUE(std::regex_match(item.Header("ETag"), std::regex("\"[0-9a-f]{64}\"")))
      << item.Header("ETag");
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit?version=1", kClerk).doc, item.doc);
  ExpectProblem(api().Get("/v1/definitions/construction-permit?version=2", kClerk), 404,
                "not-found");
  ExpectProblem(api().Get("/v1/definitions/no-such-item", kClerk), 404, "not-found");
  for (const char* bad : {"0", "-1", "x", "1.5", "", "9999999999"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(
        api().Get(std::string("/v1/definitions/construction-permit?version=") + bad, kClerk), 422,
        "invalid");
  }

  Reply mermaid = api().Get("/v1/definitions/construction-permit/graph", kApplicant);
  ASSERT_EQ(mermaid.status, 200) << mermaid;
  EXPECT_EQ(mermaid.ContentType().rfind("text/vnd.mermaid", 0), 0u) << mermaid.ContentType();
  EXPECT_NE(mermaid.body.find("review"), std::string::npos);
  Reply dot =
      api().Get("/v1/definitions/construction-permit/graph?format=dot&version=1", kApplicant);
  ASSERT_EQ(dot.status, 200) << dot;
  EXPECT_EQ(dot.ContentType().rfind("text/vnd.graphviz", 0), 0u) << dot.ContentType();
  EXPECT_NE(dot.body.find("digraph"), std::string::npos);
  ExpectProblem(api().Get("/v1/definitions/construction-permit/graph?format=png", kApplicant), 422,
                "invalid");
  ExpectProblem(api().Get("/v1/definitions/no-such-item/graph", kApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/definitions/construction-permit/graph?version=7", kApplicant), 404,
                "not-found");

  // A bundle is served as deployed, and drawn as the flowchart of its parts.
  Reply bundle = api().Get("/v1/definitions/business-startup", kClerk);
  ASSERT_EQ(bundle.status, 200) << bundle;
  EXPECT_EQ(bundle.doc,
            json::parse(ReadFile(kSourceDir + "/definitions/bundles/business-startup.json")));
  EXPECT_TRUE(std::regex_match(bundle.Header("ETag"), std::regex("\"[0-9a-f]{64}\"")));
  EXPECT_EQ(api().Get("/v1/definitions/business-startup?version=1", kClerk).doc, bundle.doc);
  ExpectProblem(api().Get("/v1/definitions/business-startup?version=2", kClerk), 404, "not-found");
  Reply flowchart = api().Get("/v1/definitions/business-startup/graph", kApplicant);
  ASSERT_EQ(flowchart.status, 200) << flowchart;
  EXPECT_EQ(flowchart.ContentType().rfind("text/vnd.mermaid", 0), 0u);
  EXPECT_EQ(flowchart.body.rfind("flowchart", 0), 0u) << flowchart.body;
  EXPECT_NE(flowchart.body.find("establishment-registration"), std::string::npos);
  EXPECT_NE(flowchart.body.find("when has_employees == true"), std::string::npos);
  Reply bundle_dot = api().Get("/v1/definitions/business-startup/graph?format=dot", kApplicant);
  ASSERT_EQ(bundle_dot.status, 200) << bundle_dot;
  EXPECT_NE(bundle_dot.body.find("digraph \"business-startup\""), std::string::npos);
}

TEST_F(ApiTest, DeployDefinitions) {
  json permit = json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json"));
  json v2 = permit;
  v2["version"] = 2;
  v2["time_limits"]["promised_days"] = 2;

  // Only admins deploy.
  for (const char* token : {kApplicant, kClerk, kReviewer, kApprover, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/definitions", token, v2), 403, "forbidden");
  }

  Reply created = api().Post("/v1/definitions", kAdmin, v2);
  ASSERT_EQ(created.status, 201) << created;
  EXPECT_EQ(created.doc["deployed"], json::array({"item/construction-permit@2"}));
  EXPECT_EQ(created.doc["unchanged"], json::array());
  EXPECT_TRUE(created.doc["warnings"].is_array());

  // The same content again changes nothing.
  Reply again = api().Post("/v1/definitions", kAdmin, v2);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.doc["deployed"], json::array());
  EXPECT_EQ(again.doc["unchanged"], json::array({"item/construction-permit@2"}));
  // ... and neither does version 1 as shipped.
  EXPECT_EQ(api().Post("/v1/definitions", kAdmin, permit).status, 200);

  // A deployed version is immutable.
  json changed = v2;
  changed["title"] = "建筑工程施工许可（改）";
  ExpectProblem(api().Post("/v1/definitions", kAdmin, changed), 409, "conflict");

  // Invalid definitions: 422 with the validator's errors, each with a pointer.
  json invalid = v2;
  invalid["version"] = 3;
  invalid["time_limits"]["statutory_days"] = "seven";
  Reply r = api().Post("/v1/definitions", kAdmin, invalid);
  ExpectProblem(r, 422, "invalid-definition");
  ASSERT_TRUE(r.doc["errors"].is_array() && !r.doc["errors"].empty()) << r;
  bool at_days = false;
  for (const json& e : r.doc["errors"]) {
    EXPECT_TRUE(e.contains("pointer") && e.contains("message") && e.contains("code")) << e;
    at_days = at_days || e["pointer"] == "/time_limits/statutory_days";
  }
  EXPECT_TRUE(at_days) << r;
  json dangling = v2;
  dangling["version"] = 3;
  dangling["steps"][0]["actions"]["pass"]["to"] = "nowhere";
  ExpectProblem(api().Post("/v1/definitions", kAdmin, dangling), 422, "invalid-definition");

  // Principals are never deployed over the API.
  json principals = json::parse(ReadFile(kSourceDir + "/definitions/principals/demo.json"));
  ExpectInvalidAt(api().Post("/v1/definitions", kAdmin, principals), "/kind", "invalid-definition");
  // Malformed JSON.
  ExpectProblem(api().PostRaw("/v1/definitions", kAdmin, "{\"kind\": \"item\""), 400,
                "malformed-json");

  // Version 2 is now the latest; version 1 is still there.
  Reply list = api().Get("/v1/definitions", kApplicant);
  for (const json& d : list.doc["definitions"]) {
    if (d["id"] != "construction-permit") continue;
    EXPECT_EQ(d["latest_version"], 2);
    EXPECT_EQ(d["versions"], json::array({1, 2}));
  }
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit", kApplicant).doc["version"], 2);
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit?version=1", kApplicant).doc["version"],
            1);
  // New cases start on version 2 unless they ask for version 1.
  EXPECT_EQ(Create().doc["definition"]["version"], 2);
  json on_v1 = NewPermit();
  on_v1["version"] = 1;
  EXPECT_EQ(Create(kApplicant, on_v1).doc["definition"]["version"], 1);
}

// ---- Creating cases and request validation -----------------------------------------------------

TEST_F(ApiTest, CreateCaseByApplicant) {
  Reply r = Create();
  const std::string id = r.doc.value("id", "");
  ASSERT_FALSE(id.empty()) << r;
  EXPECT_EQ(r.Header("Location"), "/v1/cases/" + id);
  EXPECT_EQ(r.Header("ETag"), "\"1\"");
  EXPECT_EQ(r.ContentType(), "application/json");
  EXPECT_EQ(r.doc["status"], "submitted");
  EXPECT_EQ(r.doc["version"], 1);
  EXPECT_EQ(r.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(r.doc["applicant"]["credit_code"], "91330100MA2TB00014");
  EXPECT_EQ(r.doc["organ"], "dz-approval-bureau");
  EXPECT_EQ(r.doc["definition"]["title"], "建筑工程施工许可");
  EXPECT_FALSE(r.doc.contains("last_hash"));
  EXPECT_TRUE(std::regex_match(r.doc.value("number", ""), std::regex("TB20260302-[0-9]{8}")))
      << r.doc["number"];
  std::set<std::string> actions;
  for (const json& a : r.doc["available_actions"])
    actions.insert(a.value("action", ""));
  EXPECT_EQ(actions, (std::set<std::string>{"withdraw", "supply_materials"}));

  Reply got = api().Get(r.Header("Location"), kApplicant);
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.Header("ETag"), "\"1\"");
  EXPECT_EQ(got.doc["id"], id);
  // The clerk is offered what a clerk may do.
  actions.clear();
  Reply clerk_view = api().Get("/v1/cases/" + id, kClerk);
  for (const json& a : clerk_view.doc["available_actions"])
    actions.insert(a.value("action", ""));
  EXPECT_EQ(actions,
            (std::set<std::string>{"accept", "request_correction", "refuse", "supply_materials"}));
}

TEST_F(ApiTest, CreateCaseAtTheWindow) {
  json body = NewPermit();
  body["applicant"] = {
      {"id", "ent-walkin"}, {"name", "到窗口的企业"}, {"credit_code", "91330100MA2TB00014"}};
  Reply r = Create(kClerk, body);
  EXPECT_EQ(r.doc["applicant"]["id"], "ent-walkin");
  json events = History(r.doc.value("id", ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"]["id"], "clerk-demo");
  EXPECT_EQ(events[0]["actor"]["role"], "clerk");

  // A clerk names the applicant; an applicant does not.
  ExpectProblem(api().Post("/v1/cases", kClerk, NewPermit()), 422, "invalid");
  ExpectProblem(api().Post("/v1/cases", kApplicant, body), 422, "invalid");
  json bad_code = body;
  bad_code["applicant"]["credit_code"] = "123";
  ExpectProblem(api().Post("/v1/cases", kClerk, bad_code), 422, "invalid");
  json extra = body;
  extra["applicant"]["phone"] = "110";
  ExpectInvalidAt(api().Post("/v1/cases", kClerk, extra), "/applicant/phone");
  // Only applicants and clerks submit; a clerk only for items its organ implements.
  for (const char* token : {kReviewer, kApprover, kAuditor, kAdmin}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/cases", token, body), 403, "forbidden");
  }
  ExpectProblem(api().Post("/v1/cases", kForeignClerk, body), 403, "forbidden");
}

TEST_F(ApiTest, CreateCaseValidation) {
  // Unknown members are refused with a pointer.
  json unknown = NewPermit();
  unknown["colour"] = "red";
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, unknown), "/colour");
  // Wrong types.
  struct Case {
    const char* member;
    json value;
  };
  for (const Case& c : std::vector<Case>{{"definition", 5},
                                         {"version", "1"},
                                         {"version", 0},
                                         {"version", -1},
                                         {"version", 1.5},
                                         {"form", json::array()},
                                         {"materials", "application_form"},
                                         {"mode", true},
                                         {"commitment", 1}}) {
    SCOPED_TRACE(std::string(c.member) + " = " + c.value.dump());
    json body = NewPermit();
    body[c.member] = c.value;
    ExpectInvalidAt(api().Post("/v1/cases", kApplicant, body), std::string("/") + c.member);
  }
  // Missing members.
  json missing = NewPermit();
  missing.erase("definition");
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, missing), "/definition");
  // Not an object.
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, "[1, 2]"), 422, "invalid");
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, "\"construction-permit\""), 422, "invalid");
  // Rules of the item: the form, the mode.
  json form = NewPermit();
  form["form"].erase("project_name");
  ExpectProblem(api().Post("/v1/cases", kApplicant, form), 422, "invalid");
  json mode = NewPermit();
  mode["mode"] = "express";
  ExpectProblem(api().Post("/v1/cases", kApplicant, mode), 422, "invalid");
  // Unknown items and versions.
  json nothing = NewPermit();
  nothing["definition"] = "no-such-item";
  ExpectProblem(api().Post("/v1/cases", kApplicant, nothing), 404, "not-found");
  json v9 = NewPermit();
  v9["version"] = 9;
  ExpectProblem(api().Post("/v1/cases", kApplicant, v9), 404, "not-found");
  // Nothing of that was stored.
  Reply list = api().Get("/v1/cases", kAuditor);
  EXPECT_EQ(list.doc["cases"].size(), 0u) << list;
}

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

// ---- Reading cases
// ---------------------------------------------------------------------------------

TEST_F(ApiTest, GetCaseAsItStoodThen) {
  std::string id = Submitted();  // 09:00
  Reply moved = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 1}}}});
  ASSERT_EQ(moved.status, 200) << moved;
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);  // 10:00
  api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 1}}}});
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);  // 11:00

  Reply now = api().Get("/v1/cases/" + id, kApplicant);
  EXPECT_EQ(now.doc["status"], "under_review");
  EXPECT_EQ(now.doc["step"], "decide");
  EXPECT_EQ(now.Header("ETag"), "\"3\"");

  Reply before_accept =
      api().Get("/v1/cases/" + id + "?at=2026-03-02T09:30:00%2B08:00", kApplicant);
  ASSERT_EQ(before_accept.status, 200) << before_accept;
  EXPECT_EQ(before_accept.doc["status"], "submitted");
  EXPECT_EQ(before_accept.doc["version"], 1);
  EXPECT_EQ(before_accept.doc["step"], nullptr);
  EXPECT_EQ(before_accept.Header("ETag"), "\"1\"");
  EXPECT_EQ(before_accept.doc["as_of"], "2026-03-02T01:30:00.000Z");

  Reply in_review = api().Get("/v1/cases/" + id + "?at=2026-03-02T02:30:00Z", kClerk);
  ASSERT_EQ(in_review.status, 200) << in_review;
  EXPECT_EQ(in_review.doc["status"], "under_review");
  EXPECT_EQ(in_review.doc["step"], "review");
  EXPECT_EQ(in_review.doc["version"], 2);

  // Before the case existed, and not a time at all.
  ExpectProblem(api().Get("/v1/cases/" + id + "?at=2026-03-01T09:00:00%2B08:00", kApplicant), 404,
                "not-found");
  for (const char* bad : {"yesterday", "2026-03-02", "2026-03-02T09:00:00"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Get("/v1/cases/" + id + "?at=" + bad, kApplicant), 422, "invalid");
  }
  // Another applicant cannot look into the past either.
  ExpectProblem(api().Get("/v1/cases/" + id + "?at=2026-03-02T02:30:00Z", kOtherApplicant), 404,
                "not-found");
  ExpectProblem(api().Get("/v1/cases/c0000000000000000000", kApplicant), 404, "not-found");
}

TEST_F(ApiTest, HistoryIsHashChainedAndVerifies) {
  std::string id = AtDecision();
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["status"], "approved");
  EXPECT_EQ(approved.doc["decision"], "approve");
  EXPECT_EQ(approved.Header("ETag"), "\"4\"");

  Reply r = api().Get("/v1/cases/" + id + "/history", kApplicant);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["case_id"], id);
  const json& events = r.doc["events"];
  ASSERT_EQ(events.size(), 4u);
  const std::vector<std::string> actions = {"submit", "accept", "pass", "approve"};
  std::string previous(64, '0');
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i]["seq"], i + 1);
    EXPECT_EQ(events[i]["action"], actions[i]);
    EXPECT_EQ(events[i]["case_id"], id);
    EXPECT_EQ(events[i]["prev_hash"], previous);
    std::string hash = events[i].value("hash", "");
    EXPECT_TRUE(std::regex_match(hash, std::regex("[0-9a-f]{64}"))) << hash;
    EXPECT_NE(hash, previous);
    previous = hash;
  }
  EXPECT_EQ(events[3]["status"], "approved");
  EXPECT_EQ(events[1]["actor"]["id"], "clerk-demo");

  Reply verify = api().Get("/v1/cases/" + id + "/verify", kAuditor);
  ASSERT_EQ(verify.status, 200) << verify;
  EXPECT_EQ(verify.doc["ok"], true) << verify;
  EXPECT_EQ(verify.doc["events"], 4);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kApplicant).doc["ok"], true);
  ExpectProblem(api().Get("/v1/cases/" + id + "/verify", kOtherApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/nope/verify", kAuditor), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/nope/history", kAuditor), 404, "not-found");
}

TEST_F(ApiTest, TrackShowsProgressButNoStaff) {
  Reply created = Create(kApplicant, NewPermit({"land_approval", "planning_permit"}));
  std::string id = created.doc.value("id", "");
  std::string number = created.doc.value("number", "");
  std::string code = created.doc.value("query_code", "");
  ASSERT_FALSE(number.empty() || code.empty()) << created;
  Reply corrected = api().Act(id, kClerk, "request_correction",
                              {{"missing", {"land_approval", "planning_permit"}},
                               {"reason", "用地批准手续、规划许可证未提交"}});
  ASSERT_EQ(corrected.status, 200) << corrected;

  // No token needed: the number and the query code are the credential.
  Reply r = api().Get("/v1/track/" + number + "?code=" + code);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["number"], number);
  EXPECT_EQ(r.doc["status"], "correction_pending");
  EXPECT_EQ(r.doc["item"], "建筑工程施工许可");
  EXPECT_EQ(r.doc["organ"], "××开发区行政审批局");
  EXPECT_EQ(r.doc["light"], "green");
  EXPECT_TRUE(r.doc.contains("due"));
  EXPECT_TRUE(r.doc.contains("statutory_due"));
  std::set<std::string> missing;
  for (const json& m : r.doc["missing"]) {
    missing.insert(m.value("id", ""));
    EXPECT_FALSE(m.value("name", "").empty());
  }
  EXPECT_EQ(missing, (std::set<std::string>{"land_approval", "planning_permit"}));
  ASSERT_EQ(r.doc["timeline"].size(), 2u) << r;
  EXPECT_EQ(r.doc["timeline"][0]["status"], "submitted");
  EXPECT_EQ(r.doc["timeline"][1]["status"], "correction_pending");
  for (const json& t : r.doc["timeline"]) {
    EXPECT_EQ(t.size(), 2u) << t;  // time and status only
  }
  // Nothing about staff, the applicant's data or the case's internals.
  std::set<std::string> keys;
  for (const auto& [key, value] : r.doc.items())
    keys.insert(key);
  // received_by and transferred_at (收受分离) and bundle (一件事) name a window, a time and a
  // bundle number, never a person; null for a case received by the bureau itself on its own.
  EXPECT_EQ(keys,
            (std::set<std::string>{"number", "item", "organ", "status", "step_title", "decision",
                                   "due", "statutory_due", "light", "paused", "missing",
                                   "received_by", "transferred_at", "bundle", "timeline"}));
  EXPECT_EQ(r.doc["received_by"], nullptr);
  EXPECT_EQ(r.doc["transferred_at"], nullptr);
  EXPECT_EQ(r.doc["bundle"], nullptr);
  for (const char* secret : {"clerk-demo", "clerk", "actor", "ent-demo", "query_code", code.c_str(),
                             "91330100MA2TB00014", id.c_str()}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret << " in " << r.body;
  }

  // Once accepted and under review, the due date and the step show.
  ASSERT_EQ(api()
                .Act(id, kApplicant, "supply_correction",
                     {{"materials", {"land_approval", "planning_permit"}}})
                .status,
            200);
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply review = api().Get("/v1/track/" + number + "?code=" + code);
  EXPECT_EQ(review.doc["status"], "under_review");
  EXPECT_EQ(review.doc["step_title"], "审查");
  EXPECT_TRUE(review.doc["due"].is_string()) << review;
  EXPECT_EQ(review.doc["missing"], json::array());
  EXPECT_EQ(review.body.find("reviewer"), std::string::npos);

  // A wrong code and an unknown number look the same.
  ExpectProblem(api().Get("/v1/track/" + number + "?code=WRONG234"), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number + "?code=" + code.substr(0, 7)), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/TB20260302-00000000?code=" + code), 404, "not-found");
}

TEST_F(ApiTest, ListCasesScopeFiltersAndPaging) {
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i)
    mine.push_back(Submitted());
  std::string other = Create(kOtherApplicant).doc.value("id", "");
  ASSERT_EQ(api().Act(mine[0], kClerk, "accept").status, 200);
  api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 2}}}});
  std::string later = Submitted();
  mine.push_back(later);

  auto ids = [](const Reply& r) {
    std::set<std::string> out;
    for (const json& c : r.doc["cases"])
      out.insert(c.value("id", ""));
    return out;
  };
  // Applicants see their own cases only, whatever they ask for.
  Reply own = api().Get("/v1/cases", kApplicant);
  ASSERT_EQ(own.status, 200) << own;
  EXPECT_EQ(ids(own), std::set<std::string>(mine.begin(), mine.end()));
  EXPECT_EQ(own.doc["next_cursor"], nullptr);
  EXPECT_EQ(ids(api().Get("/v1/cases?applicant=ent-other", kApplicant)),
            std::set<std::string>(mine.begin(), mine.end()));
  EXPECT_EQ(ids(api().Get("/v1/cases", kOtherApplicant)), std::set<std::string>{other});
  // Staff see their organ's; a clerk of another organ sees none of them.
  EXPECT_EQ(ids(api().Get("/v1/cases", kClerk)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases", kAuditor)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases", kForeignClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=dz-approval-bureau", kForeignClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=other-organ", kClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=dz-approval-bureau", kAuditor)).size(), 5u);

  // Filters.
  EXPECT_EQ(ids(api().Get("/v1/cases?status=under_review", kClerk)),
            std::set<std::string>{mine[0]});
  EXPECT_EQ(ids(api().Get("/v1/cases?status=submitted&applicant=ent-other", kClerk)),
            std::set<std::string>{other});
  EXPECT_EQ(ids(api().Get("/v1/cases?definition=construction-permit", kClerk)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases?definition=seal-engraving-filing", kAuditor)).size(), 0u);
  // The light filter returns exactly the cases with that light; every case has one light.
  std::set<std::string> lit;
  for (const char* light : {"green", "yellow", "red"}) {
    Reply r = api().Get(std::string("/v1/cases?light=") + light, kClerk);
    ASSERT_EQ(r.status, 200) << r;
    for (const json& c : r.doc["cases"]) {
      EXPECT_EQ(c["clock"]["light"], light) << c["id"];
      EXPECT_TRUE(lit.insert(c.value("id", "")).second);
    }
  }
  EXPECT_EQ(lit.size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases?created_from=2026-03-02T10:00:00%2B08:00", kClerk)),
            std::set<std::string>{later});
  EXPECT_EQ(ids(api().Get("/v1/cases?created_to=2026-03-02T10:00:00%2B08:00", kClerk)).size(), 4u);
  for (const char* bad : {"status=pending", "light=blue", "limit=0", "limit=501", "limit=x",
                          "created_from=monday", "created_to=2026-13-01T00:00:00Z"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Get(std::string("/v1/cases?") + bad, kClerk), 422, "invalid");
  }

  // Paging with the cursor visits every case once.
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    Reply r = api().Get("/v1/cases?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), kClerk);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.doc["cases"].size(), 2u);
    for (const std::string& id : ids(r))
      EXPECT_TRUE(seen.insert(id).second) << id << " twice";
    if (r.doc["next_cursor"].is_null()) break;
    cursor = r.doc["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen.size(), 5u);
}

// ---- Acting on cases
// ------------------------------------------------------------------------------

TEST_F(ApiTest, ActionValidation) {
  std::string id = Submitted();
  const std::string path = "/v1/cases/" + id + "/actions";
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"colour", "red"}}), "/colour");
  ExpectInvalidAt(api().Post(path, kClerk, json::object()), "/action");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", 7}}), "/action");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"data", "now"}}), "/data");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"comment", 1}}), "/comment");
  // Unknown actions, and the system's own, are 422.
  for (const char* action : {"fly", "deem_accepted", "mark_overdue", "submit", ""}) {
    SCOPED_TRACE(action);
    ExpectProblem(api().Act(id, kClerk, action), 422, "unknown-action");
  }
  // A known action whose data breaks a rule.
  ExpectProblem(api().Act(id, kClerk, "refuse"), 422, "invalid");
  // Still nothing but the submission.
  EXPECT_EQ(History(id).size(), 1u);
  // Actions on a case that does not exist.
  ExpectProblem(api().Act("c0000000000000000000", kClerk, "accept"), 404, "not-found");
}

TEST_F(ApiTest, ActionNotAvailableNowIs409) {
  std::string id = UnderReview();
  Reply again = api().Act(id, kClerk, "accept");
  ExpectProblem(again, 409, "not-available");
  // Withdrawn cases take no further actions.
  std::string withdrawn = Submitted();
  ASSERT_EQ(api().Act(withdrawn, kApplicant, "withdraw").status, 200);
  ExpectProblem(api().Act(withdrawn, kApplicant, "withdraw"), 409, "not-available");
  ExpectProblem(api().Act(withdrawn, kClerk, "accept"), 409, "not-available");
  EXPECT_EQ(History(withdrawn).size(), 2u);
}

TEST_F(ApiTest, IfMatchPinsTheVersion) {
  std::string id = Submitted();
  Reply got = api().Get("/v1/cases/" + id, kClerk);
  ASSERT_EQ(got.Header("ETag"), "\"1\"");
  Reply accepted =
      api().Act(id, kClerk, "accept", json::object(), {{"If-Match", got.Header("ETag")}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.Header("ETag"), "\"2\"");

  // A stale version is refused, and nothing is recorded.
  Reply stale = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "\"1\""}});
  ExpectProblem(stale, 412, "stale-version");
  EXPECT_EQ(History(id).size(), 2u);
  // Malformed versions are 400.
  for (const char* bad : {"abc", "\"\"", "\"1a\"", "1 2", "\"99999999999999999999\""}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", bad}}), 400,
                  "bad-if-match");
  }
  EXPECT_EQ(History(id).size(), 2u);
  // The current version, weak or bare, is fine; "*" pins nothing.
  Reply passed = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "W/\"2\""}});
  ASSERT_EQ(passed.status, 200) << passed;
  Reply sent_back =
      api().Act(id, kApprover, "send_back", {{"reason", "补充说明"}}, {{"If-Match", "3"}});
  ASSERT_EQ(sent_back.status, 200) << sent_back;
  Reply star = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "*"}});
  ASSERT_EQ(star.status, 200) << star;
  EXPECT_EQ(star.Header("ETag"), "\"5\"");
}

// Who may do what: role x action, each on a case in the state the action needs, with the exact
// status. Another applicant's case, or a case outside a clerk's organ, is a 404, not a 403.
TEST_F(ApiTest, AuthorizationMatrix) {
  struct Role {
    const char* name;
    const char* token;
  };
  const std::vector<Role> roles = {
      {"applicant (own)", kApplicant},
      {"applicant (other)", kOtherApplicant},
      {"clerk", kClerk},
      {"reviewer", kReviewer},
      {"approver", kApprover},
      {"auditor", kAuditor},
      {"admin", kAdmin},
      {"clerk (other organ)", kForeignClerk},
  };
  enum State { kSubmittedState, kReviewState, kDecisionState };
  struct Row {
    const char* action;  // "get" and "history" read; the others are case actions
    State state;
    std::vector<int> expected;  // one per role, in the order above
  };
  const std::vector<Row> table = {
      {"get", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"history", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"verify", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"accept", kSubmittedState, {403, 404, 200, 403, 403, 403, 403, 404}},
      {"pass", kReviewState, {403, 404, 403, 200, 403, 403, 403, 404}},
      {"approve", kDecisionState, {403, 404, 403, 403, 200, 403, 403, 404}},
      {"withdraw", kSubmittedState, {200, 404, 403, 403, 403, 403, 403, 404}},
  };
  for (const Row& row : table) {
    ASSERT_EQ(row.expected.size(), roles.size());
    for (size_t i = 0; i < roles.size(); ++i) {
      SCOPED_TRACE(std::string(roles[i].name) + " x " + row.action);
      // A fresh case per cell, so that a permitted action does not change the next cell's case.
      std::string id = row.state == kSubmittedState ? Submitted()
                       : row.state == kReviewState  ? UnderReview()
                                                    : AtDecision();
      const size_t events_before = History(id).size();
      Reply r;
      std::string action = row.action;
      if (action == "get") {
        r = api().Get("/v1/cases/" + id, roles[i].token);
      } else if (action == "history") {
        r = api().Get("/v1/cases/" + id + "/history", roles[i].token);
      } else if (action == "verify") {
        r = api().Get("/v1/cases/" + id + "/verify", roles[i].token);
      } else {
        r = api().Act(id, roles[i].token, action);
      }
      EXPECT_EQ(r.status, row.expected[i]) << r;
      if (r.status == 200) {
        if (action == "get") {
          EXPECT_EQ(r.doc["id"], id);
        } else if (action == "history") {
          EXPECT_EQ(r.doc["events"].size(), events_before);
        }
      } else {
        ExpectProblem(r, row.expected[i], row.expected[i] == 404 ? "not-found" : "forbidden");
      }
      const bool acted =
          action != "get" && action != "history" && action != "verify" && r.status == 200;
      EXPECT_EQ(History(id).size(), events_before + (acted ? 1 : 0));
    }
  }
}

TEST_F(ApiTest, ClerkOfAnotherOrganSeesNothing) {
  std::string id = Submitted();
  ExpectProblem(api().Get("/v1/cases/" + id, kForeignClerk), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/" + id + "/history", kForeignClerk), 404, "not-found");
  ExpectProblem(api().Act(id, kForeignClerk, "accept"), 404, "not-found");
  // ... and cannot register cases for an item its organ does not implement.
  json body = NewPermit();
  body["applicant"] = {{"id", "ent-demo"}};
  Reply r = api().Post("/v1/cases", kForeignClerk, body);
  ExpectProblem(r, 403, "forbidden");
  EXPECT_NE(r.doc.value("detail", "").find("dz-approval-bureau"), std::string::npos) << r;
  EXPECT_EQ(History(id).size(), 1u);
}

TEST_F(ApiTest, ConcurrentAcceptsExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    std::string id = Submitted();
    std::mutex mutex;
    std::condition_variable cv;
    int ready = 0;
    bool go = false;
    std::vector<int> statuses(2);
    std::vector<std::thread> clerks;
    const char* tokens[] = {kClerk, kSecondClerk};
    for (int i = 0; i < 2; ++i) {
      clerks.emplace_back([&, i] {
        Api own(server_->port());
        own.Get("/healthz");  // connect first, so that both requests leave together
        {
          std::unique_lock<std::mutex> lock(mutex);
          ++ready;
          cv.notify_all();
          cv.wait(lock, [&] { return go; });
        }
        statuses[i] = own.Act(id, tokens[i], "accept").status;
      });
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return ready == 2; });
      go = true;
      cv.notify_all();
    }
    for (auto& t : clerks)
      t.join();
    std::sort(statuses.begin(), statuses.end());
    EXPECT_EQ(statuses, (std::vector<int>{200, 409}));
    json events = History(id);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1]["action"], "accept");
  }
}

TEST_F(ApiTest, IdempotentRetries) {
  // POST /v1/cases: the same key returns the same case and creates nothing.
  Reply first = api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(first.status, 201) << first;
  Reply retry = api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(retry.status, 201) << retry;
  EXPECT_EQ(retry.doc, first.doc);
  EXPECT_EQ(retry.Header("Location"), first.Header("Location"));
  EXPECT_EQ(retry.Header("ETag"), first.Header("ETag"));
  const std::string id = first.doc.value("id", "");
  EXPECT_EQ(api().Get("/v1/cases", kApplicant).doc["cases"].size(), 1u);
  EXPECT_EQ(History(id).size(), 1u);
  // Keys are per caller: another applicant's same key is its own.
  Reply other =
      api().Post("/v1/cases", kOtherApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(other.status, 201);
  EXPECT_NE(other.doc["id"], id);
  // A new key is a new case.
  Reply second =
      api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-2"}});
  EXPECT_NE(second.doc["id"], id);

  // Actions: the retry returns the first outcome (not a 409) and records nothing.
  Reply accepted =
      api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  Reply accepted_again =
      api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(accepted_again.status, 200) << accepted_again;
  EXPECT_EQ(accepted_again.doc, accepted.doc);
  EXPECT_EQ(accepted_again.Header("ETag"), "\"2\"");
  EXPECT_EQ(History(id).size(), 2u);
  // Even after the case moved on, the retry answers with the case as the action left it.
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply late = api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(late.status, 200) << late;
  EXPECT_EQ(late.doc, accepted.doc);
  EXPECT_EQ(History(id).size(), 3u);
  // Without the key the same request is a new attempt, refused now.
  ExpectProblem(api().Act(id, kClerk, "accept"), 409, "not-available");
  // The key belongs to the first case; using it on another is refused.
  ExpectProblem(api().Act(second.doc.value("id", ""), kClerk, "accept", json::object(),
                          {{"Idempotency-Key", "accept-1"}}),
                422, "invalid");
  EXPECT_EQ(History(second.doc.value("id", "")).size(), 1u);
  // Concurrent retries with one key record one event.
  std::string id3 = Submitted();
  std::vector<std::thread> retries;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i) {
    retries.emplace_back([&, i] {
      Api own(server_->port());
      statuses[i] =
          own.Act(id3, kClerk, "accept", json::object(), {{"Idempotency-Key", "k3"}}).status;
    });
  }
  for (auto& t : retries)
    t.join();
  for (int s : statuses)
    EXPECT_EQ(s, 200);
  EXPECT_EQ(History(id3).size(), 2u);
}

TEST_F(ApiTest, AdminClockRecordsDeemedAcceptance) {
  std::string id = Submitted();
  Reply before = api().Get("/v1/cases/" + id, kClerk);
  EXPECT_FALSE(before.doc["clock"]["acceptance_deadline"].is_null()) << before;

  // Only admins move the clock; bodies are checked.
  ExpectProblem(api().Post("/v1/admin/clock", kClerk, {{"advance", {{"days", 1}}}}), 403,
                "forbidden");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"weeks", 1}}}}),
                  "/advance/weeks");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, {{"jump", 1}}), "/jump");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", -1}}}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", "1"}}}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-01T09:00:00+08:00"}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"to", "soon"}}), 422, "invalid");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, json::object()), "/advance");

  // Four working days: still within the window for a correction notice.
  Reply early = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-06T18:00:00+08:00"}});
  ASSERT_EQ(early.status, 200) << early;
  EXPECT_EQ(early.doc["timer_events"], 0);
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["status"], "submitted");

  // Past the fifth working day (Monday 9 March) without a notice, the case is deemed accepted
  // (art. 32), as from the day the materials were received.
  Reply moved = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 3}, {"hours", 15}}}});
  ASSERT_EQ(moved.status, 200) << moved;
  EXPECT_EQ(moved.doc["now"], "2026-03-10T01:00:00.000Z");
  EXPECT_EQ(moved.doc["timer_events"], 1);
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["action"], "deem_accepted");
  EXPECT_EQ(events[1]["actor"]["id"], "system");
  EXPECT_EQ(events[1]["status"], "under_review");
  EXPECT_EQ(events[1]["prev_hash"], events[0]["hash"]);
  Reply after = api().Get("/v1/cases/" + id, kClerk);
  EXPECT_EQ(after.doc["status"], "under_review");
  EXPECT_EQ(after.doc["deemed_accepted"], true);
  EXPECT_EQ(after.doc["accepted_at"], after.doc["received_at"]);
  EXPECT_EQ(after.Header("ETag"), "\"2\"");
  // Past the statutory limit (7 working days from receipt: Wednesday 11 March) it is marked
  // overdue, and its light is red.
  Reply later = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-12T09:00:00+08:00"}});
  ASSERT_EQ(later.status, 200) << later;
  EXPECT_EQ(later.doc["timer_events"], 1);
  events = History(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2]["action"], "mark_overdue");
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["clock"]["light"], "red");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
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

// Every response status an operation documents is one the server gives (the tour below produces
// each), and every status the server gave on the tour is documented. The tour's statuses are read
// back from the server's own request metrics. 500 and 503 (failures of the store) and 413 (answered
// before any handler) are outside the tour.
TEST_F(ApiTest, DocumentedStatusesAreTheStatusesGiven) {
  std::string id = Submitted();
  std::string number = api().Get("/v1/cases/" + id, kApplicant).doc.value("number", "");
  std::string code = api().Get("/v1/cases/" + id, kApplicant).doc.value("query_code", "");
  json permit = json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json"));
  json v2 = permit;
  v2["version"] = 2;
  json changed = v2;
  changed["title"] = "x";
  json invalid = v2;
  invalid["version"] = 3;
  invalid["steps"] = "none";

  api().Get("/healthz");
  api().Get("/metrics");
  api().Get("/openapi.json");
  api().Get("/v1/definitions", kApplicant);
  api().Get("/v1/definitions");
  api().Post("/v1/definitions", kAdmin, v2);       // 201
  api().Post("/v1/definitions", kAdmin, v2);       // 200
  api().PostRaw("/v1/definitions", kAdmin, "{");   // 400
  api().Post("/v1/definitions", "", v2);           // 401
  api().Post("/v1/definitions", kClerk, v2);       // 403
  api().Post("/v1/definitions", kAdmin, changed);  // 409
  api().Post("/v1/definitions", kAdmin, invalid);  // 422
  api().Get("/v1/definitions/construction-permit", kClerk);
  api().Get("/v1/definitions/construction-permit");
  api().Get("/v1/definitions/nothing", kClerk);
  api().Get("/v1/definitions/construction-permit?version=x", kClerk);
  api().Get("/v1/definitions/construction-permit/graph", kClerk);
  api().Get("/v1/definitions/construction-permit/graph");
  api().Get("/v1/definitions/nothing/graph", kClerk);
  api().Get("/v1/definitions/construction-permit/graph?format=svg", kClerk);
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
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "");             // 200
  api().PostRaw("/v1/mandates/" + mandate + "/revoke", kApplicant, "");             // 409
  api().Get("/v1/ledger", kAuditor);                                                // 200
  api().Get("/v1/ledger");                                                          // 401
  api().Get("/v1/ledger", kClerk);                                                  // 403

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

// ---- Delegated powers (赋权)
// ---------------------------------------------------------------------------

// The food licence is city-amr's item; the zone bureau's staff accept, review and decide it under
// the concentrated delegation, and the decision is issued in the bureau's name with its seal.
TEST_F(ApiTest, DelegatedBureauDecidesInItsOwnNameAndSeal) {
  std::string id = CreateId(kApplicant, NewFood());
  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["organ"], "city-amr");
  EXPECT_EQ(accepted.doc["step"], "review");
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["status"], "approved");
  EXPECT_EQ(
      approved.doc["issued_in"],
      json({{"name", kBureauName}, {"seal", kBureauSeal}, {"delegation", "food-licence-dz-2026"}}));
  // Every staff action records the authority it was taken under.
  json events = History(id);
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    SCOPED_TRACE(events[i]["action"].dump());
    const json& authority = events[i]["data"]["authority"];
    EXPECT_EQ(authority["organ"], "dz-approval-bureau");
    EXPECT_EQ(authority["basis"], "delegation");
    EXPECT_EQ(authority["delegation"], "food-licence-dz-2026");
    EXPECT_EQ(authority["form"], "concentrated");
    EXPECT_EQ(authority["delegated_by"], "city-amr");
  }
  EXPECT_EQ(events[1]["data"]["authority"]["powers"], "accept");
  EXPECT_EQ(events[3]["data"]["authority"]["powers"], "decide");
  EXPECT_EQ(events[3]["data"]["authority"]["issued_in_seal"], kBureauSeal);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // Staff of the delegated bureau and of the implementing organ see the case; others do not.
  auto listed = [&](const char* token) {
    std::set<std::string> ids;
    Reply list = api().Get("/v1/cases", token);
    for (const json& c : list.doc["cases"])
      ids.insert(c.value("id", ""));
    return ids.count(id) == 1;
  };
  EXPECT_TRUE(listed(kClerk));
  EXPECT_TRUE(listed(kAmr));
  EXPECT_FALSE(listed(kForeignClerk));
  EXPECT_EQ(api().Get("/v1/cases/" + id, kAmr).status, 200);
  ExpectProblem(api().Get("/v1/cases/" + id, kForeignClerk), 404, "not-found");
}

// Jurisdiction is checked for every staff action: an organ without the power gets 403 naming the
// competent organ, whether it registers an application or acts on a case it can see.
TEST_F(ApiTest, OrganWithoutJurisdictionIs403NamingTheCompetentOrgan) {
  json at_window = NewFood();
  at_window["applicant"] = {{"id", "ent-walkin"}, {"name", "到窗口的企业"}};
  Reply foreign = api().Post("/v1/cases", kForeignClerk, at_window);
  ExpectProblem(foreign, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(foreign), "city-amr")) << foreign;
  EXPECT_TRUE(Contains(Detail(foreign), kAmrName)) << foreign;
  // The bureau holds only the accept power for enterprise registration (entrustment).
  std::string id = CreateId(kApplicant, NewRegistration());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply review = api().Act(id, kReviewer, "pass");
  ExpectProblem(review, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(review), "no power to review")) << review;
  EXPECT_TRUE(
      Contains(Detail(review), "competent organ is " + std::string(kAmrName) + " (city-amr)"))
      << review;
  EXPECT_EQ(History(id).size(), 2u);
  // The bureau's reviewer is not offered what it may not do.
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kReviewer)), std::set<std::string>{});
  // The implementing organ reviews and decides (two people: four-eyes), in its own name.
  ASSERT_EQ(api().Act(id, kAmr, "pass").status, 200);
  ExpectProblem(api().Act(id, kAmr, "approve"), 403, "forbidden");
  Reply approved = api().Act(id, kAmrApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["issued_in"],
            json({{"name", kAmrName}, {"seal", ""}, {"delegation", ""}}));
  EXPECT_EQ(History(id).back()["data"]["authority"]["basis"], "implementing_organ");
}

TEST_F(ApiTest, RevokedDelegationStopsTheNextActionAndHistoryStillVerifies) {
  std::string id = CreateId(kApplicant, NewFood());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  const std::string path = "/v1/delegations/food-licence-dz-2026/revoke";
  const json reason = {{"reason", "赋权调整，收回食品经营许可"}};
  // Only admins revoke, with a reason.
  for (const char* token : {kApplicant, kClerk, kApprover, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post(path, token, reason), 403, "forbidden");
  }
  ExpectInvalidAt(api().Post(path, kAdmin, json::object()), "/reason");
  ExpectInvalidAt(api().Post(path, kAdmin, {{"reason", "x"}, {"why", "y"}}), "/why");
  ExpectProblem(api().Post(path, kAdmin, {{"reason", ""}}), 422, "invalid");
  ExpectProblem(api().Post("/v1/delegations/no-such/revoke", kAdmin, reason), 404, "not-found");
  Reply revoked = api().Post(path, kAdmin, reason);
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.doc["revoked"], true);
  EXPECT_EQ(revoked.doc["revoked_by"], "admin-demo");
  EXPECT_EQ(revoked.doc["revocation_reason"], "赋权调整，收回食品经营许可");
  ExpectProblem(api().Post(path, kAdmin, reason), 409, "not-available");

  // The next action of the bureau is refused, saying why.
  Reply pass = api().Act(id, kReviewer, "pass");
  ExpectProblem(pass, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(pass), "food-licence-dz-2026 was revoked")) << pass;
  EXPECT_TRUE(Contains(Detail(pass), "赋权调整")) << pass;
  EXPECT_TRUE(Contains(Detail(pass), "city-amr")) << pass;
  // The bureau still sees the case it held, but is offered nothing.
  Reply seen = api().Get("/v1/cases/" + id, kReviewer);
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(ActionIds(seen), std::set<std::string>{});
  // The accept taken under the delegation stays as it was: the history verifies.
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["data"]["authority"]["delegation"], "food-licence-dz-2026");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // The implementing organ takes the case over.
  ASSERT_EQ(api().Act(id, kAmr, "pass").status, 200);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // New applications at the bureau's window are refused too.
  json at_window = NewFood();
  at_window["applicant"] = {{"id", "ent-walkin"}};
  Reply window = api().Post("/v1/cases", kClerk, at_window);
  ExpectProblem(window, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(window), "revoked")) << window;

  // The register shows the revocation.
  Reply one = api().Get("/v1/delegations/food-licence-dz-2026", kClerk);
  ASSERT_EQ(one.status, 200) << one;
  EXPECT_EQ(one.doc["revoked"], true);
  EXPECT_EQ(one.doc["source"], "delegation_list/dz-approval-bureau-2026@2");
  Reply by_item = api().Get("/v1/delegations?item=food-business-licence", kAuditor);
  ASSERT_EQ(by_item.doc["delegations"].size(), 1u) << by_item;
  EXPECT_EQ(api().Get("/v1/delegations?organ=city-hrss", kAuditor).doc["delegations"].size(), 2u);
  ExpectProblem(api().Get("/v1/delegations", kApplicant), 403, "forbidden");
  ExpectProblem(api().Get("/v1/delegations/food-licence-dz-2026", kAgent), 403, "forbidden");
  ExpectProblem(api().Get("/v1/delegations/no-such", kClerk), 404, "not-found");
}

TEST_F(ApiTest, AddDelegationValidatesAndTakesEffect) {
  const json valid = {
      {"id", "registration-review-dz-api"},
      {"item", "establishment-registration"},
      {"from", {{"id", "city-amr"}, {"name", kAmrName}}},
      {"to", {{"id", "dz-approval-bureau"}, {"name", kBureauName}}},
      {"powers", {"review", "decide"}},
      {"form", "entrustment"},
      {"legal_basis", {{{"citation", "《中华人民共和国行政许可法》"}, {"article", "第二十四条"}}}},
      {"effective_from", "2026-01-01"},
      {"effective_to", "2026-12-31"}};
  for (const char* token : {kApplicant, kClerk, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/delegations", token, valid), 403, "forbidden");
  }
  // Every problem is reported, each at its pointer.
  json bad = valid;
  bad["item"] = "no-such-item";
  bad["powers"] = {"acept"};
  bad["form"] = "concentrated";  // needs the receiver's seal
  bad["legal_basis"] = json::array();
  bad["effective_from"] = "2026-13-01";
  bad["colour"] = "red";
  Reply invalid = api().Post("/v1/delegations", kAdmin, bad);
  for (const char* pointer :
       {"/item", "/powers/0", "/to/seal", "/legal_basis", "/effective_from", "/colour"}) {
    SCOPED_TRACE(pointer);
    ExpectInvalidAt(invalid, pointer);
  }
  json self = valid;
  self["to"] = {{"id", "city-amr"}, {"name", kAmrName}};
  ExpectInvalidAt(api().Post("/v1/delegations", kAdmin, self), "/to");
  json backwards = valid;
  backwards["effective_to"] = "2025-12-31";
  ExpectInvalidAt(api().Post("/v1/delegations", kAdmin, backwards), "/effective_to");
  Reply empty = api().Post("/v1/delegations", kAdmin, json::object());
  for (const char* pointer :
       {"/id", "/item", "/from", "/to", "/powers", "/form", "/legal_basis", "/effective_from"}) {
    SCOPED_TRACE(pointer);
    ExpectInvalidAt(empty, pointer);
  }
  ExpectProblem(api().PostRaw("/v1/delegations", kAdmin, "[1]"), 422, "invalid");
  ExpectProblem(api().PostRaw("/v1/delegations", kAdmin, "{\"id\": "), 400, "malformed-json");
  EXPECT_EQ(
      api().Get("/v1/delegations?organ=dz-approval-bureau", kAuditor).doc["delegations"].size(),
      7u);

  Reply added = api().Post("/v1/delegations", kAdmin, valid);
  ASSERT_EQ(added.status, 201) << added;
  EXPECT_EQ(added.Header("Location"), "/v1/delegations/registration-review-dz-api");
  EXPECT_EQ(added.doc["source"], "api");
  EXPECT_EQ(added.doc["added_by"], "admin-demo");
  EXPECT_EQ(added.doc["issued_in_name"], kAmrName);  // entrustment: the delegator's name
  EXPECT_EQ(api().Get(added.Header("Location"), kClerk).doc, added.doc);
  // Ids are unique across the lists and the API.
  ExpectProblem(api().Post("/v1/delegations", kAdmin, valid), 409, "conflict");
  json taken = valid;
  taken["id"] = "food-licence-dz-2026";
  ExpectProblem(api().Post("/v1/delegations", kAdmin, taken), 409, "conflict");

  // It takes effect at once: the bureau now reviews and decides registrations, in the city
  // bureau's name (entrustment).
  std::string id = CreateId(kApplicant, NewRegistration());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["issued_in"],
            json({{"name", kAmrName}, {"seal", ""}, {"delegation", "registration-review-dz-api"}}));
  EXPECT_EQ(History(id).back()["data"]["authority"]["form"], "entrustment");
}

// ---- 告知承诺: commitment, verification, credit -----------------------------------------------

TEST_F(ApiTest, CommitmentBreachRevokesAndBlocksUntilRepaired) {
  Reply created = Create(kApplicant, NewFood("commitment"));
  const std::string id = created.doc.value("id", "");
  EXPECT_EQ(created.doc["mode"], "commitment");
  json item = json::parse(ReadFile(kSourceDir + "/definitions/items/food-business-licence.json"));
  const json& commitment = created.doc["commitment"];
  EXPECT_EQ(commitment["template_id"], "food-business-licence-commitment");
  EXPECT_EQ(commitment["template_version"], 1);
  EXPECT_EQ(commitment["signed_by"], "张三");
  EXPECT_EQ(commitment["content_hash"],
            Sha256Hex(item["modes"]["commitment"]["template"]["text"].get<std::string>()));
  EXPECT_EQ(commitment["signed_at"], created.doc["created_at"]);

  // 当场办结: accepting is the decision, in the bureau's name and seal; verification starts.
  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["status"], "approved");
  EXPECT_EQ(accepted.doc["decision"], "approve");
  EXPECT_EQ(accepted.doc["issued_in"]["seal"], kBureauSeal);
  EXPECT_EQ(accepted.doc["verification"]["status"], "pending");
  EXPECT_EQ(accepted.doc["clock"]["verification"]["due"], "2026-03-30");  // 20 working days
  EXPECT_EQ(accepted.doc["clock"]["verification"]["overdue"], false);
  EXPECT_EQ(History(id)[1]["data"]["authority"]["powers"], "accept+decide");

  // The verifier verifies; a breach needs its reason.
  Reply as_verifier = api().Get("/v1/cases/" + id, kVerifier);
  EXPECT_EQ(ActionIds(as_verifier).count("verify"), 1u) << as_verifier;
  ExpectProblem(api().Act(id, kClerk, "verify", {{"result", "pass"}}), 403, "forbidden");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "maybe"}}), 422, "invalid");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "breach"}}), 422, "invalid");
  Reply breach = api().Act(id, kVerifier, "verify",
                           {{"result", "breach"},
                            {"reason", "现场核查：经营场所与承诺不符"},
                            {"findings", "无冷藏设施"}});
  ASSERT_EQ(breach.status, 200) << breach;
  EXPECT_EQ(breach.doc["status"], "revoked");
  EXPECT_EQ(breach.doc["verification"]["status"], "breached");
  EXPECT_EQ(breach.doc["verification"]["verified_by"], "verifier-demo");
  EXPECT_EQ(breach.doc["verification"]["findings"], "无冷藏设施");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "pass"}}), 409, "not-available");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);

  // The credit record: staff see every record, an applicant the records against itself.
  Reply records = api().Get("/v1/credit-records", kAuditor);
  ASSERT_EQ(records.status, 200) << records;
  ASSERT_EQ(records.doc["credit_records"].size(), 1u) << records;
  const json record = records.doc["credit_records"][0];
  const std::string record_id = record.value("id", "");
  EXPECT_EQ(record["credit_code"], "91330100MA2TB00014");
  EXPECT_EQ(record["case"]["id"], id);
  EXPECT_EQ(record["case"]["number"], created.doc["number"]);
  EXPECT_EQ(record["item"], "food-business-licence");
  EXPECT_EQ(record["reason"], "现场核查：经营场所与承诺不符");
  EXPECT_EQ(record["recorded_by"], "verifier-demo");
  EXPECT_EQ(record["blocking"], true);
  EXPECT_EQ(api().Get("/v1/credit-records", kApplicant).doc["credit_records"].size(), 1u);
  EXPECT_EQ(api().Get("/v1/credit-records", kOtherApplicant).doc["credit_records"].size(), 0u);
  EXPECT_EQ(api().Get("/v1/credit-records", kClerk).doc["credit_records"].size(), 1u);
  EXPECT_EQ(api()
                .Get("/v1/credit-records?credit_code=91330100MA2TB00027", kAuditor)
                .doc["credit_records"]
                .size(),
            0u);
  EXPECT_EQ(api().Get("/v1/credit-records/" + record_id, kApplicant).doc, record);
  ExpectProblem(api().Get("/v1/credit-records/" + record_id, kOtherApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/credit-records/credit-none", kAuditor), 404, "not-found");

  // Another commitment application is refused, naming the record; standard mode is still open.
  Reply refused = api().Post("/v1/cases", kApplicant, NewFood("commitment"));
  ExpectProblem(refused, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(refused), "credit record " + record_id)) << refused;
  EXPECT_TRUE(Contains(Detail(refused), "信用修复")) << refused;
  EXPECT_EQ(api().Post("/v1/cases", kApplicant, NewFood()).status, 201);
  EXPECT_EQ(api().Post("/v1/cases", kOtherApplicant, NewFood("commitment")).status, 201);

  // An admin records the repair (信用修复), with a reason; then commitment mode is open again.
  const std::string repair = "/v1/credit-records/" + record_id + "/repair";
  const json reason = {{"reason", "已整改到位并完成信用修复"}};
  ExpectProblem(api().Post(repair, kApplicant, reason), 403, "forbidden");
  ExpectProblem(api().Post(repair, kVerifier, reason), 403, "forbidden");
  ExpectInvalidAt(api().Post(repair, kAdmin, json::object()), "/reason");
  ExpectProblem(api().Post("/v1/credit-records/credit-none/repair", kAdmin, reason), 404,
                "not-found");
  Reply repaired = api().Post(repair, kAdmin, reason);
  ASSERT_EQ(repaired.status, 200) << repaired;
  EXPECT_EQ(repaired.doc["blocking"], false);
  EXPECT_EQ(repaired.doc["repaired_by"], "admin-demo");
  EXPECT_EQ(repaired.doc["repair_reason"], "已整改到位并完成信用修复");
  ExpectProblem(api().Post(repair, kAdmin, reason), 409, "not-available");
  Reply again = api().Post("/v1/cases", kApplicant, NewFood("commitment"));
  ASSERT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.doc["mode"], "commitment");

  // The ledger holds the record and its repair, chained.
  Reply ledger = api().Get("/v1/ledger", kAuditor);
  ASSERT_EQ(ledger.status, 200) << ledger;
  std::vector<std::string> kinds;
  for (const json& e : ledger.doc["entries"])
    kinds.push_back(e.value("kind", ""));
  EXPECT_EQ(kinds, (std::vector<std::string>{"credit.recorded", "credit.repaired"}));
  EXPECT_EQ(ledger.doc["verify"]["ok"], true);
}

TEST_F(ApiTest, CommitmentModeOnlyWhereTheItemOffersIt) {
  json registration = NewRegistration();
  registration["mode"] = "commitment";
  registration["commitment"] = FoodCommitment();
  Reply r = api().Post("/v1/cases", kApplicant, registration);
  ExpectProblem(r, 422, "invalid");
  EXPECT_TRUE(Contains(Detail(r), "does not offer commitment")) << r;
  // The commitment must be the item's template, signed.
  json unsigned_ = NewFood("commitment");
  unsigned_.erase("commitment");
  ExpectProblem(api().Post("/v1/cases", kApplicant, unsigned_), 422, "invalid");
  json wrong_version = NewFood("commitment");
  wrong_version["commitment"]["template_version"] = 2;
  ExpectProblem(api().Post("/v1/cases", kApplicant, wrong_version), 422, "invalid");
  json wrong_text = NewFood("commitment");
  wrong_text["commitment"]["content_hash"] = std::string(64, '0');
  Reply hash = api().Post("/v1/cases", kApplicant, wrong_text);
  ExpectProblem(hash, 422, "invalid");
  EXPECT_TRUE(Contains(Detail(hash), "content_hash")) << hash;
  json bundle = NewStartup();
  bundle["mode"] = "commitment";
  ExpectProblem(api().Post("/v1/cases", kApplicant, bundle), 422, "invalid");
  EXPECT_EQ(api().Get("/v1/cases", kAuditor).doc["cases"].size(), 0u);
}

// Verification must be done within the item's working days after the decision (20 for the food
// licence); when the period passes, a system event records it and the light turns red.
TEST_F(ApiTest, OverdueVerificationTurnsTheLightRed) {
  std::string id = CreateId(kApplicant, NewFood("commitment"));
  Reply approved = api().Act(id, kClerk, "accept");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["clock"]["verification"]["due"], "2026-03-30");
  Reply early = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-30T17:00:00+08:00"}});
  EXPECT_EQ(early.doc["timer_events"], 0) << early;
  EXPECT_EQ(api().Get("/v1/cases/" + id, kVerifier).doc["clock"]["light"], "green");
  Reply late = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-31T09:00:00+08:00"}});
  EXPECT_EQ(late.doc["timer_events"], 1) << late;
  json events = History(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2]["action"], "mark_verification_overdue");
  EXPECT_EQ(events[2]["actor"]["id"], "system");
  Reply overdue = api().Get("/v1/cases/" + id, kVerifier);
  EXPECT_EQ(overdue.doc["clock"]["light"], "red");
  EXPECT_EQ(overdue.doc["clock"]["verification"]["overdue"], true);
  EXPECT_EQ(overdue.doc["verification"]["overdue_recorded"], true);
  ExpectProblem(api().Act(id, kApplicant, "mark_verification_overdue"), 422, "unknown-action");
  // Late verification is still recorded.
  Reply passed = api().Act(id, kVerifier, "verify", {{"result", "pass"}});
  ASSERT_EQ(passed.status, 200) << passed;
  EXPECT_EQ(passed.doc["verification"]["status"], "passed");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // The status filter takes bundle statuses too.
  EXPECT_EQ(api().Get("/v1/cases?status=in_progress", kClerk).status, 200);
}

// ---- 收受分离: a window receives for the handling organ
// ------------------------------------------

TEST_F(ApiTest, ReceivingWindowTransfersToTheHandlingOrgan) {
  json body = NewFood();
  body["applicant"] = {
      {"id", "ent-remote"}, {"name", "异地企业有限公司"}, {"credit_code", "91330100MA2TB00027"}};
  Reply received = Create(kRemoteClerk, body);
  const std::string id = received.doc.value("id", "");
  EXPECT_EQ(received.doc["reception"]["received_by"], "nz-service-centre");
  EXPECT_EQ(received.doc["reception"]["agreement"], "nz-receives-for-dz-approval-bureau");
  EXPECT_EQ(received.doc["reception"]["transferred_at"], nullptr);
  EXPECT_EQ(ActionIds(received), std::set<std::string>{"transfer"});
  EXPECT_EQ(History(id)[0]["data"]["authority"]["basis"], "handling_agreement");
  // Nothing runs at the receiving window: a week later the case is not deemed accepted (art. 32
  // counts from the handling organ's receipt).
  Reply week = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 8}}}});
  ASSERT_EQ(week.status, 200) << week;
  EXPECT_EQ(week.doc["timer_events"], 0);
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["status"], "submitted");

  // The handling organ's clerk sees it but may not accept it before the transfer.
  Reply seen = api().Get("/v1/cases/" + id, kClerk);
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(ActionIds(seen), std::set<std::string>{});
  Reply early = api().Act(id, kClerk, "accept");
  ExpectProblem(early, 409, "not-available");
  EXPECT_TRUE(Contains(Detail(early), "transfer")) << early;
  // The receiving window only receives: it has no power to accept.
  Reply remote_accept = api().Act(id, kRemoteClerk, "accept");
  ExpectProblem(remote_accept, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(remote_accept), "city-amr")) << remote_accept;
  ExpectProblem(api().Act(id, kClerk, "transfer"), 403, "forbidden");
  EXPECT_EQ(History(id).size(), 1u);

  Reply transferred = api().Act(id, kRemoteClerk, "transfer");
  ASSERT_EQ(transferred.status, 200) << transferred;
  EXPECT_EQ(transferred.doc["status"], "submitted");
  EXPECT_TRUE(transferred.doc["reception"]["transferred_at"].is_string()) << transferred;
  EXPECT_EQ(ActionIds(transferred), std::set<std::string>{});
  EXPECT_NE(api().Act(id, kRemoteClerk, "transfer").status, 200);

  // Tracking shows where it was received and when it was passed on.
  Reply track = api().Get("/v1/track/" + received.doc.value("number", "") +
                          "?code=" + received.doc.value("query_code", ""));
  ASSERT_EQ(track.status, 200) << track;
  EXPECT_EQ(track.doc["received_by"], "××新区政务服务中心");
  EXPECT_EQ(track.doc["transferred_at"], transferred.doc["reception"]["transferred_at"]);
  EXPECT_FALSE(Contains(track.body, "remote-clerk-demo"));

  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["status"], "under_review");
  json events = History(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["action"], "transfer");
  EXPECT_EQ(events[1]["actor"]["id"], "remote-clerk-demo");
  EXPECT_EQ(events[2]["data"]["authority"]["delegation"], "food-licence-dz-2026");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);

  // The window receives only the items its agreement covers.
  json uncovered = NewPermit();
  uncovered["definition"] = "joint-drawing-review";
  uncovered["applicant"] = body["applicant"];
  ExpectProblem(api().Post("/v1/cases", kRemoteClerk, uncovered), 403, "forbidden");
}

// ---- 帮办代办: agents under a mandate
// --------------------------------------------------------------

TEST_F(ApiTest, AgentActsUnderAMandate) {
  json body = NewFood();
  body["applicant"] = {
      {"id", "ent-demo"}, {"name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00014"}};
  Reply without = api().Post("/v1/cases", kAgent, body);
  ExpectProblem(without, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(without), "mandate")) << without;
  ExpectProblem(api().Post("/v1/cases", kAgent, NewFood()), 422, "invalid");  // names no applicant

  // The applicant grants a mandate; the body is checked.
  const json mandate = {{"agent", "agent-demo"},
                        {"definitions", {"food-business-licence", "business-startup"}},
                        {"note", "代办食品经营许可"}};
  ExpectProblem(api().Post("/v1/mandates", kClerk, mandate), 403, "forbidden");
  ExpectProblem(api().Post("/v1/mandates", kAgent, mandate), 403, "forbidden");
  ExpectInvalidAt(api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}, {"scope", 1}}),
                  "/scope");
  ExpectInvalidAt(api().Post("/v1/mandates", kApplicant, json::object()), "/agent");
  ExpectProblem(api().Post("/v1/mandates", kApplicant, {{"agent", "clerk-demo"}}), 422, "invalid");
  ExpectProblem(
      api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}, {"definitions", {"nope"}}}),
      422, "invalid");
  ExpectProblem(api().Post("/v1/mandates", kApplicant,
                           {{"agent", "agent-demo"}, {"valid_until", "2026-03-01T00:00:00Z"}}),
                422, "invalid");
  Reply granted = api().Post("/v1/mandates", kApplicant, mandate);
  ASSERT_EQ(granted.status, 201) << granted;
  const std::string mandate_id = granted.doc.value("id", "");
  EXPECT_EQ(granted.Header("Location"), "/v1/mandates/" + mandate_id);
  EXPECT_EQ(granted.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(granted.doc["agent"]["id"], "agent-demo");
  EXPECT_EQ(granted.doc["revoked"], false);
  EXPECT_EQ(api().Get(granted.Header("Location"), kApplicant).doc, granted.doc);
  EXPECT_EQ(api().Get(granted.Header("Location"), kAgent).doc, granted.doc);
  ExpectProblem(api().Get(granted.Header("Location"), kOtherApplicant), 404, "not-found");
  EXPECT_EQ(api().Get("/v1/mandates", kAgent).doc["mandates"].size(), 1u);
  EXPECT_EQ(api().Get("/v1/mandates", kOtherApplicant).doc["mandates"].size(), 0u);
  EXPECT_EQ(api().Get("/v1/mandates", kAuditor).doc["mandates"].size(), 1u);

  // The agent applies for the applicant; the events show the agent and for whom it acted.
  Reply created = Create(kAgent, body);
  const std::string id = created.doc.value("id", "");
  EXPECT_EQ(created.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(ActionIds(created), (std::set<std::string>{"withdraw", "supply_materials"}));
  EXPECT_EQ(api().Get("/v1/cases/" + id, kApplicant).status, 200);
  std::set<std::string> agent_sees;
  Reply agent_list = api().Get("/v1/cases", kAgent);
  for (const json& c : agent_list.doc["cases"])
    agent_sees.insert(c.value("id", ""));
  EXPECT_EQ(agent_sees, std::set<std::string>{id});
  // Not for items outside the mandate.
  json permit = NewPermit();
  permit["applicant"] = body["applicant"];
  ExpectProblem(api().Post("/v1/cases", kAgent, permit), 403, "forbidden");
  // Nor staff work.
  ExpectProblem(api().Act(id, kAgent, "accept"), 403, "forbidden");
  Reply withdrawn = api().Act(id, kAgent, "withdraw");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn;
  EXPECT_EQ(withdrawn.doc["status"], "withdrawn");
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  for (const json& e : events) {
    SCOPED_TRACE(e["action"].dump());
    EXPECT_EQ(e["actor"]["id"], "agent-demo");
    EXPECT_EQ(e["actor"]["role"], "agent");
    EXPECT_EQ(e["data"]["on_behalf_of"], "ent-demo");
    EXPECT_EQ(e["data"]["mandate"], mandate_id);
  }

  const std::string second = CreateId(kAgent, body);
  // Only the applicant (or an admin) revokes; afterwards the agent is refused again.
  const std::string revoke = "/v1/mandates/" + mandate_id + "/revoke";
  ExpectProblem(api().PostRaw(revoke, kAgent, ""), 404, "not-found");
  ExpectProblem(api().PostRaw(revoke, kOtherApplicant, ""), 404, "not-found");
  Reply revoked = api().PostRaw(revoke, kApplicant, "");
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.doc["revoked"], true);
  ExpectProblem(api().PostRaw(revoke, kApplicant, ""), 409, "not-available");
  ExpectProblem(api().Post("/v1/cases", kAgent, body), 403, "forbidden");
  // The cases it handled stay visible to it, but it may no longer act on them.
  Reply still = api().Get("/v1/cases/" + second, kAgent);
  ASSERT_EQ(still.status, 200) << still;
  EXPECT_EQ(ActionIds(still), std::set<std::string>{});
  ExpectProblem(api().Act(second, kAgent, "withdraw"), 403, "forbidden");
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + second, kApplicant)),
            (std::set<std::string>{"withdraw", "supply_materials"}));
}

// ---- 一件事: bundle cases
// ---------------------------------------------------------------------------

TEST_F(ApiTest, BundleCombinedCorrectionSuppliedOnceAndTracked) {
  Reply created = Create(kApplicant, NewStartup({"articles"}));
  const std::string bundle = created.doc.value("id", "");
  EXPECT_EQ(created.Header("Location"), "/v1/cases/" + bundle);
  EXPECT_EQ(created.Header("ETag"), "\"1\"");
  EXPECT_EQ(created.doc["kind"], "bundle");
  EXPECT_EQ(created.doc["status"], "submitted");
  EXPECT_EQ(created.doc["title"], "开办企业一件事");
  EXPECT_EQ(created.doc["lead_organ"]["id"], "dz-approval-bureau");
  EXPECT_TRUE(created.doc["clock"]["promised_due"].is_string()) << created;
  EXPECT_FALSE(created.doc.contains("last_hash"));
  std::map<std::string, json> parts;
  for (const json& p : created.doc["parts"])
    parts[p.value("part", "")] = p;
  ASSERT_EQ(parts.size(), 5u) << created;
  EXPECT_EQ(parts["registration"]["status"], "submitted");
  EXPECT_EQ(parts["registration"]["organ"]["id"], "city-amr");
  EXPECT_EQ(parts["seal"]["status"], "waiting");
  EXPECT_EQ(parts["invoice"]["status"], "waiting");
  EXPECT_EQ(parts["social_insurance"]["status"], "waiting");
  EXPECT_EQ(parts["housing_fund"]["status"], "not_applicable");
  EXPECT_EQ(parts["seal"]["case_id"], "");
  const std::string registration = parts["registration"].value("case_id", "");
  ASSERT_FALSE(registration.empty());

  // The child is an ordinary case that knows its bundle. The bureau holds the accept power for
  // it and notifies what is missing.
  Reply child = api().Get("/v1/cases/" + registration, kClerk);
  ASSERT_EQ(child.status, 200) << child;
  EXPECT_EQ(child.doc["bundle"]["case"], bundle);
  EXPECT_EQ(child.doc["bundle"]["part"], "registration");
  EXPECT_EQ(child.doc["number"], created.doc.value("number", "") + "-1");
  ASSERT_EQ(api()
                .Act(registration, kClerk, "request_correction",
                     {{"missing", {"articles"}}, {"reason", "缺公司章程"}})
                .status,
            200);

  // The bundle shows one combined notice, in bundle material ids, and the applicant answers once.
  Reply pending = api().Get("/v1/cases/" + bundle, kApplicant);
  ASSERT_EQ(pending.status, 200) << pending;
  EXPECT_EQ(pending.doc["status"], "correction_pending");
  EXPECT_EQ(pending.doc["correction_notice"]["materials"], json::array({"articles"}));
  EXPECT_EQ(ActionIds(pending), (std::set<std::string>{"supply_correction", "withdraw"}));
  for (const json& a : pending.doc["available_actions"]) {
    EXPECT_EQ(a["role"], "applicant") << a;
  }
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + bundle, kClerk)), std::set<std::string>{});

  // Tracking the bundle's number shows the bundle and every part, and the notice.
  const std::string track = "/v1/track/" + created.doc.value("number", "") +
                            "?code=" + created.doc.value("query_code", "");
  Reply tracked = api().Get(track);
  ASSERT_EQ(tracked.status, 200) << tracked;
  EXPECT_EQ(tracked.doc["bundle"], "开办企业一件事");
  EXPECT_EQ(tracked.doc["status"], "correction_pending");
  ASSERT_EQ(tracked.doc["missing"].size(), 1u) << tracked;
  EXPECT_EQ(tracked.doc["missing"][0]["id"], "articles");
  ASSERT_EQ(tracked.doc["parts"].size(), 5u);
  EXPECT_EQ(tracked.doc["parts"][0]["status"], "correction_pending");
  EXPECT_EQ(tracked.doc["parts"][0]["organ"], kAmrName);
  EXPECT_EQ(tracked.doc["parts"][0]["number"], created.doc.value("number", "") + "-1");
  EXPECT_EQ(tracked.doc["parts"][1]["status"], "waiting");
  for (const char* secret : {"clerk-demo", "ent-demo", "query_code", "91330100MA2TB00014"}) {
    EXPECT_FALSE(Contains(tracked.body, secret)) << secret;
  }
  ExpectProblem(api().Get("/v1/track/" + created.doc.value("number", "") + "?code=WRONG234"), 404,
                "not-found");
  // A part's own number and code track the part.
  Reply part_track = api().Get("/v1/track/" + child.doc.value("number", "") +
                               "?code=" + child.doc.value("query_code", ""));
  ASSERT_EQ(part_track.status, 200) << part_track;
  EXPECT_EQ(part_track.doc["bundle"], created.doc["number"]);

  // Only the bundle's actions; the applicant supplies the notice once, on the bundle.
  ExpectProblem(api().Act(bundle, kApplicant, "accept"), 422, "unknown-action");
  ExpectProblem(
      api().Act(bundle, kOtherApplicant, "supply_correction", {{"materials", {"articles"}}}), 404,
      "not-found");
  ExpectProblem(api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"nope"}}}), 422,
                "invalid");
  Reply supplied =
      api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"articles"}}});
  ASSERT_EQ(supplied.status, 200) << supplied;
  EXPECT_EQ(supplied.doc["status"], "submitted");
  EXPECT_EQ(supplied.doc["correction_notice"]["materials"], json::array());
  Reply resubmitted = api().Get("/v1/cases/" + registration, kClerk);
  EXPECT_EQ(resubmitted.doc["status"], "submitted");
  bool has_articles = false;
  for (const json& m : resubmitted.doc["materials"])
    has_articles = has_articles || m == "articles";
  EXPECT_TRUE(has_articles) << resubmitted.doc["materials"];
  ExpectProblem(api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"articles"}}}),
                409, "not-available");

  // The bureau accepts; the city bureau reviews and decides (two people). The parts that waited
  // for registration are due now, but need the credit code registration has just given: they
  // await the applicant's input, which the applicant supplies on the bundle.
  ASSERT_EQ(api().Act(registration, kClerk, "accept").status, 200);
  ASSERT_EQ(api().Act(registration, kAmr, "pass").status, 200);
  Reply approved = api().Act(registration, kAmrApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  Reply awaiting = api().Get("/v1/cases/" + bundle, kApplicant);
  EXPECT_EQ(awaiting.doc["status"], "correction_pending");
  EXPECT_EQ(ActionIds(awaiting), (std::set<std::string>{"supply_form", "withdraw"}));
  for (const json& p : awaiting.doc["parts"]) {
    if (p["part"] == "registration" || p["part"] == "housing_fund") continue;
    SCOPED_TRACE(p.dump());
    EXPECT_EQ(p["status"], "awaiting_input");
    EXPECT_TRUE(Contains(p.value("note", ""), "credit_code"));
  }
  ExpectProblem(api().Act(bundle, kApplicant, "supply_form", {{"form", {{"colour", "red"}}}}), 422,
                "invalid");
  Reply supplied_form = api().Act(bundle, kApplicant, "supply_form",
                                  {{"form", {{"credit_code", "91330100MA2TB0003X"}}}});
  ASSERT_EQ(supplied_form.status, 200) << supplied_form;
  Reply running = api().Get("/v1/cases/" + bundle, kClerk);
  EXPECT_EQ(running.doc["status"], "in_progress");
  parts.clear();
  for (const json& p : running.doc["parts"])
    parts[p.value("part", "")] = p;
  EXPECT_EQ(parts["registration"]["status"], "approved");
  EXPECT_EQ(parts["registration"]["decision"], "approve");
  for (const char* released : {"seal", "invoice", "social_insurance"}) {
    SCOPED_TRACE(released);
    EXPECT_EQ(parts[released]["status"], "submitted");
    EXPECT_FALSE(parts[released].value("case_id", "").empty());
  }
  // A part's result is delivered with the bundle, never alone.
  Reply alone = api().Act(registration, kClerk, "deliver");
  ExpectProblem(alone, 409, "not-available");
  EXPECT_TRUE(Contains(Detail(alone), "bundle")) << alone;
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + registration, kClerk)).count("deliver"), 0u);
  ExpectProblem(api().Act(bundle, kClerk, "deliver"), 409, "not-available");  // not ready yet

  // Every part appears in tracking; the bundle's history records every change and verifies.
  Reply later = api().Get(track);
  EXPECT_EQ(later.doc["parts"][0]["status"], "approved");
  EXPECT_EQ(later.doc["parts"][0]["decision"], "approve");
  EXPECT_EQ(later.doc["parts"][1]["status"], "submitted");
  json events = History(bundle);
  EXPECT_EQ(events[0]["action"], "submit");
  bool part_changed = false;
  bool supply = false;
  for (const json& e : events) {
    part_changed = part_changed || e["action"] == "part_changed";
    supply = supply || e["action"] == "supply_correction";
  }
  EXPECT_TRUE(part_changed && supply);
  EXPECT_EQ(api().Get("/v1/cases/" + bundle + "/verify", kAuditor).doc["ok"], true);
  EXPECT_EQ(api().Get("/v1/cases/" + registration + "/verify", kAuditor).doc["ok"], true);
  // The bundle is listed with the applicant's cases.
  bool listed = false;
  Reply own = api().Get("/v1/cases", kApplicant);
  for (const json& c : own.doc["cases"])
    listed = listed || (c["id"] == bundle && c["kind"] == "bundle");
  EXPECT_TRUE(listed);
}

TEST_F(ApiTest, RefusedBundlePartBlocksItsDependents) {
  Reply created = Create(kApplicant, NewStartup());
  const std::string bundle = created.doc.value("id", "");
  const std::string registration = created.doc["parts"][0].value("case_id", "");
  Reply refused =
      api().Act(registration, kClerk, "refuse", {{"reason", "企业名称与已登记企业重名"}});
  ASSERT_EQ(refused.status, 200) << refused;
  EXPECT_EQ(refused.doc["status"], "not_accepted");

  Reply ready = api().Get("/v1/cases/" + bundle, kClerk);
  ASSERT_EQ(ready.status, 200) << ready;
  EXPECT_EQ(ready.doc["status"], "ready");
  EXPECT_EQ(ready.doc["outcome"], "none");
  std::map<std::string, std::string> status;
  for (const json& p : ready.doc["parts"])
    status[p.value("part", "")] = p.value("status", "");
  EXPECT_EQ(status, (std::map<std::string, std::string>{{"registration", "not_accepted"},
                                                        {"seal", "blocked"},
                                                        {"invoice", "blocked"},
                                                        {"social_insurance", "blocked"},
                                                        {"housing_fund", "not_applicable"}}));
  EXPECT_EQ(ActionIds(ready), std::set<std::string>{"deliver"});
  Reply tracked = api().Get("/v1/track/" + created.doc.value("number", "") +
                            "?code=" + created.doc.value("query_code", ""));
  EXPECT_EQ(tracked.doc["parts"][1]["status"], "blocked");

  // The lead organ's clerk delivers the results together; the applicant cannot.
  ExpectProblem(api().Act(bundle, kApplicant, "deliver"), 403, "forbidden");
  ExpectProblem(api().Act(bundle, kApplicant, "withdraw"), 409, "not-available");
  Reply delivered = api().Act(bundle, kClerk, "deliver");
  ASSERT_EQ(delivered.status, 200) << delivered;
  EXPECT_EQ(delivered.doc["status"], "delivered");
  EXPECT_TRUE(delivered.doc["delivered_at"].is_string());
  EXPECT_EQ(api().Get("/v1/cases/" + bundle + "/verify", kAuditor).doc["ok"], true);
}

TEST_F(ApiTest, WithdrawingABundleWithdrawsItsOpenParts) {
  Reply created = Create(kApplicant, NewStartup());
  const std::string bundle = created.doc.value("id", "");
  const std::string registration = created.doc["parts"][0].value("case_id", "");
  ExpectProblem(api().Act(bundle, kClerk, "withdraw"), 403, "forbidden");
  Reply withdrawn =
      api().Act(bundle, kApplicant, "withdraw", json::object(), {{"If-Match", "\"1\""}});
  ASSERT_EQ(withdrawn.status, 200) << withdrawn;
  EXPECT_EQ(withdrawn.doc["status"], "withdrawn");
  EXPECT_EQ(api().Get("/v1/cases/" + registration, kApplicant).doc["status"], "withdrawn");
  for (const json& p : withdrawn.doc["parts"]) {
    if (p["applies"] == true) {
      EXPECT_EQ(p["status"], "withdrawn") << p;
    }
  }
  ExpectProblem(api().Act(bundle, kApplicant, "withdraw", json::object(), {{"If-Match", "\"1\""}}),
                412, "stale-version");
}

// ---- The registers' ledger
// ------------------------------------------------------------------------

TEST_F(ApiTest, LedgerIsHashChainedAndReadByAuditors) {
  ASSERT_EQ(api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}}).status, 201);
  ASSERT_EQ(api()
                .Post("/v1/delegations/seal-filing-dz-2026/revoke", kAdmin,
                      {{"reason", "改由公安分局窗口受理"}})
                .status,
            200);
  for (const char* token : {kApplicant, kClerk, kAgent, kVerifier}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Get("/v1/ledger", token), 403, "forbidden");
  }
  Reply ledger = api().Get("/v1/ledger", kAuditor);
  ASSERT_EQ(ledger.status, 200) << ledger;
  const json& entries = ledger.doc["entries"];
  ASSERT_EQ(entries.size(), 2u) << ledger;
  EXPECT_EQ(entries[0]["kind"], "mandate.granted");
  EXPECT_EQ(entries[0]["actor"]["id"], "ent-demo");
  EXPECT_EQ(entries[1]["kind"], "delegation.revoked");
  EXPECT_EQ(entries[1]["subject"], "seal-filing-dz-2026");
  EXPECT_EQ(entries[1]["data"]["reason"], "改由公安分局窗口受理");
  std::string previous(64, '0');
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i]["seq"], i + 1);
    EXPECT_EQ(entries[i]["prev_hash"], previous);
    previous = entries[i].value("hash", "");
    EXPECT_TRUE(std::regex_match(previous, std::regex("[0-9a-f]{64}"))) << previous;
  }
  EXPECT_EQ(ledger.doc["verify"], json({{"ok", true}, {"entries", 2}}));
  EXPECT_EQ(api().Get("/v1/ledger", kAdmin).doc, ledger.doc);
}

// ---- Graceful shutdown of the real server
// ---------------------------------------------------------

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

Child SpawnServe(const std::string& db_path, const std::string& stderr_path) {
  std::vector<std::string> args = {
      kBinary,         "serve",
      "--listen",      "127.0.0.1:0",
      "--db",          db_path,
      "--definitions", kSourceDir + "/definitions",
      "--principals",  kSourceDir + "/definitions/principals/demo.json",
      "--clock",       std::string("simulated:") + kStart,
      "--threads",     "64"};
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  return Child{pid, out[0]};
}

// The first line the child writes on stdout, within `timeout`.
std::string ReadFirstLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 50);
    if (ready <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

// Waits for the child to exit within `timeout`; returns its wait status, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

TEST(ApiShutdownTest, SigtermUnderLoadLosesNoAcknowledgedWrite) {
  const std::string db_path = TempPath(".db");
  const std::string stderr_path = TempPath(".stderr");
  Child child = SpawnServe(db_path, stderr_path);
  ASSERT_GT(child.pid, 0);
  std::string first = ReadFirstLine(child.stdout_fd, std::chrono::seconds(20));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(first, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")))
      << "first line: '" << first << "'\n"
      << ReadFile(stderr_path);
  const int port = std::stoi(m[1]);
  ASSERT_GT(port, 0);
  {
    Api probe(port);
    ASSERT_EQ(probe.Get("/healthz").status, 200);
  }

  // What the server acknowledged with a 2xx: a case (its submit event) or an action (event seq).
  struct Ack {
    std::string case_id;
    int64_t seq;
    std::string action;
  };
  std::mutex acks_mutex;
  std::vector<Ack> acks;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto record = [&](const std::string& id, int64_t seq, const std::string& action) {
    std::lock_guard<std::mutex> lock(acks_mutex);
    acks.push_back({id, seq, action});
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(t % 2 == 0);  // half reuse connections, half open one per request
      client.set_connection_timeout(2, 0);
      client.set_read_timeout(10, 0);
      auto post = [&](const std::string& path, const std::string& token, const json& body,
                      const std::string& key) {
        httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Idempotency-Key", key}};
        return ToReply(client.Post(path.c_str(), headers, body.dump(), "application/json"));
      };
      for (int i = 0; !stop.load(); ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        Reply created = post("/v1/cases", kApplicant, NewPermit(), key + "-create");
        if (created.status == 0) {
          ++failures;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        if (created.status != 201) continue;
        std::string id = created.doc.value("id", "");
        record(id, 1, "submit");
        const std::pair<const char*, const char*> steps[] = {
            {kClerk, "accept"}, {kReviewer, "pass"}, {kApprover, "approve"}};
        for (const auto& [token, action] : steps) {
          Reply acted =
              post("/v1/cases/" + id + "/actions", token, {{"action", action}}, key + "-" + action);
          if (acted.status != 200) break;
          record(id, acted.doc.value("version", int64_t{0}), action);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  const auto signalled = std::chrono::steady_clock::now();
  std::optional<int> status = WaitExit(child.pid, std::chrono::seconds(15));
  const auto took = std::chrono::steady_clock::now() - signalled;
  if (!status) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  // New connections are refused once it has stopped.
  const bool refused = ConnectionRefused(port);
  stop = true;
  for (auto& t : clients)
    t.join();
  close(child.stdout_fd);
  const std::string log = ReadFile(stderr_path);
  ASSERT_TRUE(status.has_value()) << "tongban serve did not exit within 15 s of SIGTERM\n" << log;
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status) << "\n" << log;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << log;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 8000) << log;
  EXPECT_NE(log.find("finishing in-flight requests"), std::string::npos) << log;
  EXPECT_TRUE(refused);
  {
    httplib::Client after("127.0.0.1", port);
    after.set_connection_timeout(1, 0);
    auto result = after.Get("/healthz");
    EXPECT_FALSE(result);
    EXPECT_EQ(result.error(), httplib::Error::Connection);
  }
  ASSERT_GT(acks.size(), 10u) << "the load did not get going";
  RecordProperty("acknowledged", static_cast<int>(acks.size()));
  RecordProperty(
      "shutdown_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  // Every acknowledged case and action is in the database, and the database verifies.
  SqliteStoreOptions options;
  options.path = db_path;
  options.read_only = true;
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  DefinitionRegistry registry(store->get());
  ASSERT_TRUE(registry.LoadFromStore().ok());
  SimulatedClock clock(At(kStart));
  CaseService service(store->get(), &registry, &clock);
  std::map<std::string, std::vector<Event>> histories;
  for (const Ack& ack : acks) {
    SCOPED_TRACE(ack.case_id + " " + ack.action);
    auto it = histories.find(ack.case_id);
    if (it == histories.end()) {
      auto events = service.History(ack.case_id);
      ASSERT_TRUE(events.ok()) << events.status().ToString();
      it = histories.emplace(ack.case_id, *events).first;
    }
    ASSERT_GE(ack.seq, 1);
    ASSERT_LE(static_cast<size_t>(ack.seq), it->second.size());
    EXPECT_EQ(it->second[ack.seq - 1].action, ack.action);
  }
  VerifyReport report = service.VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
  EXPECT_GE(report.cases, static_cast<int64_t>(histories.size()));
  store->reset();
  // The command-line verifier agrees.
  std::string verify = kBinary + " verify --db '" + db_path + "' 2>&1";
  FILE* pipe = popen(verify.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  int verify_status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(verify_status) && WEXITSTATUS(verify_status) == 0) << output;
  EXPECT_NE(output.find("OK: "), std::string::npos) << output;
  RemoveDatabase(db_path);
  std::remove(stderr_path.c_str());
}

// A SIGTERM that arrives as the server starts is not lost: it still exits, cleanly.
TEST(ApiShutdownTest, SigtermRightAfterStartExitsCleanly) {
  const std::string db_path = TempPath(".db");
  const std::string stderr_path = TempPath(".stderr");
  Child child = SpawnServe(db_path, stderr_path);
  ASSERT_GT(child.pid, 0);
  std::string first = ReadFirstLine(child.stdout_fd, std::chrono::seconds(20));
  ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first << ReadFile(stderr_path);
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  std::optional<int> status = WaitExit(child.pid, std::chrono::seconds(10));
  if (!status) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  close(child.stdout_fd);
  ASSERT_TRUE(status.has_value()) << ReadFile(stderr_path);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0) << ReadFile(stderr_path);
  RemoveDatabase(db_path);
  std::remove(stderr_path.c_str());
}

}  // namespace
}  // namespace tongban::api
