// Diagrams of the whole machine a case of an item runs: the statutory frame of the Administrative
// Licensing Law with the item's own review steps drawn inside "under review".
//
// Both outputs render without edits: Mermaid (stateDiagram-v2) and Graphviz DOT (`dot -Tsvg`).
// Special-procedure steps (the clock pauses) and joint steps (every party must pass) are marked.
#pragma once

#include <string>

#include "workflows/item.h"

namespace tongban {

std::string RenderMermaid(const Item& item);
std::string RenderDot(const Item& item);

}  // namespace tongban
