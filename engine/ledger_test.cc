// Tests of the ledger entry encoding and hash, and of the chain check: canonical, stable, covering
// every field, and finding the first bad seq whatever was done to the chain.
#include "engine/ledger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"

namespace tongban {
namespace {

using nlohmann::json;

LedgerEntry SampleEntry() {
  LedgerEntry e;
  e.seq = 7;
  e.time = ParseTimestamp("2026-03-02T09:00:00.250+08:00").value();
  e.actor = {"admin-1", "administrator", "dz-approval-bureau", "王五"};
  e.kind = kLedgerDelegationAdded;
  e.subject = "dlg-0001";
  e.data = CanonicalJson(
      {{"delegator", "rev-1"}, {"delegate", "rev-2"}, {"scope", "construction-permit"}});
  e.prev_hash = std::string(64, 'a');
  e.hash = ComputeLedgerHash(e);
  return e;
}

// A sound chain of `n` entries, as the store would write it.
std::vector<LedgerEntry> Chain(int n) {
  std::vector<LedgerEntry> out;
  std::string prev = kGenesisHash;
  for (int i = 1; i <= n; ++i) {
    LedgerEntry e;
    e.seq = i;
    e.time = Instant(std::chrono::milliseconds(1772413200000 + i * 1000));
    e.actor = {"admin-1", "administrator", "organ-1", "王五"};
    e.kind = i % 2 ? kLedgerCreditRecorded : kLedgerCreditRepaired;
    e.subject = "credit-" + std::to_string((i + 1) / 2);
    e.data = CanonicalJson({{"n", i}});
    e.prev_hash = prev;
    e.hash = ComputeLedgerHash(e);
    prev = e.hash;
    out.push_back(e);
  }
  return out;
}

// Re-chains `entries` from `from` (an index) on: recomputes prev_hash and hash as a forger would.
void Rechain(std::vector<LedgerEntry>* entries, size_t from) {
  for (size_t i = from; i < entries->size(); ++i) {
    LedgerEntry& e = (*entries)[i];
    e.prev_hash = i == 0 ? kGenesisHash : (*entries)[i - 1].hash;
    e.hash = ComputeLedgerHash(e);
  }
}

TEST(Ledger, CanonicalEncodingIsStable) {
  // Part of the on-disk format: every stored ledger hash depends on it. This is the exact text of
  // version 1; if it has to change, it needs a new version tag, not an edit.
  const std::string expected =
      "tongban-ledger-v1\n"
      "1:7\n"
      "13:1772413200250\n"
      "7:admin-1\n"
      "13:administrator\n"
      "18:dz-approval-bureau\n"
      "6:王五\n"
      "16:delegation.added\n"
      "8:dlg-0001\n"
      "70:{\"delegate\":\"rev-2\",\"delegator\":\"rev-1\",\"scope\":\"construction-permit\"}\n"
      "64:" +
      std::string(64, 'a') + "\n";
  EXPECT_EQ(CanonicalLedgerEncoding(SampleEntry()), expected);
  EXPECT_EQ(ComputeLedgerHash(SampleEntry()), ComputeLedgerHash(SampleEntry()));
}

TEST(Ledger, TheHashOfAKnownEntryDoesNotChange) {
  // SHA-256 of the encoding above, computed independently (Python hashlib).
  EXPECT_EQ(SampleEntry().hash, "94fc7f60e517d0b0519cd07dedeb821a90a21ff8f8fb5935967fab96c7477be7");
}

TEST(Ledger, ChangingAnyHashedFieldChangesTheHash) {
  const std::string original = ComputeLedgerHash(SampleEntry());
  const std::vector<std::pair<std::string, std::function<void(LedgerEntry&)>>> changes = {
      {"seq", [](LedgerEntry& e) { e.seq += 1; }},
      {"time", [](LedgerEntry& e) { e.time += std::chrono::milliseconds(1); }},
      {"actor.id", [](LedgerEntry& e) { e.actor.id = "admin-2"; }},
      {"actor.role", [](LedgerEntry& e) { e.actor.role = "reviewer"; }},
      {"actor.organ", [](LedgerEntry& e) { e.actor.organ = "other-organ"; }},
      {"actor.name", [](LedgerEntry& e) { e.actor.name = "李四"; }},
      {"kind", [](LedgerEntry& e) { e.kind = kLedgerDelegationRevoked; }},
      {"subject", [](LedgerEntry& e) { e.subject = "dlg-0002"; }},
      {"data",
       [](LedgerEntry& e) {
         e.data = CanonicalJson({{"delegator", "rev-1"}});
       }},
      {"prev_hash", [](LedgerEntry& e) { e.prev_hash = std::string(64, 'b'); }},
  };
  std::set<std::string> seen = {original};
  for (const auto& [field, change] : changes) {
    LedgerEntry e = SampleEntry();
    change(e);
    std::string hash = ComputeLedgerHash(e);
    EXPECT_NE(hash, original) << field << " is not covered by the hash";
    EXPECT_TRUE(seen.insert(hash).second) << field;
  }
  // The stored hash itself is not hashed.
  LedgerEntry e = SampleEntry();
  e.hash = "tampered";
  EXPECT_EQ(ComputeLedgerHash(e), original);
}

TEST(Ledger, FieldBoundariesCannotBeShifted) {
  LedgerEntry a = SampleEntry();
  LedgerEntry b = SampleEntry();
  a.kind = "credit.recorded";
  a.subject = "c-1";
  b.kind = "credit.recorded\n3:c-1";
  b.subject = "";
  EXPECT_NE(CanonicalLedgerEncoding(a), CanonicalLedgerEncoding(b));
  EXPECT_NE(ComputeLedgerHash(a), ComputeLedgerHash(b));
}

TEST(Ledger, LedgerEntryToJsonCarriesEveryHashedField) {
  LedgerEntry e = SampleEntry();
  json j = LedgerEntryToJson(e);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["time"], "2026-03-02T01:00:00.250Z");
  EXPECT_EQ(j["actor"], json({{"id", "admin-1"},
                              {"role", "administrator"},
                              {"organ", "dz-approval-bureau"},
                              {"name", "王五"}}));
  EXPECT_EQ(j["kind"], "delegation.added");
  EXPECT_EQ(j["subject"], "dlg-0001");
  EXPECT_EQ(j["data"]["delegate"], "rev-2");
  EXPECT_EQ(j["prev_hash"], std::string(64, 'a'));
  EXPECT_EQ(j["hash"], e.hash);
}

TEST(Ledger, DataJsonParsesTheStoredText) {
  LedgerEntry e = SampleEntry();
  EXPECT_EQ(e.DataJson()["scope"], "construction-permit");
  e.data = "not json";
  EXPECT_EQ(e.DataJson(), json::object());
}

// ---- Chain check --------------------------------------------------------------------------------

TEST(LedgerChain, ASoundChainPasses) {
  EXPECT_EQ(CheckLedgerChain({}), std::nullopt);
  EXPECT_EQ(CheckLedgerChain(Chain(1)), std::nullopt);
  auto fault = CheckLedgerChain(Chain(10));
  EXPECT_EQ(fault, std::nullopt) << fault->seq << ": " << fault->reason;
}

TEST(LedgerChain, AModifiedEntryIsFoundAtItsSeq) {
  for (size_t i = 0; i < 6; ++i) {
    std::vector<LedgerEntry> chain = Chain(6);
    chain[i].data = CanonicalJson({{"n", 99}});
    auto fault = CheckLedgerChain(chain);
    ASSERT_TRUE(fault.has_value()) << i;
    EXPECT_EQ(fault->seq, static_cast<int64_t>(i + 1));
    EXPECT_NE(fault->reason.find("hash"), std::string::npos) << fault->reason;
  }
  // Any field: the actor, the time.
  std::vector<LedgerEntry> chain = Chain(4);
  chain[2].actor.name = "李四";
  EXPECT_EQ(CheckLedgerChain(chain)->seq, 3);
  chain = Chain(4);
  chain[1].time += std::chrono::milliseconds(1);
  EXPECT_EQ(CheckLedgerChain(chain)->seq, 2);
}

TEST(LedgerChain, AModifiedEntryWithARecomputedHashBreaksTheNextLink) {
  std::vector<LedgerEntry> chain = Chain(5);
  chain[1].data = CanonicalJson({{"n", 99}});
  chain[1].hash = ComputeLedgerHash(chain[1]);
  auto fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  EXPECT_NE(fault->reason.find("prev_hash"), std::string::npos) << fault->reason;
  // A forger who rewrites every later entry too leaves a sound chain; that is what an anchor of the
  // end hash is for. The check only vouches for the links.
  Rechain(&chain, 2);
  EXPECT_EQ(CheckLedgerChain(chain), std::nullopt);
}

TEST(LedgerChain, ADeletedEntryIsFoundAtItsSeq) {
  for (size_t i = 0; i < 5; ++i) {
    std::vector<LedgerEntry> chain = Chain(6);
    chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(i));
    auto fault = CheckLedgerChain(chain);
    ASSERT_TRUE(fault.has_value()) << i;
    EXPECT_EQ(fault->seq, static_cast<int64_t>(i + 1));
    EXPECT_NE(fault->reason.find("missing"), std::string::npos) << fault->reason;
  }
  // Deleted and renumbered: the link to the entry before the gap is broken.
  std::vector<LedgerEntry> chain = Chain(6);
  chain.erase(chain.begin() + 2);
  for (size_t i = 2; i < chain.size(); ++i) {
    chain[i].seq = static_cast<int64_t>(i + 1);
    chain[i].hash = ComputeLedgerHash(chain[i]);
  }
  auto fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  EXPECT_NE(fault->reason.find("prev_hash"), std::string::npos) << fault->reason;
}

TEST(LedgerChain, ReorderedEntriesAreFoundAtTheFirstMisplacedSeq) {
  std::vector<LedgerEntry> chain = Chain(6);
  std::swap(chain[2], chain[3]);
  auto fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  // Swapped and renumbered (seqs in order again, hashes recomputed): the links give it away.
  chain = Chain(6);
  std::swap(chain[2], chain[3]);
  chain[2].seq = 3;
  chain[3].seq = 4;
  chain[2].hash = ComputeLedgerHash(chain[2]);
  chain[3].hash = ComputeLedgerHash(chain[3]);
  fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  // An entry repeated.
  chain = Chain(4);
  chain.insert(chain.begin() + 2, chain[1]);
  fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  EXPECT_NE(fault->reason.find("found seq 2"), std::string::npos) << fault->reason;
}

TEST(LedgerChain, AGapInSeqIsFoundEvenWhenTheHashesLink) {
  // Seqs 1, 2, 4, 5, every hash recomputed over the skipped numbering.
  std::vector<LedgerEntry> chain = Chain(4);
  chain[2].seq = 4;
  chain[3].seq = 5;
  Rechain(&chain, 2);
  auto fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 3);
  EXPECT_NE(fault->reason.find("expected seq 3, found seq 4"), std::string::npos) << fault->reason;
  // A chain that does not start at 1.
  chain = Chain(3);
  for (auto& e : chain)
    e.seq += 1;
  Rechain(&chain, 0);
  EXPECT_EQ(CheckLedgerChain(chain)->seq, 1);
}

TEST(LedgerChain, AWrongGenesisIsFoundAtSeq1) {
  std::vector<LedgerEntry> chain = Chain(3);
  // Self-consistent from the first entry on, but not chained to the genesis hash.
  chain[0].prev_hash = std::string(64, '1');
  chain[0].hash = ComputeLedgerHash(chain[0]);
  Rechain(&chain, 1);
  auto fault = CheckLedgerChain(chain);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 1);
  EXPECT_NE(fault->reason.find("genesis"), std::string::npos) << fault->reason;
  chain[0].prev_hash = "";
  EXPECT_EQ(CheckLedgerChain(chain)->seq, 1);
}

}  // namespace
}  // namespace tongban
