// The engine benchmarks' shared parts (bench_transitions.cc, bench_replay.cc, bench_read.cc): the
// benchmark item built in code, a database opened on it through Engine::Open, a temporary
// directory, and the helpers that time, count and report.
//
// Every figure is printed beside a baseline measured in the same run (the machine these run on is
// shared and noisy, so only same-run ratios compare across runs). Databases go to a fresh temporary
// directory that is removed afterwards, except a --db file given to `bench read`.
#pragma once

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

// The three benchmarks, each in a file of its own; their help texts beside them.
int BenchTransitions(const Args& args);
int BenchReplay(const Args& args);
int BenchRead(const Args& args);
extern const char* const kBenchTransitionsHelp;
extern const char* const kBenchReplayHelp;
extern const char* const kBenchReadHelp;

namespace engine_bench {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::duration d);
double Micros(SteadyClock::duration d);

// The value at quantile q of sorted samples (nearest rank).
double Quantile(const std::vector<double>& sorted, double q);

// A positive integer option; false (and a usage message) when malformed.
bool IntOption(const Args& args, const std::string& name, long fallback, long min, long* out);

bool JsonFormat(const Args& args);

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

int Fail(const std::string& what, const Status& status);

// ---- The benchmark item -------------------------------------------------------------------------

inline constexpr const char* kStart = "2026-03-02T09:00:00+08:00";  // a Monday, a working day

// A licensing item with realistic limits and `steps` review steps in a chain: each passes to the
// next (guarded on the form, requiring a material), the last one decides; consecutive steps are
// four-eyes. Its calendar is the synthetic one (weekends and New Year off, 2025-2026).
std::vector<std::pair<std::string, std::string>> BenchDefinitions(int steps);

Actor StaffActor(const std::string& role, int index, const Item& item);

// The commands after "submit" that take a case from submitted to closed: accept, one "pass" per
// step but the last, approve, deliver.
std::vector<Command> LifeCycleCommands(const Item& item);

nlohmann::json BenchForm();
nlohmann::json BenchMaterials();

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
Result<BenchDb> OpenEngine(const SqliteStoreOptions& options, int steps);

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

// A case id as the engine makes them ("c" and 20 hex digits), counted up from `value`.
std::string HexId(uint64_t value);

// A whole closed case built in memory through the life-cycle machine, as CaseService would have
// recorded it transition by transition: its events (hash-chained) and its final snapshot.
Result<CaseWrite> BuildClosedCase(const std::shared_ptr<const Item>& item,
                                  const std::vector<Command>& commands, const std::string& id,
                                  long index, Instant start);

}  // namespace engine_bench
}  // namespace tongban::cli
