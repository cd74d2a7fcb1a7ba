// Synthetic definitions of any size, for benchmarks and scale tests.
#pragma once

#include <string>

namespace tongban {

struct SyntheticDefinitions {
  std::string calendar_text;  // a "calendar" definition covering 2025–2026
  std::string item_text;      // an "item" with the requested number of steps
};

// An item whose steps form a chain; each step passes forward (guarded on the form), may return to
// the previous step, and the last step decides. Every step has a limit, so the time check has work
// to do.
SyntheticDefinitions MakeSyntheticItem(int steps);

}  // namespace tongban
