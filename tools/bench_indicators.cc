// tongban bench indicators: GET /v1/indicators over a store of many cases, against GET /healthz
// (the server's trivial route) and SELECT count(*) over the cases, measured in the same run.
//
// The store is filled through its ordinary Commit (group commit, synchronous=OFF), each case a
// one-event write carrying facts that spread it over 12 months, 6 organs, 14 items and 3 zones —
// so the indicator counters are maintained exactly as on a real write; the events are minimal.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "api/server.h"
#include "engine/engine.h"
#include "engine/indicators.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/sha256.h"

namespace tongban::cli {

extern const char* const kBenchIndicatorsHelp =
    R"(usage: tongban bench indicators [--cases N] [--requests N] [--definitions DIR] [--format text|json]

Fills a throw-away SQLite store (synchronous=OFF) with --cases cases (default 100000) through the
store's Commit, each carrying its indicator facts, then serves it over HTTP and times, with one
client, --requests (default 50) requests each of:
  GET /v1/indicators?from=2026-01&to=2026-12&by=item   (a year, by item)
  GET /v1/indicators?month=2026-03&by=zone              (a month, by zone)
  GET /healthz                                          (baseline: the trivial route)
and --requests counts of the cases (baseline: SELECT count(*) FROM cases, Store::CountCases).
Prints median and 95th-percentile latencies and the ratios to the baselines.

Exit codes: 0 measured, 2 wrong usage, 3 the benchmark could not run.
)";

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Latencies {
  std::vector<double> ms;
  double Median() {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0 : ms[ms.size() / 2];
  }
  double P95() {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0 : ms[std::min(ms.size() - 1, ms.size() * 95 / 100)];
  }
};

double MsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

}  // namespace

int BenchIndicators(const Args& args) {
  const long cases = std::stol(args.Get("cases").value_or("100000"));
  const int requests = std::stoi(args.Get("requests").value_or("50"));
  const std::string definitions = args.Get("definitions").value_or("definitions");
  const bool json_out = WantsJson(args);
  if (cases < 1 || requests < 1) {
    return UsageError("bench", "--cases and --requests must be positive");
  }
  auto scratch = ScratchDir::Make("indicators");
  if (!scratch.ok()) return kExitError;
  EngineOptions engine_options;
  engine_options.store.path = (*scratch)->path() + "/bench.db";
  engine_options.store.synchronous = "OFF";
  engine_options.clock =
      std::make_unique<SimulatedClock>(*ParseTimestamp("2026-03-02T09:00:00+08:00"));
  auto opened = Engine::Open(std::move(engine_options));
  if (!opened.ok()) {
    std::cerr << "tongban bench indicators: " << opened.status().message() << "\n";
    return kExitError;
  }
  Engine& engine = **opened;
  if (auto deployed = engine.DeployDirectory(definitions); !deployed.ok()) {
    std::cerr << "tongban bench indicators: " << deployed.status().message() << "\n";
    return kExitError;
  }
  Store* store = engine.cases()->store();
  std::vector<std::string> items;
  for (const auto& item : engine.cases()->registry()->Items())
    if (std::find(items.begin(), items.end(), item->id) == items.end()) items.push_back(item->id);
  const std::vector<std::string> organs = {"dz-approval-bureau",  "city-amr",
                                           "city-tax-bureau",     "city-hrss",
                                           "city-housing-bureau", "dz-public-security-branch"};
  const std::vector<std::string> zones = {"dz-approval-bureau", "nz-service-centre", "city-amr"};

  // Fill: 64 writers, so that group commit batches them.
  const auto fill_start = SteadyClock::now();
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  const Instant base = *ParseTimestamp("2026-01-01T09:00:00+08:00");
  std::vector<std::thread> writers;
  for (int t = 0; t < 64; ++t) {
    writers.emplace_back([&] {
      while (!failed) {
        const long i = next.fetch_add(1);
        if (i >= cases) return;
        char id[32];
        std::snprintf(id, sizeof id, "bench-%010ld", i);
        const int month = static_cast<int>(i % 12);
        const Instant applied = base + std::chrono::hours(24 * (30 * month + i % 28));
        CaseWrite w;
        Event e;
        e.case_id = id;
        e.seq = 1;
        e.time = applied;
        e.actor = {"applicant-" + std::to_string(i % 5000), "applicant", "", ""};
        e.action = "submit";
        e.status = i % 3 == 0 ? "under_review" : "approved";
        e.definition_id = items[static_cast<size_t>(i) % items.size()];
        e.definition_version = 1;
        e.prev_hash = kGenesisHash;
        e.hash = ComputeEventHash(e);
        w.events.push_back(e);
        CaseRecord& r = w.record;
        r.id = id;
        r.number = std::string("TB-") + id;
        r.query_code = "Q";
        r.definition_id = e.definition_id;
        r.definition_version = 1;
        r.status = e.status;
        r.applicant_id = e.actor.id;
        r.organ_id = organs[static_cast<size_t>(i / 7) % organs.size()];
        r.created_at = r.updated_at = applied;
        r.version = 1;
        r.snapshot = "{}";
        CaseFacts f;
        char month_text[16];
        std::snprintf(month_text, sizeof month_text, "2026-%02d", month + 1);
        f.month = month_text;
        f.organ = r.organ_id;
        f.item = r.definition_id;
        f.zone = zones[static_cast<size_t>(i / 3) % zones.size()];
        f.applied_at = applied;
        f.counters = {{indicator::kApplications, 1},
                      {indicator::kAccepted, 1},
                      {i % 5 == 0 ? indicator::kChannelWindow : indicator::kChannelOnline, 1},
                      {indicator::kVisits, i % 5 == 0 ? 1 : 0}};
        if (e.status == "approved") {
          f.decided_at = applied + std::chrono::hours(48);
          f.late_statutory = i % 50 == 0;
          f.counters[indicator::kDecided] = 1;
          f.counters[indicator::kApproved] = 1;
          f.counters[indicator::kWorkingDaysUsed] = 1 + i % 7;
          if (!f.late_statutory) f.counters[indicator::kOnTimeStatutory] = 1;
        }
        r.facts = std::move(f);
        if (Status s = store->Commit(std::move(w)); !s.ok()) {
          std::cerr << "tongban bench indicators: filling: " << s.message() << "\n";
          failed = true;
        }
      }
    });
  }
  for (auto& w : writers)
    w.join();
  if (failed) return kExitError;
  const double fill_seconds = MsSince(fill_start) / 1000.0;

  auto principals = std::make_shared<PrincipalSet>();
  Principal auditor;
  auditor.id = "auditor";
  auditor.name = "auditor";
  auditor.roles = {"auditor"};
  auditor.organ = "*";
  auditor.token_sha256 = Sha256Hex("bench-auditor");
  principals->principals.push_back(auditor);
  api::ServerOptions options;
  options.port = 0;
  options.threads = 8;
  api::ApiServer server(engine.cases(), principals, engine.simulated_clock(), options);
  auto port = server.Bind();
  if (!port.ok()) return kExitError;
  std::thread serving([&] { server.Serve(); });
  httplib::Client client("127.0.0.1", *port);
  client.set_keep_alive(true);
  const httplib::Headers auth = {{"Authorization", "Bearer bench-auditor"}};
  bool all_ok = true;
  auto time_get = [&](const std::string& path, const httplib::Headers& headers) {
    Latencies l;
    for (int i = 0; i < requests; ++i) {
      const auto t = SteadyClock::now();
      auto r = client.Get(path, headers);
      l.ms.push_back(MsSince(t));
      if (!r || r->status != 200) all_ok = false;
    }
    return l;
  };
  // Once untimed each, to warm the connection and the page cache.
  time_get("/healthz", {});
  Latencies healthz = time_get("/healthz", {});
  Latencies year = time_get("/v1/indicators?from=2026-01&to=2026-12&by=item", auth);
  Latencies month = time_get("/v1/indicators?month=2026-03&by=zone", auth);
  Latencies count;
  int64_t counted = 0;
  for (int i = 0; i < requests; ++i) {
    const auto t = SteadyClock::now();
    auto n = store->CountCases();
    count.ms.push_back(MsSince(t));
    if (n.ok()) counted = *n;
  }
  server.Stop();
  serving.join();
  if (!all_ok || counted != cases) {
    std::cerr << "tongban bench indicators: a request failed or the count is wrong (" << counted
              << " cases)\n";
    return kExitError;
  }
  const double h = healthz.Median(), c = count.Median(), y = year.Median(), m = month.Median();
  if (json_out) {
    std::cout << PrettyJson(nlohmann::json{
                     {"benchmark", "indicators"},
                     {"cases", cases},
                     {"fill_seconds", fill_seconds},
                     {"requests", requests},
                     {"healthz_ms", {{"median", h}, {"p95", healthz.P95()}}},
                     {"count_ms", {{"median", c}, {"p95", count.P95()}}},
                     {"indicators_year_by_item_ms", {{"median", y}, {"p95", year.P95()}}},
                     {"indicators_month_by_zone_ms", {{"median", m}, {"p95", month.P95()}}}})
              << "\n";
    return kExitOk;
  }
  std::printf("bench indicators: %ld cases (fill %.1f s, %.0f cases/s), %d requests each\n", cases,
              fill_seconds, static_cast<double>(cases) / fill_seconds, requests);
  std::printf("  GET /healthz (baseline)                  median %8.3f ms  p95 %8.3f ms\n", h,
              healthz.P95());
  std::printf("  count(*) over cases (baseline)           median %8.3f ms  p95 %8.3f ms\n", c,
              count.P95());
  std::printf(
      "  GET /v1/indicators a year by item        median %8.3f ms  p95 %8.3f ms"
      "  = %.1fx healthz, %.2fx count(*)\n",
      y, year.P95(), y / h, y / c);
  std::printf(
      "  GET /v1/indicators a month by zone       median %8.3f ms  p95 %8.3f ms"
      "  = %.1fx healthz, %.2fx count(*)\n",
      m, month.P95(), m / h, m / c);
  return kExitOk;
}

}  // namespace tongban::cli
