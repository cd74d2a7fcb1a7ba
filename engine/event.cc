#include "engine/event.h"

#include <charconv>

#include "engine/clock.h"

namespace tongban {

nlohmann::json ParseStoredData(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

nlohmann::json Event::DataJson() const {
  return ParseStoredData(data);
}

namespace {

std::string Dump(const nlohmann::json& value) {
  // nlohmann::json keeps object keys in a std::map, so dump() is already key-sorted.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Whether nlohmann's serializer (ensure_ascii off) copies `text` as it is: no byte it escapes
// (control characters, '"', '\\') and valid UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF), which it would replace.
bool CopiedVerbatim(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == '"' || c == '\\') return false;
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4, code = c & 0x07;
    } else {
      return false;
    }
    if (n - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i + k] & 0x3F);
    }
    if (length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) return false;
    if (length == 4 && (code < 0x10000 || code > 0x10FFFF)) return false;
    i += length;
  }
  return true;
}

template <typename Int>
void AppendInt(std::string* out, Int value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out->append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

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
