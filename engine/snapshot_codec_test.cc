// The snapshot codec over real states: every prefix of every case's history in the fixture
// database (every shipped-definition scenario: bundles and their parts, commitment cases and their
// verification, suspensions and special-procedure pauses, joint steps, transfers), encoded,
// decoded and encoded again.
#include "engine/snapshot_codec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "engine/case_service.h"
#include "engine/event.h"
#include "engine/sqlite_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

class SnapshotCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-codec-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // Read-only: the fixture is read as it was written.
    std::string path = (fs::path(dir_) / "store.db").string();
    fs::copy_file(std::string(TONGBAN_SOURCE_DIR) + "/engine/testdata/store-v2.db", path);
    SqliteStoreOptions options;
    options.path = path;
    options.read_only = true;
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    ASSERT_TRUE(store_
                    ->ForEachCase([&](const CaseRecord& r) {
                      records_.push_back(r);
                      return true;
                    })
                    .ok());
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::vector<CaseRecord> records_;
};

TEST_F(SnapshotCodecTest, EveryItemStateRoundTrips) {
  int states = 0;
  int joint = 0, paused = 0, commitment = 0, verified = 0, children = 0, transferred = 0;
  for (const CaseRecord& r : records_) {
    if (registry_->FindBundle(r.definition_id, r.definition_version)) continue;
    auto events = store_->GetEvents(r.id, INT64_MAX);
    ASSERT_TRUE(events.ok());
    for (size_t n = 1; n <= events->size(); ++n) {
      std::vector<Event> prefix(events->begin(), events->begin() + n);
      auto replayed = ReplayEvents(prefix, *registry_);
      ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
      const CaseState& state = replayed->lifecycle->state();
      const Item& item = replayed->lifecycle->item();
      std::string text = EncodeCaseSnapshot(state, item);
      EXPECT_EQ(SnapshotFormatOf(text), kSnapshotFormat);
      // Canonical by nlohmann's own serializer (the encoder writes the bytes itself).
      EXPECT_EQ(nlohmann::json::parse(text).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace),
                text)
          << "not canonical";
      auto decoded = DecodeCaseSnapshot(text, item);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(EncodeCaseSnapshot(*decoded, item), text);
      // Compared through the view as well: a field the codec dropped both ways shows here.
      EXPECT_EQ(CaseStateToJson(*decoded, &item), CaseStateToJson(state, &item)) << r.id;
      // The format before this codec (no "format" field) decodes to the same state.
      auto legacy = DecodeCaseSnapshot(CanonicalJson(CaseStateToJson(state, &item)), item);
      ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
      // Except what format 0 never held: the accepting organ (verification takes it from the
      // replay), the channel and the visits (recorded only by events written since).
      legacy->handled_by = state.handled_by;
      legacy->channel = state.channel;
      legacy->visits = state.visits;
      EXPECT_EQ(EncodeCaseSnapshot(*legacy, item), text) << r.id << " seq " << n;
      ++states;
      joint += !state.joint_passed.empty();
      paused += !state.pauses.empty();
      commitment += state.commitment.has_value();
      verified += state.verification == Verification::kPassed ||
                  state.verification == Verification::kBreached;
      children += state.is_bundle_child();
      transferred += state.transferred_at.has_value();
    }
  }
  EXPECT_GT(states, 300);
  // The fixture covers the states that are easy to drop.
  EXPECT_GT(joint, 0);
  EXPECT_GT(paused, 0);
  EXPECT_GT(commitment, 0);
  EXPECT_GT(verified, 0);
  EXPECT_GT(children, 0);
  EXPECT_GT(transferred, 0);
}

// 好差评: the rating of a closed case, good or bad, its rectification open, overdue or answered,
// round-trips; a state without one encodes without the member (older snapshots keep their bytes).
TEST_F(SnapshotCodecTest, RatedStatesRoundTrip) {
  int rated = 0;
  for (const CaseRecord& r : records_) {
    if (registry_->FindBundle(r.definition_id, r.definition_version)) continue;
    auto events = store_->GetEvents(r.id, INT64_MAX);
    ASSERT_TRUE(events.ok());
    auto replayed = ReplayEvents(*events, *registry_);
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    const Item& item = replayed->lifecycle->item();
    CaseState state = replayed->lifecycle->state();
    ASSERT_FALSE(state.rating.has_value());
    EXPECT_EQ(EncodeCaseSnapshot(state, item).find("\"rating\""), std::string::npos);
    RatingRecord rating;
    rating.score = 2;
    rating.comment = "窗口 \"排队\" 太久";
    rating.rated_at = events->back().time;
    rating.rated_by = state.applicant_id;
    rating.rectification_due = item.time_limits.calendar->LocalDate(rating.rated_at);
    for (int variant = 0; variant < 3; ++variant) {
      if (variant == 1) rating.overdue_recorded = true;
      if (variant == 2) {
        rating.answered_at = rating.rated_at + std::chrono::hours(30);
        rating.answered_by = "reviewer-demo";
        rating.answer = "已整改";
      }
      state.rating = rating;
      const std::string text = EncodeCaseSnapshot(state, item);
      auto decoded = DecodeCaseSnapshot(text, item);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ASSERT_TRUE(decoded->rating.has_value());
      EXPECT_TRUE(decoded->rating->rectification_due == rating.rectification_due);
      EXPECT_TRUE(decoded->rating->answered_at == rating.answered_at);
      EXPECT_EQ(decoded->rating->overdue_recorded, rating.overdue_recorded);
      EXPECT_EQ(EncodeCaseSnapshot(*decoded, item), text);
      EXPECT_EQ(CaseStateToJson(*decoded, &item), CaseStateToJson(state, &item)) << r.id;
      ++rated;
    }
    rating = RatingRecord();
    rating.score = 5;
    rating.rated_at = events->back().time;
    state.rating = rating;
    auto good = DecodeCaseSnapshot(EncodeCaseSnapshot(state, item), item);
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good->rating->score, 5);
    EXPECT_FALSE(good->rating->rectification_due.has_value());
  }
  EXPECT_GT(rated, 30);
}

TEST_F(SnapshotCodecTest, EveryBundleStateRoundTrips) {
  int states = 0;
  for (const CaseRecord& r : records_) {
    if (!registry_->FindBundle(r.definition_id, r.definition_version)) continue;
    auto events = store_->GetEvents(r.id, INT64_MAX);
    ASSERT_TRUE(events.ok());
    for (size_t n = 1; n <= events->size(); ++n) {
      std::vector<Event> prefix(events->begin(), events->begin() + n);
      auto replayed = ReplayBundleEvents(prefix, *registry_);
      ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
      const BundleState& state = replayed->bundle->state();
      std::string text = EncodeBundleSnapshot(state);
      EXPECT_EQ(SnapshotFormatOf(text), kSnapshotFormat);
      auto decoded = DecodeBundleSnapshot(text);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(EncodeBundleSnapshot(*decoded), text);
      EXPECT_EQ(BundleStateToJson(*decoded), BundleStateToJson(state));
      auto legacy = DecodeBundleSnapshot(CanonicalJson(BundleStateToJson(state)));
      ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
      EXPECT_EQ(EncodeBundleSnapshot(*legacy), text);
      ++states;
    }
  }
  EXPECT_GT(states, 20);
}

// The fixture's stored snapshots are of the format before this codec and decode as such.
TEST_F(SnapshotCodecTest, StoredFormatZeroSnapshotsDecode) {
  for (const CaseRecord& r : records_) {
    EXPECT_EQ(SnapshotFormatOf(r.snapshot), 0);
    if (registry_->FindBundle(r.definition_id, r.definition_version)) {
      EXPECT_TRUE(DecodeBundleSnapshot(r.snapshot).ok()) << r.id;
    } else {
      auto item = registry_->FindItem(r.definition_id, r.definition_version);
      ASSERT_NE(item, nullptr);
      EXPECT_TRUE(DecodeCaseSnapshot(r.snapshot, *item).ok()) << r.id;
    }
  }
}

TEST_F(SnapshotCodecTest, RefusesWhatItCannotRead) {
  auto item = registry_->Items().front();
  CaseState state;
  state.id = "c-1";
  std::string text = EncodeCaseSnapshot(state, *item);
  nlohmann::json newer = nlohmann::json::parse(text);
  newer["format"] = kSnapshotFormat + 1;
  EXPECT_EQ(DecodeCaseSnapshot(newer.dump(), *item).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeCaseSnapshot("not json", *item).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(SnapshotFormatOf("not json"), -1);
  nlohmann::json step = nlohmann::json::parse(text);
  step["step"] = "no-such-step";
  EXPECT_EQ(DecodeCaseSnapshot(step.dump(), *item).status().code(), StatusCode::kDataLoss);
  // A bundle snapshot is not a case's, and the other way round.
  EXPECT_FALSE(DecodeBundleSnapshot(text).ok());
  EXPECT_FALSE(DecodeCaseSnapshot(EncodeBundleSnapshot(BundleState{}), *item).ok());
}

}  // namespace
}  // namespace tongban
