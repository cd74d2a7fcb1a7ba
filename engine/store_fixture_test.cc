// A database written by an earlier version of Tongban must open, read and verify with this one.
//
// engine/testdata/store-v2.db was written once by the build of commit 70e946d (schema version 2,
// case snapshots in the CaseStateToJson format without a format version): every shipped-definition
// scenario in tests/scenarios/ run into one file. The tests open a copy of it (so it is migrated
// forward), read every case, verify the whole file, and act on it.
//
// To write the fixture again (only ever with the build of an older version, never this one):
//   TONGBAN_WRITE_FIXTURE=/tmp/fixture build/engine/engine_test --gtest_filter='StoreFixture.Write'
// then copy /tmp/fixture/scenario.db to engine/testdata/store-v2.db.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/case_service.h"
#include "engine/counting_store.h"
#include "engine/scenario.h"
#include "engine/sqlite_store.h"
#include "workflows/definition_set.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
const std::string kFixture = kSourceDir + "/engine/testdata/store-v2.db";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(StoreFixture, Write) {
  const char* dir = std::getenv("TONGBAN_WRITE_FIXTURE");
  if (dir == nullptr) GTEST_SKIP() << "set TONGBAN_WRITE_FIXTURE to a directory to write it";
  fs::create_directories(dir);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/tests/scenarios")) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().string());
  }
  std::sort(names.begin(), names.end());
  int run = 0;
  for (const std::string& name : names) {
    nlohmann::json scenario = nlohmann::json::parse(ReadText(name));
    std::vector<std::string> paths = {scenario.value("definition", "")};
    for (const auto& extra : scenario.value("with", nlohmann::json::array()))
      paths.push_back(extra.get<std::string>());
    // Shipped definitions only: they deploy into one file without clashing.
    if (!std::all_of(paths.begin(), paths.end(),
                     [](const std::string& p) { return p.rfind("definitions/", 0) == 0; })) {
      continue;
    }
    // One file holds many items: name the scenario's own.
    if (!scenario.contains("item") && !scenario.contains("bundle")) {
      scenario["item"] = nlohmann::json::parse(ReadText(kSourceDir + "/" + paths[0]))["id"];
    }
    DefinitionSet set;
    for (const std::string& p : paths)
      set.AddPath(kSourceDir + "/" + p, /*report=*/true);
    set.AddPath(kSourceDir + "/definitions/calendars", /*report=*/false);
    set.Compile();
    ASSERT_FALSE(set.HasErrors()) << name;
    ScenarioOptions options;
    options.work_dir = dir;
    for (const DefinitionSet::File& file : set.files()) {
      if (file.parsed) options.definitions.push_back({file.name, file.text});
    }
    auto result = RunScenario(scenario, options);
    ASSERT_TRUE(result.ok()) << name << ": " << result.status().ToString();
    ++run;
  }
  EXPECT_GT(run, 100);
}

class StoreFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::is_regular_file(kFixture)) << kFixture;
    std::string pattern = (fs::temp_directory_path() / "tongban-fixture-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (fs::path(dir_) / "store.db").string();
    fs::copy_file(kFixture, path_);
  }
  void TearDown() override {
    service_.reset();
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  void Open(bool read_only = false) {
    service_.reset();
    registry_.reset();
    store_.reset();
    SqliteStoreOptions options;
    options.path = path_;
    options.read_only = read_only;
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_);
  }
  std::vector<CaseRecord> Cases() {
    std::vector<CaseRecord> out;
    EXPECT_TRUE(store_
                    ->ForEachCase([&](const CaseRecord& r) {
                      out.push_back(r);
                      return true;
                    })
                    .ok());
    return out;
  }

  std::string dir_;
  std::string path_;
  SimulatedClock clock_{*ParseTimestamp("2027-06-01T09:00:00+08:00")};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
};

TEST_F(StoreFixtureTest, OpensAndVerifies) {
  Open();
  auto cases = Cases();
  EXPECT_GT(cases.size(), 100u);
  VerifyReport report = service_->VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
  EXPECT_EQ(report.cases, static_cast<int64_t>(cases.size()));
}

TEST_F(StoreFixtureTest, ReadOnlyOpenVerifies) {
  Open(/*read_only=*/true);
  VerifyReport report = service_->VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
}

// Every case reads as its history replays to: the stored (old-format) snapshot is understood.
TEST_F(StoreFixtureTest, EveryCaseReadsAsItsHistoryReplays) {
  Open();
  // Reads through a store that counts reads of history: there must be none.
  CountingStore counting(store_.get());
  CaseService reader(&counting, registry_.get(), &clock_);
  int items = 0;
  int bundles = 0;
  for (const CaseRecord& r : Cases()) {
    auto events = store_->GetEvents(r.id, INT64_MAX);
    ASSERT_TRUE(events.ok());
    if (registry_->FindBundle(r.definition_id, r.definition_version)) {
      auto bundle = reader.GetBundle(r.id);
      ASSERT_TRUE(bundle.ok()) << r.id << ": " << bundle.status().ToString();
      auto replayed = ReplayBundleEvents(*events, *registry_);
      ASSERT_TRUE(replayed.ok());
      EXPECT_EQ(BundleStateToJson(bundle->state), BundleStateToJson(replayed->bundle->state()));
      ++bundles;
      continue;
    }
    auto view = reader.Get(r.id);
    ASSERT_TRUE(view.ok()) << r.id << ": " << view.status().ToString();
    auto replayed = ReplayEvents(*events, *registry_);
    ASSERT_TRUE(replayed.ok());
    const CaseLifecycle& lifecycle = *replayed->lifecycle;
    EXPECT_EQ(CaseStateToJson(view->state, view->item.get()),
              CaseStateToJson(lifecycle.state(), &lifecycle.item()))
        << r.id;
    EXPECT_EQ(view->step_id, lifecycle.step_id());
    auto by_number = reader.GetByNumber(r.number);
    ASSERT_TRUE(by_number.ok());
    EXPECT_EQ(by_number->state.id, r.id);
    ++items;
  }
  EXPECT_GT(items, 100);
  EXPECT_GT(bundles, 5);
  EXPECT_EQ(counting.get_events, 0);
}

// The migration counts the old cases by status; their lights (the decision's of the cases under
// review, the delivery's of the grants awaiting delivery) are computed until the timer loop has
// rewritten them, and then come from the counts kept on write.
TEST_F(StoreFixtureTest, MigratedCountsEqualAFullCount) {
  Open();
  std::map<std::string, int64_t> statuses;
  for (const CaseRecord& r : Cases())
    statuses[r.status]++;
  auto kept = store_->CountByStatus().value();
  std::map<std::string, int64_t> kept_map(kept.begin(), kept.end());
  EXPECT_EQ(kept_map, statuses);
  auto full_lights = [&](LightClock clock) {
    LightCounts lights;
    for (const CaseRecord& r : Cases()) {
      if (r.status != (clock == LightClock::kDecision ? "under_review" : "approved")) continue;
      auto view = service_->Get(r.id);
      EXPECT_TRUE(view.ok());
      const ClockView c = ComputeClock(*view->item, view->state, clock_.Now());
      if (clock == LightClock::kDelivery && !c.delivery_due) continue;
      Light l = clock == LightClock::kDecision ? c.light : c.delivery_light;
      (l == Light::kRed ? lights.red : l == Light::kYellow ? lights.yellow : lights.green)++;
    }
    return lights;
  };
  for (LightClock clock : {LightClock::kDecision, LightClock::kDelivery}) {
    EXPECT_GT(store_->CountLights(clock_.Now(), clock)->unknown, 0);
    LightCounts expected = full_lights(clock);
    auto computed = service_->CountLights(clock);
    ASSERT_TRUE(computed.ok());
    EXPECT_EQ(computed->green, expected.green);
    EXPECT_EQ(computed->yellow, expected.yellow);
    EXPECT_EQ(computed->red, expected.red);
  }
  ASSERT_TRUE(service_->FireDueTimers().ok());
  for (LightClock clock : {LightClock::kDecision, LightClock::kDelivery}) {
    auto recorded = store_->CountLights(clock_.Now(), clock);
    ASSERT_TRUE(recorded.ok());
    EXPECT_EQ(recorded->unknown, 0);
    LightCounts expected = full_lights(clock);
    EXPECT_EQ(recorded->green, expected.green);
    EXPECT_EQ(recorded->yellow, expected.yellow);
    EXPECT_EQ(recorded->red, expected.red);
    EXPECT_GT(clock == LightClock::kDecision ? expected.red
                                             : expected.green + expected.yellow + expected.red,
              0);
  }
  VerifyReport report = service_->VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
}

// An old case takes a new action, and the file still verifies afterwards.
// Schema 5 indexes the events taken under a delegation, those written before it too (from their
// stored data.authority), so the audit query of actions under a revoked delegation sees the past.
TEST_F(StoreFixtureTest, MigrationIndexesTheEventsTakenUnderADelegation) {
  Open();
  int64_t expected = 0;
  ASSERT_TRUE(store_
                  ->ForEachEvent([&](Event& e) {
                    const nlohmann::json data = ParseStoredData(e.data);
                    const nlohmann::json authority = data.value("authority", nlohmann::json());
                    if (authority.is_object() && authority.value("basis", "") == "delegation" &&
                        authority.value("delegation", "") == "food-licence-dz-2026") {
                      ++expected;
                    }
                    return true;
                  })
                  .ok());
  ASSERT_GT(expected, 0);
  EventQuery q;
  q.delegation = "food-licence-dz-2026";
  auto found = store_->FindEvents(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(found->size()), expected);
  // Their facts are written at their next write: none yet.
  EXPECT_TRUE(store_->Indicators("2000-01", "2100-12")->empty());
}

TEST_F(StoreFixtureTest, OldCasesTakeNewActions) {
  Open();
  int acted = 0;
  for (const CaseRecord& r : Cases()) {
    if (r.status != "submitted" && r.status != "correction_pending" && r.status != "under_review")
      continue;
    if (registry_->FindBundle(r.definition_id, r.definition_version)) continue;
    auto view = service_->Get(r.id);
    ASSERT_TRUE(view.ok());
    if (view->state.is_bundle_child()) continue;
    ActRequest request;
    request.case_id = r.id;
    request.action = "withdraw";
    request.actor = {view->state.applicant_id, "applicant", "", ""};
    auto withdrawn = service_->Act(request);
    ASSERT_TRUE(withdrawn.ok()) << r.id << ": " << withdrawn.status().ToString();
    EXPECT_EQ(withdrawn->state.status, CaseStatus::kWithdrawn);
    auto read = service_->Get(r.id);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->state.status, CaseStatus::kWithdrawn);
    EXPECT_EQ(read->state.version, withdrawn->state.version);
    EXPECT_GT(read->state.version, view->state.version);
    ++acted;
  }
  EXPECT_GT(acted, 0);
  VerifyReport report = service_->VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
}

}  // namespace
}  // namespace tongban
