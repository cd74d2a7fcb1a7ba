#include "engine/event.h"

#include "engine/clock.h"
#include "workflows/sha256.h"

namespace tongban {

nlohmann::json ParseStoredData(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

nlohmann::json Event::DataJson() const {
  return ParseStoredData(data);
}

std::string CanonicalJson(const nlohmann::json& value) {
  // nlohmann::json keeps object keys in a std::map, so dump() is already key-sorted.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AppendEncodedField(std::string* out, std::string_view value) {
  out->append(std::to_string(value.size()));
  out->push_back(':');
  out->append(value);
  out->push_back('\n');
}

std::string CanonicalEventEncoding(const Event& e) {
  std::string out;
  out.reserve(256 + e.data.size());
  out.append("tongban-event-v1\n");
  AppendEncodedField(&out, e.case_id);
  AppendEncodedField(&out, std::to_string(e.seq));
  AppendEncodedField(&out, std::to_string(e.time.time_since_epoch().count()));
  AppendEncodedField(&out, e.actor.id);
  AppendEncodedField(&out, e.actor.role);
  AppendEncodedField(&out, e.actor.organ);
  AppendEncodedField(&out, e.action);
  AppendEncodedField(&out, e.data);
  AppendEncodedField(&out, e.status);
  AppendEncodedField(&out, e.step);
  AppendEncodedField(&out, e.definition_id);
  AppendEncodedField(&out, std::to_string(e.definition_version));
  AppendEncodedField(&out, e.prev_hash);
  return out;
}

std::string ComputeEventHash(const Event& event) {
  return Sha256Hex(CanonicalEventEncoding(event));
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
