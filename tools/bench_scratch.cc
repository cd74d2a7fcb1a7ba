#include "tools/bench_scratch.h"

#include <stdlib.h>

#include <filesystem>

namespace tongban::cli {

namespace fs = std::filesystem;

Result<std::unique_ptr<ScratchDir>> ScratchDir::Make(const std::string& name) {
  std::string pattern =
      (fs::temp_directory_path() / ("tongban-bench-" + name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::Unavailable("mkdtemp failed");
  return std::unique_ptr<ScratchDir>(new ScratchDir(pattern));
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

Result<std::unique_ptr<ScratchEngine>> ScratchEngine::Open(const std::string& name,
                                                           const std::string& definitions) {
  auto engine = std::make_unique<ScratchEngine>();
  std::string pattern =
      (fs::temp_directory_path() / ("tongban-bench-" + name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::Unavailable("mkdtemp failed");
  engine->dir = pattern;
  EngineOptions options;
  options.store.path = pattern + "/bench.db";
  options.store.synchronous = "OFF";
  options.clock = std::make_unique<SimulatedClock>(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  auto opened = Engine::Open(std::move(options));
  if (!opened.ok()) return opened.status();
  engine->engine = std::move(opened).value();
  engine->store = engine->engine->store();
  engine->registry = engine->engine->registry();
  engine->clock = engine->engine->simulated_clock();
  engine->service = engine->engine->cases();
  auto deployed = engine->engine->DeployDirectory(definitions);
  if (!deployed.ok()) {
    return Status(deployed.status().code(),
                  "deploying " + definitions + ": " + deployed.status().message());
  }
  return engine;
}

ScratchEngine::~ScratchEngine() {
  engine.reset();  // closes the database before its directory goes
  std::error_code ignored;
  if (!dir.empty()) fs::remove_all(dir, ignored);
}

}  // namespace tongban::cli
