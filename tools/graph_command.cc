#include <filesystem>
#include <iostream>

#include "tools/cli.h"
#include "tools/commands.h"
#include "workflows/graph.h"

namespace tongban::cli {

namespace {

constexpr const char* kHelp = R"(usage: tongban graph [OPTIONS] FILE

Draws the whole machine a case of the item in FILE runs: the statutory frame (received,
correction, under review, decided, closed, not accepted, withdrawn, ...) with the item's own
review steps inside "under review". Special-procedure steps (clock paused) and joint steps
are marked. The dot output is in Chinese: the statuses in words, each edge with its action's
title, the commitment path (告知承诺) where the item has one, in the font "Noto Sans CJK SC"
(Debian fonts-noto-cjk, installed by tools/deps.sh) so that Graphviz draws the characters. For a bundle, draws its parts (item, organ) and the order they run in: an edge
from each part a part waits for, labelled with the part's "when" guard. The output goes to
standard output.

Options:
  --format FORMAT    mermaid (default) or dot (render with: dot -Tsvg -o item.svg, or
                     dot -Tpng -o item.png)
  --rankdir DIR      dot only: LR (default, left to right) or TB (top to bottom)
  --with PATH        load PATH to resolve references (calendars, items); may repeat
  --help             show this help

Exit codes: 0 drawn, 1 the definition has errors (they are printed), 2 wrong usage.
)";

}  // namespace

int GraphCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"with", "format", "rankdir"});
  if (!args.ok()) return UsageError("graph", args.error());
  if (args.Has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  std::string format = args.Get("format").value_or("mermaid");
  if (format != "mermaid" && format != "dot") {
    return UsageError("graph", "--format must be mermaid or dot");
  }
  DotOptions options;
  if (auto rankdir = args.Get("rankdir")) {
    if (!IsRankdir(*rankdir)) return UsageError("graph", "--rankdir must be TB or LR");
    if (format != "dot") return UsageError("graph", "--rankdir needs --format dot");
    options.rankdir = *rankdir;
  }
  if (args.positional().size() != 1) {
    return UsageError("graph", "give exactly one item or bundle file");
  }
  std::error_code error;
  if (std::filesystem::is_directory(args.positional()[0], error)) {
    return UsageError("graph", args.positional()[0] +
                                   " is a folder; give one item or bundle file (the other "
                                   "definitions it needs with --with)");
  }
  DefinitionSet set;
  LoadDefinitions(&set, args.positional(), args.GetAll("with"));
  set.Compile();
  if (set.HasErrors()) {
    for (const Diagnostic& d : set.Diagnostics())
      std::cerr << FormatDiagnostic(d) << "\n";
    return kExitFailure;
  }
  std::shared_ptr<const Item> item;
  std::shared_ptr<const Bundle> bundle;
  for (const auto& file : set.files()) {
    if (!file.report || !file.source.contains("id")) continue;
    std::string id = file.source["id"].get<std::string>();
    int version = file.source.value("version", 0);
    if (file.kind == "item") item = set.FindItem(id, version);
    if (file.kind == "bundle") bundle = set.FindBundle(id, version);
  }
  if (bundle) {
    std::cout << (format == "dot" ? RenderDot(*bundle, options) : RenderMermaid(*bundle));
    return kExitOk;
  }
  if (!item) {
    return UsageError("graph", args.positional()[0] + " is not an item or bundle definition");
  }
  std::cout << (format == "dot" ? RenderDot(*item, options) : RenderMermaid(*item));
  return kExitOk;
}

}  // namespace tongban::cli
