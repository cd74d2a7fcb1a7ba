// Tests of the "bundle" kind (一件事): compiled through a DefinitionSet with two small items of our
// own and a calendar as context, exactly as `tongban validate` compiles a bundle file. Every check
// is tested for its code and the JSON pointer it reports.
#include "workflows/bundle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

// A licence with an enum, a number, a date and materials of every necessity; promises 3 days.
json LicenceItem(int version = 1) {
  json j = json::parse(R"({
    "kind": "item", "id": "shop-licence", "title": "经营许可", "category": "licensing",
    "case_type": "promised", "organ": {"id": "organ-a", "name": "甲局"},
    "legal_basis": [{"citation": "《测试条例》"}],
    "time_limits": {"calendar": "test-cal", "statutory_days": 10, "promised_days": 3},
    "form": {"fields": [
      {"id": "name", "label": "名称", "type": "string", "required": true},
      {"id": "shop_type", "label": "类型", "type": "enum", "required": true,
       "values": ["retail", "catering", "canteen"]},
      {"id": "area", "label": "面积", "type": "number"},
      {"id": "opening", "label": "开业日期", "type": "date"}
    ]},
    "materials": [
      {"id": "application", "name": "申请书", "necessity": "required"},
      {"id": "layout", "name": "平面图", "necessity": "required"},
      {"id": "health", "name": "健康证明", "necessity": "deferrable"},
      {"id": "proxy", "name": "委托书", "necessity": "optional"}
    ],
    "steps": [{"id": "review", "title": "审查", "role": "reviewer",
               "actions": {"approve": {"decision": "approve"}, "deny": {"decision": "deny"}}}]
  })");
  j["version"] = version;
  return j;
}

// A filing done on the spot (promises 0 days) by another organ.
json FilingItem() {
  return json::parse(R"({
    "kind": "item", "id": "staff-filing", "version": 1, "title": "用工备案",
    "category": "filing", "case_type": "instant", "organ": {"id": "organ-b", "name": "乙局"},
    "legal_basis": [{"citation": "《测试条例》"}],
    "time_limits": {"calendar": "test-cal", "statutory_days": 1, "promised_days": 0},
    "form": {"fields": [
      {"id": "name", "label": "单位名称", "type": "string", "required": true},
      {"id": "staff_count", "label": "人数", "type": "number", "required": true},
      {"id": "category_text", "label": "行业", "type": "string"}
    ]},
    "materials": [
      {"id": "form", "name": "备案表", "necessity": "required"},
      {"id": "licence_copy", "name": "许可证复印件", "necessity": "required"}
    ],
    "steps": [{"id": "record", "title": "备案", "role": "clerk",
               "actions": {"file": {"decision": "approve"}, "reject": {"decision": "deny"}}}]
  })");
}

// Valid, without warnings: the licence first, then the filing when there are employees.
json ValidBundle() {
  return json::parse(R"({
    "kind": "bundle", "id": "open-shop", "version": 1, "title": "开店一件事",
    "description": "test", "lead_organ": {"id": "organ-a", "name": "甲局"},
    "time_limits": {"calendar": "test-cal", "promised_days": 3, "note": "test"},
    "form": [
      {"id": "name", "label": "名称", "type": "string", "required": true},
      {"id": "shop_type", "label": "类型", "type": "enum", "required": true,
       "values": ["retail", "catering"]},
      {"id": "has_staff", "label": "是否招用员工", "type": "boolean", "required": true},
      {"id": "staff", "label": "员工人数", "type": "number", "required": true}
    ],
    "materials": [
      {"id": "application", "name": "申请书", "necessity": "required"},
      {"id": "layout", "name": "平面图", "necessity": "required"},
      {"id": "licence_copy", "name": "营业执照", "necessity": "required"}
    ],
    "parts": [
      {"id": "licence", "title": "经营许可", "item": "shop-licence", "version": 1,
       "form": {"opening": {"value": "2026-03-02"}}},
      {"id": "filing", "title": "用工备案", "item": "staff-filing", "after": ["licence"],
       "when": {"==": [{"var": "has_staff"}, true]},
       "form": {"staff_count": {"field": "staff"}, "category_text": {"field": "shop_type"}},
       "materials": {"form": "application"}}
    ],
    "notes": "test"
  })");
}

class BundleTest : public testing::Test {
 protected:
  // Compiles `bundle` with the calendar and both items as context; returns its diagnostics.
  std::vector<Diagnostic> Check(const json& bundle, std::vector<json> extra_items = {}) {
    set_ = std::make_unique<DefinitionSet>();
    set_->AddText("test-cal.json", TestCalendar().dump(2), false);
    set_->AddText("shop-licence.json", LicenceItem().dump(2), false);
    set_->AddText("staff-filing.json", FilingItem().dump(2), false);
    for (size_t i = 0; i < extra_items.size(); ++i)
      set_->AddText("extra-" + std::to_string(i) + ".json", extra_items[i].dump(2), false);
    set_->AddText("bundle.json", bundle.dump(2));
    set_->Compile();
    diagnostics_ = set_->Diagnostics();
    return diagnostics_;
  }
  std::string Dump() const {
    std::string out;
    for (const Diagnostic& d : set_->Diagnostics())
      out += FormatDiagnostic(d) + " {" + d.code + "}\n";
    return out;
  }
  // The diagnostic with this code and pointer, or null.
  const Diagnostic* Find(const std::string& code, const std::string& pointer) const {
    for (const Diagnostic& d : diagnostics_) {
      if (d.code == code && d.pointer == pointer) return &d;
    }
    return nullptr;
  }
  // Expects an error with this code at this pointer whose message contains `phrase`.
  void ExpectError(const json& bundle, const std::string& code, const std::string& pointer,
                   const std::string& phrase) {
    Check(bundle);
    const Diagnostic* d = Find(code, pointer);
    ASSERT_TRUE(d) << "no " << code << " at " << pointer << "\n" << Dump();
    EXPECT_EQ(d->severity, Severity::kError);
    EXPECT_NE(d->message.find(phrase), std::string::npos) << d->message;
    EXPECT_TRUE(d->position.known()) << FormatDiagnostic(*d);
    EXPECT_TRUE(set_->HasErrors());
    EXPECT_FALSE(set_->FindBundle("open-shop"));
  }
  void ExpectWarning(const json& bundle, const std::string& code, const std::string& pointer,
                     const std::string& phrase) {
    Check(bundle);
    const Diagnostic* d = Find(code, pointer);
    ASSERT_TRUE(d) << "no " << code << " at " << pointer << "\n" << Dump();
    EXPECT_EQ(d->severity, Severity::kWarning);
    EXPECT_NE(d->message.find(phrase), std::string::npos) << d->message;
    EXPECT_FALSE(set_->HasErrors()) << Dump();
    EXPECT_TRUE(set_->FindBundle("open-shop"));
  }

  std::unique_ptr<DefinitionSet> set_;
  std::vector<Diagnostic> diagnostics_;
};

TEST_F(BundleTest, ValidBundleCompiles) {
  EXPECT_TRUE(Check(ValidBundle()).empty()) << Dump();
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle);
  EXPECT_EQ(set_->FindBundle("open-shop", 1), bundle);
  EXPECT_FALSE(set_->FindBundle("open-shop", 2));
  EXPECT_EQ(set_->Bundles().size(), 1u);
  EXPECT_EQ(bundle->title, "开店一件事");
  EXPECT_EQ(bundle->lead_organ.id, "organ-a");
  EXPECT_EQ(bundle->calendar, set_->FindCalendar("test-cal"));
  EXPECT_EQ(bundle->promised_days, 3);
  EXPECT_EQ(bundle->form.size(), 4u);
  EXPECT_EQ(bundle->materials.size(), 3u);
  EXPECT_EQ(bundle->content_hash.size(), 64u);
  ASSERT_EQ(bundle->parts.size(), 2u);

  const BundlePart& licence = bundle->parts[0];
  EXPECT_EQ(licence.item, set_->FindItem("shop-licence", 1));
  EXPECT_FALSE(licence.when);
  EXPECT_TRUE(licence.after.empty());
  // Implicit by id: name, shop_type; explicit constant: opening; area has no source.
  ASSERT_EQ(licence.form_map.size(), 3u);
  EXPECT_EQ(licence.form_map.at("name").bundle_field, "name");
  EXPECT_EQ(licence.form_map.at("shop_type").bundle_field, "shop_type");
  EXPECT_EQ(licence.form_map.at("opening").bundle_field, "");
  EXPECT_EQ(licence.form_map.at("opening").constant, "2026-03-02");
  EXPECT_EQ(licence.form_map.count("area"), 0u);
  EXPECT_EQ(licence.material_map, (std::map<std::string, std::string>{
                                      {"application", "application"}, {"layout", "layout"}}));

  const BundlePart& filing = bundle->parts[1];
  EXPECT_EQ(filing.item, set_->FindItem("staff-filing"));  // no version: the latest
  EXPECT_EQ(filing.after, std::vector<size_t>{0});
  ASSERT_TRUE(filing.when);
  EXPECT_TRUE(filing.when->Evaluate({{"has_staff", true}}));
  EXPECT_FALSE(filing.when->Evaluate({{"has_staff", false}}));
  EXPECT_EQ(filing.form_map.at("staff_count").bundle_field, "staff");
  EXPECT_EQ(filing.form_map.at("category_text").bundle_field, "shop_type");  // enum → string
  EXPECT_EQ(filing.material_map, (std::map<std::string, std::string>{
                                     {"form", "application"}, {"licence_copy", "licence_copy"}}));
  EXPECT_EQ(bundle->FindPart("filing"), &filing);
  EXPECT_EQ(bundle->PartIndex("filing"), 1u);
  EXPECT_FALSE(bundle->FindPart("nope"));
  EXPECT_EQ(bundle->FindField("staff")->type, FieldType::kNumber);
  EXPECT_EQ(bundle->FindMaterial("layout")->name, "平面图");
}

TEST_F(BundleTest, MapsFormsAndMaterialsBothWays) {
  Check(ValidBundle());
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle) << Dump();
  const BundlePart& licence = bundle->parts[0];
  const BundlePart& filing = bundle->parts[1];
  json form = {{"name", "小店"}, {"shop_type", "retail"}, {"has_staff", true}, {"staff", 3}};
  EXPECT_EQ(bundle->MapForm(licence, form),
            json({{"name", "小店"}, {"shop_type", "retail"}, {"opening", "2026-03-02"}}));
  EXPECT_EQ(bundle->MapForm(filing, form),
            json({{"name", "小店"}, {"staff_count", 3}, {"category_text", "retail"}}));
  // Fields the bundle form lacks (or holds null) are left out; constants are always there.
  EXPECT_EQ(bundle->MapForm(filing, json({{"name", "小店"}, {"staff", nullptr}})),
            json({{"name", "小店"}}));
  EXPECT_EQ(bundle->MapForm(licence, json::object()), json({{"opening", "2026-03-02"}}));

  std::vector<std::string> supplied = {"licence_copy", "application"};
  EXPECT_EQ(bundle->MapMaterials(licence, supplied), std::vector<std::string>{"application"});
  EXPECT_EQ(bundle->MapMaterials(filing, supplied),
            (std::vector<std::string>{"form", "licence_copy"}));
  EXPECT_TRUE(bundle->MapMaterials(filing, {}).empty());
  // Reverse, for one correction notice: "form" is supplied as the bundle's "application".
  EXPECT_EQ(bundle->BundleMaterialsFor(filing, {"form", "licence_copy", "unmapped"}),
            (std::vector<std::string>{"application", "licence_copy", "unmapped"}));
  EXPECT_EQ(bundle->BundleMaterialsFor(licence, {"application", "application"}),
            std::vector<std::string>{"application"});
}

TEST_F(BundleTest, SummaryJson) {
  Check(ValidBundle());
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle) << Dump();
  json summary = BundleSummaryJson(*bundle);
  EXPECT_EQ(summary["id"], "open-shop");
  EXPECT_EQ(summary["promised_days"], 3);
  EXPECT_EQ(summary["lead_organ"]["name"], "甲局");
  EXPECT_EQ(summary["content_hash"], bundle->content_hash);
  ASSERT_EQ(summary["parts"].size(), 2u);
  EXPECT_EQ(summary["parts"][1]["item"], "staff-filing");
  EXPECT_EQ(summary["parts"][1]["item_version"], 1);
  EXPECT_EQ(summary["parts"][1]["organ"]["id"], "organ-b");
  EXPECT_EQ(summary["parts"][1]["after"], json({"licence"}));
  EXPECT_EQ(summary["parts"][1]["when"], ValidBundle()["parts"][1]["when"]);
  EXPECT_FALSE(summary["parts"][0].contains("when"));
}

TEST_F(BundleTest, ContentHashFollowsTheContent) {
  Check(ValidBundle());
  auto first = set_->FindBundle("open-shop");
  json changed = ValidBundle();
  changed["notes"] = "changed";
  Check(changed);
  auto second = set_->FindBundle("open-shop");
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->content_hash, second->content_hash);
}

TEST_F(BundleTest, PartsMayComeInAnyOrderAndTheLatestItemVersionIsUsed) {
  json b = ValidBundle();
  b["parts"][0].erase("version");
  std::swap(b["parts"][0], b["parts"][1]);
  Check(b, {LicenceItem(2)});
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle) << Dump();
  EXPECT_EQ(bundle->parts[1].item->version, 2);
  EXPECT_EQ(bundle->parts[0].after, std::vector<size_t>{1});
}

// ---- Errors ------------------------------------------------------------------------------------

TEST_F(BundleTest, UnknownItemSuggestsTheClosestId) {
  json b = ValidBundle();
  b["parts"][0]["item"] = "shop-licnce";
  ExpectError(b, "unknown-item", "/parts/0/item", "did you mean \"shop-licence\"?");
}

TEST_F(BundleTest, UnknownItemVersion) {
  json b = ValidBundle();
  b["parts"][0]["version"] = 4;
  ExpectError(b, "unknown-item", "/parts/0/version",
              "has no version 4; the latest known is version 1");
}

TEST_F(BundleTest, UnknownCalendar) {
  json b = ValidBundle();
  b["time_limits"]["calendar"] = "mars";
  ExpectError(b, "unknown-calendar", "/time_limits/calendar", "unknown calendar \"mars\"");
}

TEST_F(BundleTest, PromisedDaysAtLeastOne) {
  json b = ValidBundle();
  b["time_limits"]["promised_days"] = 0;
  ExpectError(b, "out-of-range", "/time_limits/promised_days", "must be between 1 and");
  // Without stages (below) the whole bundle's promise is required.
  b["time_limits"].erase("promised_days");
  ExpectError(b, "missing-key", "/time_limits", "missing required key \"promised_days\"");
}

// A promise per stage (a group of parts) instead of, or besides, the whole bundle's.
TEST_F(BundleTest, StagePromises) {
  json b = ValidBundle();
  b["time_limits"].erase("promised_days");
  b["time_limits"]["stages"] = json::parse(R"([
    {"id": "licensing", "title": "许可阶段", "parts": ["licence"], "promised_days": 2},
    {"id": "filing", "title": "备案阶段", "parts": ["filing"], "promised_days": 5,
     "promised_unit": "natural_days"}])");
  Check(b);
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle) << Dump();
  EXPECT_EQ(bundle->promised_days, 0);  // no whole promise
  ASSERT_EQ(bundle->stages.size(), 2u);
  EXPECT_EQ(bundle->stages[0].parts, std::vector<size_t>{0});
  EXPECT_EQ(bundle->stages[1].promised_unit, DayUnit::kNaturalDays);
  json summary = BundleSummaryJson(*bundle);
  EXPECT_EQ(summary["stages"][1]["parts"], json({"filing"}));
  EXPECT_EQ(summary["stages"][1]["promised_unit"], "natural_days");

  json unknown = b;
  unknown["time_limits"]["stages"][1]["parts"][0] = "filling";
  ExpectError(unknown, "unknown-part", "/time_limits/stages/1/parts/0", "did you mean \"filing\"?");
  json twice = b;
  twice["time_limits"]["stages"][1]["parts"][0] = "licence";
  ExpectError(twice, "duplicate-id", "/time_limits/stages/1/parts/0", "one stage at most");
  json same_id = b;
  same_id["time_limits"]["stages"][1]["id"] = "licensing";
  ExpectError(same_id, "duplicate-id", "/time_limits/stages/1/id", "defined twice");
  json empty = b;
  empty["time_limits"]["stages"] = json::array();
  ExpectError(empty, "empty-list", "/time_limits/stages", "is empty");
  json zero = b;
  zero["time_limits"]["stages"][0]["promised_days"] = 0;
  ExpectError(zero, "out-of-range", "/time_limits/stages/0/promised_days", "between 1 and");
}

TEST_F(BundleTest, AtLeastTwoParts) {
  json b = ValidBundle();
  b["parts"].erase(1);
  ExpectError(b, "too-few-parts", "/parts", "at least two parts (found 1)");
}

TEST_F(BundleTest, DuplicatePartIds) {
  json b = ValidBundle();
  b["parts"][1]["id"] = "licence";
  b["parts"][1]["after"] = json::array();
  ExpectError(b, "duplicate-id", "/parts/1/id", "part \"licence\" is defined twice");
}

TEST_F(BundleTest, AfterNamesAnUnknownPart) {
  json b = ValidBundle();
  b["parts"][1]["after"] = {"licnce"};
  ExpectError(b, "unknown-part", "/parts/1/after/0", "did you mean \"licence\"?");
}

TEST_F(BundleTest, AfterNamesThePartItself) {
  json b = ValidBundle();
  b["parts"][1]["after"] = {"licence", "filing"};
  ExpectError(b, "self-dependency", "/parts/1/after/1", "cannot wait for itself");
}

TEST_F(BundleTest, AfterListsAPartTwice) {
  json b = ValidBundle();
  b["parts"][1]["after"] = {"licence", "licence"};
  ExpectError(b, "duplicate-id", "/parts/1/after/1", "listed twice");
}

TEST_F(BundleTest, DependencyCycleIsNamed) {
  json b = ValidBundle();
  json third = b["parts"][0];
  third["id"] = "second-licence";
  b["parts"].push_back(third);
  b["parts"][0]["after"] = {"second-licence"};
  b["parts"][2]["after"] = {"filing"};
  // licence waits for second-licence, which waits for filing, which waits for licence.
  ExpectError(b, "dependency-cycle", "/parts/0/after",
              "\"licence\" → \"second-licence\" → \"filing\" → \"licence\"");
  EXPECT_EQ(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                          [](const Diagnostic& d) { return d.code == "dependency-cycle"; }),
            1);
}

TEST_F(BundleTest, TwoPartCycle) {
  json b = ValidBundle();
  b["parts"][0]["after"] = {"filing"};
  ExpectError(b, "dependency-cycle", "/parts/0/after", "\"licence\" → \"filing\" → \"licence\"");
}

TEST_F(BundleTest, FormMapKeyIsNotAnItemField) {
  json b = ValidBundle();
  b["parts"][1]["form"]["staff_cuont"] = {{"field", "staff"}};
  ExpectError(b, "unknown-field", "/parts/1/form/staff_cuont",
              "item \"staff-filing\" has no form field \"staff_cuont\"; did you mean "
              "\"staff_count\"?");
}

TEST_F(BundleTest, FormMapValueIsNotABundleField) {
  json b = ValidBundle();
  b["parts"][1]["form"]["staff_count"] = {{"field", "stafff"}};
  ExpectError(b, "unknown-field", "/parts/1/form/staff_count/field",
              "the bundle's form has no field \"stafff\"; did you mean \"staff\"?");
}

TEST_F(BundleTest, FormMapNeedsExactlyOneSource) {
  json b = ValidBundle();
  b["parts"][1]["form"]["staff_count"] = {{"field", "staff"}, {"value", 3}};
  ExpectError(b, "map-source", "/parts/1/form/staff_count", "exactly one of \"field\"");
  b["parts"][1]["form"]["staff_count"] = json::object();
  ExpectError(b, "map-source", "/parts/1/form/staff_count", "exactly one of \"field\"");
  b["parts"][1]["form"]["staff_count"] = {{"fields", "staff"}};
  ExpectError(b, "unknown-key", "/parts/1/form/staff_count/fields", "did you mean \"field\"?");
}

TEST_F(BundleTest, MaterialMapKeyIsNotAnItemMaterial) {
  json b = ValidBundle();
  b["parts"][1]["materials"]["from"] = "application";
  ExpectError(b, "unknown-material", "/parts/1/materials/from",
              "item \"staff-filing\" has no material \"from\"; did you mean \"form\"?");
}

TEST_F(BundleTest, MaterialMapValueIsNotABundleMaterial) {
  json b = ValidBundle();
  b["parts"][1]["materials"]["form"] = "aplication";
  ExpectError(b, "unknown-material", "/parts/1/materials/form",
              "the bundle has no material \"aplication\"; did you mean \"application\"?");
  b["parts"][1]["materials"]["form"] = 7;
  ExpectError(b, "wrong-type", "/parts/1/materials/form", "found an integer");
}

TEST_F(BundleTest, RequiredItemFieldLeftUnmapped) {
  json b = ValidBundle();
  b["parts"][1]["form"].erase("staff_count");
  ExpectError(b, "unmapped-field", "/parts/1/form",
              "required form field \"staff_count\" (人数) of item \"staff-filing\" gets no value");
  // Without a "form" map, the part itself is pointed at.
  b["parts"][1].erase("form");
  ExpectError(b, "unmapped-field", "/parts/1", "\"staff_count\"");
}

TEST_F(BundleTest, OptionalItemFieldMayStayUnmapped) {
  json b = ValidBundle();
  b["parts"][1]["form"].erase("category_text");
  EXPECT_TRUE(Check(b).empty()) << Dump();
}

TEST_F(BundleTest, RequiredItemMaterialLeftUnmapped) {
  json b = ValidBundle();
  b["parts"][1].erase("materials");
  ExpectError(b, "unmapped-material", "/parts/1",
              "required material \"form\" (备案表) of item \"staff-filing\" is supplied by no "
              "bundle material");
  // Deferrable and optional item materials need no mapping: the licence's health and proxy.
  Check(ValidBundle());
  EXPECT_FALSE(Find("unmapped-material", "/parts/0")) << Dump();
}

TEST_F(BundleTest, IncompatibleFieldTypes) {
  json b = ValidBundle();
  b["parts"][1]["form"]["staff_count"] = {{"field", "name"}};
  ExpectError(b, "incompatible-field", "/parts/1/form/staff_count/field",
              "bundle form field \"name\" (string) cannot fill form field \"staff_count\" of item "
              "\"staff-filing\" (number)");
  // A string does not fill an enum.
  b = ValidBundle();
  b["parts"][0]["form"]["shop_type"] = {{"field", "name"}};
  ExpectError(b, "incompatible-field", "/parts/0/form/shop_type/field", "(string) cannot fill");
}

TEST_F(BundleTest, EnumFeedsEnumOnlyWithASubsetOfValues) {
  json b = ValidBundle();
  b["form"][1]["values"] = {"retail", "catering", "market"};
  ExpectError(b, "incompatible-field", "/parts/0",
              "bundle enum field \"shop_type\" may hold \"market\", which is not a value of form "
              "field \"shop_type\" of item \"shop-licence\" (mapped by the same id)");
}

TEST_F(BundleTest, ImplicitMappingMustTypeCheck) {
  json b = ValidBundle();
  b["form"][0]["type"] = "number";
  ExpectError(b, "incompatible-field", "/parts/0",
              "bundle form field \"name\" (number) cannot fill form field \"name\" of item "
              "\"shop-licence\" (string) (mapped by the same id)");
}

TEST_F(BundleTest, ConstantsMustTypeCheck) {
  struct Case {
    std::string field;
    json value;
    std::string phrase;
  };
  for (const Case& c : std::vector<Case>{
           {"opening", "2026-02-30", "\"2026-02-30\" is not a date (YYYY-MM-DD)"},
           {"opening", 20260302, "must be a date value, found an integer"},
           {"shop_type", "bakery", "\"bakery\" is not one of the values of enum form field"},
           {"area", "12", "must be a number value, found a string"},
           {"name", true, "must be a string value, found a boolean"}}) {
    SCOPED_TRACE(c.field);
    json b = ValidBundle();
    b["parts"][0]["form"][c.field] = {{"value", c.value}};
    ExpectError(b, "incompatible-constant", "/parts/0/form/" + c.field + "/value", c.phrase);
  }
  json b = ValidBundle();
  b["parts"][0]["form"]["shop_type"] = {
      {"value", "canteen"}};  // not a bundle value, but an item one
  b["parts"][0]["form"]["area"] = {{"value", 12.5}};
  Check(b);
  EXPECT_FALSE(set_->HasErrors()) << Dump();
}

TEST_F(BundleTest, WhenIsCompiledAgainstTheBundleForm) {
  json b = ValidBundle();
  // "area" is a field of the licence, not of the bundle's form.
  b["parts"][1]["when"] = {{">", {{{"var", "area"}}, 10}}};
  ExpectError(b, "unknown-field", "/parts/1/when/>/0/var", "unknown form field \"area\"");
  b["parts"][1]["when"] = {{"==", {{{"var", "has_staff"}}, "yes"}}};
  ExpectError(b, "guard-type-mismatch", "/parts/1/when/==", "");
}

TEST_F(BundleTest, FormIsAListOfFields) {
  json b = ValidBundle();
  b["form"] = {{"fields", b["form"]}};
  ExpectError(b, "wrong-type", "/form", "a bundle's form is the list of fields itself");
}

TEST_F(BundleTest, FieldsAndMaterialsHaveTheItemShape) {
  json b = ValidBundle();
  b["form"][2]["requried"] = true;
  ExpectError(b, "unknown-key", "/form/2/requried", "did you mean \"required\"?");
  b = ValidBundle();
  b["form"].push_back(b["form"][0]);
  ExpectError(b, "duplicate-id", "/form/4/id", "form field \"name\" is defined twice");
  b = ValidBundle();
  b["materials"][0]["necessity"] = "needed";
  ExpectError(b, "bad-enum", "/materials/0/necessity", "must be one of");
}

TEST_F(BundleTest, UnknownAndMissingKeys) {
  json b = ValidBundle();
  b["parts"][1]["aftr"] = b["parts"][1]["after"];
  b["parts"][1].erase("after");
  ExpectError(b, "unknown-key", "/parts/1/aftr", "did you mean \"after\"?");
  b = ValidBundle();
  b.erase("lead_organ");
  ExpectError(b, "missing-key", "", "missing required key \"lead_organ\"");
  b = ValidBundle();
  b["parts"][0].erase("item");
  ExpectError(b, "missing-key", "/parts/0", "missing required key \"item\"");
}

// ---- Warnings ----------------------------------------------------------------------------------

TEST_F(BundleTest, RequiredItemFieldFromAnOptionalBundleField) {
  json b = ValidBundle();
  b["form"][3]["required"] = false;
  ExpectWarning(b, "optional-feeds-required", "/parts/1/form/staff_count/field",
                "required form field \"staff_count\" of item \"staff-filing\" is filled from the "
                "optional bundle field \"staff\"");
  b = ValidBundle();
  b["form"][0]["required"] = false;  // implicit, into both items
  ExpectWarning(b, "optional-feeds-required", "/parts/0", "(mapped by the same id)");
  EXPECT_TRUE(Find("optional-feeds-required", "/parts/1"));
}

TEST_F(BundleTest, RequiredItemMaterialFromAnOptionalBundleMaterial) {
  json b = ValidBundle();
  b["materials"][0]["necessity"] = "deferrable";
  ExpectWarning(b, "optional-feeds-required", "/parts/1/materials/form",
                "required material \"form\" of item \"staff-filing\" is supplied by the "
                "deferrable bundle material \"application\"");
}

// 证照共享: the licence part issues the licence copy the filing needs; the applicant supplies none.
TEST_F(BundleTest, APartIssuesAMaterialForThePartsAfterIt) {
  json b = ValidBundle();
  b["materials"][2]["necessity"] = "deferrable";
  // Without the declaration, the applicant would have to supply it: warned.
  ExpectWarning(b, "optional-feeds-required", "/parts/1", "\"licence_copy\"");
  b["parts"][0]["issues"] = {"licence_copy"};
  Check(b);
  EXPECT_TRUE(diagnostics_.empty()) << Dump();
  auto bundle = set_->FindBundle("open-shop");
  ASSERT_TRUE(bundle) << Dump();
  EXPECT_EQ(bundle->parts[0].issues, std::vector<std::string>{"licence_copy"});
  EXPECT_TRUE(bundle->parts[1].issues.empty());
}

TEST_F(BundleTest, AnIssuedMaterialIsABundleMaterialIssuedOnce) {
  json b = ValidBundle();
  b["parts"][0]["issues"] = {"licence_copy", 7, "licence"};
  ExpectError(b, "wrong-type", "/parts/0/issues/1", "a string");
  const Diagnostic* unknown = Find("unknown-material", "/parts/0/issues/2");
  ASSERT_TRUE(unknown) << Dump();
  EXPECT_NE(unknown->message.find("unknown bundle material \"licence\""), std::string::npos)
      << unknown->message;
  b["parts"][0]["issues"] = {"licence_copy", "licence_copy"};
  ExpectError(b, "duplicate-id", "/parts/0/issues/1", "issued twice");
  b["parts"][0]["issues"] = "licence_copy";
  ExpectError(b, "wrong-type", "/parts/0/issues", "array");
}

TEST_F(BundleTest, APartSuppliedAnIssuedMaterialWaitsForItsIssuer) {
  json b = ValidBundle();
  b["parts"][0]["issues"] = {"licence_copy"};
  b["parts"][1].erase("after");
  ExpectError(b, "issued-before-use", "/parts/1",
              "part \"filing\" is supplied bundle material \"licence_copy\", which part "
              "\"licence\" issues, but does not wait for it: add \"licence\" to its \"after\"");
  // The licence part is supplied the application itself (the same id), so it cannot issue it.
  b = ValidBundle();
  b["parts"][0]["issues"] = {"application"};
  ExpectError(b, "issued-before-use", "/parts/0/issues", "which it issues itself");
}

TEST_F(BundleTest, WaitingForTheIssuerMayGoThroughAnotherPart) {
  // A third part, after the filing only, is supplied the licence copy the licence part issues.
  json filing = FilingItem();
  filing["id"] = "staff-filing-2";
  json b = ValidBundle();
  b["parts"][0]["issues"] = {"licence_copy"};
  b["parts"].push_back({{"id", "filing2"},
                        {"title", "用工备案（二）"},
                        {"item", "staff-filing-2"},
                        {"after", {"filing"}},
                        {"form", {{"staff_count", {{"field", "staff"}}}}},
                        {"materials", {{"form", "application"}}}});
  Check(b, {filing});
  EXPECT_FALSE(set_->HasErrors()) << Dump();
  b["parts"][2]["after"] = json::array();
  Check(b, {filing});
  EXPECT_TRUE(Find("issued-before-use", "/parts/2")) << Dump();
}

TEST_F(BundleTest, UnusedBundleFieldAndMaterial) {
  json b = ValidBundle();
  b["form"].push_back({{"id", "remarks"}, {"label", "备注"}, {"type", "string"}});
  b["materials"].push_back({{"id", "photo"}, {"name", "照片"}, {"necessity", "optional"}});
  ExpectWarning(b, "unused-field", "/form/4", "bundle form field \"remarks\" is used by no part");
  ExpectWarning(b, "unused-material", "/materials/3",
                "bundle material \"photo\" is supplied to no part");
  // A field read by a "when" only is used.
  EXPECT_FALSE(Find("unused-field", "/form/2")) << Dump();
}

TEST_F(BundleTest, PromiseShorterThanAPart) {
  json b = ValidBundle();
  b["time_limits"]["promised_days"] = 2;
  ExpectWarning(b, "promise-below-parts", "/time_limits/promised_days",
                "the bundle promises 2 working day(s), but part \"licence\" (item "
                "\"shop-licence\") alone promises 3");
}

TEST_F(BundleTest, PromisesAddUpAlongAfterChains) {
  // A slower filing (2 days) after the licence (3 days): 5 days one after another.
  json filing = FilingItem();
  filing["version"] = 2;
  filing["case_type"] = "promised";
  filing["time_limits"]["statutory_days"] = 5;
  filing["time_limits"]["promised_days"] = 2;
  json b = ValidBundle();
  b["time_limits"]["promised_days"] = 4;
  Check(b, {filing});
  const Diagnostic* d = Find("promise-below-parts", "/time_limits/promised_days");
  ASSERT_TRUE(d) << Dump();
  EXPECT_EQ(d->severity, Severity::kWarning);
  EXPECT_NE(d->message.find("\"licence\" (3) → \"filing\" (2) run one after another and promise "
                            "5 together"),
            std::string::npos)
      << d->message;
  // Run side by side, the longest single promise is what counts.
  b["parts"][1].erase("after");
  EXPECT_TRUE(Check(b, {filing}).empty()) << Dump();
}

}  // namespace
}  // namespace tongban
