// Identities of new cases: ids, human case numbers and query codes, and the command an event
// records. Shared by the item and bundle halves of CaseService.
//
// Thread safety: all functions are thread-safe (OpenSSL's RAND_bytes).
#pragma once

#include <string>

#include "engine/event.h"
#include "engine/lifecycle.h"
#include "workflows/calendar.h"

namespace tongban {

std::string NewCaseId();
// What the applicant types to track a case: 8 characters without look-alikes (0/O, 1/I).
std::string NewQueryCode();
// "TB20260302-12345678": the local date of `now` and 8 random digits.
std::string NewCaseNumber(const Calendar& calendar, Instant now);
Command CommandFromEvent(const Event& event);
// The event recording `command` on case `case_id`, which it left in `status` / `step`, chained to
// `prev_hash` (item and bundle cases alike).
Event ChainedEvent(const Command& command, const std::string& case_id, int64_t seq,
                   const std::string& status, const std::string& step,
                   const std::string& definition_id, int definition_version,
                   const std::string& prev_hash, const std::string& idempotency_key);

}  // namespace tongban
