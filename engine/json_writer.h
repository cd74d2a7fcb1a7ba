// JsonObjectWriter: writes a JSON object member by member straight into a string, in the bytes
// CanonicalJson (event.h) gives for the same value, without building a nlohmann::json tree first.
// For the texts written on every request or commit (the stored snapshot, the API's case view),
// where the tree's allocations showed in profiles.
//
// The caller names the members in sorted key order (the order CanonicalJson and nlohmann's dump
// write them in); a member out of order makes different bytes, so each user has a test comparing
// its output with CanonicalJson of the tree it replaces.
//
// Thread safety: an instance writes to one string, from one thread.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/event.h"

namespace tongban {

class JsonObjectWriter {
 public:
  // Opens an object at the end of `out`; the destructor closes it.
  explicit JsonObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  ~JsonObjectWriter() { out_->push_back('}'); }
  JsonObjectWriter(const JsonObjectWriter&) = delete;
  JsonObjectWriter& operator=(const JsonObjectWriter&) = delete;

  // Starts a member; the caller writes its value. `key` needs no escaping.
  std::string* Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
    return out_;
  }
  void String(std::string_view key, std::string_view value) { AppendJsonString(Key(key), value); }
  void Int(std::string_view key, int64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    Key(key)->append(digits, static_cast<size_t>(end - digits));
  }
  void Bool(std::string_view key, bool value) { Key(key)->append(value ? "true" : "false"); }
  void Null(std::string_view key) { Key(key)->append("null"); }
  void Json(std::string_view key, const nlohmann::json& value) {
    AppendCanonicalJson(Key(key), value);
  }
  template <typename Strings>
  void StringArray(std::string_view key, const Strings& values) {
    std::string* out = Key(key);
    out->push_back('[');
    bool first = true;
    for (const std::string& v : values) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, v);
    }
    out->push_back(']');
  }
  // A map of strings as an object: std::map's order is the sorted key order.
  void StringMap(std::string_view key, const std::map<std::string, std::string>& values) {
    std::string* out = Key(key);
    out->push_back('{');
    bool first = true;
    for (const auto& [k, v] : values) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, k);
      out->push_back(':');
      AppendJsonString(out, v);
    }
    out->push_back('}');
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace tongban
