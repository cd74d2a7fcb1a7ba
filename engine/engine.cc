#include "engine/engine.h"

#include <chrono>
#include <iostream>

namespace tongban {

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  std::unique_ptr<Engine> engine(new Engine());
  if (!options.postgres.conninfo.empty()) {
    auto store = PostgresStore::Open(options.postgres);
    if (!store.ok()) return store.status();
    engine->store_ = std::move(store).value();
  } else {
    auto store = SqliteStore::Open(options.store);
    if (!store.ok()) return store.status();
    engine->store_ = std::move(store).value();
  }
  engine->registry_ = std::make_unique<DefinitionRegistry>(engine->store_.get());
  TONGBAN_RETURN_IF_ERROR(engine->registry_->LoadFromStore());
  engine->clock_ = options.clock ? std::move(options.clock) : std::make_unique<SystemClock>();
  engine->simulated_ = dynamic_cast<SimulatedClock*>(engine->clock_.get());
  engine->service_ = std::make_unique<CaseService>(engine->store_.get(), engine->registry_.get(),
                                                   engine->clock_.get(), options.cases);
  engine->checkpoints_ =
      std::make_unique<CheckpointSchedule>(engine->store_.get(), options.checkpoints);
  if (!options.log) {
    options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  }
  engine->options_ = std::move(options);
  return engine;
}

void SelectDatabase(const std::string& db, bool read_only, int max_queue, EngineOptions* options) {
  if (IsPostgresConnectionString(db)) {
    options->postgres.conninfo = db;
  } else {
    options->store.path = db;
  }
  options->postgres.read_only = options->store.read_only = read_only;
  options->postgres.max_queue = options->store.max_queue = max_queue;
}

Engine::~Engine() {
  StopTimers();
}

Result<DeployOutcome> Engine::DeployDirectory(const std::string& path) {
  return registry_->DeployDirectory(path, clock_->Now());
}

void Engine::StartTimers() {
  std::lock_guard<std::mutex> start(start_mutex_);
  if (timer_thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    timers_stopping_ = false;
  }
  timer_thread_ = std::thread([this] { TimerLoop(); });
}

void Engine::StopTimers() {
  std::lock_guard<std::mutex> start(start_mutex_);
  if (!timer_thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    timers_stopping_ = true;
  }
  timer_wake_.notify_all();
  timer_thread_.join();
}

TimerStats Engine::timer_stats() const {
  std::lock_guard<std::mutex> lock(timer_mutex_);
  return timer_stats_;
}

void Engine::TimerLoop() {
  const auto interval = std::chrono::milliseconds(options_.timer_interval_ms);
  std::unique_lock<std::mutex> lock(timer_mutex_);
  while (!timers_stopping_) {
    lock.unlock();
    Result<int> fired = service_->FireDueTimers();
    lock.lock();
    ++timer_stats_.runs;
    if (fired.ok()) {
      timer_stats_.fired += *fired;
    } else {
      // A deadline that did not act is an incident for the operator, never silently dropped; the
      // next run tries again.
      ++timer_stats_.errors;
      timer_stats_.last_error = fired.status().ToString();
      const std::string line = "tongban: timers: run " + std::to_string(timer_stats_.runs) +
                               " failed (" + std::to_string(timer_stats_.errors) +
                               " so far): " + timer_stats_.last_error;
      lock.unlock();
      options_.log(line);
      lock.lock();
    }
    lock.unlock();
    RecordScheduledCheckpoint();
    lock.lock();
    timer_wake_.wait_for(lock, interval, [this] { return timers_stopping_; });
  }
}

void Engine::RecordScheduledCheckpoint() {
  auto recorded = checkpoints_->RecordIfDue(clock_->Now());
  std::string line;
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    if (!recorded.ok()) {
      ++timer_stats_.checkpoint_errors;
      line = "tongban: checkpoint failed (" + std::to_string(timer_stats_.checkpoint_errors) +
             " so far): " + recorded.status().ToString();
    } else if (recorded->has_value()) {
      const auto& r = **recorded;
      ++timer_stats_.checkpoints;
      line = "tongban: checkpoint recorded as ledger entry " +
             std::to_string(r.checkpoint.entry_seq) + " over " +
             std::to_string(r.checkpoint.cases) + " case(s)";
      if (!r.witness_written.ok()) {
        ++timer_stats_.checkpoint_errors;
        line += ", but " + r.witness_written.ToString();
      } else if (!r.witness_path.empty()) {
        line += "; witness " + r.witness_path;
      }
    }
  }
  if (!line.empty()) options_.log(line);
}

}  // namespace tongban
