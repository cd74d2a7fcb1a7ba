// Snapshot codec: the stored form of a case's state (CaseRecord::snapshot), apart from the API's
// views.
//
// Reads come from the stored snapshot (plus the clock computed at read time), so the snapshot must
// hold everything the state machine knows and nothing that is a view: a new field in an API
// response must not change stored bytes, and a stored snapshot must decode to exactly the state
// that replaying the case's events builds (verification compares the two).
//
// Format: canonical JSON (sorted keys, no spaces; see CanonicalJson), with "format" set to
// kSnapshotFormat and "kind" to "case" or "bundle". A change of layout is a new format number,
// and Decode keeps reading every older one:
//   format 0 (no "format" field): written before this codec, by the views CaseStateToJson /
//            BundleStateToJson (Tongban up to schema version 2); instants as RFC 3339 text.
//   format 1: the layout of format 0 as it stood (the codec's own copy: the views may change,
//            this does not), without derived fields (a bundle's status and outcome), with
//            instants as integer milliseconds since the epoch; the review step by id.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/bundle_case.h"
#include "engine/case_state.h"
#include "workflows/item.h"
#include "workflows/status.h"

namespace tongban {

inline constexpr int kSnapshotFormat = 1;

// The stored snapshot of an item case; `item` is the case's definition (it names the step).
std::string EncodeCaseSnapshot(const CaseState& state, const Item& item);
// The state stored by EncodeCaseSnapshot (any format). kDataLoss when the text is not a case
// snapshot, names a step `item` does not have, or is of a format newer than this build's.
Result<CaseState> DecodeCaseSnapshot(std::string_view text, const Item& item);

std::string EncodeBundleSnapshot(const BundleState& state);
// As DecodeCaseSnapshot, for bundle cases.
Result<BundleState> DecodeBundleSnapshot(std::string_view text);

// The format a stored snapshot is in (0 for the unversioned format), or -1 when it is not JSON.
int SnapshotFormatOf(std::string_view text);

}  // namespace tongban
