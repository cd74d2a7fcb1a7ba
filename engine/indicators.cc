#include "engine/indicators.h"

#include <cstdio>

#include "engine/case_clock.h"

namespace tongban {

namespace {

using std::chrono::year_month_day;

// A month "YYYY-MM": its first day.
std::optional<Day> ParseMonth(const std::string& text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  auto day = ParseIsoDay(text + "-01");
  if (!day || FormatIsoDay(*day) != text + "-01") return std::nullopt;
  return day;
}

Day LastDayOfMonth(Day first) {
  const year_month_day ymd(first);
  return Day(
      std::chrono::year_month_day_last(ymd.year(), std::chrono::month_day_last(ymd.month())));
}

// A date "YYYY-MM-DD" that exists (ParseIsoDay alone takes 2026-02-30).
std::optional<Day> ParseExactDay(const std::string& text) {
  auto day = ParseIsoDay(text);
  if (!day || FormatIsoDay(*day) != text) return std::nullopt;
  return day;
}

std::optional<double> Share(int64_t part, int64_t whole) {
  if (whole <= 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

const std::vector<std::string>& IndicatorNames() {
  using namespace indicator;
  static const std::vector<std::string> names = {kApplications,
                                                 kAccepted,
                                                 kDecided,
                                                 kApproved,
                                                 kDenied,
                                                 kOnTimeStatutory,
                                                 kOnTimePromised,
                                                 kWorkingDaysUsed,
                                                 kCorrectionNotices,
                                                 kDecidedAtAcceptanceCommitment,
                                                 kDecidedAtAcceptanceInstant,
                                                 kWithdrawn,
                                                 kNotAccepted,
                                                 kOverdueNow,
                                                 kVerificationBreaches,
                                                 kChannelOnline,
                                                 kChannelWindow,
                                                 kChannelAgent,
                                                 kVisits,
                                                 kRatings,
                                                 kRatingPoints,
                                                 kBadRatings,
                                                 kRectificationsOverdue};
  return names;
}

std::string FormatMonth(Day day) {
  return FormatIsoDay(day).substr(0, 7);
}

CaseFacts FactsOf(const Item& item, const CaseState& s) {
  using namespace indicator;
  const Calendar& calendar = *item.time_limits.calendar;
  CaseFacts f;
  f.month = FormatMonth(calendar.LocalDate(s.created_at));
  f.organ = s.organ_id;
  f.item = s.definition_id;
  f.zone = !s.handled_by.empty()    ? s.handled_by
           : !s.received_by.empty() ? s.received_by
                                    : s.organ_id;
  f.applied_at = s.created_at;
  f.decided_at = s.decided_at;
  auto& c = f.counters;
  c[kApplications] = 1;
  if (s.accepted_at) c[kAccepted] = 1;
  if (s.correction_issued) c[kCorrectionNotices] = 1;
  if (s.status == CaseStatus::kWithdrawn) c[kWithdrawn] = 1;
  if (s.status == CaseStatus::kNotAccepted) c[kNotAccepted] = 1;
  if (s.status == CaseStatus::kUnderReview && s.overdue_recorded) c[kOverdueNow] = 1;
  if (s.verification == Verification::kBreached) c[kVerificationBreaches] = 1;
  if (s.channel == "online") c[kChannelOnline] = 1;
  if (s.channel == "window") c[kChannelWindow] = 1;
  if (s.channel == "agent") c[kChannelAgent] = 1;
  if (s.visits != 0) c[kVisits] = s.visits;
  if (s.rating) {
    c[kRatings] = 1;
    c[kRatingPoints] = s.rating->score;
    if (s.rating->bad()) c[kBadRatings] = 1;
    if (s.rating->overdue_recorded) c[kRectificationsOverdue] = 1;
  }
  if (s.decision && s.decided_at) {
    const ClockView clock = ComputeClock(item, s, *s.decided_at);
    const Day decided = calendar.LocalDate(*s.decided_at);
    f.late_statutory =
        s.overdue_recorded || (clock.statutory_due && decided > *clock.statutory_due);
    f.late_promised = clock.promised_due ? decided > *clock.promised_due : f.late_statutory;
    f.late_promised = f.late_promised || f.late_statutory;
    c[kDecided] = 1;
    c[*s.decision == Decision::kApprove ? kApproved : kDenied] = 1;
    if (!f.late_statutory) c[kOnTimeStatutory] = 1;
    if (!f.late_promised) c[kOnTimePromised] = 1;
    if (clock.working_days_used != 0) c[kWorkingDaysUsed] = clock.working_days_used;
    // By the rule that decided it, not by equal instants (a simulated clock, or a quick office,
    // may accept and decide within one millisecond).
    if (s.mode == "commitment" && item.commitment && item.commitment->decide_at_acceptance) {
      c[kDecidedAtAcceptanceCommitment] = 1;
    } else if (item.case_type == CaseType::kInstant) {
      c[kDecidedAtAcceptanceInstant] = 1;
    }
  }
  return f;
}

Result<Period> ParsePeriod(const std::string& month, const std::string& from, const std::string& to,
                           const Calendar& calendar, Instant now) {
  Period p;
  if (!month.empty()) {
    if (!from.empty() || !to.empty()) {
      return Status::InvalidArgument("month: give a month, or from and to, not both");
    }
    auto first = ParseMonth(month);
    if (!first) return Status::InvalidArgument("month: \"" + month + "\" is not a month (YYYY-MM)");
    p.first = *first;
    p.last = LastDayOfMonth(*first);
  } else if (!from.empty() || !to.empty()) {
    if (from.empty() || to.empty()) {
      return Status::InvalidArgument(std::string(from.empty() ? "from" : "to") +
                                     ": a period needs both from and to");
    }
    // A month stands for its first day as `from`, its last as `to`.
    auto first = from.size() == 7 ? ParseMonth(from) : ParseExactDay(from);
    if (!first) {
      return Status::InvalidArgument("from: \"" + from +
                                     "\" is not a date (YYYY-MM-DD) or a month (YYYY-MM)");
    }
    auto last_month = to.size() == 7 ? ParseMonth(to) : std::nullopt;
    auto last = last_month ? std::optional<Day>(LastDayOfMonth(*last_month)) : ParseExactDay(to);
    if (!last) {
      return Status::InvalidArgument("to: \"" + to +
                                     "\" is not a date (YYYY-MM-DD) or a month (YYYY-MM)");
    }
    if (*last < *first) {
      return Status::InvalidArgument("to: " + to + " is before from (" + from + ")");
    }
    p.first = *first;
    p.last = *last;
  } else {
    const Day today = calendar.LocalDate(now);
    p.first = *ParseMonth(FormatMonth(today));
    p.last = LastDayOfMonth(p.first);
  }
  p.from = calendar.EndOfLocalDay(p.first - std::chrono::days(1));
  p.to = calendar.EndOfLocalDay(p.last);
  p.first_month = FormatMonth(p.first);
  p.last_month = FormatMonth(p.last);
  return p;
}

int64_t IndicatorFigures::Count(const std::string& name) const {
  auto it = counts.find(name);
  return it == counts.end() ? 0 : it->second;
}

std::optional<double> IndicatorFigures::OnTimeRateStatutory() const {
  return Share(Count(indicator::kOnTimeStatutory), Count(indicator::kDecided));
}
std::optional<double> IndicatorFigures::OnTimeRatePromised() const {
  return Share(Count(indicator::kOnTimePromised), Count(indicator::kDecided));
}
std::optional<double> IndicatorFigures::AverageWorkingDays() const {
  return Share(Count(indicator::kWorkingDaysUsed), Count(indicator::kDecided));
}
std::optional<double> IndicatorFigures::CorrectionRate() const {
  return Share(Count(indicator::kCorrectionNotices), Count(indicator::kApplications));
}
std::optional<double> IndicatorFigures::DecidedAtAcceptanceShare() const {
  return Share(Count(indicator::kDecidedAtAcceptanceCommitment) +
                   Count(indicator::kDecidedAtAcceptanceInstant),
               Count(indicator::kDecided));
}
std::optional<double> IndicatorFigures::WithdrawalRate() const {
  return Share(Count(indicator::kWithdrawn), Count(indicator::kApplications));
}
std::optional<double> IndicatorFigures::DenialRate() const {
  return Share(Count(indicator::kDenied), Count(indicator::kDecided));
}

std::optional<double> IndicatorFigures::AverageRating() const {
  return Share(Count(indicator::kRatingPoints), Count(indicator::kRatings));
}
std::optional<double> IndicatorFigures::BadRatingShare() const {
  return Share(Count(indicator::kBadRatings), Count(indicator::kRatings));
}

std::optional<IndicatorGrouping> ParseIndicatorGrouping(const std::string& text) {
  if (text == "organ") return IndicatorGrouping::kOrgan;
  if (text == "item") return IndicatorGrouping::kItem;
  if (text == "zone") return IndicatorGrouping::kZone;
  return std::nullopt;
}

std::vector<IndicatorFigures> SummarizeIndicators(const std::vector<IndicatorCount>& counts,
                                                  IndicatorGrouping grouping, bool by_month) {
  // (month, key) -> figures; the total of a month under key "" sorts after its keys below.
  std::map<std::pair<std::string, std::string>, IndicatorFigures> rows;
  std::map<std::string, IndicatorFigures> totals;
  auto blank = [](const std::string& month, const std::string& key) {
    IndicatorFigures f;
    f.month = month;
    f.key = key;
    for (const std::string& name : IndicatorNames())
      f.counts[name] = 0;
    return f;
  };
  for (const IndicatorCount& c : counts) {
    const std::string month = by_month ? c.month : "";
    const std::string& key = grouping == IndicatorGrouping::kOrgan  ? c.organ
                             : grouping == IndicatorGrouping::kItem ? c.item
                                                                    : c.zone;
    auto row = rows.try_emplace({month, key}, blank(month, key)).first;
    row->second.counts[c.name] += c.value;
    auto total = totals.try_emplace(month, blank(month, "")).first;
    total->second.counts[c.name] += c.value;
  }
  std::vector<IndicatorFigures> out;
  for (auto& [month, total] : totals) {
    for (auto it = rows.lower_bound({month, ""}); it != rows.end() && it->first.first == month;
         ++it) {
      out.push_back(std::move(it->second));
    }
    out.push_back(std::move(total));
  }
  return out;
}

}  // namespace tongban
