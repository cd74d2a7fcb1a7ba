// Identities of new cases (ids, human case numbers, query codes), and how a case's events and
// store record are made — shared by the item and bundle halves of CaseService.
//
// Thread safety: all functions are thread-safe (OpenSSL's RAND_bytes).
#pragma once

#include <string>

#include "engine/event.h"
#include "engine/lifecycle.h"
#include "engine/store.h"
#include "workflows/calendar.h"

namespace tongban {

// "c", then `now` in milliseconds since the Unix epoch as 12 hex digits, then 16 random hex digits
// (64 bits). Ids made later sort later, so the stores keep a new case's rows (its events, its
// index entries) beside those of the cases made just before it: the cases being worked on share
// pages instead of each dirtying a page of its own somewhere in the file. The random digits keep an
// id unguessable from its neighbours. Ids made before (21 characters, all random) stay valid: ids
// are opaque strings, compared only for equality and order.
constexpr int kCaseIdTimeDigits = 12;
constexpr int kCaseIdRandomDigits = 16;
std::string NewCaseId(Instant now);
// What the applicant types to track a case: 8 characters without look-alikes (0/O, 1/I).
std::string NewQueryCode();
// "TB20260302-12345678": the local date of `now` and 8 random digits.
std::string NewCaseNumber(const Calendar& calendar, Instant now);
Command CommandFromEvent(const Event& event);
// The event recording `command` on case `case_id`, which it left in `status` / `step`, chained to
// `prev_hash` (item and bundle cases alike).
Event ChainedEvent(const Command& command, const std::string& case_id, int64_t seq,
                   const std::string& status, const std::string& step,
                   const std::string& definition_id, int definition_version,
                   const std::string& prev_hash, const std::string& idempotency_key);

// The store write for `events`, just applied to a case now in `state` (an item case's CaseState
// or a bundle's BundleState: both carry the identity fields used here). The snapshot is `encode`
// (snapshot_codec.h) of the state at the new version and hash.
template <class State, class Encode>
CaseWrite CaseWriteFor(const State& state, std::string status, std::string step,
                       int64_t expected_version, std::vector<Event> events, Encode encode) {
  CaseWrite write;
  write.expected_version = expected_version;
  CaseRecord& r = write.record;
  r.id = state.id;
  r.number = state.number;
  r.query_code = state.query_code;
  r.definition_id = state.definition_id;
  r.definition_version = state.definition_version;
  r.status = std::move(status);
  r.step = std::move(step);
  r.applicant_id = state.applicant_id;
  r.organ_id = state.organ_id;
  r.created_at = state.created_at;
  r.updated_at = state.updated_at;
  r.version = events.empty() ? expected_version : events.back().seq;
  State snapshot = state;
  snapshot.version = r.version;
  snapshot.last_hash = events.empty() ? state.last_hash : events.back().hash;
  r.snapshot = encode(snapshot);
  write.events = std::move(events);
  return write;
}

}  // namespace tongban
