#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <vector>

#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kContextFolders[] = {"calendars", "items", "delegations"};

constexpr const char* kHelp = R"(usage: tongban validate [OPTIONS] PATH...

Checks definition files (items, calendars, bundles, delegation lists, handling agreements)
and reports every problem at once, each with file:line:column, the JSON pointer of the
value, and what is wrong. A directory is searched for *.json files recursively.

Options:
  --with PATH        also load PATH (file or directory) to resolve references, without
                     reporting on it; may repeat. The nearest calendars/, items/ and
                     delegations/ folders above each PATH are loaded this way automatically,
                     so a bundle or an agreements list validates on its own.
  --format FORMAT    text (default) or json
  --quiet            print errors only, no warnings and no summary
  --help             show this help

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 wrong usage (a folder without
any *.json file among them), 3 a PATH or --with PATH that does not exist.
)";

}  // namespace

namespace {

// Whether `path` (canonical) is one of `reported`, or inside one of them.
bool IsReported(const std::string& path, const std::set<std::string>& reported) {
  for (const std::string& r : reported) {
    if (path == r || path.rfind(r + "/", 0) == 0) return true;
  }
  return false;
}

// Adds a context file or folder, leaving out the files that are reported already (validating
// items/a.json loads items/ as context, but not a.json a second time).
void AddContext(DefinitionSet* set, const std::string& path,
                const std::set<std::string>& reported) {
  std::error_code error;
  std::string absolute = fs::weakly_canonical(path, error).string();
  if (IsReported(absolute, reported)) return;
  if (!fs::is_directory(path, error)) {
    set->AddPath(path, false);
    return;
  }
  std::vector<std::string> found;
  for (auto it = fs::recursive_directory_iterator(path, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    std::error_code ignored;
    if (IsReported(fs::weakly_canonical(it->path(), ignored).string(), reported)) continue;
    found.push_back(it->path().string());
  }
  std::sort(found.begin(), found.end());
  for (const std::string& f : found)
    set->AddPath(f, false);
}

}  // namespace

void LoadDefinitions(DefinitionSet* set, const std::vector<std::string>& paths,
                     const std::vector<std::string>& with) {
  std::set<std::string> reported;
  for (const std::string& p : paths) {
    std::error_code error;
    fs::path absolute = fs::weakly_canonical(p, error);
    reported.insert(absolute.string());
  }
  std::set<std::string> context;
  for (const std::string& w : with)
    context.insert(w);
  // The nearest folder of each of these names above each path: calendars for items and bundles,
  // items for bundles, delegation and agreements lists, delegations for agreements lists.
  for (const char* folder : kContextFolders) {
    for (const std::string& p : paths) {
      std::error_code error;
      fs::path dir = fs::weakly_canonical(p, error);
      if (!fs::is_directory(dir, error)) dir = dir.parent_path();
      for (int depth = 0; depth < 4 && !dir.empty(); ++depth) {
        fs::path candidate = dir / folder;
        if (fs::is_directory(candidate, error)) {
          context.insert(candidate.string());
          break;
        }
        if (dir == dir.parent_path()) break;
        dir = dir.parent_path();
      }
    }
  }
  for (const std::string& p : paths)
    set->AddPath(p, true);
  for (const std::string& c : context)
    AddContext(set, c, reported);
}

int ValidateCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help", "quiet"}, {"with", "format"});
  if (!args.ok()) return UsageError("validate", args.error());
  if (args.Has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (auto bad = TextOrJsonFormatError(args, "validate")) return *bad;
  if (args.positional().empty()) return UsageError("validate", "no definition files given");
  // A path that is not there is a command line that cannot be carried out (a typo, a folder
  // moved), not a definition with errors; and a --with path that is not there would leave its
  // references unresolved, reported against the files that use them.
  std::vector<std::string> named = args.positional();
  for (const std::string& with : args.GetAll("with"))
    named.push_back(with);
  for (const std::string& path : named) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
      std::cerr << "tongban validate: " << path << ": no such file or folder\n";
      return kExitError;
    }
  }

  DefinitionSet set;
  LoadDefinitions(&set, args.positional(), args.GetAll("with"));
  // A folder without a definition in it checks nothing: a CI job pointed at the wrong folder
  // must not pass.
  if (set.reported_file_count() == 0) {
    return UsageError("validate", "no *.json definition files in " + args.positional()[0] +
                                      (args.positional().size() > 1 ? " and the rest" : ""));
  }
  set.Compile();
  std::vector<Diagnostic> diagnostics = set.Diagnostics();
  size_t errors = 0, warnings = 0;
  for (const Diagnostic& d : diagnostics)
    (d.severity == Severity::kError ? errors : warnings)++;
  bool quiet = args.Has("quiet");

  if (WantsJson(args)) {
    nlohmann::json out = {{"valid", errors == 0},
                          {"files", set.reported_file_count()},
                          {"errors", errors},
                          {"warnings", warnings},
                          {"diagnostics", nlohmann::json::array()}};
    for (const Diagnostic& d : diagnostics) {
      if (quiet && d.severity != Severity::kError) continue;
      out["diagnostics"].push_back(DiagnosticToJson(d));
    }
    std::cout << PrettyJson(out) << "\n";
  } else {
    for (const Diagnostic& d : diagnostics) {
      if (quiet && d.severity != Severity::kError) continue;
      std::cout << FormatDiagnostic(d) << "\n";
    }
    if (!quiet) {
      std::cout << set.reported_file_count() << " file(s) checked: " << errors << " error(s), "
                << warnings << " warning(s)\n";
    }
  }
  return errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
