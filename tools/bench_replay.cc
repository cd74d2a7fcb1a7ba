// `tongban bench replay`: whole-database verification against the raw event scan (the item, the
// database and the helpers are in bench_engine.h).
#include "tools/bench_engine.h"

namespace tongban::cli {

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

using namespace engine_bench;

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

}  // namespace tongban::cli
