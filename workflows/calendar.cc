#include "workflows/calendar.h"

#include <date/tz.h>

#include <cstdio>
#include <limits>
#include <set>

#include "workflows/schema_reader.h"

namespace tongban {

namespace {

using std::chrono::days;
using std::chrono::year_month_day;

// A day outside the years std::chrono can name (±32,767) has no year: its year_month_day wraps
// round onto another year, which a calendar may cover, and its day of that year would index past
// the year's bits. It gets a year no calendar covers, so the weekly rule decides it.
constexpr int kNoYear = std::numeric_limits<int>::min();

int YearOf(Day day) {
  year_month_day ymd(day);
  if (!ymd.ok() || Day(ymd) != day) return kNoYear;
  return static_cast<int>(ymd.year());
}

int DayOfYear(Day day) {
  year_month_day ymd(day);
  Day first = std::chrono::sys_days(ymd.year() / std::chrono::January / 1);
  return static_cast<int>((day - first).count());
}

const std::vector<std::string> kWeekdayNames = {"sunday",   "monday", "tuesday", "wednesday",
                                                "thursday", "friday", "saturday"};

}  // namespace

const char* DayUnitName(DayUnit unit) {
  return unit == DayUnit::kNaturalDays ? "natural_days" : "working_days";
}

const char* DayUnitTitle(DayUnit unit) {
  return unit == DayUnit::kNaturalDays ? "日" : "个工作日";
}

const std::vector<std::string>& DayUnitNames() {
  static const std::vector<std::string> names = {"working_days", "natural_days"};
  return names;
}

std::optional<DayUnit> ParseDayUnit(const std::string& name) {
  if (name == "working_days") return DayUnit::kWorkingDays;
  if (name == "natural_days") return DayUnit::kNaturalDays;
  return std::nullopt;
}

std::optional<Day> ParseIsoDay(const std::string& text) {
  if (!IsIsoDate(text)) return std::nullopt;
  int y = std::stoi(text.substr(0, 4));
  unsigned m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  return Day(year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)));
}

std::string FormatIsoDay(Day day) {
  year_month_day ymd(day);
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

Calendar::Calendar(std::string id, int version, std::string title, std::string zone,
                   std::array<bool, 7> days_off, std::vector<CalendarYear> years)
    : id_(std::move(id)),
      version_(version),
      title_(std::move(title)),
      zone_name_(std::move(zone)),
      days_off_(days_off),
      years_(std::move(years)) {
  try {
    zone_ = date::locate_zone(zone_name_);
  } catch (const std::exception&) {
    zone_ = nullptr;  // the compiler refuses unknown zones; a hand-built Calendar falls back to UTC
  }
  for (const CalendarYear& y : years_) {
    std::bitset<366>& bits = working_[y.year];
    std::bitset<366>& special = special_[y.year];
    Day first = std::chrono::sys_days(std::chrono::year(y.year) / std::chrono::January / 1);
    Day next = std::chrono::sys_days(std::chrono::year(y.year + 1) / std::chrono::January / 1);
    for (Day d = first; d < next; d += days(1)) {
      bits[DayOfYear(d)] = !days_off_[std::chrono::weekday(d).c_encoding()];
    }
    for (const auto& [name, range] : y.holidays) {
      for (Day d = range.first; d <= range.second; d += days(1)) {
        if (YearOf(d) != y.year) continue;
        bits[DayOfYear(d)] = false;
        special[DayOfYear(d)] = true;
      }
    }
    for (const auto& [name, d] : y.make_up_workdays) {
      if (YearOf(d) != y.year) continue;
      bits[DayOfYear(d)] = true;
      special[DayOfYear(d)] = true;
    }
  }
}

bool Calendar::Covers(int year) const {
  return working_.count(year) != 0;
}

DayKind Calendar::Classify(Day day) const {
  bool weekly_off = days_off_[std::chrono::weekday(day).c_encoding()];
  auto it = special_.find(YearOf(day));
  if (it != special_.end() && it->second[DayOfYear(day)]) {
    return working_.at(YearOf(day))[DayOfYear(day)] ? DayKind::kMakeUpWorkday : DayKind::kHoliday;
  }
  return weekly_off ? DayKind::kWeeklyDayOff : DayKind::kWorkday;
}

bool Calendar::IsWorkingDay(Day day, bool* provisional) const {
  auto it = working_.find(YearOf(day));
  if (it == working_.end()) {
    if (provisional != nullptr) *provisional = true;
    return !days_off_[std::chrono::weekday(day).c_encoding()];
  }
  return it->second[DayOfYear(day)];
}

WorkingDayDate Calendar::AddWorkingDays(Day start, int n) const {
  WorkingDayDate result{start, false};
  Day d = start;
  for (int counted = 0; counted < n;) {
    d += days(1);
    if (IsWorkingDay(d, &result.provisional)) ++counted;
  }
  result.day = d;
  return result;
}

WorkingDayCount Calendar::CountWorkingDays(Day from, Day to) const {
  WorkingDayCount result;
  for (Day d = from + days(1); d <= to; d += days(1)) {
    if (IsWorkingDay(d, &result.provisional)) ++result.days;
  }
  return result;
}

WorkingDayDate Calendar::AddDays(Day start, int n, DayUnit unit) const {
  if (unit == DayUnit::kWorkingDays) return AddWorkingDays(start, n);
  WorkingDayDate result{start + days(n), false};
  if (n == 0) return result;
  while (!IsWorkingDay(result.day, &result.provisional))
    result.day += days(1);
  return result;
}

WorkingDayCount Calendar::CountDays(Day from, Day to, DayUnit unit) const {
  if (unit == DayUnit::kWorkingDays) return CountWorkingDays(from, to);
  return WorkingDayCount{to > from ? static_cast<int>((to - from).count()) : 0, false};
}

WorkingDayCount Calendar::DaysUntil(Day today, Day due, DayUnit unit) const {
  if (today <= due) return CountDays(today, due, unit);
  WorkingDayCount late = CountDays(due, today, unit);
  late.days = -late.days;
  return late;
}

Day Calendar::LocalDate(Instant instant) const {
  if (zone_ == nullptr) return std::chrono::floor<days>(instant);
  auto local = zone_->to_local(std::chrono::time_point_cast<std::chrono::seconds>(instant));
  return Day(std::chrono::floor<days>(local).time_since_epoch());
}

Instant Calendar::EndOfLocalDay(Day day) const {
  Day next = day + days(1);
  if (zone_ == nullptr) return Instant(next);
  date::local_seconds local{std::chrono::seconds(next.time_since_epoch())};
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      zone_->to_sys(local, date::choose::earliest));
}

std::shared_ptr<const Calendar> CompileCalendar(const nlohmann::json& root, DiagnosticSink* sink) {
  ObjectReader top(
      root, "", sink,
      {"kind", "id", "version", "title", "description", "time_zone", "weekly_days_off", "years"});
  if (!top.valid()) return nullptr;
  auto id = top.Slug("id", true);
  auto version = top.Integer("version", true, 1, 1000000);
  auto title = top.String("title", true);
  top.String("description", false);
  auto zone = top.String("time_zone", true);
  if (zone) {
    try {
      date::locate_zone(*zone);
    } catch (const std::exception&) {
      sink->Error(top.PointerOf("time_zone"), "unknown-time-zone",
                  "\"" + *zone + "\" is not an IANA time zone (for example \"Asia/Shanghai\")");
    }
  }
  std::array<bool, 7> days_off{};
  if (const nlohmann::json* off = top.Array("weekly_days_off", true)) {
    for (size_t i = 0; i < off->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("weekly_days_off"), i);
      const nlohmann::json& v = (*off)[i];
      std::string name = v.is_string() ? v.get<std::string>() : "";
      auto it = std::find(kWeekdayNames.begin(), kWeekdayNames.end(), name);
      if (it == kWeekdayNames.end()) {
        std::string message = "\"" + name +
                              "\" is not a weekday; a weekly day off is a weekday name in English "
                              "(\"saturday\")";
        std::string suggestion = ClosestMatch(name, kWeekdayNames);
        if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
        sink->Error(pointer, "bad-enum", message);
        continue;
      }
      days_off[static_cast<size_t>(it - kWeekdayNames.begin())] = true;
    }
  }
  std::vector<CalendarYear> years;
  std::set<int> seen_years;
  if (const nlohmann::json* list = top.Array("years", true)) {
    for (size_t i = 0; i < list->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("years"), i);
      ObjectReader y((*list)[i], pointer, sink, {"year", "source", "holidays", "make_up_workdays"});
      if (!y.valid()) continue;
      CalendarYear year;
      auto number = y.Integer("year", true, 1900, 2200);
      if (!number) continue;
      year.year = static_cast<int>(*number);
      if (!seen_years.insert(year.year).second) {
        sink->Error(y.PointerOf("year"), "duplicate-id",
                    "year " + std::to_string(year.year) + " is listed twice");
      }
      year.source = y.String("source", false).value_or("");
      std::set<Day> holiday_days;
      if (const nlohmann::json* holidays = y.Array("holidays", true)) {
        for (size_t h = 0; h < holidays->size(); ++h) {
          std::string hp = JoinJsonPointer(y.PointerOf("holidays"), h);
          ObjectReader block((*holidays)[h], hp, sink, {"name", "from", "to"});
          auto name = block.String("name", true);
          auto from_text = block.String("from", true);
          auto to_text = block.String("to", true);
          if (!name || !from_text || !to_text) continue;
          auto from = ParseIsoDay(*from_text);
          auto to = ParseIsoDay(*to_text);
          if (!from) {
            sink->Error(block.PointerOf("from"), "bad-date",
                        "\"" + *from_text + "\" is not a date (YYYY-MM-DD)");
          }
          if (!to) {
            sink->Error(block.PointerOf("to"), "bad-date",
                        "\"" + *to_text + "\" is not a date (YYYY-MM-DD)");
          }
          if (!from || !to) continue;
          if (*to < *from) {
            sink->Error(block.PointerOf("to"), "bad-range", "\"to\" is before \"from\"");
            continue;
          }
          if (YearOf(*from) != year.year || YearOf(*to) != year.year) {
            sink->Error(hp, "wrong-year",
                        "holiday \"" + *name + "\" lies outside " + std::to_string(year.year));
            continue;
          }
          for (Day d = *from; d <= *to; d += days(1))
            holiday_days.insert(d);
          year.holidays.push_back({*name, {*from, *to}});
        }
      }
      if (const nlohmann::json* workdays = y.Array("make_up_workdays", false)) {
        for (size_t w = 0; w < workdays->size(); ++w) {
          std::string wp = JoinJsonPointer(y.PointerOf("make_up_workdays"), w);
          ObjectReader entry((*workdays)[w], wp, sink, {"date", "for"});
          auto date_text = entry.String("date", true);
          auto for_name = entry.String("for", false);
          if (!date_text) continue;
          auto d = ParseIsoDay(*date_text);
          if (!d) {
            sink->Error(entry.PointerOf("date"), "bad-date",
                        "\"" + *date_text + "\" is not a date (YYYY-MM-DD)");
            continue;
          }
          if (YearOf(*d) != year.year) {
            sink->Error(entry.PointerOf("date"), "wrong-year",
                        *date_text + " lies outside " + std::to_string(year.year));
            continue;
          }
          if (holiday_days.count(*d) != 0) {
            sink->Error(entry.PointerOf("date"), "conflicting-day",
                        *date_text + " is both a holiday and a make-up workday");
            continue;
          }
          if (!days_off[std::chrono::weekday(*d).c_encoding()]) {
            sink->Warning(entry.PointerOf("date"), "redundant-workday",
                          *date_text +
                              " is already a working day; a make-up workday is normally "
                              "a weekly day off");
          }
          year.make_up_workdays.push_back({for_name.value_or(""), *d});
        }
      }
      years.push_back(std::move(year));
    }
  }
  if (sink->has_errors() || !id || !version || !title || !zone) return nullptr;
  return std::make_shared<Calendar>(*id, static_cast<int>(*version), *title, *zone, days_off,
                                    std::move(years));
}

}  // namespace tongban
