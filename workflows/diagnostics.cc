#include "workflows/diagnostics.h"

#include <algorithm>

namespace tongban {

void DiagnosticSink::Error(std::string pointer, std::string code, std::string message) {
  Add(Severity::kError, std::move(pointer), std::move(code), std::move(message));
}

void DiagnosticSink::Warning(std::string pointer, std::string code, std::string message) {
  Add(Severity::kWarning, std::move(pointer), std::move(code), std::move(message));
}

void DiagnosticSink::Add(Severity severity, std::string pointer, std::string code,
                         std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.file = file_;
  if (document_ != nullptr) d.position = document_->PositionOf(pointer);
  d.pointer = std::move(pointer);
  d.code = std::move(code);
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

bool DiagnosticSink::has_errors() const {
  return std::any_of(diagnostics_.begin(), diagnostics_.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string FormatDiagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.position.known()) {
    out += ":" + std::to_string(d.position.line) + ":" + std::to_string(d.position.column);
  }
  out += d.severity == Severity::kError ? ": error: " : ": warning: ";
  out += d.message;
  out += " [" + (d.pointer.empty() ? std::string("/") : d.pointer) + "]";
  return out;
}

nlohmann::json DiagnosticToJson(const Diagnostic& d) {
  nlohmann::json j = {{"severity", d.severity == Severity::kError ? "error" : "warning"},
                      {"file", d.file},
                      {"pointer", d.pointer},
                      {"code", d.code},
                      {"message", d.message}};
  if (d.position.known()) {
    j["line"] = d.position.line;
    j["column"] = d.position.column;
  }
  return j;
}

namespace {
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}
}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    // A suggestion that replaces the whole word is no suggestion ("+" is not a typo of "<").
    if (distance >= std::max(word.size(), candidate.size())) continue;
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace tongban
