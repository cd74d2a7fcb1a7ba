// Case clocks: due dates, working days used and left, pauses and the traffic light of a case, and
// the timers a case is waiting for — all computed from the case state and a given "now".
//
// Rules (行政许可法 arts. 32, 42, 44, 45, 82; 民法典 arts. 201, 203):
// - the clock starts at acceptance; the acceptance day itself is not counted;
// - limits are in working days on the item's calendar, or in natural days where the item says so
//   (a limit another law sets in bare days): such a period ending on a rest day ends on the next
//   working day; each limit's days left are counted in its own unit;
// - a pause (suspension, or a step that does not count) from day A to day B excludes the working
//   days in (A, B], so the due date moves by that many working days;
// - an extension adds the item's extension days to the statutory limit, once;
// - light: red once the statutory due date has passed without a decision; yellow when the working
//   days left before the promised due date are at or below the item's threshold (or the promise is
//   already broken); green otherwise. A decided case keeps the light it had when decided.
// - delivery (art. 44): after a grant the certificate is due within 10 working days of the
//   decision day; the delivery light is red once that day has passed undelivered (or the delivery
//   came late), and then the case's light is red too.
// Results in years the calendar does not cover are marked provisional.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/case_state.h"
#include "workflows/item.h"

namespace tongban {

enum class Light { kGreen, kYellow, kRed };
const char* LightName(Light light);

struct StepClockView {
  std::string step_id;
  int limit_days = 0;
  DayUnit unit = DayUnit::kWorkingDays;
  Day due{};
  bool due_provisional = false;
  int days_left = 0;
  Light light = Light::kGreen;
};

// 好差评: a bad rating's rectification (整改), counted in working days from the day of the rating
// (not counted) to its due day; red once that day has passed unanswered, yellow on the last
// working day. An answered rectification keeps the light it had when answered.
struct RectificationClockView {
  Day due{};
  bool due_provisional = false;
  int limit_days = 0;
  int days_left = 0;
  bool answered = false;
  bool overdue = false;  // the due day passed before the answer (or, unanswered, before now)
  Light light = Light::kGreen;
};

struct ClockView {
  bool started = false;  // accepted
  bool stopped = false;  // decided, or ended without decision
  bool paused = false;
  bool provisional = false;  // any result below touched a year the calendar does not cover
  std::optional<Instant> accepted_at;
  std::optional<Day>
      acceptance_deadline;  // before acceptance: the last day for a correction notice
  std::optional<Day> statutory_due;
  std::optional<Day> promised_due;
  // Each date on its own: whether counting to it ran through a year the calendar does not cover
  // (so that a page can mark just that date 暂定).
  bool acceptance_deadline_provisional = false;
  bool statutory_due_provisional = false;
  bool promised_due_provisional = false;
  // The limits the days left count down from: the item's statutory days plus any extension, and
  // its promised days (承诺时限). 0 before acceptance.
  int statutory_limit_days = 0;
  int promised_limit_days = 0;
  // The units those limits, and the days left below, are in.
  DayUnit statutory_unit = DayUnit::kWorkingDays;
  DayUnit promised_unit = DayUnit::kWorkingDays;
  int working_days_used = 0;
  int paused_working_days = 0;
  int extension_days = 0;
  int statutory_days_left = 0;
  int promised_days_left = 0;
  Light light = Light::kGreen;
  std::optional<StepClockView> step;
  // 告知承诺: the verification period after a commitment-based approval; red once it has passed
  // with the verification still pending (and then the case's light is red too).
  std::optional<Day> verification_due;
  bool verification_due_provisional = false;
  int verification_days_left = 0;
  bool verification_overdue = false;
  // 送达 (art. 44): set once a case is granted. `delivery_overdue`: the due day passed before the
  // delivery (or without one yet).
  std::optional<Day> delivery_due;
  bool delivery_due_provisional = false;
  std::optional<Instant> delivered_at;
  int delivery_days_left = 0;  // working days; frozen at the delivery
  bool delivery_overdue = false;
  Light delivery_light = Light::kGreen;
  // The rectification a bad rating opened, if any (it does not change the case's light).
  std::optional<RectificationClockView> rectification;
};

// Working days from a grant to the delivery of its certificate (行政许可法 art. 44).
inline constexpr int kDeliveryWorkingDays = 10;

ClockView ComputeClock(const Item& item, const CaseState& state, Instant now);
nlohmann::json ClockToJson(const ClockView& clock);

// When the light of a case's running clock changes if nothing else happens to it — the decision
// clock of a case under review, the delivery clock (art. 44) of a granted case not yet delivered:
// the first instants from which it is yellow and red — the epoch when it already is; nullopt when
// it will not within three years, for any other case, or while a decision clock is paused (the
// light then stays as it is). Recorded with every case write, so that lights are counted without
// computing every case's clock (metrics; light_count_deltas.h). The light depends on the time only
// through the local date, so these are local midnights of the item's calendar.
struct LightChanges {
  std::optional<Instant> yellow_at;
  std::optional<Instant> red_at;
};
LightChanges NextLightChanges(const Item& item, const CaseState& state, Instant now);

// A deadline that will fire on its own: the system action to record and when it becomes due.
struct Timer {
  // "deem_accepted", "mark_overdue", "mark_verification_overdue" or "mark_rectification_overdue"
  std::string action;
  Instant due;
};

// The next timer this case waits for, if any (the earliest when several are pending). Deterministic
// in (item, state): re-computed after every event, stored with the case, and re-checked when it
// fires (a pause may have moved it).
std::optional<Timer> NextTimer(const Item& item, const CaseState& state, Instant now);

}  // namespace tongban
