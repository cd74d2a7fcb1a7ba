// Provenance recorded on an event when it is written: who acted, by their name and organ's name as
// they were at that moment, and — for the actions taken for the applicant — how the case came in.
//
// Names come from the principals file and the deployed definitions, both of which change; an event
// keeps the names of its moment in its data (covered by the hash), so that a later change of a
// principal's name or an organ's renaming does not rewrite history. Events written before this was
// recorded have no names: views show their ids alone.
//
// The channel is derived from who acts, not typed: an applicant acting with its own token applies
// online (网上办), a clerk acts at the window (窗口办) for an applicant who came in person, an
// agent (帮办代办) acts under a mandate. So it can neither be forgotten nor mistyped, and the same
// rule holds on every route. Visits (跑动次数) are the applicant's trips in person: 1 for an action
// at the window, 0 otherwise. Recorded on the actions the frame-action table marks
// (FrameActionSpec::records_channel: submit, supply_correction, supply_materials, withdraw).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/definition_registry.h"
#include "engine/event.h"

namespace tongban {

// "online", "window" or "agent" for the roles that act for an applicant; "" for anyone else.
std::string ChannelOf(const Actor& actor);

// Adds to `data` (an object) what the event of `action` taken by `actor` records about them:
// `actor_name` and `actor_organ_name` (when known), and `channel` and `visits` when the action
// records the channel. The system's timers record nothing.
void RecordProvenance(const Actor& actor, const std::string& action,
                      const DefinitionRegistry& registry, nlohmann::json* data);

}  // namespace tongban
