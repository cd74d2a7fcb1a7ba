// Calendar: working days on an official holiday calendar, compiled from a "calendar" definition.
//
// Time limits in licensing are counted in working days (行政许可法 art. 82): Monday to Friday,
// minus the public holidays of the State Council's yearly notice, plus its make-up workdays
// (调休上班). The day a period starts is not counted (民法典 art. 201). A calendar only knows the
// years it was given; arithmetic that touches any other year falls back to "weekdays are working
// days" and says so by setting `provisional`, so that nobody mistakes a guess for a statutory
// deadline.
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
