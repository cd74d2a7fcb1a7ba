// Tests of the case clock on the real cn-mainland calendar.
//
// Every expected date below was worked out by hand from the State Council notices as listed in
// /work/shared/reference/cn-official-holidays-2025-2026.json (not from the engine), with the rules
// of case_clock.h: the day of acceptance is not counted; a limit of N working days ends on the Nth
// working day after it; a pause from day A to day B excludes the working days in (A, B].
//
// Days of the week used below: 2026-01-01 is a Thursday, so 2026-02-01 is a Sunday, 2026-03-01 a
// Sunday, 2026-04-01 a Wednesday, 2026-09-01 a Tuesday, 2026-10-01 a Thursday, 2026-11-01 a Sunday
// and 2026-12-01 a Tuesday.
//
// 2026 Spring Festival: holidays 02-15 (Sun) .. 02-23 (Mon); make-up workdays 02-14 (Sat), 02-28
// (Sat). 2026 Qingming: holidays 04-04 (Sat) .. 04-06 (Mon), no make-up day. 2026 Mid-Autumn:
// holidays 09-25 (Fri) .. 09-27 (Sun); National Day: 10-01 (Thu) .. 10-07 (Wed);
//      make-up workdays 09-20 (Sun) and 10-10 (Sat).
#include "engine/case_clock.h"

#include <gtest/gtest.h>

#include "engine/clock.h"
#include "engine/lifecycle.h"
#include "workflows/definition_set.h"
#include "workflows/item_compiler.h"

namespace tongban {
namespace {

using nlohmann::json;

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

// statutory 20, promised 5, extension 10, yellow at 2 days left; review (2 days) -> decide (1 day),
// and an expert review from "review" that does not count.
std::shared_ptr<const Item> ClockItem() {
  static const std::shared_ptr<const Item> item = [] {
    json root = json::parse(R"({
      "kind": "item", "id": "clock-item", "version": 1, "title": "时限测试事项",
      "category": "licensing", "case_type": "promised",
      "organ": {"id": "test-organ", "name": "测试局"},
      "legal_basis": [{"citation": "《中华人民共和国行政许可法》", "article": "第四十二条"}],
      "time_limits": {"calendar": "cn-mainland", "statutory_days": 20, "promised_days": 5,
                      "extension_days": 10, "yellow_when_days_left": 2},
      "roles": [{"id": "expert_secretary", "title": "专家评审组织人员"}],
      "form": {"fields": [{"id": "note", "label": "备注", "type": "string"}]},
      "materials": [{"id": "application_form", "name": "申请表", "necessity": "required"}],
      "steps": [
        {"id": "review", "title": "审查", "role": "reviewer", "time_limit_days": 2,
         "actions": {"pass": {"title": "通过", "to": "decide"},
                     "refer_expert": {"title": "专家评审", "to": "expert"}}},
        {"id": "expert", "title": "专家评审", "role": "expert_secretary",
         "special_procedure": "expert_review", "time_limit_days": 5,
         "actions": {"opinion": {"title": "意见", "to": "review"}}},
        {"id": "decide", "title": "决定", "role": "approver", "time_limit_days": 1,
         "actions": {"approve": {"title": "准予", "decision": "approve"}}}
      ]
    })");
    DiagnosticSink sink("clock-item.json", nullptr);
    auto compiled = CompileItem(
        root,
        [](const std::string& id) { return id == "cn-mainland" ? ShippedCalendar() : nullptr; },
        &sink);
    for (const Diagnostic& d : sink.diagnostics()) {
      if (d.severity == Severity::kError) ADD_FAILURE() << FormatDiagnostic(d);
    }
    return compiled;
  }();
  return item;
}

Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

std::string Iso(const std::optional<Day>& day) {
  return day ? FormatIsoDay(*day) : "none";
}

// A case received and accepted at `accepted`, in step "review" since then.
CaseState Accepted(Instant accepted) {
  CaseState s;
  s.id = "c-1";
  s.status = CaseStatus::kUnderReview;
  s.created_at = s.received_at = s.updated_at = accepted;
  s.accepted_at = accepted;
  s.step = 0;
  s.step_entered_at = accepted;
  return s;
}

const Item& I() {
  return *ClockItem();
}

// ---- Spring Festival ----------------------------------------------------------------------------

// Accepted Thursday 2026-02-12. Working days after it:
//   02-13 Fri (1), 02-14 Sat make-up (2), [02-15..02-23 holiday], 02-24 (3), 02-25 (4), 02-26 (5),
//   02-27 (6), 02-28 Sat make-up (7), 03-02 Mon (8), 03-03 (9), 03-04 (10), 03-05 (11), 03-06 (12),
//   03-09 (13), 03-10 (14), 03-11 (15), 03-12 (16), 03-13 (17), 03-16 (18), 03-17 (19), 03-18 (20).
// So the promise (5) is due 02-26 and the statute (20) 03-18.
TEST(CaseClock, DueDatesAcrossTheSpringFestival) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  ClockView c = ComputeClock(I(), s, T("2026-02-12T11:00:00+08:00"));
  EXPECT_TRUE(c.started);
  EXPECT_FALSE(c.stopped);
  EXPECT_FALSE(c.paused);
  EXPECT_FALSE(c.provisional);
  EXPECT_EQ(Iso(c.statutory_due), "2026-03-18");
  EXPECT_EQ(Iso(c.promised_due), "2026-02-26");
  EXPECT_FALSE(c.acceptance_deadline.has_value());
  EXPECT_EQ(c.working_days_used, 0);  // the day of acceptance does not count
  EXPECT_EQ(c.statutory_days_left, 20);
  EXPECT_EQ(c.promised_days_left, 5);
  EXPECT_EQ(c.light, Light::kGreen);
}

TEST(CaseClock, WorkingDaysUsedAndLeftThroughTheHoliday) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  // 02-20 is inside the holiday: only 02-13 and the make-up Saturday 02-14 have been used.
  ClockView c = ComputeClock(I(), s, T("2026-02-20T12:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 2);
  EXPECT_EQ(c.statutory_days_left, 18);
  EXPECT_EQ(c.promised_days_left, 3);
  EXPECT_EQ(c.light, Light::kGreen);  // 3 days left > 2
  // 02-24 is the first working day after the holiday: 3 used, 2 left on the promise: yellow.
  c = ComputeClock(I(), s, T("2026-02-24T15:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 3);
  EXPECT_EQ(c.promised_days_left, 2);
  EXPECT_EQ(c.light, Light::kYellow);
  // 02-27: 6 used, the promise (02-26) is broken: still yellow, the statute is far.
  c = ComputeClock(I(), s, T("2026-02-27T09:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 6);
  EXPECT_EQ(c.promised_days_left, -1);
  EXPECT_EQ(c.statutory_days_left, 14);
  EXPECT_EQ(c.light, Light::kYellow);
  // 02-28 is a make-up Saturday and counts; 03-01 is a Sunday and does not.
  EXPECT_EQ(ComputeClock(I(), s, T("2026-02-28T12:00:00+08:00")).working_days_used, 7);
  EXPECT_EQ(ComputeClock(I(), s, T("2026-03-01T12:00:00+08:00")).working_days_used, 7);
  // On the statutory due date itself the case is not yet late.
  c = ComputeClock(I(), s, T("2026-03-18T17:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 20);
  EXPECT_EQ(c.statutory_days_left, 0);
  EXPECT_EQ(c.light, Light::kYellow);
  // The next working day it is.
  c = ComputeClock(I(), s, T("2026-03-19T09:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 21);
  EXPECT_EQ(c.statutory_days_left, -1);
  EXPECT_EQ(c.light, Light::kRed);
}

TEST(CaseClock, LocalDatesAreBeijingDates) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  // 2026-02-12T16:30Z is 02-13 00:30 in Beijing: one working day (02-13) used.
  EXPECT_EQ(ComputeClock(I(), s, T("2026-02-12T16:30:00Z")).working_days_used, 1);
  EXPECT_EQ(ComputeClock(I(), s, T("2026-02-12T15:30:00Z")).working_days_used, 0);
}

TEST(CaseClock, StepClock) {
  // "review" has 2 working days from 02-12: 02-13 (1), 02-14 make-up Saturday (2).
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  ClockView c = ComputeClock(I(), s, T("2026-02-13T12:00:00+08:00"));
  ASSERT_TRUE(c.step.has_value());
  EXPECT_EQ(c.step->step_id, "review");
  EXPECT_EQ(c.step->limit_days, 2);
  EXPECT_EQ(FormatIsoDay(c.step->due), "2026-02-14");
  EXPECT_EQ(c.step->days_left, 1);
  EXPECT_EQ(c.step->light, Light::kGreen);
  c = ComputeClock(I(), s, T("2026-02-20T12:00:00+08:00"));
  EXPECT_EQ(c.step->days_left, 0);
  EXPECT_EQ(c.step->light, Light::kYellow);
  c = ComputeClock(I(), s, T("2026-02-24T12:00:00+08:00"));
  EXPECT_EQ(c.step->days_left, -1);
  EXPECT_EQ(c.step->light, Light::kRed);
}

TEST(CaseClock, ExtensionAddsItsDaysOnce) {
  // 20 + 10 = 30 working days after 02-12: from 03-18 (20): 03-19 (21), 03-20 (22), 03-23 (23),
  // 03-24 (24), 03-25 (25), 03-26 (26), 03-27 (27), 03-30 (28), 03-31 (29), 04-01 (30).
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  s.extended = true;
  s.extension_days = 10;
  ClockView c = ComputeClock(I(), s, T("2026-03-19T09:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-04-01");
  EXPECT_EQ(Iso(c.promised_due), "2026-02-26");  // the promise does not move
  EXPECT_EQ(c.extension_days, 10);
  EXPECT_EQ(c.working_days_used, 21);
  EXPECT_EQ(c.statutory_days_left, 9);
  EXPECT_EQ(c.light, Light::kYellow);  // the promise is broken, the extended statute is not
  auto timer = NextTimer(I(), s, T("2026-03-19T09:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->action, "mark_overdue");
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-04-01T16:00:00.000Z");  // 04-02 00:00 in Beijing
}

TEST(CaseClock, ExtensionThroughTheLifecycle) {
  CaseLifecycle lifecycle(ClockItem());
  Actor applicant{"app-1", "applicant", "", ""};
  json submit = {{"case", {{"id", "c-1"}, {"number", "N1"}, {"query_code", "Q"}}},
                 {"applicant", {{"id", "app-1"}}},
                 {"materials", {"application_form"}}};
  ASSERT_TRUE(lifecycle.Submit({"submit", applicant, T("2026-02-12T09:00:00+08:00"), submit}).ok());
  ASSERT_TRUE(lifecycle
                  .Apply({"accept",
                          {"clerk-1", "clerk", "test-organ", ""},
                          T("2026-02-12T10:00:00+08:00"),
                          json::object()})
                  .ok());
  ASSERT_TRUE(lifecycle
                  .Apply({"extend",
                          {"appr-1", "approver", "test-organ", ""},
                          T("2026-03-10T10:00:00+08:00"),
                          {{"reason", "情况复杂"}}})
                  .ok());
  ClockView c = ComputeClock(I(), lifecycle.state(), T("2026-03-10T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-04-01");
  EXPECT_EQ(c.statutory_days_left, 30 - 14);  // 03-10 is the 14th working day
}

// ---- Red on the day after the due date, even when that day is not a working day ----------------

// Accepted Friday 2026-03-06: 20 working days are 03-09..03-13, 03-16..03-20, 03-23..03-27,
// 03-30, 03-31, 04-01, 04-02, 04-03 — due Friday 04-03, just before the Qingming holiday
// (04-04 Sat .. 04-06 Mon). The statutory due date has passed on 04-04 although no working day has.
TEST(CaseClock, RedOnceTheStatutoryDueDateHasPassedEvenOnAHoliday) {
  CaseState s = Accepted(T("2026-03-06T10:00:00+08:00"));
  ClockView c = ComputeClock(I(), s, T("2026-04-03T17:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-04-03");
  EXPECT_EQ(Iso(c.promised_due), "2026-03-13");
  EXPECT_EQ(c.statutory_days_left, 0);
  EXPECT_EQ(c.light, Light::kYellow);
  // The overdue timer fires at the end of 04-03 (Beijing).
  auto timer = NextTimer(I(), s, T("2026-04-03T17:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-04-03T16:00:00.000Z");
  for (const char* now : {"2026-04-04T10:00:00+08:00", "2026-04-06T10:00:00+08:00"}) {
    c = ComputeClock(I(), s, T(now));
    EXPECT_EQ(c.working_days_used, 20) << now;
    EXPECT_EQ(c.statutory_days_left, 0) << now;
    EXPECT_EQ(c.light, Light::kRed) << now << ": the due date 04-03 has passed";
  }
  c = ComputeClock(I(), s, T("2026-04-07T10:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 21);
  EXPECT_EQ(c.light, Light::kRed);
}

// ---- National Day and pauses --------------------------------------------------------------------

// Accepted Thursday 2026-09-24. Working days after it: [09-25..09-27 Mid-Autumn], 09-28 Mon (1),
// 09-29 (2), 09-30 (3), [10-01..10-07 National Day], 10-08 Thu (4), 10-09 Fri (5), 10-10 Sat
// make-up (6), 10-12 Mon (7), 10-13 (8), 10-14 (9), 10-15 (10), 10-16 (11), 10-19 (12), 10-20 (13),
// 10-21 (14), 10-22 (15), 10-23 (16), 10-26 (17), 10-27 (18), 10-28 (19), 10-29 Thu (20),
// 10-30 Fri (21), 11-02 Mon (22), 11-03 Tue (23).
TEST(CaseClock, DueDatesAcrossNationalDay) {
  CaseState s = Accepted(T("2026-09-24T10:00:00+08:00"));
  ClockView c = ComputeClock(I(), s, T("2026-09-24T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-10-29");
  EXPECT_EQ(Iso(c.promised_due), "2026-10-09");
  EXPECT_FALSE(c.provisional);
  c = ComputeClock(I(), s, T("2026-10-07T12:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 3);  // 09-28, 09-29, 09-30
  EXPECT_EQ(c.promised_days_left, 2);
  EXPECT_EQ(c.light, Light::kYellow);
}

class PausedCase : public ::testing::Test {
 protected:
  // Accepted 09-24 10:00; suspended 09-29 10:00; resumed 10-09 10:00 (when `resume`).
  // The pause excludes the working days in (09-29, 10-09]: 09-30, 10-08, 10-09 — three days.
  CaseLifecycle& Run(bool resume) {
    lifecycle_ = std::make_unique<CaseLifecycle>(ClockItem());
    json submit = {{"case", {{"id", "c-1"}, {"number", "N1"}, {"query_code", "Q"}}},
                   {"applicant", {{"id", "app-1"}}},
                   {"materials", {"application_form"}}};
    Actor applicant{"app-1", "applicant", "", ""};
    Actor clerk{"clerk-1", "clerk", "test-organ", ""};
    Actor reviewer{"rev-1", "reviewer", "test-organ", ""};
    EXPECT_TRUE(
        lifecycle_->Submit({"submit", applicant, T("2026-09-24T09:00:00+08:00"), submit}).ok());
    EXPECT_TRUE(
        lifecycle_->Apply({"accept", clerk, T("2026-09-24T10:00:00+08:00"), json::object()}).ok());
    EXPECT_TRUE(
        lifecycle_
            ->Apply({"suspend", reviewer, T("2026-09-29T10:00:00+08:00"), {{"reason", "听证"}}})
            .ok());
    if (resume) {
      EXPECT_TRUE(
          lifecycle_->Apply({"resume", reviewer, T("2026-10-09T10:00:00+08:00"), json::object()})
              .ok());
    }
    return *lifecycle_;
  }
  std::unique_ptr<CaseLifecycle> lifecycle_;
};

TEST_F(PausedCase, AClosedPauseMovesTheDueDates) {
  const CaseState& s = Run(true).state();
  ASSERT_EQ(s.pauses.size(), 1u);
  ClockView c = ComputeClock(I(), s, T("2026-10-12T12:00:00+08:00"));
  EXPECT_FALSE(c.paused);
  EXPECT_EQ(c.paused_working_days, 3);
  // Statute: 20 + 3 = 23rd working day = 11-03. Promise: 5 + 3 = 8th = 10-13.
  EXPECT_EQ(Iso(c.statutory_due), "2026-11-03");
  EXPECT_EQ(Iso(c.promised_due), "2026-10-13");
  // Elapsed (09-24, 10-12]: 09-28, 09-29, 09-30, 10-08, 10-09, 10-10, 10-12 = 7, minus 3 paused.
  EXPECT_EQ(c.working_days_used, 4);
  EXPECT_EQ(c.statutory_days_left, 16);
  EXPECT_EQ(c.promised_days_left, 1);
  EXPECT_EQ(c.light, Light::kYellow);
  auto timer = NextTimer(I(), s, T("2026-10-12T12:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->action, "mark_overdue");
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-11-03T16:00:00.000Z");
}

TEST_F(PausedCase, AnOpenPauseMovesTheDueDatesDayByDay) {
  const CaseState& s = Run(false).state();
  // On 10-08 the pause has excluded (09-29, 10-08]: 09-30 and 10-08 — two days.
  ClockView c = ComputeClock(I(), s, T("2026-10-08T12:00:00+08:00"));
  EXPECT_TRUE(c.paused);
  EXPECT_EQ(c.paused_working_days, 2);
  EXPECT_EQ(c.working_days_used, 2);  // 09-28, 09-29
  EXPECT_EQ(Iso(c.statutory_due), "2026-11-02");
  EXPECT_EQ(Iso(c.promised_due), "2026-10-12");
  auto timer = NextTimer(I(), s, T("2026-10-08T12:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-11-02T16:00:00.000Z");
  // Through the holiday nothing moves: on 10-05 only 09-30 has been excluded.
  c = ComputeClock(I(), s, T("2026-10-05T12:00:00+08:00"));
  EXPECT_EQ(c.paused_working_days, 1);
  EXPECT_EQ(c.working_days_used, 2);
  EXPECT_EQ(Iso(c.statutory_due), "2026-10-30");
}

TEST(CaseClock, AStepThatDoesNotCountPausesLikeASuspension) {
  // Same dates as PausedCase, through the expert review step instead of a suspension.
  CaseLifecycle lifecycle(ClockItem());
  json submit = {{"case", {{"id", "c-1"}, {"number", "N1"}, {"query_code", "Q"}}},
                 {"applicant", {{"id", "app-1"}}},
                 {"materials", {"application_form"}}};
  ASSERT_TRUE(
      lifecycle
          .Submit(
              {"submit", {"app-1", "applicant", "", ""}, T("2026-09-24T09:00:00+08:00"), submit})
          .ok());
  ASSERT_TRUE(lifecycle
                  .Apply({"accept",
                          {"clerk-1", "clerk", "o", ""},
                          T("2026-09-24T10:00:00+08:00"),
                          json::object()})
                  .ok());
  ASSERT_TRUE(lifecycle
                  .Apply({"refer_expert",
                          {"rev-1", "reviewer", "o", ""},
                          T("2026-09-29T10:00:00+08:00"),
                          json::object()})
                  .ok());
  ClockView in_expert = ComputeClock(I(), lifecycle.state(), T("2026-10-08T12:00:00+08:00"));
  EXPECT_TRUE(in_expert.paused);
  EXPECT_EQ(Iso(in_expert.statutory_due), "2026-11-02");
  // The expert review's own 5 days (the duration announced to the applicant) run while the case's
  // clocks stand still: from 09-29, 09-30 (1), 10-08 (2), 10-09 (3), 10-10 make-up (4), 10-12 (5).
  ASSERT_TRUE(in_expert.step.has_value());
  EXPECT_EQ(in_expert.step->step_id, "expert");
  EXPECT_EQ(FormatIsoDay(in_expert.step->due), "2026-10-12");
  EXPECT_EQ(in_expert.step->days_left, 3);  // 09-30 and 10-08 spent
  EXPECT_EQ(in_expert.step->light, Light::kGreen);
  in_expert = ComputeClock(I(), lifecycle.state(), T("2026-10-13T12:00:00+08:00"));
  EXPECT_EQ(in_expert.step->days_left, -1);
  EXPECT_EQ(in_expert.step->light, Light::kRed);
  ASSERT_TRUE(lifecycle
                  .Apply({"opinion",
                          {"exp-1", "expert_secretary", "o", ""},
                          T("2026-10-09T10:00:00+08:00"),
                          json::object()})
                  .ok());
  ClockView c = ComputeClock(I(), lifecycle.state(), T("2026-10-12T12:00:00+08:00"));
  EXPECT_EQ(c.paused_working_days, 3);
  EXPECT_EQ(Iso(c.statutory_due), "2026-11-03");
  EXPECT_EQ(Iso(c.promised_due), "2026-10-13");
  EXPECT_EQ(c.working_days_used, 4);
  // The step clock of "review" (re-entered 10-09) counts from its re-entry: 2 working days after
  // 10-09 are 10-10 (make-up Saturday) and 10-12.
  ASSERT_TRUE(c.step.has_value());
  EXPECT_EQ(FormatIsoDay(c.step->due), "2026-10-12");
  EXPECT_EQ(c.step->days_left, 0);
}

// ---- Provisional results ------------------------------------------------------------------------

// Accepted Tuesday 2026-12-15: 12-16 (1), 12-17 (2), 12-18 (3), 12-21 (4), 12-22 (5), 12-23 (6),
// 12-24 (7), 12-25 (8), 12-28 (9), 12-29 (10), 12-30 (11), 12-31 Thu (12); then 2027, which the
// calendar does not cover, so weekdays are assumed to be working days (even 2027-01-01): 01-01 Fri
// (13), 01-04 (14), 01-05 (15), 01-06 (16), 01-07 (17), 01-08 (18), 01-11 (19), 01-12 Tue (20).
TEST(CaseClock, ProvisionalWhenTheLimitRunsIntoAnUncoveredYear) {
  CaseState s = Accepted(T("2026-12-15T10:00:00+08:00"));
  ClockView c = ComputeClock(I(), s, T("2026-12-16T10:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2027-01-12");
  EXPECT_EQ(Iso(c.promised_due), "2026-12-22");
  EXPECT_TRUE(c.provisional);
  EXPECT_TRUE(ClockToJson(c)["provisional"].get<bool>());
  auto timer = NextTimer(I(), s, T("2026-12-16T10:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(FormatTimestamp(timer->due), "2027-01-12T16:00:00.000Z");
  // A case wholly inside 2026 is not provisional (see DueDatesAcrossNationalDay), and neither is
  // the acceptance deadline of a case received in mid-December.
  CaseState received;
  received.status = CaseStatus::kSubmitted;
  received.received_at = T("2026-12-15T10:00:00+08:00");
  c = ComputeClock(I(), received, T("2026-12-15T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.acceptance_deadline), "2026-12-22");
  EXPECT_FALSE(c.provisional);
  // Received on the last working day of 2026, the 5-day window runs into 2027.
  received.received_at = T("2026-12-31T10:00:00+08:00");
  c = ComputeClock(I(), received, T("2026-12-31T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.acceptance_deadline), "2027-01-07");  // 01-01, 01-04, 01-05, 01-06, 01-07
  EXPECT_TRUE(c.provisional);
}

// ---- Before acceptance, deemed acceptance, decisions --------------------------------------------

// Received Thursday 2026-02-12: the 5 working days for a correction notice are 02-13, 02-14
// (make-up), 02-24, 02-25, 02-26; without a notice the application counts as accepted at the end
// of 02-26 (2026-02-27 00:00 Beijing = 2026-02-26T16:00Z).
TEST(CaseClock, AcceptanceDeadlineAndDeemedAcceptanceTimer) {
  CaseState s;
  s.status = CaseStatus::kSubmitted;
  s.created_at = s.received_at = s.updated_at = T("2026-02-12T09:00:00+08:00");
  ClockView c = ComputeClock(I(), s, T("2026-02-13T09:00:00+08:00"));
  EXPECT_FALSE(c.started);
  EXPECT_FALSE(c.stopped);
  EXPECT_EQ(Iso(c.acceptance_deadline), "2026-02-26");
  EXPECT_FALSE(c.statutory_due.has_value());
  auto timer = NextTimer(I(), s, T("2026-02-13T09:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->action, "deem_accepted");
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-02-26T16:00:00.000Z");
  // Awaiting a correction: no timer (the applicant has the next move), still a deadline shown.
  s.status = CaseStatus::kCorrectionPending;
  EXPECT_FALSE(NextTimer(I(), s, T("2026-02-13T09:00:00+08:00")).has_value());
}

TEST(CaseClock, DeemedAcceptanceCountsFromReceipt) {
  CaseLifecycle lifecycle(ClockItem());
  json submit = {{"case", {{"id", "c-1"}, {"number", "N1"}, {"query_code", "Q"}}},
                 {"applicant", {{"id", "app-1"}}},
                 {"materials", {"application_form"}}};
  ASSERT_TRUE(
      lifecycle
          .Submit(
              {"submit", {"app-1", "applicant", "", ""}, T("2026-02-12T09:00:00+08:00"), submit})
          .ok());
  ASSERT_TRUE(
      lifecycle
          .Apply({"deem_accepted", Actor::System(), T("2026-02-27T00:00:00+08:00"), json::object()})
          .ok());
  // Accepted as of 02-12: the statute is due 03-18 as for a case accepted that day.
  ClockView c = ComputeClock(I(), lifecycle.state(), T("2026-02-27T09:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-03-18");
  EXPECT_EQ(c.working_days_used, 6);
  auto timer = NextTimer(I(), lifecycle.state(), T("2026-02-27T09:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->action, "mark_overdue");
  EXPECT_EQ(FormatTimestamp(timer->due), "2026-03-18T16:00:00.000Z");
}

TEST(CaseClock, NoOverdueTimerOnceRecordedOrDecided) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  s.overdue_recorded = true;
  EXPECT_FALSE(NextTimer(I(), s, T("2026-03-20T10:00:00+08:00")).has_value());
  s = Accepted(T("2026-02-12T10:00:00+08:00"));
  s.status = CaseStatus::kApproved;
  s.decision = Decision::kApprove;
  s.decided_at = T("2026-02-13T10:00:00+08:00");
  s.step.reset();
  EXPECT_FALSE(NextTimer(I(), s, T("2026-03-20T10:00:00+08:00")).has_value());
  s.status = CaseStatus::kWithdrawn;
  EXPECT_FALSE(NextTimer(I(), s, T("2026-03-20T10:00:00+08:00")).has_value());
}

TEST(CaseClock, ADecidedCaseKeepsTheLightItHadWhenDecided) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  s.status = CaseStatus::kApproved;
  s.decision = Decision::kApprove;
  s.step.reset();
  // Decided on 03-19, the day after the statutory due date: red for ever.
  s.decided_at = s.updated_at = T("2026-03-19T10:00:00+08:00");
  ClockView c = ComputeClock(I(), s, T("2026-05-01T10:00:00+08:00"));
  EXPECT_TRUE(c.stopped);
  EXPECT_EQ(c.working_days_used, 21);
  EXPECT_EQ(c.light, Light::kRed);
  EXPECT_FALSE(c.step.has_value());
  // Decided during the holiday (02-20), two days used: green for ever (the certificate delivered
  // the same day, or the art. 44 delivery clock, overdue by December, would turn it red).
  s.decided_at = s.updated_at = T("2026-02-20T10:00:00+08:00");
  s.delivered_at = s.decided_at;
  s.status = CaseStatus::kClosed;
  c = ComputeClock(I(), s, T("2026-12-01T10:00:00+08:00"));
  EXPECT_EQ(c.working_days_used, 2);
  EXPECT_EQ(c.statutory_days_left, 18);
  EXPECT_EQ(c.light, Light::kGreen);
}

TEST(CaseClock, AWithdrawnCaseStopsAtItsLastUpdate) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  s.status = CaseStatus::kWithdrawn;
  s.step.reset();
  s.updated_at = T("2026-02-25T10:00:00+08:00");
  ClockView c = ComputeClock(I(), s, T("2026-06-01T10:00:00+08:00"));
  EXPECT_TRUE(c.started);
  EXPECT_TRUE(c.stopped);
  EXPECT_EQ(c.working_days_used, 4);  // 02-13, 02-14, 02-24, 02-25
  // Withdrawn before acceptance: stopped, no acceptance deadline any more.
  CaseState early;
  early.status = CaseStatus::kWithdrawn;
  early.received_at = early.updated_at = T("2026-02-12T10:00:00+08:00");
  c = ComputeClock(I(), early, T("2026-02-13T10:00:00+08:00"));
  EXPECT_FALSE(c.started);
  EXPECT_TRUE(c.stopped);
  EXPECT_FALSE(c.acceptance_deadline.has_value());
}

TEST(CaseClock, ClockToJson) {
  CaseState s = Accepted(T("2026-02-12T10:00:00+08:00"));
  json j = ClockToJson(ComputeClock(I(), s, T("2026-02-24T15:00:00+08:00")));
  EXPECT_EQ(j["statutory_due"], "2026-03-18");
  EXPECT_EQ(j["promised_due"], "2026-02-26");
  EXPECT_EQ(j["acceptance_deadline"], nullptr);
  EXPECT_EQ(j["working_days_used"], 3);
  EXPECT_EQ(j["light"], "yellow");
  EXPECT_EQ(j["started"], true);
  EXPECT_EQ(j["step"]["id"], "review");
  EXPECT_EQ(j["step"]["due"], "2026-02-14");
  EXPECT_EQ(j["step"]["light"], "red");
  EXPECT_STREQ(LightName(Light::kGreen), "green");
  EXPECT_STREQ(LightName(Light::kRed), "red");
}

// ---- Natural days (a limit another law sets in bare days)
// -----------------------------------------

// 15 natural days (社会保险法's 十五日), promised 1 working day, no extension.
std::shared_ptr<const Item> NaturalDayItem() {
  static const std::shared_ptr<const Item> item = [] {
    json root = json::parse(R"({
      "kind": "item", "id": "natural-item", "version": 1, "title": "自然日时限测试事项",
      "category": "confirmation", "case_type": "promised",
      "organ": {"id": "test-organ", "name": "测试局"},
      "legal_basis": [{"citation": "《中华人民共和国社会保险法》", "article": "第五十七条"}],
      "time_limits": {"calendar": "cn-mainland", "statutory_days": 15,
                      "statutory_unit": "natural_days", "promised_days": 1, "extension_days": 0},
      "form": {"fields": [{"id": "note", "label": "备注", "type": "string"}]},
      "steps": [
        {"id": "review", "title": "审查", "role": "reviewer", "time_limit_days": 3,
         "time_limit_unit": "natural_days",
         "actions": {"approve": {"title": "准予", "decision": "approve"}}}
      ]
    })");
    DiagnosticSink sink("natural-item.json", nullptr);
    auto compiled = CompileItem(
        root,
        [](const std::string& id) { return id == "cn-mainland" ? ShippedCalendar() : nullptr; },
        &sink);
    for (const Diagnostic& d : sink.diagnostics()) {
      if (d.severity == Severity::kError) ADD_FAILURE() << FormatDiagnostic(d);
    }
    return compiled;
  }();
  return item;
}

// Accepted Fri 2026-09-18: + 15 natural days = Sat 10-03, inside 国庆节 (10-01..10-07), so the
// period ends on the first working day after the rest, Thu 10-08 (民法典 art. 203). The promise (1
// working day) ends on the make-up Sunday 09-20.
TEST(CaseClock, NaturalDayLimitEndingInTheNationalDayHoliday) {
  const Item& item = *NaturalDayItem();
  CaseState s = Accepted(T("2026-09-18T10:00:00+08:00"));
  ClockView c = ComputeClock(item, s, T("2026-09-18T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-10-08");
  EXPECT_EQ(Iso(c.promised_due), "2026-09-20");
  EXPECT_EQ(c.statutory_unit, DayUnit::kNaturalDays);
  EXPECT_EQ(c.promised_unit, DayUnit::kWorkingDays);
  EXPECT_EQ(c.statutory_days_left, 20);  // natural days to 10-08
  EXPECT_FALSE(c.provisional);
  // On 10-03, the nominal 15th day, five natural days are left: not overdue.
  c = ComputeClock(item, s, T("2026-10-03T12:00:00+08:00"));
  EXPECT_EQ(c.statutory_days_left, 5);
  EXPECT_NE(c.light, Light::kRed);
  // On 10-08 itself: the last day.
  c = ComputeClock(item, s, T("2026-10-08T17:00:00+08:00"));
  EXPECT_EQ(c.statutory_days_left, 0);
  EXPECT_NE(c.light, Light::kRed);
  // On 10-09: one day late, red.
  c = ComputeClock(item, s, T("2026-10-09T09:00:00+08:00"));
  EXPECT_EQ(c.statutory_days_left, -1);
  EXPECT_EQ(c.light, Light::kRed);
  // The overdue timer fires at the end of 10-08, Beijing time.
  auto timer = NextTimer(item, s, T("2026-09-18T11:00:00+08:00"));
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->action, "mark_overdue");
  EXPECT_EQ(timer->due, T("2026-10-09T00:00:00+08:00"));
  // The step's own limit (3 natural days from 09-18 = Mon 09-21, a working day).
  c = ComputeClock(item, s, T("2026-09-19T11:00:00+08:00"));
  ASSERT_TRUE(c.step.has_value());
  EXPECT_EQ(FormatIsoDay(c.step->due), "2026-09-21");
  EXPECT_EQ(c.step->days_left, 2);
  EXPECT_EQ(c.step->unit, DayUnit::kNaturalDays);
}

// A pause excludes the natural days in (A, B] from a natural-day limit.
TEST(CaseClock, APauseMovesANaturalDayLimitByNaturalDays) {
  const Item& item = *NaturalDayItem();
  // Accepted Mon 2026-03-02: + 15 = Tue 03-17. Suspended Wed 03-04 .. Mon 03-09: 5 natural days
  // excluded (03-05..03-09) -> + 20 = Sun 03-22, a rest day -> Mon 03-23.
  CaseState s = Accepted(T("2026-03-02T10:00:00+08:00"));
  EXPECT_EQ(Iso(ComputeClock(item, s, T("2026-03-02T11:00:00+08:00")).statutory_due), "2026-03-17");
  PauseInterval pause;
  pause.start = T("2026-03-04T10:00:00+08:00");
  pause.end = T("2026-03-09T10:00:00+08:00");
  s.pauses.push_back(pause);
  ClockView c = ComputeClock(item, s, T("2026-03-10T10:00:00+08:00"));
  EXPECT_EQ(Iso(c.statutory_due), "2026-03-23");
  EXPECT_EQ(c.statutory_days_left, 13);  // 03-10 .. 03-23
}

// ---- Delivery (art. 44) -------------------------------------------------------------------------

// Granted Thu 2026-09-24: the certificate is due 10 working days later: 09-28 (1), 29, 30 (3),
// [10-01..10-07 国庆节], 10-08 (4), 10-09 (5), 10-10 make-up (6), 10-12 (7), 13 (8), 14 (9),
// 10-15 (10).
CaseState Granted() {
  CaseState s = Accepted(T("2026-09-22T10:00:00+08:00"));
  s.status = CaseStatus::kApproved;
  s.decision = Decision::kApprove;
  s.step.reset();
  s.decided_at = s.updated_at = T("2026-09-24T10:00:00+08:00");
  return s;
}

TEST(CaseClock, DeliveryDueTenWorkingDaysAfterTheGrant) {
  CaseState s = Granted();
  ClockView c = ComputeClock(I(), s, T("2026-09-24T11:00:00+08:00"));
  EXPECT_EQ(Iso(c.delivery_due), "2026-10-15");
  EXPECT_EQ(c.delivery_days_left, 10);
  EXPECT_FALSE(c.delivery_overdue);
  EXPECT_EQ(c.delivery_light, Light::kGreen);
  EXPECT_EQ(c.light, Light::kGreen);
  // 10-12: 3 working days left (13, 14, 15) > the item's 2: green; 10-13: 2 left, yellow.
  EXPECT_EQ(ComputeClock(I(), s, T("2026-10-12T11:00:00+08:00")).delivery_light, Light::kGreen);
  c = ComputeClock(I(), s, T("2026-10-13T11:00:00+08:00"));
  EXPECT_EQ(c.delivery_days_left, 2);
  EXPECT_EQ(c.delivery_light, Light::kYellow);
  // 10-15 is the last day; 10-16 undelivered is late: red, and the case's light with it.
  EXPECT_FALSE(ComputeClock(I(), s, T("2026-10-15T23:00:00+08:00")).delivery_overdue);
  c = ComputeClock(I(), s, T("2026-10-16T09:00:00+08:00"));
  EXPECT_TRUE(c.delivery_overdue);
  EXPECT_EQ(c.delivery_days_left, -1);
  EXPECT_EQ(c.delivery_light, Light::kRed);
  EXPECT_EQ(c.light, Light::kRed);
  json j = ClockToJson(c);
  EXPECT_EQ(j["delivery"]["due"], "2026-10-15");
  EXPECT_EQ(j["delivery"]["overdue"], true);
  EXPECT_EQ(j["delivery"]["light"], "red");
  EXPECT_EQ(j["delivery"]["delivered"], false);
}

TEST(CaseClock, DeliveryOnTimeStaysGreenAndALateOneStaysRed) {
  CaseState s = Granted();
  s.status = CaseStatus::kClosed;
  s.delivered_at = s.updated_at = T("2026-10-14T10:00:00+08:00");
  ClockView c = ComputeClock(I(), s, T("2027-03-01T10:00:00+08:00"));
  EXPECT_FALSE(c.delivery_overdue);
  EXPECT_EQ(c.delivery_days_left, 1);  // frozen at the delivery
  EXPECT_EQ(c.delivery_light, Light::kGreen);
  EXPECT_EQ(c.light, Light::kGreen);
  s.delivered_at = s.updated_at = T("2026-10-19T10:00:00+08:00");
  c = ComputeClock(I(), s, T("2027-03-01T10:00:00+08:00"));
  EXPECT_TRUE(c.delivery_overdue);
  EXPECT_EQ(c.delivery_days_left, -2);  // 10-16, 10-19
  EXPECT_EQ(c.light, Light::kRed);
}

TEST(CaseClock, NoDeliveryClockWithoutAGrant) {
  CaseState s = Granted();
  s.decision = Decision::kDeny;
  s.status = CaseStatus::kDenied;
  EXPECT_FALSE(ComputeClock(I(), s, T("2026-12-01T10:00:00+08:00")).delivery_due.has_value());
  s = Granted();
  s.status = CaseStatus::kRevoked;  // revoked before delivery: nothing left to deliver
  EXPECT_FALSE(ComputeClock(I(), s, T("2026-12-01T10:00:00+08:00")).delivery_due.has_value());
  EXPECT_EQ(ClockToJson(ComputeClock(I(), s, T("2026-12-01T10:00:00+08:00")))["delivery"], nullptr);
}

// The instants recorded with a grant for the delivery lights (NextLightChanges): the local
// midnights from which the delivery light is yellow (10-13, two working days left) and red (10-16,
// past the due day); from a yellow day on, yellow "already" (the epoch); none once delivered.
TEST(CaseClock, DeliveryLightChangesAreTheMidnightsTheLightTurns) {
  CaseState s = Granted();
  LightChanges changes = NextLightChanges(I(), s, T("2026-09-24T11:00:00+08:00"));
  ASSERT_TRUE(changes.yellow_at && changes.red_at);
  EXPECT_EQ(*changes.yellow_at, T("2026-10-13T00:00:00+08:00"));
  EXPECT_EQ(*changes.red_at, T("2026-10-16T00:00:00+08:00"));
  const std::chrono::milliseconds just(1);
  EXPECT_EQ(ComputeClock(I(), s, *changes.yellow_at - just).delivery_light, Light::kGreen);
  EXPECT_EQ(ComputeClock(I(), s, *changes.yellow_at).delivery_light, Light::kYellow);
  EXPECT_EQ(ComputeClock(I(), s, *changes.red_at - just).delivery_light, Light::kYellow);
  EXPECT_EQ(ComputeClock(I(), s, *changes.red_at).delivery_light, Light::kRed);
  changes = NextLightChanges(I(), s, T("2026-10-14T11:00:00+08:00"));
  EXPECT_EQ(changes.yellow_at, Instant{});
  EXPECT_EQ(changes.red_at, T("2026-10-16T00:00:00+08:00"));
  s.status = CaseStatus::kClosed;
  s.delivered_at = s.updated_at = T("2026-10-14T10:00:00+08:00");
  changes = NextLightChanges(I(), s, T("2026-10-14T11:00:00+08:00"));
  EXPECT_FALSE(changes.yellow_at || changes.red_at);
}

// A grant late in December: the 10th working day falls in 2027, which the calendar does not cover.
TEST(CaseClock, DeliveryDueInAnUncoveredYearIsProvisional) {
  CaseState s = Granted();
  s.decided_at = s.updated_at = T("2026-12-24T10:00:00+08:00");
  ClockView c = ComputeClock(I(), s, T("2026-12-24T11:00:00+08:00"));
  // 12-25 (1), 28..31 (2-5), 2027-01-01 counted provisionally (6), 01-04..07 (7-10).
  EXPECT_EQ(Iso(c.delivery_due), "2027-01-07");
  EXPECT_TRUE(c.delivery_due_provisional);
  EXPECT_TRUE(c.provisional);
}

}  // namespace
}  // namespace tongban
