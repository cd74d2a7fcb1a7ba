#include "engine/event.h"

#include <charconv>
#include <cstring>
#include <optional>

#include "engine/clock.h"

namespace tongban {

nlohmann::json Event::DataJson() const {
  return ParseStoredData(data);
}

namespace {

std::string Dump(const nlohmann::json& value) {
  // nlohmann::json keeps object keys in a std::map, so dump() is already key-sorted.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Whether the eight bytes at `p` are all ASCII that JSON copies as it is: no control character,
// no '"' and no '\\'. All eight tested at once: (v - 0x01..) & ~v & 0x80.. is non-zero exactly when
// some byte of v is zero, so x ^ 0x22.. and x ^ 0x5C.. find the two characters; and with no high
// bit set in x, (x - 0x20..) & ~x & 0x80.. is non-zero exactly when some byte is below 0x20.
bool PlainAscii8(const unsigned char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  if (x & kHighs) return false;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t below_space = (x - kOnes * 0x20) & ~x & kHighs;
  return (below_space | has_zero(x ^ (kOnes * '"')) | has_zero(x ^ (kOnes * '\\'))) == 0;
}

// Whether nlohmann's serializer (ensure_ascii off) copies `text` as it is: no byte it escapes
// (control characters, '"', '\\') and valid UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF), which it would replace.
bool CopiedVerbatim(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Eight plain ASCII bytes at a time: most text (ids, codes, times, hashes) is nothing else, and
    // every string of a snapshot and of stored data passes through here.
    while (n - i >= 8 && PlainAscii8(p + i))
      i += 8;
    if (i == n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == '"' || c == '\\') return false;
      ++i;
      continue;
    }
    // Well-formed sequences as the Unicode standard's table 3-7 lists them: the lead byte fixes
    // the length and the range of the second byte (which rules out overlong forms, surrogates
    // and code points past U+10FFFF); every later byte is 80..BF. Decoding the code point to
    // compare it costs more, and Chinese text is all three-byte sequences.
    size_t length;
    unsigned char second_low = 0x80;
    unsigned char second_high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) second_low = 0xA0;
      if (c == 0xED) second_high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) second_low = 0x90;
      if (c == 0xF4) second_high = 0x8F;
    } else {
      return false;
    }
    if (n - i < length) return false;
    if (p[i + 1] < second_low || p[i + 1] > second_high) return false;
    for (size_t k = 2; k < length; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

// A parser for the text CanonicalJson writes (what stored data is): no whitespace, strings
// without escapes, integers of up to 18 digits. It gives the tree nlohmann::json::parse gives
// and refuses (nullopt) anything else, which then goes to nlohmann's parser: replay parses every
// event's data, and nlohmann's general lexer was most of replay's cost.
class CanonicalParser {
 public:
  explicit CanonicalParser(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  std::optional<nlohmann::json> Parse() {
    nlohmann::json value;
    if (!Value(&value, 0) || p_ != end_) return std::nullopt;
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;  // deeper text goes to nlohmann's iterative parser

  bool Value(nlohmann::json* out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return depth < kMaxDepth && Object(out, depth + 1);
      case '[':
        return depth < kMaxDepth && Array(out, depth + 1);
      case '"': {
        std::string text;
        if (!String(&text)) return false;
        *out = std::move(text);
        return true;
      }
      case 't':
        return Literal("true", nlohmann::json(true), out);
      case 'f':
        return Literal("false", nlohmann::json(false), out);
      case 'n':
        return Literal("null", nlohmann::json(nullptr), out);
      default:
        return Number(out);
    }
  }

  bool Object(nlohmann::json* out, int depth) {
    ++p_;  // '{'
    *out = nlohmann::json::object();
    auto& members = out->get_ref<nlohmann::json::object_t&>();
    if (p_ != end_ && *p_ == '}') return ++p_, true;
    while (true) {
      std::string key;
      if (p_ == end_ || *p_ != '"' || !String(&key) || p_ == end_ || *p_++ != ':') return false;
      nlohmann::json member;
      if (!Value(&member, depth)) return false;
      // Sorted keys make the hint exact; a repeated key keeps its last value, as nlohmann does.
      members.insert_or_assign(members.end(), std::move(key), std::move(member));
      if (p_ == end_) return false;
      char c = *p_++;
      if (c == '}') return true;
      if (c != ',') return false;
    }
  }

  bool Array(nlohmann::json* out, int depth) {
    ++p_;  // '['
    *out = nlohmann::json::array();
    auto& elements = out->get_ref<nlohmann::json::array_t&>();
    if (p_ != end_ && *p_ == ']') return ++p_, true;
    while (true) {
      elements.emplace_back();
      if (!Value(&elements.back(), depth) || p_ == end_) return false;
      char c = *p_++;
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  // A string without escapes, of valid UTF-8 (CopiedVerbatim: the bytes nlohmann accepts as is).
  bool String(std::string* out) {
    const char* start = ++p_;
    const char* close = static_cast<const char*>(std::memchr(start, '"', end_ - start));
    if (close == nullptr) return false;
    std::string_view text(start, static_cast<size_t>(close - start));
    if (!CopiedVerbatim(text)) return false;
    out->assign(text);
    p_ = close + 1;
    return true;
  }

  bool Literal(std::string_view word, nlohmann::json value, nlohmann::json* out) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    *out = std::move(value);
    return true;
  }

  // Integers as nlohmann types them: unsigned without a sign, signed with one.
  bool Number(nlohmann::json* out) {
    const bool negative = *p_ == '-';
    const char* digits = p_ + (negative ? 1 : 0);
    const char* q = digits;
    while (q != end_ && *q >= '0' && *q <= '9')
      ++q;
    const size_t count = static_cast<size_t>(q - digits);
    if (count == 0 || count > 18 || (count > 1 && *digits == '0') || (negative && *digits == '0'))
      return false;
    if (q != end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    int64_t value = 0;
    std::from_chars(digits, q, value);
    if (negative) {
      *out = -value;
    } else {
      *out = static_cast<uint64_t>(value);
    }
    p_ = q;
    return true;
  }

  const char* p_;
  const char* end_;
};

template <typename Int>
void AppendInt(std::string* out, Int value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out->append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

nlohmann::json ParseStoredData(const std::string& text) {
  if (text == "{}") return nlohmann::json::object();  // most events' data
  if (auto parsed = CanonicalParser(text).Parse()) return std::move(*parsed);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string CanonicalJson(const nlohmann::json& value) {
  std::string out;
  AppendCanonicalJson(&out, value);
  return out;
}

void AppendJsonString(std::string* out, std::string_view text) {
  if (!CopiedVerbatim(text)) {
    out->append(Dump(nlohmann::json(std::string(text))));
    return;
  }
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

void AppendCanonicalJson(std::string* out, const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null:
      out->append("null");
      return;
    case Type::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    case Type::number_integer:
      AppendInt(out, value.get<int64_t>());
      return;
    case Type::number_unsigned:
      AppendInt(out, value.get<uint64_t>());
      return;
    case Type::string:
      AppendJsonString(out, value.get_ref<const std::string&>());
      return;
    case Type::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, key);
        out->push_back(':');
        AppendCanonicalJson(out, member);
      }
      out->push_back('}');
      return;
    }
    case Type::array: {
      out->push_back('[');
      bool first = true;
      for (const nlohmann::json& element : value) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonicalJson(out, element);
      }
      out->push_back(']');
      return;
    }
    default:  // floating point numbers, binary, discarded: the serializer's own text
      out->append(Dump(value));
      return;
  }
}

namespace {
// Decimal digits without allocating (std::to_string's text, same bytes).
std::string_view Digits(int64_t value, char (&buffer)[24]) {
  auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string_view(buffer, static_cast<size_t>(end - buffer));
}
}  // namespace

void AppendEncodedField(std::string* out, std::string_view value) {
  char digits[24];
  out->append(Digits(static_cast<int64_t>(value.size()), digits));
  out->push_back(':');
  out->append(value);
  out->push_back('\n');
}

void AppendEncodedInt(std::string* out, int64_t value) {
  char digits[24];
  AppendEncodedField(out, Digits(value, digits));
}

void AppendCanonicalEventEncoding(std::string* out, const Event& e) {
  out->clear();
  out->reserve(256 + e.data.size());
  out->append("tongban-event-v1\n");
  AppendEncodedField(out, e.case_id);
  AppendEncodedInt(out, e.seq);
  AppendEncodedInt(out, e.time.time_since_epoch().count());
  AppendEncodedField(out, e.actor.id);
  AppendEncodedField(out, e.actor.role);
  AppendEncodedField(out, e.actor.organ);
  AppendEncodedField(out, e.action);
  AppendEncodedField(out, e.data);
  AppendEncodedField(out, e.status);
  AppendEncodedField(out, e.step);
  AppendEncodedField(out, e.definition_id);
  AppendEncodedInt(out, e.definition_version);
  AppendEncodedField(out, e.prev_hash);
}

std::string CanonicalEventEncoding(const Event& e) {
  std::string out;
  AppendCanonicalEventEncoding(&out, e);
  return out;
}

std::string ComputeEventHash(const Event& event) {
  return Sha256Hex(CanonicalEventEncoding(event));
}

bool EventHashChecker::Matches(const Event& event) {
  AppendCanonicalEventEncoding(&buffer_, event);
  char hex[64];
  sha_.Hex(buffer_, hex);
  return event.hash == std::string_view(hex, sizeof hex);
}

nlohmann::json EventToJson(const Event& e) {
  return {{"case_id", e.case_id},
          {"seq", e.seq},
          {"time", FormatTimestamp(e.time)},
          {"actor", {{"id", e.actor.id}, {"role", e.actor.role}, {"organ", e.actor.organ}}},
          {"action", e.action},
          {"data", e.DataJson()},
          {"status", e.status},
          {"step", e.step.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.step)},
          {"definition", {{"id", e.definition_id}, {"version", e.definition_version}}},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

}  // namespace tongban
