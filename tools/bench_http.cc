// tongban bench http: durable transitions per second over HTTP, against the server's own trivial
// endpoint (/healthz) as the ceiling, measured in the same run with the same clients.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
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

struct Sample {
  std::vector<double> latencies_ms;
  int64_t ok = 0;
  int64_t failed = 0;
};

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
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "tongban-bench-http-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return kExitError;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{dir};

  SqliteStoreOptions store_options;
  store_options.path = dir + "/bench.db";
  store_options.synchronous = args.Get("synchronous").value_or("FULL");
  auto store = SqliteStore::Open(store_options);
  if (!store.ok()) {
    std::cerr << "tongban bench http: " << store.status().message() << "\n";
    return kExitError;
  }
  DefinitionRegistry registry(store->get());
  SimulatedClock clock(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  auto deployed = registry.DeployDirectory(definitions, clock.Now());
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
  CaseService service(store->get(), &registry, &clock);
  api::ServerOptions options;
  options.port = 0;
  options.threads = connections * 2 + 8;
  api::ApiServer server(&service, principals, &clock, options);
  auto port = server.Bind();
  if (!port.ok()) return kExitError;
  std::thread serving([&] { server.Serve(); });

  auto run = [&](auto body) {
    std::vector<Sample> samples(connections);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client client("127.0.0.1", *port);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        client.set_read_timeout(10, 0);
        while (!stop.load())
          body(client, samples[c]);
      });
    }
    Progress progress("bench http");
    auto start = std::chrono::steady_clock::now();
    for (int tick = 0; tick < static_cast<int>(seconds * 10); ++tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      progress.Update(tick + 1, static_cast<long>(seconds * 10));
    }
    stop = true;
    for (auto& t : threads)
      t.join();
    progress.Done();
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Sample all;
    for (auto& s : samples) {
      all.ok += s.ok;
      all.failed += s.failed;
      all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    }
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
    for (const auto& [headers, body] : steps) {
      if (!timed(client, s, [&](httplib::Client& c) {
            return c.Post(path.c_str(), *headers, body, "application/json");
          })) {
        return;
      }
    }
  });
  server.Stop();
  serving.join();

  double ceiling_rate = static_cast<double>(ceiling.ok) / ceiling_seconds;
  double transition_rate = static_cast<double>(transitions.ok) / transition_seconds;
  StoreStats stats = store->get()->Stats();
  double mean_batch = stats.commits > 0 ? static_cast<double>(stats.writes) / stats.commits : 0;
  if (args.Get("format").value_or("text") == "json") {
    nlohmann::json out = {{"benchmark", "http"},
                          {"connections", connections},
                          {"seconds", seconds},
                          {"synchronous", store_options.synchronous},
                          {"healthz_per_second", ceiling_rate},
                          {"healthz_p50_ms", Percentile(ceiling.latencies_ms, 0.5)},
                          {"healthz_p99_ms", Percentile(ceiling.latencies_ms, 0.99)},
                          {"transitions_per_second", transition_rate},
                          {"transition_p50_ms", Percentile(transitions.latencies_ms, 0.5)},
                          {"transition_p99_ms", Percentile(transitions.latencies_ms, 0.99)},
                          {"failed_requests", transitions.failed + ceiling.failed},
                          {"mean_commit_batch", mean_batch},
                          {"max_commit_batch", stats.max_batch},
                          {"ratio_to_ceiling", transition_rate / ceiling_rate}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("bench http: %d keep-alive connections, %.0f s per phase, synchronous=%s\n",
                connections, seconds, store_options.synchronous.c_str());
    std::printf("  ceiling GET /healthz:           %9.0f req/s   p50 %.2f ms  p99 %.2f ms\n",
                ceiling_rate, Percentile(ceiling.latencies_ms, 0.5),
                Percentile(ceiling.latencies_ms, 0.99));
    std::printf("  durable transitions over HTTP:  %9.0f /s      p50 %.2f ms  p99 %.2f ms\n",
                transition_rate, Percentile(transitions.latencies_ms, 0.5),
                Percentile(transitions.latencies_ms, 0.99));
    std::printf("  commit batches: mean %.1f, max %lld; failed requests %lld\n", mean_batch,
                static_cast<long long>(stats.max_batch),
                static_cast<long long>(transitions.failed + ceiling.failed));
    std::printf("  ratio transitions / ceiling: %.2f (goal >= 0.5)\n",
                transition_rate / ceiling_rate);
  }
  return transitions.failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
