// tongban bench history: whether acting on and reading a case costs the same whatever the length
// of its history, and what a /metrics scrape costs with a million cases stored. Each figure beside
// a baseline measured in the same run on the same database.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

#include "engine/case_service.h"
#include "engine/clock.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

extern const char* const kBenchHistoryHelp;
const char* const kBenchHistoryHelp =
    R"(usage: tongban bench history [OPTIONS]

Measures, on one throw-away database (synchronous=OFF: CPU, not fsync), interleaved:
  - an action ("pass" of the review step) on a construction-permit case with --events events
    (default 1000, made of review rounds: pass, send_back) against the same action on a case with
    4 events (it makes the fifth) — with the machine cache (the default) and, for comparison,
    without it (every action replays the history);
  - CaseService::Get of each of the two cases (the read behind GET /v1/cases/{id});
  - a metrics scrape (the counts behind GET /metrics: cases by status and lights) with
    --metrics-cases cases stored (default 1000000), against counting the cases with
    SELECT count(*). The cases are bulk-inserted records (no events), under review ones with
    light instants spread over two months around now; 0 skips this part.
Medians over --ops operations each (default 200) on the shipped definitions (--definitions,
default ./definitions). Goals: ratios 1,000-event / 5-event at most 1.2x; scrape under 50 ms.

Exit codes: 0 measured, 2 wrong usage, 3 the benchmark could not run.
)";

namespace {

using Micros = std::chrono::duration<double, std::micro>;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Fail(const std::string& what, const Status& status) {
  std::cerr << "tongban bench history: " << what << ": " << status.ToString() << "\n";
  return kExitError;
}

bool LongOption(const Args& args, const std::string& name, long fallback, long min, long max,
                long* out) {
  *out = fallback;
  auto text = args.Get(name);
  if (!text) return true;
  char* end = nullptr;
  *out = std::strtol(text->c_str(), &end, 10);
  return !text->empty() && *end == '\0' && *out >= min && *out <= max;
}

template <class F>
double Time(F f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return Micros(std::chrono::steady_clock::now() - t0).count();
}

// Bulk-inserts `n` case records as a running bureau's database might hold them.
Status FillMetricsCases(Store* store, long n, Instant now) {
  static const char* const kStatuses[] = {
      "closed",      "closed",    "approved",           "denied",
      "withdrawn",   "submitted", "correction_pending", "revoked",
      "not_accepted"};
  std::mt19937_64 random(42);
  const int64_t day_ms = 24LL * 3600 * 1000;
  const int64_t now_ms = now.time_since_epoch().count();
  // Midnights (UTC+8) from a month before now to a month after.
  const int64_t midnight = (now_ms + 8 * 3600 * 1000) / day_ms * day_ms - 8 * 3600 * 1000;
  Progress progress("filling cases");
  for (long from = 0; from < n; from += 2000) {
    StoreWrite write;
    for (long i = from; i < std::min(n, from + 2000); ++i) {
      CaseWrite w;
      CaseRecord& r = w.record;
      char id[32];
      std::snprintf(id, sizeof id, "bench-%012ld", i);
      r.id = id;
      r.number = std::string("TB-") + id;
      r.query_code = "q";
      r.definition_id = "construction-permit";
      r.definition_version = 1;
      r.applicant_id = "applicant-" + std::to_string(i % 5000);
      r.organ_id = "dz-approval-bureau";
      r.created_at = r.updated_at = now;
      r.version = 1;
      r.snapshot = "{}";
      r.status = random() % 10 < 4 ? "under_review" : kStatuses[random() % 9];
      if (r.status == "under_review" || r.status == "approved") {
        // The decision's light (under review) or the delivery's (granted): yellow three working
        // days before red.
        int64_t red = midnight + static_cast<int64_t>(random() % 61 - 30) * day_ms;
        r.red_at = Instant(std::chrono::milliseconds(red));
        r.yellow_at = Instant(std::chrono::milliseconds(red - 3 * day_ms));
      }
      write.cases.push_back(std::move(w));
    }
    TONGBAN_RETURN_IF_ERROR(store->Commit(std::move(write)));
    progress.Update(from, n);
  }
  progress.Done();
  return Status::Ok();
}

}  // namespace

int BenchHistory(const Args& args) {
  long events = 0, ops = 0, metrics_cases = 0;
  if (!LongOption(args, "events", 1000, 10, 100000, &events) ||
      !LongOption(args, "ops", 200, 10, 100000, &ops) ||
      !LongOption(args, "metrics-cases", 1000000, 0, 100000000, &metrics_cases)) {
    return UsageError("bench", "--events 10..100000, --ops 10..100000, --metrics-cases >= 0");
  }
  const std::string definitions = args.Get("definitions").value_or("definitions");
  std::ifstream application_file("docs/examples/construction-permit-application.json");
  if (!application_file) {
    return Fail("reading docs/examples/construction-permit-application.json",
                Status::NotFound("run from the repository root"));
  }
  const nlohmann::json application = nlohmann::json::parse(application_file);
  auto engine = ScratchEngine::Open("history", definitions);
  if (!engine.ok()) return Fail("a throw-away database", engine.status());
  Store* store = (*engine)->store;
  CaseService& cached = *(*engine)->service;
  DefinitionRegistry& registry = *(*engine)->registry;
  SimulatedClock& clock = *(*engine)->clock;
  CaseServiceOptions no_cache;
  no_cache.machine_cache_capacity = 0;
  CaseService uncached(store, &registry, &clock, no_cache);

  const Actor applicant{"bench-applicant", "applicant", "", ""};
  const Actor clerk{"bench-clerk", "clerk", "dz-approval-bureau", "bench-clerk"};
  const Actor reviewer{"bench-reviewer", "reviewer", "dz-approval-bureau", "bench-reviewer"};
  const Actor approver{"bench-approver", "approver", "dz-approval-bureau", "bench-approver"};
  // The history grows by review rounds (pass, then send_back), which leave the state as it was:
  // what is measured is the length of the history, not the size of the state.
  auto act = [&](CaseService& service, const std::string& id, const std::string& action) {
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.actor = action == "accept" ? clerk : action == "pass" ? reviewer : approver;
    if (action == "send_back") r.data = {{"reason", "review again"}};
    return service.Act(r).status();
  };
  // A case under review after `rounds` review rounds: 2 + 2 * rounds events.
  auto make_case = [&](long rounds, std::string* id) -> Status {
    NewCase c;
    c.definition_id = "construction-permit";
    c.actor = applicant;
    c.applicant_id = applicant.id;
    c.applicant_name = "示例科技有限公司";
    c.form = application["form"];
    c.materials = application["materials"];
    auto created = cached.Create(c);
    if (!created.ok()) return created.status();
    *id = created->state.id;
    TONGBAN_RETURN_IF_ERROR(act(cached, *id, "accept"));
    for (long i = 0; i < rounds; ++i) {
      TONGBAN_RETURN_IF_ERROR(act(cached, *id, "pass"));
      TONGBAN_RETURN_IF_ERROR(act(cached, *id, "send_back"));
    }
    return Status::Ok();
  };
  std::string long_case;
  if (Status s = make_case((events - 2) / 2, &long_case); !s.ok()) {
    return Fail("building the long history", s);
  }
  // Short cases at 4 events: the measured action makes their fifth. One each, so they stay short.
  std::vector<std::string> short_cases(ops + std::min(ops, 50L));
  Progress progress("short cases");
  for (size_t i = 0; i < short_cases.size(); ++i) {
    if (Status s = make_case(1, &short_cases[i]); !s.ok()) return Fail("a short case", s);
    progress.Update(static_cast<long>(i), static_cast<long>(short_cases.size()));
  }
  progress.Done();
  const int64_t long_events = cached.Get(long_case)->state.version;
  // Interleaved, so a busy spell of the machine slows both sides alike.
  std::vector<double> act_long, act_short, act_long_uncached, act_short_uncached;
  std::vector<double> get_long, get_short;
  auto measure = [&](CaseService& service, const std::string& short_case, std::vector<double>* l,
                     std::vector<double>* sh) -> Status {
    Status status = Status::Ok();
    l->push_back(Time([&] { status = act(service, long_case, "pass"); }));
    TONGBAN_RETURN_IF_ERROR(status);
    TONGBAN_RETURN_IF_ERROR(act(service, long_case, "send_back"));
    sh->push_back(Time([&] { status = act(service, short_case, "pass"); }));
    return status;
  };
  for (long i = 0; i < ops; ++i) {
    if (Status s = measure(cached, short_cases[i], &act_long, &act_short); !s.ok()) {
      return Fail("acting", s);
    }
    Status status = Status::Ok();
    // Each read once first, so neither pays for coming first after the writes.
    (void)cached.Get(long_case);
    (void)cached.Get(short_cases[i]);
    get_short.push_back(Time([&] { status = cached.Get(short_cases[i]).status(); }));
    get_long.push_back(Time([&] { status = cached.Get(long_case).status(); }));
    if (!status.ok()) return Fail("reading", status);
  }
  for (long i = 0; i < std::min(ops, 50L); ++i) {
    Status s = measure(uncached, short_cases[ops + i], &act_long_uncached, &act_short_uncached);
    if (!s.ok()) return Fail("acting without the cache", s);
  }
  const int64_t short_events = cached.Get(short_cases[0])->state.version;

  double scrape_ms = 0, count_ms = 0;
  LightCounts lights, deliveries;
  if (metrics_cases > 0) {
    Status filled = FillMetricsCases(store, metrics_cases, clock.Now());
    if (!filled.ok()) return Fail("filling the cases", filled);
    std::vector<double> scrape, count;
    for (int i = 0; i < 21; ++i) {
      Status status = Status::Ok();
      scrape.push_back(Time([&] {
                         auto statuses = store->CountByStatus();
                         auto counted = cached.CountLights(LightClock::kDecision);
                         auto delivery = cached.CountLights(LightClock::kDelivery);
                         if (!statuses.ok()) status = statuses.status();
                         if (!counted.ok()) status = counted.status();
                         if (!delivery.ok()) status = delivery.status();
                         if (counted.ok()) lights = *counted;
                         if (delivery.ok()) deliveries = *delivery;
                       }) /
                       1000);
      if (!status.ok()) return Fail("scraping", status);
      count.push_back(Time([&] { (void)store->CountCases(); }) / 1000);
    }
    scrape_ms = Median(scrape);
    count_ms = Median(count);
  }

  const double al = Median(act_long), as = Median(act_short);
  const double alu = Median(act_long_uncached), asu = Median(act_short_uncached);
  const double gl = Median(get_long), gs = Median(get_short);
  if (WantsJson(args)) {
    nlohmann::json out = {
        {"benchmark", "history"},
        {"long_case_events", long_events},
        {"short_case_events", short_events},
        {"ops", ops},
        {"act_long_median_us", al},
        {"act_short_median_us", as},
        {"act_ratio", al / as},
        {"act_uncached_long_median_us", alu},
        {"act_uncached_short_median_us", asu},
        {"act_uncached_ratio", alu / asu},
        {"get_long_median_us", gl},
        {"get_short_median_us", gs},
        {"get_ratio", gl / gs},
        {"metrics_cases", metrics_cases},
        {"scrape_median_ms", scrape_ms},
        {"count_all_median_ms", count_ms},
        {"lights", {{"green", lights.green}, {"yellow", lights.yellow}, {"red", lights.red}}},
        {"delivery_lights",
         {{"green", deliveries.green}, {"yellow", deliveries.yellow}, {"red", deliveries.red}}}};
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  std::printf("history: a case with %lld events vs one with %lld, %ld ops each, interleaved\n",
              static_cast<long long>(long_events), static_cast<long long>(short_events), ops);
  std::printf("  action, machine cache:     long %.0f us, short %.0f us  (%.2fx; goal <= 1.2x)\n",
              al, as, al / as);
  std::printf("  action, no cache (replay): long %.0f us, short %.0f us  (%.2fx)\n", alu, asu,
              alu / asu);
  std::printf("  Get:                       long %.0f us, short %.0f us  (%.2fx; goal <= 1.2x)\n",
              gl, gs, gl / gs);
  if (metrics_cases > 0) {
    std::printf("metrics scrape with %ld bulk-inserted cases (+2 real ones)\n", metrics_cases);
    std::printf(
        "  counts by status + decision and delivery lights: median %.2f ms (goal < 50 ms)\n",
        scrape_ms);
    std::printf("  baseline SELECT count(*) FROM cases: median %.2f ms  (scrape %.3fx of it)\n",
                count_ms, scrape_ms / count_ms);
    std::printf(
        "  lights: green %lld, yellow %lld, red %lld; deliveries: green %lld, yellow %lld, "
        "red %lld\n",
        static_cast<long long>(lights.green), static_cast<long long>(lights.yellow),
        static_cast<long long>(lights.red), static_cast<long long>(deliveries.green),
        static_cast<long long>(deliveries.yellow), static_cast<long long>(deliveries.red));
  }
  return kExitOk;
}

}  // namespace tongban::cli
