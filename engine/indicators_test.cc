// Periods in the calendar's time zone, the counters' stored form and their summary. (A case's
// facts are checked end to end against its events: api/audit_api_test.cc.)
#include "engine/indicators.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/clock.h"
#include "workflows/diagnostics.h"

namespace tongban {
namespace {

class IndicatorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars/cn-mainland.json");
    DiagnosticSink sink("cn-mainland.json", nullptr);
    calendar_ = CompileCalendar(nlohmann::json::parse(in), &sink);
    ASSERT_TRUE(calendar_);
    ASSERT_EQ(calendar_->time_zone(), "Asia/Shanghai");
  }
  const Calendar& calendar() const { return *calendar_; }
  Instant At(const char* text) const { return *ParseTimestamp(text); }

  std::shared_ptr<const Calendar> calendar_;
};

TEST_F(IndicatorsTest, AMonthIsItsLocalDaysInUtc) {
  auto p = ParsePeriod("2026-11", "", "", calendar(), At("2026-03-02T09:00:00+08:00"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(FormatIsoDay(p->first), "2026-11-01");
  EXPECT_EQ(FormatIsoDay(p->last), "2026-11-30");
  EXPECT_EQ(FormatTimestamp(p->from), "2026-10-31T16:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(p->to), "2026-11-30T16:00:00.000Z");
  EXPECT_EQ(p->first_month, "2026-11");
  EXPECT_EQ(p->last_month, "2026-11");
  // The same as dates, and as months.
  auto days = ParsePeriod("", "2026-11-01", "2026-11-30", calendar(), Instant{});
  ASSERT_TRUE(days.ok());
  EXPECT_EQ(days->from, p->from);
  EXPECT_EQ(days->to, p->to);
  auto months = ParsePeriod("", "2026-02", "2026-11", calendar(), Instant{});
  ASSERT_TRUE(months.ok());
  EXPECT_EQ(FormatIsoDay(months->first), "2026-02-01");
  EXPECT_EQ(FormatIsoDay(months->last), "2026-11-30");
  EXPECT_EQ(months->first_month, "2026-02");
  // Nothing given: the month of now, locally (23:30 UTC on Feb 28 is March 1 in Beijing).
  auto now = ParsePeriod("", "", "", calendar(), At("2026-02-28T23:30:00Z"));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->first_month, "2026-03");
}

TEST_F(IndicatorsTest, ABadPeriodNamesItsParameter) {
  struct Case {
    const char* month;
    const char* from;
    const char* to;
    const char* names;
  };
  for (const Case& c :
       {Case{"2026-13", "", "", "month:"}, Case{"2026-1", "", "", "month:"},
        Case{"2026-11", "2026-11-01", "", "month:"}, Case{"", "2026-11-01", "", "to:"},
        Case{"", "", "2026-11-30", "from:"}, Case{"", "2026-02-30", "2026-03-01", "from:"},
        Case{"", "2026-11-01", "2026-10-31", "to:"}, Case{"", "2026-11-01", "tomorrow", "to:"}}) {
    auto p = ParsePeriod(c.month, c.from, c.to, calendar(), Instant{});
    ASSERT_FALSE(p.ok()) << c.month << " " << c.from << " " << c.to;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message().rfind(c.names, 0), 0u) << p.status().message();
  }
}

TEST_F(IndicatorsTest, CountersRoundTripTheirStoredForm) {
  const std::map<std::string, int64_t> counters = {
      {"applications", 1}, {"visits", 3}, {"decided", 0}, {"working_days_used", -2}};
  EXPECT_EQ(EncodeCounters(counters), "applications=1,visits=3,working_days_used=-2");
  auto back = DecodeCounters(EncodeCounters(counters));
  EXPECT_EQ(back, (std::map<std::string, int64_t>{
                      {"applications", 1}, {"visits", 3}, {"working_days_used", -2}}));
  EXPECT_TRUE(DecodeCounters("").empty());
  EXPECT_EQ(DecodeCounters("a=1,bad,b=x,c=2"),
            (std::map<std::string, int64_t>{{"a", 1}, {"c", 2}}));
}

TEST_F(IndicatorsTest, SummariesSumByKeyAndMonthWithATotal) {
  std::vector<IndicatorCount> counts = {
      {"2026-03", "organ-a", "item-1", "zone-x", "applications", 3},
      {"2026-03", "organ-a", "item-1", "zone-x", "decided", 2},
      {"2026-03", "organ-a", "item-1", "zone-x", "on_time_statutory", 1},
      {"2026-03", "organ-a", "item-1", "zone-x", "working_days_used", 9},
      {"2026-03", "organ-b", "item-2", "zone-x", "applications", 1},
      {"2026-04", "organ-a", "item-1", "zone-y", "applications", 5},
  };
  auto rows = SummarizeIndicators(counts, IndicatorGrouping::kZone, true);
  ASSERT_EQ(rows.size(), 4u);  // 2026-03: zone-x, total; 2026-04: zone-y, total
  EXPECT_EQ(rows[0].key, "zone-x");
  EXPECT_EQ(rows[0].Count("applications"), 4);
  EXPECT_EQ(rows[0].OnTimeRateStatutory(), 0.5);
  EXPECT_EQ(rows[0].AverageWorkingDays(), 4.5);
  EXPECT_EQ(rows[1].key, "");
  EXPECT_EQ(rows[1].month, "2026-03");
  EXPECT_EQ(rows[3].Count("applications"), 5);
  EXPECT_FALSE(rows[3].OnTimeRateStatutory());  // nothing decided
  auto by_organ = SummarizeIndicators(counts, IndicatorGrouping::kOrgan, false);
  ASSERT_EQ(by_organ.size(), 3u);
  EXPECT_EQ(by_organ[0].key, "organ-a");
  EXPECT_EQ(by_organ[0].Count("applications"), 8);
  EXPECT_EQ(by_organ[2].Count("applications"), 9);
}

}  // namespace
}  // namespace tongban
