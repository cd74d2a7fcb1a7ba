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
  set.AddText("bundle.json", "{\n  \"kind\": \"bundle\"\n}");
  set.Compile();
  std::vector<Diagnostic> all = set.Diagnostics();
  ASSERT_EQ(all.size(), 2u) << Dump(set);
  EXPECT_EQ(all[0].file, "calender.json");
  EXPECT_EQ(all[0].code, "bad-enum");
  EXPECT_EQ(all[0].pointer, "/kind");
  EXPECT_NE(all[0].message.find("did you mean \"calendar\""), std::string::npos) << all[0].message;
  // A planned kind is not available yet.
  EXPECT_EQ(all[1].file, "bundle.json");
  EXPECT_EQ(all[1].code, "bad-enum");
  EXPECT_EQ(all[1].position.line, 2);
  EXPECT_EQ(all[1].position.column, 3);
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

}  // namespace
}  // namespace tongban
