// TransitionCounter: how many case events have been committed since start, by action and the
// status each left its case in — what /metrics reports as tongban_transitions_total.
//
// CaseService counts a write only once the store has committed it, and counts every case event in
// it: a timer's system events, a bundle's own events, the children a bundle creates and the
// actions it cascades to them. A refused action, a lost race and an idempotent replay commit
// nothing and so count nothing; the counts then agree with the events in the store.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/store.h"

namespace tongban {

class TransitionCounter {
 public:
  using Key = std::pair<std::string, std::string>;  // (action, status after it)

  // The (action, status) of every case event in `write`, taken before it is committed.
  static std::vector<Key> KeysOf(const StoreWrite& write);
  // Counts the events of a write once it has been committed.
  void Count(const std::vector<Key>& keys);
  // The counts so far.
  std::map<Key, uint64_t> Counts() const;

 private:
  mutable std::mutex mutex_;
  std::map<Key, uint64_t> counts_;
};

}  // namespace tongban
