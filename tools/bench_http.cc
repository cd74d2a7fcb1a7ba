// tongban bench http: durable transitions per second over HTTP, against the server's own trivial
// endpoint (/healthz) as the ceiling, measured in the same run with the same clients.
#include <httplib.h>
#include <pthread.h>
#include <sys/resource.h>

#include <ctime>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "engine/engine.h"
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
  double client_cpu_seconds = 0;  // what the client threads themselves used
  double server_cpu_seconds = 0;  // the process's CPU in the phase less the clients'
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

}  // namespace

int BenchHttp(const Args& args) {
  int connections = std::stoi(args.Get("connections").value_or("64"));
  double seconds = std::stod(args.Get("seconds").value_or("5"));
  std::string definitions = args.Get("definitions").value_or("definitions");
  std::string application_path =
      args.Get("application").value_or("docs/examples/construction-permit-application.json");
  std::string application = ReadText(application_path);
  if (application.empty()) {
    std::cerr << "tongban bench http: cannot read " << application_path
              << " (run from the repository root or give --application)\n";
    return kExitError;
  }
  auto scratch = ScratchDir::Make("http");
  if (!scratch.ok()) return kExitError;
  const std::string dir = (*scratch)->path();

  EngineOptions engine_options;
  engine_options.store.path = dir + "/bench.db";
  engine_options.store.synchronous = args.Get("synchronous").value_or("FULL");
  engine_options.clock =
      std::make_unique<SimulatedClock>(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  const std::string synchronous = engine_options.store.synchronous;
  auto opened = Engine::Open(std::move(engine_options));
  if (!opened.ok()) {
    std::cerr << "tongban bench http: " << opened.status().message() << "\n";
    return kExitError;
  }
  Engine& engine = **opened;
  auto deployed = engine.DeployDirectory(definitions);
  if (!deployed.ok()) {
    std::cerr << "tongban bench http: " << deployed.status().message() << "\n";
    return kExitError;
  }
  auto principals = std::make_shared<PrincipalSet>();
  auto add = [&](const std::string& id, const std::string& role) {
    Principal p;
    p.id = id;
    p.name = id;
    p.roles = {role};
    p.organ = role == "applicant" ? "" : "dz-approval-bureau";
    p.credit_code = role == "applicant" ? "91330100MA2TB00014" : "";
    p.token_sha256 = Sha256Hex("bench-" + id);
    principals->principals.push_back(p);
  };
  add("applicant", "applicant");
  add("clerk", "clerk");
  add("reviewer", "reviewer");
  add("approver", "approver");
  api::ServerOptions options;
  options.port = 0;
  // A keep-alive connection holds a pool thread for its life: at least one per connection.
  options.threads = std::stoi(args.Get("threads").value_or(std::to_string(connections * 2 + 8)));
  api::ApiServer server(engine.cases(), principals, engine.simulated_clock(), options);
  auto port = server.Bind();
  if (!port.ok()) return kExitError;
  std::thread serving([&] { server.Serve(); });

  auto run = [&](auto body) {
    std::vector<Sample> samples(connections);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
      threads.emplace_back([&, c] {
        // Named so that a profile can tell the clients from the server (perf report --comm).
        pthread_setname_np(pthread_self(), "bench-client");
        const double cpu_start = ThreadCpuSeconds();
        httplib::Client client("127.0.0.1", *port);
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
    auto start = std::chrono::steady_clock::now();
    for (int tick = 0; tick < static_cast<int>(seconds * 10); ++tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      progress.Update(tick + 1, static_cast<long>(seconds * 10));
    }
    stop = true;
    for (auto& t : threads)
      t.join();
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double process_cpu = ProcessCpuSeconds() - process_cpu_start;
    progress.Done();
    Sample all;
    for (auto& s : samples) {
      all.ok += s.ok;
      all.failed += s.failed;
      all.client_cpu_seconds += s.client_cpu_seconds;
      all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    }
    all.server_cpu_seconds = process_cpu - all.client_cpu_seconds;
    return std::make_pair(all, elapsed);
  };
  auto timed = [](httplib::Client& client, Sample& s, auto request) {
    auto t0 = std::chrono::steady_clock::now();
    auto res = request(client);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (res && res->status / 100 == 2) {
      ++s.ok;
      s.latencies_ms.push_back(ms);
      return std::optional<std::string>(res->body);
    }
    ++s.failed;
    return std::optional<std::string>();
  };

  auto [ceiling, ceiling_seconds] = run([&](httplib::Client& client, Sample& s) {
    timed(client, s, [](httplib::Client& c) { return c.Get("/healthz"); });
  });

  const httplib::Headers applicant = {{"Authorization", "Bearer bench-applicant"}};
  const httplib::Headers clerk = {{"Authorization", "Bearer bench-clerk"}};
  const httplib::Headers reviewer = {{"Authorization", "Bearer bench-reviewer"}};
  const httplib::Headers approver = {{"Authorization", "Bearer bench-approver"}};
  auto [transitions, transition_seconds] = run([&](httplib::Client& client, Sample& s) {
    auto created = timed(client, s, [&](httplib::Client& c) {
      return c.Post("/v1/cases", applicant, application, "application/json");
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
      if (!timed(client, s, [&](httplib::Client& c) {
            return c.Post(path.c_str(), *step.first, step.second, "application/json");
          })) {
        return;
      }
    }
  });
  server.Stop();
  serving.join();

  double ceiling_rate = static_cast<double>(ceiling.ok) / ceiling_seconds;
  double transition_rate = static_cast<double>(transitions.ok) / transition_seconds;
  StoreStats stats = engine.store()->Stats();
  // Server CPU (process CPU in the phase less the client threads'), per request served.
  auto per_request_us = [](const Sample& s) {
    return s.ok > 0 ? s.server_cpu_seconds * 1e6 / static_cast<double>(s.ok) : 0.0;
  };
  double mean_batch = stats.commits > 0 ? static_cast<double>(stats.writes) / stats.commits : 0;
  if (args.Get("format").value_or("text") == "json") {
    nlohmann::json out = {{"benchmark", "http"},
                          {"connections", connections},
                          {"seconds", seconds},
                          {"synchronous", synchronous},
                          {"healthz_per_second", ceiling_rate},
                          {"healthz_p50_ms", Percentile(ceiling.latencies_ms, 0.5)},
                          {"healthz_p99_ms", Percentile(ceiling.latencies_ms, 0.99)},
                          {"transitions_per_second", transition_rate},
                          {"transition_p50_ms", Percentile(transitions.latencies_ms, 0.5)},
                          {"transition_p99_ms", Percentile(transitions.latencies_ms, 0.99)},
                          {"failed_requests", transitions.failed + ceiling.failed},
                          {"mean_commit_batch", mean_batch},
                          {"max_commit_batch", stats.max_batch},
                          {"server_cpu_us_per_healthz", per_request_us(ceiling)},
                          {"server_cpu_us_per_transition", per_request_us(transitions)},
                          {"client_cpu_us_per_transition",
                           transitions.ok > 0 ? transitions.client_cpu_seconds * 1e6 /
                                                    static_cast<double>(transitions.ok)
                                              : 0.0},
                          {"server_threads", options.threads},
                          {"ratio_to_ceiling", transition_rate / ceiling_rate}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("bench http: %d keep-alive connections, %.0f s per phase, synchronous=%s\n",
                connections, seconds, synchronous.c_str());
    std::printf("  ceiling GET /healthz:           %9.0f req/s   p50 %.2f ms  p99 %.2f ms\n",
                ceiling_rate, Percentile(ceiling.latencies_ms, 0.5),
                Percentile(ceiling.latencies_ms, 0.99));
    std::printf("  durable transitions over HTTP:  %9.0f /s      p50 %.2f ms  p99 %.2f ms\n",
                transition_rate, Percentile(transitions.latencies_ms, 0.5),
                Percentile(transitions.latencies_ms, 0.99));
    std::printf(
        "  server CPU per request: /healthz %.1f us, transition %.1f us (client threads: "
        "%.1f us per transition; %d server threads)\n",
        per_request_us(ceiling), per_request_us(transitions),
        transitions.ok > 0
            ? transitions.client_cpu_seconds * 1e6 / static_cast<double>(transitions.ok)
            : 0.0,
        options.threads);
    std::printf("  commit batches: mean %.1f, max %lld; failed requests %lld\n", mean_batch,
                static_cast<long long>(stats.max_batch),
                static_cast<long long>(transitions.failed + ceiling.failed));
    std::printf("  ratio transitions / ceiling: %.2f (goal >= 0.5)\n",
                transition_rate / ceiling_rate);
  }
  return transitions.failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
