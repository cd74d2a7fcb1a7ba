#include "workflows/calendar.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "workflows/json_document.h"

namespace tongban {
namespace {

using std::chrono::days;
using std::chrono::Friday;
using std::chrono::Monday;
using std::chrono::Saturday;
using std::chrono::Sunday;
using std::chrono::Thursday;
using std::chrono::Tuesday;
using std::chrono::Wednesday;
using std::chrono::weekday;

Day D(int y, unsigned m, unsigned d) {
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  EXPECT_TRUE(ymd.ok()) << y << "-" << m << "-" << d;
  return Day(ymd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The shipped national calendar, compiled once.
const Calendar& Shipped() {
  static const std::shared_ptr<const Calendar> calendar = [] {
    std::string text =
        ReadFile(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars/cn-mainland.json");
    Result<JsonDocument> doc = JsonDocument::Parse(text);
    EXPECT_TRUE(doc.ok()) << doc.status().message();
    DiagnosticSink sink("cn-mainland.json", &doc.value());
    auto compiled = CompileCalendar(doc->root(), &sink);
    for (const Diagnostic& d : sink.diagnostics())
      ADD_FAILURE() << FormatDiagnostic(d);
    return compiled;
  }();
  if (!calendar) {
    ADD_FAILURE() << "the shipped calendar does not compile";
    std::abort();
  }
  return *calendar;
}

// The Nth working day after `start`, as text, checking that the flag is not set.
std::string Add(Day start, int n) {
  WorkingDayDate result = Shipped().AddWorkingDays(start, n);
  EXPECT_FALSE(result.provisional) << FormatIsoDay(start) << " + " << n;
  return FormatIsoDay(result.day);
}

int Count(Day from, Day to) {
  WorkingDayCount result = Shipped().CountWorkingDays(from, to);
  EXPECT_FALSE(result.provisional) << FormatIsoDay(from) << " .. " << FormatIsoDay(to);
  return result.days;
}

// The official arrangements, copied from the State Council notices (国办发明电〔2024〕12号 for
// 2025, the notice of 2025-11-04 for 2026): every day off inside a holiday block, and every weekend
// day that is a working day (调休上班).
const std::vector<std::string> kOfficialHolidays = {
    "2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01",
    "2025-02-02", "2025-02-03", "2025-02-04", "2025-04-04", "2025-04-05", "2025-04-06",
    "2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05", "2025-05-31",
    "2025-06-01", "2025-06-02", "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
    "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08",  //
    "2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17",
    "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
    "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03",
    "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25",
    "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
    "2026-10-05", "2026-10-06", "2026-10-07"};
const std::vector<std::string> kOfficialMakeUpWorkdays = {
    "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11", "2026-01-04",
    "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"};

TEST(CalendarTest, IsoDays) {
  ASSERT_TRUE(ParseIsoDay("2026-02-14").has_value());
  EXPECT_EQ(*ParseIsoDay("2026-02-14"), D(2026, 2, 14));
  EXPECT_EQ(*ParseIsoDay("2024-02-29"), D(2024, 2, 29));
  EXPECT_FALSE(ParseIsoDay("2026-02-29").has_value());  // 2026 is not a leap year
  EXPECT_FALSE(ParseIsoDay("2026-13-01").has_value());
  EXPECT_FALSE(ParseIsoDay("2026-2-14").has_value());
  EXPECT_FALSE(ParseIsoDay("2026/02/14").has_value());
  EXPECT_FALSE(ParseIsoDay("").has_value());
  EXPECT_EQ(FormatIsoDay(D(2026, 2, 14)), "2026-02-14");
  EXPECT_EQ(FormatIsoDay(D(999, 1, 2)), "0999-01-02");
}

TEST(CalendarTest, ShippedCalendarMetadata) {
  const Calendar& c = Shipped();
  EXPECT_EQ(c.id(), "cn-mainland");
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.time_zone(), "Asia/Shanghai");
  EXPECT_TRUE(c.Covers(2025));
  EXPECT_TRUE(c.Covers(2026));
  EXPECT_FALSE(c.Covers(2024));
  EXPECT_FALSE(c.Covers(2027));
  ASSERT_EQ(c.years().size(), 2u);
}

// Every day of 2025 and 2026 is classified as the official notices say: holidays and make-up
// workdays from the lists above, otherwise Monday–Friday work and Saturday–Sunday rest.
TEST(CalendarTest, EveryDayOf2025And2026MatchesTheOfficialNotices) {
  std::set<Day> holidays, workdays;
  for (const std::string& s : kOfficialHolidays)
    holidays.insert(*ParseIsoDay(s));
  for (const std::string& s : kOfficialMakeUpWorkdays)
    workdays.insert(*ParseIsoDay(s));
  ASSERT_EQ(holidays.size(), 61u);
  ASSERT_EQ(workdays.size(), 11u);
  int working_2025 = 0, working_2026 = 0;
  for (Day d = D(2025, 1, 1); d <= D(2026, 12, 31); d += days(1)) {
    SCOPED_TRACE(FormatIsoDay(d));
    bool weekend = weekday(d) == Saturday || weekday(d) == Sunday;
    DayKind expected = holidays.count(d)   ? DayKind::kHoliday
                       : workdays.count(d) ? DayKind::kMakeUpWorkday
                       : weekend           ? DayKind::kWeeklyDayOff
                                           : DayKind::kWorkday;
    EXPECT_EQ(Shipped().Classify(d), expected);
    if (workdays.count(d)) {
      EXPECT_TRUE(weekend) << "make-up workdays are weekend days";
    }
    bool provisional = false;
    bool working = Shipped().IsWorkingDay(d, &provisional);
    EXPECT_FALSE(provisional);
    EXPECT_EQ(working, expected == DayKind::kWorkday || expected == DayKind::kMakeUpWorkday);
    if (working) ++(d < D(2026, 1, 1) ? working_2025 : working_2026);
  }
  // Both years start on a weekday and have 365 days: 52 weeks and one day, so 261 weekdays. Each
  // year has 13 days of statutory holidays (the rest of a block is weekend days, made up on the
  // make-up workdays), so 261 − 13 = 248 working days.
  EXPECT_EQ(working_2025, 248);
  EXPECT_EQ(working_2026, 248);
}

TEST(CalendarTest, ClassifyExamples) {
  const Calendar& c = Shipped();
  ASSERT_EQ(weekday(D(2026, 2, 14)), Saturday);
  EXPECT_EQ(c.Classify(D(2026, 2, 14)), DayKind::kMakeUpWorkday);
  EXPECT_EQ(c.Classify(D(2026, 2, 15)), DayKind::kHoliday);  // a Sunday inside the block
  EXPECT_EQ(c.Classify(D(2026, 2, 16)), DayKind::kHoliday);  // a Monday inside the block
  EXPECT_EQ(c.Classify(D(2026, 2, 23)), DayKind::kHoliday);  // the last day of the block
  EXPECT_EQ(c.Classify(D(2026, 2, 24)), DayKind::kWorkday);
  ASSERT_EQ(weekday(D(2026, 2, 28)), Saturday);
  EXPECT_EQ(c.Classify(D(2026, 2, 28)), DayKind::kMakeUpWorkday);
  ASSERT_EQ(weekday(D(2026, 3, 7)), Saturday);
  EXPECT_EQ(c.Classify(D(2026, 3, 7)), DayKind::kWeeklyDayOff);
  ASSERT_EQ(weekday(D(2026, 9, 20)), Sunday);
  EXPECT_EQ(c.Classify(D(2026, 9, 20)), DayKind::kMakeUpWorkday);
  EXPECT_EQ(c.Classify(D(2026, 10, 10)), DayKind::kMakeUpWorkday);
  ASSERT_EQ(weekday(D(2026, 10, 11)), Sunday);
  EXPECT_EQ(c.Classify(D(2026, 10, 11)), DayKind::kWeeklyDayOff);
  // Years the calendar does not cover follow the weekly pattern only: 2027-01-01 is a Friday and
  // certainly a holiday (元旦), but the calendar cannot know that yet.
  ASSERT_EQ(weekday(D(2027, 1, 1)), Friday);
  EXPECT_EQ(c.Classify(D(2027, 1, 1)), DayKind::kWorkday);
  EXPECT_EQ(c.Classify(D(2027, 1, 2)), DayKind::kWeeklyDayOff);
  EXPECT_EQ(c.Classify(D(2024, 10, 1)), DayKind::kWorkday);
}

// 春节 2026: holidays 02-15 (Sun) … 02-23 (Mon); make-up workdays 02-14 (Sat) and 02-28 (Sat).
TEST(CalendarTest, SpringFestival2026) {
  ASSERT_EQ(weekday(D(2026, 2, 13)), Friday);
  ASSERT_EQ(weekday(D(2026, 2, 15)), Sunday);
  ASSERT_EQ(weekday(D(2026, 2, 23)), Monday);
  ASSERT_EQ(weekday(D(2026, 2, 24)), Tuesday);
  // From Friday 02-13: 02-14 is a make-up workday (1); 02-15…02-23 off; 02-24 (2), 02-25 (3).
  EXPECT_EQ(Add(D(2026, 2, 13), 1), "2026-02-14");
  EXPECT_EQ(Add(D(2026, 2, 13), 2), "2026-02-24");
  EXPECT_EQ(Add(D(2026, 2, 13), 3), "2026-02-25");
  // From the make-up Saturday itself: the next working day is after the whole block.
  EXPECT_EQ(Add(D(2026, 2, 14), 1), "2026-02-24");
  // From inside the block.
  EXPECT_EQ(Add(D(2026, 2, 18), 1), "2026-02-24");
  // From Friday 02-27: 02-28 is a make-up Saturday (1); 03-01 is a Sunday; 03-02 Monday (2).
  EXPECT_EQ(Add(D(2026, 2, 27), 1), "2026-02-28");
  EXPECT_EQ(Add(D(2026, 2, 27), 2), "2026-03-02");
  // From 02-12 (Thu), 10 working days: 02-13 (1), 02-14 (2), 02-24…02-27 (3–6), 02-28 (7),
  // 03-02…03-04 (8–10).
  EXPECT_EQ(Add(D(2026, 2, 12), 10), "2026-03-04");
  // 02-14…02-28: 02-14, 02-24, 02-25, 02-26, 02-27, 02-28.
  EXPECT_EQ(Count(D(2026, 2, 13), D(2026, 2, 28)), 6);
  // All of February 2026 (02-01 is a Sunday, 4 whole weeks): 20 weekdays, minus 6 weekday
  // holidays (02-16…02-20, 02-23), plus 2 make-up Saturdays = 16.
  EXPECT_EQ(Count(D(2026, 1, 31), D(2026, 2, 28)), 16);
  // Nothing inside the block.
  EXPECT_EQ(Count(D(2026, 2, 14), D(2026, 2, 23)), 0);
}

// 中秋节 2026-09-25 (Fri) … 09-27 (Sun); 国庆节 10-01 (Thu) … 10-07 (Wed); make-up workdays
// 09-20 (Sun) and 10-10 (Sat).
TEST(CalendarTest, MidAutumnAndNationalDay2026) {
  ASSERT_EQ(weekday(D(2026, 9, 18)), Friday);
  ASSERT_EQ(weekday(D(2026, 9, 24)), Thursday);
  ASSERT_EQ(weekday(D(2026, 10, 1)), Thursday);
  ASSERT_EQ(weekday(D(2026, 10, 10)), Saturday);
  // From Friday 09-18: 09-19 is an ordinary Saturday, 09-20 a make-up Sunday.
  EXPECT_EQ(Add(D(2026, 9, 18), 1), "2026-09-20");
  EXPECT_EQ(Add(D(2026, 9, 18), 2), "2026-09-21");
  // From Thursday 09-24: 09-25…09-27 off, 09-28 (1), 09-29 (2), 09-30 (3), 10-01…10-07 off,
  // 10-08 (4), 10-09 (5), 10-10 make-up (6), 10-11 Sunday off, 10-12 (7).
  EXPECT_EQ(Add(D(2026, 9, 24), 1), "2026-09-28");
  EXPECT_EQ(Add(D(2026, 9, 24), 3), "2026-09-30");
  EXPECT_EQ(Add(D(2026, 9, 24), 4), "2026-10-08");
  EXPECT_EQ(Add(D(2026, 9, 24), 6), "2026-10-10");
  EXPECT_EQ(Add(D(2026, 9, 24), 7), "2026-10-12");
  EXPECT_EQ(Add(D(2026, 9, 30), 1), "2026-10-08");
  EXPECT_EQ(Add(D(2026, 10, 9), 1), "2026-10-10");
  EXPECT_EQ(Add(D(2026, 10, 10), 1), "2026-10-12");
  // September 2026 (09-01 is a Tuesday): 22 weekdays, minus 09-25, plus 09-20 = 22.
  EXPECT_EQ(Count(D(2026, 8, 31), D(2026, 9, 30)), 22);
  // October 2026: 22 weekdays, minus 10-01, 02, 05, 06, 07, plus 10-10 = 18.
  EXPECT_EQ(Count(D(2026, 9, 30), D(2026, 10, 31)), 18);
}

// 2025 examples (国办发明电〔2024〕12号).
TEST(CalendarTest, Examples2025) {
  ASSERT_EQ(weekday(D(2025, 1, 24)), Friday);
  ASSERT_EQ(weekday(D(2025, 1, 26)), Sunday);
  ASSERT_EQ(weekday(D(2025, 9, 30)), Tuesday);
  ASSERT_EQ(weekday(D(2025, 10, 11)), Saturday);
  // 春节 01-28…02-04, make-up 01-26 (Sun) and 02-08 (Sat).
  EXPECT_EQ(Add(D(2025, 1, 24), 1), "2025-01-26");
  EXPECT_EQ(Add(D(2025, 1, 26), 1), "2025-01-27");
  EXPECT_EQ(Add(D(2025, 1, 27), 1), "2025-02-05");
  EXPECT_EQ(Add(D(2025, 2, 7), 1), "2025-02-08");
  // 劳动节 05-01 (Thu) … 05-05 (Mon), make-up 04-27 (Sun).
  EXPECT_EQ(Add(D(2025, 4, 25), 1), "2025-04-27");
  EXPECT_EQ(Add(D(2025, 4, 30), 1), "2025-05-06");
  // 端午节 05-31 (Sat) … 06-02 (Mon).
  EXPECT_EQ(Add(D(2025, 5, 30), 1), "2025-06-03");
  // 国庆节、中秋节 10-01…10-08, make-up 09-28 (Sun) and 10-11 (Sat): from Tuesday 09-30,
  // 10-09 (1), 10-10 (2), 10-11 (3).
  EXPECT_EQ(Add(D(2025, 9, 30), 3), "2025-10-11");
  EXPECT_EQ(Add(D(2025, 9, 26), 1), "2025-09-28");
  // October 2025 (10-01 is a Wednesday): 23 weekdays, minus 10-01, 02, 03, 06, 07, 08, plus 10-11.
  EXPECT_EQ(Count(D(2025, 9, 30), D(2025, 10, 31)), 18);
  // Across the new year: 2026-01-01…01-03 are 元旦, 01-04 (Sun) is a make-up workday.
  EXPECT_EQ(Add(D(2025, 12, 31), 1), "2026-01-04");
  EXPECT_EQ(Add(D(2025, 12, 31), 2), "2026-01-05");
  // Whole years, counted (from, to].
  EXPECT_EQ(Count(D(2024, 12, 31), D(2025, 12, 31)), 248);
  EXPECT_EQ(Count(D(2025, 12, 31), D(2026, 12, 31)), 248);
}

TEST(CalendarTest, StartDayIsNotCounted) {
  ASSERT_EQ(weekday(D(2026, 3, 2)), Monday);
  // The start day is day 0 even when it is a working day.
  EXPECT_EQ(Add(D(2026, 3, 2), 1), "2026-03-03");
  EXPECT_EQ(Add(D(2026, 3, 2), 5), "2026-03-09");
  // Starting on a weekend or a holiday.
  EXPECT_EQ(Add(D(2026, 3, 7), 1), "2026-03-09");
  EXPECT_EQ(Add(D(2026, 1, 1), 1), "2026-01-04");
}

TEST(CalendarTest, ZeroDaysIsTheStartDay) {
  for (Day d : {D(2026, 3, 2), D(2026, 3, 7), D(2026, 2, 16), D(2026, 2, 14), D(2025, 6, 1)}) {
    EXPECT_EQ(Add(d, 0), FormatIsoDay(d));
  }
  WorkingDayDate uncovered = Shipped().AddWorkingDays(D(2027, 1, 1), 0);
  EXPECT_EQ(uncovered.day, D(2027, 1, 1));
}

TEST(CalendarTest, CountIsHalfOpen) {
  // (from, to]: `from` is not counted, `to` is.
  EXPECT_EQ(Count(D(2026, 3, 2), D(2026, 3, 2)), 0);
  EXPECT_EQ(Count(D(2026, 3, 2), D(2026, 3, 3)), 1);
  EXPECT_EQ(Count(D(2026, 3, 1), D(2026, 3, 2)), 1);  // Sunday → Monday
  EXPECT_EQ(Count(D(2026, 3, 6), D(2026, 3, 9)), 1);  // Friday → Monday
  EXPECT_EQ(Count(D(2026, 3, 6), D(2026, 3, 8)), 0);  // Friday → Sunday
  EXPECT_EQ(Count(D(2026, 3, 2), D(2026, 3, 6)), 4);  // Monday → Friday
  // Backwards or empty intervals count nothing.
  EXPECT_EQ(Count(D(2026, 3, 9), D(2026, 3, 2)), 0);
  EXPECT_EQ(Count(D(2026, 12, 31), D(2025, 1, 1)), 0);
}

// For every start day of the covered years and many N: the Nth working day after `start` is a
// working day (for N > 0), later than the (N−1)th, and exactly N working days lie in (start, it].
TEST(CalendarTest, AddAndCountAreConsistent) {
  const Calendar& c = Shipped();
  for (Day start = D(2025, 1, 1); start <= D(2026, 12, 31); start += days(1)) {
    Day previous = start;
    for (int n = 0; n <= 45; ++n) {
      WorkingDayDate end = c.AddWorkingDays(start, n);
      WorkingDayCount count = c.CountWorkingDays(start, end.day);
      ASSERT_EQ(count.days, n) << FormatIsoDay(start) << " + " << n << " = "
                               << FormatIsoDay(end.day);
      ASSERT_EQ(count.provisional, end.provisional) << FormatIsoDay(start) << " + " << n;
      if (n > 0) {
        ASSERT_GT(end.day, previous);
        ASSERT_TRUE(c.IsWorkingDay(end.day)) << FormatIsoDay(end.day);
      }
      previous = end.day;
    }
  }
}

TEST(CalendarTest, ProvisionalOutsideCoveredYears) {
  const Calendar& c = Shipped();
  // 2026-12-28 (Mon) + 7: 12-29, 12-30, 12-31 (1–3); 2027 is not covered, so 2027-01-01 (Fri)
  // counts (4); 01-02/03 weekend; 01-04, 05, 06 (5–7).
  ASSERT_EQ(weekday(D(2026, 12, 28)), Monday);
  WorkingDayDate into_2027 = c.AddWorkingDays(D(2026, 12, 28), 7);
  EXPECT_EQ(FormatIsoDay(into_2027.day), "2027-01-06");
  EXPECT_TRUE(into_2027.provisional);
  // Staying inside 2026 is not provisional.
  WorkingDayDate inside = c.AddWorkingDays(D(2026, 12, 28), 3);
  EXPECT_EQ(FormatIsoDay(inside.day), "2026-12-31");
  EXPECT_FALSE(inside.provisional);
  // 2024 is not covered either.
  WorkingDayDate in_2024 = c.AddWorkingDays(D(2024, 12, 30), 1);
  EXPECT_EQ(FormatIsoDay(in_2024.day), "2024-12-31");
  EXPECT_TRUE(in_2024.provisional);
  // Starting in 2024 but counting only 2025 days: the start day is not looked at.
  WorkingDayDate from_2024 = c.AddWorkingDays(D(2024, 12, 31), 1);
  EXPECT_EQ(FormatIsoDay(from_2024.day), "2025-01-02");
  EXPECT_FALSE(from_2024.provisional);

  WorkingDayCount across = c.CountWorkingDays(D(2026, 12, 28), D(2027, 1, 6));
  EXPECT_EQ(across.days, 7);
  EXPECT_TRUE(across.provisional);
  WorkingDayCount all_2027 = c.CountWorkingDays(D(2026, 12, 31), D(2027, 12, 31));
  EXPECT_TRUE(all_2027.provisional);
  EXPECT_EQ(all_2027.days, 261);  // 2027 starts on a Friday: 52 weeks + 1 weekday
  WorkingDayCount in_2026 = c.CountWorkingDays(D(2026, 1, 1), D(2026, 12, 31));
  EXPECT_FALSE(in_2026.provisional);
  WorkingDayCount in_2024_only = c.CountWorkingDays(D(2024, 12, 1), D(2024, 12, 31));
  EXPECT_TRUE(in_2024_only.provisional);

  bool provisional = false;
  EXPECT_TRUE(c.IsWorkingDay(D(2027, 1, 1), &provisional));
  EXPECT_TRUE(provisional);
  provisional = false;
  EXPECT_FALSE(c.IsWorkingDay(D(2026, 1, 1), &provisional));
  EXPECT_FALSE(provisional);
  provisional = false;
  EXPECT_FALSE(c.IsWorkingDay(D(2024, 12, 28), &provisional));  // a Saturday
  EXPECT_TRUE(provisional);
}

// Days past the years std::chrono names (±32,767) have no year of their own: year_month_day wraps
// them round, 65,536 years on, onto years the calendar covers. They follow the weekly rule and are
// provisional, never a covered year's bits read at a day number past them (a scenario advancing
// the clock 100,000,000 days crashed on that).
TEST(CalendarTest, DaysBeyondTheRepresentableYearsFollowTheWeeklyRule) {
  const Calendar& c = Shipped();
  const Day start = D(2026, 1, 1);
  int checked = 0;
  for (int64_t offset :
       {int64_t{23935800}, int64_t{-23936900}, int64_t{100000000}, int64_t{-100000000}}) {
    for (int64_t k = 0; k < 1200; ++k) {
      Day day = start + days(offset + k);
      bool provisional = false;
      unsigned wd = weekday(day).c_encoding();
      EXPECT_EQ(c.IsWorkingDay(day, &provisional), wd != 0 && wd != 6) << offset + k;
      EXPECT_TRUE(provisional) << offset + k;
      DayKind kind = c.Classify(day);
      EXPECT_TRUE(kind == DayKind::kWorkday || kind == DayKind::kWeeklyDayOff) << offset + k;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4800);
  // Counting across such days ends.
  EXPECT_EQ(c.CountWorkingDays(start + days(100000000), start + days(100000007)).days, 5);
}

// Natural days (a bare "十五日" of another law): the start day is not counted (民法典 art. 201) and
// a period ending on a statutory rest day ends on the first working day after it (art. 203).
TEST(CalendarTest, NaturalDaysEndingInTheNationalDayHoliday2026) {
  const Calendar& c = Shipped();
  // 2026-09-18 (Fri) + 15 natural days = 10-03 (Sat), inside 国庆节 10-01…10-07: ends 10-08 (Thu).
  WorkingDayDate national_day = c.AddDays(D(2026, 9, 18), 15, DayUnit::kNaturalDays);
  EXPECT_EQ(FormatIsoDay(national_day.day), "2026-10-08");
  EXPECT_FALSE(national_day.provisional);
  // The same limit in working days ends a week later (the make-ups 09-20 and 10-10 count).
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 9, 18), 15, DayUnit::kWorkingDays).day), "2026-10-15");
  // 09-25 + 15 = 10-10, a Saturday that is a make-up workday: not a rest day, not moved.
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 9, 25), 15, DayUnit::kNaturalDays).day), "2026-10-10");
  // 09-26 + 15 = 10-11, an ordinary Sunday: moved to Monday 10-12.
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 9, 26), 15, DayUnit::kNaturalDays).day), "2026-10-12");
}

TEST(CalendarTest, NaturalDaysOtherCases) {
  const Calendar& c = Shipped();
  // Ends on a working day: not moved.
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 3, 2), 15, DayUnit::kNaturalDays).day), "2026-03-17");
  // Ends on an ordinary Saturday: moved to Monday.
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 3, 6), 15, DayUnit::kNaturalDays).day), "2026-03-23");
  // Ends inside 春节 (02-15…02-23): the first working day after is 02-24.
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 2, 1), 15, DayUnit::kNaturalDays).day), "2026-02-24");
  // Zero days: the start day itself, even a rest day (an instant promise).
  EXPECT_EQ(FormatIsoDay(c.AddDays(D(2026, 10, 3), 0, DayUnit::kNaturalDays).day), "2026-10-03");
  // Counting is plain: days after `from` up to and including `to`.
  EXPECT_EQ(c.CountDays(D(2026, 9, 18), D(2026, 10, 8), DayUnit::kNaturalDays).days, 20);
  EXPECT_EQ(c.CountDays(D(2026, 10, 8), D(2026, 9, 18), DayUnit::kNaturalDays).days, 0);
  EXPECT_EQ(c.DaysUntil(D(2026, 10, 3), D(2026, 10, 8), DayUnit::kNaturalDays).days, 5);
  EXPECT_EQ(c.DaysUntil(D(2026, 10, 10), D(2026, 10, 8), DayUnit::kNaturalDays).days, -2);
  EXPECT_EQ(c.DaysUntil(D(2026, 10, 9), D(2026, 10, 8), DayUnit::kWorkingDays).days, -1);
  EXPECT_EQ(c.DaysUntil(D(2026, 9, 30), D(2026, 10, 8), DayUnit::kWorkingDays).days, 1);
  // Working days through AddDays are AddWorkingDays.
  for (int n = 0; n < 30; ++n) {
    EXPECT_EQ(c.AddDays(D(2026, 9, 24), n, DayUnit::kWorkingDays).day,
              c.AddWorkingDays(D(2026, 9, 24), n).day);
  }
}

TEST(CalendarTest, NaturalDaysProvisionalOnlyWhenAnUncoveredDayDecides) {
  const Calendar& c = Shipped();
  // 2026-12-20 + 15 = 2027-01-04 (Mon): whether it is a rest day is a guess, 2027 not covered.
  WorkingDayDate into_2027 = c.AddDays(D(2026, 12, 20), 15, DayUnit::kNaturalDays);
  EXPECT_EQ(FormatIsoDay(into_2027.day), "2027-01-04");
  EXPECT_TRUE(into_2027.provisional);
  WorkingDayDate in_2026 = c.AddDays(D(2026, 12, 1), 15, DayUnit::kNaturalDays);
  EXPECT_EQ(FormatIsoDay(in_2026.day), "2026-12-16");
  EXPECT_FALSE(in_2026.provisional);
  EXPECT_FALSE(c.CountDays(D(2026, 12, 1), D(2027, 3, 1), DayUnit::kNaturalDays).provisional);
}

TEST(CalendarTest, DayUnitNames) {
  EXPECT_STREQ(DayUnitName(DayUnit::kWorkingDays), "working_days");
  EXPECT_STREQ(DayUnitName(DayUnit::kNaturalDays), "natural_days");
  EXPECT_EQ(ParseDayUnit("natural_days"), DayUnit::kNaturalDays);
  EXPECT_EQ(ParseDayUnit("working_days"), DayUnit::kWorkingDays);
  EXPECT_FALSE(ParseDayUnit("calendar_days").has_value());
}

Instant At(Day day, int hours, int minutes = 0, int seconds = 0, int millis = 0) {
  return Instant(day) + std::chrono::hours(hours) + std::chrono::minutes(minutes) +
         std::chrono::seconds(seconds) + std::chrono::milliseconds(millis);
}

TEST(CalendarTest, LocalDateInShanghai) {
  const Calendar& c = Shipped();
  // Asia/Shanghai is UTC+8 all year (no daylight saving since 1991).
  EXPECT_EQ(FormatIsoDay(c.LocalDate(At(D(2026, 3, 1), 17))), "2026-03-02");
  EXPECT_EQ(FormatIsoDay(c.LocalDate(At(D(2026, 3, 1), 15, 59, 59, 999))), "2026-03-01");
  EXPECT_EQ(FormatIsoDay(c.LocalDate(At(D(2026, 3, 1), 16))), "2026-03-02");
  EXPECT_EQ(FormatIsoDay(c.LocalDate(At(D(2026, 3, 1), 0))), "2026-03-01");
  EXPECT_EQ(FormatIsoDay(c.LocalDate(At(D(2025, 12, 31), 16))), "2026-01-01");
}

TEST(CalendarTest, EndOfLocalDayInShanghai) {
  const Calendar& c = Shipped();
  // 2026-03-01 ends at local midnight of 03-02, which is 2026-03-01T16:00:00Z.
  Instant end = c.EndOfLocalDay(D(2026, 3, 1));
  EXPECT_EQ(end, At(D(2026, 3, 1), 16));
  EXPECT_EQ(c.LocalDate(end - std::chrono::milliseconds(1)), D(2026, 3, 1));
  EXPECT_EQ(c.LocalDate(end), D(2026, 3, 2));
}

nlohmann::json ValidCalendar() {
  return nlohmann::json::parse(R"({
    "kind": "calendar",
    "id": "test-calendar",
    "version": 3,
    "title": "test",
    "time_zone": "Asia/Shanghai",
    "weekly_days_off": ["saturday", "sunday"],
    "years": [
      {"year": 2026,
       "holidays": [{"name": "春节", "from": "2026-02-15", "to": "2026-02-23"}],
       "make_up_workdays": [{"date": "2026-02-14", "for": "春节"}]}
    ]
  })");
}

struct Compiled {
  std::shared_ptr<const Calendar> calendar;
  std::vector<Diagnostic> diagnostics;
  bool Has(const std::string& code, const std::string& pointer) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code && d.pointer == pointer) return true;
    }
    return false;
  }
  const Diagnostic* Find(const std::string& code) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code) return &d;
    }
    return nullptr;
  }
  std::string Dump() const {
    std::string out;
    for (const Diagnostic& d : diagnostics)
      out += FormatDiagnostic(d) + " {" + d.code + "}\n";
    return out;
  }
};

Compiled CompileJson(const nlohmann::json& root) {
  DiagnosticSink sink("test.json", nullptr);
  Compiled result;
  result.calendar = CompileCalendar(root, &sink);
  result.diagnostics = sink.diagnostics();
  return result;
}

TEST(CalendarCompileTest, ValidCalendarCompiles) {
  Compiled c = CompileJson(ValidCalendar());
  ASSERT_TRUE(c.calendar) << c.Dump();
  EXPECT_TRUE(c.diagnostics.empty()) << c.Dump();
  EXPECT_EQ(c.calendar->id(), "test-calendar");
  EXPECT_EQ(c.calendar->version(), 3);
  EXPECT_EQ(c.calendar->Classify(D(2026, 2, 14)), DayKind::kMakeUpWorkday);
  EXPECT_EQ(c.calendar->Classify(D(2026, 2, 16)), DayKind::kHoliday);
}

TEST(CalendarCompileTest, OtherWeeklyDaysOff) {
  nlohmann::json root = ValidCalendar();
  root["weekly_days_off"] = {"friday"};
  root["years"][0]["make_up_workdays"] = nlohmann::json::array();
  Compiled c = CompileJson(root);
  ASSERT_TRUE(c.calendar) << c.Dump();
  ASSERT_EQ(weekday(D(2026, 3, 6)), Friday);
  EXPECT_EQ(c.calendar->Classify(D(2026, 3, 6)), DayKind::kWeeklyDayOff);
  EXPECT_EQ(c.calendar->Classify(D(2026, 3, 7)), DayKind::kWorkday);  // Saturday works here
  EXPECT_EQ(FormatIsoDay(c.calendar->AddWorkingDays(D(2026, 3, 5), 1).day), "2026-03-07");
}

TEST(CalendarCompileTest, BadWeekdayNameWithSuggestion) {
  nlohmann::json root = ValidCalendar();
  root["weekly_days_off"] = {"saterday", "sunday"};
  Compiled c = CompileJson(root);
  EXPECT_FALSE(c.calendar);
  ASSERT_TRUE(c.Has("bad-enum", "/weekly_days_off/0")) << c.Dump();
  EXPECT_NE(c.Find("bad-enum")->message.find("did you mean \"saturday\""), std::string::npos)
      << c.Dump();
  // Not a string at all.
  root["weekly_days_off"] = {"saturday", 7};
  EXPECT_TRUE(CompileJson(root).Has("bad-enum", "/weekly_days_off/1"));
}

TEST(CalendarCompileTest, HolidayOutsideItsYear) {
  nlohmann::json root = ValidCalendar();
  root["years"][0]["holidays"].push_back(
      {{"name", "元旦"}, {"from", "2025-12-31"}, {"to", "2026-01-01"}});
  Compiled c = CompileJson(root);
  EXPECT_FALSE(c.calendar);
  EXPECT_TRUE(c.Has("wrong-year", "/years/0/holidays/1")) << c.Dump();

  nlohmann::json make_up = ValidCalendar();
  make_up["years"][0]["make_up_workdays"].push_back({{"date", "2027-01-09"}});
  Compiled m = CompileJson(make_up);
  EXPECT_FALSE(m.calendar);
  EXPECT_TRUE(m.Has("wrong-year", "/years/0/make_up_workdays/1/date")) << m.Dump();
}

TEST(CalendarCompileTest, FromAfterTo) {
  nlohmann::json root = ValidCalendar();
  root["years"][0]["holidays"][0]["from"] = "2026-02-24";
  Compiled c = CompileJson(root);
  EXPECT_FALSE(c.calendar);
  EXPECT_TRUE(c.Has("bad-range", "/years/0/holidays/0/to")) << c.Dump();
}

TEST(CalendarCompileTest, DayBothHolidayAndMakeUpWorkday) {
  nlohmann::json root = ValidCalendar();
  root["years"][0]["make_up_workdays"].push_back({{"date", "2026-02-21"}, {"for", "春节"}});
  Compiled c = CompileJson(root);
  EXPECT_FALSE(c.calendar);
  EXPECT_TRUE(c.Has("conflicting-day", "/years/0/make_up_workdays/1/date")) << c.Dump();
}

TEST(CalendarCompileTest, UnknownTimeZone) {
  nlohmann::json root = ValidCalendar();
  root["time_zone"] = "Asia/Shanghia";
  Compiled c = CompileJson(root);
  EXPECT_FALSE(c.calendar);
  EXPECT_TRUE(c.Has("unknown-time-zone", "/time_zone")) << c.Dump();
  root["time_zone"] = "UTC+8";
  EXPECT_TRUE(CompileJson(root).Has("unknown-time-zone", "/time_zone"));
}

TEST(CalendarCompileTest, OtherMistakes) {
  nlohmann::json root = ValidCalendar();
  root["years"].push_back({{"year", 2026}, {"holidays", nlohmann::json::array()}});
  EXPECT_TRUE(CompileJson(root).Has("duplicate-id", "/years/1/year"));

  root = ValidCalendar();
  root["years"][0]["holidays"][0]["to"] = "2026-02-30";
  EXPECT_TRUE(CompileJson(root).Has("bad-date", "/years/0/holidays/0/to"));

  root = ValidCalendar();
  root["years"][0]["year"] = 1800;
  EXPECT_TRUE(CompileJson(root).Has("out-of-range", "/years/0/year"));

  root = ValidCalendar();
  root["tiem_zone"] = "Asia/Shanghai";
  Compiled unknown = CompileJson(root);
  ASSERT_TRUE(unknown.Has("unknown-key", "/tiem_zone")) << unknown.Dump();
  EXPECT_NE(unknown.Find("unknown-key")->message.find("did you mean \"time_zone\""),
            std::string::npos);

  root = ValidCalendar();
  root.erase("years");
  EXPECT_TRUE(CompileJson(root).Has("missing-key", ""));

  // Several mistakes are all reported at once.
  root = ValidCalendar();
  root["time_zone"] = "Nowhere/City";
  root["weekly_days_off"] = {"sundy"};
  root["years"][0]["holidays"][0]["from"] = "2026-03-01";
  Compiled many = CompileJson(root);
  EXPECT_FALSE(many.calendar);
  EXPECT_TRUE(many.Has("unknown-time-zone", "/time_zone")) << many.Dump();
  EXPECT_TRUE(many.Has("bad-enum", "/weekly_days_off/0")) << many.Dump();
  EXPECT_TRUE(many.Has("bad-range", "/years/0/holidays/0/to")) << many.Dump();
}

TEST(CalendarCompileTest, RedundantMakeUpWorkdayIsOnlyAWarning) {
  nlohmann::json root = ValidCalendar();
  root["years"][0]["make_up_workdays"].push_back({{"date", "2026-02-25"}, {"for", "春节"}});
  Compiled c = CompileJson(root);
  ASSERT_TRUE(c.calendar) << c.Dump();
  ASSERT_EQ(c.diagnostics.size(), 1u) << c.Dump();
  EXPECT_EQ(c.diagnostics[0].severity, Severity::kWarning);
  EXPECT_EQ(c.diagnostics[0].code, "redundant-workday");
  EXPECT_EQ(c.diagnostics[0].pointer, "/years/0/make_up_workdays/1/date");
}

TEST(CalendarCompileTest, LocalDayInAZoneWithDaylightSaving) {
  nlohmann::json root = ValidCalendar();
  root["time_zone"] = "Europe/Berlin";
  Compiled c = CompileJson(root);
  ASSERT_TRUE(c.calendar) << c.Dump();
  // Summer time starts on 2026-03-29 at 01:00 UTC: 03-28 ends at midnight CET (UTC+1), 03-29 at
  // midnight CEST (UTC+2).
  ASSERT_EQ(weekday(D(2026, 3, 29)), Sunday);
  EXPECT_EQ(c.calendar->EndOfLocalDay(D(2026, 3, 28)), At(D(2026, 3, 28), 23));
  EXPECT_EQ(c.calendar->EndOfLocalDay(D(2026, 3, 29)), At(D(2026, 3, 29), 22));
  EXPECT_EQ(c.calendar->LocalDate(At(D(2026, 3, 29), 22, 30)), D(2026, 3, 30));
  EXPECT_EQ(c.calendar->LocalDate(At(D(2026, 3, 28), 22, 30)), D(2026, 3, 28));
}

}  // namespace
}  // namespace tongban
