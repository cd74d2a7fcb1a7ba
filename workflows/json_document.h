// JsonDocument: a parsed JSON text that remembers where every value came from.
//
// Definitions are written by people, so every problem must point at a line and column.
// nlohmann::json does not keep positions, so this is a small strict parser (RFC 8259) that builds
// an nlohmann::json value and, beside it, a map from each value's JSON pointer (RFC 6901) to its
// position in the text. It is also the parser for HTTP request bodies, because it refuses what
// nlohmann accepts silently: duplicate object keys and unbounded nesting.
//
// Thread safety: a JsonDocument is immutable after parsing and may be shared between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "workflows/status.h"

namespace tongban {

// 1-based line and column; the column counts Unicode code points, as editors do.
struct SourcePosition {
  int line = 0;
  int column = 0;
  bool known() const { return line > 0; }
};

struct JsonParseOptions {
  int max_depth = 64;            // deeper nesting is refused, not recursed into
  bool record_positions = true;  // off for bodies whose errors need no positions of members
};

class JsonDocument {
 public:
  JsonDocument() = default;

  // Parses `text`. On failure returns kInvalidArgument whose message names the problem, and stores
  // where it was found in *error_position when that is not null.
  static Result<JsonDocument> Parse(std::string_view text, SourcePosition* error_position = nullptr,
                                    const JsonParseOptions& options = {});

  const nlohmann::json& root() const { return root_; }
  nlohmann::json& mutable_root() { return root_; }

  // Where the value at `pointer` starts: for an object member, its key. Falls back to the nearest
  // ancestor that is known, and to an unknown position when nothing is.
  SourcePosition PositionOf(std::string_view pointer) const;

 private:
  friend class JsonParser;
  nlohmann::json root_;
  std::unordered_map<std::string, SourcePosition> positions_;
};

// What stands at the start of `text`, for a parse error's message and always valid UTF-8 (messages
// go into JSON answers): 'x' for a printable ASCII character; '｛' (U+FF5B: …) for any other
// character, saying which ASCII character JSON needs when it is the full-width or typographic
// punctuation of a Chinese input method (｛ ｝ ［ ］ ： ， 、 “ ” and the ideographic space);
// U+0001 for a control character; "byte 0xFF (not UTF-8)" for a byte that starts no character; "the
// end of the input" for an empty `text`.
std::string DescribeJsonCharacter(std::string_view text);

// Escapes one reference token for a JSON pointer ("~" → "~0", "/" → "~1").
std::string EscapeJsonPointerToken(std::string_view token);

// Builds "/a/b/0" from a parent pointer and a token.
std::string JoinJsonPointer(std::string_view parent, std::string_view token);
std::string JoinJsonPointer(std::string_view parent, size_t index);

}  // namespace tongban
