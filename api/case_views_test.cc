// CaseJsonText against the json tree it replaces: the same bytes as Dump(CaseJson(...)) for every
// prefix of every item case's history in the fixture database (every shipped-definition scenario:
// joint steps, pauses, commitments and their verification, transfers, bundle parts), as an
// applicant and as staff see it, at two instants (so that clocks with steps, lights and
// verification periods show), with and without offered actions, and each closed case as rated
// (好差评: a good rating, a bad one with its rectification open, and answered).
#include "api/case_views.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "engine/sqlite_store.h"

namespace tongban::api {
namespace {

namespace fs = std::filesystem;

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(CaseJsonTextTest, SameBytesAsTheJsonTree) {
  std::string pattern = (fs::temp_directory_path() / "tongban-views-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  const std::string path = (fs::path(dir) / "store.db").string();
  fs::copy_file(std::string(TONGBAN_SOURCE_DIR) + "/engine/testdata/store-v2.db", path);
  {
    SqliteStoreOptions options;
    options.path = path;
    options.read_only = true;
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    DefinitionRegistry registry(store->get());
    ASSERT_TRUE(registry.LoadFromStore().ok());
    std::vector<CaseRecord> records;
    ASSERT_TRUE((*store)
                    ->ForEachCase([&](const CaseRecord& r) {
                      records.push_back(r);
                      return true;
                    })
                    .ok());
    Principal applicant;
    applicant.id = "applicant";
    applicant.roles = {"applicant"};
    Principal reviewer;
    reviewer.id = "reviewer";
    reviewer.roles = {"reviewer"};
    reviewer.organ = "dz-approval-bureau";
    ASSERT_FALSE(Permissions::MaySeeOfficials(applicant));
    ASSERT_TRUE(Permissions::MaySeeOfficials(reviewer));
    OfferedAction offered;
    offered.action = "pass";
    offered.title = "审查通过 \"quoted\"";
    offered.role = "reviewer";
    offered.data = {{"comment", DataFieldType::kText, false, "", {}, "意见"},
                    {"decision", DataFieldType::kChoice, true, "", {"approve", "deny"}, "决定"},
                    {"missing", DataFieldType::kMaterialIds, false, "decision is deny", {}, ""},
                    {"score", DataFieldType::kInteger, true, "", {"1", "2", "3"}, "评分"}};
    int views = 0, with_step_clock = 0, with_verification = 0, with_pauses = 0, with_rating = 0;
    for (const CaseRecord& r : records) {
      if (registry.FindBundle(r.definition_id, r.definition_version)) continue;
      auto events = (*store)->GetEvents(r.id, INT64_MAX);
      ASSERT_TRUE(events.ok());
      for (size_t n = 1; n <= events->size(); ++n) {
        std::vector<Event> prefix(events->begin(), events->begin() + n);
        auto replayed = ReplayEvents(prefix, registry);
        ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
        const CaseLifecycle& lifecycle = *replayed->lifecycle;
        for (Instant now :
             {prefix.back().time, prefix.back().time + std::chrono::hours(24 * 200)}) {
          CaseView view = MakeCaseView(lifecycle.state(), lifecycle.item_ptr(), now);
          // 好差评: the closed case as rated — good, bad and open, bad and answered.
          if (n == events->size()) {
            const Instant rated_at = prefix.back().time;
            auto rating_of = [&](int score, const std::string& comment) {
              RatingRecord r;
              r.score = score;
              r.comment = comment;
              r.rated_at = rated_at;
              r.rated_by = "applicant";
              return r;
            };
            const RatingRecord good = rating_of(5, "很好 \"quoted\"");
            RatingRecord bad = rating_of(1, "");
            bad.rectification_due =
                lifecycle.item().time_limits.calendar->LocalDate(rated_at) + std::chrono::days(7);
            RatingRecord answered = bad;
            answered.answered_at = rated_at + std::chrono::hours(24 * 10);
            answered.answered_by = "reviewer";
            answered.answer = "已整改";
            answered.overdue_recorded = true;
            for (const RatingRecord& rating : {good, bad, answered}) {
              CaseState state = lifecycle.state();
              state.rating = rating;
              CaseView rated = MakeCaseView(state, lifecycle.item_ptr(), now);
              with_rating += rated.clock.rectification.has_value();
              for (const Principal* p : {&applicant, &reviewer}) {
                ASSERT_EQ(CaseJsonText(rated, *p, {offered}), Dump(CaseJson(rated, *p, {offered})))
                    << r.id << " rated " << rating.score << " as " << p->id;
              }
            }
          }
          with_step_clock += view.clock.step.has_value();
          with_verification += view.clock.verification_due.has_value();
          with_pauses += !view.state.pauses.empty();
          for (const Principal* p : {&applicant, &reviewer}) {
            for (const std::vector<OfferedAction>& actions :
                 {std::vector<OfferedAction>{}, std::vector<OfferedAction>{offered, offered}}) {
              ASSERT_EQ(CaseJsonText(view, *p, actions), Dump(CaseJson(view, *p, actions)))
                  << r.id << " after event " << n << " as " << p->id;
              ++views;
            }
          }
        }
      }
    }
    // The fixture covers what the writer has branches for.
    EXPECT_GT(views, 100);
    EXPECT_GT(with_step_clock, 0);
    EXPECT_GT(with_rating, 0);
    EXPECT_GT(with_verification, 0);
    EXPECT_GT(with_pauses, 0);
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace tongban::api
