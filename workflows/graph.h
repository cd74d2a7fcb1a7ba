// Diagrams of the whole machine a case of an item runs: the statutory frame of the Administrative
// Licensing Law with the item's own review steps drawn inside "under review".
//
// Both outputs render without edits: Mermaid (stateDiagram-v2) and Graphviz DOT (`dot -Tsvg`).
// Special-procedure steps (the clock pauses) and joint steps (every party must pass) are marked.
// A bundle is drawn as the flowchart of its parts.
#pragma once

#include <string>

#include "workflows/bundle.h"
#include "workflows/item.h"

namespace tongban {

std::string RenderMermaid(const Item& item);
std::string RenderDot(const Item& item);

// A bundle's parts as a flowchart: one node per part (its title, item title and version, organ),
// an edge from each part it waits for ("after"), or from the start when it waits for none. The
// edges into a part with a "when" guard are labelled with the guard ("when has_employees == true").
std::string RenderMermaid(const Bundle& bundle);
std::string RenderDot(const Bundle& bundle);

// A guard expression as one line of text for a diagram: {"==": [{"var": "a"}, true]} → a == true.
std::string GuardText(const nlohmann::json& expression);

}  // namespace tongban
