#include "engine/case_cache.h"

namespace tongban {

std::unique_ptr<CaseLifecycle> CaseCache::Take(const std::string& case_id, int64_t version) {
  std::unique_ptr<CaseLifecycle> machine;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(case_id);
    if (it == index_.end()) {
      ++stats_.misses;
      return nullptr;
    }
    const bool current = it->second->version == version;
    machine = std::move(it->second->machine);
    lru_.erase(it->second);
    index_.erase(it);
    if (current) {
      ++stats_.hits;
      return machine;
    }
    ++stats_.misses;
  }
  return nullptr;  // the stale machine is destroyed here, outside the lock
}

void CaseCache::Put(const std::string& case_id, int64_t version,
                    std::unique_ptr<CaseLifecycle> machine) {
  if (capacity_ == 0 || machine == nullptr) return;
  std::unique_ptr<CaseLifecycle> dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(case_id);
  if (it != index_.end()) {
    if (it->second->version > version) return;  // a later writer's machine is newer
    dropped = std::move(it->second->machine);
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{case_id, version, std::move(machine)});
  index_[case_id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().case_id);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

std::optional<CaseState> CaseCache::StateAt(const std::string& case_id, int64_t version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(case_id);
  if (it == index_.end() || it->second->version != version) return std::nullopt;
  return it->second->machine->state();
}

std::optional<CaseState> CaseCache::Latest(const std::string& case_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(case_id);
  if (it == index_.end()) return std::nullopt;
  return it->second->machine->state();
}

int64_t CaseCache::CachedVersion(const std::string& case_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(case_id);
  return it == index_.end() ? -1 : it->second->version;
}

CaseCache::Stats CaseCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s = stats_;
  s.size = lru_.size();
  return s;
}

}  // namespace tongban
