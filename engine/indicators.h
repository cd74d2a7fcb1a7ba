// Indicators (赛马): how fast and how well cases are handled, per organ, item, zone and month —
// computed from counters the store keeps on write, never by scanning the cases.
//
// Each case counts in the month it was applied for (its cohort: a month's on-time rate is that of
// the cases applied for in it, however late they were decided), under
// - organ: the implementing organ (实施机关) of its item;
// - item: the item's definition id;
// - zone: the organ whose staff accepted it (CaseState::handled_by: the implementing organ, or the
//   development zone's bureau holding a delegation), before acceptance the receiving window or the
//   implementing organ. A case moves from one zone to another when it is accepted: its counters
//   move with it (the store takes out what it counted for before).
// FactsOf gives what one case counts for; the store sums it (case_facts.h); Summarize turns the
// sums into the published figures.
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_facts.h"
#include "engine/case_state.h"
#include "engine/store.h"
#include "workflows/calendar.h"
#include "workflows/item.h"
#include "workflows/status.h"

namespace tongban {

// The counters a case adds to (CaseFacts::counters), by name. Every one is 0 or 1 per case except
// working_days_used, visits and rating_points.
namespace indicator {
inline constexpr const char* kApplications = "applications";
inline constexpr const char* kAccepted = "accepted";
inline constexpr const char* kDecided = "decided";
inline constexpr const char* kApproved = "approved";
inline constexpr const char* kDenied = "denied";
inline constexpr const char* kOnTimeStatutory = "on_time_statutory";
inline constexpr const char* kOnTimePromised = "on_time_promised";
inline constexpr const char* kWorkingDaysUsed = "working_days_used";  // summed over decided cases
inline constexpr const char* kCorrectionNotices = "correction_notices";
inline constexpr const char* kDecidedAtAcceptanceCommitment = "decided_at_acceptance_commitment";
inline constexpr const char* kDecidedAtAcceptanceInstant = "decided_at_acceptance_instant";
inline constexpr const char* kWithdrawn = "withdrawn";
inline constexpr const char* kNotAccepted = "not_accepted";
inline constexpr const char* kOverdueNow = "overdue_now";
inline constexpr const char* kVerificationBreaches = "verification_breaches";
inline constexpr const char* kChannelOnline = "channel_online";
inline constexpr const char* kChannelWindow = "channel_window";
inline constexpr const char* kChannelAgent = "channel_agent";
inline constexpr const char* kVisits = "visits";
// 好差评: the rating of a closed case (scores summed in rating_points), a bad one (1 or 2), and a
// bad rating's rectification whose period passed before it was answered (marked by the timer;
// it stays counted once answered late).
inline constexpr const char* kRatings = "ratings";
inline constexpr const char* kRatingPoints = "rating_points";
inline constexpr const char* kBadRatings = "bad_ratings";
inline constexpr const char* kRectificationsOverdue = "rectifications_overdue";
}  // namespace indicator

// Every counter name, in the order the figures list them.
const std::vector<std::string>& IndicatorNames();

// What `state` (a case of `item`) counts for now. Late means decided on a local day after the due
// date (statutory: the limit with any extension; promised: 承诺时限, the statutory one when the
// item promises nothing shorter), or marked overdue by the timer before its decision.
CaseFacts FactsOf(const Item& item, const CaseState& state);

// A period of local days [first, last] of a calendar, and its bounds in UTC [from, to).
struct Period {
  Day first{};
  Day last{};
  Instant from{};
  Instant to{};
  std::string first_month;  // "YYYY-MM" of first and last
  std::string last_month;
};

// `month` ("2026-11") or `from` and `to` (inclusive local dates "2026-11-01", or months "2026-09"
// meaning their first and last day), as local days of `calendar`'s time zone; the UTC bounds are
// the instants at which those local days begin and end. kInvalidArgument naming the parameter
// (month, from, to) and why. With neither, the month containing `now`.
Result<Period> ParsePeriod(const std::string& month, const std::string& from, const std::string& to,
                           const Calendar& calendar, Instant now);

std::string FormatMonth(Day day);

// Summed counters of one row of the figures, and what is derived from them.
struct IndicatorFigures {
  std::string month;                      // "" when summed over the months
  std::string key;                        // the organ, item or zone id; "" for the total
  std::map<std::string, int64_t> counts;  // every IndicatorNames() entry, 0 included

  int64_t Count(const std::string& name) const;
  // Shares of the decided cases (on time, decided at acceptance) and of the applications
  // (correction notices, withdrawals); nullopt when there is nothing to divide by.
  std::optional<double> OnTimeRateStatutory() const;
  std::optional<double> OnTimeRatePromised() const;
  std::optional<double> AverageWorkingDays() const;
  std::optional<double> CorrectionRate() const;
  std::optional<double> DecidedAtAcceptanceShare() const;
  std::optional<double> WithdrawalRate() const;
  std::optional<double> DenialRate() const;
  // Of the ratings: the average score (1..5) and the share of bad ones (1 or 2).
  std::optional<double> AverageRating() const;
  std::optional<double> BadRatingShare() const;
};

enum class IndicatorGrouping { kOrgan, kItem, kZone };
// "organ", "item", "zone"; nullopt otherwise.
std::optional<IndicatorGrouping> ParseIndicatorGrouping(const std::string& text);

// The store's counters summed by month and key (organ, item or zone), rows in (month, key) order;
// with `by_month` false, summed over the months. The total of all keys comes last in each month
// (key "").
std::vector<IndicatorFigures> SummarizeIndicators(const std::vector<IndicatorCount>& counts,
                                                  IndicatorGrouping grouping, bool by_month);

}  // namespace tongban
