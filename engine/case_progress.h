// CaseProgress: the public progress of an item case (办件进度查询) — what an applicant holding the
// case number and query code is entitled to see, and nothing about staff: the steps of the
// process with the organ that handles each and when it was done, a timeline of status changes with
// the action's title and the organ that acted (its name, never a person), the reason of a denial,
// a refusal (不予受理) or a correction notice (补正告知), and a special procedure that holds the
// clock (特别程序) with the duration announced for it.
//
// Computed from a case view (its state and clock) and its history; the rules of what is public live
// here, so the API only renders. Thread safety: pure functions (the registry is thread-safe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/case_service.h"
#include "engine/definition_registry.h"
#include "engine/event.h"

namespace tongban {

struct ProgressStep {
  std::string kind;   // "frame" (申请, 受理, 决定, 送达) or "review" (the item's own steps)
  std::string id;     // frame: submit, accept, decide, deliver; review: the step id
  std::string title;  // 中文
  std::string organ;  // the name of the organ that handles it
  std::vector<std::string> party_organs;  // a joint step: each party's organ name
  std::string state;                      // done, current, pending or skipped
  std::optional<Instant> entered_at;      // review steps: when the case last entered it
  std::optional<Instant> time;            // when it was done
};

struct ProgressEntry {
  Instant time{};
  std::string status;
  std::string action;
  std::string action_title;
  std::string by;     // applicant (or its agent), organ, or system (the engine's timers)
  std::string organ;  // for "organ": the name of the organ whose staff acted ("" if unnamed)
};

struct ProgressReason {
  std::string kind;   // correction, refusal, denial, termination or revocation
  std::string title;  // 补正告知, 不予受理, 不予许可, 终止, 撤销
  std::string text;   // the reason the organ gave; "" when it gave none (a correction notice may)
  std::optional<Instant> time;
};

struct SpecialProcedureProgress {
  // A special procedure id (hearing, expert_review, … : workflows/item.h), "suspension" (中止), or
  // "uncounted_step" for a step that does not count without naming a procedure.
  std::string kind;
  std::string title;       // 听证, 专家评审, 中止, …
  std::string step_title;  // the step it runs in; "" for a suspension
  Instant started_at{};
  std::optional<int> announced_days;  // the duration announced to the applicant (the step's limit)
  std::optional<Day> ends_by;         // the last working day of the announced duration
  bool ends_by_provisional = false;
  std::optional<int> days_left;
  std::string reason;  // a suspension's reason
};

struct CaseProgress {
  std::vector<ProgressStep> steps;  // 申请, 受理, the item's steps in definition order, 决定, 送达
  std::vector<ProgressEntry> timeline;  // one entry per change of status, oldest first
  std::optional<ProgressReason> reason;
  std::optional<SpecialProcedureProgress> special_procedure;  // while one holds the clock
};

// The progress of `view` from its history `events` (oldest first; may be empty when the history
// cannot be read: the steps then carry no review times and the timeline is empty). Organ names
// come from the deployed definitions.
CaseProgress ComputeProgress(const CaseView& view, const std::vector<Event>& events,
                             const DefinitionRegistry& registry);

// The reason the applicant is given for the case's current status, if it is one that has one: a
// correction notice (its text from the notice in `events`), a refusal, a denial, a termination or
// a revocation (their text from the state).
std::optional<ProgressReason> ProgressReasonOf(const CaseView& view,
                                               const std::vector<Event>& events);

// The reason each part of `bundle` shows when tracked, aligned with bundle.parts (nullopt for a
// part without one): ProgressReasonOf on the part's case, its history read from `service` only for
// a part that has a reason, so that a part's correction notice carries the clerk's words and time
// as an item's does. A history that cannot be read leaves the reason without them.
std::vector<std::optional<ProgressReason>> BundlePartReasons(const BundleView& bundle,
                                                             CaseService& service);

// The Chinese title of an action on a case of `item`: a frame action's (受理, 一次性告知补正, …)
// or a step action's — of step `step_id` when given (steps may share action ids: "deny"), else
// the first step that has it; the id itself when none knows it.
std::string ActionTitle(const Item& item, const std::string& action,
                        const std::string& step_id = "");

}  // namespace tongban
