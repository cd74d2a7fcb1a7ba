// Tests of signed checkpoints on real SQLite files: keys, the witness round trip, the signature
// over header and heads, and every kind of damage VerifyCheckpoint must name — a deleted case, a
// truncated or rewritten history, a truncated ledger, a copy from before the checkpoint — while an
// untouched or grown database passes. CheckpointSchedule (the server's scheduled and on-demand
// checkpoints) is tested here too, on the same fixture. One test does the same on PostgreSQL
// (skipped without TONGBAN_TEST_POSTGRES, as in store_conformance_test.cc).
#include "engine/checkpoint.h"
#include "engine/checkpoint_schedule.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/definition_registry.h"
#include "engine/postgres_store.h"
#include "engine/sqlite.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tongban-checkpoint-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

Instant Ms(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
constexpr int64_t kBase = 1772413200000;  // 2026-03-02T01:00:00Z

// A write of events [from, to] of a case, chained to `prev_hash`; `variant` changes their data.
CaseWrite MakeWrite(const std::string& case_id, int64_t from, int64_t to, std::string prev_hash,
                    int variant = 0) {
  CaseWrite w;
  w.expected_version = from - 1;
  for (int64_t seq = from; seq <= to; ++seq) {
    Event e;
    e.case_id = case_id;
    e.seq = seq;
    e.time = Ms(kBase + seq * 1000);
    e.actor = {"rev-1", "reviewer", "organ-1", ""};
    e.action = seq == 1 ? "submit" : "act";
    e.data = "{\"n\":" + std::to_string(seq * 10 + variant) + "}";
    e.status = "under_review";
    e.definition_id = "item-a";
    e.definition_version = 1;
    e.prev_hash = prev_hash;
    e.hash = ComputeEventHash(e);
    prev_hash = e.hash;
    w.events.push_back(std::move(e));
  }
  CaseRecord& r = w.record;
  r.id = case_id;
  r.number = "N-" + case_id;
  r.query_code = "Q" + case_id;
  r.definition_id = "item-a";
  r.definition_version = 1;
  r.status = "under_review";
  r.applicant_id = "app-1";
  r.organ_id = "organ-1";
  r.created_at = Ms(kBase);
  r.updated_at = w.events.back().time;
  r.version = to;
  r.snapshot = "{}";
  return w;
}

std::unique_ptr<SqliteStore> OpenStore(const std::string& path) {
  SqliteStoreOptions options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Runs SQL on the file through a connection of the test's own, as someone with the file would:
// the append-only triggers dropped first.
void Damage(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Status s = db->Exec(
      "DROP TRIGGER IF EXISTS events_append_only_delete; "
      "DROP TRIGGER IF EXISTS ledger_append_only_delete; "
      "DROP TRIGGER IF EXISTS definitions_immutable_update; "
      "DROP TRIGGER IF EXISTS definitions_immutable_delete; " +
      sql);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// A deployed definition whose stored text has the content hash deploying would record.
DefinitionRecord Definition(const std::string& id, int version, int promised_days) {
  DefinitionRecord d;
  d.kind = "item";
  d.id = id;
  d.version = version;
  d.text = nlohmann::json{{"kind", "item"},
                          {"id", id},
                          {"version", version},
                          {"time_limits", {{"promised_days", promised_days}}}}
               .dump();
  d.content_hash = DefinitionContentHash(nlohmann::json::parse(d.text));
  d.deployed_at = Ms(kBase);
  return d;
}

LedgerEntry CreditEntry(const std::string& subject) {
  LedgerEntry e;
  e.time = Ms(kBase);
  e.actor = {"admin-1", "administrator", "organ-1", "王五"};
  e.kind = kLedgerCreditRecorded;
  e.subject = subject;
  e.data = "{}";
  return e;
}

const Actor kOperator{"operator", "operator", "", "tongban checkpoint"};

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateKeyPair(dir_.File("key.pem"), dir_.File("key.pub.pem")).ok());
    auto key = SigningKey::Load(dir_.File("key.pem"));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
    auto pub = VerifyingKey::Load(dir_.File("key.pub.pem"));
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    pub_ = *pub;
    db_ = dir_.File("tongban.db");
    store_ = OpenStore(db_);
    ASSERT_NE(store_, nullptr);
    // Three cases of 1, 2 and 3 events, and two ledger entries.
    for (int n = 1; n <= 3; ++n) {
      ASSERT_TRUE(store_->Commit(MakeWrite("case-" + std::to_string(n), 1, n, kGenesisHash)).ok());
    }
    StoreWrite ledger;
    ledger.ledger = {CreditEntry("credit-1"), CreditEntry("credit-2")};
    ASSERT_TRUE(store_->Commit(std::move(ledger)).ok());
    // And two versions of an item, deployed in the order that does not sort.
    ASSERT_TRUE(store_->Deploy(Definition("permit", 2, 10)).ok());
    ASSERT_TRUE(store_->Deploy(Definition("permit", 1, 20)).ok());
  }

  Checkpoint Record() {
    auto c = RecordCheckpoint(store_.get(), *key_, kOperator, Ms(kBase + 3600000));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Checkpoint{};
  }

  std::vector<CheckpointFinding> Findings(const Checkpoint& c, const std::string& path = "") {
    std::unique_ptr<SqliteStore> other;
    Store* store = store_.get();
    if (!path.empty()) {
      other = OpenStore(path);
      store = other.get();
    }
    auto findings = VerifyCheckpoint(store, c);
    EXPECT_TRUE(findings.ok()) << findings.status().ToString();
    return findings.ok() ? *findings : std::vector<CheckpointFinding>{};
  }

  std::string Kinds(const std::vector<CheckpointFinding>& findings) {
    std::string out;
    for (const auto& f : findings)
      out += (out.empty() ? "" : " ") + f.kind + ":" + f.subject;
    return out;
  }

  std::string LastHash(const std::string& case_id) {
    auto events = static_cast<Store*>(store_.get())->GetEvents(case_id);
    EXPECT_TRUE(events.ok() && !events->empty());
    return events.ok() && !events->empty() ? events->back().hash : "";
  }

  TempDir dir_;
  std::shared_ptr<const SigningKey> key_;
  std::shared_ptr<const VerifyingKey> pub_;
  std::string db_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(CheckpointTest, KeysArePrivateAndNeverOverwritten) {
  struct stat st;
  ASSERT_EQ(stat(dir_.File("key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(GenerateKeyPair(dir_.File("key.pem"), dir_.File("other.pub.pem")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(dir_.File("other.pub.pem")));
  EXPECT_EQ(key_->key_id(), pub_->key_id());
  EXPECT_EQ(key_->key_id().size(), 64u);
  // The public key is not a private key, and a missing file is kNotFound.
  EXPECT_EQ(SigningKey::Load(dir_.File("key.pub.pem")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyingKey::Load(dir_.File("none.pem")).status().code(), StatusCode::kNotFound);
}

TEST_F(CheckpointTest, RecordsHeadsAndItsOwnLedgerEntry) {
  Checkpoint c = Record();
  ASSERT_EQ(c.heads.size(), 3u);
  EXPECT_EQ(c.cases, 3);
  EXPECT_EQ(c.events, 6);
  EXPECT_EQ(c.heads[2].case_id, "case-3");
  EXPECT_EQ(c.heads[2].seq, 3);
  EXPECT_EQ(c.heads[2].hash, LastHash("case-3"));
  EXPECT_EQ(c.ledger_seq, 2);
  EXPECT_EQ(c.entry_seq, 3);
  auto ledger = store_->Ledger(0);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_EQ(c.ledger_hash, (*ledger)[1].hash);
  EXPECT_EQ((*ledger)[2].kind, kLedgerCheckpoint);
  EXPECT_EQ((*ledger)[2].DataJson()["signature"], c.signature);
  EXPECT_EQ((*ledger)[2].actor.id, "operator");
  // The new kind is one more link of the ledger chain that verification checks.
  EXPECT_FALSE(CheckLedgerChain(*ledger).has_value());
  EXPECT_FALSE(CheckCheckpointSignature(c, *pub_).has_value());
  EXPECT_EQ(Kinds(Findings(c)), "");
  // The deployed definitions, in (kind, id, version) order, under the signature.
  EXPECT_EQ(c.format, kCheckpointFormat);
  EXPECT_EQ(c.definitions, 2);
  ASSERT_EQ(c.definition_heads.size(), 2u);
  EXPECT_EQ(c.definition_heads[0].version, 1);
  EXPECT_EQ(c.definition_heads[0].content_hash, Definition("permit", 1, 20).content_hash);
  EXPECT_EQ(c.definition_heads[1].version, 2);
  EXPECT_EQ(c.definitions_sha256, DefinitionsDigest(c.definition_heads));
  EXPECT_EQ((*ledger)[2].DataJson()["definitions"]["sha256"], c.definitions_sha256);
}

TEST_F(CheckpointTest, WitnessRoundTrips) {
  Checkpoint c = Record();
  auto parsed = ParseWitness(WitnessText(c));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(WitnessText(*parsed), WitnessText(c));
  EXPECT_FALSE(CheckCheckpointSignature(*parsed, *pub_).has_value());
  // Ids that need escaping (read by the JSON parser) and that do not (read by the plain path).
  Checkpoint odd = c;
  odd.heads = {{"a\"b\\c\n", 1, std::string(64, 'a')}, {"案件-1", 12, std::string(64, 'b')}};
  auto odd_parsed = ParseWitness(WitnessText(odd));
  ASSERT_TRUE(odd_parsed.ok()) << odd_parsed.status().ToString();
  ASSERT_EQ(odd_parsed->heads.size(), 2u);
  EXPECT_EQ(odd_parsed->heads[0].case_id, "a\"b\\c\n");
  EXPECT_EQ(odd_parsed->heads[1].case_id, "案件-1");
  EXPECT_EQ(odd_parsed->heads[1].seq, 12);
  EXPECT_EQ(odd_parsed->heads[1].hash, std::string(64, 'b'));
  EXPECT_EQ(ParseWitness("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWitness("{\"format\":\"x\"}\n").status().code(), StatusCode::kInvalidArgument);
  auto bad_line = ParseWitness(WitnessText(c) + "{\"case\":\"x\"}\n");
  EXPECT_NE(bad_line.status().message().find("line 7"), std::string::npos)
      << bad_line.status().ToString();
}

TEST_F(CheckpointTest, AlteredWitnessOrOtherKeyFailsTheSignature) {
  const Checkpoint c = Record();
  Checkpoint head_changed = c;
  head_changed.heads[1].seq = 1;  // hiding a truncation of case-2
  auto f = CheckCheckpointSignature(head_changed, *pub_);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, "signature");
  Checkpoint dropped = c;
  dropped.heads.erase(dropped.heads.begin());  // hiding a deleted case
  EXPECT_TRUE(CheckCheckpointSignature(dropped, *pub_).has_value());
  dropped.cases = 2;
  dropped.events = 5;
  dropped.heads_sha256 = HeadsDigest(dropped.heads);  // consistent, but no longer signed
  EXPECT_TRUE(CheckCheckpointSignature(dropped, *pub_).has_value());
  Checkpoint ledger_changed = c;
  ledger_changed.ledger_seq = 1;
  EXPECT_TRUE(CheckCheckpointSignature(ledger_changed, *pub_).has_value());
  Checkpoint signature_changed = c;
  signature_changed.signature[0] = signature_changed.signature[0] == 'a' ? 'b' : 'a';
  EXPECT_TRUE(CheckCheckpointSignature(signature_changed, *pub_).has_value());
  // A definition's witnessed hash changed to a rewritten one's, with or without the digest.
  Checkpoint definition_changed = c;
  definition_changed.definition_heads[0].content_hash = Definition("permit", 1, 99).content_hash;
  EXPECT_TRUE(CheckCheckpointSignature(definition_changed, *pub_).has_value());
  definition_changed.definitions_sha256 = DefinitionsDigest(definition_changed.definition_heads);
  EXPECT_TRUE(CheckCheckpointSignature(definition_changed, *pub_).has_value());
  Checkpoint definition_dropped = c;
  definition_dropped.definition_heads.pop_back();
  EXPECT_TRUE(CheckCheckpointSignature(definition_dropped, *pub_).has_value());
  // Another operator's key.
  ASSERT_TRUE(GenerateKeyPair(dir_.File("k2.pem"), dir_.File("k2.pub.pem")).ok());
  auto other = VerifyingKey::Load(dir_.File("k2.pub.pem"));
  ASSERT_TRUE(other.ok());
  f = CheckCheckpointSignature(c, **other);
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->message.find("not by the key given"), std::string::npos);
}

TEST_F(CheckpointTest, GrowthAfterTheCheckpointIsFine) {
  Checkpoint c = Record();
  ASSERT_TRUE(store_->Commit(MakeWrite("case-1", 2, 4, LastHash("case-1"))).ok());
  ASSERT_TRUE(store_->Commit(MakeWrite("case-0", 1, 2, kGenesisHash)).ok());  // sorts first
  ASSERT_TRUE(store_->Commit(MakeWrite("case-9", 1, 1, kGenesisHash)).ok());
  StoreWrite ledger;
  ledger.ledger = {CreditEntry("credit-3")};
  ASSERT_TRUE(store_->Commit(std::move(ledger)).ok());
  EXPECT_EQ(Kinds(Findings(c)), "");
  // A second checkpoint, and the first still holds.
  Checkpoint second = Record();
  EXPECT_EQ(second.cases, 5);
  EXPECT_EQ(Kinds(Findings(second)), "");
  EXPECT_EQ(Kinds(Findings(c)), "");
}

TEST_F(CheckpointTest, NamesADeletedCase) {
  Checkpoint c = Record();
  Damage(db_,
         "DELETE FROM events WHERE case_id = 'case-2'; DELETE FROM cases WHERE id = 'case-2';");
  auto findings = Findings(c);
  EXPECT_EQ(Kinds(findings), "case-deleted:case-2");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].message.find("case case-2 is missing"), std::string::npos);
}

TEST_F(CheckpointTest, NamesATruncatedHistory) {
  Checkpoint c = Record();
  Damage(db_, "DELETE FROM events WHERE case_id = 'case-3' AND seq >= 2;");
  auto findings = Findings(c);
  EXPECT_EQ(Kinds(findings), "history-truncated:case-3");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].message.find("events end at seq 1, the checkpoint has seq 3"),
            std::string::npos)
      << findings[0].message;
}

TEST_F(CheckpointTest, NamesARewrittenHistoryOfTheSameLength) {
  Checkpoint c = Record();
  // The whole case replaced by another sound chain of as many events.
  Damage(db_,
         "DELETE FROM events WHERE case_id = 'case-2'; DELETE FROM cases WHERE id = 'case-2';");
  ASSERT_TRUE(store_->Commit(MakeWrite("case-2", 1, 2, kGenesisHash, /*variant=*/1)).ok());
  EXPECT_EQ(Kinds(Findings(c)), "history-differs:case-2");
}

TEST_F(CheckpointTest, NamesADefinitionRewrittenWithItsContentHash) {
  Checkpoint c = Record();
  // A promise stretched from 20 to 99 days, the stored hash recomputed to match: the definition is
  // consistent with itself, which is all `tongban verify` can check without a checkpoint.
  const DefinitionRecord stretched = Definition("permit", 1, 99);
  Damage(db_, "UPDATE definitions SET text = '" + stretched.text + "', content_hash = '" +
                  stretched.content_hash + "' WHERE id = 'permit' AND version = 1;");
  auto stored = store_->Definitions();
  ASSERT_TRUE(stored.ok());
  for (const DefinitionRecord& d : *stored)
    EXPECT_FALSE(DefinitionRecordFault(d).has_value()) << d.id << "@" << d.version;
  auto findings = Findings(c);
  EXPECT_EQ(Kinds(findings), "definition-differs:item/permit@1");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].message.find("rewritten with its content hash"), std::string::npos)
      << findings[0].message;
}

TEST_F(CheckpointTest, NamesADefinitionWhoseTextNoLongerHasItsHashAndOneDeleted) {
  Checkpoint c = Record();
  Damage(db_, "UPDATE definitions SET text = '" + Definition("permit", 2, 11).text +
                  "' WHERE id = 'permit' AND version = 2; "
                  "DELETE FROM definitions WHERE id = 'permit' AND version = 1;");
  auto findings = Findings(c);
  EXPECT_EQ(Kinds(findings), "definition-missing:item/permit@1 definition-differs:item/permit@2");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_NE(findings[1].message.find("does not match the content hash"), std::string::npos)
      << findings[1].message;
  // A definition deployed after the checkpoint is fine.
  Checkpoint again = Record();
  ASSERT_TRUE(store_->Deploy(Definition("permit", 3, 5)).ok());
  EXPECT_EQ(Kinds(Findings(again)), "definition-differs:item/permit@2");
}

TEST_F(CheckpointTest, AWitnessOfTheFirstFormatStillVerifies) {
  // A checkpoint as version 1 recorded it: cases and the ledger, no definitions.
  auto computed = ComputeCheckpoint(store_.get(), Ms(kBase + 3600000));
  ASSERT_TRUE(computed.ok()) << computed.status().ToString();
  Checkpoint v1 = *computed;
  v1.format = kCheckpointFormatV1;
  v1.definitions = 0;
  v1.definitions_sha256.clear();
  v1.definition_heads.clear();
  v1.key_id = key_->key_id();
  auto signature = key_->Sign(CanonicalCheckpointEncoding(v1));
  ASSERT_TRUE(signature.ok());
  v1.signature = *signature;
  StoreWrite write;
  LedgerEntry entry = CreditEntry(v1.heads_sha256);
  entry.kind = kLedgerCheckpoint;
  entry.data = CanonicalJson(CheckpointHeaderToJson(v1));
  write.ledger.push_back(std::move(entry));
  ASSERT_TRUE(store_->Commit(std::move(write)).ok());

  const std::string text = WitnessText(v1);
  EXPECT_EQ(text.find("definition"), std::string::npos) << text;
  auto parsed = ParseWitness(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, kCheckpointFormatV1);
  EXPECT_FALSE(CheckCheckpointSignature(*parsed, *pub_).has_value());
  EXPECT_EQ(Kinds(Findings(*parsed)), "");
  // What it covers it still guards; definitions it never saw it cannot.
  Damage(db_, "DELETE FROM definitions WHERE id = 'permit' AND version = 1;");
  EXPECT_EQ(Kinds(Findings(*parsed)), "");
  Damage(db_, "DELETE FROM events WHERE case_id = 'case-2';");
  EXPECT_EQ(Kinds(Findings(*parsed)), "case-deleted:case-2");
  // A definition line slipped into a v1 witness does not parse.
  EXPECT_EQ(ParseWitness(text + "{\"content_hash\":\"x\",\"definition\":\"item\",\"id\":\"a\","
                                "\"version\":1}\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, NamesATruncatedLedger) {
  Checkpoint c = Record();
  Damage(db_, "DELETE FROM ledger WHERE seq >= 2;");
  auto findings = Findings(c);
  EXPECT_EQ(Kinds(findings), "ledger-truncated:ledger checkpoint-entry-missing:ledger");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_NE(findings[0].message.find("ends at seq 1, the checkpoint has seq 2"), std::string::npos)
      << findings[0].message;
  // Only the newest entry (the checkpoint's own) dropped: still seen.
  Checkpoint second = Record();
  Damage(db_, "DELETE FROM ledger WHERE seq = " + std::to_string(second.entry_seq) + ";");
  EXPECT_EQ(Kinds(Findings(second)), "checkpoint-entry-missing:ledger");
}

TEST_F(CheckpointTest, NamesACopyFromBeforeTheCheckpoint) {
  store_.reset();
  fs::copy_file(db_, dir_.File("before-writes.db"));
  store_ = OpenStore(db_);
  ASSERT_TRUE(store_->Commit(MakeWrite("case-1", 2, 2, LastHash("case-1"))).ok());
  ASSERT_TRUE(store_->Commit(MakeWrite("case-4", 1, 1, kGenesisHash)).ok());
  store_.reset();
  // Taken when every case already stood as the checkpoint will see it: only the checkpoint's own
  // ledger entry tells this copy apart.
  fs::copy_file(db_, dir_.File("just-before.db"));
  store_ = OpenStore(db_);
  Checkpoint c = Record();
  EXPECT_EQ(Kinds(Findings(c, dir_.File("just-before.db"))), "checkpoint-entry-missing:ledger");
  EXPECT_EQ(Kinds(Findings(c, dir_.File("before-writes.db"))),
            "history-truncated:case-1 case-deleted:case-4 checkpoint-entry-missing:ledger");
}

TEST(CheckpointPostgresTest, NamesDamageOnPostgres) {
  const char* base = std::getenv("TONGBAN_TEST_POSTGRES");
  if (base == nullptr || *base == '\0') {
    GTEST_SKIP() << "PostgreSQL not tested: set TONGBAN_TEST_POSTGRES (tools/pg_cluster.sh)";
  }
  const std::string schema = "checkpoint_" + std::to_string(getpid());
  ASSERT_EQ(ExecOnPostgres(base, "CREATE SCHEMA " + schema), "");
  const std::string conninfo = PostgresUriWithSchema(base, schema);
  TempDir dir;
  ASSERT_TRUE(GenerateKeyPair(dir.File("k.pem"), dir.File("k.pub.pem")).ok());
  auto key = SigningKey::Load(dir.File("k.pem"));
  auto pub = VerifyingKey::Load(dir.File("k.pub.pem"));
  ASSERT_TRUE(key.ok() && pub.ok());
  {
    PostgresStoreOptions options;
    options.conninfo = conninfo;
    auto store = PostgresStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int n = 1; n <= 3; ++n) {
      ASSERT_TRUE(
          (*store)->Commit(MakeWrite("case-" + std::to_string(n), 1, n, kGenesisHash)).ok());
    }
    StoreWrite ledger;
    ledger.ledger = {CreditEntry("credit-1"), CreditEntry("credit-2")};
    ASSERT_TRUE((*store)->Commit(std::move(ledger)).ok());
    auto c = RecordCheckpoint(store->get(), **key, kOperator, Ms(kBase + 3600000));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto parsed = ParseWitness(WitnessText(*c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_FALSE(CheckCheckpointSignature(*parsed, **pub).has_value());
    auto clean = VerifyCheckpoint(store->get(), *parsed);
    ASSERT_TRUE(clean.ok());
    EXPECT_TRUE(clean->empty());
    ASSERT_EQ(ExecOnPostgres(conninfo,
                             "ALTER TABLE events DISABLE TRIGGER USER; "
                             "ALTER TABLE ledger DISABLE TRIGGER USER; "
                             "DELETE FROM events WHERE case_id = 'case-2'; "
                             "DELETE FROM cases WHERE id = 'case-2'; "
                             "DELETE FROM events WHERE case_id = 'case-3' AND seq = 3; "
                             "DELETE FROM ledger WHERE seq >= 2; "
                             "UPDATE ledger_head SET seq = 1"),
              "");
    auto findings = VerifyCheckpoint(store->get(), *parsed);
    ASSERT_TRUE(findings.ok()) << findings.status().ToString();
    std::string kinds;
    for (const auto& f : *findings)
      kinds += f.kind + ":" + f.subject + " ";
    EXPECT_EQ(kinds,
              "case-deleted:case-2 history-truncated:case-3 ledger-truncated:ledger "
              "checkpoint-entry-missing:ledger ");
  }
  EXPECT_EQ(ExecOnPostgres(base, "DROP SCHEMA " + schema + " CASCADE"), "");
}

// ---- CheckpointSchedule ----------------------------------------------------------------------

TEST_F(CheckpointTest, ScheduleRecordsWhenTheNewestCheckpointOfAnyNodeIsAnIntervalOld) {
  const std::chrono::seconds hour(3600);
  CheckpointSchedule node_a(store_.get(), {key_, hour, dir_.File("witnesses-a")});
  CheckpointSchedule node_b(store_.get(), {key_, hour, dir_.File("witnesses-b")});
  // None in the ledger yet: due at once; the witness is written and verifies.
  auto first = node_a.RecordIfDue(Ms(kBase));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->has_value());
  const auto& recorded = **first;
  EXPECT_TRUE(recorded.witness_written.ok()) << recorded.witness_written.ToString();
  EXPECT_EQ(recorded.witness_path, dir_.File("witnesses-a") + "/checkpoint-" +
                                       std::to_string(recorded.checkpoint.entry_seq) + ".jsonl");
  std::ifstream in(recorded.witness_path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseWitness(text.str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(CheckCheckpointSignature(*parsed, *pub_).has_value());
  EXPECT_EQ(Kinds(Findings(*parsed)), "");
  // The other node sees node A's checkpoint in the ledger: not due until an hour after it.
  auto early = node_b.RecordIfDue(Ms(kBase + 3599000));
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  auto due = node_b.RecordIfDue(Ms(kBase + 3600000));
  ASSERT_TRUE(due.ok());
  ASSERT_TRUE(due->has_value());
  EXPECT_GT((*due)->checkpoint.entry_seq, recorded.checkpoint.entry_seq);
  // And node A, in turn, sees node B's.
  auto again = node_a.RecordIfDue(Ms(kBase + 3600000 + 1000));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(CheckpointTest, ScheduleWithoutKeyOrIntervalRecordsNothingByItself) {
  CheckpointSchedule keyless(store_.get(), {});
  EXPECT_FALSE(keyless.enabled());
  auto scheduled = keyless.RecordIfDue(Ms(kBase));
  ASSERT_TRUE(scheduled.ok());
  EXPECT_FALSE(scheduled->has_value());
  EXPECT_EQ(keyless.RecordNow(kOperator, Ms(kBase)).status().code(),
            StatusCode::kFailedPrecondition);
  // A key without an interval: on demand only, and with no folder no witness file.
  CheckpointSchedule on_demand(store_.get(), {key_, std::chrono::seconds(0), ""});
  auto none = on_demand.RecordIfDue(Ms(kBase));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto now = on_demand.RecordNow(kOperator, Ms(kBase));
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_TRUE(now->witness_path.empty());
  EXPECT_EQ(now->checkpoint.cases, 3);
}

TEST_F(CheckpointTest, AWitnessThatCannotBeWrittenIsReportedAndNeverReplaced) {
  // The folder is a file: the checkpoint is recorded, the failure reported with the path.
  std::ofstream(dir_.File("not-a-folder")) << "x";
  CheckpointSchedule schedule(store_.get(),
                              {key_, std::chrono::seconds(0), dir_.File("not-a-folder")});
  auto recorded = schedule.RecordNow(kOperator, Ms(kBase));
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_GT(recorded->checkpoint.entry_seq, 0);
  EXPECT_EQ(recorded->witness_written.code(), StatusCode::kInternal);
  EXPECT_NE(recorded->witness_written.message().find("not-a-folder"), std::string::npos);
  // An existing witness of the same name is kept as it was.
  const std::string path = dir_.File("taken.jsonl");
  std::ofstream(path) << "evidence";
  auto fd = ClaimWitnessFile(path);
  EXPECT_EQ(fd.status().code(), StatusCode::kAlreadyExists);
  std::ifstream in(path);
  std::string kept;
  in >> kept;
  EXPECT_EQ(kept, "evidence");
}

}  // namespace
}  // namespace tongban
