// tongban copy: moves a bureau's database to another store (an SQLite file to PostgreSQL), then
// verifies the copy. tongban migrate: brings a database's schema to this build's version.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace {

constexpr const char* kCopyHelp =
    R"(usage: tongban copy --from FILE|URI --to URI|FILE

Copies every deployed definition, every case (its record, all its events and its documents)
and every register ledger entry of the database --from into the empty database --to (a PostgreSQL
connection URI such as postgresql://USER@HOST/DB, or an SQLite file), then verifies the
copy: every event hash and ledger hash identical to the source's, and the copy passing
'tongban verify' (hash chains intact, snapshots match). The source is opened read-only; the
target's schema is created if missing. A target that already holds cases or ledger entries is
refused.

Exit codes: 0 copied and verified, 1 the copy differs or does not verify, 2 wrong usage,
3 cannot read the source or write the target.
)";

constexpr const char* kMigrateHelp =
    R"(usage: tongban migrate --db FILE|URI

Brings the schema of the database (an SQLite file, or a PostgreSQL connection URI such as
postgresql://USER@HOST/DB) to this tongban's version, keeping its data: each step in one
transaction, once even when several nodes start at the same time. 'tongban serve' does the same
at start; this lets an operator do it first. A database whose schema is newer than this tongban
knows is refused, and nothing is changed. An SQLite file that does not exist is not created.

Exit codes: 0 migrated (or already current), 2 wrong usage, 3 cannot open or migrate.
)";

// Case writes per transaction on the target.
constexpr size_t kCasesPerCommit = 200;
// Ledger entries per transaction on the target.
constexpr size_t kEntriesPerCommit = 1000;

Result<std::unique_ptr<Engine>> OpenStore(const std::string& db, bool read_only) {
  EngineOptions options;
  SelectDatabase(db, read_only, SqliteStoreOptions{}.max_queue, &options);
  return Engine::Open(std::move(options));
}

// Every event of `store` as "case#seq hash", in (case id, seq) order.
Result<std::vector<std::string>> EventHashes(Store& store) {
  std::vector<std::string> out;
  Status scanned = store.ForEachEvent([&](Event& e) {
    out.push_back(e.case_id + "#" + std::to_string(e.seq) + " " + e.hash);
    return true;
  });
  if (!scanned.ok()) return scanned;
  return out;
}

Status CopyCases(Store& from, Store& to, int64_t* cases) {
  StoreWrite batch;
  Status failed = Status::Ok();
  auto flush = [&] {
    if (batch.cases.empty() && batch.documents.empty()) return;
    failed = to.Commit(std::move(batch));
    batch = StoreWrite{};
  };
  Status scanned = from.ForEachCase([&](const CaseRecord& record) {
    auto events = from.GetEvents(record.id, INT64_MAX);
    if (!events.ok()) {
      failed = events.status();
      return false;
    }
    CaseWrite write;
    write.record = record;
    write.expected_version = 0;  // new on the target, with its whole history
    write.events = std::move(events).value();
    batch.cases.push_back(std::move(write));
    // Its documents, bytes and all, in the same transaction as the events that cite them.
    auto documents = from.CaseDocuments(record.id);
    if (!documents.ok()) {
      failed = documents.status();
      return false;
    }
    for (const DocumentRecord& listed : *documents) {
      auto document = from.GetDocument(record.id, listed.hash);
      if (!document.ok() || !*document) {
        failed = document.ok() ? Status::DataLoss("document " + listed.hash + " has no bytes")
                               : document.status();
        return false;
      }
      batch.documents.push_back(std::move(**document));
    }
    ++*cases;
    if (batch.cases.size() >= kCasesPerCommit) flush();
    return failed.ok();
  });
  if (failed.ok()) flush();
  TONGBAN_RETURN_IF_ERROR(scanned);
  return failed;
}

}  // namespace

int CopyCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"from", "to"});
  if (!args.ok()) return UsageError("copy", args.error());
  if (args.Has("help")) {
    std::cout << kCopyHelp;
    return kExitOk;
  }
  if (!args.Get("from") || !args.Get("to"))
    return UsageError("copy", "--from and --to are required");
  const std::string from_db = *args.Get("from");
  const std::string to_db = *args.Get("to");
  if (from_db == to_db) return UsageError("copy", "--from and --to name the same database");
  auto fail = [](const std::string& what, const Status& status) {
    std::cerr << "tongban copy: " << what << ": " << status.message() << "\n";
    return kExitError;
  };
  auto from = OpenStore(from_db, /*read_only=*/true);
  if (!from.ok()) return fail("cannot open the source", from.status());
  Store& source = *(*from)->store();
  std::vector<LedgerEntry> ledger;
  {
    auto to = OpenStore(to_db, /*read_only=*/false);
    if (!to.ok()) return fail("cannot open the target", to.status());
    Store& target = *(*to)->store();
    auto cases_there = target.CountCases();
    auto ledger_there = target.Ledger();
    if (!cases_there.ok()) return fail("cannot read the target", cases_there.status());
    if (!ledger_there.ok()) return fail("cannot read the target", ledger_there.status());
    if (*cases_there > 0 || !ledger_there->empty()) {
      std::cerr << "tongban copy: the target already holds " << *cases_there << " case(s) and "
                << ledger_there->size() << " ledger entries; copy into an empty database\n";
      return kExitError;
    }
    auto definitions = source.Definitions();
    if (!definitions.ok()) return fail("cannot read the source", definitions.status());
    if (Status deployed = target.DeployAll(*definitions); !deployed.ok()) {
      return fail("deploying the definitions", deployed);
    }
    int64_t cases = 0;
    Status copied = CopyCases(source, target, &cases);
    if (!copied.ok()) return fail("copying cases", copied);
    // The target chains the entries itself: from an empty ledger, in the same order and with the
    // same content, it computes the same hashes (compared below).
    auto entries = source.Ledger();
    if (!entries.ok()) return fail("cannot read the source's ledger", entries.status());
    ledger = *entries;
    for (size_t i = 0; i < ledger.size(); i += kEntriesPerCommit) {
      StoreWrite write;
      write.ledger.assign(ledger.begin() + static_cast<std::ptrdiff_t>(i),
                          ledger.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(ledger.size(), i + kEntriesPerCommit)));
      Status appended = target.Commit(std::move(write));
      if (!appended.ok()) return fail("copying the ledger", appended);
    }
    std::cerr << "tongban copy: copied " << definitions->size() << " definition(s), " << cases
              << " case(s), " << ledger.size() << " ledger entries\n";
  }
  // Verified through a fresh, read-only opening of the target: what is on its disk.
  auto copy = OpenStore(to_db, /*read_only=*/true);
  if (!copy.ok()) return fail("cannot open the copy", copy.status());
  Store& target = *(*copy)->store();
  auto source_events = EventHashes(source);
  auto target_events = EventHashes(target);
  if (!source_events.ok()) return fail("cannot read the source", source_events.status());
  if (!target_events.ok()) return fail("cannot read the copy", target_events.status());
  if (*source_events != *target_events) {
    std::cout << "BROKEN: the copy's events differ from the source's\n";
    return kExitFailure;
  }
  auto target_ledger = target.Ledger();
  if (!target_ledger.ok()) return fail("cannot read the copy", target_ledger.status());
  bool same_ledger = target_ledger->size() == ledger.size();
  for (size_t i = 0; same_ledger && i < ledger.size(); ++i)
    same_ledger = (*target_ledger)[i].hash == ledger[i].hash;
  if (!same_ledger) {
    std::cout << "BROKEN: the copy's ledger differs from the source's\n";
    return kExitFailure;
  }
  VerifyReport report = (*copy)->cases()->VerifyAll();
  if (!report.ok) {
    std::cout << VerifyReportLine(report) << "\n";
    return kExitFailure;
  }
  std::cout << "OK: copied and verified " << source_events->size() << " event(s) in "
            << report.cases << " case(s) and " << ledger.size()
            << " ledger entries; every hash identical\n";
  return kExitOk;
}

int MigrateCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"db"});
  if (!args.ok()) return UsageError("migrate", args.error());
  if (args.Has("help")) {
    std::cout << kMigrateHelp;
    return kExitOk;
  }
  if (!args.Get("db")) return UsageError("migrate", "--db is required");
  const std::string db = *args.Get("db");
  const bool postgres = IsPostgresConnectionString(db);
  if (!postgres && !std::filesystem::exists(db)) {
    std::cerr << "tongban migrate: no database file " << db << "\n";
    return kExitError;
  }
  // Opening a store for writing migrates it (SqliteStore::Open, PostgresStore::Open).
  auto opened = OpenStore(db, /*read_only=*/false);
  if (!opened.ok()) {
    std::cerr << "tongban migrate: " << opened.status().message() << "\n";
    return kExitError;
  }
  std::cout << "OK: schema version "
            << (postgres ? PostgresStore::kSchemaVersion : SqliteStore::kSchemaVersion)
            << (postgres ? " (PostgreSQL)" : " (SQLite)") << "\n";
  return kExitOk;
}

}  // namespace tongban::cli
