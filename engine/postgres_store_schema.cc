// The PostgreSQL store's schema: one migration per version (postgres_store_detail.h).
#include "engine/postgres_store_detail.h"

namespace tongban::postgres_store_detail {

// Each entry migrates the schema from version i to i + 1. Version 1 holds what SqliteStore's
// version 3 holds.
const std::string kPostgresMigrations[] = {
    std::string(R"sql(
CREATE TABLE definitions (
  kind TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  text TEXT NOT NULL,
  deployed_ms BIGINT NOT NULL,
  PRIMARY KEY (kind, id, version)
);
CREATE TABLE events (
  case_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  time_ms BIGINT NOT NULL,
  actor_id TEXT COLLATE "C" NOT NULL,
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
  idempotency_key TEXT COLLATE "C",
  CONSTRAINT events_pkey PRIMARY KEY (case_id, seq),
  CONSTRAINT events_idempotency UNIQUE (actor_id, idempotency_key)
);
CREATE TABLE cases (
  id TEXT COLLATE "C" NOT NULL,
  number TEXT COLLATE "C" NOT NULL,
  query_code TEXT NOT NULL,
  definition_id TEXT COLLATE "C" NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT COLLATE "C" NOT NULL,
  organ_id TEXT COLLATE "C" NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  version BIGINT NOT NULL,
  next_timer_ms BIGINT,
  snapshot TEXT NOT NULL,
  yellow_ms BIGINT,
  red_ms BIGINT,
  CONSTRAINT cases_pkey PRIMARY KEY (id),
  CONSTRAINT cases_number UNIQUE (number)
);
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
CREATE TABLE ledger (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
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
CREATE TABLE ledger_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE case_counts (
  status TEXT COLLATE "C" PRIMARY KEY,
  n BIGINT NOT NULL
);
CREATE TABLE light_changes (
  at_ms BIGINT PRIMARY KEY,
  yellow BIGINT NOT NULL,
  red BIGINT NOT NULL
);
CREATE FUNCTION tongban_refuse_rewrite() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER definitions_immutable BEFORE UPDATE OR DELETE ON definitions
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
)sql") + "INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '" +
        kGenesisHash + "');",
    // Version 2: due timers claimed by one node at a time (ClaimDueTimers): the instant, on the
    // database's clock, when a node's claim on the case's timer runs out.
    "ALTER TABLE cases ADD COLUMN timer_claim_ms BIGINT;",
    // Version 3: documents (store.h), content-addressed: the bytes once per SHA-256, attached to
    // cases; append-only like the events.
    R"sql(
CREATE TABLE documents (
  hash TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  content BYTEA NOT NULL
);
CREATE TABLE case_documents (
  case_id TEXT NOT NULL,
  hash TEXT NOT NULL REFERENCES documents (hash),
  media_type TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  attached_ms BIGINT NOT NULL,
  attached_by TEXT NOT NULL,
  PRIMARY KEY (case_id, hash)
);
CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE ON documents
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER case_documents_append_only BEFORE UPDATE OR DELETE ON case_documents
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
)sql",
    // Version 4: the audit queries' indexes and the indicators (赛马) kept on write, as
    // SqliteStore's version 5. The events taken under a delegation before are found in their
    // stored data, which is canonical JSON (sorted keys, no spaces): data.authority begins with
    // "basis", and its "delegation" follows among its flat members.
    R"sql(
CREATE INDEX events_actor ON events (actor_id, time_ms);
CREATE INDEX events_action ON events (action, time_ms);
CREATE TABLE case_facts (
  case_id TEXT COLLATE "C" PRIMARY KEY,
  month TEXT COLLATE "C" NOT NULL,
  organ TEXT COLLATE "C" NOT NULL,
  item TEXT COLLATE "C" NOT NULL,
  zone TEXT COLLATE "C" NOT NULL,
  applied_ms BIGINT NOT NULL,
  decided_ms BIGINT,
  late_statutory INTEGER NOT NULL,
  late_promised INTEGER NOT NULL,
  counters TEXT NOT NULL
);
CREATE INDEX case_facts_applied ON case_facts (applied_ms, case_id);
CREATE INDEX case_facts_organ ON case_facts (organ, applied_ms, case_id);
CREATE INDEX case_facts_item ON case_facts (item, applied_ms, case_id);
CREATE INDEX case_facts_decided ON case_facts (decided_ms, case_id) WHERE decided_ms IS NOT NULL;
CREATE TABLE indicator_counts (
  month TEXT COLLATE "C" NOT NULL,
  organ TEXT COLLATE "C" NOT NULL,
  item TEXT COLLATE "C" NOT NULL,
  zone TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (month, organ, item, zone, name)
);
CREATE TABLE delegated_events (
  delegation_id TEXT COLLATE "C" NOT NULL,
  time_ms BIGINT NOT NULL,
  case_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (delegation_id, time_ms, case_id, seq)
);
INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq)
  SELECT substring(data from '"authority":\{"basis":"delegation",[^{}]*"delegation":"([^"]*)"'),
         time_ms, case_id, seq FROM events
  WHERE data LIKE '%"authority":{"basis":"delegation",%'
    AND substring(data from '"authority":\{"basis":"delegation",[^{}]*"delegation":"([^"]*)"')
        IS NOT NULL;
)sql",
    // Version 5: the delivery lights kept on write, as SqliteStore's version 6. lights_known is
    // false for the granted cases written before, which have no delivery instants until their
    // next write (the timer loop rewrites them), and for cases `tongban copy` brought from an
    // SQLite file as an older version wrote them.
    R"sql(
CREATE TABLE delivery_light_changes (
  at_ms BIGINT PRIMARY KEY,
  waiting BIGINT NOT NULL,
  yellow BIGINT NOT NULL,
  red BIGINT NOT NULL
);
ALTER TABLE cases ADD COLUMN lights_known BOOLEAN NOT NULL DEFAULT true;
UPDATE cases SET lights_known = false WHERE status = 'approved';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE NOT lights_known AND status = 'approved';
CREATE INDEX cases_lights_unknown ON cases (id)
  WHERE NOT lights_known AND status = 'under_review';
)sql",
};
static_assert(sizeof(kPostgresMigrations) / sizeof(kPostgresMigrations[0]) ==
              PostgresStore::kSchemaVersion);

}  // namespace tongban::postgres_store_detail
