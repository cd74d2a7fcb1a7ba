// Step-graph analysis of an item: reachability, traps, approvability, longest time path.
//
// Linear in steps + actions, so it stays fast on definitions with thousands of steps. Guards are
// ignored: the analysis asks what the graph allows, not what a particular form makes possible.
#pragma once

#include <vector>

#include "workflows/item.h"

namespace tongban {

struct StepGraphReport {
  std::vector<size_t> unreachable;  // steps not reachable from the initial step
  std::vector<size_t> trapped;      // reachable steps from which no decision can be reached
  bool can_approve = false;         // some path from the initial step ends in approve
  // The largest sum of step limits (of steps that count toward the limit) along any path from the
  // initial step. A cycle's steps are counted once: a case that loops is re-reviewed, not timed
  // twice.
  int longest_path_days = 0;
};

StepGraphReport AnalyzeStepGraph(const Item& item);

}  // namespace tongban
