// The SQLite store's schema: one migration per version (sqlite_store_detail.h).
#include "engine/sqlite_store_detail.h"

namespace tongban::sqlite_store_detail {

// Each entry migrates the schema from version i to i + 1.
const char* const kSqliteMigrations[] = {
    R"sql(
CREATE TABLE definitions (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  text TEXT NOT NULL,
  deployed_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, id, version)
) WITHOUT ROWID;
CREATE TRIGGER definitions_immutable_update BEFORE UPDATE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;
CREATE TRIGGER definitions_immutable_delete BEFORE DELETE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;

CREATE TABLE events (
  case_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organ TEXT NOT NULL,
  action TEXT NOT NULL,
  data TEXT NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  idempotency_key TEXT,
  PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_idempotency ON events (actor_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  query_code TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT NOT NULL,
  organ_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  next_timer_ms INTEGER,
  snapshot TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
)sql",
    // 1 -> 2: the ledger (ledger.h), one hash chain over the whole database.
    R"sql(
CREATE TABLE ledger (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organ TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX ledger_subject ON ledger (kind, subject);
CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
)sql",
    // 2 -> 3: counts kept on write (metrics without scanning cases). case_counts holds the number
    // of cases in each status; light_changes, for the cases under review, how many turn yellow and
    // red at each instant (yellow_ms and red_ms of the case, a -1 where a yellow case turns red),
    // so the lights at `now` are two sums over the instants up to it. Cases written before have no
    // light instants (lights_known = 0) until their next write.
    R"sql(
ALTER TABLE cases ADD COLUMN yellow_ms INTEGER;
ALTER TABLE cases ADD COLUMN red_ms INTEGER;
ALTER TABLE cases ADD COLUMN lights_known INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_lights_unknown ON cases (id) WHERE lights_known = 0 AND status = 'under_review';
CREATE TABLE case_counts (
  status TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO case_counts (status, n) SELECT status, count(*) FROM cases GROUP BY status;
CREATE TABLE light_changes (
  at_ms INTEGER PRIMARY KEY,
  yellow INTEGER NOT NULL,
  red INTEGER NOT NULL
);
)sql",
    // 3 -> 4: documents (store.h), content-addressed: the bytes once per SHA-256, attached to
    // cases.
    R"sql(
CREATE TABLE documents (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  content BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE case_documents (
  case_id TEXT NOT NULL,
  hash TEXT NOT NULL REFERENCES documents (hash),
  media_type TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  attached_ms INTEGER NOT NULL,
  attached_by TEXT NOT NULL,
  PRIMARY KEY (case_id, hash)
);
CREATE TRIGGER documents_append_only_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER documents_append_only_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER case_documents_append_only_update BEFORE UPDATE ON case_documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER case_documents_append_only_delete BEFORE DELETE ON case_documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
)sql",
    // 4 -> 5: the audit queries' indexes and the indicators (赛马) kept on write. case_facts holds
    // each case's facts (case_facts.h) as of its last write; indicator_counts their sums per
    // (month, organ, item, zone, name), changed in the same transaction as the case;
    // delegated_events the events taken under each delegation (filled here from the events'
    // data.authority for the events written before). Cases written before have no facts until
    // their next write.
    R"sql(
CREATE INDEX events_actor ON events (actor_id, time_ms);
CREATE INDEX events_action ON events (action, time_ms);
CREATE TABLE case_facts (
  case_id TEXT PRIMARY KEY,
  month TEXT NOT NULL,
  organ TEXT NOT NULL,
  item TEXT NOT NULL,
  zone TEXT NOT NULL,
  applied_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  late_statutory INTEGER NOT NULL,
  late_promised INTEGER NOT NULL,
  counters TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX case_facts_applied ON case_facts (applied_ms, case_id);
CREATE INDEX case_facts_organ ON case_facts (organ, applied_ms, case_id);
CREATE INDEX case_facts_item ON case_facts (item, applied_ms, case_id);
CREATE INDEX case_facts_decided ON case_facts (decided_ms, case_id) WHERE decided_ms IS NOT NULL;
CREATE TABLE indicator_counts (
  month TEXT NOT NULL,
  organ TEXT NOT NULL,
  item TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (month, organ, item, zone, name)
) WITHOUT ROWID;
CREATE TABLE delegated_events (
  delegation_id TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  case_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (delegation_id, time_ms, case_id, seq)
) WITHOUT ROWID;
INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq)
  SELECT json_extract(data, '$.authority.delegation'), time_ms, case_id, seq FROM events
  WHERE json_valid(data) AND json_extract(data, '$.authority.basis') = 'delegation'
    AND json_type(data, '$.authority.delegation') = 'text';
)sql",
    // 5 -> 6: the delivery lights kept on write (light_count_deltas.h): for each granted case
    // awaiting delivery, yellow_ms and red_ms now hold its delivery clock's instants, and
    // delivery_light_changes their sums (with `waiting`, the number of such cases, at instant 0).
    // The granted cases written before have none: they count as unknown until their next write
    // (the timer loop rewrites them).
    R"sql(
CREATE TABLE delivery_light_changes (
  at_ms INTEGER PRIMARY KEY,
  waiting INTEGER NOT NULL,
  yellow INTEGER NOT NULL,
  red INTEGER NOT NULL
);
UPDATE cases SET lights_known = 0 WHERE status = 'approved';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE lights_known = 0 AND status = 'approved';
)sql",
    // 6 -> 7: cases becomes a rowid table, its id a unique key. A WITHOUT ROWID row keeps at most
    // about a quarter of a 4 KB page in the b-tree; a case's row with its snapshot (about 1.5 KB)
    // is larger, so every case read went to an overflow page, which SQLite reads from the file
    // each time rather than through its page cache: a read by id took 3 times as long and the
    // file was 1.8 times the size (docs/benchmarks.md, "Issue 9, round 4"). A rowid table keeps
    // rows of up to about 4 KB in the page.
    R"sql(
CREATE TABLE cases_v7 (
  id TEXT NOT NULL PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  query_code TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT NOT NULL,
  organ_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  next_timer_ms INTEGER,
  snapshot TEXT NOT NULL,
  yellow_ms INTEGER,
  red_ms INTEGER,
  lights_known INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cases_v7 (id, number, query_code, definition_id, definition_version, status, step,
                      applicant_id, organ_id, created_ms, updated_ms, version, next_timer_ms,
                      snapshot, yellow_ms, red_ms, lights_known)
  SELECT id, number, query_code, definition_id, definition_version, status, step, applicant_id,
         organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, yellow_ms, red_ms,
         lights_known
  FROM cases ORDER BY id;
DROP TABLE cases;
ALTER TABLE cases_v7 RENAME TO cases;
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
CREATE INDEX cases_lights_unknown ON cases (id) WHERE lights_known = 0 AND status = 'under_review';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE lights_known = 0 AND status = 'approved';
)sql",
};
static_assert(sizeof(kSqliteMigrations) / sizeof(kSqliteMigrations[0]) ==
              SqliteStore::kSchemaVersion);

}  // namespace tongban::sqlite_store_detail
