// CaseFacts: what one case counts for in the indicators (赛马) and the audit queries, as of its
// latest write.
//
// The engine computes a case's facts from its state at every write (engine/indicators.h) and hands
// them to the store with the case (CaseRecord::facts). The store keeps them beside the case (the
// audit queries' index) and folds them into counters per (month, organ, item, zone) in the same
// transaction: it takes out what the case counted for before and adds what it counts for now, so
// that an indicator is a read of a few counter rows and never a scan of the cases.
//
// Thread safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "workflows/calendar.h"

namespace tongban {

struct CaseFacts {
  std::string month;  // "2026-11": the month of the application, in the item's calendar's zone
  std::string organ;  // the implementing organ (实施机关)
  std::string item;   // the definition id
  std::string zone;   // the organ handling the case (indicators.h says which)
  Instant applied_at{};
  std::optional<Instant> decided_at;
  bool late_statutory = false;  // decided after the statutory due date
  bool late_promised = false;   // decided after the promised due date (承诺时限)
  // Indicator name -> what this case adds to it; names with 0 may be left out.
  std::map<std::string, int64_t> counters;

  bool operator==(const CaseFacts&) const = default;
};

// The counters as the stores keep them: "name=value" pairs joined by ',' in name order (names are
// the engine's own identifiers: no ',' or '='). Zero values are left out.
std::string EncodeCounters(const std::map<std::string, int64_t>& counters);
// The inverse; malformed pairs are skipped (the text is the store's own).
std::map<std::string, int64_t> DecodeCounters(std::string_view text);

}  // namespace tongban
