// Event: one entry of a case's append-only, hash-chained history.
//
// Every change to a case is an event: who did what, when, with which data, and where it left the
// case. Each event's hash covers a canonical encoding of all of that plus the previous event's
// hash, so rewriting, deleting or reordering any event breaks every hash after it. The event's data
// is kept as canonical JSON text (sorted keys, no insignificant space) so that the hash can be
// checked from stored bytes without parsing.
//
// Thread safety: plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "workflows/calendar.h"
#include "workflows/sha256.h"

namespace tongban {

struct Actor {
  std::string id;     // principal id, or "system" for timers
  std::string role;   // the role the action was taken in
  std::string organ;  // the organ the actor works for ("" for applicants)
  std::string name;

  static Actor System() { return Actor{"system", "system", "", "Tongban"}; }
};

// The hash that precedes a case's first event.
inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct Event {
  std::string case_id;
  int64_t seq = 0;  // 1-based, dense
  Instant time;
  Actor actor;
  std::string action;
  std::string data = "{}";  // canonical JSON text of an object
  std::string status;       // the case's status code after this event
  std::string step;         // the current review step after this event, "" outside review
  std::string definition_id;
  int definition_version = 0;
  std::string prev_hash;
  std::string hash;
  std::string idempotency_key;  // transport metadata, not part of the hash

  nlohmann::json DataJson() const;

  // Member by member: a scan hands the event it reuses to a visitor that swaps it into a slot of
  // its own (verification), and std::swap's three moves of a dozen strings cost more.
  friend void swap(Event& a, Event& b) noexcept {
    using std::swap;
    swap(a.case_id, b.case_id);
    swap(a.seq, b.seq);
    swap(a.time, b.time);
    swap(a.actor.id, b.actor.id);
    swap(a.actor.role, b.actor.role);
    swap(a.actor.organ, b.actor.organ);
    swap(a.actor.name, b.actor.name);
    swap(a.action, b.action);
    swap(a.data, b.data);
    swap(a.status, b.status);
    swap(a.step, b.step);
    swap(a.definition_id, b.definition_id);
    swap(a.definition_version, b.definition_version);
    swap(a.prev_hash, b.prev_hash);
    swap(a.hash, b.hash);
    swap(a.idempotency_key, b.idempotency_key);
  }
};

// Canonical JSON text of a value: sorted keys, compact. The form every event's data is stored in.
std::string CanonicalJson(const nlohmann::json& value);
// Appends CanonicalJson(value) to `out`: the same bytes, written without building a serializer for
// the common values (strings that need no escaping, integers, booleans, null, objects, arrays).
void AppendCanonicalJson(std::string* out, const nlohmann::json& value);
// Appends the JSON string literal CanonicalJson writes for `text` (invalid UTF-8 replaced).
void AppendJsonString(std::string* out, std::string_view text);
// Parses stored canonical data text; an empty object when it is not JSON (verification reports
// such data through the hash, not through a parse error here). Canonical text is read by a parser
// of its own (replay parses every event), other text by nlohmann's; the tree is nlohmann's either
// way.
nlohmann::json ParseStoredData(const std::string& text);
// Appends one field of a canonical hash encoding: its length, ':', the bytes, '\n' — so that no
// value can shift a field boundary. Shared by events and ledger entries.
void AppendEncodedField(std::string* out, std::string_view value);

// AppendEncodedField of an integer's decimal digits.
void AppendEncodedInt(std::string* out, int64_t value);

// The exact bytes the hash covers: a version tag and every field, length-prefixed.
std::string CanonicalEventEncoding(const Event& event);
// CanonicalEventEncoding into `out` (cleared first), so a loop can keep one buffer.
void AppendCanonicalEventEncoding(std::string* out, const Event& event);
std::string ComputeEventHash(const Event& event);

// Checks events' hashes with one encoding buffer and one digest context for all of them: what
// ComputeEventHash(e) == e.hash answers, without allocating per event (verification's loop).
//
// Thread safety: one object per thread.
class EventHashChecker {
 public:
  // Whether `event.hash` is the hash of the event's content (and prev_hash).
  bool Matches(const Event& event);

 private:
  std::string buffer_;
  Sha256Hasher sha_;
};

nlohmann::json EventToJson(const Event& event);

}  // namespace tongban
