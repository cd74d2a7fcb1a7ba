// Metrics: request counters and latency histograms, rendered as Prometheus text. (Transitions are
// counted by the engine when they commit: CaseService::transitions().)
//
// Thread safety: all methods are thread-safe; recording is a mutex-free atomic add on the hot path
// once a (route, status) series exists.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tongban::api {

// A Prometheus label value escaped (backslash, double quote, newline).
std::string PrometheusLabel(const std::string& value);

class Metrics {
 public:
  // Latency bucket upper bounds in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void RecordRequest(const std::string& route, int status, double seconds);

  // `extra` is appended verbatim (gauges computed at scrape time).
  std::string Render(const std::string& extra) const;

 private:
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micros{0};
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::unique_ptr<std::atomic<uint64_t>>> requests_;
  std::map<std::string, std::unique_ptr<Histogram>> latency_;
};

}  // namespace tongban::api
