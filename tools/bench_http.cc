// tongban bench http: durable transitions per second over HTTP, against the server's own trivial
// endpoint (/healthz) as the ceiling, measured in the same run with the same clients; with
// --postgres, the same on one node and on --nodes nodes over PostgreSQL, each against the SQLite
// node of the same round.
#include <httplib.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <ctime>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "engine/engine.h"
#include "tools/bench_postgres.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/sha256.h"

namespace tongban::cli {

namespace {

struct Sample {
  std::vector<double> latencies_ms;
  int64_t ok = 0;
  int64_t failed = 0;
  double client_cpu_seconds = 0;               // what the client threads themselves used
  double server_cpu_seconds = 0;               // the process's CPU in the phase less the clients'
  std::optional<double> database_cpu_seconds;  // PostgreSQL's processes in the phase
};

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t index = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(index), v.end());
  return v[index];
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// One way of serving: a store and a number of nodes on it.
struct Configuration {
  std::string name;  // "sqlite-1", "postgresql-1", "postgresql-2"
  bool postgres = false;
  int nodes = 1;
};

// What one configuration measured in one round.
struct Figures {
  Configuration configuration;
  double healthz_per_second = 0;
  double healthz_p50_ms = 0;
  double healthz_p99_ms = 0;
  double node_cpu_us_per_healthz = 0;
  double transitions_per_second = 0;
  double transition_p50_ms = 0;
  double transition_p99_ms = 0;
  double node_cpu_us_per_transition = 0;  // every node's threads, less the clients'
  std::optional<double> database_cpu_us_per_transition;
  double client_cpu_us_per_transition = 0;
  int64_t failed_requests = 0;
  double mean_commit_batch = 0;
  int64_t max_commit_batch = 0;
  int server_threads = 0;  // per node
};

struct Settings {
  int connections = 64;
  double seconds = 5;
  std::string definitions;
  std::string application;
  std::string synchronous;
  std::optional<int> threads;
  std::string postgres;  // the user's connection string; "" without --postgres
};

// A node's clock: it starts on a working Monday morning, so that deadlines and lights come out the
// same whenever the benchmark runs, and then runs as a production server's clock does. A clock
// that stood still would stamp every event with one instant, which no deployment sees: the
// indexes that lead with a time would then take each new entry at a random place, not at the end.
class RunningClock final : public Clock {
 public:
  explicit RunningClock(Instant start) : start_(start), origin_(std::chrono::steady_clock::now()) {}
  Instant Now() const override {
    return start_ + std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - origin_);
  }

 private:
  const Instant start_;
  const std::chrono::steady_clock::time_point origin_;
};

// The nodes of one configuration: each its own Engine (store, connection pool or SQLite
// connections, case cache, registers) and its own ApiServer on its own loopback port, as separate
// processes would have; they share only the database. Stopped and closed when destroyed, the
// scratch database last.
class Nodes {
 public:
  static Result<std::unique_ptr<Nodes>> Start(const Settings& settings,
                                              const Configuration& configuration,
                                              int threads_per_node) {
    std::unique_ptr<Nodes> nodes(new Nodes);
    std::string database;
    if (configuration.postgres) {
      auto schema = ScratchSchema::Make(settings.postgres, "http");
      if (!schema.ok()) return schema.status();
      nodes->schema_ = std::move(schema).value();
      database = nodes->schema_->conninfo();
    } else {
      auto dir = ScratchDir::Make("http");
      if (!dir.ok()) return dir.status();
      nodes->dir_ = std::move(dir).value();
      database = nodes->dir_->path() + "/bench.db";
    }
    for (int n = 0; n < configuration.nodes; ++n) {
      EngineOptions engine_options;
      SelectDatabase(database, /*read_only=*/false, engine_options.store.max_queue,
                     &engine_options);
      engine_options.store.synchronous = settings.synchronous;
      engine_options.clock =
          std::make_unique<RunningClock>(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
      auto opened = Engine::Open(std::move(engine_options));
      if (!opened.ok()) return opened.status();
      Engine& engine = **opened;
      nodes->engines_.push_back(std::move(opened).value());
      // Deploying what is deployed already is a no-op: every node does it, as `serve` does.
      auto deployed = engine.DeployDirectory(settings.definitions);
      if (!deployed.ok()) return deployed.status();
      api::ServerOptions options;
      options.port = 0;
      options.threads = threads_per_node;
      nodes->servers_.push_back(std::make_unique<api::ApiServer>(
          engine.cases(), BenchPrincipals(), engine.simulated_clock(), options));
      auto port = nodes->servers_.back()->Bind();
      if (!port.ok()) return port.status();
      nodes->ports_.push_back(*port);
      api::ApiServer* server = nodes->servers_.back().get();
      nodes->serving_.emplace_back([server] { server->Serve(); });
    }
    return nodes;
  }

  ~Nodes() {
    for (auto& server : servers_)
      server->Stop();
    for (auto& thread : serving_)
      thread.join();
    servers_.clear();
    engines_.clear();  // closes every store before its schema or directory goes
  }

  const std::vector<int>& ports() const { return ports_; }

  // The commit batches of every node's store, summed.
  StoreStats Stats() const {
    StoreStats total;
    for (const auto& engine : engines_) {
      StoreStats s = engine->store()->Stats();
      total.commits += s.commits;
      total.writes += s.writes;
      total.max_batch = std::max(total.max_batch, s.max_batch);
    }
    return total;
  }

 private:
  Nodes() = default;

  // The four bench principals (applicant, clerk, reviewer, approver of the zone's bureau), with
  // tokens "bench-ID". Each node reads its own copy, as from its own principals file.
  static std::shared_ptr<const PrincipalSet> BenchPrincipals() {
    auto principals = std::make_shared<PrincipalSet>();
    for (const char* role : {"applicant", "clerk", "reviewer", "approver"}) {
      Principal p;
      p.id = role;
      p.name = role;
      p.roles = {role};
      p.organ = p.id == "applicant" ? "" : "dz-approval-bureau";
      p.credit_code = p.id == "applicant" ? "91330100MA2TB00014" : "";
      p.token_sha256 = Sha256Hex("bench-" + p.id);
      principals->principals.push_back(p);
    }
    return principals;
  }

  std::unique_ptr<ScratchDir> dir_;
  std::unique_ptr<ScratchSchema> schema_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::vector<std::unique_ptr<api::ApiServer>> servers_;
  std::vector<std::thread> serving_;
  std::vector<int> ports_;
};

// `connections` clients, connection c on ports[c % ports.size()] (a load balancer that keeps a
// keep-alive connection on one node), each running `body` until `seconds` have passed.
template <typename Body>
std::pair<Sample, double> RunPhase(const Settings& settings, const std::vector<int>& ports,
                                   const PostgresServerCpu* database, Body body) {
  std::vector<Sample> samples(settings.connections);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < settings.connections; ++c) {
    threads.emplace_back([&, c] {
      // Named so that a profile can tell the clients from the server (perf report --comm).
      pthread_setname_np(pthread_self(), "bench-client");
      const double cpu_start = ThreadCpuSeconds();
      httplib::Client client("127.0.0.1", ports[static_cast<size_t>(c) % ports.size()]);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(10, 0);
      while (!stop.load())
        body(client, samples[c]);
      client.stop();
      samples[c].client_cpu_seconds = ThreadCpuSeconds() - cpu_start;
    });
  }
  Progress progress("bench http");
  const double process_cpu_start = ProcessCpuSeconds();
  const std::optional<double> database_start =
      database != nullptr ? database->Seconds() : std::nullopt;
  auto start = std::chrono::steady_clock::now();
  const int ticks = std::max(1, static_cast<int>(settings.seconds * 10));
  for (int tick = 0; tick < ticks; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    progress.Update(tick + 1, ticks);
  }
  stop = true;
  for (auto& t : threads)
    t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double process_cpu = ProcessCpuSeconds() - process_cpu_start;
  const std::optional<double> database_end =
      database != nullptr ? database->Seconds() : std::nullopt;
  progress.Done();
  Sample all;
  for (auto& s : samples) {
    all.ok += s.ok;
    all.failed += s.failed;
    all.client_cpu_seconds += s.client_cpu_seconds;
    all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
  }
  all.server_cpu_seconds = process_cpu - all.client_cpu_seconds;
  if (database_start && database_end) all.database_cpu_seconds = *database_end - *database_start;
  return {std::move(all), elapsed};
}

std::optional<std::string> Timed(httplib::Client& client, Sample& s,
                                 const std::function<httplib::Result(httplib::Client&)>& request) {
  auto t0 = std::chrono::steady_clock::now();
  auto res = request(client);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (res && res->status / 100 == 2) {
    ++s.ok;
    s.latencies_ms.push_back(ms);
    return res->body;
  }
  ++s.failed;
  return std::nullopt;
}

Result<Figures> Measure(const Settings& settings, const Configuration& configuration,
                        const PostgresServerCpu* database) {
  // A keep-alive connection holds a pool thread for its life: at least one per connection.
  const int per_node = (settings.connections + configuration.nodes - 1) / configuration.nodes;
  const int threads = settings.threads.value_or(per_node * 2 + 8);
  auto started = Nodes::Start(settings, configuration, threads);
  if (!started.ok()) {
    return Status(started.status().code(), configuration.name + ": " + started.status().message());
  }
  Nodes& nodes = **started;
  const PostgresServerCpu* database_cpu = configuration.postgres ? database : nullptr;

  auto [ceiling, ceiling_seconds] =
      RunPhase(settings, nodes.ports(), database_cpu, [&](httplib::Client& client, Sample& s) {
        Timed(client, s, [](httplib::Client& c) { return c.Get("/healthz"); });
      });

  const httplib::Headers applicant = {{"Authorization", "Bearer bench-applicant"}};
  const httplib::Headers clerk = {{"Authorization", "Bearer bench-clerk"}};
  const httplib::Headers reviewer = {{"Authorization", "Bearer bench-reviewer"}};
  const httplib::Headers approver = {{"Authorization", "Bearer bench-approver"}};
  auto [transitions, transition_seconds] =
      RunPhase(settings, nodes.ports(), database_cpu, [&](httplib::Client& client, Sample& s) {
        auto created = Timed(client, s, [&](httplib::Client& c) {
          return c.Post("/v1/cases", applicant, settings.application, "application/json");
        });
        if (!created) return;
        std::string id = nlohmann::json::parse(*created)["id"].get<std::string>();
        std::string path = "/v1/cases/" + id + "/actions";
        const std::pair<const httplib::Headers*, const char*> steps[] = {
            {&clerk, R"({"action":"accept"})"},
            {&reviewer, R"({"action":"pass"})"},
            {&approver, R"({"action":"approve"})"},
            {&clerk, R"({"action":"deliver"})"}};
        for (const auto& step : steps) {
          if (!Timed(client, s, [&](httplib::Client& c) {
                return c.Post(path.c_str(), *step.first, step.second, "application/json");
              })) {
            return;
          }
        }
      });

  const StoreStats stats = nodes.Stats();
  auto per_request_us = [](double cpu_seconds, int64_t requests) {
    return requests > 0 ? cpu_seconds * 1e6 / static_cast<double>(requests) : 0.0;
  };
  Figures f;
  f.configuration = configuration;
  f.healthz_per_second = static_cast<double>(ceiling.ok) / ceiling_seconds;
  f.healthz_p50_ms = Percentile(ceiling.latencies_ms, 0.5);
  f.healthz_p99_ms = Percentile(ceiling.latencies_ms, 0.99);
  f.node_cpu_us_per_healthz = per_request_us(ceiling.server_cpu_seconds, ceiling.ok);
  f.transitions_per_second = static_cast<double>(transitions.ok) / transition_seconds;
  f.transition_p50_ms = Percentile(transitions.latencies_ms, 0.5);
  f.transition_p99_ms = Percentile(transitions.latencies_ms, 0.99);
  f.node_cpu_us_per_transition = per_request_us(transitions.server_cpu_seconds, transitions.ok);
  if (transitions.database_cpu_seconds) {
    f.database_cpu_us_per_transition =
        per_request_us(*transitions.database_cpu_seconds, transitions.ok);
  }
  f.client_cpu_us_per_transition = per_request_us(transitions.client_cpu_seconds, transitions.ok);
  f.failed_requests = transitions.failed + ceiling.failed;
  f.mean_commit_batch = stats.commits > 0
                            ? static_cast<double>(stats.writes) / static_cast<double>(stats.commits)
                            : 0;
  f.max_commit_batch = stats.max_batch;
  f.server_threads = threads;
  return f;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::optional<int> PositiveNumber(const std::optional<std::string>& text, int fallback, int most) {
  if (!text) return fallback;
  char* end = nullptr;
  long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || value < 1 || value > most) return std::nullopt;
  return static_cast<int>(value);
}

// The ratio of a configuration's transitions/s to the SQLite node's of the same round.
double RatioToSqlite(const std::vector<Figures>& round, const Figures& f) {
  const double sqlite = round.front().transitions_per_second;
  return sqlite > 0 ? f.transitions_per_second / sqlite : 0;
}

constexpr double kPostgresGoal = 0.5;  // one node on PostgreSQL against one on SQLite (issue 12)

}  // namespace

int BenchHttp(const Args& args) {
  Settings settings;
  const auto connections = PositiveNumber(args.Get("connections"), 64, 4096);
  const auto rounds = PositiveNumber(args.Get("rounds"), 1, 100);
  const auto nodes = PositiveNumber(args.Get("nodes"), 2, 16);
  std::optional<int> threads;
  if (args.Has("threads")) threads = PositiveNumber(args.Get("threads"), 1, 100000);
  char* end = nullptr;
  const std::string seconds_text = args.Get("seconds").value_or("5");
  settings.seconds = std::strtod(seconds_text.c_str(), &end);
  if (!connections || !rounds || !nodes || (args.Has("threads") && !threads)) {
    return UsageError("bench",
                      "--connections, --rounds, --nodes and --threads take a positive "
                      "whole number");
  }
  if (seconds_text.empty() || *end != '\0' || !(settings.seconds >= 0.1)) {
    return UsageError("bench", "--seconds takes a number of seconds, at least 0.1");
  }
  settings.postgres = args.Get("postgres").value_or("");
  if (args.Has("nodes") && settings.postgres.empty()) {
    return UsageError("bench",
                      "--nodes needs --postgres (several nodes share a PostgreSQL "
                      "database; SQLite serves one process)");
  }
  if (args.Has("postgres") && settings.postgres.empty()) {
    return UsageError("bench", "--postgres takes a connection string (postgresql://…)");
  }
  settings.connections = *connections;
  settings.threads = threads;
  settings.definitions = args.Get("definitions").value_or("definitions");
  settings.synchronous = args.Get("synchronous").value_or("FULL");
  const std::string application_path =
      args.Get("application").value_or("docs/examples/construction-permit-application.json");
  settings.application = ReadText(application_path);
  if (settings.application.empty()) {
    std::cerr << "tongban bench http: cannot read " << application_path
              << " (run from the repository root or give --application)\n";
    return kExitError;
  }

  std::vector<Configuration> configurations = {{"sqlite-1", false, 1}};
  std::optional<PostgresServerCpu> database;
  if (!settings.postgres.empty()) {
    configurations.push_back({"postgresql-1", true, 1});
    if (*nodes > 1) {
      configurations.push_back({"postgresql-" + std::to_string(*nodes), true, *nodes});
    }
    // Before anything is measured: a database that cannot be used fails the run at once.
    auto probe = ScratchSchema::Make(settings.postgres, "probe");
    if (!probe.ok()) {
      std::cerr << "tongban bench http: --postgres: " << probe.status().message() << "\n";
      return probe.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError;
    }
    database.emplace(settings.postgres);
  }

  // rounds[r][i]: configuration i in round r. Each round runs every configuration once, starting
  // with a different one each round, so that a slow spell of the shared machine does not always
  // fall on the same configuration.
  std::vector<std::vector<Figures>> results(*rounds, std::vector<Figures>(configurations.size()));
  std::vector<std::array<double, 3>> loads(*rounds);
  for (int r = 0; r < *rounds; ++r) {
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    loads[r] = {load[0], load[1], load[2]};
    for (size_t k = 0; k < configurations.size(); ++k) {
      const size_t i = (k + static_cast<size_t>(r)) % configurations.size();
      auto measured = Measure(settings, configurations[i], database ? &*database : nullptr);
      if (!measured.ok()) {
        std::cerr << "tongban bench http: " << measured.status().message() << "\n";
        return kExitError;
      }
      results[r][i] = std::move(measured).value();
    }
  }

  int64_t failed = 0;
  for (const auto& round : results)
    for (const Figures& f : round)
      failed += f.failed_requests;
  // Per configuration: its ratio to the SQLite node in each round, their median and spread.
  std::vector<std::vector<double>> ratios(configurations.size());
  for (const auto& round : results)
    for (size_t i = 0; i < round.size(); ++i)
      ratios[i].push_back(RatioToSqlite(round, round[i]));

  if (WantsJson(args)) {
    auto figures_json = [&](const std::vector<Figures>& round, const Figures& f) {
      nlohmann::json out = {
          {"configuration", f.configuration.name},
          {"store", f.configuration.postgres ? "postgresql" : "sqlite"},
          {"nodes", f.configuration.nodes},
          {"healthz_per_second", f.healthz_per_second},
          {"healthz_p50_ms", f.healthz_p50_ms},
          {"healthz_p99_ms", f.healthz_p99_ms},
          {"transitions_per_second", f.transitions_per_second},
          {"transition_p50_ms", f.transition_p50_ms},
          {"transition_p99_ms", f.transition_p99_ms},
          {"ratio_to_ceiling",
           f.healthz_per_second > 0 ? f.transitions_per_second / f.healthz_per_second : 0.0},
          {"ratio_to_sqlite", RatioToSqlite(round, f)},
          {"node_cpu_us_per_healthz", f.node_cpu_us_per_healthz},
          {"node_cpu_us_per_transition", f.node_cpu_us_per_transition},
          {"database_cpu_us_per_transition", nullptr},
          {"client_cpu_us_per_transition", f.client_cpu_us_per_transition},
          {"failed_requests", f.failed_requests},
          {"mean_commit_batch", f.mean_commit_batch},
          {"max_commit_batch", f.max_commit_batch},
          {"server_threads_per_node", f.server_threads}};
      if (f.database_cpu_us_per_transition) {
        out["database_cpu_us_per_transition"] = *f.database_cpu_us_per_transition;
      }
      return out;
    };
    nlohmann::json out = {{"benchmark", "http"},
                          {"connections", settings.connections},
                          {"seconds", settings.seconds},
                          {"synchronous", settings.synchronous},
                          {"synchronous_commit", settings.postgres.empty() ? "" : "on"},
                          {"rounds", nlohmann::json::array()},
                          {"summary", nlohmann::json::array()},
                          {"failed_requests", failed}};
    for (int r = 0; r < *rounds; ++r) {
      nlohmann::json round = {{"round", r + 1},
                              {"load_average", loads[r]},
                              {"configurations", nlohmann::json::array()}};
      for (const Figures& f : results[r])
        round["configurations"].push_back(figures_json(results[r], f));
      out["rounds"].push_back(round);
    }
    for (size_t i = 0; i < configurations.size(); ++i) {
      nlohmann::json summary = {{"configuration", configurations[i].name},
                                {"ratio_to_sqlite",
                                 {{"median", Median(ratios[i])},
                                  {"min", *std::min_element(ratios[i].begin(), ratios[i].end())},
                                  {"max", *std::max_element(ratios[i].begin(), ratios[i].end())},
                                  {"rounds", ratios[i]}}}};
      if (configurations[i].name == "postgresql-1") {
        summary["goal"] = {{"ratio_to_sqlite_at_least", kPostgresGoal},
                           {"met", Median(ratios[i]) >= kPostgresGoal}};
      }
      out["summary"].push_back(summary);
    }
    std::cout << PrettyJson(out) << "\n";
    return failed == 0 ? kExitOk : kExitFailure;
  }

  std::printf(
      "bench http: %d keep-alive connections, %g s per phase, durable (SQLite "
      "synchronous=%s%s), %d round%s\n",
      settings.connections, settings.seconds, settings.synchronous.c_str(),
      settings.postgres.empty() ? "" : "; PostgreSQL synchronous_commit=on", *rounds,
      *rounds == 1 ? "" : "s");
  if (!settings.postgres.empty()) {
    std::printf(
        "  nodes: one process, each node its own engine, store and connections, on its "
        "own port; connection c goes to node c mod N\n");
  }
  for (int r = 0; r < *rounds; ++r) {
    std::printf("round %d (load average %.2f %.2f %.2f at its start):\n", r + 1, loads[r][0],
                loads[r][1], loads[r][2]);
    std::printf("  %-14s %9s %10s %7s %7s %7s %8s %8s %11s %7s %7s\n", "configuration",
                "/healthz/s", "transit./s", "p50 ms", "p99 ms", "/ceil", "node us", "db us",
                "batch mn/mx", "failed", "/sqlite");
    for (const Figures& f : results[r]) {
      char db_us[32] = "-";
      if (f.database_cpu_us_per_transition) {
        std::snprintf(db_us, sizeof db_us, "%.0f", *f.database_cpu_us_per_transition);
      }
      char batch[32];
      std::snprintf(batch, sizeof batch, "%.1f/%lld", f.mean_commit_batch,
                    static_cast<long long>(f.max_commit_batch));
      std::printf("  %-14s %10.0f %10.0f %7.2f %7.2f %7.3f %8.0f %8s %11s %7lld %7.2f\n",
                  f.configuration.name.c_str(), f.healthz_per_second, f.transitions_per_second,
                  f.transition_p50_ms, f.transition_p99_ms,
                  f.healthz_per_second > 0 ? f.transitions_per_second / f.healthz_per_second : 0.0,
                  f.node_cpu_us_per_transition, db_us, batch,
                  static_cast<long long>(f.failed_requests), RatioToSqlite(results[r], f));
    }
  }
  std::printf(
      "  (transit./s: durable transitions/s; p50/p99: a transition's latency; /ceil: "
      "transitions/s over /healthz/s; /sqlite: over sqlite-1's; node us / db us: CPU per "
      "transition of the nodes' "
      "process less the clients', and of PostgreSQL's processes)\n");
  for (size_t i = 1; i < configurations.size(); ++i) {
    std::printf("ratio %s / sqlite-1: median %.2f (rounds:", configurations[i].name.c_str(),
                Median(ratios[i]));
    for (double ratio : ratios[i])
      std::printf(" %.2f", ratio);
    std::printf("; spread %.2f-%.2f)", *std::min_element(ratios[i].begin(), ratios[i].end()),
                *std::max_element(ratios[i].begin(), ratios[i].end()));
    if (configurations[i].name == "postgresql-1") {
      std::printf(" goal >= %.1f: %s", kPostgresGoal,
                  Median(ratios[i]) >= kPostgresGoal ? "met" : "NOT met");
    }
    std::printf("\n");
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
