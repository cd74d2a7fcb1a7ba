// Store: the narrow interface between the engine and its durable storage.
//
// SQL lives only behind this interface (sqlite_store.h today; a PostgreSQL store can implement the
// same contract). The contract:
// - Events are append-only. A case's events have dense sequence numbers from 1.
// - Commit() writes cases' new events and snapshots, and ledger entries, atomically, and returns
//   only once they are durable. It refuses a case write whose expected version is not the case's
//   current version (kAborted), and one carrying an idempotency key that the same actor already
//   used (kAlreadyExists) — nothing of a refused StoreWrite is stored, not even its other cases'
//   writes or its ledger entries, and other callers' writes are not affected.
// - The ledger (ledger.h) is append-only and one hash chain over the whole store: the store assigns
//   each entry its seq (dense from 1), prev_hash and hash when it commits it. Entries of a refused
//   write consume no seq.
// - Documents (materials, notices, decision documents) are content-addressed: stored once by the
//   SHA-256 of their bytes, and attached to cases. Both are append-only: attaching a document a
//   case already has is a no-op, whatever its other fields say.
// - Definitions are immutable: deploying the same kind, id and version again with other content is
//   kAlreadyExists; with the same content it is a no-op.
// - Reads see only committed data.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_facts.h"
#include "engine/event.h"
#include "engine/ledger.h"
#include "workflows/status.h"

namespace tongban {

struct CaseRecord {
  std::string id;
  std::string number;
  std::string query_code;
  std::string definition_id;
  int definition_version = 0;
  std::string status;
  std::string step;
  std::string applicant_id;
  std::string organ_id;
  Instant created_at{};
  Instant updated_at{};
  int64_t version = 0;
  std::optional<Instant> next_timer_at;
  // For a case under review, or granted and awaiting delivery: when its running clock's light
  // turns yellow and red if nothing else happens to it (NextLightChanges in case_clock.h), so that
  // lights are counted without reading cases.
  std::optional<Instant> yellow_at;
  std::optional<Instant> red_at;
  // False for a case written by a version that did not record its running clock's instants
  // (yellow_at and red_at then say nothing; Store::CountLights counts it as unknown until its next
  // write). Every write of CaseService records them; `tongban copy` carries the flag as it is.
  bool lights_known = true;
  std::string snapshot;  // snapshot_codec.h
  // Written, never read back: what the case counts for in the indicators and audit queries now
  // (case_facts.h). Unset (a bundle case, a tool's synthetic write): its stored facts stay as
  // they are.
  std::optional<CaseFacts> facts;
};

struct DefinitionRecord {
  std::string kind;
  std::string id;
  int version = 0;
  std::string content_hash;
  std::string text;  // the definition's JSON as deployed
  Instant deployed_at{};
};

struct CaseWrite {
  CaseRecord record;             // the snapshot after the events
  int64_t expected_version = 0;  // the version the events were decided against; 0 = a new case
  std::vector<Event> events;     // seq expected_version+1, +2, …
  // (seq, delegation id) of each of `events` taken under a delegation (data.authority), indexed
  // for the audit query of actions under delegations later revoked or expired (FindEvents).
  std::vector<std::pair<int64_t, std::string>> delegations;
};

// A document attached to a case. `hash` is the SHA-256 of `content` (hex, lower case), computed by
// the engine (documents.h); the store keys the bytes by it and does not check it again.
struct DocumentRecord {
  std::string case_id;
  std::string hash;
  std::string media_type;  // as uploaded ("application/pdf"), or the engine's ("text/html; …")
  int64_t size = 0;        // bytes
  std::string name;        // the file name given at upload; "" when none
  std::string kind;        // "material", "correction_notice", "decision" (documents.h)
  Instant attached_at{};
  std::string attached_by;  // principal id; "system" for a document the engine made
  std::string content;      // the bytes; empty in listings (Store::CaseDocuments)
};

// One transaction: several cases' writes (a bundle and its children) and entries for the register
// ledger (ledger.h), committed all together or not at all.
struct StoreWrite {
  std::vector<CaseWrite> cases;
  // Entries to append to the ledger, in this order, after the case writes. Their seq, prev_hash and
  // hash are assigned by the store inside the transaction (the ledger is one chain for the whole
  // database, so only the writer knows its end); whatever the caller put there is ignored.
  std::vector<LedgerEntry> ledger;
  // Documents to store and attach, before the case writes (an event of this write may name them).
  // The store does not check that the case exists: the engine attaches documents to cases it read.
  std::vector<DocumentRecord> documents;
};

struct CaseFilter {
  std::string status;
  std::string definition_id;
  std::string applicant_id;
  std::string organ_id;
  std::optional<Instant> created_from;
  std::optional<Instant> created_to;
  std::string after_id;  // cursor: cases with id > after_id
  int limit = 50;
};

struct IdempotencyHit {
  std::string case_id;
  int64_t seq = 0;
};

// The clocks whose lights the store counts on write (light_count_deltas.h).
enum class LightClock {
  kDecision,  // cases under review: the statutory time limit of the decision
  kDelivery,  // granted cases awaiting delivery of the certificate (art. 44, 10 working days)
};

// Cases by the light of one clock at some instant.
struct LightCounts {
  int64_t green = 0;
  int64_t yellow = 0;
  int64_t red = 0;
  // Written before the store recorded this clock's lights (in no colour above): their light is
  // unknown until their next write.
  int64_t unknown = 0;
};

struct StoreStats {
  int64_t commits = 0;     // transactions
  int64_t writes = 0;      // case writes committed (a StoreWrite counts its CaseWrites)
  int64_t max_batch = 0;   // the largest number of case writes in one transaction, refused included
  int64_t overloaded = 0;  // StoreWrites refused because the write queue was full
  int64_t queued = 0;      // StoreWrites waiting for the writer now
  // SQLite's WAL copied back into the file (sqlite_store.h); always 0 on PostgreSQL.
  int64_t wal_checkpoints = 0;
  int64_t wal_checkpoint_failures = 0;  // failed, not merely busy; each is tried again later
};

// Case ids from `from` (included) to `to` (excluded); an empty `to` has no end.
struct CaseIdRange {
  std::string from;
  std::string to;
};

// One indicator counter: the sum of CaseFacts::counters[name] over the cases of one key.
struct IndicatorCount {
  std::string month;
  std::string organ;
  std::string item;
  std::string zone;
  std::string name;
  int64_t value = 0;
};

// Cases by their stored facts. Bounds are half-open [from, to); unset bounds are open. Rows come
// in (applied_at, case id) order, or (decided_at, case id) when a decided bound is set.
struct FactsQuery {
  std::string organ;
  std::string item;
  std::optional<Instant> applied_from, applied_to;
  std::optional<Instant> decided_from, decided_to;
  bool late_only = false;  // decided after the statutory or the promised due date
  int limit = 1000;
};

struct FactsRow {
  std::string case_id;
  std::string number;
  std::string status;
  CaseFacts facts;
};

// Events by who took them, by action, or by the delegation they were taken under (exactly one of
// the three), taken in [from, to), in (time, case id, seq) order.
struct EventQuery {
  std::string actor_id;
  std::vector<std::string> actions;
  std::string delegation;
  std::optional<Instant> from, to;
  int limit = 1000;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores `definitions` all or nothing, in one transaction: another process reading the
  // definitions (a second node starting) sees none or all of them, never a list without the
  // items it names. A record already stored with the same content is left as it is (two nodes
  // deploying the shipped definitions at once both succeed); one stored with other content is
  // kAlreadyExists, and nothing of the call is stored. kFailedPrecondition on a read-only store;
  // the store's kUnavailable.
  virtual Status DeployAll(const std::vector<DefinitionRecord>& definitions) = 0;
  Status Deploy(const DefinitionRecord& definition) { return DeployAll({definition}); }
  virtual Result<std::vector<DefinitionRecord>> Definitions() = 0;

  // Commits every case write and ledger entry of `write` in one durable transaction. Refuses the
  // whole write (nothing stored) when any case write is refused: kAborted for a stale version or
  // an event whose seq the case already has (both stores alike), kAlreadyExists for a reused
  // idempotency key. Case writes apply in order, so one StoreWrite may
  // create a case (expected_version 0) and append to it. An empty write is OK and does nothing.
  // kUnavailable when the disk failed or the store is overloaded: nothing of it is stored, and
  // the same write may be tried again.
  virtual Status Commit(StoreWrite write) = 0;
  // One case write alone. (Implementations add `using Store::Commit;`, `using
  // Store::ForEachEvent;` and `using Store::ForEachCase;` to keep the overloads visible.)
  Status Commit(CaseWrite write) {
    StoreWrite one;
    one.cases.push_back(std::move(write));
    return Commit(std::move(one));
  }

  // Ledger entries with seq > after_seq, in seq order.
  virtual Result<std::vector<LedgerEntry>> Ledger(int64_t after_seq = 0) = 0;

  // The document `hash` attached to case `case_id`, with its bytes; nullopt when that case has no
  // such document (even when another case has it).
  virtual Result<std::optional<DocumentRecord>> GetDocument(const std::string& case_id,
                                                            const std::string& hash) = 0;
  // The documents attached to a case, without their bytes, by the time they were attached (then by
  // hash).
  virtual Result<std::vector<DocumentRecord>> CaseDocuments(const std::string& case_id) = 0;

  virtual Result<std::optional<CaseRecord>> GetCase(const std::string& id) = 0;
  virtual Result<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) = 0;
  // Events of a case in order, those with seq <= up_to_seq.
  virtual Result<std::vector<Event>> GetEvents(const std::string& case_id,
                                               int64_t up_to_seq = INT64_MAX) = 0;
  virtual Result<std::optional<IdempotencyHit>> FindIdempotencyKey(const std::string& actor_id,
                                                                   const std::string& key) = 0;
  virtual Result<std::vector<CaseRecord>> ListCases(const CaseFilter& filter) = 0;
  // Ids of cases whose next timer is due at or before `now`, earliest first.
  virtual Result<std::vector<std::string>> DueTimers(Instant now, int limit) = 0;
  // The due timers this node is to fire: up to `limit` ids of cases whose next timer is due at or
  // before `now`, earliest first, that no other node has claimed. The timer loop
  // (CaseService::FireDueTimers) fires only what it claimed, so that several nodes on one
  // database do not do the same work twice. A claim is a lease: it ends when the case is next
  // written (by any node, whatever the write), or when it expires (the store's own duration),
  // so that the timers of a node that died holding claims are claimed by another node once the
  // lease runs out. A claim never decides correctness: the version check (Commit's kAborted)
  // still lets only one node record a timer's event. The default, for a store that one process
  // serves (SqliteStore), claims nothing and is DueTimers. Status codes: DueTimers'.
  virtual Result<std::vector<std::string>> ClaimDueTimers(Instant now, int limit) {
    return DueTimers(now, limit);
  }
  // Calls `visit` with every case id in id order until it returns false.
  virtual Status ForEachCaseId(const std::function<bool(const std::string&)>& visit) = 0;
  // Streams the events of the cases in `range` in (case id, seq) order, or their case records in
  // id order; a callback returning false stops its stream. For verifying a whole database without
  // a query per case, one range per thread. The visitor may take the event's or the record's
  // contents (swap or move them away): every field is assigned again before the next call.
  virtual Status ForEachEvent(const CaseIdRange& range,
                              const std::function<bool(Event&)>& visit) = 0;
  virtual Status ForEachCase(const CaseIdRange& range,
                             const std::function<bool(CaseRecord&)>& visit) = 0;
  // The same over every case.
  Status ForEachEvent(const std::function<bool(Event&)>& visit) {
    return ForEachEvent(CaseIdRange{}, visit);
  }
  Status ForEachCase(const std::function<bool(CaseRecord&)>& visit) {
    return ForEachCase(CaseIdRange{}, visit);
  }
  // The id of the case at `index` (from 0) in id order, nullopt past the last: where to split a
  // scan into ranges of about equal size.
  virtual Result<std::optional<std::string>> CaseIdAt(int64_t index) = 0;
  virtual Result<int64_t> CountCases() = 0;
  virtual Result<int64_t> CountEvents() = 0;
  // Counts of cases by status, for metrics: kept by every commit, not counted over the cases.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> CountByStatus() = 0;
  // Cases by the light of `clock` at `now`, from the instants recorded with each case write
  // (CaseRecord::yellow_at, red_at); not by reading the cases. `unknown`: cases written by an
  // older version, whose instants were never recorded (counted in no colour).
  virtual Result<LightCounts> CountLights(Instant now, LightClock clock) = 0;
  // Ids of the cases `unknown` counts for `clock`, up to `limit`: a write of them (FireDueTimers
  // does it) records them.
  virtual Result<std::vector<std::string>> CasesWithUnknownLights(int limit, LightClock clock) = 0;

  // Indicator counters of the months from `from_month` to `to_month` (inclusive, "YYYY-MM"),
  // kept by every commit from the cases' facts (CaseRecord::facts). Cases written before the store
  // kept facts count from their next write.
  virtual Result<std::vector<IndicatorCount>> Indicators(const std::string& from_month,
                                                         const std::string& to_month) = 0;
  // Cases by their facts, up to query.limit, through an index (never a scan of every case).
  virtual Result<std::vector<FactsRow>> FindCaseFacts(const FactsQuery& query) = 0;
  // Events through an index (actor, action or delegation, then time), up to query.limit.
  // kInvalidArgument unless exactly one of actor_id, actions and delegation is set.
  virtual Result<std::vector<Event>> FindEvents(const EventQuery& query) = 0;

  virtual StoreStats Stats() const = 0;
};

}  // namespace tongban
