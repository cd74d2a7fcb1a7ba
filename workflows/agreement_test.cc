// Tests of the "handling_agreements" kind (跨区通办 / 收受分离), compiled through a DefinitionSet
// with two small items and a delegation list as context. Every check is tested for its code and
// pointer.
#include "workflows/agreement.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "workflows/definition_set.h"

namespace tongban {
namespace {

using nlohmann::json;

json TestCalendar() {
  return json::parse(R"({
    "kind": "calendar", "id": "test-cal", "version": 1, "title": "test calendar",
    "time_zone": "Asia/Shanghai", "weekly_days_off": ["saturday", "sunday"],
    "years": [{"year": 2026, "holidays": []}]
  })");
}

json Item(const std::string& id, const std::string& organ, int version = 1) {
  json j = json::parse(R"({
    "kind": "item", "title": "测试", "category": "filing", "case_type": "instant",
    "legal_basis": [{"citation": "《测试条例》"}],
    "time_limits": {"calendar": "test-cal", "statutory_days": 1, "promised_days": 0},
    "form": {"fields": []},
    "steps": [{"id": "record", "title": "备案", "role": "clerk",
               "actions": {"file": {"decision": "approve"}, "reject": {"decision": "deny"}}}]
  })");
  j["id"] = id;
  j["version"] = version;
  j["organ"] = {{"id", organ}, {"name", organ + " 名称"}};
  return j;
}

// city-amr delegates "accept" for the seal filing to the zone bureau, and only "review" for the
// food licence.
json Delegations() {
  return json::parse(R"({
    "kind": "delegation_list", "id": "zone-2026", "version": 1, "title": "赋权清单",
    "delegations": [
      {"id": "seal-accept", "item": "seal-filing",
       "from": {"id": "city-psb", "name": "市公安局"}, "to": {"id": "zone-bureau", "name": "区审批局"},
       "powers": ["accept"], "form": "entrustment",
       "legal_basis": [{"citation": "《行政许可法》", "article": "第二十四条"}],
       "effective_from": "2026-01-01"},
      {"id": "food-review", "item": "food-licence",
       "from": {"id": "city-amr", "name": "市市场监管局"}, "to": {"id": "zone-bureau", "name": "区审批局"},
       "powers": ["review"], "form": "entrustment",
       "legal_basis": [{"citation": "《行政许可法》", "article": "第二十四条"}],
       "effective_from": "2026-01-01"}
    ]
  })");
}

json ValidList(const std::string& id = "delta-2026") {
  json j = json::parse(R"({
    "kind": "handling_agreements", "version": 1, "title": "长三角跨区通办", "description": "test",
    "agreements": [
      {"id": "food-remote", "receiving_organ": {"id": "other-city-window", "name": "异地窗口"},
       "handling_organ": {"id": "city-amr", "name": "市市场监管局"}, "items": ["food-licence"],
       "legal_basis": [{"citation": "《关于推进政务服务跨区通办的指导意见》（示例）"}],
       "effective_from": "2026-01-01", "effective_to": "2027-12-31", "note": "示例"},
      {"id": "seal-remote", "receiving_organ": {"id": "other-city-window", "name": "异地窗口"},
       "handling_organ": {"id": "zone-bureau", "name": "区审批局"}, "items": ["seal-filing"],
       "legal_basis": [{"citation": "《合作协议》", "article": "第三条", "url": "https://example.org/a"}],
       "effective_from": "2026-03-01"}
    ]
  })");
  j["id"] = id;
  return j;
}

class AgreementTest : public testing::Test {
 protected:
  std::vector<Diagnostic> Check(const std::vector<json>& lists, bool with_delegations = true) {
    set_ = std::make_unique<DefinitionSet>();
    set_->AddText("test-cal.json", TestCalendar().dump(2), false);
    set_->AddText("food-licence.json", Item("food-licence", "city-amr").dump(2), false);
    set_->AddText("seal-filing.json", Item("seal-filing", "city-psb").dump(2), false);
    if (with_delegations) set_->AddText("zone-2026.json", Delegations().dump(2), false);
    for (size_t i = 0; i < lists.size(); ++i)
      set_->AddText("list-" + std::to_string(i) + ".json", lists[i].dump(2));
    set_->Compile();
    diagnostics_ = set_->Diagnostics();
    return diagnostics_;
  }
  std::string Dump() const {
    std::string out;
    for (const Diagnostic& d : diagnostics_)
      out += FormatDiagnostic(d) + " {" + d.code + "}\n";
    return out;
  }
  void ExpectError(const json& list, const std::string& code, const std::string& pointer,
                   const std::string& phrase) {
    Check({list});
    auto it = std::find_if(diagnostics_.begin(), diagnostics_.end(), [&](const Diagnostic& d) {
      return d.code == code && d.pointer == pointer;
    });
    ASSERT_NE(it, diagnostics_.end()) << "no " << code << " at " << pointer << "\n" << Dump();
    EXPECT_EQ(it->severity, Severity::kError);
    EXPECT_NE(it->message.find(phrase), std::string::npos) << it->message;
    EXPECT_TRUE(it->position.known());
    EXPECT_TRUE(set_->AgreementLists().empty());
  }

  std::unique_ptr<DefinitionSet> set_;
  std::vector<Diagnostic> diagnostics_;
};

TEST_F(AgreementTest, ValidListCompiles) {
  EXPECT_TRUE(Check({ValidList()}).empty()) << Dump();
  ASSERT_EQ(set_->AgreementLists().size(), 1u);
  const HandlingAgreementList& list = *set_->AgreementLists()[0];
  EXPECT_EQ(list.id, "delta-2026");
  EXPECT_EQ(list.version, 1);
  EXPECT_EQ(list.title, "长三角跨区通办");
  ASSERT_EQ(list.agreements.size(), 2u);
  const HandlingAgreement& food = list.agreements[0];
  EXPECT_EQ(food.list_id, "delta-2026");
  EXPECT_EQ(food.receiving.id, "other-city-window");
  EXPECT_EQ(food.handling.name, "市市场监管局");
  EXPECT_TRUE(food.Covers("food-licence"));
  EXPECT_FALSE(food.Covers("seal-filing"));
  EXPECT_FALSE(food.EffectiveOn(*ParseIsoDay("2025-12-31")));
  EXPECT_TRUE(food.EffectiveOn(*ParseIsoDay("2026-01-01")));
  EXPECT_TRUE(food.EffectiveOn(*ParseIsoDay("2027-12-31")));  // inclusive
  EXPECT_FALSE(food.EffectiveOn(*ParseIsoDay("2028-01-01")));
  const HandlingAgreement& seal = list.agreements[1];
  EXPECT_FALSE(seal.effective_to);
  EXPECT_TRUE(seal.EffectiveOn(*ParseIsoDay("2040-01-01")));  // open-ended
  ASSERT_EQ(seal.legal_basis.size(), 1u);
  EXPECT_EQ(seal.legal_basis[0].article, "第三条");
}

TEST_F(AgreementTest, ToJson) {
  Check({ValidList()});
  ASSERT_EQ(set_->AgreementLists().size(), 1u) << Dump();
  const auto& list = *set_->AgreementLists()[0];
  json food = HandlingAgreementToJson(list.agreements[0]);
  EXPECT_EQ(food["id"], "food-remote");
  EXPECT_EQ(food["list"], "delta-2026");
  EXPECT_EQ(food["receiving_organ"]["id"], "other-city-window");
  EXPECT_EQ(food["handling_organ"]["id"], "city-amr");
  EXPECT_EQ(food["items"], json({"food-licence"}));
  EXPECT_EQ(food["effective_from"], "2026-01-01");
  EXPECT_EQ(food["effective_to"], "2027-12-31");
  EXPECT_EQ(food["note"], "示例");
  json seal = HandlingAgreementToJson(list.agreements[1]);
  EXPECT_FALSE(seal.contains("effective_to"));
  EXPECT_FALSE(seal.contains("note"));
  EXPECT_EQ(seal["legal_basis"][0]["url"], "https://example.org/a");
}

TEST_F(AgreementTest, UnknownItemSuggestsTheClosestId) {
  json list = ValidList();
  list["agreements"][0]["items"] = {"food-licnce"};
  ExpectError(list, "unknown-item", "/agreements/0/items/0", "did you mean \"food-licence\"?");
}

TEST_F(AgreementTest, ItemsListedTwiceOrNotAtAll) {
  json list = ValidList();
  list["agreements"][0]["items"] = {"food-licence", "food-licence"};
  ExpectError(list, "duplicate-id", "/agreements/0/items/1", "listed twice");
  list["agreements"][0]["items"] = json::array();
  ExpectError(list, "empty-list", "/agreements/0/items", "at least one item");
  list["agreements"][0]["items"] = {7};
  ExpectError(list, "wrong-type", "/agreements/0/items/0", "found an integer");
}

TEST_F(AgreementTest, DuplicateIdInTheList) {
  json list = ValidList();
  list["agreements"][1]["id"] = "food-remote";
  ExpectError(list, "duplicate-id", "/agreements/1/id",
              "agreement \"food-remote\" is listed twice");
}

TEST_F(AgreementTest, DuplicateIdAcrossLists) {
  json other = ValidList("other-list");
  other["agreements"].erase(1);
  Check({ValidList(), other});
  auto it = std::find_if(diagnostics_.begin(), diagnostics_.end(),
                         [](const Diagnostic& d) { return d.code == "duplicate-id"; });
  ASSERT_NE(it, diagnostics_.end()) << Dump();
  EXPECT_EQ(it->file, "list-1.json");
  EXPECT_EQ(it->pointer, "/agreements/0/id");
  EXPECT_NE(it->message.find("agreement \"food-remote\" is also defined in list \"delta-2026\" "
                             "(list-0.json)"),
            std::string::npos)
      << it->message;
  EXPECT_EQ(set_->AgreementLists().size(), 1u);  // the first list only
}

TEST_F(AgreementTest, VersionsOfOneListShareTheirIds) {
  json v2 = ValidList();
  v2["version"] = 2;
  EXPECT_TRUE(Check({ValidList(), v2}).empty()) << Dump();
  EXPECT_EQ(set_->AgreementLists().size(), 2u);
}

TEST_F(AgreementTest, ReceivingAndHandlingOrganMustDiffer) {
  json list = ValidList();
  list["agreements"][0]["receiving_organ"] = list["agreements"][0]["handling_organ"];
  ExpectError(list, "same-organ", "/agreements/0/handling_organ",
              "the receiving and the handling organ are both \"city-amr\"");
}

TEST_F(AgreementTest, EffectiveToBeforeEffectiveFrom) {
  json list = ValidList();
  list["agreements"][0]["effective_to"] = "2025-12-31";
  ExpectError(list, "bad-range", "/agreements/0/effective_to",
              "effective_to (2025-12-31) is before effective_from (2026-01-01)");
  list["agreements"][0]["effective_to"] = "2026-02-30";
  ExpectError(list, "bad-date", "/agreements/0/effective_to", "is not a date");
}

TEST_F(AgreementTest, HandlingOrganMustImplementOrBeDelegatedAccept) {
  json list = ValidList();
  // The zone bureau may review the food licence, but not accept it.
  list["agreements"][0]["handling_organ"] = {{"id", "zone-bureau"}, {"name", "区审批局"}};
  ExpectError(list, "handling-organ-not-competent", "/agreements/0/items/0",
              "handling organ \"zone-bureau\" cannot accept item \"food-licence\": the item is "
              "implemented by \"city-amr\"");
  // Without the delegation list, the zone bureau cannot accept the seal filing either.
  Check({ValidList()}, /*with_delegations=*/false);
  auto it = std::find_if(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& d) {
    return d.code == "handling-organ-not-competent";
  });
  ASSERT_NE(it, diagnostics_.end()) << Dump();
  EXPECT_EQ(it->pointer, "/agreements/1/items/0");
}

TEST_F(AgreementTest, KeysAndTypes) {
  json list = ValidList();
  list["agreements"][0]["efective_from"] = "2026-01-01";
  ExpectError(list, "unknown-key", "/agreements/0/efective_from",
              "did you mean \"effective_from\"?");
  list = ValidList();
  list["agreements"][0].erase("legal_basis");
  ExpectError(list, "missing-key", "/agreements/0", "missing required key \"legal_basis\"");
  list = ValidList();
  list["agreements"][0]["legal_basis"] = json::array();
  ExpectError(list, "empty-list", "/agreements/0/legal_basis", "legal basis");
  list = ValidList();
  list["agreements"][0]["receiving_organ"].erase("name");
  ExpectError(list, "missing-key", "/agreements/0/receiving_organ", "\"name\"");
  list = ValidList();
  list["agreements"] = json::object();
  ExpectError(list, "wrong-type", "/agreements", "must be an array");
}

TEST_F(AgreementTest, CompilesWithoutItemLookups) {
  // With no item lookup (null), items are not checked: an API caller may do its own.
  DiagnosticSink sink("list.json", nullptr);
  json list = ValidList();
  list["agreements"][0]["items"] = {"anything"};
  auto compiled = CompileHandlingAgreements(list, nullptr, &sink);
  ASSERT_TRUE(compiled);
  EXPECT_TRUE(sink.diagnostics().empty());
  EXPECT_EQ(compiled->agreements[0].items, std::vector<std::string>{"anything"});
}

}  // namespace
}  // namespace tongban
