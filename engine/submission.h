// An application (申请) as the engine reads it: the data of a case's first event (`submit`) into
// the new case's state, and the checks of what the applicant typed — the form against the
// definition's fields, the materials against its list — that item and bundle cases share.
//
// Every refusal is InvalidArgument with a JSON pointer (Status::pointer()) into the application as
// the caller sent it (`POST /v1/cases`): /form/FIELD, /materials/N, /mode, /commitment. Nothing
// here throws; JSON of the wrong type is a refusal too.
//
// Thread safety: free functions on their arguments only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_state.h"
#include "workflows/calendar.h"
#include "workflows/guard.h"
#include "workflows/item.h"
#include "workflows/status.h"

namespace tongban {

// Checks `form` against `fields`: an object, only known fields, each value of its field's type
// (null stands for "not given"), every required field given. Pointers: /form, /form/FIELD
// (escaped as RFC 6901 says).
Status CheckForm(const std::vector<FormField>& fields, const nlohmann::json& form);

// Reads `materials`, which must be an array of ids of `known`'s materials, into `out` (appended,
// in the order given). `at` is where the list is in the caller's request ("/materials" in an
// application, "/data/materials" in an action); refusals point at it, or at its first unknown
// element (`at`/N).
Status ReadMaterialIds(const std::vector<Material>& known, const nlohmann::json& materials,
                       std::string_view at, std::vector<std::string>* out);

// Reads the submit event's data (the case's identity, the applicant, mode and commitment, form,
// materials, and the receiving window and bundle it came through, when it did) into `state`,
// whose other members it leaves alone, checking it against `item`. `time` is the submission's
// (the commitment is signed then). On a refusal `state` may hold part of the data.
Status ReadSubmission(const Item& item, const nlohmann::json& data, Instant time, CaseState* state);

}  // namespace tongban
