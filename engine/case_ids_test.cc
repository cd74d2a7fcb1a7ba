// Tests of new case identities: ids that sort in creation order yet cannot be guessed, and query
// codes without look-alike characters.
#include "engine/case_ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"

namespace tongban {
namespace {

bool IsLowerHex(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(CaseIdsTest, AnIdIsCThenTheMillisecondThenSixtyFourRandomBits) {
  Instant made = ParseTimestamp("2026-03-02T09:00:00.250+08:00").value();
  std::string id = NewCaseId(made);
  ASSERT_EQ(id.size(), 1u + kCaseIdTimeDigits + kCaseIdRandomDigits);
  EXPECT_EQ(id[0], 'c');
  EXPECT_TRUE(IsLowerHex(id.substr(1))) << id;
  uint64_t millis = std::stoull(id.substr(1, kCaseIdTimeDigits), nullptr, 16);
  EXPECT_EQ(static_cast<int64_t>(millis), made.time_since_epoch().count());
}

TEST(CaseIdsTest, IdsMadeLaterSortLater) {
  Instant t = ParseTimestamp("2026-03-02T09:00:00+08:00").value();
  const std::vector<Instant> moments = {
      t, t + std::chrono::milliseconds(1), t + std::chrono::seconds(1),
      t + std::chrono::hours(24 * 365), t + std::chrono::hours(24 * 365 * 100)};
  for (int round = 0; round < 50; ++round) {
    std::string previous;
    for (Instant moment : moments) {
      std::string id = NewCaseId(moment);
      EXPECT_LT(previous, id) << "made at " << FormatTimestamp(moment);
      previous = id;
    }
  }
}

TEST(CaseIdsTest, IdsMadeInOneMillisecondDifferInTheirRandomDigits) {
  Instant t = ParseTimestamp("2026-03-02T09:00:00+08:00").value();
  std::set<std::string> ids;
  std::set<std::string> random_parts;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewCaseId(t);
    ids.insert(id);
    random_parts.insert(id.substr(1 + kCaseIdTimeDigits));
  }
  EXPECT_EQ(ids.size(), 10000u);
  EXPECT_EQ(random_parts.size(), 10000u);
}

TEST(CaseIdsTest, AnInstantBeforeTheEpochIsClampedNotWrapped) {
  // A simulated clock may be set anywhere; the id must still have its shape.
  std::string id = NewCaseId(Instant(std::chrono::milliseconds(-5)));
  ASSERT_EQ(id.size(), 1u + kCaseIdTimeDigits + kCaseIdRandomDigits);
  EXPECT_EQ(id.substr(1, kCaseIdTimeDigits), std::string(kCaseIdTimeDigits, '0'));
}

TEST(CaseIdsTest, QueryCodesHaveNoLookAlikes) {
  for (int i = 0; i < 100; ++i) {
    std::string code = NewQueryCode();
    ASSERT_EQ(code.size(), 8u);
    EXPECT_EQ(code.find_first_of("01OI"), std::string::npos) << code;
  }
}

}  // namespace
}  // namespace tongban
