// Checkpoint: whole-database tamper evidence, signed by the operator and kept by an auditor.
//
// Each case's events and the register ledger are hash chains (event.h, ledger.h): they show an
// entry rewritten in the middle, but not a chain cut short, a case deleted whole, or the database
// swapped for an earlier copy — what is left is still a sound chain. A checkpoint closes that gap:
// at an instant it lists every case's head (id, last seq, that event's hash) and the ledger's head
// (seq, hash), and signs a digest of them with an Ed25519 key the operator holds. The auditor keeps
// the resulting witness file elsewhere; later the database must still hold every head the witness
// lists, exactly (a case may only have grown), and the checkpoint's own ledger entry.
//
// What is signed: CanonicalCheckpointEncoding — a version tag and the header fields, among them
// heads_sha256, a SHA-256 over the heads in the witness's order (HeadsDigest). A plain hash over
// the sorted heads rather than a Merkle root: the witness carries every head anyway (verification
// must name each missing case, so it reads them all), and a Merkle root would only pay off for
// proving one case's head without the others, which nothing needs yet.
//
// Recording a checkpoint appends a ledger entry (kind kLedgerCheckpoint, its data the signed
// header), so that the ledger chain itself covers the checkpoint: a copy of the database taken
// before it lacks the entry even when no case changed in between.
//
// A checkpoint is not one atomic snapshot: heads are read case by case while writes may go on.
// Each head is still a state its case was in at some moment, and the ledger head one the ledger
// was in, which is all the prefix checks below need.
//
// The rules are witnessed too (format v2): every deployed definition's kind, id, version and
// content hash, under a digest of their own (DefinitionsDigest) that the signature covers. A case
// replays against its definition, and `tongban verify` only checks a definition's text against the
// content hash stored beside it; someone who rewrote both (a stretched deadline, a loosened guard)
// is named by the next verification against a checkpoint taken before. Witnesses of format v1
// (cases and the ledger only) still parse and verify, for what they cover.
//
// What a checkpoint cannot show: changes after it (the next checkpoint covers them), and a case
// created and deleted between two checkpoints.
//
// Thread safety: free functions and value types; SigningKey and VerifyingKey are immutable after
// loading and may be shared between threads. Functions taking a Store call it as Store allows
// (from any thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "engine/ledger.h"
#include "engine/store.h"
#include "workflows/status.h"

namespace tongban {

// The ledger entry kind of a recorded checkpoint. Registers (registers.h) ignore it.
inline constexpr const char* kLedgerCheckpoint = "checkpoint";
// The first line's "format" of a witness file, and the tag of the signed encoding: the format
// checkpoints are recorded in, and the first one (without definitions), which still verifies.
inline constexpr const char* kCheckpointFormat = "tongban-checkpoint-v2";
inline constexpr const char* kCheckpointFormatV1 = "tongban-checkpoint-v1";

struct CaseHead {
  std::string case_id;
  int64_t seq = 0;   // the case's last event
  std::string hash;  // that event's hash
};

// A deployed definition as a checkpoint witnesses it.
struct DefinitionHead {
  std::string kind;  // item, calendar, bundle, delegations, agreements
  std::string id;
  int version = 0;
  std::string content_hash;  // as recorded at deployment (definition_registry.h)
};

struct Checkpoint {
  std::string format = kCheckpointFormat;  // kCheckpointFormat or kCheckpointFormatV1
  Instant time{};
  int64_t cases = 0;         // heads.size()
  int64_t events = 0;        // the sum of the heads' seqs
  std::string heads_sha256;  // HeadsDigest(heads)
  int64_t ledger_seq = 0;    // 0: the ledger was empty
  std::string ledger_hash;   // kGenesisHash when it was empty
  std::string key_id;        // SHA-256 (hex) of the signing key's raw public key
  std::string signature;     // Ed25519 over CanonicalCheckpointEncoding, hex
  // The checkpoint's own ledger entry, once recorded (not signed: it is found again by its
  // content, see VerifyCheckpoint).
  int64_t entry_seq = 0;
  std::vector<CaseHead> heads;  // in the order the digest covers (case id order from the store)
  // Format v2 only (empty in a v1 witness): the deployed definitions, in (kind, id, version)
  // order, their number and DefinitionsDigest.
  int64_t definitions = 0;
  std::string definitions_sha256;
  std::vector<DefinitionHead> definition_heads;
};

// An Ed25519 key pair, or its public half. Load errors: kNotFound for a missing file,
// kInvalidArgument for a file that is not a PEM Ed25519 key of the right kind.
class SigningKey {
 public:
  static Result<std::shared_ptr<const SigningKey>> Load(const std::string& private_pem_path);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  const std::string& key_id() const { return key_id_; }
  // The Ed25519 signature of `message`, hex. kInternal only if OpenSSL fails.
  Result<std::string> Sign(const std::string& message) const;

 private:
  SigningKey() = default;
  EVP_PKEY* key_ = nullptr;
  std::string key_id_;
};

class VerifyingKey {
 public:
  static Result<std::shared_ptr<const VerifyingKey>> Load(const std::string& public_pem_path);
  ~VerifyingKey();
  VerifyingKey(const VerifyingKey&) = delete;
  VerifyingKey& operator=(const VerifyingKey&) = delete;
  const std::string& key_id() const { return key_id_; }
  // Whether `signature_hex` is this key's Ed25519 signature of `message`.
  bool Verify(const std::string& message, const std::string& signature_hex) const;

 private:
  VerifyingKey() = default;
  EVP_PKEY* key_ = nullptr;
  std::string key_id_;
};

// Writes a new Ed25519 key pair as PEM: the private key (PKCS#8, unencrypted) created with mode
// 0600, the public key (SubjectPublicKeyInfo) with 0644. Refuses (kAlreadyExists) to overwrite
// either file; kInternal when a file cannot be written.
Status GenerateKeyPair(const std::string& private_pem_path, const std::string& public_pem_path);

// SHA-256 (hex) over a version tag and each head's id, seq and hash, length-prefixed, in order.
std::string HeadsDigest(const std::vector<CaseHead>& heads);
// SHA-256 (hex) over a version tag and each definition's kind, id, version and content hash,
// length-prefixed, in order.
std::string DefinitionsDigest(const std::vector<DefinitionHead>& definitions);
// The exact bytes signed: the format tag and every header field but signature and entry_seq (in a
// v1 checkpoint, the fields v1 had).
std::string CanonicalCheckpointEncoding(const Checkpoint& checkpoint);

// Reads every case's head (streaming the events, ForEachEvent), the ledger's head and every
// deployed definition's; unsigned, in the current format, with `time` as given. Errors: the
// store's.
Result<Checkpoint> ComputeCheckpoint(Store* store, Instant time);
// ComputeCheckpoint, signs it with `key`, and commits its ledger entry by `actor` (the header as
// the entry's data, heads_sha256 as its subject); returns it with entry_seq set. Errors: the
// store's (the checkpoint is then not recorded).
Result<Checkpoint> RecordCheckpoint(Store* store, const SigningKey& key, const Actor& actor,
                                    Instant time);

// The witness file: JSON lines, the first the header (format, time, cases, events, heads_sha256,
// ledger {seq, hash}, definitions {count, sha256} (v2), key_id, signature, entry_seq), then one
// {"case","seq","hash"} per head, then one {"definition","id","version","content_hash"} per
// definition (v2).
std::string WitnessText(const Checkpoint& checkpoint);
nlohmann::json CheckpointHeaderToJson(const Checkpoint& checkpoint);
// A witness is evidence: an existing file is never replaced, and its bytes are on disk before
// anyone is told where they are. ClaimWitnessFile creates `path` (O_EXCL) and returns its
// descriptor, kAlreadyExists or kInternal naming the file; WriteWitnessFile writes the witness to
// it, fsyncs and closes it (always closed), kInternal naming the file on failure.
Result<int> ClaimWitnessFile(const std::string& path);
Status WriteWitnessFile(int fd, const std::string& path, const Checkpoint& checkpoint);
// Parses a witness file; kInvalidArgument naming the line that is not of the format. Does not
// check the signature.
Result<Checkpoint> ParseWitness(const std::string& text);

// One thing the database lacks compared with a checkpoint, or a reason to distrust the witness.
struct CheckpointFinding {
  // "signature", "case-deleted", "history-truncated", "history-differs", "ledger-truncated",
  // "ledger-differs", "checkpoint-entry-missing", "definition-missing", "definition-differs".
  std::string kind;
  std::string subject;  // the case id, "ledger", "witness", or kind/id@version of a definition
  std::string message;  // one line, naming what is missing
};
nlohmann::json CheckpointFindingToJson(const CheckpointFinding& finding);

// Whether the witness is what `key` signed: its heads must give its heads_sha256 (and its
// definitions its definitions_sha256), its key_id must be the key's, and the signature must verify.
// nullopt when all hold; otherwise the "signature" finding (then nothing else in the witness may be
// trusted).
std::optional<CheckpointFinding> CheckCheckpointSignature(const Checkpoint& checkpoint,
                                                          const VerifyingKey& key);
// Compares the database with a (signature-checked) checkpoint and returns every finding, in case
// id order, then the ledger's: a witnessed case with no events (deleted); a case whose events end
// before its witnessed seq (truncated) or whose event at that seq has another hash (rewritten or
// rolled back); a ledger that ends before the witnessed seq or holds another entry there; no
// checkpoint entry with this checkpoint's signature after the witnessed ledger head; a witnessed
// definition no longer deployed (missing), or whose stored content hash or text is not the one
// witnessed (differs). Cases and definitions deployed later, and cases and the ledger grown since,
// are fine. Errors: the store's.
Result<std::vector<CheckpointFinding>> VerifyCheckpoint(Store* store, const Checkpoint& checkpoint);

}  // namespace tongban
