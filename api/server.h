// ApiServer: Tongban's HTTP API (cpp-httplib), JSON in and out, errors as RFC 9457 problems.
//
// This class is the listening server only: it builds the shared context (context.h), registers
// the route table (routes.h) on a tuned httplib server and binds, serves and stops it. The
// handlers are in a file per route group (handlers.h); who may see or do what is decided by the
// engine (engine/permissions.h), and the handlers translate its refusals into 404 or 403.
//
// The server fires no timers on its own: on a real clock the engine's timer loop does, started by
// `tongban serve`; on a simulated clock POST /v1/admin/clock fires those due after moving it.
//
// Thread safety: one ApiServer serves many requests concurrently (a thread per keep-alive
// connection, from a pool); all state it touches is thread-safe. Stop() may be called from any
// thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/context.h"
#include "api/metrics.h"
#include "engine/case_service.h"
#include "workflows/principals.h"

namespace tongban::api {

class ApiServer {
 public:
  // `simulated_clock` is non-null when the service runs on a simulated clock; only then does
  // POST /v1/admin/clock exist. `service` and `simulated_clock` are not owned and must outlive the
  // server; the principals are shared.
  ApiServer(CaseService* service, std::shared_ptr<const PrincipalSet> principals,
            SimulatedClock* simulated_clock, ServerOptions options);
  ~ApiServer();

  // Binds the listening socket; returns the port (the ephemeral one when options.port is 0).
  // kUnavailable when the address cannot be bound.
  Result<int> Bind();
  // Serves until Stop(); returns after every in-flight request has finished.
  void Serve();
  // Stops accepting connections; in-flight requests complete. Safe from any thread or a signal
  // watcher; idempotent.
  void Stop();

  // "GET /v1/cases/{id}" for every route registered, for the OpenAPI cross-check.
  const std::vector<std::string>& routes() const { return routes_; }
  Metrics& metrics() { return metrics_; }

 private:
  class TunedServer;

  std::shared_ptr<const PrincipalSet> principals_;
  ServerOptions options_;
  Metrics metrics_;
  ApiContext context_;  // points at the members above; declared after them
  std::unique_ptr<TunedServer> http_;
  std::vector<std::string> routes_;
  std::atomic<bool> stopping_{false};
};

// The OpenAPI 3.1 document (api/openapi.json, compiled in).
const std::string& OpenApiDocument();

}  // namespace tongban::api
