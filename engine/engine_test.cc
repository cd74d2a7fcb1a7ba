// Engine: opening the store under test (test_store.h) with the shipped definitions, and the timer
// loop acting on its own — deadlines fire without anyone asking, and a failed run is counted and
// logged, not lost.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/test_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Instant T(const std::string& text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-engine-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Open();
    auto deployed = engine_->DeployDirectory(std::string(TONGBAN_SOURCE_DIR) + "/definitions");
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    EXPECT_FALSE(deployed->deployed.empty());
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void Open(Instant start = T("2026-03-02T09:00:00+08:00")) {
    EngineOptions options;
    options.store.path = (fs::path(dir_) / "tongban.db").string();
    if (TestingPostgres()) options.postgres.conninfo = DatabaseUnderTest(options.store.path);
    options.clock = std::make_unique<SimulatedClock>(start);
    options.timer_interval_ms = 5;
    options.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_.push_back(line);
    };
    auto engine = Engine::Open(std::move(options));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  std::string CreatePermit() {
    NewCase c;
    c.definition_id = "construction-permit";
    c.actor = {"app-1", "applicant", "", "示例建设有限公司"};
    c.applicant_id = "app-1";
    c.applicant_name = "示例建设有限公司";
    c.form = {{"project_name", "示范厂房"},         {"project_code", "2026-330100-47-01-000001"},
              {"builder_name", "示例建设有限公司"}, {"builder_credit_code", "91330100MA2TEST01X"},
              {"project_category", "房屋建筑工程"}, {"contract_price_wan", 1200},
              {"building_area_m2", 8000},           {"planned_start_date", "2026-03-16"}};
    c.materials = {"application_form",
                   "land_approval",
                   "planning_permit",
                   "site_readiness",
                   "contractor_contract",
                   "funding_commitment",
                   "drawing_review_certificate",
                   "quality_safety_measures"};
    auto view = engine_->cases()->Create(c);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? view->state.id : "";
  }

  // Waits (bounded) until `done` holds; the loop runs every few milliseconds.
  template <class Done>
  bool WaitFor(Done done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(EngineTest, OpensTheStoreWithEveryPartWired) {
  ASSERT_NE(engine_->cases(), nullptr);
  EXPECT_EQ(engine_->cases()->store(), engine_->store());
  EXPECT_EQ(engine_->cases()->registry(), engine_->registry());
  EXPECT_EQ(engine_->cases()->clock(), engine_->clock());
  ASSERT_NE(engine_->simulated_clock(), nullptr);
  EXPECT_NE(engine_->registry()->FindItem("construction-permit"), nullptr);
  // Reopened, the deployed definitions are loaded from the store.
  engine_.reset();
  Open();
  EXPECT_NE(engine_->registry()->FindItem("construction-permit"), nullptr);
}

TEST_F(EngineTest, TheTimerLoopFiresDeadlinesOnItsOwn) {
  std::string id = CreatePermit();
  engine_->StartTimers();
  // Nothing is due yet: the loop runs and records nothing.
  ASSERT_TRUE(WaitFor([&] { return engine_->timer_stats().runs >= 3; }));
  EXPECT_EQ(engine_->timer_stats().fired, 0);
  // Five working days pass with no correction notice: deemed accepted (art. 32), by the loop.
  engine_->simulated_clock()->Set(T("2026-03-10T09:00:00+08:00"));
  ASSERT_TRUE(WaitFor([&] { return engine_->timer_stats().fired >= 1; }));
  auto view = engine_->cases()->Get(id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->state.status, CaseStatus::kUnderReview);
  EXPECT_TRUE(view->state.deemed_accepted);
  engine_->StopTimers();
  engine_->StopTimers();  // idempotent
  EXPECT_EQ(engine_->timer_stats().errors, 0);
}

TEST_F(EngineTest, AFailedRunIsCountedAndLoggedAndTheLoopGoesOn) {
  std::string broken = CreatePermit();
  engine_->simulated_clock()->Set(T("2026-03-03T09:00:00+08:00"));
  std::string good = CreatePermit();
  // Rewrite the broken case's only event consistently (hash recomputed): it no longer replays.
  Event e = engine_->cases()->History(broken)->at(0);
  e.status = "approved";
  e.hash = ComputeEventHash(e);
  engine_.reset();
  const std::string db = (fs::path(dir_) / "tongban.db").string();
  {
    std::ofstream script(db + ".sql");
    script << ".bail on\nDROP TRIGGER events_append_only_update;\nUPDATE events SET status = "
              "'approved', hash = '"
           << e.hash << "' WHERE case_id = '" << broken << "';\n";
  }
  if (TestingPostgres()) {
    ASSERT_EQ(TamperWithPostgres(db, "UPDATE events SET status = 'approved', hash = '" + e.hash +
                                         "' WHERE case_id = '" + broken + "';"),
              "");
  } else {
    ASSERT_EQ(std::system(("sqlite3 '" + db + "' < '" + db + ".sql'").c_str()), 0);
  }
  Open(T("2026-03-11T08:00:00+08:00"));
  engine_->StartTimers();
  // The loop goes on after a failed run. On SQLite each run retries the broken case; on PostgreSQL
  // its timer stays claimed by this node for the lease (timer_lease_ms, 60 s), so it is retried
  // once the lease has run out, not at every run.
  ASSERT_TRUE(WaitFor([&] {
    TimerStats s = engine_->timer_stats();
    return s.errors >= 1 && s.runs >= 3;
  }));
  TimerStats stats = engine_->timer_stats();
  if (!TestingPostgres()) {
    EXPECT_GE(stats.errors, 2) << "a failed timer was not retried";
  }
  EXPECT_NE(stats.last_error.find(broken), std::string::npos) << stats.last_error;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    ASSERT_FALSE(log_.empty());
    EXPECT_NE(log_.front().find(broken), std::string::npos) << log_.front();
    EXPECT_NE(log_.front().find("timers"), std::string::npos) << log_.front();
  }
  // The good case's deadline was applied all the same, once.
  auto view = engine_->cases()->Get(good);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->state.deemed_accepted);
  EXPECT_EQ(engine_->cases()->History(good)->size(), 2u);
}

}  // namespace
}  // namespace tongban
