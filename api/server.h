// ApiServer: Tongban's HTTP API (cpp-httplib), JSON in and out, errors as RFC 9457 problems.
//
// Who may do what (bearer tokens, principals file):
// - an applicant sees and acts on its own cases only; another applicant's case is a 404;
// - staff act only on cases of items their organ implements, and only in the roles they hold (the
//   engine checks which role an action or step needs); auditors read everything in their organ's
//   scope and change nothing; admins deploy definitions; organ "*" is every organ;
// - tokens are compared by their SHA-256 in constant time and never logged.
//
// Thread safety: one ApiServer serves many requests concurrently (a thread per keep-alive
// connection, from a pool); all state it touches is thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/metrics.h"
#include "engine/case_service.h"
#include "workflows/principals.h"

namespace tongban::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;    // 0: an ephemeral port (see Bind)
  int threads = 256;  // more than the keep-alive connections we expect
  size_t max_body_bytes = 1 << 20;
  int listen_backlog = 4096;
  int timer_interval_ms = 1000;  // how often due timers are fired (real clock)
};

class ApiServer {
 public:
  // `simulated_clock` is non-null when the service runs on a simulated clock; only then does
  // POST /v1/admin/clock exist. None of the pointers is owned; all must outlive the server.
  ApiServer(CaseService* service, std::shared_ptr<const PrincipalSet> principals,
            SimulatedClock* simulated_clock, ServerOptions options);
  ~ApiServer();

  // Binds the listening socket; returns the port (the ephemeral one when options.port is 0).
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
  class Handlers;
  class TunedServer;

  CaseService* service_;
  std::shared_ptr<const PrincipalSet> principals_;
  SimulatedClock* simulated_clock_;
  ServerOptions options_;
  std::unique_ptr<TunedServer> http_;
  std::unique_ptr<Handlers> handlers_;
  std::vector<std::string> routes_;
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::thread timer_thread_;
};

// The OpenAPI 3.1 document (api/openapi.json, compiled in).
const std::string& OpenApiDocument();

}  // namespace tongban::api
