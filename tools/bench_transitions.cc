// `tongban bench transitions`: durable transitions per second with group commit, against one
// commit per write and plain SQLite (the item, the database and the helpers are in
// bench_engine.h).
#include "tools/bench_engine.h"

namespace tongban::cli {

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

using namespace engine_bench;

namespace {

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

}  // namespace

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

}  // namespace tongban::cli
