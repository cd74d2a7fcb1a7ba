// Diagrams of the whole machine a case of an item runs: the statutory frame of the Administrative
// Licensing Law with the item's own review steps drawn inside "under review".
//
// Both outputs render without edits: Mermaid (stateDiagram-v2) and Graphviz DOT (`dot -Tsvg`).
// Special-procedure steps (the clock pauses) and joint steps (every party must pass) are marked.
// A bundle is drawn as the flowchart of its parts.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "workflows/bundle.h"
#include "workflows/item.h"

namespace tongban {

// How a DOT graph is laid out: rankdir "LR" (left to right, the default of the DOT text) or "TB"
// (top to bottom, for a page).
struct DotOptions {
  std::string rankdir = "LR";
};
// Whether `rankdir` is one DotOptions takes.
bool IsRankdir(const std::string& rankdir);

std::string RenderMermaid(const Item& item);
// The DOT graph draws for people: states and edges in Chinese — the frame's statuses in words, each
// edge with its action's title (受理, 一次性告知补正, the item's own action titles; a guarded
// action with its condition), the frame actions that hold or stretch the clock during review, and
// the commitment path (告知承诺: the acceptance that decides at once, then the verification and its
// outcomes) — in the font "Noto Sans CJK SC" (Debian fonts-noto-cjk), so that Graphviz draws the
// characters. Node names stay the status codes and s0, s1, … (the SVG's <title>s).
std::string RenderDot(const Item& item, const DotOptions& options = {});

// A bundle's parts as a flowchart: one node per part (its title, item title and version, organ),
// an edge from each part it waits for ("after"), or from the start when it waits for none. The
// edges into a part with a "when" guard are labelled with the guard ("when has_employees == true").
std::string RenderMermaid(const Bundle& bundle);
std::string RenderDot(const Bundle& bundle, const DotOptions& options = {});

// A guard expression as one line of text for a diagram: {"==": [{"var": "a"}, true]} → a == true.
std::string GuardText(const nlohmann::json& expression);

}  // namespace tongban
