#include "engine/clock.h"

#include <date/date.h>
#include <date/tz.h>

#include <cstdio>
#include <sstream>

namespace tongban {

Instant SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::optional<Instant> ParseTimestamp(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)
  int y, mo, d, h, mi, s;
  if (text.size() < 20) return std::nullopt;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) {
    return std::nullopt;
  }
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i)
      millis *= 10;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             text[pos + 3] == ':') {
    int oh = std::atoi(text.substr(pos + 1, 2).c_str());
    int om = std::atoi(text.substr(pos + 4, 2).c_str());
    offset_minutes = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                  std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s) + std::chrono::milliseconds(millis) -
           std::chrono::minutes(offset_minutes);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

std::string FormatTimestamp(Instant t) {
  // Hand-formatted: date::format goes through an ostream and a locale, and this runs several times
  // for every event written or replayed.
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss<std::chrono::milliseconds> time(t - day);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                static_cast<int>(time.subseconds().count()));
  return buffer;
}

std::string FormatTimestampIn(Instant t, const std::string& zone) {
  try {
    auto zoned = date::make_zoned(zone, std::chrono::time_point_cast<std::chrono::seconds>(t));
    return date::format("%FT%T%Ez", zoned);
  } catch (const std::exception&) {
    return FormatTimestamp(t);
  }
}

}  // namespace tongban
