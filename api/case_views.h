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

#include "engine/case_progress.h"
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

// The text of CaseJson(view, p, offered) as the API sends it (the same bytes), written straight
// into a string: every action's and every case read's response, so without the json tree.
std::string CaseJsonText(const CaseView& view, const Principal& p,
                         const std::vector<OfferedAction>& offered);

// A bundle case with every part's status and clock, and `offered` as its available actions.
nlohmann::json BundleJson(const BundleView& view, const std::vector<OfferedAction>& offered);

// The public progress of an item case (GET /v1/track): status (code and words), the steps, due
// dates (each marked provisional when counted through a year the calendar does not cover), working
// days, the light, missing materials, the reason of a refusal, denial or correction notice, a
// special procedure holding the clock, the receiving window (`receiving_organ_name`, when the case
// was received under a handling agreement) and a timeline of statuses — all from `progress`
// (engine/case_progress.h, which decides what is public); nothing about staff.
nlohmann::json TrackingJson(const CaseView& view, const CaseProgress& progress,
                            const std::string& receiving_organ_name);

// The public progress of a bundle case: the bundle and every part (with its status in words, its
// due date and whether that is provisional, and `part_reasons`, aligned with bundle.parts: the
// reason of a correction notice, refusal or denial, engine/case_progress.h BundlePartReasons).
nlohmann::json BundleTrackingJson(const BundleView& bundle,
                                  const std::vector<std::optional<ProgressReason>>& part_reasons);

}  // namespace tongban::api
