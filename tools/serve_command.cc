// tongban serve, tongban token
#include <openssl/rand.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "engine/sqlite_store.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/sha256.h"

namespace tongban::cli {

namespace {

constexpr const char* kServeHelp = R"(usage: tongban serve [OPTIONS]

Serves the HTTP API on the definitions in --definitions (deployed into the database at
start: new versions are added, deployed versions are immutable), with SQLite as the store.

Options:
  --db FILE              the SQLite database (created if missing; default tongban.db)
  --definitions DIR      definitions to deploy at start (default definitions)
  --principals FILE      who may call the API (default definitions/principals/demo.json)
  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080; port 0 = any free port)
  --clock simulated:TIME run on a simulated clock starting at TIME (e.g.
                         simulated:2026-03-02T09:00:00+08:00); enables POST /v1/admin/clock
  --synchronous MODE     FULL (default) or NORMAL
  --threads N            HTTP worker threads (default 256)
  --help                 show this help

SIGTERM or SIGINT stops it gracefully: in-flight requests finish and are durable, new
connections are refused. The first line on standard output is "listening on HOST:PORT".
Exit codes: 0 stopped cleanly, 2 wrong usage, 3 could not start.
)";

constexpr const char* kTokenHelp =
    R"(usage: tongban token --id ID --role ROLE [--organ ORGAN] [--name NAME] [--credit-code CODE]

Prints a new random bearer token and the JSON line to add to a principals file (which
stores only the token's SHA-256). Roles: applicant, agent, clerk, reviewer, approver,
verifier, auditor, admin.
)";

Result<std::shared_ptr<const PrincipalSet>> LoadPrincipals(const std::string& path) {
  DefinitionSet set;
  set.AddPath(path, true);
  set.Compile();
  if (set.HasErrors()) {
    std::string message;
    for (const Diagnostic& d : set.Diagnostics())
      message += "\n  " + FormatDiagnostic(d);
    return Status::InvalidArgument("the principals file has errors:" + message);
  }
  auto principals = set.FindPrincipals();
  if (!principals) return Status::InvalidArgument(path + " is not a principals file");
  return principals;
}

}  // namespace

int ServeCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"},
            {"db", "definitions", "principals", "listen", "clock", "synchronous", "threads"});
  if (!args.ok()) return UsageError("serve", args.error());
  if (args.Has("help")) {
    std::cout << kServeHelp;
    return kExitOk;
  }
  std::string listen = args.Get("listen").value_or("127.0.0.1:8080");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return UsageError("serve", "--listen takes HOST:PORT");
  api::ServerOptions server_options;
  server_options.host = listen.substr(0, colon);
  try {
    server_options.port = std::stoi(listen.substr(colon + 1));
    if (auto t = args.Get("threads")) server_options.threads = std::stoi(*t);
  } catch (const std::exception&) {
    return UsageError("serve", "--listen port and --threads must be numbers");
  }
  if (server_options.threads < 4 || server_options.threads > 4096) {
    return UsageError("serve", "--threads must be between 4 and 4096");
  }
  if (server_options.port < 0 || server_options.port > 65535) {
    return UsageError("serve", "--listen port must be between 0 and 65535");
  }
  std::unique_ptr<Clock> clock;
  SimulatedClock* simulated = nullptr;
  if (auto c = args.Get("clock")) {
    if (c->rfind("simulated:", 0) != 0) return UsageError("serve", "--clock takes simulated:TIME");
    auto start = ParseTimestamp(c->substr(10));
    if (!start)
      return UsageError("serve",
                        "--clock simulated:TIME needs a timestamp like 2026-03-02T09:00:00+08:00");
    auto sim = std::make_unique<SimulatedClock>(*start);
    simulated = sim.get();
    clock = std::move(sim);
  } else {
    clock = std::make_unique<SystemClock>();
  }
  // Stop signals are taken by a watcher thread, not by an async handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string principals_path = args.Get("principals").value_or("definitions/principals/demo.json");
  auto principals = LoadPrincipals(principals_path);
  if (!principals.ok()) {
    std::cerr << "tongban serve: " << principals.status().message() << "\n";
    return kExitError;
  }
  SqliteStoreOptions store_options;
  store_options.path = args.Get("db").value_or("tongban.db");
  store_options.synchronous = args.Get("synchronous").value_or("FULL");
  auto store = SqliteStore::Open(store_options);
  if (!store.ok()) {
    std::cerr << "tongban serve: " << store.status().message() << "\n";
    return kExitError;
  }
  DefinitionRegistry registry(store->get());
  if (Status loaded = registry.LoadFromStore(); !loaded.ok()) {
    std::cerr << "tongban serve: " << loaded.message() << "\n";
    return kExitError;
  }
  std::string definitions = args.Get("definitions").value_or("definitions");
  std::vector<Diagnostic> diagnostics;
  auto deployed = registry.DeployDirectory(definitions, clock->Now());
  if (!deployed.ok()) {
    std::cerr << "tongban serve: cannot deploy " << definitions << ": "
              << deployed.status().message() << "\n";
    DefinitionSet check;
    LoadDefinitions(&check, {definitions}, {});
    check.Compile();
    for (const Diagnostic& d : check.Diagnostics())
      std::cerr << "  " << FormatDiagnostic(d) << "\n";
    return kExitError;
  }
  CaseService service(store->get(), &registry, clock.get());
  api::ApiServer server(&service, *principals, simulated, server_options);
  auto port = server.Bind();
  if (!port.ok()) {
    std::cerr << "tongban serve: " << port.status().message() << "\n";
    return kExitError;
  }
  std::cout << "listening on " << server_options.host << ":" << *port << std::endl;
  std::cerr << "tongban serve: database " << store_options.path
            << " (synchronous=" << store_options.synchronous << "), " << registry.Items().size()
            << " item version(s); deployed " << deployed->deployed.size() << " new, "
            << deployed->unchanged.size() << " unchanged\n";
  if ((*principals)->demo) {
    std::cerr << "tongban serve: WARNING: running with the shipped DEMO principals ("
              << principals_path
              << "); their tokens are public. Use your own principals file in production.\n";
  }
  if (simulated != nullptr) {
    std::cerr << "tongban serve: simulated clock at " << FormatTimestamp(simulated->Now())
              << "; POST /v1/admin/clock moves it\n";
  }
  std::thread watcher([&server, signals] {
    int received = 0;
    sigwait(&signals, &received);
    std::cerr << "tongban serve: signal " << received << ", finishing in-flight requests\n";
    server.Stop();
  });
  server.Serve();
  // Wake the watcher if the server stopped for another reason.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::cerr << "tongban serve: stopped\n";
  return kExitOk;
}

int TokenCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"id", "role", "organ", "name", "credit-code"});
  if (!args.ok()) return UsageError("token", args.error());
  if (args.Has("help")) {
    std::cout << kTokenHelp;
    return kExitOk;
  }
  if (!args.Get("id") || !args.Get("role"))
    return UsageError("token", "--id and --role are required");
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::cerr << "tongban token: no randomness available\n";
    return kExitError;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string token = "tb_";
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xF];
  }
  nlohmann::json line = {{"id", *args.Get("id")},
                         {"name", args.Get("name").value_or(*args.Get("id"))},
                         {"roles", {*args.Get("role")}},
                         {"token_sha256", Sha256Hex(token)}};
  if (auto organ = args.Get("organ")) line["organ"] = *organ;
  if (auto code = args.Get("credit-code")) line["credit_code"] = *code;
  std::cout << "token: " << token << "\n"
            << "add to the \"principals\" list of your principals file:\n"
            << line.dump() << "\n";
  return kExitOk;
}

}  // namespace tongban::cli
