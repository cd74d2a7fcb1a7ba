#include "api/metrics.h"

#include <sstream>

namespace tongban::api {

namespace {
template <typename Map, typename Key>
std::atomic<uint64_t>& Counter(std::mutex& mutex, Map& map, const Key& key) {
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = map[key];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

}  // namespace

std::string PrometheusLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Metrics::RecordRequest(const std::string& route, int status, double seconds) {
  Counter(mutex_, requests_, std::make_pair(route, status)).fetch_add(1);
  Histogram* h;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = latency_[route];
    if (!slot) slot = std::make_unique<Histogram>();
    h = slot.get();
  }
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) h->buckets[i].fetch_add(1);
  }
  h->count.fetch_add(1);
  h->sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6));
}

std::string Metrics::Render(const std::string& extra) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mutex_);
  out << "# HELP tongban_http_requests_total HTTP requests by route and status.\n"
      << "# TYPE tongban_http_requests_total counter\n";
  for (const auto& [key, value] : requests_) {
    out << "tongban_http_requests_total{route=\"" << PrometheusLabel(key.first) << "\",status=\""
        << key.second << "\"} " << value->load() << "\n";
  }
  out << "# HELP tongban_http_request_duration_seconds Request latency by route.\n"
      << "# TYPE tongban_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "tongban_http_request_duration_seconds_bucket{route=\"" << PrometheusLabel(route)
          << "\",le=\"" << kBuckets[i] << "\"} " << h->buckets[i].load() << "\n";
    }
    out << "tongban_http_request_duration_seconds_bucket{route=\"" << PrometheusLabel(route)
        << "\",le=\"+Inf\"} " << h->count.load() << "\n";
    out << "tongban_http_request_duration_seconds_sum{route=\"" << PrometheusLabel(route) << "\"} "
        << static_cast<double>(h->sum_micros.load()) / 1e6 << "\n";
    out << "tongban_http_request_duration_seconds_count{route=\"" << PrometheusLabel(route)
        << "\"} " << h->count.load() << "\n";
  }
  out << extra;
  return out.str();
}

}  // namespace tongban::api
