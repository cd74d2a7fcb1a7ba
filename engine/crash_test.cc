// Crash test: a child process runs many concurrent actions against the store under test
// (test_store.h: SqliteStore with synchronous FULL, or PostgresStore with synchronous_commit=on in
// the PostgreSQL variant) through CaseService and reports every acknowledged action on a pipe; the
// parent kills it with SIGKILL at a random moment, re-opens the database and checks that nothing
// acknowledged was lost, that nothing was half-written, and that the whole database still verifies.
// Every round reuses the same database, so later rounds also run on (and check) the recovery of
// earlier crashes. On PostgreSQL the server lives on: the kill drops the child's connections in the
// middle of whatever they were doing, and the server must roll back what was not committed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "engine/case_service.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRounds = 24;
constexpr int kChildThreads = 4;

Actor Applicant() {
  return {"app-1", "applicant", "", ""};
}
Actor Clerk() {
  return {"clerk-1", "clerk", "dz-approval-bureau", ""};
}
Actor Reviewer() {
  return {"rev-1", "reviewer", "dz-approval-bureau", ""};
}
Actor Approver() {
  return {"appr-1", "approver", "dz-approval-bureau", ""};
}

NewCase ConstructionPermit() {
  NewCase c;
  c.definition_id = "construction-permit";
  c.actor = Applicant();
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
  return c;
}

// An application for the test bundle of engine/testdata/reforms-bundle.json.
NewCase StartupBundle() {
  NewCase c;
  c.definition_id = "test-startup";
  c.actor = Applicant();
  c.applicant_id = "app-1";
  c.applicant_name = "示例建设有限公司";
  c.form = {{"enterprise_name", "示例科技有限公司"}, {"enterprise_type", "有限责任公司"},
            {"residence", "××开发区示范路1号"},      {"legal_representative", "张三"},
            {"business_scope", "软件开发"},          {"requires_pre_approval", false},
            {"credit_code", "91330100MA2TB00014"},   {"engrave_seal", true},
            {"engraver_name", "示例刻章店"}};
  c.materials = {"application_form", "articles", "investor_documents", "officer_documents",
                 "residence_document"};
  return c;
}

// The next action for a case in `status` / `step`, or "" when it is done.
std::string NextAction(const std::string& status, const std::string& step, Actor* actor) {
  if (status == "submitted") {
    *actor = Clerk();
    return "accept";
  }
  if (status == "under_review" && step == "review") {
    *actor = Reviewer();
    return "pass";
  }
  if (status == "under_review" && step == "decide") {
    *actor = Approver();
    return "approve";
  }
  if (status == "approved") {
    *actor = Clerk();
    return "deliver";
  }
  return "";
}

// The child: never returns. Threads create cases and move them (and cases left over by earlier,
// crashed rounds) along; after every acknowledged action one line "case_id seq\n" goes to `ack_fd`
// in a single write(), which a pipe keeps whole (PIPE_BUF).
[[noreturn]] void RunChild(const std::string& path, int ack_fd, unsigned seed) {
  alarm(20);  // never outlive a parent that failed to kill us
  SqliteStoreOptions options;
  options.path = path;
  options.synchronous = "FULL";
  auto store = OpenStoreUnderTest(options);
  if (!store.ok()) _exit(2);
  DefinitionRegistry registry(store->get());
  if (!registry.LoadFromStore().ok()) _exit(3);
  SystemClock clock;
  CaseService service(store->get(), &registry, &clock);

  std::mutex mutex;
  std::vector<std::string> open_cases;
  for (const char* status : {"submitted", "under_review", "approved"}) {
    CaseFilter filter;
    filter.status = status;
    filter.definition_id = "construction-permit";  // bundles and their parts are created only
    filter.limit = 100000;
    auto cases = (*store)->ListCases(filter);
    if (!cases.ok()) _exit(4);
    for (const CaseRecord& r : *cases)
      open_cases.push_back(r.id);
  }
  auto ack = [&](const CaseView& view) {
    std::string line = view.state.id + " " + std::to_string(view.state.version) + "\n";
    if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed + t);
      while (true) {
        std::string id;
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (!open_cases.empty() && rng() % 3 != 0) id = open_cases[rng() % open_cases.size()];
        }
        const unsigned dice = rng() % 8;
        if (id.empty() && dice == 0) {
          // A bundle case and its first part, created in one transaction.
          auto bundle = service.CreateBundle(StartupBundle());
          if (!bundle.ok()) _exit(9);
          std::string line = bundle->state.id + " " + std::to_string(bundle->state.version) + "\n";
          for (const BundlePartView& part : bundle->parts) {
            if (!part.state.case_id.empty()) line += part.state.case_id + " 1\n";
          }
          if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            _exit(5);
          continue;
        }
        if (id.empty() && dice == 1) {
          // A ledger entry on its own.
          Mandate m;
          m.id =
              "m-" + std::to_string(seed) + "-" + std::to_string(t) + "-" + std::to_string(rng());
          m.applicant_id = "app-1";
          m.agent_id = "agent-1";
          if (!service.registers()->GrantMandate(m, Applicant(), clock.Now()).ok()) _exit(10);
          std::string line = "mandate:" + m.id + " 0\n";
          if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            _exit(5);
          continue;
        }
        if (id.empty()) {
          auto created = service.Create(ConstructionPermit());
          if (!created.ok()) _exit(6);
          ack(*created);
          std::lock_guard<std::mutex> lock(mutex);
          open_cases.push_back(created->state.id);
          continue;
        }
        auto record = (*store)->GetCase(id);
        if (!record.ok() || !record->has_value()) _exit(7);
        Actor actor;
        std::string action = NextAction((*record)->status, (*record)->step, &actor);
        if (action.empty()) {
          std::lock_guard<std::mutex> lock(mutex);
          open_cases.erase(std::remove(open_cases.begin(), open_cases.end(), id), open_cases.end());
          continue;
        }
        ActRequest request;
        request.case_id = id;
        request.action = action;
        request.actor = actor;
        auto acted = service.Act(request);
        if (acted.ok()) {
          ack(*acted);
        } else if (acted.status().code() != StatusCode::kFailedPrecondition &&
                   acted.status().code() != StatusCode::kAborted) {
          _exit(8);  // another thread got there first is fine; anything else is not
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  _exit(0);
}

// Reads whatever is in the pipe now (non-blocking) or until EOF (blocking).
void Drain(int fd, std::string* out, bool until_eof) {
  char buffer[4096];
  while (true) {
    if (!until_eof) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || (p.revents & (POLLIN | POLLHUP)) == 0) return;
    }
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    out->append(buffer, static_cast<size_t>(n));
  }
}

TEST(CrashTest, AcknowledgedActionsSurviveSigkill) {
  std::string pattern = (fs::temp_directory_path() / "tongban-crash-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  const std::string path = (dir / "crash.db").string();
  {
    SqliteStoreOptions options;
    options.path = path;
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    DefinitionRegistry registry(store->get());
    ASSERT_TRUE(registry.LoadFromStore().ok());
    auto deployed = registry.DeployDirectory(std::string(TONGBAN_SOURCE_DIR) + "/definitions",
                                             SystemClock().Now());
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    std::ifstream in(std::string(TONGBAN_SOURCE_DIR) + "/engine/testdata/reforms-bundle.json");
    std::stringstream bundle;
    bundle << in.rdbuf();
    auto bundle_deployed =
        registry.Deploy({{"reforms-bundle.json", bundle.str()}}, SystemClock().Now());
    ASSERT_TRUE(bundle_deployed.ok()) << bundle_deployed.status().ToString();
  }  // closed: the parent holds no connection and no thread while it forks

  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::map<std::string, int64_t> acknowledged;  // case id -> highest acknowledged seq
  std::set<std::string> acknowledged_mandates;  // ledger entries
  int64_t bundles_seen = 0;
  int64_t total_acks = 0;
  int rounds_with_acks = 0;
  const auto started = std::chrono::steady_clock::now();

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(path, fds[1], seed + 1000 * (round + 1));
    }
    close(fds[1]);
    // One round in four is killed at a random moment after the start, which may fall while the
    // store is still being opened; the others at a random moment after the child's first
    // acknowledged action, so that how long start-up takes (a sanitizer build, a busy machine)
    // does not decide whether the rounds test anything.
    const bool from_start = rng() % 4 == 0;
    const auto delay = std::chrono::milliseconds(from_start ? 50 + rng() % 351 : rng() % 301);
    auto deadline = std::chrono::steady_clock::now() + delay;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::string acks;
    bool waiting_for_first_ack = !from_start;
    while (std::chrono::steady_clock::now() < deadline || waiting_for_first_ack) {
      Drain(fds[0], &acks, false);
      if (waiting_for_first_ack && (!acks.empty() || std::chrono::steady_clock::now() > give_up)) {
        waiting_for_first_ack = false;
        deadline = std::chrono::steady_clock::now() + delay;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    // Killed by us, not dead of its own accord (an _exit code would name what went wrong).
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with code " << WEXITSTATUS(wstatus);
    EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
    Drain(fds[0], &acks, true);  // what the child wrote before it died is still in the pipe
    close(fds[0]);

    std::istringstream lines(acks);
    std::string id;
    int64_t seq = 0;
    int round_acks = 0;
    while (lines >> id >> seq) {
      ++round_acks;
      if (id.rfind("mandate:", 0) == 0) {
        acknowledged_mandates.insert(id.substr(8));
        continue;
      }
      --round_acks;
      int64_t& highest = acknowledged[id];
      highest = std::max(highest, seq);
      ++round_acks;
    }
    total_acks += round_acks;
    if (round_acks > 0) ++rounds_with_acks;

    // Re-open after the crash and check.
    SqliteStoreOptions options;
    options.path = path;
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    DefinitionRegistry registry(store->get());
    ASSERT_TRUE(registry.LoadFromStore().ok());
    SystemClock clock;
    CaseService service(store->get(), &registry, &clock);

    // Every acknowledged action's event is there (acknowledged in this round or any before).
    for (const auto& [case_id, highest] : acknowledged) {
      auto events = (*store)->GetEvents(case_id, INT64_MAX);
      ASSERT_TRUE(events.ok());
      ASSERT_GE(static_cast<int64_t>(events->size()), highest)
          << "case " << case_id << ": acknowledged seq " << highest << " but only "
          << events->size() << " events survived";
      EXPECT_EQ((*events)[highest - 1].seq, highest);
    }
    // Nothing half-written: every case record is at the seq of its last event.
    int64_t cases = 0;
    std::vector<CaseRecord> records;
    ASSERT_TRUE((*store)
                    ->ForEachCase([&](const CaseRecord& r) {
                      records.push_back(r);
                      return true;
                    })
                    .ok());
    for (const CaseRecord& r : records) {
      auto events = (*store)->GetEvents(r.id, INT64_MAX);
      ASSERT_TRUE(events.ok());
      ASSERT_FALSE(events->empty()) << r.id;
      EXPECT_EQ(r.version, events->back().seq) << r.id;
      EXPECT_EQ(static_cast<int64_t>(events->size()), events->back().seq) << r.id;
      ++cases;
    }
    EXPECT_EQ((*store)->CountCases().value(), cases);
    // A bundle case and the parts it started were written together or not at all.
    bundles_seen = 0;
    for (const CaseRecord& r : records) {
      if (r.definition_id != "test-startup") continue;
      ++bundles_seen;
      auto bundle = service.GetBundle(r.id);
      ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
      for (const BundlePartView& part : bundle->parts) {
        if (part.state.case_id.empty()) continue;
        ASSERT_TRUE(part.child.has_value())
            << "bundle " << r.id << " lost part " << part.state.part;
        EXPECT_EQ(part.child->state.bundle_case_id, r.id);
      }
    }
    // Every acknowledged ledger entry survived.
    std::set<std::string> mandates;
    auto stored_mandates = service.registers()->Mandates();
    ASSERT_TRUE(stored_mandates.ok()) << stored_mandates.status().ToString();
    for (const Mandate& m : *stored_mandates)
      mandates.insert(m.id);
    for (const std::string& m : acknowledged_mandates)
      EXPECT_EQ(mandates.count(m), 1u) << "acknowledged mandate " << m << " was lost";
    // And the whole database verifies: chains, replays, snapshots.
    VerifyReport report = service.VerifyAll();
    ASSERT_TRUE(report.ok) << report.case_id << " seq "
                           << (report.first_bad_seq ? *report.first_bad_seq : -1) << ": "
                           << report.reason;
    EXPECT_EQ(report.cases, cases);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ crash    ] " << kRounds << " rounds, " << total_acks
            << " acknowledged actions on " << acknowledged.size() << " cases (" << bundles_seen
            << " bundles), " << acknowledged_mandates.size() << " ledger entries, " << seconds
            << " s\n";
  // The test is only worth something if the children got work done before they were killed.
  EXPECT_GE(rounds_with_acks, kRounds / 2);
  EXPECT_GT(total_acks, kRounds);
  EXPECT_GT(bundles_seen, 0);
  EXPECT_FALSE(acknowledged_mandates.empty());
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace tongban
