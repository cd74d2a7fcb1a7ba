// FrameActions: the actions of the statutory frame (行政许可法) that every item shares — one table.
//
// Each row says who may take the action (roles), which powers an organ needs to take it (赋权 maps
// powers, not actions), in which case statuses the frame offers it, what data it carries, and
// whether only the engine's timers take it. Everything else is derived from this table: the ids an
// item may not reuse (ReservedActionIds), the engine's dispatch (engine/lifecycle.cc checks that
// every dispatched row has an event and every event a row), the powers checked at each staff
// action, the actions offered to a caller (engine/permissions.h) and the language reference's
// table (definitions/README.md §6.2, kept in step by a test).
//
// Thread safety: immutable static data.
#pragma once

#include <string>
#include <vector>

#include "workflows/power.h"

namespace tongban {

// A field of an action's `data` object, as a form would ask for it.
enum class DataFieldType {
  kText,         // a string (a reason, findings)
  kMaterialIds,  // an array of the item's material ids
  kChoice,       // one of `choices`
  kObject,       // an object (a bundle's form fields)
  kInteger,      // a whole number, one of `choices` when they are given (a rating's score)
};
const char* DataFieldTypeName(DataFieldType type);

struct DataField {
  std::string name;
  DataFieldType type = DataFieldType::kText;
  bool required = false;
  std::string required_when;         // set when only some answers need it ("decision is deny")
  std::vector<std::string> choices;  // kChoice
  std::string title;                 // the label a form shows (中文)
};

struct FrameActionSpec {
  std::string id;
  std::string title;        // 中文, the button text
  std::string description;  // what it does, for the reference and for callers
  // Who may take it; {"system"} for the engine's own timers.
  std::vector<std::string> roles;
  // The powers an organ needs over the item to take it; empty when only the applicant's side or
  // the engine takes it. (Accepting a commitment case decided at acceptance also needs decide:
  // engine/permissions.h adds that.)
  std::vector<Power> powers;
  // Status codes (engine/case_state.h) in which the frame offers it. Further conditions (once
  // only, instant items, a receiving window…) are the life cycle's and permissions' own.
  std::vector<std::string> offered_in;
  std::vector<DataField> data;
  bool system_only = false;  // taken by the engine's timers, never through the API
  // False for ids that are reserved but not actions of a running case: "submit" (the first event,
  // recorded by case creation) and "record_breach" (reserved; a breach is recorded by verify).
  bool dispatched = true;
  // Taken for the applicant (its own, its agent's, or a clerk's at the window): the engine records
  // in the event how it came in — `channel` (online, window, agent) and `visits` (the applicant's
  // trips in person, 跑动次数) — derived from who acts (engine/action_provenance.h).
  bool records_channel = false;
};

// The words a notice, the public tracking page or a diagram uses for a status code (审查中,
// 准予许可, …): every case status code of the frame (engine/case_state.h), and a bundle case's and
// a bundle part's own (in_progress, ready, delivered, waiting, blocked, awaiting_input,
// not_applicable: engine/bundle_case.h). "" for an unknown code.
const char* StatusTitle(const std::string& code);

// The statuses in which a case is closed for its applicant (decided, or ended without a decision):
// where it may be rated (好差评) and a bad rating's rectification answered.
const std::vector<std::string>& ClosedStatuses();

// Every frame action, reserved ids included, in the order of the language reference.
const std::vector<FrameActionSpec>& FrameActionTable();
// The row for `id` among the dispatched actions; null for step actions, "submit" and unknown ids.
const FrameActionSpec* FindFrameAction(const std::string& id);
// Every id of the table: an item's step actions may not use them.
const std::vector<std::string>& ReservedActionIds();

}  // namespace tongban
