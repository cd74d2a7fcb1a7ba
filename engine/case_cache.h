// CaseCache: the live life-cycle machines of recently acted-on cases, so that an action does not
// replay the case's whole history first.
//
// An entry is a machine together with the case version (the seq of its last event) it stands at.
// A machine is checked out with Take() — removed from the cache, so two concurrent actions on one
// case never share it (the second one misses and replays) — and put back with Put() only after
// the write it decided committed, at the new version. A machine whose action was refused in a way
// that may have changed it, or whose write failed, is simply not put back. Correctness never rests
// on the cache: Take() returns a machine only at the version the caller read from the store, and
// the store's version check refuses a write decided on anything older.
//
// Bounded: at most `capacity` machines; the least recently put back is evicted first.
//
// Thread safety: all methods are thread-safe (one mutex; the machines are not touched under it).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/lifecycle.h"

namespace tongban {

class CaseCache {
 public:
  struct Stats {
    int64_t hits = 0;       // Take() returned a machine
    int64_t misses = 0;     // Take() found none, or one at another version (then discarded)
    int64_t evictions = 0;  // machines dropped to stay within capacity
    size_t size = 0;
  };

  // capacity 0: the cache keeps nothing.
  explicit CaseCache(size_t capacity) : capacity_(capacity) {}

  // The machine of `case_id` if one is cached at `version`, now owned by the caller; nullptr
  // otherwise. A cached machine at another version is discarded.
  std::unique_ptr<CaseLifecycle> Take(const std::string& case_id, int64_t version);
  // Caches `machine`, which is `case_id` at `version` (its state's version). Kept instead: an
  // entry already at a later version.
  void Put(const std::string& case_id, int64_t version, std::unique_ptr<CaseLifecycle> machine);
  // A copy of the state of the machine cached for `case_id` at `version`, which stays cached;
  // nullopt when there is none at that version. It is the state the case's stored snapshot of
  // that version decodes to (verification compares the two), at the cost of a copy instead of a
  // decoding. Counts neither a hit nor a miss.
  std::optional<CaseState> StateAt(const std::string& case_id, int64_t version) const;
  // A copy of the state of the machine cached for `case_id`, at whatever version it stands (the
  // state's version), which stays cached; nullopt when none is. Only a hint of the stored case:
  // another process, or another case's write (a bundle's follow-ups), may have written the case
  // since. Counts neither a hit nor a miss.
  std::optional<CaseState> Latest(const std::string& case_id) const;
  // The version cached for `case_id`, or -1 (for tests and diagnostics).
  int64_t CachedVersion(const std::string& case_id) const;

  Stats stats() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string case_id;
    int64_t version = 0;
    std::unique_ptr<CaseLifecycle> machine;
  };

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently put first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Stats stats_;
};

}  // namespace tongban
