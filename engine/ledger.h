// Ledger: the append-only, hash-chained log of the registers that live outside any one case —
// delegation records added or revoked through the API, credit records (信用记录) and their repair
// (信用修复), agent mandates (帮办代办授权).
//
// Every change to a register is an entry: who did what, when, to which subject, with which data.
// The ledger is one chain for the whole database: each entry's hash covers a canonical encoding of
// the entry and the previous entry's hash, so rewriting, deleting or reordering any entry breaks
// every hash after it. The registers themselves (registers.h) are rebuilt from the entries alone.
//
// Thread safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/event.h"

namespace tongban {

// Entry kinds. The data of each is a JSON object; see registers.h for the shapes.
inline constexpr const char* kLedgerDelegationAdded = "delegation.added";
inline constexpr const char* kLedgerDelegationRevoked = "delegation.revoked";
inline constexpr const char* kLedgerCreditRecorded = "credit.recorded";
inline constexpr const char* kLedgerCreditRepaired = "credit.repaired";
inline constexpr const char* kLedgerMandateGranted = "mandate.granted";
inline constexpr const char* kLedgerMandateRevoked = "mandate.revoked";

struct LedgerEntry {
  int64_t seq = 0;  // 1-based, dense, over the whole database
  Instant time{};
  Actor actor;
  std::string kind;     // one of the kLedger* constants
  std::string subject;  // the register record the entry is about: a delegation, credit record or
                        // mandate id
  std::string data = "{}";  // canonical JSON text of an object
  std::string prev_hash;    // kGenesisHash before the first entry
  std::string hash;

  nlohmann::json DataJson() const;
};

// The exact bytes an entry's hash covers: a version tag ("tongban-ledger-v1") and every field but
// `hash` — the actor's name included — each length-prefixed. Part of the on-disk format: changing
// it needs a new version tag.
std::string CanonicalLedgerEncoding(const LedgerEntry& entry);
std::string ComputeLedgerHash(const LedgerEntry& entry);

nlohmann::json LedgerEntryToJson(const LedgerEntry& entry);

// Checks that `entries` (in seq order, starting at seq 1) are dense and correctly chained. Returns
// the first seq at which the chain breaks and why, or nullopt when the whole chain is sound. Every
// entry before `seq` is sound; the entry expected at `seq` is not:
// - a modified entry: its own seq (its hash no longer matches its content);
// - a modified entry whose hash was recomputed too: the next seq (its prev_hash no longer matches);
// - a deleted entry, a gap, or entries out of order: the first seq that is not where it should be;
// - a first entry not chained to kGenesisHash: 1.
// Dropping the newest entries leaves a sound, shorter chain: only a hash of the chain's end kept
// elsewhere can show that.
struct LedgerFault {
  int64_t seq = 0;  // the first bad seq
  std::string reason;
};
std::optional<LedgerFault> CheckLedgerChain(const std::vector<LedgerEntry>& entries);

}  // namespace tongban
