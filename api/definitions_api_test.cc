// API tests of /v1/definitions (definitions_routes.cc): list, get, graph and deploy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

// ---- Definitions --------------------------------------------------------------------------------

TEST_F(ApiTest, DefinitionsListGetAndGraph) {
  Reply list = api().Get("/v1/definitions", kApplicant);
  ASSERT_EQ(list.status, 200) << list;
  std::set<std::string> items;
  std::set<std::string> bundles;
  for (const json& d : list.doc["definitions"]) {
    (d.value("kind", "") == "bundle" ? bundles : items).insert(d.value("id", ""));
    if (d["id"] == "construction-permit") {
      EXPECT_EQ(d["kind"], "item");
      EXPECT_EQ(d["latest_version"], 3);
      EXPECT_EQ(d["versions"], json::array({3}));
      EXPECT_EQ(d["organ"]["id"], "dz-approval-bureau");
      EXPECT_EQ(d["case_type"], "promised");
      EXPECT_EQ(d["modes"], json::array({"standard", "commitment"}));
    }
    if (d["id"] == "food-business-licence") {
      // Since version 2 the city bureau's item; the zone bureau holds it by delegation.
      EXPECT_EQ(d["latest_version"], 4);
      EXPECT_EQ(d["organ"]["id"], "city-amr");
    }
    if (d["id"] == "business-startup") {
      EXPECT_EQ(d["latest_version"], 4);
      EXPECT_EQ(d["versions"], json::array({4}));
      EXPECT_EQ(d["organ"]["id"], "dz-approval-bureau");
      EXPECT_EQ(d["promised_days"], 2);
      EXPECT_FALSE(d.contains("case_type")) << d;
      ASSERT_EQ(d["parts"].size(), 7u) << d;
      EXPECT_EQ(d["parts"][0]["id"], "registration");
      EXPECT_EQ(d["parts"][0]["item"], "establishment-registration");
      EXPECT_EQ(d["parts"][0]["after"], json::array());
      EXPECT_EQ(d["parts"][0]["issues"], json::array({"business_licence"}));
      EXPECT_EQ(d["parts"][3]["issues"], json::array());
      EXPECT_EQ(d["parts"][3]["after"], json::array({"registration"}));
      EXPECT_EQ(d["parts"][3]["conditional"], true);
    }
  }
  // The shipped items and bundles (definitions/README.md lists them).
  EXPECT_EQ(
      items,
      (std::set<std::string>{
          "bank-account-booking", "construction-permit", "deregistration-registration",
          "drawing-review-commitment", "establishment-registration", "food-business-licence",
          "housing-fund-deregistration", "housing-fund-registration", "invoice-tax-device",
          "joint-drawing-review", "low-risk-joint-acceptance", "low-risk-project-permit",
          "medical-insurance-registration", "seal-engraving-filing",
          "social-insurance-deregistration", "social-insurance-registration", "tax-clearance"}));
  EXPECT_EQ(items.size(), 17u);
  EXPECT_EQ(bundles, (std::set<std::string>{"business-startup", "enterprise-deregistration",
                                            "low-risk-project"}));

  Reply item = api().Get("/v1/definitions/construction-permit", kClerk);
  ASSERT_EQ(item.status, 200) << item;
  EXPECT_EQ(item.doc,
            json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json")));
  EXPECT_TRUE(std::regex_match(item.Header("ETag"), std::regex("\"[0-9a-f]{64}\"")))
      << item.Header("ETag");
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit?version=3", kClerk).doc, item.doc);
  ExpectProblem(api().Get("/v1/definitions/construction-permit?version=4", kClerk), 404,
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
      api().Get("/v1/definitions/construction-permit/graph?format=dot&version=3", kApplicant);
  ASSERT_EQ(dot.status, 200) << dot;
  EXPECT_EQ(dot.ContentType().rfind("text/vnd.graphviz", 0), 0u) << dot.ContentType();
  EXPECT_NE(dot.body.find("digraph"), std::string::npos);
  ExpectProblem(api().Get("/v1/definitions/construction-permit/graph?format=png", kApplicant), 422,
                "invalid");
  EXPECT_NE(dot.body.find("rankdir=LR;"), std::string::npos);  // the DOT text's default
  Reply vertical =
      api().Get("/v1/definitions/construction-permit/graph?format=dot&rankdir=TB", kApplicant);
  EXPECT_NE(vertical.body.find("rankdir=TB;"), std::string::npos) << vertical;
  for (const char* bad : {"format=dot&rankdir=BT", "rankdir=TB", "format=svg&rankdir=tb"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(
        api().Get(std::string("/v1/definitions/construction-permit/graph?") + bad, kApplicant), 422,
        "invalid");
  }
  ExpectProblem(api().Get("/v1/definitions/no-such-item/graph", kApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/definitions/construction-permit/graph?version=7", kApplicant), 404,
                "not-found");

  // A bundle is served as deployed, and drawn as the flowchart of its parts.
  Reply bundle = api().Get("/v1/definitions/business-startup", kClerk);
  ASSERT_EQ(bundle.status, 200) << bundle;
  EXPECT_EQ(bundle.doc,
            json::parse(ReadFile(kSourceDir + "/definitions/bundles/business-startup.json")));
  EXPECT_TRUE(std::regex_match(bundle.Header("ETag"), std::regex("\"[0-9a-f]{64}\"")));
  EXPECT_EQ(api().Get("/v1/definitions/business-startup?version=4", kClerk).doc, bundle.doc);
  ExpectProblem(api().Get("/v1/definitions/business-startup?version=3", kClerk), 404, "not-found");
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

// Whether `xml` is well-formed as far as its elements go: every start tag closed in order, one
// root. Declarations, comments and processing instructions are skipped; enough for Graphviz's SVG.
bool WellFormedElements(const std::string& xml, std::string* why) {
  std::vector<std::string> open;
  int roots = 0;
  for (size_t at = xml.find('<'); at != std::string::npos; at = xml.find('<', at + 1)) {
    if (xml.compare(at, 4, "<!--") == 0) {
      at = xml.find("-->", at);
      if (at == std::string::npos) return *why = "unclosed comment", false;
      continue;
    }
    size_t end = xml.find('>', at);
    if (end == std::string::npos) return *why = "unclosed tag", false;
    if (xml[at + 1] == '?' || xml[at + 1] == '!') {
      at = end;
      continue;
    }
    std::string tag = xml.substr(at + 1, end - at - 1);
    bool closing = tag[0] == '/';
    bool empty = tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \t\n/"));
    if (closing) {
      if (open.empty() || open.back() != name) return *why = "</" + name + "> out of order", false;
      open.pop_back();
    } else {
      if (open.empty()) ++roots;
      if (!empty) open.push_back(name);
    }
    at = end;
  }
  if (!open.empty()) return *why = "<" + open.back() + "> not closed", false;
  if (roots != 1) return *why = std::to_string(roots) + " root elements", false;
  return true;
}

// The graph as SVG, drawn by Graphviz on the server: well-formed, top to bottom by default, and
// in Chinese — the statuses, the frame's and the item's action titles as text.
TEST_F(ApiTest, GraphAsSvgInChinese) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "no Graphviz dot";
  Reply svg = api().Get("/v1/definitions/food-business-licence/graph?format=svg", kClerk);
  ASSERT_EQ(svg.status, 200) << svg;
  EXPECT_EQ(svg.ContentType(), "image/svg+xml");
  std::string why;
  EXPECT_TRUE(WellFormedElements(svg.body, &why)) << why;
  EXPECT_NE(svg.body.find("<svg"), std::string::npos);
  for (const char* text : {">准予许可</text>", ">一次性告知补正</text>", ">不予受理</text>",
                           ">需要核实申请材料实质内容，安排现场核查</text>",
                           ">受理（告知承诺，当场决定）</text>", ">告知承诺核查</text>"}) {
    EXPECT_NE(svg.body.find(text), std::string::npos) << text;
  }
  EXPECT_EQ(svg.body.find(">order_inspection</text>"), std::string::npos);  // titles, not ids
  // TB by default, LR on request: the same picture, laid out otherwise.
  Reply wide =
      api().Get("/v1/definitions/food-business-licence/graph?format=svg&rankdir=LR", kClerk);
  ASSERT_EQ(wide.status, 200) << wide;
  EXPECT_NE(wide.body, svg.body);
  EXPECT_TRUE(WellFormedElements(wide.body, &why)) << why;
  // Served again from the cache, unchanged; a bundle too.
  EXPECT_EQ(api().Get("/v1/definitions/food-business-licence/graph?format=svg", kClerk).body,
            svg.body);
  Reply bundle = api().Get("/v1/definitions/business-startup/graph?format=svg", kClerk);
  ASSERT_EQ(bundle.status, 200) << bundle;
  EXPECT_TRUE(WellFormedElements(bundle.body, &why)) << why;
  EXPECT_NE(bundle.body.find("开办企业一件事"), std::string::npos);
}

TEST_F(ApiTest, DeployDefinitions) {
  json permit = json::parse(ReadFile(kSourceDir + "/definitions/items/construction-permit.json"));
  json v2 = permit;
  v2["version"] = 4;
  v2["time_limits"]["promised_days"] = 2;

  // Only admins deploy.
  for (const char* token : {kApplicant, kClerk, kReviewer, kApprover, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/definitions", token, v2), 403, "forbidden");
  }

  Reply created = api().Post("/v1/definitions", kAdmin, v2);
  ASSERT_EQ(created.status, 201) << created;
  EXPECT_EQ(created.doc["deployed"], json::array({"item/construction-permit@4"}));
  EXPECT_EQ(created.doc["unchanged"], json::array());
  EXPECT_TRUE(created.doc["warnings"].is_array());

  // The same content again changes nothing.
  Reply again = api().Post("/v1/definitions", kAdmin, v2);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.doc["deployed"], json::array());
  EXPECT_EQ(again.doc["unchanged"], json::array({"item/construction-permit@4"}));
  // ... and neither does version 1 as shipped.
  EXPECT_EQ(api().Post("/v1/definitions", kAdmin, permit).status, 200);

  // A deployed version is immutable.
  json changed = v2;
  changed["title"] = "建筑工程施工许可（改）";
  ExpectProblem(api().Post("/v1/definitions", kAdmin, changed), 409, "conflict");

  // Invalid definitions: 422 with the validator's errors, each with a pointer.
  json invalid = v2;
  invalid["version"] = 5;
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
  dangling["version"] = 5;
  dangling["steps"][0]["actions"]["pass"]["to"] = "nowhere";
  ExpectProblem(api().Post("/v1/definitions", kAdmin, dangling), 422, "invalid-definition");

  // Principals are never deployed over the API.
  json principals = json::parse(ReadFile(kSourceDir + "/definitions/principals/demo.json"));
  ExpectInvalidAt(api().Post("/v1/definitions", kAdmin, principals), "/kind", "invalid-definition");
  // Malformed JSON.
  ExpectProblem(api().PostRaw("/v1/definitions", kAdmin, "{\"kind\": \"item\""), 400,
                "malformed-json");

  // Version 4 is now the latest; version 3 is still there.
  Reply list = api().Get("/v1/definitions", kApplicant);
  for (const json& d : list.doc["definitions"]) {
    if (d["id"] != "construction-permit") continue;
    EXPECT_EQ(d["latest_version"], 4);
    EXPECT_EQ(d["versions"], json::array({3, 4}));
  }
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit", kApplicant).doc["version"], 4);
  EXPECT_EQ(api().Get("/v1/definitions/construction-permit?version=3", kApplicant).doc["version"],
            3);
  // New cases start on version 4 unless they ask for version 3.
  EXPECT_EQ(Create().doc["definition"]["version"], 4);
  json on_v1 = NewPermit();
  on_v1["version"] = 3;
  EXPECT_EQ(Create(kApplicant, on_v1).doc["definition"]["version"], 3);
}

// POST /v1/definitions/validate: the deploy's diagnostics, for any staff, and nothing deployed.
TEST_F(ApiTest, ValidateWithoutDeploying) {
  const std::string text = ReadFile(kSourceDir + "/definitions/items/construction-permit.json");
  // The shipped version validates, and is deployed already with the same content.
  for (const char* token : {kClerk, kReviewer, kAuditor, kAdmin}) {
    SCOPED_TRACE(token);
    Reply ok = api().PostRaw("/v1/definitions/validate", token, text);
    ASSERT_EQ(ok.status, 200) << ok;
    EXPECT_EQ(ok.doc["ok"], true);
    EXPECT_EQ(ok.doc["kind"], "item");
    EXPECT_EQ(ok.doc["id"], "construction-permit");
    EXPECT_EQ(ok.doc["version"], 3);
    EXPECT_EQ(ok.doc["already_deployed"], true);
    EXPECT_TRUE(ok.doc["warnings"].is_array());
  }
  ExpectProblem(api().PostRaw("/v1/definitions/validate", kApplicant, text), 403, "forbidden");
  ExpectProblem(api().PostRaw("/v1/definitions/validate", "", text), 401, "unauthenticated");

  // Version 2 would deploy, but is not deployed by validating it.
  json v2 = json::parse(text);
  v2["version"] = 4;
  Reply fresh = api().PostRaw("/v1/definitions/validate", kClerk, v2.dump(2));
  ASSERT_EQ(fresh.status, 200) << fresh;
  EXPECT_EQ(fresh.doc["already_deployed"], false);
  ExpectProblem(api().Get("/v1/definitions/construction-permit?version=4", kClerk), 404,
                "not-found");
  // Changed content under a deployed version: the deploy's conflict.
  json changed = json::parse(text);
  changed["title"] = "建筑工程施工许可（改）";
  ExpectProblem(api().PostRaw("/v1/definitions/validate", kClerk, changed.dump(2)), 409,
                "conflict");

  // An error on a known line: statutory_days as text, on the shipped file's own line.
  const std::string key = "\"statutory_days\": 7";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  std::string broken = text;
  broken.replace(at, key.size(), "\"statutory_days\": \"seven\"");
  Reply r = api().PostRaw("/v1/definitions/validate", kClerk, broken);
  ExpectProblem(r, 422, "invalid-definition");
  bool found = false;
  for (const json& e : r.doc["errors"]) {
    if (e["pointer"] != "/time_limits/statutory_days") continue;
    found = true;
    EXPECT_FALSE(e.value("code", "").empty()) << e;
    EXPECT_FALSE(e.value("message", "").empty()) << e;
    EXPECT_EQ(e.value("line", 0), line) << e;
    EXPECT_GT(e.value("column", 0), 0) << e;
  }
  EXPECT_TRUE(found) << r;

  // Malformed JSON is a diagnostic too, at its line and column.
  Reply malformed = api().PostRaw("/v1/definitions/validate", kClerk,
                                  "{\n  \"kind\": \"item\",\n  \"id\": \"x\"\n  \"version\": 1\n}");
  ExpectProblem(malformed, 422, "invalid-definition");
  ASSERT_EQ(malformed.doc["errors"].size(), 1u) << malformed;
  EXPECT_EQ(malformed.doc["errors"][0]["code"], "json-syntax");
  EXPECT_EQ(malformed.doc["errors"][0]["line"], 4) << malformed;
  EXPECT_EQ(malformed.doc["errors"][0]["column"], 3) << malformed;
  // Principals are refused as by deploy.
  ExpectInvalidAt(api().PostRaw("/v1/definitions/validate", kClerk,
                                ReadFile(kSourceDir + "/definitions/principals/demo.json")),
                  "/kind", "invalid-definition");
}

}  // namespace
}  // namespace tongban::api::api_test
