// ApiContext: what every route handler works on — the case service, the principals, the metrics,
// the simulated clock and the server options. The handlers of every route group (cases_routes.cc,
// registers_routes.cc, …) take it by const reference; it holds pointers only.
//
// Ownership: nothing is owned; ApiServer owns the context and the metrics, and everything else
// must outlive the server. Thread safety: the context is immutable once the server is built;
// what it points to is thread-safe (CaseService, Metrics, SimulatedClock) or read-only
// (PrincipalSet, ServerOptions).
#pragma once

#include <cstddef>
#include <string>

#include "api/metrics.h"
#include "engine/case_service.h"
#include "engine/checkpoint_schedule.h"
#include "engine/clock.h"
#include "workflows/principals.h"

namespace tongban::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;    // 0: an ephemeral port (see ApiServer::Bind)
  int threads = 256;  // more than the keep-alive connections we expect
  // Accepted connections waiting for a worker at most; past it a connection's requests are
  // answered 503 with Retry-After (server.cc, BoundedPool). 0: unbounded.
  int max_queued_connections = 1024;
  size_t max_body_bytes = 1 << 20;
  int listen_backlog = 4096;
  // Serve the web console's files from this folder instead of those compiled in (development:
  // `tongban serve --console-dir api/console`). Empty: the embedded assets.
  std::string console_dir;
  // The engine's signed checkpoints (not owned; must outlive the server). Null, or one without a
  // key: POST /v1/admin/checkpoints does not exist (404).
  CheckpointSchedule* checkpoints = nullptr;
};

struct ApiContext {
  CaseService* service = nullptr;
  const PrincipalSet* principals = nullptr;
  Metrics* metrics = nullptr;
  // Non-null only when the service runs on a simulated clock (POST /v1/admin/clock exists).
  SimulatedClock* simulated_clock = nullptr;
  const ServerOptions* options = nullptr;
};

}  // namespace tongban::api
