// Tests of the light count deltas a store writes with each case write: summed up to an instant,
// they give the lights then.
#include "engine/light_count_deltas.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

namespace tongban {
namespace {

// The lights at `at`: the sums of the rows up to it, as the stores' CountLights compute them.
LightRowDelta SumUpTo(const std::map<int64_t, LightRowDelta>& rows, int64_t at) {
  LightRowDelta sum;
  for (const auto& [row_at, row] : rows) {
    if (row_at > at) break;
    sum.waiting += row.waiting;
    sum.yellow += row.yellow;
    sum.red += row.red;
  }
  return sum;
}

TEST(LightCountDeltas, ACaseUnderReviewIsYellowFromItsFirstInstantAndRedFromItsSecond) {
  LightCountDeltas deltas;
  deltas.AddCase("under_review", true, 100, 200, +1);
  EXPECT_TRUE(deltas.delivery.empty());
  EXPECT_EQ(SumUpTo(deltas.decision, 99).yellow, 0);
  EXPECT_EQ(SumUpTo(deltas.decision, 100).yellow, 1);
  EXPECT_EQ(SumUpTo(deltas.decision, 199).red, 0);
  EXPECT_EQ(SumUpTo(deltas.decision, 200).yellow, 0);
  EXPECT_EQ(SumUpTo(deltas.decision, 200).red, 1);
}

TEST(LightCountDeltas, ACaseTurningRedWithoutYellowIsNeverCountedYellow) {
  for (std::optional<int64_t> yellow : {std::optional<int64_t>(), std::optional<int64_t>(300)}) {
    LightCountDeltas deltas;
    deltas.AddCase("under_review", true, yellow, 200, +1);
    for (int64_t at : {199, 200, 300, 400}) {
      const LightRowDelta sum = SumUpTo(deltas.decision, at);
      EXPECT_EQ(sum.yellow, 0) << at;
      EXPECT_EQ(sum.red, at >= 200 ? 1 : 0) << at;
    }
  }
}

TEST(LightCountDeltas, AGrantAwaitingDeliveryIsWaitingFromTheStart) {
  LightCountDeltas deltas;
  deltas.AddCase("approved", true, 100, 200, +1);
  EXPECT_TRUE(deltas.decision.empty());
  EXPECT_EQ(SumUpTo(deltas.delivery, 0).waiting, 1);
  EXPECT_EQ(SumUpTo(deltas.delivery, 150).yellow, 1);
  EXPECT_EQ(SumUpTo(deltas.delivery, 250).red, 1);
  EXPECT_EQ(SumUpTo(deltas.delivery, 250).waiting, 1);
}

TEST(LightCountDeltas, CasesWithoutARunningClockChangeNothing) {
  LightCountDeltas deltas;
  deltas.AddCase("approved", true, std::nullopt, std::nullopt, +1);  // no delivery due
  deltas.AddCase("approved", false, 100, 200, +1);  // written before the delivery lights
  deltas.AddCase("under_review", false, 100, 200, +1);
  deltas.AddCase("closed", true, 100, 200, +1);
  deltas.AddCase("suspended", true, 100, 200, -1);
  EXPECT_TRUE(deltas.decision.empty());
  EXPECT_TRUE(deltas.delivery.empty());
}

// A write takes the case's previous instants out and puts its new ones in; a transaction's
// deltas are merged before they are written.
TEST(LightCountDeltas, ARewriteMovesTheCaseAndMergedDeltasSum) {
  LightCountDeltas first;
  first.AddCase("under_review", true, 100, 200, +1);
  LightCountDeltas rewrite;
  rewrite.AddCase("under_review", true, 100, 200, -1);
  rewrite.AddCase("approved", true, 300, 400, +1);
  first.Merge(rewrite);
  for (int64_t at : {0, 100, 200, 500}) {
    const LightRowDelta sum = SumUpTo(first.decision, at);
    EXPECT_EQ(sum.yellow, 0) << at;
    EXPECT_EQ(sum.red, 0) << at;
  }
  EXPECT_EQ(SumUpTo(first.delivery, 350).waiting, 1);
  EXPECT_EQ(SumUpTo(first.delivery, 350).yellow, 1);
  EXPECT_EQ(SumUpTo(first.delivery, 450).red, 1);
}

}  // namespace
}  // namespace tongban
