#include <algorithm>
#include <chrono>
#include <iostream>

#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/synthetic.h"

namespace tongban::cli {

namespace {

constexpr const char* kHelp = R"(usage: tongban bench validate [OPTIONS]

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
  int steps = std::stoi(args.Get("steps").value_or("1000"));
  int runs = std::stoi(args.Get("runs").value_or("20"));
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
      for (const auto& d : set.Diagnostics()) std::cerr << FormatDiagnostic(d) << "\n";
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
  if (args.Get("format").value_or("text") == "json") {
    nlohmann::json out = {{"benchmark", "validate"},
                          {"steps", steps},
                          {"bytes", synthetic.item_text.size()},
                          {"runs", runs},
                          {"validate_median_ms", median},
                          {"validate_best_ms", validate_ms.front()},
                          {"baseline_parse_median_ms", baseline},
                          {"ratio_to_baseline", median / baseline},
                          {"warnings", diagnostics}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("validate %d-step item (%zu bytes), %d runs\n", steps, synthetic.item_text.size(),
                runs);
    std::printf("  validate (parse with positions + check + compile): median %.2f ms, best %.2f ms\n",
                median, validate_ms.front());
    std::printf("  baseline nlohmann::json::parse alone:                median %.2f ms\n", baseline);
    std::printf("  ratio validate / baseline parse: %.1fx\n", median / baseline);
  }
  return kExitOk;
}

}  // namespace

int BenchCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"steps", "runs", "format"});
  if (!args.ok()) return UsageError("bench", args.error());
  if (args.Has("help") || args.positional().empty()) {
    std::cout << kHelp;
    return args.Has("help") ? kExitOk : kExitUsage;
  }
  const std::string& what = args.positional()[0];
  if (what == "validate") return BenchValidate(args);
  return UsageError("bench", "unknown benchmark '" + what + "'");
}

}  // namespace tongban::cli
