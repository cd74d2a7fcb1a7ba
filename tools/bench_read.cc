// `tongban bench read`: one case's snapshot read by id, against the probe of a missing id (the
// item, the database and the helpers are in bench_engine.h).
#include "tools/bench_engine.h"

namespace tongban::cli {

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

using namespace engine_bench;

namespace {

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

}  // namespace

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

}  // namespace tongban::cli
