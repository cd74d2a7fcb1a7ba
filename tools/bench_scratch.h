// A throw-away engine for the benchmarks: a fresh directory under the system temp dir holding a
// database (synchronous=OFF: the benchmarks measure CPU, not fsync) with a definitions directory
// deployed, on a simulated clock at Monday 2026-03-02 09:00 (+08:00). Removed, with everything in
// it, when destroyed.
//
// Thread safety: as CaseService.
#pragma once

#include <memory>
#include <string>

#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/sqlite_store.h"

namespace tongban::cli {

// A fresh directory under the system temp dir, named after `name`, removed with everything in it
// when destroyed. Move-only.
class ScratchDir {
 public:
  // kUnavailable when no directory could be made.
  static Result<std::unique_ptr<ScratchDir>> Make(const std::string& name);
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct ScratchEngine {
  // `name` goes into the directory's name; `definitions` is a file or directory to deploy.
  static Result<std::unique_ptr<ScratchEngine>> Open(const std::string& name,
                                                     const std::string& definitions);
  ~ScratchEngine();

  std::string dir;
  // Opened through Engine::Open; the pointers below are the engine's.
  std::unique_ptr<Engine> engine;
  Store* store = nullptr;
  DefinitionRegistry* registry = nullptr;
  SimulatedClock* clock = nullptr;
  CaseService* service = nullptr;
};

}  // namespace tongban::cli
