#include "engine/checkpoint_schedule.h"

#include <filesystem>

namespace tongban {

CheckpointSchedule::CheckpointSchedule(Store* store, CheckpointScheduleOptions options)
    : store_(store), options_(std::move(options)) {}

Result<CheckpointSchedule::Recorded> CheckpointSchedule::RecordNow(const Actor& actor,
                                                                   Instant now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RecordLocked(actor, now);
}

Result<std::optional<CheckpointSchedule::Recorded>> CheckpointSchedule::RecordIfDue(Instant now) {
  if (!enabled() || options_.interval.count() <= 0) return std::optional<Recorded>();
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(CatchUpWithLedgerLocked());
  if (last_recorded_ && now - *last_recorded_ < options_.interval) return std::optional<Recorded>();
  auto recorded = RecordLocked(Actor::System(), now);
  if (!recorded.ok()) return recorded.status();
  return std::optional<Recorded>(std::move(*recorded));
}

Result<CheckpointSchedule::Recorded> CheckpointSchedule::RecordLocked(const Actor& actor,
                                                                      Instant now) {
  if (!enabled())
    return Status::FailedPrecondition(
        "this server records no checkpoints: it was started "
        "without --checkpoint-key");
  auto checkpoint = RecordCheckpoint(store_, *options_.key, actor, now);
  if (!checkpoint.ok()) return checkpoint.status();
  if (!last_recorded_ || *last_recorded_ < now) last_recorded_ = now;
  Recorded recorded{std::move(*checkpoint), "", Status::Ok()};
  if (!options_.witness_dir.empty()) {
    recorded.witness_path =
        (std::filesystem::path(options_.witness_dir) /
         ("checkpoint-" + std::to_string(recorded.checkpoint.entry_seq) + ".jsonl"))
            .string();
    recorded.witness_written = WriteWitness(recorded.checkpoint, recorded.witness_path);
  }
  return recorded;
}

Status CheckpointSchedule::CatchUpWithLedgerLocked() {
  auto entries = store_->Ledger(ledger_seen_);
  if (!entries.ok()) return entries.status();
  for (const LedgerEntry& e : *entries) {
    ledger_seen_ = e.seq;
    if (e.kind == kLedgerCheckpoint && (!last_recorded_ || *last_recorded_ < e.time))
      last_recorded_ = e.time;
  }
  return Status::Ok();
}

Status CheckpointSchedule::WriteWitness(const Checkpoint& checkpoint,
                                        const std::string& path) const {
  std::error_code ec;
  std::filesystem::create_directories(options_.witness_dir, ec);
  auto fd = ClaimWitnessFile(path);
  if (!fd.ok()) return fd.status();
  return WriteWitnessFile(*fd, path, checkpoint);
}

}  // namespace tongban
