// tongban serve, tongban token
#include <openssl/rand.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/schema_reader.h"
#include "workflows/sha256.h"

namespace tongban::cli {

namespace {

// "30s", "45m", "24h", "1d": a positive whole number and a unit.
std::optional<std::chrono::seconds> ParseInterval(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  const char unit = text.back();
  const std::string digits = text.substr(0, text.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6)
    return std::nullopt;
  const int64_t n = std::stoll(digits);
  const int64_t scale = unit == 's'   ? 1
                        : unit == 'm' ? 60
                        : unit == 'h' ? 3600
                        : unit == 'd' ? 86400
                                      : 0;
  if (n <= 0 || scale == 0) return std::nullopt;
  return std::chrono::seconds(n * scale);
}

constexpr const char* kServeHelp = R"(usage: tongban serve [OPTIONS]

Serves the HTTP API on the definitions in --definitions (deployed into the database at
start: new versions are added, deployed versions are immutable), with SQLite (the default)
or PostgreSQL as the store.

Options:
  --db FILE|URI          the SQLite database (created if missing; default tongban.db), or a
                         PostgreSQL connection URI (postgresql://USER@HOST/DB?…; its schema is
                         created or migrated at start)
  --definitions DIR      definitions to deploy at start (default definitions)
  --principals FILE      who may call the API (default definitions/principals/demo.json);
                         every role a principal holds must be built in or declared by a
                         deployed item, or the server refuses to start
  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080; port 0 = any free port)
  --clock simulated:TIME run on a simulated clock starting at TIME (e.g.
                         simulated:2026-03-02T09:00:00+08:00); enables POST /v1/admin/clock
  --synchronous MODE     FULL (default) or NORMAL (SQLite; PostgreSQL always commits with
                         synchronous_commit=on)
  --threads N            HTTP worker threads (default 256)
  --max-queued N         accepted connections waiting for a worker at most (default 1024;
                         0 unbounded); past it requests are answered 503 with Retry-After
  --max-write-queue N    writes waiting for the store's writer at most (default 4096; 0
                         unbounded); past it the write is answered 503 with Retry-After
  --max-document-mib N   the largest document an upload may be, in MiB (default 20; 1..1024);
                         documents are PDF, OFD, JPEG or PNG (engine/documents.h)
  --console-dir DIR      serve the web console's files from DIR (e.g. api/console) instead
                         of those built in: edit a page and reload, without rebuilding
  --checkpoint-key FILE  the operator's Ed25519 private key (tongban keygen): an admin may
                         then record a signed checkpoint with POST /v1/admin/checkpoints
                         (the route exists only with a key)
  --checkpoint-every D   also record one every D (e.g. 24h, 30m, 1d) when the newest in the
                         ledger, by any node, is older; needs --checkpoint-key and
                         --witness-dir
  --witness-dir DIR      write each checkpoint's witness there, as checkpoint-SEQ.jsonl
  --help                 show this help

The web console is at http://HOST:PORT/ (public tracking at /track/NUMBER?code=CODE).
SIGTERM or SIGINT stops it gracefully: in-flight requests finish and are durable, new
connections are refused. The first line on standard output is "listening on HOST:PORT".
A database file that cannot be opened for writing (a missing directory, a read-only file or
file system), a PostgreSQL connection string libpq cannot parse or a server that cannot be
reached is refused at start with the reason on one line of standard error, exit code 3.
While serving, a failing disk (an I/O error, a full disk) or a PostgreSQL server that has
gone away (restarting, unreachable) refuses the request with 503 and Retry-After; nothing of
it is stored, and the same request succeeds once the fault clears, without a restart. Several
nodes may serve one PostgreSQL database: each fires the due timers it claims there.
Exit codes: 0 stopped cleanly, 2 wrong usage, 3 could not start.
)";

constexpr const char* kTokenHelp =
    R"(usage: tongban token --id ID --role ROLE [--organ ORGAN] [--name NAME] [--credit-code CODE]
                     [--definitions DIR]

Prints a new random bearer token and the JSON line to add to a principals file (which
stores only the token's SHA-256). Roles: applicant, agent, clerk, reviewer, approver,
verifier, auditor, admin, and any role an item declares in its "roles" (an inspector,
a fire reviewer): `tongban serve` refuses a principal whose role nothing deployed
declares, and so does this command, against the items in --definitions (default
definitions, when that folder exists).
The line printed is checked by the rules a principals file is read by: an id's form, a
credit code for an applicant, an organ for staff. A line that file would refuse is not
printed.
Exit codes: 0 printed, 2 wrong usage (an unknown role, a line the file would refuse).
)";

// Compiles the principals file; every role must be built in or one of `declared_roles`.
Result<std::shared_ptr<const PrincipalSet>> LoadPrincipals(
    const std::string& path, const std::vector<std::string>& declared_roles) {
  DefinitionSet set;
  set.AddPath(path, true);
  set.DeclareRoles(declared_roles);
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
            {"db", "definitions", "principals", "listen", "clock", "synchronous", "threads",
             "max-queued", "max-write-queue", "console-dir", "checkpoint-key", "checkpoint-every",
             "witness-dir", "max-document-mib"});
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
  int max_write_queue = SqliteStoreOptions{}.max_queue;
  int max_document_mib = 20;
  try {
    if (auto m = args.Get("max-document-mib")) max_document_mib = std::stoi(*m);
    server_options.port = std::stoi(listen.substr(colon + 1));
    if (auto t = args.Get("threads")) server_options.threads = std::stoi(*t);
    if (auto q = args.Get("max-queued")) server_options.max_queued_connections = std::stoi(*q);
    if (auto q = args.Get("max-write-queue")) max_write_queue = std::stoi(*q);
  } catch (const std::exception&) {
    return UsageError(
        "serve", "--listen port, --threads, --max-queued and --max-write-queue must be numbers");
  }
  if (server_options.max_queued_connections < 0 || max_write_queue < 0) {
    return UsageError("serve", "--max-queued and --max-write-queue must be 0 or more");
  }
  // OFF is for throwaway databases (scenarios, benchmarks): a bureau's server that lost its last
  // commits to a power cut would have told applicants their cases were filed.
  if (auto sync = args.Get("synchronous"); sync && *sync != "FULL" && *sync != "NORMAL") {
    return UsageError("serve", "--synchronous must be FULL or NORMAL, not \"" + *sync + "\"");
  }
  if (max_document_mib < 1 || max_document_mib > 1024) {
    return UsageError("serve", "--max-document-mib must be between 1 and 1024");
  }
  if (server_options.threads < 4 || server_options.threads > 4096) {
    return UsageError("serve", "--threads must be between 4 and 4096");
  }
  if (server_options.port < 0 || server_options.port > 65535) {
    return UsageError("serve", "--listen port must be between 0 and 65535");
  }
  if (auto dir = args.Get("console-dir")) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(std::filesystem::path(*dir) / "index.html", error)) {
      return UsageError("serve", "--console-dir " + *dir + " has no index.html");
    }
    server_options.console_dir = *dir;
  }
  EngineOptions engine_options;
  if (args.Get("checkpoint-every") && (!args.Get("checkpoint-key") || !args.Get("witness-dir")))
    return UsageError("serve", "--checkpoint-every needs --checkpoint-key and --witness-dir");
  if (auto every = args.Get("checkpoint-every")) {
    auto interval = ParseInterval(*every);
    if (!interval)
      return UsageError("serve", "--checkpoint-every takes a duration like 24h, 30m or 1d");
    engine_options.checkpoints.interval = *interval;
  }
  if (auto key_path = args.Get("checkpoint-key")) {
    auto key = SigningKey::Load(*key_path);
    if (!key.ok()) {
      std::cerr << "tongban serve: " << key.status().message() << "\n";
      return kExitError;
    }
    engine_options.checkpoints.key = *key;
  }
  engine_options.checkpoints.witness_dir = args.Get("witness-dir").value_or("");
  engine_options.cases.documents.max_bytes = int64_t{max_document_mib} * 1024 * 1024;
  if (auto c = args.Get("clock")) {
    if (c->rfind("simulated:", 0) != 0) return UsageError("serve", "--clock takes simulated:TIME");
    auto start = ParseTimestamp(c->substr(10));
    if (!start)
      return UsageError("serve",
                        "--clock simulated:TIME needs a timestamp like 2026-03-02T09:00:00+08:00");
    engine_options.clock = std::make_unique<SimulatedClock>(*start);
  }
  // Stop signals are taken by a watcher thread, not by an async handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string db = args.Get("db").value_or("tongban.db");
  SelectDatabase(db, /*read_only=*/false, max_write_queue, &engine_options);
  engine_options.store.synchronous = args.Get("synchronous").value_or("FULL");
  // For the start-up line; never the connection string, which may hold a password.
  const std::string database = IsPostgresConnectionString(db)
                                   ? "PostgreSQL (synchronous_commit=on)"
                                   : db + " (synchronous=" + engine_options.store.synchronous + ")";
  auto opened = Engine::Open(std::move(engine_options));
  if (!opened.ok()) {
    std::cerr << "tongban serve: " << opened.status().message() << "\n";
    return kExitError;
  }
  Engine& engine = **opened;
  DefinitionRegistry& registry = *engine.registry();
  SimulatedClock* simulated = engine.simulated_clock();
  std::string definitions = args.Get("definitions").value_or("definitions");
  std::vector<Diagnostic> diagnostics;
  auto deployed = engine.DeployDirectory(definitions);
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
  // Checked against what is deployed (this directory and anything deployed before), so a role
  // that only an item of the store declares is still accepted.
  std::string principals_path = args.Get("principals").value_or("definitions/principals/demo.json");
  auto principals = LoadPrincipals(principals_path, KnownPrincipalRoles(registry.Items()));
  if (!principals.ok()) {
    std::cerr << "tongban serve: " << principals.status().message() << "\n";
    return kExitError;
  }
  server_options.checkpoints = engine.checkpoints();
  api::ApiServer server(engine.cases(), *principals, simulated, server_options);
  auto port = server.Bind();
  if (!port.ok()) {
    std::cerr << "tongban serve: " << port.status().message() << "\n";
    return kExitError;
  }
  std::cout << "listening on " << server_options.host << ":" << *port << std::endl;
  std::cerr << "tongban serve: database " << database << ", " << registry.Items().size()
            << " item version(s); deployed " << deployed->deployed.size() << " new, "
            << deployed->unchanged.size() << " unchanged\n";
  // Only the versions new cases run on: a case of an older version keeps its own rules.
  std::vector<std::shared_ptr<const Item>> latest;
  for (const auto& item : registry.Items()) {
    if (registry.FindItem(item->id) == item) latest.push_back(item);
  }
  for (const std::string& party : UnsignableJointParties(**principals, latest)) {
    std::cerr << "tongban serve: WARNING: " << party << "\n";
  }
  if ((*principals)->demo) {
    std::cerr << "tongban serve: WARNING: running with the shipped DEMO principals ("
              << principals_path
              << "); their tokens are public. Use your own principals file in production.\n";
  }
  if (simulated != nullptr) {
    std::cerr << "tongban serve: simulated clock at " << FormatTimestamp(simulated->Now())
              << "; POST /v1/admin/clock moves it\n";
  }
  // Deadlines act on their own (deemed acceptance, overdue marks) while the server runs.
  engine.StartTimers();
  std::thread watcher([&server, signals] {
    int received = 0;
    sigwait(&signals, &received);
    std::cerr << "tongban serve: signal " << received << ", finishing in-flight requests\n";
    server.Stop();
  });
  server.Serve();
  engine.StopTimers();
  // Wake the watcher if the server stopped for another reason.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::cerr << "tongban serve: stopped\n";
  return kExitOk;
}

namespace {

// The option each member of a principal's line comes from.
std::string OptionOf(const std::string& member) {
  if (member == "credit_code") return "--credit-code";
  if (member == "roles") return "--role";
  if (member == "token_sha256") return "the token";
  return "--" + member;
}

// Why a principals file holding only `line` would not load ("" when it would): the errors of the
// principals compiler, each named by the option it came from. Roles are checked before, against
// the deployed items, so a role's error is not repeated here.
std::string PrincipalLineProblem(const nlohmann::json& line) {
  nlohmann::json file = {{"kind", "principals"}, {"id", "token"}, {"principals", {line}}};
  DefinitionSet set;
  set.AddText("token", file.dump(), true);
  set.Compile();
  std::string problems;
  const std::string prefix = "/principals/0/";
  for (const Diagnostic& d : set.Diagnostics()) {
    if (d.severity != Severity::kError) continue;
    std::string member = d.pointer.rfind(prefix, 0) == 0 ? d.pointer.substr(prefix.size()) : "";
    member = member.substr(0, member.find('/'));
    if (member == "roles") continue;
    problems += (problems.empty() ? "" : "; ") +
                (member.empty() ? d.message : OptionOf(member) + ": " + d.message);
  }
  return problems;
}

}  // namespace

int TokenCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"},
            {"id", "role", "organ", "name", "credit-code", "definitions"});
  if (!args.ok()) return UsageError("token", args.error());
  if (args.Has("help")) {
    std::cout << kTokenHelp;
    return kExitOk;
  }
  if (!args.Get("id") || !args.Get("role"))
    return UsageError("token", "--id and --role are required");
  const std::string role = *args.Get("role");
  if (!IsSlug(role)) {
    return UsageError("token",
                      "--role takes a role id: lower-case letters, digits, '-' and '_', starting "
                      "with a letter");
  }
  // The same rule as `tongban serve`: built in, or declared by an item of the definitions.
  std::string definitions = args.Get("definitions").value_or("definitions");
  std::error_code error;
  const bool with_definitions = std::filesystem::is_directory(definitions, error);
  if (args.Get("definitions") && !with_definitions) {
    return UsageError("token", "--definitions " + definitions + " is not a folder");
  }
  if (with_definitions) {
    DefinitionSet set;
    LoadDefinitions(&set, {definitions}, {});
    set.Compile();
    std::vector<std::string> known = KnownPrincipalRoles(set.Items());
    if (std::find(known.begin(), known.end(), role) == known.end()) {
      std::string message = "unknown role \"" + role +
                            "\": neither built in nor declared by an item in " + definitions;
      std::string suggestion = ClosestMatch(role, known);
      if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
      return UsageError("token", message);
    }
  }
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
                         {"roles", {role}},
                         {"token_sha256", Sha256Hex(token)}};
  if (auto organ = args.Get("organ")) line["organ"] = *organ;
  if (auto code = args.Get("credit-code")) line["credit_code"] = *code;
  std::string principal;
  try {
    principal = line.dump();
  } catch (const nlohmann::json::type_error&) {
    // A principals file is JSON, which is UTF-8: a name in another encoding would not load.
    return UsageError("token", "--id, --name, --organ and --credit-code must be UTF-8 text");
  }
  // The line must load where it is pasted: checked by the rules a principals file is read by (an
  // id's form, an applicant's credit code, staff's organ), whatever else the file holds.
  if (std::string refused = PrincipalLineProblem(line); !refused.empty()) {
    return UsageError("token", refused);
  }
  std::cout << "token: " << token << "\n"
            << "add to the \"principals\" list of your principals file:\n"
            << principal << "\n";
  return kExitOk;
}

}  // namespace tongban::cli
