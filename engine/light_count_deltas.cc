#include "engine/light_count_deltas.h"

namespace tongban {

namespace {

void AddInstants(std::map<int64_t, LightRowDelta>& rows, std::optional<int64_t> yellow_ms,
                 std::optional<int64_t> red_ms, int64_t delta) {
  // A case that turns red without being yellow first is yellow for no time.
  if (red_ms && (!yellow_ms || *yellow_ms > *red_ms)) yellow_ms = red_ms;
  if (yellow_ms) rows[*yellow_ms].yellow += delta;
  if (red_ms) {
    LightRowDelta& row = rows[*red_ms];
    row.yellow -= delta;
    row.red += delta;
  }
}

void MergeRows(std::map<int64_t, LightRowDelta>& into,
               const std::map<int64_t, LightRowDelta>& from) {
  for (const auto& [at, change] : from) {
    LightRowDelta& row = into[at];
    row.waiting += change.waiting;
    row.yellow += change.yellow;
    row.red += change.red;
  }
}

}  // namespace

void LightCountDeltas::AddCase(std::string_view status, bool lights_known,
                               std::optional<int64_t> yellow_ms, std::optional<int64_t> red_ms,
                               int64_t delta) {
  if (!lights_known) return;
  if (status == "under_review") {
    AddInstants(decision, yellow_ms, red_ms, delta);
  } else if (status == "approved" && (yellow_ms || red_ms)) {
    // Only a grant awaiting delivery has instants: a bundle's record, or a case written before the
    // store kept delivery lights, has none and is not counted here.
    delivery[0].waiting += delta;
    AddInstants(delivery, yellow_ms, red_ms, delta);
  }
}

void LightCountDeltas::Merge(const LightCountDeltas& other) {
  MergeRows(decision, other.decision);
  MergeRows(delivery, other.delivery);
}

}  // namespace tongban
