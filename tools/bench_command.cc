#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "tools/bench_engine.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/synthetic.h"

namespace tongban::cli {

constexpr const char* kHttpHelp = R"(usage: tongban bench http [OPTIONS]

Measures durable transitions per second over HTTP: --connections keep-alive clients drive cases
(create, accept, pass, approve, deliver) through servers started in the same process, for
--seconds seconds. Baseline in the same run, with the same clients: the servers' trivial endpoint
(/healthz), the ceiling of each configuration.

Configurations, each on a fresh database:
  sqlite-1        one node on an SQLite file in a temporary directory (always measured)
  postgresql-1    with --postgres: one node on PostgreSQL
  postgresql-N    with --postgres: --nodes nodes on one PostgreSQL database
Each node has its own engine, store, connections, case cache and server on its own loopback
port, as separate processes would; connection c goes to node c mod N. Each node's clock starts
at Monday 2026-03-02 09:00 (+08:00) and runs in real time, as a server's does. On PostgreSQL
every run is in a schema of its own (tongban_bench_…), created in the database of the connection
string and dropped at the end. Writes are durable: SQLite synchronous=FULL, PostgreSQL
synchronous_commit=on. With --postgres, each configuration is compared with sqlite-1 of the same
round (goal for postgresql-1: at least 0.5x), and CPU per transition is also counted in
PostgreSQL's processes when the cluster runs on this machine and its data directory is readable.

Options:
  --postgres URI       also measure on the PostgreSQL database at URI (postgresql://…; the role
                       must be allowed to create a schema)
  --nodes N            nodes of the multi-node configuration (default 2; needs --postgres)
  --rounds R           run every configuration R times, in turn (default 1); prints each round,
                       and the median and spread of the ratios
  --connections N      concurrent clients, over all nodes (default 64)
  --seconds S          length of each phase (default 5)
  --definitions DIR    definitions to deploy (default definitions)
  --application FILE   the application each case starts from (default
                       docs/examples/construction-permit-application.json)
  --synchronous S      SQLite's: FULL (default), NORMAL or OFF
  --threads N          each server's thread pool (default 2 x its connections + 8; a keep-alive
                       connection holds a thread, so at least its connections)
  --format FORMAT      text (default) or json
  --help               show this help

Exit codes: 0 measured, 1 some request failed, 2 wrong usage, 3 the benchmark could not run (a
database that cannot be reached or used).
)";

int BenchReforms(const Args& args);
// bench_history.cc
extern const char* const kBenchHistoryHelp;
int BenchHistory(const Args& args);
// bench_archive.cc
extern const char* const kBenchArchiveHelp;
int BenchArchive(const Args& args);
// bench_overload.cc
extern const char* const kBenchOverloadHelp;
int BenchOverload(const Args& args);
// bench_indicators.cc
extern const char* const kBenchIndicatorsHelp;
int BenchIndicators(const Args& args);

constexpr const char* kReformsHelp =
    R"(usage: tongban bench reforms [--cases N] [--definitions DIR] [--format text|json]

Measures what the reforms cost per operation, each against a baseline measured in the same run
on the same throw-away database (synchronous=OFF, so the figures are CPU, not fsync):
  - accept under a delegation (the jurisdiction check reads the ledger and scans the delegation
    records) vs accept by the implementing organ;
  - applying for the business-startup bundle (the bundle case and its first part in one
    transaction) vs applying for establishment-registration alone.
Medians over --cases operations each (default 300) on the shipped definitions (--definitions,
default ./definitions).

Exit codes: 0 measured, 2 wrong usage, 3 the benchmark could not run.
)";

namespace {

constexpr const char* kHelp = R"(usage: tongban bench BENCHMARK [OPTIONS]

Measures speed. Every benchmark prints its figures beside a baseline measured in the same
run, and the ratio between them: machines are shared and noisy, so compare ratios.

Benchmarks:
  validate      validating a large item definition (goal: 1,000 steps well under 100 ms)
  transitions   durable transitions/s, 64 callers, group commit vs one commit per write
                (goal: at least 5x)
  replay        hash-chain verification and replay on one thread, VerifyAll on --threads,
                in events/s
                (goal: VerifyAll at 1,000,000 events/s or more)
  read          GetCase latency with 1,000,000 cases stored (goal: p99 below 1 ms)
  http          durable transitions/s over HTTP against the server's /healthz ceiling;
                with --postgres, also one node and --nodes nodes on PostgreSQL against
                one on SQLite (goal: one PostgreSQL node at least 0.5x)
  overload      open-loop creations at --rate against the bounded server: p99 latency,
                503s with Retry-After, and no request lost
  reforms       a staff action under a delegation vs by the implementing organ; applying
                for a bundle vs for its first item alone
  history       an action and a read on a 1,000-event case vs a 5-event one (goal: at most
                1.2x); a metrics scrape with 1,000,000 cases stored (goal: under 50 ms)
  archive       exporting a 1,000-event case's archive, and verifying it alone, against
                reading its history as JSON and verifying the case in the database
  indicators    GET /v1/indicators over --cases stored vs GET /healthz and count(*)

Common options:
  --format FORMAT    text (default) or json
  --help             show this help, or a benchmark's with 'tongban bench BENCHMARK --help'

Results and method: docs/benchmarks.md.
)";

constexpr const char* kValidateHelp = R"(usage: tongban bench validate [OPTIONS]

Measures how long validating a large item definition takes: a synthetic item with --steps
review steps (each with guards, materials and a return edge) is parsed, checked and compiled
--runs times. As a baseline measured in the same run, the same text is parsed by
nlohmann::json alone; the ratio is what the validator adds.

Options:
  --steps N          steps in the synthetic item (default 1000)
  --runs N           repetitions (default 20); the median and the best are printed
  --format FORMAT    text (default) or json
  --help             show this help
)";

double Milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int BenchValidate(const Args& args) {
  auto number = [](const std::optional<std::string>& text, int fallback) {
    if (!text) return fallback;
    char* end = nullptr;
    long value = std::strtol(text->c_str(), &end, 10);
    return text->empty() || *end != '\0' || value < 1 || value > 1'000'000
               ? -1
               : static_cast<int>(value);
  };
  int steps = number(args.Get("steps"), 1000);
  int runs = number(args.Get("runs"), 20);
  if (steps < 1 || runs < 1) return UsageError("bench", "--steps and --runs must be positive");
  SyntheticDefinitions synthetic = MakeSyntheticItem(steps);
  std::vector<double> validate_ms, parse_ms;
  Progress progress("bench validate");
  size_t diagnostics = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    nlohmann::json plain = nlohmann::json::parse(synthetic.item_text);
    auto t1 = std::chrono::steady_clock::now();
    DefinitionSet set;
    set.AddText("calendar.json", synthetic.calendar_text, false);
    set.AddText("synthetic.json", synthetic.item_text, true);
    set.Compile();
    auto t2 = std::chrono::steady_clock::now();
    diagnostics = set.Diagnostics().size();
    if (set.HasErrors() || plain.is_null()) {
      for (const auto& d : set.Diagnostics())
        std::cerr << FormatDiagnostic(d) << "\n";
      return kExitError;
    }
    parse_ms.push_back(Milliseconds(t1 - t0));
    validate_ms.push_back(Milliseconds(t2 - t1));
    progress.Update(r + 1, runs);
  }
  progress.Done();
  std::sort(validate_ms.begin(), validate_ms.end());
  std::sort(parse_ms.begin(), parse_ms.end());
  double median = validate_ms[validate_ms.size() / 2];
  double baseline = parse_ms[parse_ms.size() / 2];
  if (WantsJson(args)) {
    nlohmann::json out = {{"benchmark", "validate"},
                          {"steps", steps},
                          {"bytes", synthetic.item_text.size()},
                          {"runs", runs},
                          {"validate_median_ms", median},
                          {"validate_best_ms", validate_ms.front()},
                          {"baseline_parse_median_ms", baseline},
                          {"ratio_to_baseline", median / baseline},
                          {"goal", {{"validate_median_ms_below", 100}, {"met", median < 100}}},
                          {"warnings", diagnostics}};
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::printf("validate %d-step item (%zu bytes), %d runs\n", steps, synthetic.item_text.size(),
                runs);
    std::printf(
        "  validate (parse with positions + check + compile): median %.2f ms, best %.2f ms\n",
        median, validate_ms.front());
    std::printf("  baseline nlohmann::json::parse alone:                median %.2f ms\n",
                baseline);
    std::printf("  ratio validate / baseline parse: %.1fx\n", median / baseline);
    std::printf("  goal: median < 100 ms: %s\n", median < 100 ? "met" : "NOT met");
  }
  return kExitOk;
}

}  // namespace

int BenchCommand(int argc, char** argv, int first) {
  struct Benchmark {
    const char* name;
    const char* help;
    std::vector<std::string> options;  // the options it takes besides help and format
  };
  const std::vector<Benchmark> benchmarks = {
      {"validate", kValidateHelp, {"steps", "runs"}},
      {"transitions",
       kBenchTransitionsHelp,
       {"callers", "cases", "steps", "synchronous", "rounds", "dir", "check"}},
      {"replay", kBenchReplayHelp, {"cases", "steps", "threads", "dir", "check"}},
      {"read", kBenchReadHelp, {"cases", "reads", "db", "dir", "snapshot-bytes", "check"}},
      {"http",
       kHttpHelp,
       {"connections", "seconds", "definitions", "application", "synchronous", "threads",
        "postgres", "nodes", "rounds"}},
      {"reforms", kReformsHelp, {"cases", "definitions"}},
      {"history", kBenchHistoryHelp, {"events", "ops", "metrics-cases", "definitions"}},
      {"archive", kBenchArchiveHelp, {"events", "ops", "definitions"}},
      {"overload",
       kBenchOverloadHelp,
       {"rate", "seconds", "threads", "max-queued", "max-write-queue", "senders", "definitions",
        "application"}},
      {"indicators", kBenchIndicatorsHelp, {"cases", "requests", "definitions"}},
  };
  const std::vector<std::string> flags = {"help", "check"};
  // Every option any benchmark takes; each benchmark then refuses those that are not its own.
  std::vector<std::string> with_value = {"format"};
  for (const Benchmark& b : benchmarks) {
    for (const std::string& option : b.options) {
      if (std::find(flags.begin(), flags.end(), option) == flags.end() &&
          std::find(with_value.begin(), with_value.end(), option) == with_value.end()) {
        with_value.push_back(option);
      }
    }
  }
  Args args(argc, argv, first, flags, with_value);
  if (!args.ok()) return UsageError("bench", args.error());
  if (args.positional().empty()) {
    (args.Has("help") ? std::cout : std::cerr) << kHelp;
    return args.Has("help") ? kExitOk : kExitUsage;
  }
  const std::string& what = args.positional()[0];
  auto benchmark = std::find_if(benchmarks.begin(), benchmarks.end(),
                                [&](const Benchmark& b) { return what == b.name; });
  if (benchmark == benchmarks.end()) {
    return UsageError("bench", "unknown benchmark '" + what + "'");
  }
  if (args.Has("help")) {
    std::cout << benchmark->help;
    return kExitOk;
  }
  if (args.positional().size() > 1) {
    return UsageError("bench", "unexpected argument '" + args.positional()[1] + "'");
  }
  for (const std::string& option : with_value) {
    if (option == "format") continue;
    if (args.Has(option) && std::find(benchmark->options.begin(), benchmark->options.end(),
                                      option) == benchmark->options.end()) {
      return UsageError("bench", "bench " + what + " takes no --" + option);
    }
  }
  if (args.Has("check") && std::find(benchmark->options.begin(), benchmark->options.end(),
                                     "check") == benchmark->options.end()) {
    return UsageError("bench", "bench " + what + " takes no --check");
  }
  if (auto bad = TextOrJsonFormatError(args, "bench")) return *bad;
  if (what == "validate") return BenchValidate(args);
  if (what == "http") return BenchHttp(args);
  if (what == "reforms") return BenchReforms(args);
  if (what == "history") return BenchHistory(args);
  if (what == "archive") return BenchArchive(args);
  if (what == "overload") return BenchOverload(args);
  if (what == "indicators") return BenchIndicators(args);
  if (what == "transitions") return BenchTransitions(args);
  if (what == "replay") return BenchReplay(args);
  if (what == "read") return BenchRead(args);
  return UsageError("bench", "unknown benchmark '" + what + "'");
}

}  // namespace tongban::cli
