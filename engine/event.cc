#include "engine/event.h"

#include "engine/clock.h"
#include "workflows/sha256.h"

namespace tongban {

nlohmann::json Event::DataJson() const {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string CanonicalJson(const nlohmann::json& value) {
  // nlohmann::json keeps object keys in a std::map, so dump() is already key-sorted.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
void AppendField(std::string* out, std::string_view value) {
  out->append(std::to_string(value.size()));
  out->push_back(':');
  out->append(value);
  out->push_back('\n');
}
}  // namespace

std::string CanonicalEventEncoding(const Event& e) {
  std::string out;
  out.reserve(256 + e.data.size());
  out.append("tongban-event-v1\n");
  AppendField(&out, e.case_id);
  AppendField(&out, std::to_string(e.seq));
  AppendField(&out, std::to_string(e.time.time_since_epoch().count()));
  AppendField(&out, e.actor.id);
  AppendField(&out, e.actor.role);
  AppendField(&out, e.actor.organ);
  AppendField(&out, e.action);
  AppendField(&out, e.data);
  AppendField(&out, e.status);
  AppendField(&out, e.step);
  AppendField(&out, e.definition_id);
  AppendField(&out, std::to_string(e.definition_version));
  AppendField(&out, e.prev_hash);
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
