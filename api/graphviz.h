// Graphviz rendering for GET /v1/definitions/{id}/graph?format=svg: the DOT text laid out by
// Graphviz's own `dot -Tsvg`, run as a child process with a time limit.
//
// Why a process and not libgvc: Graphviz is already a runtime dependency (tools/deps.sh), libgvc's
// development package is not, and a layout that crashes or runs away (Graphviz has had both)
// costs one child process, killed at the time limit, instead of the server.
//
// Thread safety: thread-safe; each call runs its own process.
#pragma once

#include <chrono>
#include <string>

#include "workflows/status.h"

namespace tongban::api {

struct GraphvizOptions {
  std::string program = "dot";  // looked up on PATH
  std::chrono::milliseconds timeout{5000};
  size_t max_output_bytes = 16u << 20;
};

// `dot_text` rendered as SVG. kUnavailable when the program cannot be started or takes longer than
// the time limit (it is then killed); kInternal when it fails or writes more than the limit.
Result<std::string> RenderSvg(const std::string& dot_text, const GraphvizOptions& options = {});

}  // namespace tongban::api
