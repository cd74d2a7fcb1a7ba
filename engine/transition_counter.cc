#include "engine/transition_counter.h"

namespace tongban {

std::vector<TransitionCounter::Key> TransitionCounter::KeysOf(const StoreWrite& write) {
  std::vector<Key> keys;
  for (const CaseWrite& c : write.cases) {
    for (const Event& e : c.events)
      keys.emplace_back(e.action, e.status);
  }
  return keys;
}

void TransitionCounter::Count(const std::vector<Key>& keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Key& key : keys)
    ++counts_[key];
}

std::map<TransitionCounter::Key, uint64_t> TransitionCounter::Counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

}  // namespace tongban
