// Tests of DefinitionRegistry over a real SQLite file and the shipped definitions: deploying the
// kinds that refer to deployed items (bundles, handling agreements), refusing what does not
// compile against what is deployed, and keeping deployed bundles loadable when items move on.
#include "engine/definition_registry.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/clock.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;

Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// 开办企业 over two shipped items: registration, then the seal when the applicant wants one.
json StartupBundle(int version = 1) {
  json j = json::parse(R"({
    "kind": "bundle", "id": "startup", "title": "开办企业一件事",
    "lead_organ": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
    "time_limits": {"calendar": "cn-mainland", "promised_days": 1},
    "form": [
      {"id": "enterprise_name", "label": "企业名称", "type": "string", "required": true},
      {"id": "enterprise_type", "label": "企业类型", "type": "enum", "required": true,
       "values": ["有限责任公司", "股份有限公司"]},
      {"id": "residence", "label": "住所", "type": "string", "required": true},
      {"id": "legal_representative", "label": "法定代表人", "type": "string", "required": true},
      {"id": "business_scope", "label": "经营范围", "type": "string", "required": true},
      {"id": "requires_pre_approval", "label": "是否含前置审批", "type": "boolean", "required": true},
      {"id": "needs_seal", "label": "是否刻制公章", "type": "boolean", "required": true},
      {"id": "credit_code", "label": "统一社会信用代码", "type": "string", "required": true},
      {"id": "seal_type", "label": "印章类型", "type": "enum", "required": true,
       "values": ["法定名称章", "财务专用章"]},
      {"id": "seal_count", "label": "数量", "type": "number", "required": true},
      {"id": "engraver_name", "label": "刻制单位", "type": "string", "required": true}
    ],
    "materials": [
      {"id": "application_form", "name": "申请书", "necessity": "required"},
      {"id": "articles", "name": "章程", "necessity": "required"},
      {"id": "investor_documents", "name": "投资人证明", "necessity": "required"},
      {"id": "officer_documents", "name": "任职文件和身份证明", "necessity": "required"},
      {"id": "residence_document", "name": "住所文件", "necessity": "required"},
      {"id": "business_licence", "name": "营业执照", "necessity": "required"},
      {"id": "seal_impression", "name": "印模", "necessity": "required"}
    ],
    "parts": [
      {"id": "registration", "title": "设立登记", "item": "establishment-registration"},
      {"id": "seal", "title": "公章刻制", "item": "seal-engraving-filing", "after": ["registration"],
       "when": {"==": [{"var": "needs_seal"}, true]},
       "materials": {"filing_form": "application_form", "representative_id": "officer_documents"}}
    ]
  })");
  j["version"] = version;
  return j;
}

// A window in another city receives for the zone bureau: the food licence it implements, and the
// seal filing it may accept under the shipped delegation list.
json RemoteAgreements() {
  return json::parse(R"({
    "kind": "handling_agreements", "id": "yangtze-delta-2026", "version": 1,
    "title": "长三角跨区通办（示例）",
    "agreements": [
      {"id": "food-licence-remote-window",
       "receiving_organ": {"id": "sh-service-centre", "name": "××市政务服务中心"},
       "handling_organ": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
       "items": ["food-business-licence", "seal-engraving-filing"],
       "legal_basis": [{"citation": "《国务院办公厅关于加快推进政务服务“跨省通办”的指导意见》"}],
       "effective_from": "2026-01-01", "effective_to": "2027-12-31"}
    ]
  })");
}

// The shipped seal filing with one more required field, as version 2.
// The version of the seal filing shipped in definitions/items.
int ShippedSealVersion() {
  return json::parse(
      ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json"))["version"];
}

// The shipped seal filing's next version, with a new required field.
json SealFilingV2() {
  json j = json::parse(ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json"));
  j["version"] = ShippedSealVersion() + 1;
  j["form"]["fields"].push_back(
      {{"id", "seal_material"}, {"label", "印章材质"}, {"type", "string"}, {"required", true}});
  return j;
}

bool HasDiagnostic(const std::vector<Diagnostic>& all, const std::string& code,
                   const std::string& pointer) {
  return std::any_of(all.begin(), all.end(),
                     [&](const Diagnostic& d) { return d.code == code && d.pointer == pointer; });
}

class DefinitionRegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-registry-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Open();
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  void Open() {
    registry_.reset();
    store_.reset();
    SqliteStoreOptions options;
    options.path = (dir_ / "tongban.db").string();
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
  }
  void DeployShipped(Instant at = T("2026-01-05T09:00:00+08:00")) {
    auto deployed = registry_->DeployDirectory(kSourceDir + "/definitions", at);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  }
  Result<DeployOutcome> Deploy(const std::string& name, const json& text, Instant at,
                               std::vector<Diagnostic>* diagnostics = nullptr) {
    return registry_->Deploy({{name, text.dump(2)}}, at, diagnostics);
  }
  size_t StoredCount() { return store_->Definitions().value().size(); }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
};

TEST_F(DefinitionRegistryTest, DeploysABundleWhoseItemsAreDeployed) {
  DeployShipped();
  auto outcome = Deploy("startup.json", StartupBundle(), T("2026-01-06T09:00:00+08:00"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->deployed, std::vector<std::string>{"bundle/startup@1"});
  EXPECT_TRUE(outcome->diagnostics.empty());

  auto bundle = registry_->FindBundle("startup");
  ASSERT_TRUE(bundle);
  EXPECT_EQ(registry_->FindBundle("startup", 1), bundle);
  EXPECT_FALSE(registry_->FindBundle("startup", 2));
  EXPECT_FALSE(registry_->FindBundle("no-such-bundle"));
  ASSERT_EQ(bundle->parts.size(), 2u);
  EXPECT_EQ(bundle->parts[0].item, registry_->FindItem("establishment-registration"));
  EXPECT_EQ(bundle->parts[1].item, registry_->FindItem("seal-engraving-filing"));
  EXPECT_EQ(bundle->calendar, registry_->FindCalendar("cn-mainland"));
  EXPECT_EQ(registry_->BundleText("startup", 1), StartupBundle().dump(2));
  EXPECT_FALSE(registry_->BundleText("startup", 2));
  auto bundles = registry_->Bundles();
  EXPECT_EQ(std::count_if(bundles.begin(), bundles.end(),
                          [](const auto& b) { return b->id == "startup"; }),
            1);

  // Deploying the same text again changes nothing; the store loads it back.
  auto again = Deploy("startup.json", StartupBundle(), T("2026-01-07T09:00:00+08:00"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->unchanged, std::vector<std::string>{"bundle/startup@1"});
  Open();
  ASSERT_TRUE(registry_->FindBundle("startup"));
  EXPECT_EQ(registry_->FindBundle("startup")->content_hash, bundle->content_hash);
  EXPECT_EQ(registry_->BundleText("startup", 1), StartupBundle().dump(2));
}

// The server deploys the shipped folder at every start: the bundles deployed since must still see
// the shipped items they were checked with.
TEST_F(DefinitionRegistryTest, RedeployingTheShippedDefinitionsKeepsDeployedBundles) {
  DeployShipped(T("2026-01-05T09:00:00Z"));
  ASSERT_TRUE(Deploy("startup.json", StartupBundle(), T("2026-01-06T09:00:00Z")).ok());
  auto again = registry_->DeployDirectory(kSourceDir + "/definitions", T("2026-02-01T09:00:00Z"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->deployed.empty());
  Open();
  EXPECT_TRUE(registry_->FindBundle("startup"));
}

TEST_F(DefinitionRegistryTest, DeploysAnAgreementsList) {
  DeployShipped();
  auto outcome = Deploy("agreements.json", RemoteAgreements(), T("2026-01-06T09:00:00+08:00"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->deployed,
            std::vector<std::string>{"handling_agreements/yangtze-delta-2026@1"});
  // The shipped folder has agreements of its own; find this list among them.
  auto find_list = [this]() -> std::shared_ptr<const HandlingAgreementList> {
    for (const auto& l : registry_->AgreementLists()) {
      if (l->id == "yangtze-delta-2026") return l;
    }
    return nullptr;
  };
  auto list = find_list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->agreements.size(), 1u);
  EXPECT_TRUE(list->agreements[0].Covers("seal-engraving-filing"));
  // The shipped delegation list is what lets the zone bureau accept the seal filing.
  auto delegations = registry_->DelegationLists();
  EXPECT_TRUE(std::any_of(delegations.begin(), delegations.end(),
                          [](const auto& l) { return l->id == "dz-approval-bureau-2026"; }));
  Open();
  ASSERT_TRUE(find_list());
  EXPECT_EQ(find_list()->agreements[0].id, "food-licence-remote-window");
  EXPECT_FALSE(registry_->DelegationLists().empty());
}

TEST_F(DefinitionRegistryTest, RefusesAnAgreementTheHandlingOrganCannotAccept) {
  DeployShipped();
  json list = RemoteAgreements();
  list["agreements"][0]["items"].push_back("construction-permit");  // implemented by the bureau
  list["agreements"][0]["items"].push_back("tax-clearance");  // the tax bureau's, not delegated
  std::vector<Diagnostic> diagnostics;
  auto outcome = Deploy("agreements.json", list, T("2026-01-06T09:00:00+08:00"), &diagnostics);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasDiagnostic(diagnostics, "handling-organ-not-competent", "/agreements/0/items/3"));
  for (const auto& l : registry_->AgreementLists())
    EXPECT_NE(l->id, "yangtze-delta-2026");
}

TEST_F(DefinitionRegistryTest, RefusesABundleWhoseItemIsNotDeployed) {
  // Calendars and one of the two items only.
  auto calendars =
      registry_->DeployDirectory(kSourceDir + "/definitions/calendars", T("2026-01-05T09:00:00Z"));
  ASSERT_TRUE(calendars.ok()) << calendars.status().ToString();
  auto item = registry_->Deploy(
      {{"establishment-registration.json",
        ReadFile(kSourceDir + "/definitions/items/establishment-registration.json")}},
      T("2026-01-05T09:00:00Z"));
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  size_t stored = StoredCount();

  std::vector<Diagnostic> diagnostics;
  auto outcome = Deploy("startup.json", StartupBundle(), T("2026-01-06T09:00:00Z"), &diagnostics);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(HasDiagnostic(diagnostics, "unknown-item", "/parts/1/item"));
  EXPECT_FALSE(HasDiagnostic(diagnostics, "unknown-item", "/parts/0/item"));
  EXPECT_FALSE(registry_->FindBundle("startup"));
  EXPECT_EQ(StoredCount(), stored);

  // Deployed together with its missing item, it goes through.
  auto both =
      registry_->Deploy({{"startup.json", StartupBundle().dump(2)},
                         {"seal-engraving-filing.json",
                          ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json")}},
                        T("2026-01-07T09:00:00Z"));
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_TRUE(registry_->FindBundle("startup"));
}

// A bundle deployed before an item's new version keeps the version it was checked with, so a new
// required field in the item neither breaks it nor changes it; a new bundle version takes it up.
TEST_F(DefinitionRegistryTest, ANewItemVersionDoesNotChangeADeployedBundle) {
  DeployShipped(T("2026-01-05T09:00:00Z"));
  ASSERT_TRUE(Deploy("startup.json", StartupBundle(), T("2026-01-06T09:00:00Z")).ok());
  auto v2 = Deploy("seal-v2.json", SealFilingV2(), T("2026-01-07T09:00:00Z"));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(registry_->FindItem("seal-engraving-filing")->version, ShippedSealVersion() + 1);
  EXPECT_EQ(registry_->FindBundle("startup")->parts[1].item->version, ShippedSealVersion());
  Open();  // the store still loads, with the same meaning
  ASSERT_TRUE(registry_->FindBundle("startup"));
  EXPECT_EQ(registry_->FindBundle("startup")->parts[1].item->version, ShippedSealVersion());

  // Version 2 of the bundle is checked against the seal filing's version 2.
  std::vector<Diagnostic> diagnostics;
  auto bundle_v2 =
      Deploy("startup-v2.json", StartupBundle(2), T("2026-01-08T09:00:00Z"), &diagnostics);
  ASSERT_FALSE(bundle_v2.ok());
  EXPECT_TRUE(HasDiagnostic(diagnostics, "unmapped-field", "/parts/1"));
}

// Deploying an item version at the instant a bundle was deployed would change the bundle: refused,
// with the bundle's diagnostics, so the store never holds a definition that does not compile.
TEST_F(DefinitionRegistryTest, RefusesToBreakADeployedDefinition) {
  DeployShipped(T("2026-01-05T09:00:00Z"));
  ASSERT_TRUE(Deploy("startup.json", StartupBundle(), T("2026-01-06T09:00:00Z")).ok());
  size_t stored = StoredCount();
  std::vector<Diagnostic> diagnostics;
  auto outcome = Deploy("seal-v2.json", SealFilingV2(), T("2026-01-06T09:00:00Z"), &diagnostics);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status().message().find("bundle/startup@1"), std::string::npos)
      << outcome.status().ToString();
  auto it = std::find_if(diagnostics.begin(), diagnostics.end(),
                         [](const Diagnostic& d) { return d.code == "unmapped-field"; });
  ASSERT_NE(it, diagnostics.end());
  EXPECT_EQ(it->file, "deployed:bundle/startup@1");
  EXPECT_NE(it->message.find("\"seal_material\""), std::string::npos) << it->message;
  EXPECT_EQ(StoredCount(), stored);
  EXPECT_EQ(registry_->FindItem("seal-engraving-filing")->version, ShippedSealVersion());
  Open();
  EXPECT_TRUE(registry_->FindBundle("startup"));
}

}  // namespace
}  // namespace tongban
