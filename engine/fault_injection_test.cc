// Storage fault injection: a transition, a bundle creation (two child cases at once) and a ledger
// append, each run on a real SQLite file through FaultVfs (fault_vfs.h). A fault-free run counts
// the reads, writes and syncs the operation makes; then every one of them in turn fails (a write
// with an I/O error and with a full disk that stays full, a sync, a read), each on a fresh copy of
// the same database. Each must end with the operation refused as kUnavailable (the API's 503),
// nothing of it stored, the same operation succeeding once the fault clears, and verification
// (what `tongban verify` runs, and the ledger's chain) passing — also after re-opening the file.
// A fault SQLite absorbs (the operation then succeeds) must leave the same, sound result.
//
// Also: group commit does not fail other writers' requests for one transaction's fault.
#include "engine/fault_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "engine/case_service.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

const Instant kStart = *ParseTimestamp("2026-03-02T09:00:00+08:00");

Actor Applicant() {
  return {"app-1", "applicant", "", ""};
}
Actor Clerk() {
  return {"clerk-1", "clerk", "dz-approval-bureau", ""};
}

// The shipped example application (docs/examples), by the applicant.
NewCase ConstructionPermit() {
  std::ifstream in(std::string(TONGBAN_SOURCE_DIR) +
                   "/docs/examples/construction-permit-application.json");
  const nlohmann::json example = nlohmann::json::parse(in);
  NewCase c;
  c.definition_id = example.at("definition").get<std::string>();
  c.actor = Applicant();
  c.applicant_id = "app-1";
  c.applicant_name = "示例科技有限公司";
  c.form = example.at("form");
  c.materials = example.at("materials");
  return c;
}

// 企业注销一件事: tax clearance and social insurance start at once, deregistration waits.
NewCase Deregistration() {
  NewCase c;
  c.definition_id = "enterprise-deregistration";
  c.actor = Applicant();
  c.applicant_id = "app-1";
  c.applicant_name = "示例建材销售有限公司";
  c.form = {{"credit_code", "91330100MA2CLOSE3X"},
            {"enterprise_name", "示例建材销售有限公司"},
            {"enterprise_type", "有限责任公司"},
            {"deregistration_reason", "股东会（股东、投资人）决议解散"},
            {"procedure", "普通注销"},
            {"liquidation_leader", "周九"},
            {"liquidation_end_date", "2026-02-25"},
            {"taxes_settled", true},
            {"invoices_cancelled", true},
            {"contributions_settled", true},
            {"staff_transferred", true},
            {"has_housing_fund_account", true},
            {"housing_fund_settled", true},
            {"housing_fund_accounts_arranged", true}};
  c.materials = {"application_form", "dissolution_resolution", "liquidation_report"};
  return c;
}

// One engine on one file: the store (through `vfs`), the definitions deployed in it, the service.
struct Opened {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<DefinitionRegistry> registry;
  std::unique_ptr<SimulatedClock> clock;
  std::unique_ptr<CaseService> service;
};

std::unique_ptr<Opened> Open(const std::string& path, const std::string& vfs) {
  auto o = std::make_unique<Opened>();
  SqliteStoreOptions options;
  options.path = path;
  options.vfs = vfs;
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  o->store = std::move(store).value();
  o->registry = std::make_unique<DefinitionRegistry>(o->store.get());
  Status loaded = o->registry->LoadFromStore();
  EXPECT_TRUE(loaded.ok()) << loaded.ToString();
  o->clock = std::make_unique<SimulatedClock>(kStart);
  o->service = std::make_unique<CaseService>(o->store.get(), o->registry.get(), o->clock.get());
  return o;
}

// Everything an operation may change, as text: every case record, every event's hash, the ledger.
std::string Fingerprint(Store& store) {
  std::ostringstream out;
  Status events = store.ForEachEvent([&](const Event& e) {
    out << "event " << e.case_id << " " << e.seq << " " << e.hash << "\n";
    return true;
  });
  Status cases = store.ForEachCase([&](const CaseRecord& r) {
    out << "case " << r.id << " v" << r.version << " " << r.status << " " << r.step << " "
        << r.snapshot << "\n";
    return true;
  });
  auto ledger = store.Ledger(0);
  if (!events.ok() || !cases.ok() || !ledger.ok()) return "unreadable";
  for (const LedgerEntry& e : *ledger)
    out << "ledger " << e.seq << " " << e.hash << "\n";
  auto counts = store.CountByStatus();
  if (!counts.ok()) return "unreadable";
  for (const auto& [status, n] : *counts)
    out << "count " << status << " " << n << "\n";
  return out.str();
}

// What a successful operation leaves, without the random ids and numbers a creation draws: each
// case's definition, status and version and its events, sorted; the ledger's kinds and subjects.
std::string Shape(Store& store) {
  std::vector<std::string> lines;
  std::map<std::string, int64_t> events;
  Status scanned = store.ForEachEvent([&](const Event& e) {
    ++events[e.case_id];
    return true;
  });
  Status cases = store.ForEachCase([&](const CaseRecord& r) {
    lines.push_back("case " + r.definition_id + " v" + std::to_string(r.version) + " " + r.status +
                    " " + r.step + ", " + std::to_string(events[r.id]) + " event(s)");
    return true;
  });
  auto ledger = store.Ledger(0);
  if (!scanned.ok() || !cases.ok() || !ledger.ok()) return "unreadable";
  for (const LedgerEntry& e : *ledger)
    lines.push_back("ledger " + std::to_string(e.seq) + " " + e.kind + " " + e.subject);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines)
    out += line + "\n";
  return out;
}

// Verification as `tongban verify` runs it, and the ledger's chain.
void ExpectSound(Opened& o, const std::string& where) {
  VerifyReport report = o.service->VerifyAll();
  EXPECT_TRUE(report.ok) << where << ": case " << report.case_id << ": " << report.reason;
  auto ledger = o.store->Ledger(0);
  ASSERT_TRUE(ledger.ok()) << where;
  auto fault = CheckLedgerChain(*ledger);
  EXPECT_FALSE(fault.has_value()) << where << ": ledger breaks at " << fault->seq;
}

// A new case of one event, written straight to the store.
CaseWrite NewCaseWrite(const std::string& id) {
  CaseWrite w;
  Event e;
  e.case_id = id;
  e.seq = 1;
  e.time = kStart;
  e.actor = Applicant();
  e.action = "submit";
  e.status = "submitted";
  e.definition_id = "item-a";
  e.definition_version = 1;
  e.prev_hash = std::string(64, '0');
  e.hash = ComputeEventHash(e);
  w.events.push_back(e);
  w.record.id = id;
  w.record.number = "N-" + id;
  w.record.query_code = "Q" + id;
  w.record.definition_id = "item-a";
  w.record.definition_version = 1;
  w.record.status = "submitted";
  w.record.version = 1;
  w.record.created_at = w.record.updated_at = kStart;
  w.record.snapshot = "{}";
  return w;
}

struct Operation {
  std::string name;
  // Run once, fault-free, on the template database; returns what `act` needs (a case id).
  std::function<std::string(Opened&)> prepare;
  // The operation under test.
  std::function<Status(Opened&, const std::string&)> act;
};

class FaultInjectionTest : public testing::Test {
 protected:
  void SetUp() override {
    faults_ = &FaultVfs::Install();
    faults_->Disarm();
    std::string pattern = (fs::temp_directory_path() / "tongban-fault-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    faults_->Disarm();
    faults_->ReleaseSyncs();
    faults_->SetSyncDelay(0);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // The template: definitions deployed and `prepare` run, closed (so the WAL is checkpointed
  // into the file and removed); returns prepare's result.
  std::string MakeTemplate(const Operation& op) {
    std::string context;
    auto o = Open(Template(), "");
    if (!o) return "";
    auto deployed =
        o->registry->DeployDirectory(std::string(TONGBAN_SOURCE_DIR) + "/definitions", kStart);
    EXPECT_TRUE(deployed.ok()) << deployed.status().ToString();
    context = op.prepare(*o);
    return context;
  }
  std::string Template() const { return (dir_ / "template.db").string(); }
  // A fresh copy of the template.
  std::string Copy(int n) {
    std::string path = (dir_ / ("run-" + std::to_string(n) + ".db")).string();
    fs::copy_file(Template(), path, fs::copy_options::overwrite_existing);
    return path;
  }
  static void Remove(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      fs::remove(path + suffix);
  }

  // Fails every point of every kind of `op` in turn; returns the points counted.
  void FailEveryPoint(const Operation& op) {
    const std::string context = MakeTemplate(op);
    ASSERT_FALSE(context.empty());
    ASSERT_FALSE(fs::exists(Template() + "-wal")) << "the template was not checkpointed";

    // The counting run, fault-free.
    int64_t points[3] = {};
    int64_t by_kind[3][4] = {};
    std::string after_success;
    {
      std::string path = Copy(0);
      auto o = Open(path, FaultVfs::kName);
      ASSERT_TRUE(o);
      (void)Fingerprint(*o->store);
      faults_->ResetCounts();
      Status s = op.act(*o, context);
      ASSERT_TRUE(s.ok()) << op.name << " fault-free: " << s.ToString();
      for (FaultOp f : {FaultOp::kRead, FaultOp::kWrite, FaultOp::kSync}) {
        points[static_cast<int>(f)] = faults_->Count(f);
        int k = 0;
        for (unsigned kind : {kFaultMainDb, kFaultWal, kFaultJournal, kFaultOther})
          by_kind[static_cast<int>(f)][k++] = faults_->Count(f, kind);
      }
      after_success = Shape(*o->store);
      o.reset();
      Remove(path);
    }
    std::cout << "[ points   ] " << op.name << ":";
    for (FaultOp f : {FaultOp::kRead, FaultOp::kWrite, FaultOp::kSync}) {
      const int64_t* k = by_kind[static_cast<int>(f)];
      std::cout << " " << FaultOpName(f) << "s " << points[static_cast<int>(f)] << " (main " << k[0]
                << ", wal " << k[1] << ", journal " << k[2] << ", other " << k[3] << ")";
    }
    std::cout << "\n";
    EXPECT_GT(points[static_cast<int>(FaultOp::kWrite)], 0);
    EXPECT_GT(points[static_cast<int>(FaultOp::kSync)], 0);
    EXPECT_GT(points[static_cast<int>(FaultOp::kRead)], 0);

    struct Plan {
      FaultOp op;
      int error;
      bool sticky;
      const char* name;
    };
    const Plan plans[] = {
        {FaultOp::kWrite, SQLITE_IOERR_WRITE, false, "write I/O error"},
        {FaultOp::kWrite, SQLITE_FULL, true, "disk full (until cleared)"},
        {FaultOp::kSync, SQLITE_IOERR_FSYNC, false, "fsync error"},
        {FaultOp::kRead, SQLITE_IOERR_READ, false, "read I/O error"},
    };
    int run = 1;
    for (const Plan& plan : plans) {
      int refused = 0, absorbed = 0;
      for (int64_t nth = 1; nth <= points[static_cast<int>(plan.op)]; ++nth, ++run) {
        const std::string where =
            op.name + ", " + plan.name + " at " + FaultOpName(plan.op) + " " + std::to_string(nth);
        SCOPED_TRACE(where);
        std::string path = Copy(run);
        auto o = Open(path, FaultVfs::kName);
        ASSERT_TRUE(o);
        const std::string before = Fingerprint(*o->store);
        faults_->ResetCounts();
        faults_->Arm(plan.op, nth, plan.error, kFaultAnyFile, plan.sticky);
        Status s = op.act(*o, context);
        const int64_t injected = faults_->injected();
        faults_->Disarm();
        // Writes and syncs are the same in every run. The reads after a bundle's commit (its
        // parts' views) vary by one or two with the random ids' page layout: the last read point
        // may not be reached, and then the operation ran fault-free.
        if (plan.op != FaultOp::kRead || nth < points[static_cast<int>(plan.op)] - 1) {
          EXPECT_GT(injected, 0) << "the point was not reached";
        }
        if (s.ok()) {
          // The fault hit a read after the commit, or one SQLite retried: the operation must
          // then have the fault-free result.
          ++absorbed;
          EXPECT_EQ(Shape(*o->store), after_success);
        } else {
          ++refused;
          EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
          EXPECT_EQ(Fingerprint(*o->store), before) << "half-written after " << s.ToString();
          // The fault cleared: the same operation succeeds, with the fault-free result.
          Status again = op.act(*o, context);
          EXPECT_TRUE(again.ok()) << again.ToString();
          EXPECT_EQ(Shape(*o->store), after_success);
        }
        ExpectSound(*o, where);
        o.reset();
        // What was acknowledged is what the file holds, opened afresh.
        auto reopened = Open(path, "");
        ASSERT_TRUE(reopened);
        EXPECT_EQ(Shape(*reopened->store), after_success) << "after re-opening";
        ExpectSound(*reopened, where + ", re-opened");
        reopened.reset();
        Remove(path);
      }
      std::cout << "[ faults   ] " << op.name << ", " << plan.name << ": "
                << points[static_cast<int>(plan.op)] << " point(s), " << refused << " refused, "
                << absorbed << " succeeded (a read after the commit)\n";
    }
  }

  FaultVfs* faults_ = nullptr;
  fs::path dir_;
};

TEST_F(FaultInjectionTest, Transition) {
  Operation op;
  op.name = "transition (accept)";
  op.prepare = [](Opened& o) {
    auto created = o.service->Create(ConstructionPermit());
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->state.id : "";
  };
  op.act = [](Opened& o, const std::string& id) {
    ActRequest request;
    request.case_id = id;
    request.action = "accept";
    request.actor = Clerk();
    return o.service->Act(request).status();
  };
  FailEveryPoint(op);
}

TEST_F(FaultInjectionTest, BundleCreation) {
  Operation op;
  op.name = "bundle creation";
  op.prepare = [](Opened&) { return std::string("none"); };
  op.act = [](Opened& o, const std::string&) {
    auto bundle = o.service->CreateBundle(Deregistration());
    if (!bundle.ok()) return bundle.status();
    int children = 0;
    for (const BundlePartView& part : bundle->parts)
      children += part.state.case_id.empty() ? 0 : 1;
    EXPECT_EQ(children, 2) << "tax clearance and housing-fund deregistration start together";
    return Status::Ok();
  };
  FailEveryPoint(op);
}

TEST_F(FaultInjectionTest, LedgerAppend) {
  Operation op;
  op.name = "ledger append (mandate)";
  op.prepare = [](Opened& o) {
    Mandate first;
    first.id = "m-first";
    first.applicant_id = "app-1";
    first.agent_id = "agent-1";
    Status s = o.service->registers()->GrantMandate(first, Applicant(), kStart).status();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::string("m-second");
  };
  op.act = [](Opened& o, const std::string& id) {
    Mandate m;
    m.id = id;
    m.applicant_id = "app-1";
    m.agent_id = "agent-1";
    return o.service->registers()->GrantMandate(m, Applicant(), kStart).status();
  };
  FailEveryPoint(op);
}

// Group commit: two writers' StoreWrites wait in one batch; the transaction holding them fails
// on a write. Each writer must get its own outcome (here: both stored, each run again alone),
// not an error for a fault that was not theirs.
TEST_F(FaultInjectionTest, OneTransactionsFaultDoesNotFailTheOthersWriters) {
  const std::string path = (dir_ / "batch.db").string();
  auto o = Open(path, FaultVfs::kName);
  ASSERT_TRUE(o);
  // The first write holds the writer in its fsync while the other two queue up behind it.
  faults_->HoldSyncs();
  Status first = Status::Internal("not run");
  std::thread holder([&] { first = o->store->Commit(NewCaseWrite("c-0")); });
  while (faults_->syncs_held() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Status results[2] = {Status::Internal("not run"), Status::Internal("not run")};
  std::thread a([&] { results[0] = o->store->Commit(NewCaseWrite("c-1")); });
  std::thread b([&] { results[1] = o->store->Commit(NewCaseWrite("c-2")); });
  while (o->store->Stats().queued < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The next write is the batched transaction's first page in the WAL.
  faults_->Arm(FaultOp::kWrite, 1, SQLITE_IOERR_WRITE);
  faults_->ReleaseSyncs();
  holder.join();
  a.join();
  b.join();
  EXPECT_EQ(faults_->injected(), 1);
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  for (const char* id : {"c-0", "c-1", "c-2"}) {
    auto record = o->store->GetCase(id);
    ASSERT_TRUE(record.ok());
    EXPECT_TRUE(record->has_value()) << id;
  }
}

// A read that fails is kUnavailable, not "no such case".
TEST_F(FaultInjectionTest, AFailedReadIsUnavailableNotNotFound) {
  const std::string path = (dir_ / "read.db").string();
  auto o = Open(path, FaultVfs::kName);
  ASSERT_TRUE(o);
  ASSERT_TRUE(o->store->Commit(NewCaseWrite("c-1")).ok());
  ASSERT_TRUE(o->store->GetCase("c-1").ok());  // a reader connection, opened and used
  // Another write, so that the reader must read pages again (from the WAL).
  ASSERT_TRUE(o->store->Commit(NewCaseWrite("c-2")).ok());
  faults_->Arm(FaultOp::kRead, 1, SQLITE_IOERR_READ, kFaultAnyFile, /*sticky=*/true);
  auto record = o->store->GetCase("c-1");
  auto events = o->store->GetEvents("c-1", INT64_MAX);
  faults_->Disarm();
  EXPECT_GT(faults_->injected(), 0);
  ASSERT_FALSE(record.ok()) << "read as " << (record->has_value() ? "found" : "not found");
  EXPECT_EQ(record.status().code(), StatusCode::kUnavailable) << record.status().ToString();
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), StatusCode::kUnavailable) << events.status().ToString();
  auto again = o->store->GetCase("c-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->has_value());
}

// Past max_queue waiting writes, Commit() answers kUnavailable at once.
TEST_F(FaultInjectionTest, AFullWriteQueueRefusesAtOnce) {
  SqliteStoreOptions options;
  options.path = (dir_ / "queue.db").string();
  options.vfs = FaultVfs::kName;
  options.max_queue = 1;
  options.group_commit = false;
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok());
  auto write_of = [](const std::string& id) {
    StoreWrite w;
    LedgerEntry e;
    e.time = kStart;
    e.actor = Applicant();
    e.kind = kLedgerMandateGranted;
    e.subject = id;
    w.ledger.push_back(e);
    return w;
  };
  faults_->HoldSyncs();
  Status first = Status::Internal("not run"), second = Status::Internal("not run");
  std::thread holder([&] { first = (*store)->Commit(write_of("m-0")); });
  while (faults_->syncs_held() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread waiting([&] { second = (*store)->Commit(write_of("m-1")); });
  while ((*store)->Stats().queued < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Status refused = (*store)->Commit(write_of("m-2"));
  faults_->ReleaseSyncs();
  holder.join();
  waiting.join();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_EQ((*store)->Stats().overloaded, 1);
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_TRUE(second.ok()) << second.ToString();
  auto ledger = (*store)->Ledger(0);
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->size(), 2u);
}

}  // namespace
}  // namespace tongban
