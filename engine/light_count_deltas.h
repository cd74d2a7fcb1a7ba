// LightCountDeltas: what one transaction changes in the light counts a store keeps on write, so
// that metrics count lights by summing a few rows instead of computing every case's clock.
//
// A case write records, with the case, the instants from which its running clock's light is yellow
// and red if nothing else happens to it (NextLightChanges in case_clock.h). The store keeps, per
// clock, one row per instant: how many cases turn yellow and red then (a yellow case turning red
// is -1 yellow, +1 red), so the lights at `now` are sums over the rows up to `now`. A write takes
// the case's previous instants out (delta -1) and puts its new ones in (+1).
//   kDecision: cases under review (their number comes from the counts by status).
//   kDelivery: granted cases awaiting delivery of the certificate (status approved with instants
//              recorded); `waiting` counts them, at instant 0 so that every sum includes it.
//
// Thread safety: a plain value; one transaction's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace tongban {

struct LightRowDelta {
  int64_t waiting = 0;  // kDelivery only
  int64_t yellow = 0;
  int64_t red = 0;
};

struct LightCountDeltas {
  std::map<int64_t, LightRowDelta> decision;  // at_ms -> change of light_changes
  std::map<int64_t, LightRowDelta> delivery;  // at_ms -> change of delivery_light_changes

  // Adds `delta` (+1 or -1) times a case of `status` whose light turns yellow and red at the given
  // instants (milliseconds since the epoch; unset: not within the horizon, or not recorded). A
  // status other than under_review and approved changes nothing, nor does a case whose lights are
  // not known (CaseRecord::lights_known: its instants say nothing; Store::CountLights counts it
  // apart, as unknown).
  void AddCase(std::string_view status, bool lights_known, std::optional<int64_t> yellow_ms,
               std::optional<int64_t> red_ms, int64_t delta);
  void Merge(const LightCountDeltas& other);
};

}  // namespace tongban
