#include "engine/ledger.h"

#include "engine/clock.h"
#include "workflows/sha256.h"

namespace tongban {

nlohmann::json LedgerEntry::DataJson() const {
  return ParseStoredData(data);
}

std::string CanonicalLedgerEncoding(const LedgerEntry& e) {
  std::string out;
  out.reserve(256 + e.data.size());
  out.append("tongban-ledger-v1\n");
  AppendEncodedInt(&out, e.seq);
  AppendEncodedInt(&out, e.time.time_since_epoch().count());
  AppendEncodedField(&out, e.actor.id);
  AppendEncodedField(&out, e.actor.role);
  AppendEncodedField(&out, e.actor.organ);
  AppendEncodedField(&out, e.actor.name);
  AppendEncodedField(&out, e.kind);
  AppendEncodedField(&out, e.subject);
  AppendEncodedField(&out, e.data);
  AppendEncodedField(&out, e.prev_hash);
  return out;
}

std::string ComputeLedgerHash(const LedgerEntry& entry) {
  return Sha256Hex(CanonicalLedgerEncoding(entry));
}

nlohmann::json LedgerEntryToJson(const LedgerEntry& e) {
  return {{"seq", e.seq},
          {"time", FormatTimestamp(e.time)},
          {"actor",
           {{"id", e.actor.id},
            {"role", e.actor.role},
            {"organ", e.actor.organ},
            {"name", e.actor.name}}},
          {"kind", e.kind},
          {"subject", e.subject},
          {"data", e.DataJson()},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

std::optional<LedgerFault> CheckLedgerChain(const std::vector<LedgerEntry>& entries) {
  std::string prev_hash = kGenesisHash;
  for (size_t i = 0; i < entries.size(); ++i) {
    const LedgerEntry& e = entries[i];
    const int64_t expected = static_cast<int64_t>(i) + 1;
    if (e.seq != expected) {
      std::string reason =
          "expected seq " + std::to_string(expected) + ", found seq " + std::to_string(e.seq);
      if (e.seq > expected) {
        reason += " (entries missing)";
      } else {
        reason += " (entries repeated or out of order)";
      }
      return LedgerFault{expected, std::move(reason)};
    }
    if (e.prev_hash != prev_hash) {
      return LedgerFault{expected, i == 0 ? "the first entry does not start from the genesis hash"
                                          : "prev_hash does not match the hash of seq " +
                                                std::to_string(expected - 1)};
    }
    if (ComputeLedgerHash(e) != e.hash) {
      return LedgerFault{expected, "the hash does not match the entry's content"};
    }
    prev_hash = e.hash;
  }
  return std::nullopt;
}

}  // namespace tongban
