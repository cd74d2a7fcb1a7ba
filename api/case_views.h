// The API's views of cases: the JSON a client gets for an item case, a bundle case (一件事), the
// actions it is offered, and the public tracking page. Built from the engine's views
// (CaseViewToJson, BundleViewToJson) plus what only the API shows (titles, offered actions, the
// version); the stored bytes are not the API's business.
//
// The views decide nothing: the handlers ask CaseService what the caller may see and take, and
// pass it in. Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_service.h"
#include "engine/event.h"
#include "engine/permissions.h"
#include "workflows/principals.h"

namespace tongban::api {

// `available_actions`: each offered action with its role and data fields.
nlohmann::json OfferedJson(const std::vector<OfferedAction>& offered);

// An item case as `p` sees it, with `offered` (CaseService::OfferedActions for `p`) as its
// available actions; applicants are not shown which official did what.
nlohmann::json CaseJson(const CaseView& view, const Principal& p,
                        const std::vector<OfferedAction>& offered);

// A bundle case with every part's status and clock, and `offered` as its available actions.
nlohmann::json BundleJson(const BundleView& view, const std::vector<OfferedAction>& offered);

// The public progress of an item case (GET /v1/track): status, step, due dates, light, missing
// materials, the receiving window (`receiving_organ_name`, when the case was received under a
// handling agreement) and a timeline of statuses from `events`; nothing about staff.
nlohmann::json TrackingJson(const CaseView& view, const std::vector<Event>& events,
                            const std::string& receiving_organ_name);

// The public progress of a bundle case: the bundle and every part.
nlohmann::json BundleTrackingJson(const BundleView& bundle);

}  // namespace tongban::api
