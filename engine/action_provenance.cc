#include "engine/action_provenance.h"

#include "workflows/frame_actions.h"

namespace tongban {

std::string ChannelOf(const Actor& actor) {
  if (actor.role == "applicant") return "online";
  if (actor.role == "clerk") return "window";
  if (actor.role == "agent") return "agent";
  return "";
}

namespace {

bool RecordsChannel(const std::string& action) {
  for (const FrameActionSpec& spec : FrameActionTable()) {
    if (spec.id == action) return spec.records_channel;
  }
  return false;
}

}  // namespace

void RecordProvenance(const Actor& actor, const std::string& action,
                      const DefinitionRegistry& registry, nlohmann::json* data) {
  if (actor.role == "system" || !data->is_object()) return;
  if (!actor.name.empty()) (*data)["actor_name"] = actor.name;
  if (!actor.organ.empty() && actor.organ != "*") {
    const std::string organ_name = registry.OrganName(actor.organ);
    if (!organ_name.empty() && organ_name != actor.organ) (*data)["actor_organ_name"] = organ_name;
  }
  if (!RecordsChannel(action)) return;
  const std::string channel = ChannelOf(actor);
  if (channel.empty()) return;
  (*data)["channel"] = channel;
  (*data)["visits"] = channel == "window" ? 1 : 0;
}

}  // namespace tongban
