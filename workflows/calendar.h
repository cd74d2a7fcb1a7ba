// Calendar: working days on an official holiday calendar, compiled from a "calendar" definition.
//
// Time limits in licensing are counted in working days (行政许可法 art. 82): Monday to Friday,
// minus the public holidays of the State Council's yearly notice, plus its make-up workdays
// (调休上班). The day a period starts is not counted (民法典 art. 201). A calendar only knows the
// years it was given; arithmetic that touches any other year falls back to "weekdays are working
// days" and says so by setting `provisional`, so that nobody mistakes a guess for a statutory
// deadline.
//
// A limit set by another law in bare days ("十五日", e.g. 社会保险法 art. 57) is counted in natural
// days instead (art. 82 turns only the licensing law's own limits into working days): the start day
// is not counted either, and a period whose last day is a statutory rest day ends on the first
// working day after it (民法典 art. 203).
//
// Thread safety: immutable after construction; share it freely.
#pragma once

#include <array>
#include <bitset>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"

namespace date {
class time_zone;
}

namespace tongban {

using Day = std::chrono::sys_days;
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

enum class DayKind {
  kWorkday,        // an ordinary working day
  kWeeklyDayOff,   // a weekend day (or whatever the calendar rests on)
  kHoliday,        // a public holiday from the notice
  kMakeUpWorkday,  // a weekend day that is a working day (调休上班)
};

struct WorkingDayDate {
  Day day;
  bool provisional = false;  // a year outside the calendar's coverage was involved
};

struct WorkingDayCount {
  int days = 0;
  bool provisional = false;
};

// The unit a time limit is written in. Working days are the default of the language.
enum class DayUnit { kWorkingDays, kNaturalDays };
// "working_days" / "natural_days": the ids a definition writes and the API shows.
const char* DayUnitName(DayUnit unit);
// The Chinese unit after a number: "个工作日" / "日".
const char* DayUnitTitle(DayUnit unit);
std::optional<DayUnit> ParseDayUnit(const std::string& name);
const std::vector<std::string>& DayUnitNames();

struct CalendarYear {
  int year = 0;
  std::string source;
  std::vector<std::pair<std::string, std::pair<Day, Day>>> holidays;  // name, [from, to]
  std::vector<std::pair<std::string, Day>> make_up_workdays;          // for which holiday, date
};

class Calendar {
 public:
  // `days_off` indexes weekdays by std::chrono::weekday::c_encoding() (0 = Sunday).
  // `zone` is the IANA name; it must exist in the time-zone database (checked by the compiler).
  Calendar(std::string id, int version, std::string title, std::string zone,
           std::array<bool, 7> days_off, std::vector<CalendarYear> years);

  const std::string& id() const { return id_; }
  int version() const { return version_; }
  const std::string& title() const { return title_; }
  const std::string& time_zone() const { return zone_name_; }
  const std::vector<CalendarYear>& years() const { return years_; }

  bool Covers(int year) const;
  DayKind Classify(Day day) const;
  // Whether `day` is a working day; sets *provisional when its year is not covered.
  bool IsWorkingDay(Day day, bool* provisional = nullptr) const;

  // The Nth working day after `start` (start itself not counted). N = 0 returns `start`.
  WorkingDayDate AddWorkingDays(Day start, int n) const;
  // Working days in the half-open interval (from, to]: days after `from` up to and including `to`.
  // Zero when to <= from.
  WorkingDayCount CountWorkingDays(Day from, Day to) const;

  // The end of a period of `n` days in `unit` that starts on `start` (start not counted). In
  // natural days: `start` + n, moved past rest days to the next working day (民法典 art. 203) —
  // except n = 0, which ends on `start` itself, as in working days. `provisional` when a day
  // whose kind decided the result lies in a year the calendar does not cover.
  WorkingDayDate AddDays(Day start, int n, DayUnit unit) const;
  // Days of `unit` in (from, to]; zero when to <= from. Natural days are never provisional.
  WorkingDayCount CountDays(Day from, Day to, DayUnit unit) const;
  // Days of `unit` from `today` to `due`: positive while `due` is ahead, negative once it has
  // passed (how many days late), zero on the due day itself.
  WorkingDayCount DaysUntil(Day today, Day due, DayUnit unit) const;

  // The local calendar date of an instant in this calendar's time zone, and the instant at which a
  // local date ends (the first instant of the next local day).
  Day LocalDate(Instant instant) const;
  Instant EndOfLocalDay(Day day) const;

 private:
  std::string id_;
  int version_;
  std::string title_;
  std::string zone_name_;
  const date::time_zone* zone_ = nullptr;
  std::array<bool, 7> days_off_;
  std::vector<CalendarYear> years_;
  // Per covered year, one bit per day of the year: set when that day is a working day.
  std::map<int, std::bitset<366>> working_;
  std::map<int, std::bitset<366>> special_;  // holiday or make-up day, for Classify
};

// Compiles a "calendar" definition. Reports every problem into `sink`; returns null on errors.
std::shared_ptr<const Calendar> CompileCalendar(const nlohmann::json& root, DiagnosticSink* sink);

// Parses "YYYY-MM-DD"; nullopt when malformed.
std::optional<Day> ParseIsoDay(const std::string& text);
std::string FormatIsoDay(Day day);

}  // namespace tongban
