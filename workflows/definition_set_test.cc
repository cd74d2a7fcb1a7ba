#include "workflows/definition_set.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string CalendarText(const std::string& id = "test-cal", int version = 1) {
  json j = json::parse(R"({
    "kind": "calendar",
    "title": "test calendar",
    "time_zone": "Asia/Shanghai",
    "weekly_days_off": ["saturday", "sunday"],
    "years": [{"year": 2026, "holidays": [{"name": "元旦", "from": "2026-01-01", "to": "2026-01-03"}]}]
  })");
  j["id"] = id;
  j["version"] = version;
  return j.dump(2);
}

std::string ItemText(const std::string& id, int version, const std::string& calendar = "test-cal") {
  json j = json::parse(R"({
    "kind": "item",
    "title": "测试",
    "category": "filing",
    "case_type": "instant",
    "organ": {"id": "organ", "name": "机关"},
    "legal_basis": [{"citation": "《测试条例》"}],
    "time_limits": {"statutory_days": 1, "promised_days": 0},
    "form": {"fields": []},
    "steps": [{"id": "record", "title": "备案", "role": "clerk",
               "actions": {"file": {"decision": "approve"}, "reject": {"decision": "deny"}}}]
  })");
  j["id"] = id;
  j["version"] = version;
  j["time_limits"]["calendar"] = calendar;
  return j.dump(2);
}

class DefinitionSetTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-definition-set-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string Write(const std::string& relative, const std::string& text) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string Path(const std::string& relative) const { return (dir_ / relative).string(); }

  fs::path dir_;
};

std::string Dump(const DefinitionSet& set) {
  std::string out;
  for (const Diagnostic& d : set.Diagnostics())
    out += FormatDiagnostic(d) + " {" + d.code + "}\n";
  return out;
}

const Diagnostic* Find(const std::vector<Diagnostic>& diagnostics, const std::string& code) {
  for (const Diagnostic& d : diagnostics) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

TEST_F(DefinitionSetTest, LoadsADirectoryRecursivelyInSortedOrder) {
  Write("items/sub/b.json", ItemText("item-b", 1));
  Write("items/a.json", ItemText("item-a", 1));
  Write("calendars/test-cal.json", CalendarText());
  Write("items/readme.txt", "not a definition");
  Write("items/draft.json.bak", "{");
  DefinitionSet set;
  set.AddPath(dir_.string());
  ASSERT_EQ(set.files().size(), 3u);
  EXPECT_EQ(set.files()[0].name, Path("calendars/test-cal.json"));
  EXPECT_EQ(set.files()[1].name, Path("items/a.json"));
  EXPECT_EQ(set.files()[2].name, Path("items/sub/b.json"));
  set.Compile();
  EXPECT_FALSE(set.HasErrors()) << Dump(set);
  EXPECT_TRUE(set.Diagnostics().empty()) << Dump(set);
  EXPECT_EQ(set.reported_file_count(), 3u);
  ASSERT_EQ(set.Items().size(), 2u);
  ASSERT_EQ(set.Calendars().size(), 1u);
  auto a = set.FindItem("item-a");
  ASSERT_TRUE(a);
  // Items are compiled against the calendars of the set, even when listed before them.
  EXPECT_EQ(a->time_limits.calendar, set.FindCalendar("test-cal"));
  EXPECT_TRUE(set.FindItem("item-b"));
  EXPECT_FALSE(set.FindCalendar("cn-mainland"));
  EXPECT_EQ(set.files()[1].kind, "item");
  EXPECT_EQ(set.files()[1].source["id"], "item-a");
}

TEST_F(DefinitionSetTest, LoadsTheShippedDefinitions) {
  DefinitionSet set;
  set.AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions");
  set.Compile();
  EXPECT_FALSE(set.HasErrors()) << Dump(set);
  EXPECT_TRUE(set.FindCalendar("cn-mainland"));
  for (const char* id :
       {"construction-permit", "establishment-registration", "food-business-licence",
        "joint-drawing-review", "seal-engraving-filing"}) {
    EXPECT_TRUE(set.FindItem(id)) << id;
  }
}

TEST_F(DefinitionSetTest, UnknownKind) {
  DefinitionSet set;
  set.AddText("calender.json", R"({"kind": "calender", "id": "x"})");
  set.AddText("ledger.json", "{\n  \"kind\": \"ledger\"\n}");
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 2u) << Dump(set);
  EXPECT_EQ(all[0].file, "calender.json");
  EXPECT_EQ(all[0].code, "bad-enum");
  EXPECT_EQ(all[0].pointer, "/kind");
  EXPECT_NE(all[0].message.find("did you mean \"calendar\""), std::string::npos) << all[0].message;
  // The message lists every kind there is.
  EXPECT_EQ(all[1].file, "ledger.json");
  EXPECT_EQ(all[1].code, "bad-enum");
  EXPECT_EQ(all[1].position.line, 2);
  EXPECT_EQ(all[1].position.column, 3);
  EXPECT_NE(all[1].message.find("Tongban knows item, calendar, delegation_list, "
                                "handling_agreements, bundle and principals"),
            std::string::npos)
      << all[1].message;
  EXPECT_TRUE(set.HasErrors());
  EXPECT_TRUE(set.Items().empty());
}

TEST_F(DefinitionSetTest, FileLevelProblems) {
  DefinitionSet set;
  set.AddText("no-kind.json", R"({"id": "x"})");
  set.AddText("kind-number.json", R"({"kind": 3})");
  set.AddText("array.json", "[]");
  set.AddText("syntax.json", "{\n  \"kind\": \"item\",\n  \"id\": \"x\",,\n}");
  set.AddText("duplicate-key.json", "{\n  \"kind\": \"item\",\n  \"kind\": \"calendar\"\n}");
  set.AddPath(Path("does-not-exist.json"));
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 6u) << Dump(set);
  EXPECT_EQ(all[0].code, "missing-key");
  EXPECT_EQ(all[1].code, "wrong-type");
  EXPECT_EQ(all[1].pointer, "/kind");
  EXPECT_EQ(all[2].code, "wrong-type");
  EXPECT_EQ(all[2].pointer, "");
  EXPECT_EQ(all[3].code, "json-syntax");
  EXPECT_EQ(all[3].position.line, 3);  // the second comma
  EXPECT_EQ(all[3].position.column, 13);
  EXPECT_EQ(all[4].code, "json-syntax");
  EXPECT_NE(all[4].message.find("duplicate key"), std::string::npos) << all[4].message;
  EXPECT_EQ(all[4].position.line, 3);
  EXPECT_EQ(all[5].code, "unreadable");
  EXPECT_EQ(all[5].file, Path("does-not-exist.json"));
  EXPECT_EQ(set.reported_file_count(), 6u);
}

TEST_F(DefinitionSetTest, DuplicateIdAndVersionAcrossFiles) {
  Write("calendars/test-cal.json", CalendarText());
  Write("items/a.json", ItemText("same-item", 1));
  Write("items/b.json", ItemText("same-item", 1));
  Write("items/c.json", ItemText("same-item", 2));  // another version is fine
  DefinitionSet set;
  set.AddPath(dir_.string());
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 1u) << Dump(set);
  const Diagnostic& d = all[0];
  EXPECT_EQ(d.code, "duplicate-definition");
  EXPECT_EQ(d.severity, Severity::kError);
  EXPECT_EQ(d.file, Path("items/b.json"));  // the later file, in sorted order
  EXPECT_EQ(d.pointer, "/id");
  EXPECT_NE(d.message.find(Path("items/a.json")), std::string::npos) << d.message;
  EXPECT_TRUE(d.position.known());
  EXPECT_TRUE(set.HasErrors());
  // The first definition is kept, and the other version too.
  EXPECT_TRUE(set.FindItem("same-item", 1));
  EXPECT_TRUE(set.FindItem("same-item", 2));
  EXPECT_EQ(set.Items().size(), 2u);
}

TEST_F(DefinitionSetTest, DuplicateCalendarAcrossFiles) {
  DefinitionSet set;
  set.AddText("one.json", CalendarText("cal", 1));
  set.AddText("two.json", CalendarText("cal", 1));
  set.AddText("three.json", CalendarText("cal", 2));
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 1u) << Dump(set);
  EXPECT_EQ(all[0].code, "duplicate-definition");
  EXPECT_EQ(all[0].file, "two.json");
  // The highest version is the one items use.
  ASSERT_TRUE(set.FindCalendar("cal"));
  EXPECT_EQ(set.FindCalendar("cal")->version(), 2);
}

TEST_F(DefinitionSetTest, ContextFilesAreNotReported) {
  Write("calendars/test-cal.json", CalendarText());
  Write("calendars/broken.json", R"({"kind": "calendar", "id": "broken"})");
  DefinitionSet set;
  set.AddPath(Path("calendars"), /*report=*/false);
  set.AddText("draft.json", ItemText("draft", 1));
  set.Compile();
  EXPECT_EQ(set.files().size(), 3u);
  EXPECT_EQ(set.reported_file_count(), 1u);
  // The broken context file has errors of its own, but they are not reported.
  bool context_has_errors = false;
  for (const auto& file : set.files()) {
    if (!file.report && file.sink && file.sink->has_errors()) context_has_errors = true;
  }
  EXPECT_TRUE(context_has_errors);
  EXPECT_TRUE(set.Diagnostics().empty()) << Dump(set);
  EXPECT_FALSE(set.HasErrors());
  // The context resolved the reference.
  ASSERT_TRUE(set.FindItem("draft"));
  EXPECT_TRUE(set.FindItem("draft")->time_limits.calendar);

  // Without the context, the same item refers to an unknown calendar.
  DefinitionSet alone;
  alone.AddText("draft.json", ItemText("draft", 1));
  alone.Compile();
  std::vector<Diagnostic> all = alone.Diagnostics();
  const Diagnostic* d = Find(all, "unknown-calendar");
  ASSERT_TRUE(d) << Dump(alone);
  EXPECT_EQ(d->pointer, "/time_limits/calendar");
  EXPECT_EQ(d->file, "draft.json");
  EXPECT_TRUE(alone.HasErrors());
}

TEST_F(DefinitionSetTest, FindItemPicksTheLatestVersion) {
  DefinitionSet set;
  set.AddText("cal.json", CalendarText());
  set.AddText("v2.json", ItemText("item", 2));
  set.AddText("v10.json", ItemText("item", 10));
  set.AddText("v1.json", ItemText("item", 1));
  set.AddText("other.json", ItemText("item-other", 99));
  set.Compile();
  ASSERT_FALSE(set.HasErrors()) << Dump(set);
  auto latest = set.FindItem("item");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version, 10);  // numerically highest, not "9" > "10" as text
  EXPECT_EQ(set.FindItem("item", 0)->version, 10);
  ASSERT_TRUE(set.FindItem("item", 2));
  EXPECT_EQ(set.FindItem("item", 2)->version, 2);
  EXPECT_EQ(set.FindItem("item", 1)->version, 1);
  EXPECT_FALSE(set.FindItem("item", 3));
  EXPECT_FALSE(set.FindItem("ite"));
  EXPECT_FALSE(set.FindItem("item-other", 1));
  EXPECT_EQ(set.FindItem("item-other")->version, 99);
  EXPECT_EQ(set.Items().size(), 4u);
}

TEST_F(DefinitionSetTest, DiagnosticsAreInFileThenPositionOrder) {
  // Line 3 has an unknown key, line 2 a bad category: reported as line 2, then line 3.
  json item = json::parse(ItemText("ordered", 1));
  item["category"] = "filling";
  std::string text = item.dump(2);
  text.insert(text.find('\n') + 1, "  \"zzz\": 1,\n");
  text.insert(text.find('\n') + 1, "  \"aaa\": 1,\n");
  DefinitionSet set;
  set.AddText("cal.json", CalendarText());
  set.AddText("first.json", text);
  set.AddText("second.json", R"({"kind": "nothing"})");
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 4u) << Dump(set);
  EXPECT_EQ(all[0].file, "first.json");
  EXPECT_EQ(all[0].pointer, "/aaa");
  EXPECT_EQ(all[0].position.line, 2);
  EXPECT_EQ(all[1].pointer, "/zzz");
  EXPECT_EQ(all[1].position.line, 3);
  EXPECT_EQ(all[2].pointer, "/category");
  EXPECT_GT(all[2].position.line, 3);
  EXPECT_EQ(all[3].file, "second.json");
}

// A bundle over two items; `promised` fills its promise.
std::string BundleText(const std::string& id, int version, const json& parts) {
  json j = {{"kind", "bundle"},
            {"id", id},
            {"version", version},
            {"title", "测试一件事"},
            {"lead_organ", {{"id", "organ"}, {"name", "机关"}}},
            {"time_limits", {{"calendar", "test-cal"}, {"promised_days", 1}}},
            {"form", json::array()},
            {"parts", parts}};
  return j.dump(2);
}

TEST_F(DefinitionSetTest, BundlesAreCompiledAfterTheItemsTheyName) {
  json parts = json::parse(R"([{"id": "a", "title": "A", "item": "item-a"},
                               {"id": "b", "title": "B", "item": "item-b", "after": ["a"]}])");
  DefinitionSet set;
  // The bundle comes first, its items later and only as context.
  set.AddText("bundle.json", BundleText("pair", 1, parts));
  set.AddText("bundle-v2.json", BundleText("pair", 2, parts));
  set.AddText("a.json", ItemText("item-a", 1), false);
  set.AddText("b.json", ItemText("item-b", 1), false);
  set.AddText("cal.json", CalendarText(), false);
  set.Compile();
  EXPECT_FALSE(set.HasErrors()) << Dump(set);
  ASSERT_TRUE(set.FindBundle("pair"));
  EXPECT_EQ(set.FindBundle("pair")->version, 2);
  EXPECT_EQ(set.FindBundle("pair", 1)->version, 1);
  EXPECT_FALSE(set.FindBundle("pair", 3));
  EXPECT_EQ(set.Bundles().size(), 2u);
  EXPECT_EQ(set.FindBundle("pair")->parts[1].item, set.FindItem("item-b"));
}

TEST_F(DefinitionSetTest, SameBundleVersionInTwoFiles) {
  json parts = json::parse(R"([{"id": "a", "title": "A", "item": "item-a"},
                               {"id": "b", "title": "B", "item": "item-a"}])");
  DefinitionSet set;
  set.AddText("cal.json", CalendarText(), false);
  set.AddText("a.json", ItemText("item-a", 1), false);
  set.AddText("one.json", BundleText("pair", 1, parts));
  set.AddText("two.json", BundleText("pair", 1, parts));
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  const Diagnostic* d = Find(all, "duplicate-definition");
  ASSERT_TRUE(d) << Dump(set);
  EXPECT_EQ(d->file, "two.json");
  EXPECT_NE(d->message.find("bundle \"pair\" version 1 is also defined in one.json"),
            std::string::npos)
      << d->message;
}

// A deployed bundle keeps the item versions it was checked with: an item named without a version
// resolves to the highest version deployed at or before the bundle itself.
TEST_F(DefinitionSetTest, DeployedTextsResolveItemsAsOfTheirDeployment) {
  auto at = [](int day) { return Instant{} + std::chrono::hours(24 * day); };
  json parts = json::parse(R"([{"id": "a", "title": "A", "item": "item-a"},
                               {"id": "b", "title": "B", "item": "item-a"}])");
  DefinitionSet set;
  set.AddText("cal.json", CalendarText(), true, at(0));
  set.AddText("item-a@1", ItemText("item-a", 1), true, at(1));
  set.AddText("pair@1", BundleText("pair", 1, parts), true, at(2));
  set.AddText("item-a@2", ItemText("item-a", 2), true, at(3));
  set.AddText("pair@2", BundleText("pair", 2, parts), true, at(3));  // same instant: sees v2
  set.AddText("draft", BundleText("draft", 1, parts), true);         // not deployed: sees all
  set.Compile();
  ASSERT_FALSE(set.HasErrors()) << Dump(set);
  EXPECT_EQ(set.FindBundle("pair", 1)->parts[0].item->version, 1);
  EXPECT_EQ(set.FindBundle("pair", 2)->parts[0].item->version, 2);
  EXPECT_EQ(set.FindBundle("draft")->parts[0].item->version, 2);
  EXPECT_EQ(set.FindItem("item-a")->version, 2);

  // An item not deployed yet is invisible to a deployed bundle.
  DefinitionSet later;
  later.AddText("cal.json", CalendarText());
  later.AddText("pair@1", BundleText("pair", 1, parts), true, at(2));
  later.AddText("item-a", ItemText("item-a", 1));
  later.Compile();
  std::vector<Diagnostic> all = later.Diagnostics();
  const Diagnostic* d = Find(all, "unknown-item");
  ASSERT_TRUE(d) << Dump(later);
  EXPECT_EQ(d->pointer, "/parts/0/item");
}

TEST_F(DefinitionSetTest, AgreementsAreCheckedAgainstDelegationListsOfTheSet) {
  std::string delegations = R"({
    "kind": "delegation_list", "id": "zone", "version": 1, "title": "赋权",
    "delegations": [{"id": "d1", "item": "item-a", "from": {"id": "organ", "name": "机关"},
      "to": {"id": "zone-bureau", "name": "区审批局"}, "powers": ["accept", "review"],
      "form": "entrustment", "legal_basis": [{"citation": "《行政许可法》"}],
      "effective_from": "2026-01-01"}]})";
  std::string agreements = R"({
    "kind": "handling_agreements", "id": "remote", "version": 1, "title": "通办",
    "agreements": [{"id": "a1", "receiving_organ": {"id": "window", "name": "窗口"},
      "handling_organ": {"id": "zone-bureau", "name": "区审批局"}, "items": ["item-a"],
      "legal_basis": [{"citation": "《协议》"}], "effective_from": "2026-01-01"}]})";
  DefinitionSet set;
  set.AddText("agreements.json", agreements);  // before the delegation list in file order
  set.AddText("delegations.json", delegations, false);
  set.AddText("a.json", ItemText("item-a", 1), false);
  set.AddText("cal.json", CalendarText(), false);
  set.Compile();
  EXPECT_FALSE(set.HasErrors()) << Dump(set);
  ASSERT_EQ(set.AgreementLists().size(), 1u);
  EXPECT_EQ(set.DelegationLists().size(), 1u);

  DefinitionSet alone;
  alone.AddText("agreements.json", agreements);
  alone.AddText("a.json", ItemText("item-a", 1), false);
  alone.AddText("cal.json", CalendarText(), false);
  alone.Compile();
  std::vector<Diagnostic> all = alone.Diagnostics();
  ASSERT_TRUE(Find(all, "handling-organ-not-competent")) << Dump(alone);
  EXPECT_TRUE(alone.AgreementLists().empty());
}

}  // namespace
}  // namespace tongban
