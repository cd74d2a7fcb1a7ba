// Tests only: what CaseService's test files share (case_service_test.cc, the life of a case, its
// reads, retries, timers and machine cache; case_service_verify_test.cc, verification against
// tampering): the store under test on a temporary file with the shipped definitions deployed, a
// simulated clock, the actors and the construction-permit application, and tampering with the
// real sqlite3 tool (on PostgreSQL, the same SQL over libpq).
#pragma once

#include "engine/case_service.h"

#include "engine/case_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/case_ids.h"
#include "engine/counting_store.h"
#include "engine/scenario.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban::case_service_test {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

inline Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tongban-service-test-XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline Actor Applicant() {
  return {"app-1", "applicant", "", "示例建设有限公司"};
}
inline Actor Clerk(const std::string& id = "clerk-1") {
  return {id, "clerk", "dz-approval-bureau", id};
}
inline Actor Reviewer() {
  return {"rev-1", "reviewer", "dz-approval-bureau", "rev-1"};
}
inline Actor Approver() {
  return {"appr-1", "approver", "dz-approval-bureau", "appr-1"};
}

inline const json kMaterials = {"application_form",
                                "land_approval",
                                "planning_permit",
                                "site_readiness",
                                "contractor_contract",
                                "funding_commitment",
                                "drawing_review_certificate",
                                "quality_safety_measures"};

inline NewCase ConstructionPermit(const std::string& idempotency_key = "") {
  NewCase c;
  c.definition_id = "construction-permit";
  c.actor = Applicant();
  c.applicant_id = "app-1";
  c.applicant_name = "示例建设有限公司";
  c.applicant_credit_code = "91330100MA2TEST01X";
  c.form = {{"project_name", "示范厂房"},         {"project_code", "2026-330100-47-01-000001"},
            {"builder_name", "示例建设有限公司"}, {"builder_credit_code", "91330100MA2TEST01X"},
            {"project_category", "房屋建筑工程"}, {"contract_price_wan", 1200},
            {"building_area_m2", 8000},           {"planned_start_date", "2026-03-16"}};
  c.materials = kMaterials;
  c.idempotency_key = idempotency_key;
  return c;
}

// Runs SQL on a closed database with the real sqlite3 command-line tool; in the PostgreSQL variant,
// on the database's schema (TamperWithPostgres).
inline void Sqlite3(const std::string& db, const std::string& sql) {
  if (TestingPostgres()) {
    ASSERT_EQ(TamperWithPostgres(db, sql), "") << sql;
    return;
  }
  std::string script = db + ".sql";
  {
    std::ofstream out(script);
    out << ".bail on\n" << sql << "\n";
  }
  std::string command = "sqlite3 '" + db + "' < '" + script + "' 2>&1";
  int rc = std::system(command.c_str());
  ASSERT_EQ(rc, 0) << command << "\n" << sql;
}

class CaseServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("tongban.db");
    Open();
    auto deployed =
        registry_->DeployDirectory(std::string(TONGBAN_SOURCE_DIR) + "/definitions", clock_.Now());
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    ASSERT_FALSE(deployed->deployed.empty());
  }

  void Open() {
    SqliteStoreOptions options;
    options.path = path_;
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_);
  }
  void Close() {
    service_.reset();
    registry_.reset();
    store_.reset();
  }
  void Reopen() {
    Close();
    Open();
  }

  CaseView Create(const std::string& key = "") {
    auto view = service_->Create(ConstructionPermit(key));
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : CaseView{};
  }
  Result<CaseView> Act(const std::string& case_id, const std::string& action, const Actor& actor,
                       json data = json::object(), const std::string& key = "",
                       std::optional<int64_t> expected_version = std::nullopt) {
    clock_.Advance(hours(1));
    ActRequest r;
    r.case_id = case_id;
    r.action = action;
    r.actor = actor;
    r.data = std::move(data);
    r.idempotency_key = key;
    r.expected_version = expected_version;
    return service_->Act(r);
  }
  void MustAct(const std::string& case_id, const std::string& action, const Actor& actor,
               json data = json::object()) {
    auto view = Act(case_id, action, actor, std::move(data));
    ASSERT_TRUE(view.ok()) << action << ": " << view.status().ToString();
  }
  // A case accepted, reviewed, approved (4 events), with a second, untouched case beside it.
  std::string ApprovedCase() {
    std::string id = Create().state.id;
    MustAct(id, "accept", Clerk());
    MustAct(id, "pass", Reviewer());
    MustAct(id, "approve", Approver());
    other_ = Create().state.id;
    MustAct(other_, "accept", Clerk());
    return id;
  }
  int64_t EventCount() { return store_->CountEvents().value(); }

  TempDir dir_;
  std::string path_;
  // Monday 2026-03-02, 09:00 in Beijing.
  SimulatedClock clock_{T("2026-03-02T09:00:00+08:00")};
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
  std::string other_;
};

}  // namespace tongban::case_service_test
