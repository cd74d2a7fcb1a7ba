// Diagnostics: what the validator tells a modeller, one problem at a time but all at once.
//
// Every diagnostic names the file, the position in it, the JSON pointer of the offending value, and
// a message written for the person who edits the definition (not for the engine's developers).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/json_document.h"

namespace tongban {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;
  SourcePosition position;
  std::string pointer;  // RFC 6901; "" is the whole document
  std::string code;     // stable machine-readable kind, e.g. "unknown-key", "unreachable-step"
  std::string message;
};

// Collects diagnostics for one document; positions are looked up from the document by pointer.
class DiagnosticSink {
 public:
  DiagnosticSink(std::string file, const JsonDocument* document)
      : file_(std::move(file)), document_(document) {}

  void Error(std::string pointer, std::string code, std::string message);
  void Warning(std::string pointer, std::string code, std::string message);

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::vector<Diagnostic>& mutable_diagnostics() { return diagnostics_; }
  bool has_errors() const;
  const std::string& file() const { return file_; }

 private:
  void Add(Severity severity, std::string pointer, std::string code, std::string message);

  std::string file_;
  const JsonDocument* document_;
  std::vector<Diagnostic> diagnostics_;
};

// "file:line:column: error: message [pointer]" — the format compilers use, so editors can jump to
// it.
std::string FormatDiagnostic(const Diagnostic& diagnostic);
nlohmann::json DiagnosticToJson(const Diagnostic& diagnostic);

// The closest candidate within a small edit distance, or "" when nothing is close ("did you mean").
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tongban
