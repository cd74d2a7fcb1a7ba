// tongban bench overload: an open-loop load at a fixed arrival rate against the bounded server, to
// see what it does past its sustainable rate — latency of the answered requests, how many were
// refused 503 with Retry-After, and that none was lost or answered with another 5xx.
//
// Arrivals are scheduled at fixed intervals whatever the server does (open loop), each on a new
// connection, and latency runs from the scheduled instant, so a server that falls behind shows it
// instead of slowing the clients down (coordinated omission).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "engine/sqlite_store.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/sha256.h"

namespace tongban::cli {

extern const char* const kBenchOverloadHelp = R"(usage: tongban bench overload --rate R [OPTIONS]

Open-loop load: one POST /v1/cases (a durable creation) every 1/R seconds for --seconds, each on
a new connection, against a server started in the same process on a temporary database, with
the bounds of `tongban serve`. Reports the answers by status, the latency of the 201s and of the
503s from each request's scheduled instant (p50, p99), and the requests left without an answer.

Options:
  --rate R             arrivals per second (required)
  --seconds S          length of the run (default 5)
  --threads N          HTTP worker threads (default 16)
  --max-queued N       connections waiting for a worker at most (default 64)
  --max-write-queue N  writes waiting for the store at most (default 4096)
  --senders N          client threads sending (default 256)
  --definitions DIR    definitions to deploy (default definitions)
  --application FILE   the application (default docs/examples/construction-permit-application.json)
  --format FORMAT      text (default) or json
)";

namespace {

double Quantile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t index = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(index), v.end());
  return v[index];
}

}  // namespace

int BenchOverload(const Args& args) {
  if (!args.Get("rate")) return UsageError("bench overload", "--rate is required");
  const double rate = std::stod(*args.Get("rate"));
  const double seconds = std::stod(args.Get("seconds").value_or("5"));
  const int senders = std::stoi(args.Get("senders").value_or("256"));
  api::ServerOptions options;
  options.port = 0;
  options.threads = std::stoi(args.Get("threads").value_or("16"));
  options.max_queued_connections = std::stoi(args.Get("max-queued").value_or("64"));
  std::ifstream in(
      args.Get("application").value_or("docs/examples/construction-permit-application.json"));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string application = text.str();
  if (application.empty() || rate <= 0) {
    std::cerr << "tongban bench overload: no application to send, or --rate not above 0\n";
    return kExitError;
  }
  auto scratch = ScratchDir::Make("overload");
  if (!scratch.ok()) return kExitError;
  const std::string dir = (*scratch)->path();

  SqliteStoreOptions store_options;
  store_options.path = dir + "/bench.db";
  store_options.max_queue = std::stoi(args.Get("max-write-queue").value_or("4096"));
  auto store = SqliteStore::Open(store_options);
  if (!store.ok()) {
    std::cerr << "tongban bench overload: " << store.status().message() << "\n";
    return kExitError;
  }
  DefinitionRegistry registry(store->get());
  SimulatedClock clock(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  auto deployed =
      registry.DeployDirectory(args.Get("definitions").value_or("definitions"), clock.Now());
  if (!deployed.ok()) {
    std::cerr << "tongban bench overload: " << deployed.status().message() << "\n";
    return kExitError;
  }
  auto principals = std::make_shared<PrincipalSet>();
  Principal applicant;
  applicant.id = applicant.name = "applicant";
  applicant.roles = {"applicant"};
  applicant.credit_code = "91330100MA2TB00014";
  applicant.token_sha256 = Sha256Hex("bench-applicant");
  principals->principals.push_back(applicant);
  CaseService service(store->get(), &registry, &clock);
  api::ApiServer server(&service, principals, &clock, options);
  auto port = server.Bind();
  if (!port.ok()) return kExitError;
  std::thread serving([&] { server.Serve(); });

  const int64_t total = static_cast<int64_t>(rate * seconds);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const httplib::Headers headers = {{"Authorization", "Bearer bench-applicant"}};
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  std::map<int, int64_t> by_status;  // 0: no answer
  std::vector<double> created_ms, refused_ms;
  int64_t refused_without_retry_after = 0;
  const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&] {
      while (true) {
        const int64_t k = next.fetch_add(1);
        if (k >= total) return;
        const auto scheduled =
            start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        interval * static_cast<double>(k));
        std::this_thread::sleep_until(scheduled);
        httplib::Client client("127.0.0.1", *port);
        client.set_connection_timeout(30, 0);
        client.set_read_timeout(60, 0);
        auto res = client.Post("/v1/cases", headers, application, "application/json");
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - scheduled)
                .count();
        std::lock_guard<std::mutex> lock(mutex);
        const int status = res ? res->status : 0;
        ++by_status[status];
        if (status == 201) created_ms.push_back(ms);
        if (status == 503) {
          refused_ms.push_back(ms);
          if (!res->has_header("Retry-After")) ++refused_without_retry_after;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server.Stop();
  serving.join();

  int64_t other_5xx = 0;
  for (const auto& [status, n] : by_status) {
    if (status >= 500 && status != 503) other_5xx += n;
  }
  const int64_t unanswered = by_status.count(0) ? by_status[0] : 0;
  const double created_rate = static_cast<double>(created_ms.size()) / elapsed;
  if (WantsJson(args)) {
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [status, n] : by_status)
      statuses[std::to_string(status)] = n;
    nlohmann::json out = {{"benchmark", "overload"},
                          {"rate", rate},
                          {"seconds", seconds},
                          {"threads", options.threads},
                          {"max_queued", options.max_queued_connections},
                          {"max_write_queue", store_options.max_queue},
                          {"sent", total},
                          {"statuses", statuses},
                          {"created_per_second", created_rate},
                          {"created_p50_ms", Quantile(created_ms, 0.5)},
                          {"created_p99_ms", Quantile(created_ms, 0.99)},
                          {"refused_p50_ms", Quantile(refused_ms, 0.5)},
                          {"refused_p99_ms", Quantile(refused_ms, 0.99)},
                          {"refused_without_retry_after", refused_without_retry_after},
                          {"other_5xx", other_5xx},
                          {"unanswered", unanswered}};
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::printf(
        "bench overload: %.0f arrivals/s for %.0f s (%lld sent), %d workers, "
        "max-queued %d, max-write-queue %d\n",
        rate, seconds, static_cast<long long>(total), options.threads,
        options.max_queued_connections, store_options.max_queue);
    for (const auto& [status, n] : by_status)
      std::printf("  %s: %lld\n", status == 0 ? "no answer" : std::to_string(status).c_str(),
                  static_cast<long long>(n));
    std::printf("  201: %.0f /s, p50 %.1f ms, p99 %.1f ms\n", created_rate,
                Quantile(created_ms, 0.5), Quantile(created_ms, 0.99));
    std::printf("  503: p50 %.1f ms, p99 %.1f ms; without Retry-After %lld\n",
                Quantile(refused_ms, 0.5), Quantile(refused_ms, 0.99),
                static_cast<long long>(refused_without_retry_after));
  }
  return other_5xx == 0 && unanswered == 0 && refused_without_retry_after == 0 ? kExitOk
                                                                               : kExitFailure;
}

}  // namespace tongban::cli
