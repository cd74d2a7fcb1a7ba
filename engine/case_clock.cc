#include "engine/case_clock.h"

#include <algorithm>

namespace tongban {

const char* LightName(Light light) {
  switch (light) {
    case Light::kGreen:
      return "green";
    case Light::kYellow:
      return "yellow";
    case Light::kRed:
      return "red";
  }
  return "green";
}

namespace {

// Days of `unit` excluded by pauses that started at or after `since`, each counted up to `until`.
int PausedDays(const Calendar& calendar, const CaseState& state, Instant since, Instant until,
               DayUnit unit, bool* provisional) {
  int days = 0;
  for (const PauseInterval& p : state.pauses) {
    if (p.start < since) continue;
    Instant end = p.end.value_or(until);
    if (end > until) end = until;
    WorkingDayCount c =
        calendar.CountDays(calendar.LocalDate(p.start), calendar.LocalDate(end), unit);
    days += c.days;
    *provisional |= c.provisional;
  }
  return days;
}

int PausedWorkingDays(const Calendar& calendar, const CaseState& state, Instant since,
                      Instant until, bool* provisional) {
  return PausedDays(calendar, state, since, until, DayUnit::kWorkingDays, provisional);
}

// The days left of a limit of `limit` days in `unit` that ends on `due`, seen on `today`, with
// `used_working_days` working days used. In working days that is the limit minus the days used
// (which is the working days until `due`); a natural-day limit whose last day fell on a rest day
// ends later than its number says (民法典 art. 203), so its days left are counted to `due`.
int DaysLeft(const Calendar& calendar, DayUnit unit, int limit, int used_working_days, Day today,
             Day due) {
  if (unit == DayUnit::kWorkingDays) return limit - used_working_days;
  return calendar.DaysUntil(today, due, unit).days;
}

}  // namespace

// The clock of the licensing procedure itself, without the verification after it.
ClockView ComputeCaseClock(const Item& item, const CaseState& state, Instant now);

namespace {

// The verification period runs in working days from the day of the approval.
void ComputeVerification(const Item& item, const CaseState& state, Instant now, ClockView* view) {
  if (state.verification == Verification::kNone || !item.commitment || !state.decided_at) return;
  const Calendar& calendar = *item.time_limits.calendar;
  Day decided = calendar.LocalDate(*state.decided_at);
  WorkingDayDate due = calendar.AddWorkingDays(decided, item.commitment->verification_days);
  view->verification_due = due.day;
  view->verification_due_provisional = due.provisional;
  view->provisional |= due.provisional;
  Instant end = state.verified_at.value_or(now);
  WorkingDayCount used = calendar.CountWorkingDays(decided, calendar.LocalDate(end));
  view->verification_days_left = item.commitment->verification_days - used.days;
  view->verification_overdue =
      state.verification == Verification::kPending &&
      (view->verification_days_left < 0 || calendar.LocalDate(now) > due.day);
  if (view->verification_overdue) view->light = Light::kRed;
}

void ComputeRectification(const Item& item, const CaseState& state, Instant now, ClockView* view) {
  if (!state.rating || !state.rating->rectification_due) return;
  const RatingRecord& rating = *state.rating;
  const Calendar& calendar = *item.time_limits.calendar;
  RectificationClockView r;
  r.due = *rating.rectification_due;
  r.limit_days = kRectificationWorkingDays;
  const Day rated = calendar.LocalDate(rating.rated_at);
  r.due_provisional = calendar.AddWorkingDays(rated, r.limit_days).provisional;
  r.answered = rating.answered_at.has_value();
  const Day end = calendar.LocalDate(rating.answered_at.value_or(now));
  r.days_left = r.limit_days - calendar.CountWorkingDays(rated, end).days;
  r.overdue = end > r.due;
  r.light = r.overdue ? Light::kRed : r.days_left <= 0 ? Light::kYellow : Light::kGreen;
  view->provisional |= r.due_provisional;
  view->rectification = r;
}

// Art. 44: the certificate of a grant is due within 10 working days of the decision day.
void ComputeDelivery(const Item& item, const CaseState& state, Instant now, ClockView* view) {
  if (!state.decided_at || state.decision != Decision::kApprove) return;
  // A grant revoked before delivery has nothing left to deliver.
  if (state.status != CaseStatus::kApproved && state.status != CaseStatus::kClosed) return;
  const Calendar& calendar = *item.time_limits.calendar;
  Day decided = calendar.LocalDate(*state.decided_at);
  WorkingDayDate due = calendar.AddWorkingDays(decided, kDeliveryWorkingDays);
  view->delivery_due = due.day;
  view->delivery_due_provisional = due.provisional;
  view->provisional |= due.provisional;
  view->delivered_at = state.delivered_at;
  Day until = calendar.LocalDate(state.delivered_at.value_or(now));
  WorkingDayCount left = calendar.DaysUntil(until, due.day, DayUnit::kWorkingDays);
  view->delivery_days_left = left.days;
  view->delivery_overdue = until > due.day;
  if (view->delivery_overdue) {
    view->delivery_light = Light::kRed;
    view->light = Light::kRed;
  } else if (!state.delivered_at &&
             view->delivery_days_left <= item.time_limits.yellow_when_days_left) {
    view->delivery_light = Light::kYellow;
  }
}

}  // namespace

ClockView ComputeClock(const Item& item, const CaseState& state, Instant now) {
  ClockView view = ComputeCaseClock(item, state, now);
  ComputeVerification(item, state, now, &view);
  ComputeDelivery(item, state, now, &view);
  ComputeRectification(item, state, now, &view);
  return view;
}

ClockView ComputeCaseClock(const Item& item, const CaseState& state, Instant now) {
  ClockView view;
  const Calendar& calendar = *item.time_limits.calendar;
  const TimeLimits& limits = item.time_limits;
  view.paused = state.paused();
  view.extension_days = state.extension_days;
  if (!state.accepted_at) {
    // At a receiving window (收受分离) the art. 32 window has not started: it starts at transfer.
    if ((state.status == CaseStatus::kSubmitted ||
         state.status == CaseStatus::kCorrectionPending) &&
        !state.awaiting_transfer()) {
      WorkingDayDate deadline = calendar.AddWorkingDays(calendar.LocalDate(state.received_at), 5);
      view.acceptance_deadline = deadline.day;
      view.acceptance_deadline_provisional = deadline.provisional;
      view.provisional |= deadline.provisional;
    }
    view.stopped = IsFinal(state.status);
    return view;
  }
  view.started = true;
  view.accepted_at = state.accepted_at;
  bool open = state.status == CaseStatus::kUnderReview;
  view.stopped = !open;
  // Time stops at the decision (or at whatever ended the case).
  Instant end = now;
  if (state.decided_at) {
    end = *state.decided_at;
  } else if (!open) {
    end = state.updated_at;
  }
  Day accepted_day = calendar.LocalDate(*state.accepted_at);
  Day end_day = calendar.LocalDate(end);
  bool pauses_provisional = false;
  view.paused_working_days =
      PausedWorkingDays(calendar, state, *state.accepted_at, end, &pauses_provisional);
  view.provisional |= pauses_provisional;
  WorkingDayCount elapsed = calendar.CountWorkingDays(accepted_day, end_day);
  view.provisional |= elapsed.provisional;
  view.working_days_used = std::max(0, elapsed.days - view.paused_working_days);
  // A pause moves each due date by the paused days of that limit's own unit.
  auto paused_in = [&](DayUnit unit) {
    if (unit == DayUnit::kWorkingDays) return view.paused_working_days;
    return PausedDays(calendar, state, *state.accepted_at, end, unit, &pauses_provisional);
  };
  int statutory = limits.statutory_days + state.extension_days;
  view.statutory_unit = limits.statutory_unit;
  view.promised_unit = limits.promised_unit;
  WorkingDayDate statutory_due = calendar.AddDays(
      accepted_day, statutory + paused_in(limits.statutory_unit), limits.statutory_unit);
  WorkingDayDate promised_due = calendar.AddDays(
      accepted_day, limits.promised_days + paused_in(limits.promised_unit), limits.promised_unit);
  view.statutory_due = statutory_due.day;
  view.promised_due = promised_due.day;
  // A due date moves by the paused days, so a pause counted on a guess makes the date a guess too.
  view.statutory_due_provisional = statutory_due.provisional || pauses_provisional;
  view.promised_due_provisional = promised_due.provisional || pauses_provisional;
  view.provisional |= statutory_due.provisional || promised_due.provisional;
  view.statutory_limit_days = statutory;
  view.promised_limit_days = limits.promised_days;
  view.statutory_days_left = DaysLeft(calendar, limits.statutory_unit, statutory,
                                      view.working_days_used, end_day, statutory_due.day);
  view.promised_days_left = DaysLeft(calendar, limits.promised_unit, limits.promised_days,
                                     view.working_days_used, end_day, promised_due.day);
  // Red once the due date has passed, even if no working day has since (a weekend or holiday).
  if (view.statutory_days_left < 0 || end_day > statutory_due.day) {
    view.light = Light::kRed;
  } else if (view.promised_days_left <= limits.yellow_when_days_left) {
    view.light = Light::kYellow;
  }
  if (open && state.step && state.step_entered_at) {
    const Step& step = item.steps[*state.step];
    if (step.time_limit_days) {
      StepClockView s;
      s.step_id = step.id;
      s.limit_days = *step.time_limit_days;
      s.unit = step.time_limit_unit;
      Day entered = calendar.LocalDate(*state.step_entered_at);
      Day today = calendar.LocalDate(now);
      // A step that does not count toward the limits (a special procedure) is the pause itself;
      // its own limit is the duration announced to the applicant and runs regardless.
      int paused = step.counts_toward_limit ? PausedDays(calendar, state, *state.step_entered_at,
                                                         now, s.unit, &view.provisional)
                                            : 0;
      WorkingDayCount in_step = calendar.CountDays(entered, today, s.unit);
      WorkingDayDate step_due = calendar.AddDays(entered, s.limit_days + paused, s.unit);
      s.days_left = s.unit == DayUnit::kWorkingDays
                        ? s.limit_days - std::max(0, in_step.days - paused)
                        : calendar.DaysUntil(today, step_due.day, s.unit).days;
      s.due = step_due.day;
      s.due_provisional = step_due.provisional;
      s.light = s.days_left < 0 ? Light::kRed : s.days_left == 0 ? Light::kYellow : Light::kGreen;
      view.step = s;
    }
  }
  return view;
}

nlohmann::json ClockToJson(const ClockView& c) {
  auto day = [](const std::optional<Day>& d) {
    return d ? nlohmann::json(FormatIsoDay(*d)) : nlohmann::json(nullptr);
  };
  nlohmann::json j = {
      {"started", c.started},
      {"stopped", c.stopped},
      {"paused", c.paused},
      {"provisional", c.provisional},
      {"acceptance_deadline", day(c.acceptance_deadline)},
      {"statutory_due", day(c.statutory_due)},
      {"promised_due", day(c.promised_due)},
      {"working_days_used", c.working_days_used},
      {"paused_working_days", c.paused_working_days},
      {"extension_days", c.extension_days},
      {"statutory_days_left", c.statutory_days_left},
      {"promised_days_left", c.promised_days_left},
      {"statutory_unit", DayUnitName(c.statutory_unit)},
      {"promised_unit", DayUnitName(c.promised_unit)},
      {"light", LightName(c.light)},
      {"step", nullptr},
      {"verification", nullptr},
      {"delivery", nullptr},
      {"rectification", nullptr},
  };
  if (c.delivery_due) {
    j["delivery"] = {
        {"due", FormatIsoDay(*c.delivery_due)},    {"due_provisional", c.delivery_due_provisional},
        {"delivered", c.delivered_at.has_value()}, {"days_left", c.delivery_days_left},
        {"overdue", c.delivery_overdue},           {"light", LightName(c.delivery_light)}};
  }
  if (c.rectification) {
    j["rectification"] = {
        {"due", FormatIsoDay(c.rectification->due)}, {"limit_days", c.rectification->limit_days},
        {"days_left", c.rectification->days_left},   {"answered", c.rectification->answered},
        {"overdue", c.rectification->overdue},       {"light", LightName(c.rectification->light)}};
  }
  if (c.verification_due) {
    j["verification"] = {{"due", FormatIsoDay(*c.verification_due)},
                         {"days_left", c.verification_days_left},
                         {"overdue", c.verification_overdue}};
  }
  if (c.step) {
    j["step"] = {{"id", c.step->step_id},
                 {"limit_days", c.step->limit_days},
                 {"unit", DayUnitName(c.step->unit)},
                 {"due", FormatIsoDay(c.step->due)},
                 {"days_left", c.step->days_left},
                 {"light", LightName(c.step->light)}};
  }
  return j;
}

std::optional<Timer> NextTimer(const Item& item, const CaseState& state, Instant now) {
  const Calendar& calendar = *item.time_limits.calendar;
  if (state.status == CaseStatus::kSubmitted) {
    // At a receiving window (收受分离) nothing runs until the case reaches the handling organ.
    if (state.awaiting_transfer()) return std::nullopt;
    Day last = calendar.AddWorkingDays(calendar.LocalDate(state.received_at), 5).day;
    return Timer{"deem_accepted", calendar.EndOfLocalDay(last)};
  }
  if (state.status == CaseStatus::kUnderReview && !state.overdue_recorded) {
    ClockView clock = ComputeClock(item, state, now);
    return Timer{"mark_overdue", calendar.EndOfLocalDay(*clock.statutory_due)};
  }
  std::optional<Timer> next;
  if (state.verification == Verification::kPending && !state.verification_overdue_recorded &&
      (state.status == CaseStatus::kApproved || state.status == CaseStatus::kClosed)) {
    ClockView clock = ComputeClock(item, state, now);
    if (clock.verification_due) {
      next = Timer{"mark_verification_overdue", calendar.EndOfLocalDay(*clock.verification_due)};
    }
  }
  // A bad rating's rectification runs after the case closed, beside a pending verification.
  if (state.rating && state.rating->rectification_open() && !state.rating->overdue_recorded) {
    Timer rectification{"mark_rectification_overdue",
                        calendar.EndOfLocalDay(*state.rating->rectification_due)};
    if (!next || rectification.due < next->due) next = rectification;
  }
  return next;
}

LightChanges NextLightChanges(const Item& item, const CaseState& state, Instant now) {
  LightChanges out;
  // The clock whose light is counted: the decision's while under review; once granted, the
  // delivery's until the certificate is delivered (the case is closed then).
  const bool deciding = state.status == CaseStatus::kUnderReview;
  if (!deciding && state.status != CaseStatus::kApproved) return out;
  auto light_of = [&](const ClockView& clock) {
    return deciding ? clock.light : clock.delivery_light;
  };
  auto light_at = [&](Instant t) { return light_of(ComputeClock(item, state, t)); };
  const ClockView at_now = ComputeClock(item, state, now);
  if (!deciding && !at_now.delivery_due) return out;
  const Instant already{};
  const Light current = light_of(at_now);
  if (current == Light::kRed) {
    out.yellow_at = out.red_at = already;
    return out;
  }
  if (current == Light::kYellow) out.yellow_at = already;
  // A paused decision clock keeps its light; the delivery clock never pauses.
  if (deciding && state.paused()) return out;
  // While the clock runs the light only worsens, day by day: find the first local midnight at
  // which it reaches `target` by doubling the step, then halving it.
  const Calendar& calendar = *item.time_limits.calendar;
  const Day today = calendar.LocalDate(now);
  auto start_of = [&](int k) { return calendar.EndOfLocalDay(today + std::chrono::days(k - 1)); };
  auto reaches = [&](int k, Light target) { return light_at(start_of(k)) >= target; };
  constexpr int kHorizonDays = 3 * 366;
  auto first_day = [&](Light target) -> std::optional<int> {
    int low = 0;  // the light has not reached `target` on day `low`
    int high = 1;
    while (!reaches(high, target)) {
      low = high;
      if (high >= kHorizonDays) return std::nullopt;
      high = std::min(high * 2, kHorizonDays);
    }
    while (high - low > 1) {
      int mid = low + (high - low) / 2;
      (reaches(mid, target) ? high : low) = mid;
    }
    return high;
  };
  if (auto red = first_day(Light::kRed)) out.red_at = start_of(*red);
  if (!out.yellow_at) {
    if (auto yellow = first_day(Light::kYellow)) out.yellow_at = start_of(*yellow);
  }
  return out;
}

}  // namespace tongban
