// Clock: where the engine gets "now" from.
//
// Production uses the system clock. Tests, scenarios and bureaus trying a process out use a
// simulated clock that only moves when told to, so that deadlines weeks away can be reached in a
// millisecond and every run is repeatable.
//
// Thread safety: both implementations may be read and (for the simulated clock) advanced from any
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "workflows/calendar.h"

namespace tongban {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
  virtual bool simulated() const { return false; }
};

class SystemClock final : public Clock {
 public:
  Instant Now() const override;
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(Instant start) : now_ms_(start.time_since_epoch().count()) {}
  Instant Now() const override { return Instant(std::chrono::milliseconds(now_ms_.load())); }
  bool simulated() const override { return true; }
  void Set(Instant t) { now_ms_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::milliseconds d) { now_ms_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_ms_;
};

// RFC 3339 with an offset ("2026-03-02T09:00:00+08:00", "...Z", fractional seconds allowed).
std::optional<Instant> ParseTimestamp(const std::string& text);
// RFC 3339 in UTC with milliseconds: "2026-03-02T01:00:00.000Z".
std::string FormatTimestamp(Instant t);
// RFC 3339 in the given IANA zone ("2026-03-02T09:00:00+08:00").
std::string FormatTimestampIn(Instant t, const std::string& zone);

}  // namespace tongban
