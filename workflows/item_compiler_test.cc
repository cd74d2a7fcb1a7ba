#include "workflows/item_compiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "workflows/definition_set.h"
#include "workflows/frame_actions.h"
#include "workflows/json_document.h"

namespace tongban {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::shared_ptr<const Calendar> ShippedCalendar() {
  static const std::shared_ptr<const Calendar> calendar = [] {
    json root = json::parse(
        ReadFile(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars/cn-mainland.json"));
    DiagnosticSink sink("cn-mainland.json", nullptr);
    return CompileCalendar(root, &sink);
  }();
  EXPECT_TRUE(calendar);
  return calendar;
}

std::shared_ptr<const Calendar> Lookup(const std::string& id) {
  return id == "cn-mainland" ? ShippedCalendar() : nullptr;
}

// A small but complete item: review ⇄ decide, with a guard, materials and a four-eyes pair.
json ValidItem() {
  return json::parse(R"({
    "kind": "item",
    "id": "test-item",
    "version": 2,
    "title": "测试事项",
    "category": "licensing",
    "case_type": "promised",
    "organ": {"id": "test-organ", "name": "测试局"},
    "legal_basis": [{"citation": "《中华人民共和国行政许可法》", "article": "第四十二条"}],
    "time_limits": {"calendar": "cn-mainland", "statutory_days": 20, "promised_days": 5},
    "form": {"fields": [
      {"id": "area", "label": "面积", "type": "number", "required": true},
      {"id": "kind", "label": "类型", "type": "enum", "values": ["a", "b"]}
    ]},
    "materials": [
      {"id": "application_form", "name": "申请表", "necessity": "required"},
      {"id": "plan", "name": "平面图", "necessity": "optional"}
    ],
    "steps": [
      {"id": "review", "title": "审查", "role": "reviewer", "time_limit_days": 2,
       "actions": {
         "pass": {"title": "通过", "to": "decide", "requires_materials": ["application_form"],
                  "guard": {">=": [{"var": "area"}, 0]}},
         "deny": {"title": "拟不予许可", "decision": "deny", "requires_reason": true}
       }},
      {"id": "decide", "title": "决定", "role": "approver", "time_limit_days": 1,
       "actions": {
         "approve": {"decision": "approve"},
         "deny": {"decision": "deny", "requires_reason": true},
         "send_back": {"to": "review"}
       }}
    ],
    "four_eyes": [["review", "decide"]]
  })");
}

struct Compiled {
  std::shared_ptr<const Item> item;
  std::vector<Diagnostic> diagnostics;

  const Diagnostic* Find(const std::string& code, const std::string& pointer) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code && d.pointer == pointer) return &d;
    }
    return nullptr;
  }
  bool Has(const std::string& code, const std::string& pointer) const {
    return Find(code, pointer) != nullptr;
  }
  bool HasCode(const std::string& code) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code) return true;
    }
    return false;
  }
  size_t Errors() const {
    size_t n = 0;
    for (const Diagnostic& d : diagnostics)
      n += d.severity == Severity::kError;
    return n;
  }
  std::string Dump() const {
    std::string out;
    for (const Diagnostic& d : diagnostics)
      out += FormatDiagnostic(d) + " {" + d.code + "}\n";
    return out;
  }
};

Compiled Compile(const json& root, const CalendarLookup& lookup = Lookup) {
  DiagnosticSink sink("item.json", nullptr);
  Compiled result;
  result.item = CompileItem(root, lookup, &sink);
  result.diagnostics = sink.diagnostics();
  EXPECT_EQ(result.item == nullptr, sink.has_errors()) << result.Dump();
  return result;
}

// Expects the mutated item to be refused with `code` at `pointer`, and the message to contain
// `message_part`.
void ExpectError(const json& root, const std::string& code, const std::string& pointer,
                 const std::string& message_part = "") {
  Compiled c = Compile(root);
  EXPECT_FALSE(c.item);
  const Diagnostic* d = c.Find(code, pointer);
  ASSERT_TRUE(d) << "expected " << code << " at " << pointer << ", got:\n" << c.Dump();
  EXPECT_EQ(d->severity, Severity::kError);
  if (!message_part.empty()) {
    EXPECT_NE(d->message.find(message_part), std::string::npos) << d->message;
  }
}

TEST(ItemCompilerTest, ValidItemCompiles) {
  Compiled c = Compile(ValidItem());
  ASSERT_TRUE(c.item) << c.Dump();
  EXPECT_TRUE(c.diagnostics.empty()) << c.Dump();
  const Item& item = *c.item;
  EXPECT_EQ(item.id, "test-item");
  EXPECT_EQ(item.version, 2);
  EXPECT_EQ(item.category, ItemCategory::kLicensing);
  EXPECT_EQ(item.case_type, CaseType::kPromised);
  EXPECT_EQ(item.organ.id, "test-organ");
  ASSERT_EQ(item.legal_basis.size(), 1u);
  EXPECT_EQ(item.legal_basis[0].article, "第四十二条");
  EXPECT_EQ(item.time_limits.calendar, ShippedCalendar());
  EXPECT_EQ(item.time_limits.statutory_days, 20);
  EXPECT_EQ(item.time_limits.promised_days, 5);
  EXPECT_EQ(item.time_limits.extension_days, 10);  // the default of art. 42
  EXPECT_EQ(item.time_limits.yellow_when_days_left, 3);
  ASSERT_EQ(item.form.size(), 2u);
  EXPECT_EQ(item.form[1].type, FieldType::kEnum);
  EXPECT_EQ(item.form[1].values, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(item.materials.size(), 2u);
  EXPECT_EQ(item.materials[1].necessity, Necessity::kOptional);
  EXPECT_TRUE(item.standard_mode);
  EXPECT_FALSE(item.commitment);
  ASSERT_EQ(item.steps.size(), 2u);
  EXPECT_EQ(item.initial_step, 0u);
  EXPECT_EQ(item.StepIndex("decide"), 1u);
  const Step& review = item.steps[0];
  EXPECT_EQ(review.time_limit_days, 2);
  EXPECT_TRUE(review.counts_toward_limit);
  EXPECT_FALSE(review.is_joint());
  const Action* pass = review.FindAction("pass");
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->to_step, 1u);
  EXPECT_FALSE(pass->decision);
  ASSERT_TRUE(pass->guard);
  EXPECT_TRUE(pass->guard->Evaluate(json{{"area", 10}}));
  EXPECT_FALSE(pass->guard->Evaluate(json{{"area", -1}}));
  EXPECT_EQ(pass->requires_materials, (std::vector<std::string>{"application_form"}));
  EXPECT_EQ(pass->title, "通过");
  const Action* deny = review.FindAction("deny");
  ASSERT_TRUE(deny);
  EXPECT_EQ(deny->decision, Decision::kDeny);
  EXPECT_TRUE(deny->requires_reason);
  EXPECT_FALSE(deny->guard);
  const Step& decide = item.steps[1];
  EXPECT_EQ(decide.FindAction("send_back")->to_step, 0u);
  EXPECT_EQ(decide.FindAction("send_back")->title, "send_back");  // the title defaults to the id
  EXPECT_EQ(decide.FindAction("approve")->decision, Decision::kApprove);
  EXPECT_EQ(item.four_eyes, (std::vector<std::pair<size_t, size_t>>{{0, 1}}));
  EXPECT_EQ(item.FourEyesPartners(0), (std::vector<size_t>{1}));
  EXPECT_EQ(item.FourEyesPartners(1), (std::vector<size_t>{0}));
  EXPECT_EQ(item.content_hash.size(), 64u);
}

TEST(ItemCompilerTest, ContentHashFollowsTheContent) {
  std::string a = Compile(ValidItem()).item->content_hash;
  EXPECT_EQ(Compile(ValidItem()).item->content_hash, a);
  json changed = ValidItem();
  changed["title"] = "另一个事项";
  EXPECT_NE(Compile(changed).item->content_hash, a);
}

TEST(ItemCompilerTest, UnknownKeyWithSuggestion) {
  json root = ValidItem();
  root["titel"] = "x";
  ExpectError(root, "unknown-key", "/titel", "did you mean \"title\"");

  root = ValidItem();
  root["steps"][0]["actions"]["pass"]["requires_material"] = json::array();
  ExpectError(root, "unknown-key", "/steps/0/actions/pass/requires_material",
              "did you mean \"requires_materials\"");

  root = ValidItem();
  root["time_limits"]["promise_days"] = 3;
  ExpectError(root, "unknown-key", "/time_limits/promise_days", "did you mean \"promised_days\"");

  root = ValidItem();
  root["zzzzzzzz"] = 1;
  Compiled c = Compile(root);
  ASSERT_TRUE(c.Has("unknown-key", "/zzzzzzzz")) << c.Dump();
  EXPECT_EQ(c.Find("unknown-key", "/zzzzzzzz")->message.find("did you mean"), std::string::npos);
}

TEST(ItemCompilerTest, MissingRequiredKey) {
  for (const char* key : {"id", "version", "title", "category", "case_type", "organ", "legal_basis",
                          "time_limits", "form", "steps"}) {
    SCOPED_TRACE(key);
    json root = ValidItem();
    root.erase(key);
    ExpectError(root, "missing-key", "", std::string("\"") + key + "\"");
  }
  json root = ValidItem();
  root["steps"][0].erase("role");
  ExpectError(root, "missing-key", "/steps/0", "\"role\"");
  root = ValidItem();
  root["time_limits"].erase("calendar");
  ExpectError(root, "missing-key", "/time_limits", "\"calendar\"");
  root = ValidItem();
  root["form"]["fields"][0].erase("type");
  ExpectError(root, "missing-key", "/form/fields/0", "\"type\"");
  // Optional keys may be left out.
  root = ValidItem();
  root.erase("materials");
  root.erase("four_eyes");
  root["steps"][0]["actions"]["pass"].erase("requires_materials");
  EXPECT_TRUE(Compile(root).item);
}

TEST(ItemCompilerTest, WrongType) {
  json root = ValidItem();
  root["version"] = "2";
  ExpectError(root, "wrong-type", "/version", "whole number");
  root = ValidItem();
  root["steps"][0]["time_limit_days"] = "2";
  ExpectError(root, "wrong-type", "/steps/0/time_limit_days");
  root = ValidItem();
  root["steps"][0]["time_limit_days"] = 2.5;
  ExpectError(root, "wrong-type", "/steps/0/time_limit_days");
  root = ValidItem();
  root["steps"] = json::object();
  ExpectError(root, "wrong-type", "/steps");
  root = ValidItem();
  root["legal_basis"][0] = "行政许可法";
  ExpectError(root, "wrong-type", "/legal_basis/0");
  root = ValidItem();
  root["form"]["fields"][0]["required"] = "yes";
  ExpectError(root, "wrong-type", "/form/fields/0/required");
  root = ValidItem();
  root["steps"][0]["actions"]["pass"]["requires_materials"] = {"application_form", 7};
  ExpectError(root, "wrong-type", "/steps/0/actions/pass/requires_materials/1");
  root = ValidItem();
  root["steps"][0]["actions"]["pass"]["to"] = 1;
  ExpectError(root, "wrong-type", "/steps/0/actions/pass/to");
  ExpectError(json::array(), "wrong-type", "");
}

TEST(ItemCompilerTest, OutOfRangeAndBadIds) {
  json root = ValidItem();
  root["version"] = 0;
  ExpectError(root, "out-of-range", "/version");
  root = ValidItem();
  root["time_limits"]["statutory_days"] = -1;
  ExpectError(root, "out-of-range", "/time_limits/statutory_days");
  root = ValidItem();
  root["id"] = "Test Item";
  ExpectError(root, "bad-id", "/id");
  root = ValidItem();
  root["steps"][0]["actions"]["Pass"] = root["steps"][0]["actions"]["pass"];
  ExpectError(root, "bad-id", "/steps/0/actions/Pass");
  root = ValidItem();
  root["title"] = "";
  ExpectError(root, "empty-string", "/title");
}

TEST(ItemCompilerTest, BadEnum) {
  json root = ValidItem();
  root["category"] = "licencing";
  ExpectError(root, "bad-enum", "/category", "did you mean \"licensing\"");
  root = ValidItem();
  root["case_type"] = "promise";
  ExpectError(root, "bad-enum", "/case_type", "did you mean \"promised\"");
  root = ValidItem();
  root["form"]["fields"][0]["type"] = "integer";
  ExpectError(root, "bad-enum", "/form/fields/0/type");
  root = ValidItem();
  root["materials"][0]["necessity"] = "requried";
  ExpectError(root, "bad-enum", "/materials/0/necessity", "did you mean \"required\"");
  root = ValidItem();
  root["steps"][0]["special_procedure"] = "hearings";
  ExpectError(root, "bad-enum", "/steps/0/special_procedure", "did you mean \"hearing\"");
  root = ValidItem();
  root["steps"][1]["actions"]["approve"]["decision"] = "approved";
  ExpectError(root, "bad-enum", "/steps/1/actions/approve/decision", "did you mean \"approve\"");
}

TEST(ItemCompilerTest, DuplicateIds) {
  json root = ValidItem();
  json copy = root["steps"][1];
  root["steps"].push_back(copy);  // a second "decide"
  ExpectError(root, "duplicate-id", "/steps/2/id", "\"decide\"");

  root = ValidItem();
  root["form"]["fields"].push_back({{"id", "area"}, {"label", "x"}, {"type", "string"}});
  ExpectError(root, "duplicate-id", "/form/fields/2/id", "\"area\"");

  root = ValidItem();
  root["materials"].push_back({{"id", "plan"}, {"name", "x"}, {"necessity", "optional"}});
  ExpectError(root, "duplicate-id", "/materials/2/id", "\"plan\"");

  root = ValidItem();
  root["form"]["fields"][1]["values"] = {"a", "b", "a"};
  ExpectError(root, "duplicate-id", "/form/fields/1/values/2");

  root = ValidItem();
  root["roles"] = {{{"id", "inspector"}, {"title", "核查"}},
                   {{"id", "inspector"}, {"title", "核查"}}};
  ExpectError(root, "duplicate-id", "/roles/1/id");
  root["roles"] = {{{"id", "reviewer"}, {"title", "审查"}}};  // a built-in role
  ExpectError(root, "duplicate-id", "/roles/0/id");
}

TEST(ItemCompilerTest, UnknownStepInTo) {
  json root = ValidItem();
  root["steps"][1]["actions"]["send_back"]["to"] = "reveiw";
  ExpectError(root, "unknown-step", "/steps/1/actions/send_back/to", "did you mean \"review\"");
  root = ValidItem();
  root["steps"][0]["actions"]["pass"]["to"] = "decid";
  ExpectError(root, "unknown-step", "/steps/0/actions/pass/to", "did you mean \"decide\"");
  root = ValidItem();
  root["initial_step"] = "start";
  ExpectError(root, "unknown-step", "/initial_step");
}

TEST(ItemCompilerTest, InitialStep) {
  json root = ValidItem();
  // Start at decide; review is still reachable through send_back.
  root["initial_step"] = "decide";
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  EXPECT_EQ(c.item->initial_step, 1u);
}

TEST(ItemCompilerTest, UnknownRole) {
  json root = ValidItem();
  root["steps"][0]["role"] = "reviwer";
  ExpectError(root, "unknown-role", "/steps/0/role", "did you mean \"reviewer\"");
  // A declared role may be used.
  root = ValidItem();
  root["roles"] = {{{"id", "inspector"}, {"title", "现场核查人员"}}};
  root["steps"][0]["role"] = "inspector";
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  EXPECT_TRUE(c.item->HasRole("inspector"));
  EXPECT_TRUE(c.item->HasRole("verifier"));
  EXPECT_FALSE(c.item->HasRole("janitor"));
}

TEST(ItemCompilerTest, UnknownMaterial) {
  json root = ValidItem();
  root["steps"][0]["actions"]["pass"]["requires_materials"] = {"plan", "aplication_form"};
  ExpectError(root, "unknown-material", "/steps/0/actions/pass/requires_materials/1",
              "did you mean \"application_form\"");
}

TEST(ItemCompilerTest, UnknownCalendar) {
  json root = ValidItem();
  root["time_limits"]["calendar"] = "cn-mainlnd";
  ExpectError(root, "unknown-calendar", "/time_limits/calendar", "cn-mainlnd");
  // Without any calendars at all.
  Compiled c = Compile(ValidItem(), CalendarLookup());
  EXPECT_FALSE(c.item);
  EXPECT_TRUE(c.Has("unknown-calendar", "/time_limits/calendar")) << c.Dump();
}

TEST(ItemCompilerTest, PromiseMayNotExceedStatute) {
  json root = ValidItem();
  root["time_limits"]["promised_days"] = 21;
  ExpectError(root, "promise-exceeds-statute", "/time_limits/promised_days");
  root["time_limits"]["promised_days"] = 20;  // equal is fine
  Compiled c = Compile(root);
  EXPECT_TRUE(c.item) << c.Dump();
}

TEST(ItemCompilerTest, ReservedActionIds) {
  for (const std::string& id : ReservedActionIds()) {
    SCOPED_TRACE(id);
    json root = ValidItem();
    root["steps"][1]["actions"][id] = {{"to", "review"}};
    ExpectError(root, "reserved-action", "/steps/1/actions/" + id);
  }
}

TEST(ItemCompilerTest, ActionNeedsExactlyOneTarget) {
  json root = ValidItem();
  root["steps"][0]["actions"]["pass"]["decision"] = "approve";
  ExpectError(root, "action-target", "/steps/0/actions/pass");
  root = ValidItem();
  root["steps"][0]["actions"]["deny"].erase("decision");
  ExpectError(root, "action-target", "/steps/0/actions/deny");
}

TEST(ItemCompilerTest, EmptyLists) {
  json root = ValidItem();
  root["legal_basis"] = json::array();
  ExpectError(root, "empty-list", "/legal_basis");
  root = ValidItem();
  root["steps"] = json::array();
  ExpectError(root, "empty-list", "/steps");
  root = ValidItem();
  root["steps"][0]["actions"] = json::object();
  ExpectError(root, "empty-list", "/steps/0/actions");
  root = ValidItem();
  root["form"]["fields"][1]["values"] = json::array();
  ExpectError(root, "empty-list", "/form/fields/1/values");
}

TEST(ItemCompilerTest, EnumValues) {
  json root = ValidItem();
  root["form"]["fields"][1].erase("values");
  ExpectError(root, "missing-key", "/form/fields/1", "values");
  root = ValidItem();
  root["form"]["fields"][0]["values"] = {"1", "2"};
  ExpectError(root, "values-without-enum", "/form/fields/0/values");
}

json JointStep() {
  return json::parse(R"({
    "id": "joint_review", "title": "联合审查", "role": "reviewer", "time_limit_days": 2,
    "joint": {
      "parties": [
        {"id": "building", "title": "建筑审查", "role": "reviewer"},
        {"id": "fire", "title": "消防审查", "role": "approver", "organ": {"id": "city-housing", "name": "住建局"}}
      ],
      "completes_with": "conclude"
    },
    "actions": {
      "conclude": {"to": "decide"},
      "reject": {"decision": "deny"}
    }
  })");
}

TEST(ItemCompilerTest, JointStep) {
  json root = ValidItem();
  root["steps"][0] = JointStep();
  root["steps"][1]["actions"]["send_back"]["to"] = "joint_review";
  root["four_eyes"] = json::parse(R"([["joint_review", "decide"]])");
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  const Step& step = c.item->steps[0];
  EXPECT_TRUE(step.is_joint());
  ASSERT_EQ(step.parties.size(), 2u);
  EXPECT_EQ(step.parties[1].organ.id, "city-housing");
  EXPECT_EQ(step.parties[1].organ.name, "住建局");
  EXPECT_EQ(step.parties[0].organ.id, "");

  // The first item versions named the organ by name only: still read, with a warning.
  json name_only = root;
  name_only["steps"][0]["joint"]["parties"][1]["organ"] = "住建局";
  Compiled legacy = Compile(name_only);
  ASSERT_TRUE(legacy.item) << legacy.Dump();
  EXPECT_EQ(legacy.item->steps[0].parties[1].organ.name, "住建局");
  EXPECT_EQ(legacy.item->steps[0].parties[1].organ.id, "");
  EXPECT_TRUE(legacy.Has("party-organ-without-id", "/steps/0/joint/parties/1/organ"))
      << legacy.Dump();
  EXPECT_EQ(step.completes_with, "conclude");

  json one = root;
  one["steps"][0]["joint"]["parties"].erase(1);
  ExpectError(one, "joint-too-few-parties", "/steps/0/joint/parties");

  json unknown_action = root;
  unknown_action["steps"][0]["joint"]["completes_with"] = "conclud";
  ExpectError(unknown_action, "unknown-action", "/steps/0/joint/completes_with",
              "did you mean \"conclude\"");

  json unknown_role = root;
  unknown_role["steps"][0]["joint"]["parties"][1]["role"] = "fire_reviewer";
  ExpectError(unknown_role, "unknown-role", "/steps/0/joint/parties/1/role");

  json duplicate_party = root;
  duplicate_party["steps"][0]["joint"]["parties"][1]["id"] = "building";
  ExpectError(duplicate_party, "duplicate-id", "/steps/0/joint/parties/1/id");
}

TEST(ItemCompilerTest, FourEyes) {
  json root = ValidItem();
  root["four_eyes"] = json::parse(R"([["review", "decid"]])");
  ExpectError(root, "unknown-step", "/four_eyes/0/1", "did you mean \"decide\"");
  root["four_eyes"] = json::parse(R"([["reviewing", "decide"]])");
  ExpectError(root, "unknown-step", "/four_eyes/0/0");
  root["four_eyes"] = json::parse(R"([["review", "decide"], ["review", "review"]])");
  ExpectError(root, "four-eyes-same-step", "/four_eyes/1");
  root["four_eyes"] = json::parse(R"([["review"]])");
  ExpectError(root, "wrong-type", "/four_eyes/0");
  root["four_eyes"] = json::parse(R"([["review", "decide", "review"]])");
  ExpectError(root, "wrong-type", "/four_eyes/0");
}

json CommitmentMode() {
  return json::parse(R"({
    "template": {"id": "test-commitment", "version": 1, "text": "本人承诺……"},
    "decide_at_acceptance": true,
    "verification": {"method": "on_site_inspection", "working_days": 20}
  })");
}

TEST(ItemCompilerTest, Modes) {
  json root = ValidItem();
  root["modes"] = {{"standard", json::object()}, {"commitment", CommitmentMode()}};
  Compiled both = Compile(root);
  ASSERT_TRUE(both.item) << both.Dump();
  EXPECT_TRUE(both.item->standard_mode);
  ASSERT_TRUE(both.item->commitment);
  EXPECT_TRUE(both.item->commitment->decide_at_acceptance);
  EXPECT_EQ(both.item->commitment->verification_method, "on_site_inspection");
  EXPECT_EQ(both.item->commitment->verification_days, 20);
  EXPECT_EQ(both.item->commitment->template_id, "test-commitment");

  root["modes"] = {{"commitment", CommitmentMode()}};
  Compiled only = Compile(root);
  ASSERT_TRUE(only.item) << only.Dump();
  EXPECT_FALSE(only.item->standard_mode);

  root["modes"] = json::object();
  ExpectError(root, "no-mode", "/modes");

  root["modes"] = {{"standard", {{"fast", true}}}};
  ExpectError(root, "unknown-key", "/modes/standard/fast");
}

TEST(ItemCompilerTest, CommitmentModeNeedsVerification) {
  json root = ValidItem();
  json mode = CommitmentMode();
  mode.erase("verification");
  root["modes"] = {{"standard", json::object()}, {"commitment", mode}};
  ExpectError(root, "missing-verification", "/modes/commitment");

  mode = CommitmentMode();
  mode["verification"]["method"] = "phone_call";
  root["modes"] = {{"commitment", mode}};
  ExpectError(root, "bad-enum", "/modes/commitment/verification/method");
}

TEST(ItemCompilerTest, SpecialProcedures) {
  json root = ValidItem();
  json detection = json::parse(R"({
    "id": "detection", "title": "检测", "role": "verifier", "special_procedure": "detection",
    "time_limit_days": 5, "actions": {"report": {"to": "decide"}}})");
  root["steps"].push_back(detection);
  root["steps"][0]["actions"]["detect"] = {{"to", "detection"}};
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  const Step* step = c.item->FindStep("detection");
  ASSERT_TRUE(step);
  EXPECT_EQ(step->special_procedure, "detection");
  EXPECT_FALSE(step->counts_toward_limit);  // the clock pauses by default
  EXPECT_EQ(SpecialProcedureTitle("detection"), "检测");
  EXPECT_EQ(SpecialProcedureTitle("testing"), "检验");

  root["steps"][2]["counts_toward_limit"] = false;  // saying so explicitly is fine
  EXPECT_TRUE(Compile(root).item);

  root["steps"][2]["counts_toward_limit"] = true;
  ExpectError(root, "special-procedure-counted", "/steps/2/counts_toward_limit");
}

// Art. 45's list is exact: every one of its eight procedures pauses on its own authority.
TEST(ItemCompilerTest, EveryArt45ProcedurePausesWithoutCitation) {
  for (const char* kind : {"hearing", "bidding", "auction", "testing", "detection", "quarantine",
                           "appraisal", "expert_review"}) {
    json root = ValidItem();
    root["steps"][0]["special_procedure"] = kind;
    Compiled c = Compile(root);
    ASSERT_TRUE(c.item) << kind << "\n" << c.Dump();
    EXPECT_FALSE(c.item->steps[0].counts_toward_limit) << kind;
    EXPECT_TRUE(IsArt45Procedure(kind)) << kind;
  }
  EXPECT_FALSE(IsArt45Procedure("inspection"));
}

// 勘验/现场核查 is part of the review (art. 34): it pauses only under a rule the item cites.
TEST(ItemCompilerTest, OnSiteInspectionNeedsTheRuleThatExcludesIt) {
  json root = ValidItem();
  root["steps"][0]["special_procedure"] = "inspection";
  ExpectError(root, "exclusion-not-cited", "/steps/0/special_procedure", "art. 34");

  root["steps"][0]["excluded_by"] = {{"citation", "《××条例》"}, {"article", "第二十条"}};
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  EXPECT_FALSE(c.item->steps[0].counts_toward_limit);
  ASSERT_TRUE(c.item->steps[0].excluded_by);
  EXPECT_EQ(c.item->steps[0].excluded_by->article, "第二十条");

  // The citation is a citation: it needs its instrument.
  root["steps"][0]["excluded_by"] = {{"article", "第二十条"}};
  ExpectError(root, "missing-key", "/steps/0/excluded_by");

  // An ordinary step kept out of the limits needs the citation too.
  json plain = ValidItem();
  plain["steps"][0]["counts_toward_limit"] = false;
  ExpectError(plain, "exclusion-not-cited", "/steps/0/counts_toward_limit");
  plain["steps"][0]["excluded_by"] = {{"citation", "《××条例》"}};
  Compiled p = Compile(plain);
  ASSERT_TRUE(p.item) << p.Dump();
  EXPECT_FALSE(p.item->steps[0].counts_toward_limit);

  // Read back from the store, a definition deployed before the rule keeps its meaning: a warning.
  json legacy = ValidItem();
  legacy["steps"][0]["special_procedure"] = "inspection";
  DiagnosticSink sink("stored.json", nullptr);
  auto stored = CompileItem(legacy, Lookup, &sink, /*stored=*/true);
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->steps[0].counts_toward_limit);
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].code, "exclusion-not-cited");
  EXPECT_EQ(sink.diagnostics()[0].severity, Severity::kWarning);
}

TEST(ItemCompilerTest, LimitUnits) {
  json root = ValidItem();
  Compiled defaults = Compile(root);
  ASSERT_TRUE(defaults.item) << defaults.Dump();
  EXPECT_EQ(defaults.item->time_limits.statutory_unit, DayUnit::kWorkingDays);
  EXPECT_EQ(defaults.item->time_limits.promised_unit, DayUnit::kWorkingDays);
  EXPECT_EQ(defaults.item->steps[0].time_limit_unit, DayUnit::kWorkingDays);

  root["time_limits"]["statutory_unit"] = "natural_days";
  root["time_limits"]["promised_unit"] = "natural_days";
  root["steps"][0]["time_limit_unit"] = "natural_days";
  Compiled natural = Compile(root);
  ASSERT_TRUE(natural.item) << natural.Dump();
  EXPECT_EQ(natural.item->time_limits.statutory_unit, DayUnit::kNaturalDays);
  EXPECT_EQ(natural.item->time_limits.promised_unit, DayUnit::kNaturalDays);
  EXPECT_EQ(natural.item->steps[0].time_limit_unit, DayUnit::kNaturalDays);

  root["time_limits"]["statutory_unit"] = "calendar_days";
  ExpectError(root, "bad-enum", "/time_limits/statutory_unit", "natural_days");
  root["time_limits"]["statutory_unit"] = "natural_days";
  root["steps"][0]["time_limit_unit"] = "days";
  ExpectError(root, "bad-enum", "/steps/0/time_limit_unit");
}

TEST(ItemCompilerTest, GuardErrorsCarryTheirPointer) {
  json root = ValidItem();
  root["steps"][0]["actions"]["pass"]["guard"] = {{"==", {{{"var", "kind"}}, "c"}}};
  ExpectError(root, "bad-guard-literal", "/steps/0/actions/pass/guard/==");
  root["steps"][0]["actions"]["pass"]["guard"] = {{"==", {{{"var", "aera"}}, 1}}};
  ExpectError(root, "unknown-field", "/steps/0/actions/pass/guard/==/0/var",
              "did you mean \"area\"");
  root["steps"][0]["actions"]["pass"]["guard"] = {{"==", {{{"var", "area"}}, "1"}}};
  ExpectError(root, "guard-type-mismatch", "/steps/0/actions/pass/guard/==");
}

TEST(ItemCompilerTest, UnreachableStep) {
  json root = ValidItem();
  root["steps"].push_back(json::parse(
      R"({"id": "orphan", "title": "孤立", "role": "clerk", "actions": {"deny": {"decision": "deny"}}})"));
  ExpectError(root, "unreachable-step", "/steps/2", "\"orphan\"");
}

TEST(ItemCompilerTest, TrappedCycle) {
  json root = ValidItem();
  root["steps"].push_back(json::parse(
      R"({"id": "loop_a", "title": "甲", "role": "clerk", "actions": {"next": {"to": "loop_b"}}})"));
  root["steps"].push_back(json::parse(
      R"({"id": "loop_b", "title": "乙", "role": "clerk", "actions": {"back": {"to": "loop_a"}}})"));
  root["steps"][0]["actions"]["investigate"] = {{"to", "loop_a"}};
  Compiled c = Compile(root);
  EXPECT_FALSE(c.item);
  EXPECT_TRUE(c.Has("no-decision-reachable", "/steps/2")) << c.Dump();
  EXPECT_TRUE(c.Has("no-decision-reachable", "/steps/3")) << c.Dump();
  EXPECT_FALSE(c.Has("no-decision-reachable", "/steps/0"));
  // Giving the loop an exit fixes it.
  root["steps"][3]["actions"]["done"] = {{"to", "decide"}};
  EXPECT_TRUE(Compile(root).item);
}

TEST(ItemCompilerTest, GraphIsCheckedOnlyWhenTheRestIsClean) {
  json root = ValidItem();
  root["steps"].push_back(json::parse(
      R"({"id": "orphan", "title": "孤立", "role": "janitor", "actions": {"deny": {"decision": "deny"}}})"));
  Compiled c = Compile(root);
  EXPECT_TRUE(c.Has("unknown-role", "/steps/2/role")) << c.Dump();
  EXPECT_FALSE(c.HasCode("unreachable-step")) << c.Dump();
}

TEST(ItemCompilerTest, NeverApprovesIsAWarning) {
  json root = ValidItem();
  root["steps"][1]["actions"]["approve"]["decision"] = "deny";
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  const Diagnostic* d = c.Find("never-approves", "/steps");
  ASSERT_TRUE(d) << c.Dump();
  EXPECT_EQ(d->severity, Severity::kWarning);
  EXPECT_EQ(c.Errors(), 0u);
}

TEST(ItemCompilerTest, StepLimitsLongerThanThePromiseIsAWarning) {
  json root = ValidItem();
  // review (2) + decide (1) = 3 > 2. The send_back loop is counted once.
  root["time_limits"]["promised_days"] = 2;
  Compiled c = Compile(root);
  ASSERT_TRUE(c.item) << c.Dump();
  const Diagnostic* d = c.Find("step-limits-exceed-promise", "/time_limits/promised_days");
  ASSERT_TRUE(d) << c.Dump();
  EXPECT_EQ(d->severity, Severity::kWarning);
  EXPECT_NE(d->message.find("3 working days"), std::string::npos) << d->message;

  root["time_limits"]["promised_days"] = 3;
  Compiled fits = Compile(root);
  ASSERT_TRUE(fits.item);
  EXPECT_TRUE(fits.diagnostics.empty()) << fits.Dump();

  // Instant items are decided on the spot; their step limits are not compared with the promise.
  root["case_type"] = "instant";
  root["time_limits"]["promised_days"] = 0;
  Compiled instant = Compile(root);
  ASSERT_TRUE(instant.item);
  EXPECT_FALSE(instant.HasCode("step-limits-exceed-promise")) << instant.Dump();
}

TEST(ItemCompilerTest, EveryProblemIsReportedAtOnce) {
  json root = ValidItem();
  root["titel"] = "x";
  root["category"] = "licencing";
  root["time_limits"]["promised_days"] = 30;
  root["steps"][0]["role"] = "reviwer";
  root["steps"][1]["actions"]["send_back"]["to"] = "reveiw";
  root["four_eyes"] = json::parse(R"([["review", "review"]])");
  Compiled c = Compile(root);
  EXPECT_FALSE(c.item);
  EXPECT_TRUE(c.Has("unknown-key", "/titel")) << c.Dump();
  EXPECT_TRUE(c.Has("bad-enum", "/category")) << c.Dump();
  EXPECT_TRUE(c.Has("promise-exceeds-statute", "/time_limits/promised_days")) << c.Dump();
  EXPECT_TRUE(c.Has("unknown-role", "/steps/0/role")) << c.Dump();
  EXPECT_TRUE(c.Has("unknown-step", "/steps/1/actions/send_back/to")) << c.Dump();
  EXPECT_TRUE(c.Has("four-eyes-same-step", "/four_eyes/0")) << c.Dump();
  EXPECT_EQ(c.Errors(), 6u) << c.Dump();
}

// Diagnostics carry the line and column of the offending value in the text.
TEST(ItemCompilerTest, DiagnosticsHavePositions) {
  json root = ValidItem();
  root["steps"][1]["actions"]["send_back"]["to"] = "reveiw";
  const std::string text = root.dump(2);
  // Where "reveiw" stands in the text (the pointer locates the member by its key, "to").
  size_t at = text.find("\"to\": \"reveiw\"");
  ASSERT_NE(at, std::string::npos);
  int line =
      1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  int column = static_cast<int>(at - text.rfind('\n', at));  // ASCII before it on its line
  Result<JsonDocument> doc = JsonDocument::Parse(text);
  ASSERT_TRUE(doc.ok());
  DiagnosticSink sink("item.json", &doc.value());
  EXPECT_FALSE(CompileItem(doc->root(), Lookup, &sink));
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  const Diagnostic& d = sink.diagnostics()[0];
  EXPECT_EQ(d.pointer, "/steps/1/actions/send_back/to");
  EXPECT_EQ(d.position.line, line);
  EXPECT_EQ(d.position.column, column);
  const std::string prefix =
      "item.json:" + std::to_string(line) + ":" + std::to_string(column) + ": error: ";
  EXPECT_EQ(FormatDiagnostic(d).rfind(prefix, 0), 0u) << FormatDiagnostic(d);
}

TEST(ItemCompilerTest, ShippedDefinitionsCompile) {
  const std::string root = std::string(TONGBAN_SOURCE_DIR) + "/definitions";
  DefinitionSet set;
  set.AddPath(root);
  set.Compile();
  for (const Diagnostic& d : set.Diagnostics()) {
    EXPECT_NE(d.severity, Severity::kError) << FormatDiagnostic(d);
  }
  EXPECT_FALSE(set.HasErrors());
  // Every item file compiled into an item.
  size_t item_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/items")) {
    if (entry.path().extension() != ".json") continue;
    ++item_files;
    json source = json::parse(ReadFile(entry.path().string()));
    SCOPED_TRACE(entry.path().string());
    EXPECT_TRUE(set.FindItem(source["id"].get<std::string>(), source["version"].get<int>()));
    // Compiling the file alone with the shipped calendar gives the same verdict.
    Compiled c = Compile(source);
    EXPECT_TRUE(c.item) << c.Dump();
  }
  EXPECT_GE(item_files, 5u);
  EXPECT_EQ(set.Items().size(), item_files);
  EXPECT_TRUE(set.FindCalendar("cn-mainland"));
}

}  // namespace
}  // namespace tongban
