#include "workflows/json_document.h"

#include <cmath>
#include <cstdlib>

namespace tongban {

std::string EscapeJsonPointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string JoinJsonPointer(std::string_view parent, std::string_view token) {
  std::string out(parent);
  out += '/';
  out += EscapeJsonPointerToken(token);
  return out;
}

std::string JoinJsonPointer(std::string_view parent, size_t index) {
  std::string out(parent);
  out += '/';
  out += std::to_string(index);
  return out;
}

SourcePosition JsonDocument::PositionOf(std::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    auto it = positions_.find(p);
    if (it != positions_.end()) return it->second;
    if (p.empty()) return {};
    size_t slash = p.rfind('/');
    p.erase(slash == std::string::npos ? 0 : slash);  // not a pointer: fall back to the root
  }
}

namespace {

// The code point of the well-formed UTF-8 sequence at the start of `text` and its length in bytes,
// or a length of 0 when it is not one (RFC 3629: no overlong forms, surrogates or values above
// U+10FFFF).
std::pair<uint32_t, size_t> DecodeUtf8(std::string_view text) {
  const unsigned char lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return {lead, 1};
  const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || text.size() < length) return {0, 0};
  // The range of the second byte depends on the lead byte; later bytes are any continuation.
  const unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
  const unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
  uint32_t cp = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < length; ++i) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80 || (i == 1 && (byte < low || byte > high))) return {0, 0};
    cp = (cp << 6) | (byte & 0x3F);
  }
  return {cp, length};
}

// The ASCII character JSON needs where a modeller typed `cp`: the full-width and typographic
// punctuation a Chinese input method produces when it is left on (｛ ： ， “ …), or 0.
char AsciiMeantBy(uint32_t cp) {
  switch (cp) {
    case 0xFF5B:  // ｛
      return '{';
    case 0xFF5D:  // ｝
      return '}';
    case 0xFF3B:  // ［
    case 0x3010:  // 【
      return '[';
    case 0xFF3D:  // ］
    case 0x3011:  // 】
      return ']';
    case 0xFF1A:  // ：
      return ':';
    case 0xFF0C:  // ，
    case 0x3001:  // 、
      return ',';
    case 0x201C:  // “
    case 0x201D:  // ”
    case 0xFF02:  // ＂
      return '"';
    case 0x3000:  // ideographic space
    case 0x00A0:  // no-break space
      return ' ';
    default:
      return 0;
  }
}

char HexDigit(unsigned value) {
  return "0123456789ABCDEF"[value & 0xF];
}

}  // namespace

std::string DescribeJsonCharacter(std::string_view text) {
  if (text.empty()) return "the end of the input";
  auto [cp, length] = DecodeUtf8(text);
  if (length == 0) {
    const unsigned byte = static_cast<unsigned char>(text[0]);
    // Appended, not a chain of `+`: once <string> is precompiled, GCC 12 at -O2 wrongly reports
    // such a chain as writing out of bounds (-Warray-bounds).
    std::string out = "byte 0x";
    out += HexDigit(byte >> 4);
    out += HexDigit(byte);
    out += " (not UTF-8)";
    return out;
  }
  std::string code = "U+";
  for (int shift = cp > 0xFFFF ? 16 : 12; shift >= 0; shift -= 4)
    code += HexDigit(cp >> shift);
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return code;
  std::string out = "'";
  out += text.substr(0, length);
  out += "'";
  if (cp < 0x80) return out;
  out += " (";
  out += code;
  if (char meant = AsciiMeantBy(cp); meant == ' ') {
    out += ": not a space JSON allows; use an ASCII space";
  } else if (meant != 0) {
    out += ": JSON needs the ASCII '";
    out += meant;
    out += "'; is a Chinese input method on?";
  }
  out += ")";
  return out;
}

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonParseOptions& options, JsonDocument* doc)
      : text_(text), options_(options), doc_(doc) {}

  Status Run(SourcePosition* error_position) {
    SkipSpace();
    std::string pointer;
    Status status = ParseValue(&doc_->root_, pointer, 0);
    if (status.ok()) {
      SkipSpace();
      if (pos_ < text_.size()) status = ErrorFound("unexpected text after the JSON value");
    }
    if (!status.ok() && error_position != nullptr) *error_position = Here();
    return status;
  }

 private:
  // Columns are counted incrementally from the last position asked for on this line, so that a long
  // single-line document (a typical HTTP body) costs linear time, not quadratic.
  SourcePosition Here() {
    if (column_pos_ < line_start_ || column_pos_ > pos_) {
      column_pos_ = line_start_;
      column_ = 1;
    }
    for (; column_pos_ < pos_ && column_pos_ < text_.size(); ++column_pos_) {
      if ((static_cast<unsigned char>(text_[column_pos_]) & 0xC0) != 0x80) ++column_;
    }
    return SourcePosition{line_, column_};
  }

  Status Error(std::string message) const { return Status::InvalidArgument(std::move(message)); }
  // `what`, then what stands at the current position instead.
  Status ErrorFound(std::string what) const {
    return Error(std::move(what) + ", found " + DescribeJsonCharacter(text_.substr(pos_)));
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  Status ParseValue(nlohmann::json* out, const std::string& pointer, int depth) {
    if (pos_ >= text_.size()) return ErrorFound("expected a value");
    if (options_.record_positions) doc_->positions_.emplace(pointer, Here());
    char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(out, pointer, depth + 1);
      case '[':
        return ParseArray(out, pointer, depth + 1);
      case '"': {
        std::string s;
        TONGBAN_RETURN_IF_ERROR(ParseString(&s));
        *out = std::move(s);
        return Status::Ok();
      }
      case 't':
        return ParseLiteral("true", true, out);
      case 'f':
        return ParseLiteral("false", false, out);
      case 'n':
        return ParseLiteral("null", nullptr, out);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return ErrorFound("expected a value");
    }
  }

  template <typename T>
  Status ParseLiteral(std::string_view word, T value, nlohmann::json* out) {
    if (text_.substr(pos_, word.size()) != word) return Error("invalid literal");
    pos_ += word.size();
    *out = value;
    return Status::Ok();
  }

  Status ParseObject(nlohmann::json* out, const std::string& pointer, int depth) {
    if (depth > options_.max_depth) {
      return Error("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    *out = nlohmann::json::object();
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Status::Ok();
    }
    bool after_comma = false;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        if (pos_ < text_.size() && text_[pos_] == '}' && after_comma) {
          return Error("trailing comma before '}': JSON allows no comma after the last member");
        }
        if (pos_ < text_.size() && text_[pos_] == '/') {
          return Error("comments are not allowed in JSON");
        }
        return ErrorFound("expected a member name in quotes");
      }
      const size_t key_start = pos_;
      SourcePosition key_position = Here();
      std::string key;
      TONGBAN_RETURN_IF_ERROR(ParseString(&key));
      if (out->contains(key)) {
        pos_ = key_start;  // the error points at the repeated key itself
        return Error("duplicate key \"" + key + "\"");
      }
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':')
        return ErrorFound("expected ':' after a member name");
      ++pos_;
      SkipSpace();
      std::string child_pointer = JoinJsonPointer(pointer, key);
      nlohmann::json& slot = (*out)[key];
      TONGBAN_RETURN_IF_ERROR(ParseValue(&slot, child_pointer, depth));
      if (options_.record_positions) doc_->positions_[child_pointer] = key_position;
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input inside an object");
      if (text_[pos_] == ',') {
        ++pos_;
        after_comma = true;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      return ErrorFound("expected ',' or '}' in an object");
    }
  }

  Status ParseArray(nlohmann::json* out, const std::string& pointer, int depth) {
    if (depth > options_.max_depth) {
      return Error("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    *out = nlohmann::json::array();
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return Status::Ok();
    }
    size_t index = 0;
    while (true) {
      SkipSpace();
      nlohmann::json element;
      TONGBAN_RETURN_IF_ERROR(ParseValue(&element, JoinJsonPointer(pointer, index++), depth));
      out->push_back(std::move(element));
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input inside an array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return Status::Ok();
      }
      return ErrorFound("expected ',' or ']' in an array");
    }
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  Status ParseHex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return Error("incomplete \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      value <<= 4;
      if (h >= '0' && h <= '9') {
        value |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        value |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        value |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return Error("invalid hex digit in \\u escape");
      }
    }
    *cp = value;
    return Status::Ok();
  }

  // Checks one UTF-8 sequence starting at pos_ and copies it. Overlong forms, encoded surrogates
  // and code points above U+10FFFF are refused (RFC 3629), as nlohmann::json refuses to dump them.
  Status CopyUtf8(std::string* out) {
    const size_t length = DecodeUtf8(text_.substr(pos_)).second;
    if (length == 0) {
      const unsigned char lead = static_cast<unsigned char>(text_[pos_]);
      const size_t wanted = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      if (lead >= 0xC2 && lead <= 0xF4 && pos_ + wanted > text_.size()) {
        return Error("truncated UTF-8 sequence in a string");
      }
      return Error("invalid UTF-8 in a string");
    }
    out->append(text_.substr(pos_, length));
    pos_ += length;
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in a string (escape it, e.g. \\n)");
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        TONGBAN_RETURN_IF_ERROR(CopyUtf8(out));
        continue;
      }
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) return Error("unterminated escape");
      const size_t escape_pos = pos_;
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          TONGBAN_RETURN_IF_ERROR(ParseHex4(&cp));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return Error("unpaired surrogate in \\u escape");
            pos_ += 2;
            uint32_t low = 0;
            TONGBAN_RETURN_IF_ERROR(ParseHex4(&low));
            if (low < 0xDC00 || low > 0xDFFF) return Error("invalid surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error("unpaired surrogate in \\u escape");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("invalid escape: a backslash before " +
                       DescribeJsonCharacter(text_.substr(escape_pos)));
      }
    }
  }

  Status ParseNumber(nlohmann::json* out) {
    size_t start = pos_;
    bool is_integer = true;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_]))) {
      return Error("invalid number");
    }
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
        ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_integer = false;
      ++pos_;
      if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_]))) {
        return Error("invalid number: digits expected after '.'");
      }
      while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
        ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_]))) {
        return Error("invalid number: digits expected in the exponent");
      }
      while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
        ++pos_;
    }
    std::string literal(text_.substr(start, pos_ - start));
    if (is_integer) {
      errno = 0;
      char* end = nullptr;
      long long value = std::strtoll(literal.c_str(), &end, 10);
      if (errno == 0) {
        *out = static_cast<int64_t>(value);
        return Status::Ok();
      }
    }
    double value = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(value)) return Error("number out of range");
    *out = value;
    return Status::Ok();
  }

  std::string_view text_;
  const JsonParseOptions& options_;
  JsonDocument* doc_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  size_t column_pos_ = 0;
  int column_ = 1;
};

Result<JsonDocument> JsonDocument::Parse(std::string_view text, SourcePosition* error_position,
                                         const JsonParseOptions& options) {
  JsonDocument doc;
  // A UTF-8 byte order mark is what some editors on Windows write; accept it.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  JsonParser parser(text, options, &doc);
  Status status = parser.Run(error_position);
  if (!status.ok()) return status;
  return doc;
}

}  // namespace tongban
