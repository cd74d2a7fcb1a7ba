#include "tools/bench_scratch.h"

#include <stdlib.h>

#include <filesystem>

namespace tongban::cli {

namespace fs = std::filesystem;

Result<std::unique_ptr<ScratchEngine>> ScratchEngine::Open(const std::string& name,
                                                           const std::string& definitions) {
  auto engine = std::make_unique<ScratchEngine>();
  std::string pattern =
      (fs::temp_directory_path() / ("tongban-bench-" + name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::Unavailable("mkdtemp failed");
  engine->dir = pattern;
  SqliteStoreOptions options;
  options.path = pattern + "/bench.db";
  options.synchronous = "OFF";
  auto store = SqliteStore::Open(options);
  if (!store.ok()) return store.status();
  engine->store = std::move(store).value();
  engine->registry = std::make_unique<DefinitionRegistry>(engine->store.get());
  engine->clock = std::make_unique<SimulatedClock>(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  auto deployed = engine->registry->DeployDirectory(definitions, engine->clock->Now());
  if (!deployed.ok()) {
    return Status(deployed.status().code(),
                  "deploying " + definitions + ": " + deployed.status().message());
  }
  engine->service = std::make_unique<CaseService>(engine->store.get(), engine->registry.get(),
                                                  engine->clock.get());
  return engine;
}

ScratchEngine::~ScratchEngine() {
  service.reset();
  registry.reset();
  store.reset();
  std::error_code ignored;
  if (!dir.empty()) fs::remove_all(dir, ignored);
}

}  // namespace tongban::cli
