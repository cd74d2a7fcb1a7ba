// ProblemFromStatus: the engine's refusal, as the problem document a caller reads.
#include "api/problem.h"

#include <gtest/gtest.h>

namespace tongban::api {
namespace {

TEST(ProblemFromStatus, APointerBecomesTheErrorsMember) {
  Problem p = ProblemFromStatus(
      Status::InvalidArgument("form field \"area\" is required").WithPointer("/form/area"));
  EXPECT_EQ(p.status, 422);
  EXPECT_EQ(p.type, "https://tongban.dev/problems/invalid");
  ASSERT_TRUE(p.extra.contains("errors")) << p.ToJson();
  EXPECT_EQ(p.extra["errors"],
            nlohmann::json::array(
                {{{"pointer", "/form/area"}, {"message", "form field \"area\" is required"}}}));
}

TEST(ProblemFromStatus, WithoutAPointerThereIsNoErrorsMember) {
  Problem p = ProblemFromStatus(Status::InvalidArgument("the case is a bundle's part"));
  EXPECT_EQ(p.status, 422);
  EXPECT_FALSE(p.extra.contains("errors")) << p.ToJson();
}

TEST(ProblemFromStatus, AReasonChoosesTheTypeAndAPointerStillPointsBesideIt) {
  // The two are separate: a slug is never taken for a pointer, nor a pointer for a slug.
  Problem unknown = ProblemFromStatus(Status::InvalidArgument("no action \"fly\"")
                                          .WithReason("unknown-action")
                                          .WithPointer("/action"));
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.type, "https://tongban.dev/problems/unknown-action");
  Problem large = ProblemFromStatus(Status::InvalidArgument("too big").WithReason("too-large"));
  EXPECT_EQ(large.status, 413);
  EXPECT_FALSE(large.extra.contains("errors")) << large.ToJson();
  Problem pointed = ProblemFromStatus(Status::InvalidArgument("bad").WithPointer("/data/x"));
  EXPECT_EQ(pointed.type, "https://tongban.dev/problems/invalid");
}

TEST(ProblemFromStatus, AStaleVersionIs412OnlyWhenTheCallerPinnedOne) {
  EXPECT_EQ(ProblemFromStatus(Status::Aborted("changed"), /*pinned_version=*/true).status, 412);
  EXPECT_EQ(ProblemFromStatus(Status::Aborted("changed"), /*pinned_version=*/false).status, 409);
}

}  // namespace
}  // namespace tongban::api
