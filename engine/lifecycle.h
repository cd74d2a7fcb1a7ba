// CaseLifecycle: the statutory life cycle of a licensing case (行政许可法), as a Boost.Statechart
// machine, with the item's own review steps run as a runtime table inside "under review".
//
// The frame is the same for every item and is made of typed states in two orthogonal regions:
//   lifecycle: Open{Submitted, CorrectionPending, UnderReview}, Decided{Approved, Denied}, Closed,
//              NotAccepted, Withdrawn, Terminated, Revoked
//   clock:     ClockIdle, ClockRunning, ClockPaused, ClockStopped
// The lifecycle region tells the clock region to re-evaluate by posting an internal event, so a
// suspension or a special-procedure step pauses the clock without the two regions knowing each
// other's states. UnderReview has one custom reaction for step actions; the current step is an
// index kept on the machine, and the item's table decides where each action leads.
//
// A command is applied by Apply(): it either changes the case and returns OK, or refuses with a
// Status. A refusal may leave partial changes on the machine (a reaction can fail half-way), so a
// caller that keeps machines (CaseService's cache) compares the state before and after and drops a
// machine a refusal touched. Replay applies recorded events through the
// same code, so the rules that admitted an event are the rules that rebuild it.
//
// Ratings (好差评: rate, answer_rating, mark_rectification_overdue) are dispatched beside the
// machine, not through it: they act on a closed case and change only CaseState::rating.
//
// Thread safety: a CaseLifecycle belongs to one thread at a time.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/case_state.h"
#include "engine/event.h"
#include "workflows/frame_actions.h"
#include "workflows/item.h"
#include "workflows/status.h"

namespace tongban {

// One action against a case, as the engine receives it (and as an event records it).
struct Command {
  std::string action;
  Actor actor;
  Instant time{};
  nlohmann::json data = nlohmann::json::object();
};

// The frame actions (workflows/frame_actions.h) the machine has an event for, in id order. Every
// dispatched row of the table has one, and nothing else does (lifecycle_test checks both ways).
std::vector<std::string> DispatchedFrameActions();

// Whether the current review step would take `command` now: the action is the step's; the actor
// holds the step's role (for a joint sign-off, the role of the party in data.party); a party signs
// once, each by a different person; the four-eyes rule; the action's required materials and
// guard; and, with `check_data`, a required reason. The life cycle applies exactly this check, and
// permissions ask it (without `check_data`: the reason is written when the action is taken) before
// offering an action. kFailedPrecondition, kPermissionDenied or kInvalidArgument with the reason.
Status CheckStepAction(const Item& item, const CaseState& state, const Command& command,
                       bool check_data);

// Materials neither supplied nor replaced by the case's commitment: the required ones (what blocks
// acceptance, art. 32) or, with `include_deferrable`, the deferrable (容缺后补) ones as well (what
// the applicant still owes). Optional materials never count. In the item's material order.
std::vector<std::string> OutstandingMaterials(const Item& item, const CaseState& state,
                                              bool include_deferrable);

class CaseMachine;

class CaseLifecycle {
 public:
  explicit CaseLifecycle(std::shared_ptr<const Item> item);
  ~CaseLifecycle();
  CaseLifecycle(const CaseLifecycle&) = delete;
  CaseLifecycle& operator=(const CaseLifecycle&) = delete;

  // The first command of every case: action "submit". Its data carries the case identity
  // ({"case": {id, number, query_code}}), the applicant, the form, the materials and the mode.
  Status Submit(const Command& command);
  // Any later command. kFailedPrecondition when the action is not available now, kPermissionDenied
  // when the actor may not take it, kInvalidArgument when its data, the form or a guard is wrong.
  Status Apply(const Command& command);

  const CaseState& state() const;
  const Item& item() const { return *item_; }
  std::shared_ptr<const Item> item_ptr() const { return item_; }
  // The current step's id, "" when not under review.
  std::string step_id() const;
  // Names of the active leaf states, for tests and diagnostics ("UnderReview", "ClockPaused").
  std::vector<std::string> ActiveStates() const;
  bool terminated() const;

 private:
  void RecordIssuer(const Command& command);
  void RecordVisits(const Command& command);

  std::shared_ptr<const Item> item_;
  std::unique_ptr<CaseMachine> machine_;
};

}  // namespace tongban
