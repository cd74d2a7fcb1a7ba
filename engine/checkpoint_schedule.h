// CheckpointSchedule: the server's own signed checkpoints (checkpoint.h) — on demand, and every
// `interval` when the engine's timer loop runs — each written to a witness file in a folder the
// operator ships elsewhere (to the auditor's archive, another machine, write-once storage).
//
// Why the schedule reads the ledger: a server restarted every night would otherwise never reach a
// 24-hour interval, and several nodes on one PostgreSQL database would each record their own. The
// last checkpoint is the newest ledger entry of kind "checkpoint", whoever recorded it; a node
// records only when that is at least `interval` old. Two nodes deciding in the same instant can
// still both record: two checkpoints a moment apart are redundant, never wrong.
//
// Thread safety: all methods are thread-safe; recordings are serialised (one at a time), since each
// reads every case head and two at once would only double the work.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/checkpoint.h"
#include "engine/store.h"

namespace tongban {

struct CheckpointScheduleOptions {
  // The operator's Ed25519 private key. Null: the server records no checkpoint at all.
  std::shared_ptr<const SigningKey> key;
  // How often the timer loop records one; zero: only on demand.
  std::chrono::seconds interval{0};
  // Where each witness is written, as checkpoint-<ledger entry seq>.jsonl (created if missing);
  // empty: witnesses are only returned to whoever asked for one (RecordNow).
  std::string witness_dir;
};

class CheckpointSchedule {
 public:
  // `store` is not owned and must outlive this object.
  CheckpointSchedule(Store* store, CheckpointScheduleOptions options);

  bool enabled() const { return options_.key != nullptr; }

  // Records a checkpoint now as `actor` and writes its witness to witness_dir when set. Errors:
  // kFailedPrecondition when no key was given; the store's (then nothing is recorded). A witness
  // file that cannot be written does not undo the recorded checkpoint: it is reported in
  // `witness_written`, and the caller still holds the checkpoint to hand out.
  struct Recorded {
    Checkpoint checkpoint;
    std::string witness_path;  // empty when there is no witness_dir
    Status witness_written;    // kInternal naming the file when it could not be written
  };
  Result<Recorded> RecordNow(const Actor& actor, Instant now);

  // Called by the timer loop: records a checkpoint as the system when the interval is set and the
  // newest one in the ledger (by any node) is at least `interval` before `now`. Returns nullopt
  // when none was due. Errors: as RecordNow's, and the store's when reading the ledger fails.
  Result<std::optional<Recorded>> RecordIfDue(Instant now);

 private:
  Result<Recorded> RecordLocked(const Actor& actor, Instant now);
  Status WriteWitness(const Checkpoint& checkpoint, const std::string& path) const;
  // Brings last_recorded_ up to the ledger's newest checkpoint entry, reading only the entries
  // not yet seen. Errors: the store's.
  Status CatchUpWithLedgerLocked();

  Store* const store_;
  const CheckpointScheduleOptions options_;

  // Guarded by mutex_:
  std::mutex mutex_;
  int64_t ledger_seen_ = 0;               // entries up to this seq have been looked at
  std::optional<Instant> last_recorded_;  // the newest checkpoint entry among them
};

}  // namespace tongban
