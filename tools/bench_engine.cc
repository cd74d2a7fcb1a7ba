// Engine benchmarks: durable transitions, replay and verification, snapshot reads.
//
// Every figure is printed beside a baseline measured in the same run (the machine these run on is
// shared and noisy, so only same-run ratios compare across runs). Databases go to a fresh temporary
// directory that is removed afterwards, except a --db file given to `bench read`.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <latch>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/case_clock.h"
#include "engine/case_ids.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "engine/sqlite_store.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/synthetic.h"

namespace tongban::cli {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

extern const char* const kBenchTransitionsHelp;
extern const char* const kBenchReplayHelp;
extern const char* const kBenchReadHelp;

const char* const kBenchTransitionsHelp = R"(usage: tongban bench transitions [OPTIONS]

Measures durable transitions per second: --callers threads drive --cases cases through their
whole life cycle (create, accept, one "pass" per review step but the last, approve, deliver)
with CaseService on a real SQLite file, synchronous=FULL and group commit on. A transition is
one Create or Act call; it returns once its transaction is durable.

Measured in the same run, on the same work:
  baseline   the same callers and cases with group commit off (one transaction per write)
  ceiling    plain SQLite: one thread inserting rows of the observed mean size (one event
             row and one case row per write) in transactions of the observed mean batch size
Printed: transitions/s of each, the ratio group / baseline (goal: at least 5x), commit batch
sizes (mean and max, from Store::Stats) and the p50/p99 latency of one transition.

The item is built in code (synthetic calendar covering 2025-2026, review steps of 2 working
days, statutory limit 20 days) and the simulated clock stands at 2026-03-02T09:00+08:00.

Options:
  --callers N        concurrent caller threads (default 64)
  --cases N          cases in each run (default 384)
  --steps N          review steps of the item, the last one decides (default 3: 6
                     transitions per case)
  --synchronous S    FULL (default), NORMAL or OFF, for all three runs
  --rounds N         rounds of the three runs, alternated (default 3); the round with the
                     median ratio is printed, with every round's ratio
  --dir DIR          where the temporary databases go (default: the system temp dir; the
                     disk under it decides what an fsync costs)
  --check            exit 1 when the goal is not met
  --format FORMAT    text (default) or json
  --help             show this help
)";

const char* const kBenchReplayHelp = R"(usage: tongban bench replay [OPTIONS]

Measures how fast a whole database is checked. A database of --cases closed cases (6 events
each by default) is built first (the cases run through the life-cycle machine in memory and are
committed with group commit and synchronous=OFF), then:
  (a) hash chain   one thread: ForEachEvent streaming every event, each hash and prev_hash checked
  (b) replay       one thread: ReplayEvents per case, the events already in memory
  (c) VerifyAll    chain + replay + snapshot comparison, as `tongban verify` runs it: the cases
                   split by id range over --threads threads
Baseline in the same run: the raw scan on one thread, ForEachEvent with an empty callback.
Goal: VerifyAll (replay plus verification) at 1,000,000 events/s or more.

Options:
  --cases N          cases in the database (default 20000)
  --steps N          review steps of the item (default 3: 6 events per case)
  --threads N        VerifyAll's threads (default 0: one per hardware thread, as `tongban verify`)
  --dir DIR          where the temporary database goes (default: the system temp dir)
  --check            exit 1 when the goal is not met
  --format FORMAT    text (default) or json
  --help             show this help
)";

const char* const kBenchReadHelp = R"(usage: tongban bench read [OPTIONS]

Measures reading one case's snapshot (Store::GetCase by id) from a database of --cases cases:
--reads random GetCase calls from one thread, after a warm-up of --reads/10 calls, with
p50/p99/p999 latency in microseconds (wall clock, and the thread's own CPU time, which leaves
out the waits of a busy machine). Baseline in the same run, interleaved with the reads:
GetCase of an id that does not exist but sorts among the stored ones (the same index probe,
no row to read). Goal: p99 below 1 ms.

The database is filled with minimal cases (one "submit" event of a real submitted case and
a snapshot of --snapshot-bytes each), written as direct CaseWrite commits by many threads
through group commit with synchronous=OFF. Case ids are "c" and 20 hex digits, as the
engine makes them, but counted up rather than random so that the fill appends.

Options:
  --cases N          cases in the database (default 1000000)
  --reads N          timed reads of each kind (default 100000)
  --snapshot-bytes N size of each case's snapshot (default 256; 0: that of a real
                     submitted case of the benchmark item, about 1.2 KB)
  --db FILE          keep the database in FILE and reuse it on the next run (filled up to
                     --cases when it holds fewer; rows already there keep their size);
                     default: a temporary file, removed
  --dir DIR          where the temporary database goes (default: the system temp dir)
  --check            exit 1 when the goal is not met
  --format FORMAT    text (default) or json
  --help             show this help
)";

namespace {

// ---- Shared helpers -----------------------------------------------------------------------------

double Seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}
double Micros(SteadyClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// The value at quantile q of sorted samples (nearest rank).
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// A positive integer option; false (and a usage message) when malformed.
bool IntOption(const Args& args, const std::string& name, long fallback, long min, long* out) {
  auto text = args.Get(name);
  if (!text) {
    *out = fallback;
    return true;
  }
  char* end = nullptr;
  long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || value < min) {
    UsageError("bench", "--" + name + " must be a whole number of at least " + std::to_string(min));
    return false;
  }
  *out = value;
  return true;
}

bool JsonFormat(const Args& args) {
  return args.Get("format").value_or("text") == "json";
}

// A fresh directory under --dir or the system temp dir, removed with everything in it.
class TempDir {
 public:
  static Result<TempDir> Make(const Args& args) {
    std::error_code error;
    fs::path base = args.Get("dir") ? fs::path(*args.Get("dir")) : fs::temp_directory_path(error);
    if (error) return Status::Unavailable("no temp dir: " + error.message());
    std::string pattern = (base / "tongban-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::Unavailable("cannot make a directory under " + base.string());
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir() {
    std::error_code error;
    if (!path_.empty()) fs::remove_all(path_, error);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

int Fail(const std::string& what, const Status& status) {
  std::cerr << "tongban bench: " << what << ": " << status.ToString() << "\n";
  return kExitError;
}

// ---- The benchmark item -------------------------------------------------------------------------

const char* const kStart = "2026-03-02T09:00:00+08:00";  // a Monday, a working day

// A licensing item with realistic limits and `steps` review steps in a chain: each passes to the
// next (guarded on the form, requiring a material), the last one decides; consecutive steps are
// four-eyes. Its calendar is the synthetic one (weekends and New Year off, 2025-2026).
std::vector<std::pair<std::string, std::string>> BenchDefinitions(int steps) {
  nlohmann::json item = {
      {"kind", "item"},
      {"id", "bench-permit"},
      {"version", 1},
      {"title", "benchmark permit"},
      {"category", "licensing"},
      {"case_type", "promised"},
      {"organ", {{"id", "bench-bureau"}, {"name", "benchmark bureau"}}},
      {"legal_basis", {{{"citation", "benchmark"}}}},
      {"time_limits",
       {{"calendar", "synthetic-calendar"},
        {"statutory_days", 20},
        {"promised_days", 10},
        {"extension_days", 10}}},
      {"form",
       {{"fields",
         {{{"id", "project_name"}, {"label", "project"}, {"type", "string"}, {"required", true}},
          {{"id", "amount"}, {"label", "amount"}, {"type", "number"}, {"required", true}},
          {{"id", "kind"}, {"label", "kind"}, {"type", "enum"}, {"values", {"a", "b", "c"}}},
          {{"id", "start"}, {"label", "start"}, {"type", "date"}}}}}},
      {"materials",
       {{{"id", "application_form"}, {"name", "application form"}, {"necessity", "required"}},
        {{"id", "licence"}, {"name", "licence"}, {"necessity", "required"}},
        {{"id", "site_plan"}, {"name", "site plan"}, {"necessity", "optional"}}}},
      {"steps", nlohmann::json::array()},
      {"four_eyes", nlohmann::json::array()}};
  for (int i = 0; i < steps; ++i) {
    std::string id = "step-" + std::to_string(i);
    nlohmann::json actions = nlohmann::json::object();
    if (i + 1 < steps) {
      actions["pass"] = {
          {"to", "step-" + std::to_string(i + 1)},
          {"guard",
           {{"and",
             {{{">=", {{{"var", "amount"}}, 0}}}, {{"in", {{{"var", "kind"}}, {"a", "b"}}}}}}}},
          {"requires_materials", {"licence"}}};
    } else {
      actions["approve"] = {{"decision", "approve"}};
    }
    actions["deny"] = {{"decision", "deny"}, {"requires_reason", true}};
    item["steps"].push_back({{"id", id},
                             {"title", "step " + std::to_string(i)},
                             {"role", i + 1 == steps ? "approver" : "reviewer"},
                             {"time_limit_days", 2},
                             {"actions", actions}});
    if (i > 0) item["four_eyes"].push_back({"step-" + std::to_string(i - 1), id});
  }
  return {{"calendar.json", MakeSyntheticItem(1).calendar_text}, {"item.json", item.dump(2)}};
}

Actor StaffActor(const std::string& role, int index, const Item& item) {
  Actor actor;
  actor.id = role + "-" + std::to_string(index);
  actor.role = role;
  actor.organ = item.organ.id;
  actor.name = actor.id;
  return actor;
}

// The commands after "submit" that take a case from submitted to closed: accept, one "pass" per
// step but the last, approve, deliver.
std::vector<Command> LifeCycleCommands(const Item& item) {
  std::vector<Command> out;
  Command accept;
  accept.action = "accept";
  accept.actor = StaffActor("clerk", 1, item);
  out.push_back(accept);
  for (size_t i = 0; i < item.steps.size(); ++i) {
    Command c;
    c.action = i + 1 == item.steps.size() ? "approve" : "pass";
    c.actor = StaffActor(item.steps[i].role, static_cast<int>(i), item);
    out.push_back(c);
  }
  Command deliver;
  deliver.action = "deliver";
  deliver.actor = StaffActor("clerk", 1, item);
  out.push_back(deliver);
  return out;
}

nlohmann::json BenchForm() {
  return {{"project_name", "示范厂房"}, {"amount", 1200}, {"kind", "a"}, {"start", "2026-03-16"}};
}
nlohmann::json BenchMaterials() {
  return {"application_form", "licence"};
}

// One benchmark database, opened through Engine::Open as every command opens one; the members
// point into `engine`, which owns them.
struct BenchDb {
  std::unique_ptr<Engine> engine;
  Store* store = nullptr;
  DefinitionRegistry* registry = nullptr;
  SimulatedClock* clock = nullptr;
  CaseService* service = nullptr;
  std::shared_ptr<const Item> item;
};

// Opens a store at `options.path` and deploys the benchmark definitions (a no-op when they are).
Result<BenchDb> OpenEngine(const SqliteStoreOptions& options, int steps) {
  Instant start = *ParseTimestamp(kStart);
  EngineOptions engine_options;
  engine_options.store = options;
  engine_options.clock = std::make_unique<SimulatedClock>(start);
  auto opened = Engine::Open(std::move(engine_options));
  if (!opened.ok()) return opened.status();
  BenchDb db;
  db.engine = std::move(opened).value();
  db.store = db.engine->store();
  db.registry = db.engine->registry();
  db.clock = db.engine->simulated_clock();
  db.service = db.engine->cases();
  if (!options.read_only) {
    auto deployed = db.registry->Deploy(BenchDefinitions(steps), start);
    if (!deployed.ok()) return deployed.status();
  }
  db.item = db.registry->FindItem("bench-permit");
  if (!db.item) return Status::NotFound("the benchmark item is not deployed");
  return db;
}

// Runs fn(t) on `threads` threads started together; the calling thread shows progress meanwhile
// (`done` of `total_units`). Returns the wall time from the start to the last thread's end.
template <class Fn>
SteadyClock::duration RunThreads(int threads, const std::string& what, long total_units,
                                 std::atomic<long>* done, Fn fn) {
  std::latch go(1);
  std::mutex finish_mutex;
  int finished = 0;
  SteadyClock::time_point last_finish{};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      go.wait();
      fn(t);
      std::lock_guard<std::mutex> lock(finish_mutex);
      ++finished;
      last_finish = std::max(last_finish, SteadyClock::now());
    });
  }
  Progress progress(what);
  auto t0 = SteadyClock::now();
  go.count_down();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(finish_mutex);
      if (finished == threads) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    progress.Update(done->load(), total_units);
  }
  for (auto& thread : pool)
    thread.join();
  progress.Done();
  return last_finish - t0;  // the last thread's end, not the polling loop's
}

// The first error any thread met.
class FirstError {
 public:
  void Set(Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status_.ok()) status_ = std::move(status);
    failed_.store(true);
  }
  bool failed() const { return failed_.load(); }
  Status status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  mutable std::mutex mutex_;
  Status status_;
  std::atomic<bool> failed_{false};
};

// ---- bench transitions --------------------------------------------------------------------------

struct TransitionRun {
  long transitions = 0;
  double seconds = 0;
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  StoreStats stats;
  double cpu_us = 0;       // process CPU time (user + system) per transition, all threads
  double event_bytes = 0;  // mean stored bytes of one event row
  double case_bytes = 0;   // mean stored bytes of one case row (mostly its snapshot)
};

double ProcessCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

nlohmann::json TransitionRunToJson(const TransitionRun& r) {
  return {{"transitions", r.transitions},
          {"seconds", r.seconds},
          {"transitions_per_second", r.per_second},
          {"latency_ms", {{"p50", r.p50_ms}, {"p99", r.p99_ms}}},
          {"cpu_us_per_transition", r.cpu_us},
          {"commits", r.stats.commits},
          {"batch_mean", r.stats.commits > 0 ? double(r.stats.writes) / r.stats.commits : 0.0},
          {"batch_max", r.stats.max_batch}};
}

// Mean row sizes of the events and cases tables, as the engine stored them.
Status MeasureRowSizes(const std::string& path, double* event_bytes, double* case_bytes) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::Unavailable("cannot open " + path);
  }
  const char* sql =
      "SELECT (SELECT avg(length(case_id) + 8 + 8 + length(actor_id) + length(actor_role) + "
      "length(actor_organ) + length(action) + length(data) + length(status) + length(step) + "
      "length(definition_id) + 8 + length(prev_hash) + length(hash)) FROM events), "
      "(SELECT avg(length(id) + length(number) + length(query_code) + length(definition_id) + 8 + "
      "length(status) + length(step) + length(applicant_id) + length(organ_id) + 8 + 8 + 8 + 8 + "
      "length(snapshot)) FROM cases)";
  sqlite3_stmt* statement = nullptr;
  Status status = Status::Ok();
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    *event_bytes = sqlite3_column_double(statement, 0);
    *case_bytes = sqlite3_column_double(statement, 1);
  } else {
    status = Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return status;
}

Result<TransitionRun> RunTransitions(const TempDir& dir, const std::string& name, bool group_commit,
                                     const std::string& synchronous, int callers, long cases,
                                     int steps) {
  SqliteStoreOptions options;
  options.path = dir.File(name + ".db");
  options.synchronous = synchronous;
  options.group_commit = group_commit;
  auto opened = OpenEngine(options, steps);
  if (!opened.ok()) return opened.status();
  BenchDb& engine = opened.value();
  const std::vector<Command> commands = LifeCycleCommands(*engine.item);
  const long per_case = static_cast<long>(commands.size()) + 1;
  const StoreStats before = engine.store->Stats();  // Deploy does not go through the writer

  std::atomic<long> next_case{0};
  std::atomic<long> done{0};
  FirstError error;
  std::vector<std::vector<double>> latencies(callers);
  double cpu_before = ProcessCpuMicros();
  auto elapsed =
      RunThreads(callers, "bench transitions (" + name + ")", cases * per_case, &done, [&](int t) {
        std::vector<double>& mine = latencies[t];
        while (!error.failed()) {
          long index = next_case.fetch_add(1);
          if (index >= cases) return;
          NewCase request;
          request.definition_id = engine.item->id;
          request.actor = Actor{"applicant-" + std::to_string(index), "applicant", "", "applicant"};
          request.applicant_id = request.actor.id;
          request.applicant_name = "示例建设有限公司";
          request.applicant_credit_code = "91330100MA2TEST01X";
          request.form = BenchForm();
          request.materials = BenchMaterials();
          auto t0 = SteadyClock::now();
          auto created = engine.service->Create(request);
          mine.push_back(Micros(SteadyClock::now() - t0));
          if (!created.ok()) return error.Set(created.status());
          done.fetch_add(1);
          for (const Command& c : commands) {
            ActRequest act;
            act.case_id = created->state.id;
            act.action = c.action;
            act.actor = c.actor;
            t0 = SteadyClock::now();
            auto acted = engine.service->Act(act);
            mine.push_back(Micros(SteadyClock::now() - t0));
            if (!acted.ok()) {
              return error.Set(
                  Status(acted.status().code(), c.action + " failed: " + acted.status().message()));
            }
            done.fetch_add(1);
          }
        }
      });
  if (error.failed()) return error.status();
  TransitionRun run;
  run.cpu_us = (ProcessCpuMicros() - cpu_before) / static_cast<double>(cases * per_case);
  StoreStats after = engine.store->Stats();
  run.stats = {after.commits - before.commits, after.writes - before.writes, after.max_batch};
  run.transitions = cases * per_case;
  run.seconds = Seconds(elapsed);
  run.per_second = static_cast<double>(run.transitions) / run.seconds;
  std::vector<double> all;
  for (auto& v : latencies)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  run.p50_ms = Quantile(all, 0.50) / 1000;
  run.p99_ms = Quantile(all, 0.99) / 1000;
  auto events = engine.store->CountEvents();
  if (!events.ok()) return events.status();
  if (*events != run.transitions) {
    return Status::Internal("expected " + std::to_string(run.transitions) + " events, found " +
                            std::to_string(*events));
  }
  engine = BenchDb();  // close before reading the file raw
  TONGBAN_RETURN_IF_ERROR(MeasureRowSizes(options.path, &run.event_bytes, &run.case_bytes));
  return run;
}

struct CeilingRun {
  long writes = 0;
  int batch = 0;
  double seconds = 0;
  double per_second = 0;
};

// Plain SQLite: one thread writes `writes` writes, each one event-like row of `event_bytes` and one
// case-like row of `case_bytes` (inserted on a case's first write, updated after), in transactions
// of `batch` writes, WAL mode and the given synchronous setting. What the engine's writer could do
// if deciding a transition cost nothing.
Result<CeilingRun> RunCeiling(const TempDir& dir, const std::string& name,
                              const std::string& synchronous, long writes, int batch, int per_case,
                              int callers, double event_bytes, double case_bytes) {
  std::string path = dir.File(name + ".db");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return Status::Unavailable("cannot open " + path);
  }
  auto exec = [&](const std::string& sql) -> Status {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      Status s = Status::Internal(std::string("sqlite: ") + (message ? message : "?"));
      sqlite3_free(message);
      return s;
    }
    return Status::Ok();
  };
  struct Closer {
    sqlite3* db;
    std::vector<sqlite3_stmt*> statements;
    ~Closer() {
      for (auto* s : statements)
        sqlite3_finalize(s);
      sqlite3_close(db);
    }
  } closer{db, {}};
  TONGBAN_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL"));
  TONGBAN_RETURN_IF_ERROR(exec("PRAGMA synchronous=" + synchronous));
  TONGBAN_RETURN_IF_ERROR(exec(
      "CREATE TABLE events (case_id TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL, "
      "PRIMARY KEY (case_id, seq)) WITHOUT ROWID;"
      "CREATE TABLE cases (id TEXT PRIMARY KEY, version INTEGER NOT NULL, snapshot TEXT NOT NULL) "
      "WITHOUT ROWID;"));
  sqlite3_stmt* insert_event = nullptr;
  sqlite3_stmt* upsert_case = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?,?,?)", -1, &insert_event, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO cases VALUES (?,?,?) ON CONFLICT (id) DO UPDATE SET "
                     "version = excluded.version, snapshot = excluded.snapshot",
                     -1, &upsert_case, nullptr);
  closer.statements = {insert_event, upsert_case};
  if (insert_event == nullptr || upsert_case == nullptr) {
    return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  const int id_bytes = 21;  // "c" and 20 hex digits
  std::string event_payload(std::max<long>(1, std::lround(event_bytes) - id_bytes - 8), 'e');
  std::string case_payload(std::max<long>(1, std::lround(case_bytes) - id_bytes - 8), 's');
  std::mt19937_64 random(42);
  // Writes arrive as they do from the callers: `callers` cases in flight, each advancing one seq
  // per round.
  std::vector<std::string> ids(callers);
  std::vector<int> seqs(callers, per_case);
  auto new_id = [&] {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "c%020llx",
                  static_cast<unsigned long long>(random() & 0xFFFFFFFFFFFFFull));
    return std::string(buffer);
  };
  Progress progress("bench transitions (ceiling)");
  auto t0 = SteadyClock::now();
  long written = 0;
  while (written < writes) {
    TONGBAN_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    for (int i = 0; i < batch && written < writes; ++i, ++written) {
      int slot = static_cast<int>(written % callers);
      if (seqs[slot] == per_case) {
        ids[slot] = new_id();
        seqs[slot] = 0;
      }
      int seq = ++seqs[slot];
      sqlite3_bind_text(insert_event, 1, ids[slot].data(), static_cast<int>(ids[slot].size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert_event, 2, seq);
      sqlite3_bind_text(insert_event, 3, event_payload.data(),
                        static_cast<int>(event_payload.size()), SQLITE_STATIC);
      sqlite3_bind_text(upsert_case, 1, ids[slot].data(), static_cast<int>(ids[slot].size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(upsert_case, 2, seq);
      sqlite3_bind_text(upsert_case, 3, case_payload.data(), static_cast<int>(case_payload.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(insert_event) != SQLITE_DONE || sqlite3_step(upsert_case) != SQLITE_DONE) {
        return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
      }
      sqlite3_reset(insert_event);
      sqlite3_reset(upsert_case);
    }
    TONGBAN_RETURN_IF_ERROR(exec("COMMIT"));
    progress.Update(written, writes);
  }
  CeilingRun run;
  run.seconds = Seconds(SteadyClock::now() - t0);
  run.writes = writes;
  run.batch = batch;
  run.per_second = static_cast<double>(writes) / run.seconds;
  return run;
}

int BenchTransitions(const Args& args) {
  long callers, cases, steps, round_count;
  if (!IntOption(args, "callers", 64, 1, &callers) || !IntOption(args, "cases", 384, 1, &cases) ||
      !IntOption(args, "steps", 3, 1, &steps) || !IntOption(args, "rounds", 3, 1, &round_count)) {
    return kExitUsage;
  }
  std::string synchronous = args.Get("synchronous").value_or("FULL");
  std::transform(synchronous.begin(), synchronous.end(), synchronous.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (synchronous != "FULL" && synchronous != "NORMAL" && synchronous != "OFF") {
    return UsageError("bench", "--synchronous must be FULL, NORMAL or OFF");
  }
  auto dir = TempDir::Make(args);
  if (!dir.ok()) return Fail("bench transitions", dir.status());
  int per_case = static_cast<int>(steps) + 3;

  // Rounds alternate the three runs so that a busy spell of the machine hits one round, not one
  // kind of run; the round with the median ratio is reported.
  struct Round {
    TransitionRun group, baseline;
    CeilingRun ceiling;
    double ratio = 0;
  };
  std::vector<Round> rounds;
  for (long r = 0; r < round_count; ++r) {
    std::string suffix = "-" + std::to_string(r + 1);
    auto group = RunTransitions(*dir, "group" + suffix, true, synchronous,
                                static_cast<int>(callers), cases, static_cast<int>(steps));
    if (!group.ok()) return Fail("group-commit run", group.status());
    auto baseline = RunTransitions(*dir, "baseline" + suffix, false, synchronous,
                                   static_cast<int>(callers), cases, static_cast<int>(steps));
    if (!baseline.ok()) return Fail("baseline run", baseline.status());
    double batch_mean = double(group->stats.writes) / std::max<int64_t>(1, group->stats.commits);
    int batch = std::max(1, static_cast<int>(std::lround(batch_mean)));
    auto ceiling =
        RunCeiling(*dir, "ceiling" + suffix, synchronous, group->transitions, batch, per_case,
                   static_cast<int>(callers), group->event_bytes, group->case_bytes);
    if (!ceiling.ok()) return Fail("raw SQLite run", ceiling.status());
    rounds.push_back({*group, *baseline, *ceiling, group->per_second / baseline->per_second});
  }
  std::vector<double> ratios;
  for (const Round& r : rounds)
    ratios.push_back(r.ratio);
  std::sort(rounds.begin(), rounds.end(),
            [](const Round& a, const Round& b) { return a.ratio < b.ratio; });
  const Round& median = rounds[rounds.size() / 2];
  const TransitionRun* group = &median.group;
  const TransitionRun* baseline = &median.baseline;
  const CeilingRun* ceiling = &median.ceiling;
  const int batch = ceiling->batch;

  double ratio = median.ratio;
  bool met = ratio >= 5.0;
  if (JsonFormat(args)) {
    nlohmann::json out = {{"benchmark", "transitions"},
                          {"callers", callers},
                          {"cases", cases},
                          {"transitions_per_case", per_case},
                          {"rounds", round_count},
                          {"synchronous", synchronous},
                          {"group_commit", TransitionRunToJson(*group)},
                          {"baseline_one_commit_per_write", TransitionRunToJson(*baseline)},
                          {"raw_sqlite_ceiling",
                           {{"writes", ceiling->writes},
                            {"batch", ceiling->batch},
                            {"event_row_bytes", group->event_bytes},
                            {"case_row_bytes", group->case_bytes},
                            {"seconds", ceiling->seconds},
                            {"writes_per_second", ceiling->per_second}}},
                          {"ratio_to_baseline", ratio},
                          {"ratio_to_baseline_each_round", ratios},
                          {"fraction_of_ceiling", group->per_second / ceiling->per_second},
                          {"goal", {{"ratio_to_baseline_at_least", 5.0}, {"met", met}}}};
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::printf(
        "bench transitions: %ld callers, %ld cases x %d transitions (create, accept, %ld x pass, "
        "approve, deliver), synchronous=%s, in %s\n",
        callers, cases, per_case, steps - 1, synchronous.c_str(), dir->path().c_str());
    std::printf("  %ld rounds, each group commit, baseline, ceiling; the median round by ratio:\n",
                round_count);
    std::printf("  %-32s %13s %8s %8s %8s %14s %11s\n", "", "transitions/s", "p50 ms", "p99 ms",
                "commits", "batch mean/max", "CPU us/tr");
    auto row = [](const char* name, const TransitionRun& r) {
      std::printf("  %-32s %13.0f %8.2f %8.2f %8lld %7.1f / %-4lld %11.0f\n", name, r.per_second,
                  r.p50_ms, r.p99_ms, static_cast<long long>(r.stats.commits),
                  double(r.stats.writes) / std::max<int64_t>(1, r.stats.commits),
                  static_cast<long long>(r.stats.max_batch), r.cpu_us);
    };
    row("group commit (CaseService)", *group);
    row("baseline: one commit per write", *baseline);
    std::printf("  %-32s %13.0f %8s %8s %8ld %7d\n", "raw SQLite ceiling (1 thread)",
                ceiling->per_second, "-", "-", (ceiling->writes + batch - 1) / batch, batch);
    std::printf(
        "    (rows of %.0f + %.0f bytes per write, the engine's mean event and case rows)\n",
        group->event_bytes, group->case_bytes);
    std::string each;
    for (double r : ratios) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%s%.1fx", each.empty() ? "" : ", ", r);
      each += buffer;
    }
    std::printf("  ratio group commit / baseline: %.1fx (goal >= 5x: %s); rounds: %s\n", ratio,
                met ? "met" : "NOT met", each.c_str());
    std::printf("  group commit reaches %.0f%% of the raw SQLite ceiling at its batch size\n",
                100.0 * group->per_second / ceiling->per_second);
  }
  return !met && args.Has("check") ? kExitFailure : kExitOk;
}

// ---- bench replay -------------------------------------------------------------------------------

std::string HexId(uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "c%020llx", static_cast<unsigned long long>(value));
  return buffer;
}

// A whole closed case built in memory through the life-cycle machine, as CaseService would have
// recorded it transition by transition: its events (hash-chained) and its final snapshot.
Result<CaseWrite> BuildClosedCase(const std::shared_ptr<const Item>& item,
                                  const std::vector<Command>& commands, const std::string& id,
                                  long index, Instant start) {
  CaseLifecycle lifecycle(item);
  Command submit;
  submit.action = "submit";
  submit.actor = Actor{"applicant-" + std::to_string(index), "applicant", "", "applicant"};
  submit.time = start;
  char number[32];
  std::snprintf(number, sizeof number, "TB20260302-%08ld", index);
  submit.data = {{"case", {{"id", id}, {"number", number}, {"query_code", "Q" + id.substr(1, 7)}}},
                 {"applicant",
                  {{"id", submit.actor.id},
                   {"name", "示例建设有限公司"},
                   {"credit_code", "91330100MA2TEST01X"}}},
                 {"form", BenchForm()},
                 {"materials", BenchMaterials()},
                 {"mode", "standard"}};
  std::vector<Event> events;
  std::string previous = kGenesisHash;
  for (size_t i = 0; i <= commands.size(); ++i) {
    Command command = i == 0 ? submit : commands[i - 1];
    command.time = start + std::chrono::minutes(10 * i);
    Status status = i == 0 ? lifecycle.Submit(command) : lifecycle.Apply(command);
    if (!status.ok()) return Status(status.code(), command.action + ": " + status.message());
    events.push_back(MakeCaseEvent(lifecycle, command, static_cast<int64_t>(i) + 1, previous, ""));
    previous = events.back().hash;
  }
  Instant now = events.back().time;
  return MakeCaseWrite(lifecycle, 0, std::move(events), now);
}

int BenchReplay(const Args& args) {
  long cases, steps, threads;
  if (!IntOption(args, "cases", 20000, 1, &cases) || !IntOption(args, "steps", 3, 1, &steps) ||
      !IntOption(args, "threads", 0, 0, &threads)) {
    return kExitUsage;
  }
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto dir = TempDir::Make(args);
  if (!dir.ok()) return Fail("bench replay", dir.status());
  SqliteStoreOptions options;
  options.path = dir->File("replay.db");
  options.synchronous = "OFF";

  // Set-up: closed cases, one write per case, from enough threads that group commit batches.
  auto setup_start = SteadyClock::now();
  {
    auto opened = OpenEngine(options, static_cast<int>(steps));
    if (!opened.ok()) return Fail("opening the database", opened.status());
    BenchDb& engine = opened.value();
    const std::vector<Command> commands = LifeCycleCommands(*engine.item);
    Instant start = engine.clock->Now();
    std::atomic<long> next{0}, done{0};
    FirstError error;
    RunThreads(32, "bench replay: building cases", cases, &done, [&](int) {
      while (!error.failed()) {
        long index = next.fetch_add(1);
        if (index >= cases) return;
        // Ids as CaseService makes them, for cases made a millisecond apart.
        auto write =
            BuildClosedCase(engine.item, commands,
                            NewCaseId(start + std::chrono::milliseconds(index)), index, start);
        if (!write.ok()) return error.Set(write.status());
        Status committed = engine.store->Commit(std::move(write).value());
        if (!committed.ok()) return error.Set(committed);
        done.fetch_add(1);
      }
    });
    if (error.failed()) return Fail("building the database", error.status());
  }  // closing the store checkpoints the WAL into the database file
  double setup_seconds = Seconds(SteadyClock::now() - setup_start);

  options.read_only = true;  // as `tongban verify` opens it
  auto opened = OpenEngine(options, static_cast<int>(steps));
  if (!opened.ok()) return Fail("reopening the database", opened.status());
  BenchDb& engine = opened.value();
  auto event_count = engine.store->CountEvents();
  if (!event_count.ok()) return Fail("counting events", event_count.status());
  const long events = static_cast<long>(*event_count);

  // Baseline: the raw scan (twice, before and after the others; the faster one counts).
  auto raw_scan = [&]() -> Result<double> {
    long seen = 0;
    auto t0 = SteadyClock::now();
    Status s = engine.store->ForEachEvent([&](const Event&) {
      ++seen;
      return true;
    });
    double seconds = Seconds(SteadyClock::now() - t0);
    if (!s.ok()) return s;
    if (seen != events) return Status::Internal("the scan saw " + std::to_string(seen));
    return seconds;
  };
  auto raw1 = raw_scan();
  if (!raw1.ok()) return Fail("raw scan", raw1.status());

  // (a) Hash chain only.
  long chain_bad = 0;
  auto ta = SteadyClock::now();
  {
    std::string current, previous;
    EventHashChecker hashes;  // as VerifyAll checks them
    Status s = engine.store->ForEachEvent([&](const Event& e) {
      if (e.case_id != current) {
        current = e.case_id;
        previous = kGenesisHash;
      }
      if (e.prev_hash != previous || !hashes.Matches(e)) ++chain_bad;
      previous = e.hash;
      return true;
    });
    if (!s.ok()) return Fail("hash-chain scan", s);
  }
  double chain_seconds = Seconds(SteadyClock::now() - ta);

  // (c) VerifyAll, before (b) fills the heap with every event.
  VerifyReport report;
  auto tc = SteadyClock::now();
  {
    Progress progress("bench replay: VerifyAll");
    report = engine.service->VerifyAll(
        [&](int64_t done, int64_t total) { progress.Update(static_cast<long>(done), total); },
        static_cast<int>(threads));
  }
  double verify_seconds = Seconds(SteadyClock::now() - tc);

  // (b) Replay only, events in memory.
  std::vector<std::vector<Event>> by_case;
  by_case.reserve(cases);
  {
    std::string current;
    Status s = engine.store->ForEachEvent([&](const Event& e) {
      if (e.case_id != current || by_case.empty()) {
        current = e.case_id;
        by_case.emplace_back();
      }
      by_case.back().push_back(e);
      return true;
    });
    if (!s.ok()) return Fail("loading events", s);
  }
  long replay_bad = 0;
  Status first_replay_error = Status::Ok();
  auto tb = SteadyClock::now();
  {
    Progress progress("bench replay: replaying");
    for (size_t i = 0; i < by_case.size(); ++i) {
      auto replayed = ReplayEvents(by_case[i], *engine.registry);
      if (!replayed.ok()) {
        if (replay_bad++ == 0) first_replay_error = replayed.status();
      }
      if (i % 1024 == 0) progress.Update(static_cast<long>(i), static_cast<long>(by_case.size()));
    }
  }
  double replay_seconds = Seconds(SteadyClock::now() - tb);
  by_case = {};

  auto raw2 = raw_scan();
  if (!raw2.ok()) return Fail("raw scan", raw2.status());
  double raw_seconds = std::min(*raw1, *raw2);

  auto rate = [&](double seconds) { return static_cast<double>(events) / seconds; };
  const double goal = 1'000'000;
  bool met = rate(verify_seconds) >= goal;
  bool sound = report.ok && chain_bad == 0 && replay_bad == 0;
  if (JsonFormat(args)) {
    nlohmann::json out = {
        {"benchmark", "replay"},
        {"cases", cases},
        {"events", events},
        {"setup_seconds", setup_seconds},
        {"verify_all_threads", threads},
        {"baseline_raw_scan_events_per_second", rate(raw_seconds)},
        {"hash_chain_events_per_second", rate(chain_seconds)},
        {"replay_events_per_second", rate(replay_seconds)},
        {"verify_all_events_per_second", rate(verify_seconds)},
        {"ratio_to_baseline",
         {{"hash_chain", raw_seconds / chain_seconds},
          {"replay", raw_seconds / replay_seconds},
          {"verify_all", raw_seconds / verify_seconds}}},
        {"verify_all", VerifyReportToJson(report)},
        {"chain_failures", chain_bad},
        {"replay_failures", replay_bad},
        {"goal", {{"verify_all_events_per_second_at_least", goal}, {"met", met}}}};
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::printf(
        "bench replay: %ld cases, %ld events (%.1f per case); VerifyAll on %ld thread%s, "
        "the rest on one\n",
        cases, events, double(events) / cases, threads, threads == 1 ? "" : "s");
    std::printf("  set-up (cases built in memory, group commit, synchronous=OFF): %.1f s\n",
                setup_seconds);
    std::printf("  %-48s %12s %12s\n", "", "events/s", "vs raw scan");
    auto row = [&](const char* name, double seconds) {
      std::printf("  %-48s %12.0f %11.2fx\n", name, rate(seconds), raw_seconds / seconds);
    };
    row("baseline: raw scan (ForEachEvent, no work)", raw_seconds);
    row("(a) hash chain (scan + EventHashChecker)", chain_seconds);
    row("(b) replay only (ReplayEvents, in memory)", replay_seconds);
    std::string verify_row =
        "(c) VerifyAll (chain + replay + snapshots), " + std::to_string(threads) + " thr.";
    row(verify_row.c_str(), verify_seconds);
    std::printf("  goal: VerifyAll >= %.0f events/s: %s (%.0f%% of the goal)\n", goal,
                met ? "met" : "NOT met", 100.0 * rate(verify_seconds) / goal);
  }
  if (!sound) {
    std::cerr << "tongban bench replay: the database did not verify: "
              << (report.ok ? (replay_bad ? first_replay_error.ToString() : "hash chain broken")
                            : report.reason)
              << "\n";
    return kExitFailure;
  }
  return !met && args.Has("check") ? kExitFailure : kExitOk;
}

// ---- bench read ---------------------------------------------------------------------------------

// A snapshot of `bytes` bytes for case `id`: a JSON object padded to size.
std::string PaddedSnapshot(const std::string& id, long bytes) {
  std::string head = R"({"id":")" + id + R"(","status":"submitted","version":1,"pad":")";
  long pad = std::max(0L, bytes - static_cast<long>(head.size()) - 2);
  return head + std::string(static_cast<size_t>(pad), 'x') + "\"}";
}

// Fills the database up to `cases` minimal cases (ids HexId(0..cases-1)), starting at `from`.
// `snapshot_bytes` 0 keeps the snapshot of a real submitted case.
Status FillCases(BenchDb& engine, long from, long cases, long snapshot_bytes) {
  // One real submitted case gives realistic event data and snapshot sizes.
  const std::vector<Command> none;
  Instant start = engine.clock->Now();
  auto sample = BuildClosedCase(engine.item, none, HexId(0), 0, start);
  if (!sample.ok()) return sample.status();
  const Event& first = sample->events.front();
  const CaseRecord& sample_record = sample->record;
  std::atomic<long> next{from}, done{0};
  FirstError error;
  const int threads = 64;
  RunThreads(threads, "bench read: filling", cases - from, &done, [&](int) {
    while (!error.failed()) {
      long index = next.fetch_add(1);
      if (index >= cases) return;
      CaseWrite write;
      std::string id = HexId(static_cast<uint64_t>(index));
      char number[32];
      std::snprintf(number, sizeof number, "TB20260302-%08ld", index);
      Event e = first;
      e.case_id = id;
      e.actor.id = "applicant-" + std::to_string(index % 5000);
      e.hash = ComputeEventHash(e);
      write.events.push_back(std::move(e));
      write.record = sample_record;
      write.record.id = id;
      write.record.number = number;
      write.record.applicant_id = write.events.back().actor.id;
      write.record.version = 1;
      write.record.next_timer_at.reset();
      if (snapshot_bytes > 0) write.record.snapshot = PaddedSnapshot(id, snapshot_bytes);
      Status committed = engine.store->Commit(std::move(write));
      if (!committed.ok()) return error.Set(committed);
      done.fetch_add(1);
    }
  });
  if (error.failed()) return error.status();
  return Status::Ok();
}

double ThreadCpuMicros() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

struct LatencySummary {
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, max = 0;
};

LatencySummary Summarize(std::vector<double>* samples) {
  std::sort(samples->begin(), samples->end());
  LatencySummary s;
  if (samples->empty()) return s;
  double sum = 0;
  for (double x : *samples)
    sum += x;
  s.p50 = Quantile(*samples, 0.5);
  s.p99 = Quantile(*samples, 0.99);
  s.p999 = Quantile(*samples, 0.999);
  s.mean = sum / static_cast<double>(samples->size());
  s.max = samples->back();
  return s;
}

nlohmann::json LatencyToJson(const LatencySummary& s) {
  return {{"p50_us", s.p50},
          {"p99_us", s.p99},
          {"p999_us", s.p999},
          {"mean_us", s.mean},
          {"max_us", s.max}};
}

int BenchRead(const Args& args) {
  long cases, reads, snapshot_bytes;
  if (!IntOption(args, "cases", 1'000'000, 1, &cases) ||
      !IntOption(args, "reads", 100'000, 1, &reads) ||
      !IntOption(args, "snapshot-bytes", 256, 0, &snapshot_bytes)) {
    return kExitUsage;
  }
  std::optional<TempDir> dir;
  SqliteStoreOptions options;
  options.synchronous = "OFF";
  if (auto db = args.Get("db")) {
    options.path = *db;
  } else {
    auto made = TempDir::Make(args);
    if (!made.ok()) return Fail("bench read", made.status());
    dir.emplace(std::move(made).value());
    options.path = dir->File("read.db");
  }
  bool existed = fs::exists(options.path);
  auto opened = OpenEngine(options, 1);
  if (!opened.ok()) return Fail("opening " + options.path, opened.status());
  BenchDb* engine = &opened.value();
  auto count = engine->store->CountCases();
  if (!count.ok()) return Fail("counting cases", count.status());
  long stored = static_cast<long>(*count);
  if (stored > 0) {
    auto first = engine->store->GetCase(HexId(0));
    auto last = engine->store->GetCase(HexId(static_cast<uint64_t>(stored - 1)));
    if (!first.ok() || !*first || !last.ok() || !*last) {
      std::cerr << "tongban bench read: " << options.path
                << " was not filled by this benchmark (its case ids differ)\n";
      return kExitError;
    }
  }
  double fill_seconds = 0;
  long filled = 0;
  if (stored < cases) {
    auto t0 = SteadyClock::now();
    Status s = FillCases(*engine, stored, cases, snapshot_bytes);
    if (!s.ok()) return Fail("filling the database", s);
    fill_seconds = Seconds(SteadyClock::now() - t0);
    filled = cases - stored;
  } else if (stored > cases) {
    cases = stored;  // read from all of them; they are all the benchmark's
  }
  // Reopen read-only, as a reader would see it: closing checkpoints the WAL into the file.
  opened = Result<BenchDb>(Status::Unavailable("closed"));
  options.read_only = true;
  opened = OpenEngine(options, 1);
  if (!opened.ok()) return Fail("reopening " + options.path, opened.status());
  engine = &opened.value();

  std::mt19937_64 random(7);
  std::uniform_int_distribution<long> pick(0, cases - 1);
  std::vector<double> hit_us, hit_cpu_us, miss_us;
  hit_us.reserve(reads);
  hit_cpu_us.reserve(reads);
  miss_us.reserve(reads);
  long warm = std::max(1L, reads / 10);
  double snapshot_total = 0;
  Progress progress("bench read: reading");
  for (long i = 0; i < warm + reads; ++i) {
    std::string id = HexId(static_cast<uint64_t>(pick(random)));
    std::string missing = HexId(static_cast<uint64_t>(pick(random))) + "-";  // sorts among ids
    double c0 = ThreadCpuMicros();
    auto t0 = SteadyClock::now();
    auto hit = engine->store->GetCase(id);
    auto t1 = SteadyClock::now();
    double c1 = ThreadCpuMicros();
    auto t2 = SteadyClock::now();
    auto miss = engine->store->GetCase(missing);
    auto t3 = SteadyClock::now();
    if (!hit.ok() || !*hit || (*hit)->snapshot.empty()) {
      std::cerr << "tongban bench read: case " << id << " is missing\n";
      return kExitError;
    }
    if (!miss.ok() || *miss) {
      std::cerr << "tongban bench read: the probe for " << missing << " went wrong\n";
      return kExitError;
    }
    if (i >= warm) {
      hit_us.push_back(Micros(t1 - t0));
      hit_cpu_us.push_back(c1 - c0);
      miss_us.push_back(Micros(t3 - t2));
      snapshot_total += static_cast<double>((*hit)->snapshot.size());
    }
    if (i % 1000 == 0) progress.Update(i, warm + reads);
  }
  progress.Done();
  LatencySummary hit = Summarize(&hit_us), cpu = Summarize(&hit_cpu_us), miss = Summarize(&miss_us);
  bool met = hit.p99 < 1000;
  std::error_code size_error;
  std::uintmax_t bytes = fs::file_size(options.path, size_error);
  double snapshot_mean = snapshot_total / static_cast<double>(reads);
  if (JsonFormat(args)) {
    nlohmann::json out = {{"benchmark", "read"},
                          {"cases", cases},
                          {"reads", reads},
                          {"snapshot_bytes", snapshot_mean},
                          {"database_bytes", bytes},
                          {"reused_database", existed && filled == 0},
                          {"filled_cases", filled},
                          {"fill_seconds", fill_seconds},
                          {"get_case", LatencyToJson(hit)},
                          {"get_case_thread_cpu", LatencyToJson(cpu)},
                          {"baseline_get_missing_id", LatencyToJson(miss)},
                          {"ratio_to_baseline_p50", hit.p50 / miss.p50},
                          {"ratio_to_baseline_p99", hit.p99 / miss.p99},
                          {"goal", {{"p99_us_below", 1000}, {"met", met}}}};
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::printf(
        "bench read: %ld cases (%.0f MB database, %.0f-byte snapshots), %ld random GetCase by "
        "id, one thread\n",
        cases, static_cast<double>(bytes) / 1e6, snapshot_mean, reads);
    if (filled > 0) {
      std::printf("  fill: %ld cases in %.1f s (%.0f cases/s; group commit, synchronous=OFF)%s\n",
                  filled, fill_seconds, static_cast<double>(filled) / fill_seconds,
                  existed ? ", topping up --db" : "");
    } else {
      std::printf("  reused %s\n", options.path.c_str());
    }
    std::printf("  %-40s %9s %9s %9s %9s\n", "", "p50 us", "p99 us", "p999 us", "mean us");
    auto row = [&](const char* name, const LatencySummary& s) {
      std::printf("  %-40s %9.1f %9.1f %9.1f %9.1f\n", name, s.p50, s.p99, s.p999, s.mean);
    };
    row("GetCase (existing id)", hit);
    row("  the same, on-CPU time of the thread", cpu);
    row("baseline: GetCase (missing id)", miss);
    std::printf("  ratio to baseline: p50 %.2fx, p99 %.2fx\n", hit.p50 / miss.p50,
                hit.p99 / miss.p99);
    std::printf("  goal: p99 < 1000 us: %s\n", met ? "met" : "NOT met");
  }
  return !met && args.Has("check") ? kExitFailure : kExitOk;
}

}  // namespace

int BenchEngine(const std::string& what, const Args& args) {
  if (what == "transitions") return BenchTransitions(args);
  if (what == "replay") return BenchReplay(args);
  if (what == "read") return BenchRead(args);
  return UsageError("bench", "unknown benchmark '" + what + "'");
}

}  // namespace tongban::cli
