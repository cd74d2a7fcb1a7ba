// Engine: one running Tongban — its store, deployed definitions, registers and case service, and
// the timer loop that lets deadlines act on their own (deemed acceptance, overdue marks).
//
// Every command that opens a database goes through Engine::Open instead of wiring the parts by
// hand, so a server, a verification and a benchmark see the same engine:
//
//   EngineOptions options;
//   options.store.path = "var/tongban.db";
//   // or, for PostgreSQL: options.postgres.conninfo = "postgresql://…";
//   auto engine = Engine::Open(std::move(options));
//   if (!engine.ok()) ...;
//   (*engine)->StartTimers();
//   (*engine)->cases()->Act(...);
//
// Ownership: the Engine owns everything it opened; pointers it hands out live as long as it does.
// Destroying it stops the timer loop first, then closes the store (finishing queued writes).
//
// Thread safety: all methods are thread-safe. cases(), registry() and the other accessors return
// objects that are themselves thread-safe (see their headers).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/case_service.h"
#include "engine/checkpoint_schedule.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/postgres_store.h"
#include "engine/sqlite_store.h"

namespace tongban {

struct EngineOptions {
  // The SQLite store (the default), used when postgres.conninfo is empty.
  SqliteStoreOptions store;
  // The PostgreSQL store, used when its conninfo is set (then `store` is unused).
  PostgresStoreOptions postgres;
  // The clock cases run on; null: the system clock. A SimulatedClock here is what
  // simulated_clock() returns.
  std::unique_ptr<Clock> clock;
  // The case service's own options (the cache of live machines).
  CaseServiceOptions cases;
  // How often the timer loop looks for due timers (real time).
  int timer_interval_ms = 1000;
  // Signed checkpoints of the whole database (checkpoint_schedule.h): on demand when a key is
  // given, and from the timer loop every checkpoints.interval.
  CheckpointScheduleOptions checkpoints;
  // Where the timer loop reports a failed run or a recorded checkpoint; null: standard error.
  // Called from the loop's thread.
  std::function<void(const std::string&)> log;
};

// Points `options` at `db` as a command's --db gives it: a PostgreSQL connection URI
// (postgresql://… or postgres://…, IsPostgresConnectionString) selects the PostgreSQL store, and
// anything else is the SQLite file's path. `read_only` and `max_queue` apply to whichever it is.
void SelectDatabase(const std::string& db, bool read_only, int max_queue, EngineOptions* options);

// What the timer loop has done since StartTimers.
struct TimerStats {
  int64_t runs = 0;    // times it looked for due timers
  int64_t fired = 0;   // system events recorded
  int64_t errors = 0;  // runs that failed (each logged)
  std::string last_error;
  int64_t checkpoints = 0;  // scheduled checkpoints recorded
  int64_t checkpoint_errors = 0;
};

class Engine {
 public:
  // Opens (creating if needed) the store — PostgreSQL at options.postgres.conninfo when set, else
  // SQLite at options.store.path — and loads every deployed definition. Errors: whatever
  // SqliteStore::Open or PostgresStore::Open reports (kInvalidArgument for a bad option or
  // connection string, kFailedPrecondition for a schema newer than this build, kUnavailable or
  // kInternal for failures of the database), and kDataLoss when a deployed definition no longer
  // compiles.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options);
  // Stops the timer loop (waiting for a run in progress), then closes the store.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Deploys every definition file under `path` that is new (DefinitionRegistry::DeployDirectory):
  // kInvalidArgument with diagnostics when any file is invalid, and then nothing is deployed.
  Result<DeployOutcome> DeployDirectory(const std::string& path);

  // Starts the loop that fires due timers every timer_interval_ms, and records a checkpoint when
  // one is due; a failed run is counted and logged, and the loop goes on. Idempotent.
  void StartTimers();
  // Stops the loop and waits for it. Idempotent; also done by the destructor.
  void StopTimers();
  TimerStats timer_stats() const;

  CaseService* cases() const { return service_.get(); }
  Store* store() const { return store_.get(); }
  DefinitionRegistry* registry() const { return registry_.get(); }
  Registers* registers() const { return service_->registers(); }
  CheckpointSchedule* checkpoints() const { return checkpoints_.get(); }
  const Clock* clock() const { return clock_.get(); }
  // Non-null when the engine runs on a simulated clock.
  SimulatedClock* simulated_clock() const { return simulated_; }

 private:
  Engine() = default;
  void TimerLoop();
  // One scheduled checkpoint, if due; called by the loop with timer_mutex_ not held.
  void RecordScheduledCheckpoint();

  EngineOptions options_;
  // Declared in dependency order: destroyed service first, store last.
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<Clock> clock_;
  SimulatedClock* simulated_ = nullptr;
  std::unique_ptr<CaseService> service_;
  std::unique_ptr<CheckpointSchedule> checkpoints_;

  // Guarded by timer_mutex_:
  mutable std::mutex timer_mutex_;
  std::condition_variable timer_wake_;
  bool timers_stopping_ = false;
  TimerStats timer_stats_;
  // Only StartTimers and StopTimers touch the thread (under start_mutex_).
  std::mutex start_mutex_;
  std::thread timer_thread_;
};

}  // namespace tongban
