// Tests of CaseLifecycle: the statutory frame (every frame action, its happy path and refusals),
// the item's review steps as a runtime table (guards, materials, reasons, joint steps, four-eyes),
// the active Boost.Statechart states of both regions, and the translation of exceptions thrown
// inside a reaction into a Status.
#include "engine/lifecycle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "workflows/definition_set.h"
#include "workflows/item_compiler.h"

namespace tongban {
namespace {

using nlohmann::json;

// ---- Fixtures -----------------------------------------------------------------------------------

// The shipped national calendar, loaded through a DefinitionSet.
std::shared_ptr<const Calendar> ShippedCalendar() {
  static const std::shared_ptr<const Calendar> calendar = [] {
    DefinitionSet set;
    set.AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars/cn-mainland.json");
    set.Compile();
    for (const Diagnostic& d : set.Diagnostics())
      ADD_FAILURE() << FormatDiagnostic(d);
    return set.FindCalendar("cn-mainland");
  }();
  return calendar;
}

std::shared_ptr<const Item> Compile(const json& root) {
  DiagnosticSink sink("inline-item.json", nullptr);
  auto item = CompileItem(
      root, [](const std::string& id) { return id == "cn-mainland" ? ShippedCalendar() : nullptr; },
      &sink);
  for (const Diagnostic& d : sink.diagnostics()) {
    if (d.severity == Severity::kError) ADD_FAILURE() << FormatDiagnostic(d);
  }
  return item;
}

// A small promised item that exercises every kind of step:
//   review --pass--> joint --conclude (both parties)--> decide --approve/deny
//   review --refer_expert [tall]--> expert (expert review: the clock pauses) --opinion--> review
//   decide --send_back--> review; four-eyes between review/decide and joint/decide.
json TestItemJson() {
  return json::parse(R"({
    "kind": "item", "id": "test-permit", "version": 1, "title": "测试许可",
    "category": "licensing", "case_type": "promised",
    "organ": {"id": "test-organ", "name": "测试局"},
    "legal_basis": [{"citation": "《中华人民共和国行政许可法》", "article": "第四十二条"}],
    "time_limits": {"calendar": "cn-mainland", "statutory_days": 20, "promised_days": 10,
                    "extension_days": 10},
    "roles": [{"id": "fire_reviewer", "title": "消防审查人员"},
              {"id": "expert_secretary", "title": "专家评审组织人员"}],
    "form": {"fields": [
      {"id": "area", "label": "面积", "type": "number", "required": true},
      {"id": "tall", "label": "是否超限", "type": "boolean"},
      {"id": "kind", "label": "类型", "type": "enum", "values": ["a", "b"]}
    ]},
    "materials": [
      {"id": "application_form", "name": "申请表", "necessity": "required"},
      {"id": "site_plan", "name": "场地说明", "necessity": "required", "commitment_replaceable": true},
      {"id": "photos", "name": "照片", "necessity": "optional"},
      {"id": "permit", "name": "规划许可", "necessity": "deferrable"}
    ],
    "modes": {
      "standard": {},
      "commitment": {
        "template": {"id": "test-commitment", "version": 1, "text": "本单位承诺……"},
        "decide_at_acceptance": false,
        "verification": {"method": "document_check", "working_days": 10}
      }
    },
    "steps": [
      {"id": "review", "title": "审查", "role": "reviewer", "time_limit_days": 2,
       "actions": {
         "pass": {"title": "通过", "to": "joint", "guard": {">=": [{"var": "area"}, 0]}},
         "refer_expert": {"title": "专家评审", "to": "expert",
                          "guard": {"==": [{"var": "tall"}, true]}},
         "deny": {"title": "拟不予许可", "decision": "deny", "requires_reason": true}
       }},
      {"id": "expert", "title": "专家评审", "role": "expert_secretary",
       "special_procedure": "expert_review", "time_limit_days": 10,
       "actions": {"opinion": {"title": "提交意见", "to": "review"}}},
      {"id": "joint", "title": "联合审查", "role": "reviewer", "time_limit_days": 3,
       "joint": {"parties": [
                   {"id": "building", "title": "建筑审查", "role": "reviewer"},
                   {"id": "fire", "title": "消防审查", "role": "fire_reviewer"}],
                 "completes_with": "conclude"},
       "actions": {
         "conclude": {"title": "审查合格", "to": "decide", "requires_materials": ["permit"]},
         "reject": {"title": "审查不合格", "decision": "deny", "requires_reason": true},
         "refer_back": {"title": "退回审查", "to": "review", "requires_reason": true}
       }},
      {"id": "decide", "title": "决定", "role": "approver", "time_limit_days": 1,
       "actions": {
         "approve": {"title": "准予许可", "decision": "approve"},
         "deny": {"title": "不予许可", "decision": "deny", "requires_reason": true},
         "send_back": {"title": "退回", "to": "review", "requires_reason": true}
       }}
    ],
    "four_eyes": [["review", "decide"], ["joint", "decide"]]
  })");
}

std::shared_ptr<const Item> TestItem() {
  static const std::shared_ptr<const Item> item = Compile(TestItemJson());
  return item;
}

// The same item without extensions.
std::shared_ptr<const Item> NoExtensionItem() {
  static const std::shared_ptr<const Item> item = [] {
    json j = TestItemJson();
    j["id"] = "test-permit-no-extension";
    j["time_limits"]["extension_days"] = 0;
    return Compile(j);
  }();
  return item;
}

// An instant item (即办件), decided on the spot with accept_and_decide.
std::shared_ptr<const Item> InstantItem() {
  static const std::shared_ptr<const Item> item = Compile(json::parse(R"({
    "kind": "item", "id": "test-filing", "version": 1, "title": "测试备案",
    "category": "filing", "case_type": "instant",
    "organ": {"id": "test-organ", "name": "测试局"},
    "legal_basis": [{"citation": "测试依据"}],
    "time_limits": {"calendar": "cn-mainland", "statutory_days": 1, "promised_days": 0,
                    "extension_days": 0},
    "form": {"fields": [{"id": "note", "label": "备注", "type": "string"}]},
    "materials": [{"id": "filing_form", "name": "备案表", "necessity": "required"}],
    "steps": [
      {"id": "record", "title": "核对备案", "role": "clerk",
       "actions": {"file": {"title": "予以备案", "decision": "approve"},
                   "reject": {"title": "不予备案", "decision": "deny", "requires_reason": true}}}
    ]
  })"));
  return item;
}

Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

Actor Applicant(const std::string& id = "app-1") {
  return {id, "applicant", "", "申请人"};
}
Actor Staff(const std::string& id, const std::string& role) {
  return {id, role, "test-organ", id};
}
Actor Clerk() {
  return Staff("clerk-1", "clerk");
}
Actor Reviewer(const std::string& id = "rev-1") {
  return Staff(id, "reviewer");
}
Actor Approver(const std::string& id = "appr-1") {
  return Staff(id, "approver");
}
Actor FireReviewer(const std::string& id = "fire-1") {
  return Staff(id, "fire_reviewer");
}
Actor ExpertSecretary() {
  return Staff("exp-1", "expert_secretary");
}

// A clock for the commands of one test: each command happens an hour after the previous one,
// starting on Monday 2026-03-02 09:00 in Beijing (well clear of any holiday).
class Timeline {
 public:
  explicit Timeline(Instant start = T("2026-03-02T09:00:00+08:00")) : now_(start) {}
  Instant Next() { return now_ += std::chrono::hours(1); }
  Instant now() const { return now_; }
  void Set(Instant t) { now_ = t; }

 private:
  Instant now_;
};

json SubmitData(json materials = json::array({"application_form", "site_plan"}),
                json form = {{"area", 120}}) {
  return {{"case", {{"id", "c-1"}, {"number", "TB20260302-00000001"}, {"query_code", "QC123456"}}},
          {"applicant", {{"id", "app-1"}, {"name", "示例公司"}, {"credit_code", "91330100X"}}},
          {"form", std::move(form)},
          {"materials", std::move(materials)},
          {"mode", "standard"}};
}

class LifecycleTest : public ::testing::Test {
 protected:
  explicit LifecycleTest(std::shared_ptr<const Item> item = TestItem()) : item_(std::move(item)) {}

  void Reset(std::shared_ptr<const Item> item) { item_ = std::move(item); }

  // Submits a fresh case; the lifecycle is rebuilt for every test.
  Status Submit(json data = SubmitData()) {
    lifecycle_ = std::make_unique<CaseLifecycle>(item_);
    return lifecycle_->Submit(Command{"submit", Applicant(), time_.Next(), std::move(data)});
  }
  Status Do(const std::string& action, const Actor& actor, json data = json::object()) {
    return lifecycle_->Apply(Command{action, actor, time_.Next(), std::move(data)});
  }
  // Submits and accepts: the case is under review in step "review".
  void Accepted(json data = SubmitData()) {
    ASSERT_TRUE(Submit(std::move(data)).ok());
    Status s = Do("accept", Clerk());
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(step(), "review");
  }
  // Accepted, passed review and both parties of the joint step concluded: in step "decide".
  void AtDecide() {
    Accepted(SubmitData({"application_form", "site_plan", "permit"}));
    ASSERT_TRUE(Do("pass", Reviewer()).ok());
    ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
    ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
    ASSERT_EQ(step(), "decide");
  }

  const CaseState& state() const { return lifecycle_->state(); }
  CaseStatus status() const { return lifecycle_->state().status; }
  std::string step() const { return lifecycle_->step_id(); }
  std::vector<std::string> active() const { return lifecycle_->ActiveStates(); }
  std::string Snapshot() const {
    return CanonicalJson(CaseStateToJson(lifecycle_->state(), item_.get()));
  }

  // Applies a command that must be refused with `code`, and checks that it changed nothing at all:
  // not the state, not the active states, not the current step.
  void ExpectRefused(StatusCode code, const std::string& action, const Actor& actor,
                     json data = json::object()) {
    std::string before = Snapshot();
    std::vector<std::string> states_before = active();
    Status s = Do(action, actor, data);
    EXPECT_EQ(s.code(), code) << action << " " << data.dump() << " -> " << s.ToString();
    EXPECT_FALSE(s.message().empty());
    EXPECT_EQ(Snapshot(), before) << action << " changed the state although it was refused";
    EXPECT_EQ(active(), states_before);
    EXPECT_FALSE(lifecycle_->terminated());
  }

  std::shared_ptr<const Item> item_;
  std::unique_ptr<CaseLifecycle> lifecycle_;
  Timeline time_;
};

using Names = std::vector<std::string>;

// ---- Frame metadata -----------------------------------------------------------------------------

TEST(FrameActions, EveryRowIsReservedAndEveryDispatchedRowHasAnEvent) {
  std::vector<std::string> dispatched_rows;
  for (const FrameActionSpec& a : FrameActionTable()) {
    EXPECT_FALSE(a.roles.empty()) << a.id;
    EXPECT_FALSE(a.title.empty()) << a.id;
    const auto& reserved = ReservedActionIds();
    EXPECT_NE(std::find(reserved.begin(), reserved.end(), a.id), reserved.end()) << a.id;
    if (!a.dispatched) {
      EXPECT_EQ(FindFrameAction(a.id), nullptr) << a.id;
      continue;
    }
    EXPECT_EQ(FindFrameAction(a.id), &a);
    dispatched_rows.push_back(a.id);
    // Timers are the system's alone; everything else is offered in some status.
    EXPECT_EQ(a.system_only, a.roles == std::vector<std::string>{"system"}) << a.id;
    EXPECT_EQ(a.system_only, a.offered_in.empty()) << a.id;
    for (const std::string& status : a.offered_in)
      EXPECT_TRUE(ParseCaseStatus(status).has_value()) << a.id << " offered in " << status;
  }
  std::sort(dispatched_rows.begin(), dispatched_rows.end());
  EXPECT_EQ(dispatched_rows, DispatchedFrameActions());
  EXPECT_EQ(FindFrameAction("approve"), nullptr);
  EXPECT_EQ(FindFrameAction("submit"), nullptr);
}

// ---- Submit -------------------------------------------------------------------------------------

TEST_F(LifecycleTest, SubmitRecordsTheApplicationAndStartsIdle) {
  ASSERT_TRUE(Submit().ok());
  EXPECT_EQ(status(), CaseStatus::kSubmitted);
  EXPECT_EQ(state().id, "c-1");
  EXPECT_EQ(state().number, "TB20260302-00000001");
  EXPECT_EQ(state().query_code, "QC123456");
  EXPECT_EQ(state().applicant_id, "app-1");
  EXPECT_EQ(state().applicant_name, "示例公司");
  EXPECT_EQ(state().applicant_credit_code, "91330100X");
  EXPECT_EQ(state().definition_id, "test-permit");
  EXPECT_EQ(state().definition_version, 1);
  EXPECT_EQ(state().organ_id, "test-organ");
  EXPECT_EQ(state().mode, "standard");
  EXPECT_EQ(state().materials, (std::set<std::string>{"application_form", "site_plan"}));
  EXPECT_EQ(state().created_at, time_.now());
  EXPECT_EQ(state().received_at, time_.now());
  EXPECT_FALSE(state().accepted_at.has_value());
  EXPECT_EQ(step(), "");
  EXPECT_EQ(active(), (Names{"Submitted", "ClockIdle"}));
  EXPECT_FALSE(lifecycle_->terminated());
}

TEST_F(LifecycleTest, SubmitRefusesMalformedApplications) {
  auto expect_invalid = [&](json data, const std::string& needle) {
    Status s = Status::Ok();
    EXPECT_NO_THROW(s = Submit(data)) << data.dump();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << data.dump() << " -> " << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  };
  json d = SubmitData();
  d.erase("case");
  expect_invalid(d, "malformed submission");
  d = SubmitData();
  d["applicant"]["id"] = 42;
  expect_invalid(d, "malformed submission");
  expect_invalid(SubmitData({"application_form"}, {{"area", 1}, {"colour", "red"}}),
                 "unknown field \"colour\"");
  expect_invalid(SubmitData({"application_form"}, {{"area", "big"}}), "\"area\" must be a number");
  expect_invalid(SubmitData({"application_form"}, {{"area", 1}, {"kind", "c"}}), "one of a b");
  expect_invalid(SubmitData({"application_form"}, json::object()), "\"area\"");
  expect_invalid(SubmitData({"application_form", "passport"}), "unknown material");
  expect_invalid(SubmitData("application_form"), "list of material ids");
  d = SubmitData();
  d["mode"] = "express";
  expect_invalid(d, "mode must be");
  d = SubmitData();
  d["mode"] = "commitment";
  expect_invalid(d, "commitment mode needs");
  d["commitment"] = {
      {"template_id", "test-commitment"}, {"template_version", 2}, {"signed_by", "x"}};
  expect_invalid(d, "commitment mode needs");
  // Wrong JSON types inside the submission must be refused, never thrown out of the engine.
  d = SubmitData();
  d["mode"] = 5;
  expect_invalid(d, "");
  d = SubmitData();
  d["mode"] = "commitment";
  d["commitment"] = {{"template_id", 7}, {"template_version", 1}, {"signed_by", "x"}};
  expect_invalid(d, "");
}

TEST_F(LifecycleTest, SubmitMustBeTheSubmitAction) {
  lifecycle_ = std::make_unique<CaseLifecycle>(item_);
  EXPECT_EQ(lifecycle_->Submit(Command{"accept", Clerk(), time_.Next(), SubmitData()}).code(),
            StatusCode::kInternal);
}

TEST_F(LifecycleTest, ApplyRefusesSubmitUnknownActionsAndNonObjectData) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "submit", Applicant(), SubmitData());
  ExpectRefused(StatusCode::kFailedPrecondition, "approve", Approver());
  ExpectRefused(StatusCode::kFailedPrecondition, "no_such_action", Clerk());
  ExpectRefused(StatusCode::kInvalidArgument, "accept", Clerk(), json::array({1, 2}));
  ExpectRefused(StatusCode::kInvalidArgument, "accept", Clerk(), json("text"));
}

// ---- accept
// ---------------------------------------------------------------------------------------

TEST_F(LifecycleTest, AcceptStartsReviewAndTheClock) {
  ASSERT_TRUE(Submit().ok());
  ASSERT_TRUE(Do("accept", Clerk()).ok());
  EXPECT_EQ(status(), CaseStatus::kUnderReview);
  EXPECT_EQ(step(), "review");
  EXPECT_EQ(state().accepted_at, time_.now());
  EXPECT_EQ(state().step_entered_at, time_.now());
  EXPECT_EQ(state().updated_at, time_.now());
  EXPECT_FALSE(state().deemed_accepted);
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  EXPECT_TRUE(state().pauses.empty());
}

TEST_F(LifecycleTest, AcceptRefusals) {
  ASSERT_TRUE(Submit(SubmitData({"application_form"})).ok());
  // site_plan is required and missing.
  ExpectRefused(StatusCode::kFailedPrecondition, "accept", Clerk());
  Status s = Do("accept", Clerk());
  EXPECT_NE(s.message().find("site_plan"), std::string::npos) << s.message();
  ExpectRefused(StatusCode::kPermissionDenied, "accept", Reviewer());
  ExpectRefused(StatusCode::kPermissionDenied, "accept", Applicant());
  // Optional (photos) and deferrable (permit) materials do not block acceptance.
  ASSERT_TRUE(Do("supply_materials", Applicant(), {{"materials", {"site_plan"}}}).ok());
  ASSERT_TRUE(Do("accept", Clerk()).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "accept", Clerk());
}

TEST_F(LifecycleTest, CommitmentReplacesReplaceableMaterials) {
  json d = SubmitData({"application_form"});
  d["mode"] = "commitment";
  d["commitment"] = {
      {"template_id", "test-commitment"}, {"template_version", 1}, {"signed_by", "法定代表人"}};
  ASSERT_TRUE(Submit(d).ok());
  EXPECT_EQ(state().mode, "commitment");
  Status s = Do("accept", Clerk());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(status(), CaseStatus::kUnderReview);  // decide_at_acceptance is false
}

// ---- accept_and_decide
// ----------------------------------------------------------------------------

TEST_F(LifecycleTest, AcceptAndDecideIsForInstantItemsOnly) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "accept_and_decide", Clerk(),
                {{"decision", "approve"}});
}

TEST_F(LifecycleTest, AcceptAndDecideOnAnInstantItem) {
  Reset(InstantItem());
  ASSERT_TRUE(Submit(SubmitData(json::array(), json::object())).ok());
  ExpectRefused(StatusCode::kInvalidArgument, "accept_and_decide", Clerk());
  ExpectRefused(StatusCode::kInvalidArgument, "accept_and_decide", Clerk(),
                {{"decision", "maybe"}});
  ExpectRefused(StatusCode::kInvalidArgument, "accept_and_decide", Clerk(), {{"decision", "deny"}});
  ExpectRefused(StatusCode::kFailedPrecondition, "accept_and_decide", Clerk(),
                {{"decision", "approve"}});  // filing_form is missing
  ExpectRefused(StatusCode::kPermissionDenied, "accept_and_decide", Reviewer(),
                {{"decision", "approve"}});
  ASSERT_TRUE(Do("supply_materials", Applicant(), {{"materials", {"filing_form"}}}).ok());
  ASSERT_TRUE(Do("accept_and_decide", Clerk(), {{"decision", "approve"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kApproved);
  EXPECT_EQ(state().decision, Decision::kApprove);
  EXPECT_EQ(state().accepted_at, time_.now());
  EXPECT_EQ(state().decided_at, time_.now());
  EXPECT_EQ(active(), (Names{"Approved", "ClockStopped"}));
}

TEST_F(LifecycleTest, AcceptAndDecideCanDenyWithAReason) {
  Reset(InstantItem());
  ASSERT_TRUE(Submit(SubmitData({"filing_form"}, json::object())).ok());
  ASSERT_TRUE(
      Do("accept_and_decide", Clerk(), {{"decision", "deny"}, {"reason", "印模不清"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kDenied);
  EXPECT_EQ(state().decision_reason, "印模不清");
  EXPECT_EQ(active(), (Names{"Denied", "ClockStopped"}));
}

// ---- request_correction / supply_correction
// -------------------------------------------------------

TEST_F(LifecycleTest, CorrectionNoticeOnceAndItsSupply) {
  ASSERT_TRUE(Submit(SubmitData({"application_form"})).ok());
  Instant submitted = state().received_at;
  ExpectRefused(StatusCode::kInvalidArgument, "request_correction", Clerk());
  ExpectRefused(StatusCode::kInvalidArgument, "request_correction", Clerk(),
                {{"missing", json::array()}});
  ExpectRefused(StatusCode::kInvalidArgument, "request_correction", Clerk(),
                {{"missing", "site_plan"}});
  ExpectRefused(StatusCode::kInvalidArgument, "request_correction", Clerk(),
                {{"missing", {"passport"}}});
  ExpectRefused(StatusCode::kPermissionDenied, "request_correction", Reviewer(),
                {{"missing", {"site_plan"}}});
  // 一次性告知: the notice must name every required material that is missing (site_plan).
  ExpectRefused(StatusCode::kInvalidArgument, "request_correction", Clerk(),
                {{"missing", {"photos"}}});
  Status s = Do("request_correction", Clerk(), {{"missing", {"photos"}}});
  EXPECT_NE(s.message().find("leaves out: site_plan"), std::string::npos) << s.message();
  ASSERT_TRUE(Do("request_correction", Clerk(), {{"missing", {"site_plan", "photos"}}}).ok());
  EXPECT_EQ(status(), CaseStatus::kCorrectionPending);
  EXPECT_TRUE(state().correction_issued);
  EXPECT_EQ(state().missing_materials, (std::vector<std::string>{"site_plan", "photos"}));
  EXPECT_EQ(active(), (Names{"CorrectionPending", "ClockIdle"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "accept", Clerk());
  ExpectRefused(StatusCode::kFailedPrecondition, "request_correction", Clerk(),
                {{"missing", {"photos"}}});
  // Everything listed must come at once.
  ExpectRefused(StatusCode::kInvalidArgument, "supply_correction", Applicant(),
                {{"materials", {"site_plan"}}});
  ExpectRefused(StatusCode::kPermissionDenied, "supply_correction", Applicant("someone-else"),
                {{"materials", {"site_plan", "photos"}}});
  ExpectRefused(StatusCode::kPermissionDenied, "supply_correction", Reviewer(),
                {{"materials", {"site_plan", "photos"}}});
  ASSERT_TRUE(Do("supply_correction", Applicant(), {{"materials", {"site_plan", "photos"}}}).ok());
  EXPECT_EQ(status(), CaseStatus::kSubmitted);
  EXPECT_TRUE(state().missing_materials.empty());
  EXPECT_EQ(state().received_at, time_.now());  // the 5-day window restarts
  EXPECT_GT(state().received_at, submitted);
  EXPECT_EQ(active(), (Names{"Submitted", "ClockIdle"}));
  // 一次性告知: no second notice.
  ExpectRefused(StatusCode::kFailedPrecondition, "request_correction", Clerk(),
                {{"missing", {"photos"}}});
  ASSERT_TRUE(Do("accept", Clerk()).ok());
}

TEST_F(LifecycleTest, CorrectionNoticeOnlyWithinFiveWorkingDays) {
  // Received Thursday 2026-02-12; the 5 working days after it are 02-13, 02-14 (make-up Saturday),
  // 02-24, 02-25, 02-26 (02-15..02-23 is the Spring Festival holiday), so 02-26 is the last day.
  time_.Set(T("2026-02-12T09:00:00+08:00"));
  ASSERT_TRUE(Submit(SubmitData({"application_form"})).ok());
  time_.Set(T("2026-02-27T08:00:00+08:00"));
  ExpectRefused(StatusCode::kFailedPrecondition, "request_correction", Clerk(),
                {{"missing", {"site_plan"}}});
  Status s = Do("request_correction", Clerk(), {{"missing", {"site_plan"}}});
  EXPECT_NE(s.message().find("2026-02-26"), std::string::npos) << s.message();
  time_.Set(T("2026-02-26T20:00:00+08:00"));
  EXPECT_TRUE(Do("request_correction", Clerk(), {{"missing", {"site_plan"}}}).ok());
}

// ---- refuse, withdraw, terminate --------------------------------------------------------------

TEST_F(LifecycleTest, RefuseNeedsAReasonAndEndsTheCase) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kInvalidArgument, "refuse", Clerk());
  ExpectRefused(StatusCode::kInvalidArgument, "refuse", Clerk(), {{"reason", 5}});
  ExpectRefused(StatusCode::kPermissionDenied, "refuse", Approver(), {{"reason", "不属于本机关"}});
  ASSERT_TRUE(Do("refuse", Clerk(), {{"reason", "不属于本机关职权范围"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kNotAccepted);
  EXPECT_EQ(state().decision_reason, "不属于本机关职权范围");
  EXPECT_EQ(active(), (Names{"NotAccepted", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "accept", Clerk());
  ExpectRefused(StatusCode::kFailedPrecondition, "withdraw", Applicant());
  ExpectRefused(StatusCode::kFailedPrecondition, "refuse", Clerk(), {{"reason", "again"}});
}

TEST_F(LifecycleTest, WithdrawByTheOwnApplicantBeforeADecision) {
  Accepted();
  ExpectRefused(StatusCode::kPermissionDenied, "withdraw", Applicant("app-2"));
  ExpectRefused(StatusCode::kPermissionDenied, "withdraw", Clerk());
  ASSERT_TRUE(Do("withdraw", Applicant()).ok());
  EXPECT_EQ(status(), CaseStatus::kWithdrawn);
  EXPECT_EQ(step(), "");  // no longer under review: no current step
  EXPECT_EQ(active(), (Names{"Withdrawn", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "pass", Reviewer());
}

TEST_F(LifecycleTest, WithdrawIsRefusedAfterADecision) {
  AtDecide();
  ASSERT_TRUE(Do("approve", Approver()).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "withdraw", Applicant());
}

TEST_F(LifecycleTest, TerminateNeedsAReason) {
  Accepted();
  ExpectRefused(StatusCode::kInvalidArgument, "terminate", Approver());
  ExpectRefused(StatusCode::kPermissionDenied, "terminate", Reviewer(), {{"reason", "x"}});
  ASSERT_TRUE(Do("terminate", Approver(), {{"reason", "申请人死亡"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kTerminated);
  EXPECT_EQ(state().decision_reason, "申请人死亡");
  EXPECT_EQ(active(), (Names{"Terminated", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "terminate", Approver(), {{"reason", "again"}});
}

TEST_F(LifecycleTest, TerminateIsRefusedAfterADecision) {
  AtDecide();
  ASSERT_TRUE(Do("approve", Approver()).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "terminate", Approver(), {{"reason", "x"}});
}

// ---- supply_materials ---------------------------------------------------------------------------

TEST_F(LifecycleTest, SupplyMaterialsWhileOpen) {
  ASSERT_TRUE(Submit(SubmitData({"application_form"})).ok());
  ExpectRefused(StatusCode::kInvalidArgument, "supply_materials", Applicant());
  ExpectRefused(StatusCode::kInvalidArgument, "supply_materials", Applicant(),
                {{"materials", json::array()}});
  ExpectRefused(StatusCode::kInvalidArgument, "supply_materials", Applicant(),
                {{"materials", {"site_plan", 3}}});
  ExpectRefused(StatusCode::kPermissionDenied, "supply_materials", Reviewer(),
                {{"materials", {"site_plan"}}});
  ASSERT_TRUE(Do("supply_materials", Clerk(), {{"materials", {"site_plan"}}}).ok());
  EXPECT_EQ(status(), CaseStatus::kSubmitted);
  EXPECT_EQ(state().materials.count("site_plan"), 1u);
  ASSERT_TRUE(Do("accept", Clerk()).ok());
  ASSERT_TRUE(Do("supply_materials", Applicant(), {{"materials", {"permit"}}}).ok());
  EXPECT_EQ(status(), CaseStatus::kUnderReview);
  EXPECT_EQ(step(), "review");
  EXPECT_EQ(state().materials.count("permit"), 1u);
}

// ---- suspend / resume / extend ------------------------------------------------------------------

TEST_F(LifecycleTest, SuspendPausesTheClockAndResumeRestartsIt) {
  Accepted();
  ExpectRefused(StatusCode::kInvalidArgument, "suspend", Reviewer());
  ExpectRefused(StatusCode::kPermissionDenied, "suspend", Clerk(), {{"reason", "听证"}});
  ExpectRefused(StatusCode::kFailedPrecondition, "resume", Reviewer());
  ASSERT_TRUE(Do("suspend", Reviewer(), {{"reason", "听证"}}).ok());
  Instant suspended_at = time_.now();
  EXPECT_TRUE(state().suspended);
  EXPECT_TRUE(state().paused());
  ASSERT_EQ(state().pauses.size(), 1u);
  EXPECT_EQ(state().pauses[0].start, suspended_at);
  EXPECT_EQ(state().pauses[0].reason, "suspended");
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockPaused"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "suspend", Approver(), {{"reason", "again"}});
  ASSERT_TRUE(Do("resume", Approver()).ok());
  EXPECT_FALSE(state().suspended);
  EXPECT_FALSE(state().paused());
  ASSERT_EQ(state().pauses.size(), 1u);
  EXPECT_EQ(state().pauses[0].end, time_.now());
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "resume", Reviewer());
}

TEST_F(LifecycleTest, SuspendIsOnlyForCasesUnderReview) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "suspend", Reviewer(), {{"reason", "听证"}});
}

TEST_F(LifecycleTest, ExtendOnceWithAReason) {
  Accepted();
  ExpectRefused(StatusCode::kInvalidArgument, "extend", Approver());
  ExpectRefused(StatusCode::kPermissionDenied, "extend", Reviewer(), {{"reason", "情况复杂"}});
  ASSERT_TRUE(Do("extend", Approver(), {{"reason", "情况复杂"}}).ok());
  EXPECT_TRUE(state().extended);
  EXPECT_EQ(state().extension_days, 10);
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "again"}});
}

TEST_F(LifecycleTest, ExtendIsRefusedWhenTheItemAllowsNone) {
  Reset(NoExtensionItem());
  Accepted();
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "情况复杂"}});
}

TEST_F(LifecycleTest, ExtendIsRefusedBeforeAcceptance) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "情况复杂"}});
}

// ---- deliver / revoke ---------------------------------------------------------------------------

TEST_F(LifecycleTest, DeliverClosesADecidedCase) {
  AtDecide();
  ExpectRefused(StatusCode::kFailedPrecondition, "deliver", Clerk());
  ASSERT_TRUE(Do("approve", Approver()).ok());
  EXPECT_EQ(status(), CaseStatus::kApproved);
  EXPECT_EQ(step(), "");
  EXPECT_EQ(active(), (Names{"Approved", "ClockStopped"}));
  ExpectRefused(StatusCode::kPermissionDenied, "deliver", Approver());
  ASSERT_TRUE(Do("deliver", Clerk()).ok());
  EXPECT_EQ(status(), CaseStatus::kClosed);
  EXPECT_EQ(state().delivered_at, time_.now());
  EXPECT_EQ(state().decision, Decision::kApprove);
  EXPECT_EQ(active(), (Names{"Closed", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "deliver", Clerk());
}

TEST_F(LifecycleTest, RevokeAGrantBeforeOrAfterDelivery) {
  AtDecide();
  ExpectRefused(StatusCode::kFailedPrecondition, "revoke", Approver(), {{"reason", "x"}});
  ASSERT_TRUE(Do("approve", Approver()).ok());
  ExpectRefused(StatusCode::kInvalidArgument, "revoke", Approver());
  ExpectRefused(StatusCode::kPermissionDenied, "revoke", Clerk(), {{"reason", "x"}});
  ASSERT_TRUE(Do("revoke", Approver(), {{"reason", "以欺骗手段取得"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kRevoked);
  EXPECT_EQ(state().decision_reason, "以欺骗手段取得");
  EXPECT_EQ(active(), (Names{"Revoked", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "revoke", Approver(), {{"reason", "again"}});

  AtDecide();
  ASSERT_TRUE(Do("approve", Approver()).ok());
  ASSERT_TRUE(Do("deliver", Clerk()).ok());
  ExpectRefused(StatusCode::kInvalidArgument, "revoke", Approver());
  ASSERT_TRUE(Do("revoke", Approver(), {{"reason", "以欺骗手段取得"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kRevoked);
}

TEST_F(LifecycleTest, ADenialCannotBeRevoked) {
  AtDecide();
  ASSERT_TRUE(Do("deny", Approver(), {{"reason", "不符合条件"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kDenied);
  EXPECT_EQ(active(), (Names{"Denied", "ClockStopped"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "revoke", Approver(), {{"reason", "x"}});
  ASSERT_TRUE(Do("deliver", Clerk()).ok());
  EXPECT_EQ(status(), CaseStatus::kClosed);
  EXPECT_EQ(state().decision, Decision::kDeny);
  ExpectRefused(StatusCode::kFailedPrecondition, "revoke", Approver(), {{"reason", "x"}});
}

// ---- system actions -----------------------------------------------------------------------------

TEST_F(LifecycleTest, DeemAcceptedCountsFromReceipt) {
  ASSERT_TRUE(Submit().ok());
  Instant received = state().received_at;
  ExpectRefused(StatusCode::kPermissionDenied, "deem_accepted", Clerk());
  ASSERT_TRUE(Do("deem_accepted", Actor::System()).ok());
  EXPECT_EQ(status(), CaseStatus::kUnderReview);
  EXPECT_TRUE(state().deemed_accepted);
  EXPECT_EQ(state().accepted_at, received);
  EXPECT_EQ(step(), "review");
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "deem_accepted", Actor::System());
}

TEST_F(LifecycleTest, MarkOverdueOnceWhileUnderReview) {
  ASSERT_TRUE(Submit().ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "mark_overdue", Actor::System());
  ASSERT_TRUE(Do("accept", Clerk()).ok());
  ExpectRefused(StatusCode::kPermissionDenied, "mark_overdue", Approver());
  ASSERT_TRUE(Do("mark_overdue", Actor::System()).ok());
  EXPECT_TRUE(state().overdue_recorded);
  EXPECT_EQ(status(), CaseStatus::kUnderReview);
  ExpectRefused(StatusCode::kFailedPrecondition, "mark_overdue", Actor::System());
}

// ---- Steps --------------------------------------------------------------------------------------

TEST_F(LifecycleTest, StepActionRefusals) {
  Accepted();
  ExpectRefused(StatusCode::kFailedPrecondition, "approve", Approver());  // not in this step
  Status s = Do("approve", Approver());
  EXPECT_NE(s.message().find("available: "), std::string::npos) << s.message();
  ExpectRefused(StatusCode::kPermissionDenied, "pass", Approver());         // wrong role
  ExpectRefused(StatusCode::kPermissionDenied, "pass", Applicant());        // wrong role
  ExpectRefused(StatusCode::kInvalidArgument, "refer_expert", Reviewer());  // guard: tall
  ExpectRefused(StatusCode::kInvalidArgument, "deny", Reviewer());          // needs a reason
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  EXPECT_EQ(step(), "joint");
  EXPECT_EQ(state().step_actors.at("review"), "rev-1");
}

TEST_F(LifecycleTest, StepDenialDecides) {
  Accepted();
  ASSERT_TRUE(Do("deny", Reviewer(), {{"reason", "不符合条件"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kDenied);
  EXPECT_EQ(state().decision, Decision::kDeny);
  EXPECT_EQ(state().decision_reason, "不符合条件");
  EXPECT_EQ(state().decided_at, time_.now());
  EXPECT_FALSE(state().step.has_value());
  EXPECT_EQ(active(), (Names{"Denied", "ClockStopped"}));
}

TEST_F(LifecycleTest, AStepThatDoesNotCountPausesTheClock) {
  Accepted(SubmitData({"application_form", "site_plan"}, {{"area", 5000}, {"tall", true}}));
  ASSERT_TRUE(Do("refer_expert", Reviewer()).ok());
  EXPECT_EQ(step(), "expert");
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockPaused"}));
  ASSERT_EQ(state().pauses.size(), 1u);
  EXPECT_EQ(state().pauses[0].reason, "step expert (expert_review)");
  EXPECT_EQ(state().pauses[0].start, time_.now());
  EXPECT_TRUE(state().paused());
  // Suspending inside the paused step opens no second pause; resuming keeps the step's pause.
  ASSERT_TRUE(Do("suspend", Reviewer(), {{"reason", "听证"}}).ok());
  EXPECT_EQ(state().pauses.size(), 1u);
  ASSERT_TRUE(Do("resume", Reviewer()).ok());
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockPaused"}));
  EXPECT_TRUE(state().paused());
  ExpectRefused(StatusCode::kPermissionDenied, "opinion", Reviewer());
  ASSERT_TRUE(Do("opinion", ExpertSecretary()).ok());
  EXPECT_EQ(step(), "review");
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  ASSERT_EQ(state().pauses.size(), 1u);
  EXPECT_EQ(state().pauses[0].end, time_.now());
}

TEST_F(LifecycleTest, RequiredMaterialsOfAStepAction) {
  Accepted();  // without the deferrable permit
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  ExpectRefused(StatusCode::kInvalidArgument, "conclude", Reviewer("rev-2"),
                {{"party", "building"}});
  Status s = Do("conclude", Reviewer("rev-2"), {{"party", "building"}});
  EXPECT_NE(s.message().find("permit"), std::string::npos) << s.message();
  ASSERT_TRUE(Do("supply_materials", Applicant(), {{"materials", {"permit"}}}).ok());
  EXPECT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
}

TEST_F(LifecycleTest, JointStepNeedsEveryPartyOnceEachByADifferentPerson) {
  Accepted(SubmitData({"application_form", "site_plan", "permit"}));
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  ASSERT_EQ(step(), "joint");
  ExpectRefused(StatusCode::kInvalidArgument, "conclude", Reviewer("rev-2"));
  ExpectRefused(StatusCode::kInvalidArgument, "conclude", Reviewer("rev-2"), {{"party", "water"}});
  ExpectRefused(StatusCode::kPermissionDenied, "conclude", Reviewer("rev-2"), {{"party", "fire"}});
  ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
  EXPECT_EQ(step(), "joint");  // one party is not enough
  EXPECT_EQ(state().joint_passed, (std::map<std::string, std::string>{{"building", "rev-2"}}));
  EXPECT_EQ(state().step_actors.count("joint"), 0u);
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  ExpectRefused(StatusCode::kFailedPrecondition, "conclude", Reviewer("rev-3"),
                {{"party", "building"}});
  // The same person may not pass for a second party, even in the other party's role.
  ExpectRefused(StatusCode::kPermissionDenied, "conclude", FireReviewer("rev-2"),
                {{"party", "fire"}});
  ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
  EXPECT_EQ(step(), "decide");
  EXPECT_TRUE(state().joint_passed.empty());
}

TEST_F(LifecycleTest, JointStepCanBeRejectedByItsRole) {
  Accepted();
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  ExpectRefused(StatusCode::kPermissionDenied, "reject", FireReviewer(), {{"reason", "x"}});
  ASSERT_TRUE(Do("reject", Reviewer("rev-2"), {{"reason", "消防设计不合格"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kDenied);
}

TEST_F(LifecycleTest, FourEyesBetweenReviewAndDecide) {
  AtDecide();
  // rev-1 passed the review; the same person may not decide, whatever role they act in.
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("rev-1"));
  Status s = Do("approve", Approver("rev-1"));
  EXPECT_NE(s.message().find("four-eyes"), std::string::npos) << s.message();
  // Back to review: the approver who sent it back may not review it now.
  ASSERT_TRUE(Do("send_back", Approver("appr-2"), {{"reason", "补充核查"}}).ok());
  EXPECT_EQ(step(), "review");
  ExpectRefused(StatusCode::kPermissionDenied, "pass", Reviewer("appr-2"));
  ASSERT_TRUE(Do("pass", Reviewer("rev-1")).ok());
  ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
  // appr-2 decided (sent back) before; a party of the joint step may not be the decider.
  ExpectRefused(StatusCode::kPermissionDenied, "conclude", FireReviewer("appr-2"),
                {{"party", "fire"}});
  ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
  ASSERT_TRUE(Do("approve", Approver()).ok());
  EXPECT_EQ(status(), CaseStatus::kApproved);
}

TEST_F(LifecycleTest, FourEyesCoversEveryPartyOfAJointStep) {
  // rev-2 passed for party "building" (not the last party to pass); they did the joint step too,
  // so they may not decide on it.
  AtDecide();
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("rev-2"));
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("fire-1"));
  ASSERT_TRUE(Do("approve", Approver("appr-1")).ok());
}

TEST_F(LifecycleTest, FourEyesRemembersEveryRoundOfAStep) {
  // 双人原则 holds for everyone who ever acted in a step, however often the case loops.
  AtDecide();  // review by rev-1; joint by rev-2 (building) and fire-1 (fire)
  ASSERT_TRUE(Do("send_back", Approver("appr-2"), {{"reason", "补充核查"}}).ok());
  ASSERT_TRUE(Do("pass", Reviewer("rev-5")).ok());
  ASSERT_TRUE(Do("conclude", Reviewer("rev-6"), {{"party", "building"}}).ok());
  ASSERT_TRUE(Do("conclude", FireReviewer("fire-2"), {{"party", "fire"}}).ok());
  ASSERT_EQ(step(), "decide");
  // The first round's reviewers are still barred from deciding.
  for (const char* who : {"rev-1", "rev-2", "fire-1", "rev-5", "rev-6", "fire-2"}) {
    ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver(who));
  }
  ASSERT_TRUE(Do("approve", Approver("appr-1")).ok());
}

TEST_F(LifecycleTest, FourEyesRemembersAnAbandonedJointRound) {
  Accepted(SubmitData({"application_form", "site_plan", "permit"}));
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  // rev-2 signs off for "building"; rev-3 sends the case back before the round completes.
  ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
  ASSERT_TRUE(Do("refer_back", Reviewer("rev-3"), {{"reason", "图纸版本不一致"}}).ok());
  ASSERT_EQ(step(), "review");
  EXPECT_TRUE(state().joint_passed.empty());
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  ASSERT_TRUE(Do("conclude", Reviewer("rev-4"), {{"party", "building"}}).ok());
  ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
  ASSERT_EQ(step(), "decide");
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("rev-2"));
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("rev-3"));
  ASSERT_TRUE(Do("approve", Approver("appr-1")).ok());
}

TEST_F(LifecycleTest, ExtendOnlyBeforeTheStatutoryLimitHasPassed) {
  // Accepted Friday 2026-03-06: 20 working days end Friday 2026-04-03 (03-09..03-13, 03-16..03-20,
  // 03-23..03-27, 03-30..04-03); 04-04..04-06 is the Qingming holiday.
  time_.Set(T("2026-03-06T08:00:00+08:00"));
  Accepted();
  time_.Set(T("2026-04-04T08:00:00+08:00"));  // a holiday, the day after the limit ended
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "情况复杂"}});
  Status s = Do("extend", Approver(), {{"reason", "情况复杂"}});
  EXPECT_NE(s.message().find("2026-04-03"), std::string::npos) << s.message();
  time_.Set(T("2026-04-07T08:00:00+08:00"));
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "情况复杂"}});
  time_.Set(T("2026-04-03T16:00:00+08:00"));  // the last day of the limit: still in time
  ASSERT_TRUE(Do("extend", Approver(), {{"reason", "情况复杂"}}).ok());
  EXPECT_TRUE(state().extended);
}

// ---- Refusals and exceptions --------------------------------------------------------------------

TEST_F(LifecycleTest, ARefusedCommandLeavesEverythingUnchanged) {
  // Refusals at every point of a case's life, each checked by ExpectRefused to change nothing.
  ASSERT_TRUE(Submit(SubmitData({"application_form"})).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "accept", Clerk());
  ExpectRefused(StatusCode::kFailedPrecondition, "deliver", Clerk());
  ASSERT_TRUE(Do("supply_materials", Applicant(), {{"materials", {"site_plan", "permit"}}}).ok());
  ASSERT_TRUE(Do("accept", Clerk()).ok());
  ASSERT_TRUE(Do("suspend", Reviewer(), {{"reason", "检验"}}).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "suspend", Reviewer(), {{"reason", "x"}});
  ExpectRefused(StatusCode::kPermissionDenied, "resume", Clerk());
  ASSERT_TRUE(Do("resume", Reviewer()).ok());
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "conclude", Reviewer("rev-3"),
                {{"party", "building"}});
  ExpectRefused(StatusCode::kInvalidArgument, "reject", Reviewer("rev-3"));
  ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
  ExpectRefused(StatusCode::kPermissionDenied, "approve", Approver("rev-1"));
  ExpectRefused(StatusCode::kInvalidArgument, "send_back", Approver());
  ASSERT_TRUE(Do("approve", Approver()).ok());
  ExpectRefused(StatusCode::kFailedPrecondition, "approve", Approver());
  ExpectRefused(StatusCode::kFailedPrecondition, "extend", Approver(), {{"reason", "x"}});
}

TEST_F(LifecycleTest, AnExceptionInAReactionBecomesAnErrorAndTheMachineRunsOn) {
  Accepted(SubmitData({"application_form", "site_plan", "permit"}));
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  // "party" must be a string: nlohmann throws type_error.302 inside the step reaction. The
  // exception translator turns it into an exception_thrown event, which Active handles.
  std::string before = Snapshot();
  Status s = Status::Ok();
  EXPECT_NO_THROW(s = Do("conclude", Reviewer("rev-2"), {{"party", 5}}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("malformed"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("type_error"), std::string::npos) << s.message();
  EXPECT_FALSE(lifecycle_->terminated());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(active(), (Names{"UnderReview", "ClockRunning"}));
  EXPECT_EQ(step(), "joint");
  // The machine takes the next action normally.
  ASSERT_TRUE(Do("conclude", Reviewer("rev-2"), {{"party", "building"}}).ok());
  ASSERT_TRUE(Do("conclude", FireReviewer(), {{"party", "fire"}}).ok());
  EXPECT_EQ(step(), "decide");
  ASSERT_TRUE(Do("approve", Approver()).ok());
  EXPECT_EQ(status(), CaseStatus::kApproved);
}

TEST_F(LifecycleTest, AnExceptionInAFrameReactionIsTranslatedToo) {
  Reset(InstantItem());
  ASSERT_TRUE(Submit(SubmitData({"filing_form"}, json::object())).ok());
  // data.value("decision", "") throws type_error.302 when "decision" is a number.
  Status s = Status::Ok();
  EXPECT_NO_THROW(s = Do("accept_and_decide", Clerk(), {{"decision", 7}}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(lifecycle_->terminated());
  EXPECT_EQ(status(), CaseStatus::kSubmitted);
  EXPECT_EQ(active(), (Names{"Submitted", "ClockIdle"}));
  ASSERT_TRUE(Do("accept_and_decide", Clerk(), {{"decision", "approve"}}).ok());
  EXPECT_EQ(status(), CaseStatus::kApproved);
}

TEST_F(LifecycleTest, UpdatedAtMovesOnlyOnSuccess) {
  Accepted();
  Instant accepted = state().updated_at;
  ASSERT_FALSE(Do("approve", Approver()).ok());
  EXPECT_EQ(state().updated_at, accepted);
  ASSERT_TRUE(Do("pass", Reviewer()).ok());
  EXPECT_EQ(state().updated_at, time_.now());
}

}  // namespace
}  // namespace tongban
