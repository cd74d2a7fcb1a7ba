#include "engine/lifecycle.h"

#include <boost/mpl/list.hpp>
#include <boost/statechart/custom_reaction.hpp>
#include <boost/statechart/event.hpp>
#include <boost/statechart/exception_translator.hpp>
#include <boost/statechart/simple_state.hpp>
#include <boost/statechart/state.hpp>
#include <boost/statechart/state_machine.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "engine/case_clock.h"
#include "engine/clock.h"
#include "engine/submission.h"
#include "workflows/json_document.h"

namespace tongban {

namespace sc = boost::statechart;
namespace mpl = boost::mpl;

namespace {

// data.party when it is a string; "" otherwise (the caller reports a missing party).
std::string PartyOf(const Command& c) {
  auto it = c.data.find("party");
  return it != c.data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool MaterialSuppliedIn(const Item& item, const CaseState& state, const std::string& id) {
  if (state.materials.count(id) != 0) return true;
  const Material* m = item.FindMaterial(id);
  return m != nullptr && state.mode == "commitment" && m->commitment_replaceable;
}

}  // namespace

std::vector<std::string> OutstandingMaterials(const Item& item, const CaseState& state,
                                              bool include_deferrable) {
  std::vector<std::string> outstanding;
  for (const Material& m : item.materials) {
    const bool owed = m.necessity == Necessity::kRequired ||
                      (include_deferrable && m.necessity == Necessity::kDeferrable);
    if (owed && !MaterialSuppliedIn(item, state, m.id)) outstanding.push_back(m.id);
  }
  return outstanding;
}

Status CheckStepAction(const Item& item, const CaseState& state, const Command& c,
                       bool check_data) {
  if (!state.step || *state.step >= item.steps.size()) {
    return Status::FailedPrecondition("action \"" + c.action +
                                      "\" is not available: the case is not in a review step");
  }
  const size_t step_index = *state.step;
  const Step& step = item.steps[step_index];
  const Action* action = step.FindAction(c.action);
  if (action == nullptr) {
    std::string available;
    for (const Action& a : step.actions)
      available += (available.empty() ? "" : ", ") + a.id;
    return Status::FailedPrecondition("action \"" + c.action + "\" is not available in step \"" +
                                      step.id + "\"; available: " + available);
  }
  if (step.is_joint() && c.action == step.completes_with) {
    const std::string party_id = PartyOf(c);
    auto party = std::find_if(step.parties.begin(), step.parties.end(),
                              [&](const JointParty& p) { return p.id == party_id; });
    if (party == step.parties.end()) {
      std::string ids;
      for (const JointParty& p : step.parties)
        ids += (ids.empty() ? "" : ", ") + p.id;
      return Status::InvalidArgument("a joint step needs data.party, one of: " + ids)
          .WithPointer("/data/party");
    }
    if (c.actor.role != party->role) {
      return Status::PermissionDenied("party \"" + party->id + "\" acts in role " + party->role +
                                      ", not " + c.actor.role);
    }
    if (state.joint_passed.count(party_id) != 0) {
      return Status::FailedPrecondition("party \"" + party_id + "\" has already passed");
    }
    for (const auto& [other_party, who] : state.joint_passed) {
      if (who == c.actor.id) {
        return Status::PermissionDenied(c.actor.id + " already passed for party \"" + other_party +
                                        "\"; each party of a joint step is a different person");
      }
    }
  } else if (c.actor.role != step.role) {
    return Status::PermissionDenied("step \"" + step.id + "\" is acted on by role " + step.role +
                                    ", not " + c.actor.role);
  }
  for (size_t partner : item.FourEyesPartners(step_index)) {
    // "step" is who completed it last; "step/@id" everyone who ever acted in it.
    const std::string& partner_id = item.steps[partner].id;
    for (const auto& [key, who] : state.step_actors) {
      if (who != c.actor.id || (key != partner_id && key.rfind(partner_id + "/", 0) != 0)) {
        continue;
      }
      return Status::PermissionDenied("four-eyes rule: " + c.actor.id + " acted in step \"" +
                                      partner_id + "\" and may not act in step \"" + step.id +
                                      "\"");
    }
  }
  for (const std::string& material : action->requires_materials) {
    if (!MaterialSuppliedIn(item, state, material)) {
      const Material* mat = item.FindMaterial(material);
      return Status::InvalidArgument("action \"" + action->id + "\" requires material " + material +
                                     " (" + (mat ? mat->name : "") +
                                     "), which has not been supplied");
    }
  }
  if (action->guard && !action->guard->Evaluate(state.form)) {
    return Status::InvalidArgument(
        "the condition of action \"" + action->id +
        "\" does not hold for this application: " + action->guard->source().dump());
  }
  if (check_data && action->requires_reason) {
    auto reason = c.data.find("reason");
    if (reason == c.data.end() || !reason->is_string() || reason->get<std::string>().empty()) {
      return Status::InvalidArgument("action \"" + action->id + "\" needs data.reason")
          .WithPointer("/data/reason");
    }
  }
  return Status::Ok();
}

// ---- Events -------------------------------------------------------------------------------------

template <class Tag>
struct Ev : sc::event<Ev<Tag>> {
  explicit Ev(const Command& c) : command(&c) {}
  const Command* command;
};
struct EvAccept : Ev<EvAccept> {
  using Ev::Ev;
};
struct EvAcceptAndDecide : Ev<EvAcceptAndDecide> {
  using Ev::Ev;
};
struct EvRequestCorrection : Ev<EvRequestCorrection> {
  using Ev::Ev;
};
struct EvSupplyCorrection : Ev<EvSupplyCorrection> {
  using Ev::Ev;
};
struct EvSupplyMaterials : Ev<EvSupplyMaterials> {
  using Ev::Ev;
};
struct EvRefuse : Ev<EvRefuse> {
  using Ev::Ev;
};
struct EvWithdraw : Ev<EvWithdraw> {
  using Ev::Ev;
};
struct EvSuspend : Ev<EvSuspend> {
  using Ev::Ev;
};
struct EvResume : Ev<EvResume> {
  using Ev::Ev;
};
struct EvExtend : Ev<EvExtend> {
  using Ev::Ev;
};
struct EvDeliver : Ev<EvDeliver> {
  using Ev::Ev;
};
struct EvTerminate : Ev<EvTerminate> {
  using Ev::Ev;
};
struct EvRevoke : Ev<EvRevoke> {
  using Ev::Ev;
};
struct EvDeemAccepted : Ev<EvDeemAccepted> {
  using Ev::Ev;
};
struct EvMarkOverdue : Ev<EvMarkOverdue> {
  using Ev::Ev;
};
struct EvTransfer : Ev<EvTransfer> {
  using Ev::Ev;
};
struct EvVerify : Ev<EvVerify> {
  using Ev::Ev;
};
struct EvMarkVerificationOverdue : Ev<EvMarkVerificationOverdue> {
  using Ev::Ev;
};
struct EvStepAction : Ev<EvStepAction> {
  using Ev::Ev;
};
// Internal: the lifecycle region asks the clock region to re-evaluate.
struct EvClockSync : sc::event<EvClockSync> {};

// ---- The machine --------------------------------------------------------------------------------

struct Active;
struct Open;
struct Submitted;
struct CorrectionPending;
struct UnderReview;
struct Decided;
struct Approved;
struct Denied;
struct Closed;
struct NotAccepted;
struct Withdrawn;
struct Terminated;
struct Revoked;
struct ClockIdle;
struct ClockRunning;
struct ClockPaused;
struct ClockStopped;

enum class ClockMode { kIdle, kRunning, kPaused, kStopped };

class CaseMachine : public sc::state_machine<CaseMachine, Active, std::allocator<sc::none>,
                                             sc::exception_translator<>> {
 public:
  explicit CaseMachine(const Item& item) : item_(item) {}

  const Item& item() const { return item_; }
  CaseState state;
  const Command* command = nullptr;  // the command being applied
  Status outcome;                    // set by a reaction that refuses

  Instant now() const { return command != nullptr ? command->time : Instant{}; }

  void Fail(Status status) {
    if (outcome.ok()) outcome = std::move(status);
  }

  // Called by Boost.Statechart when no state reacts: the action does not exist in this status.
  void unconsumed_event(const sc::event_base&) {
    std::string where = CaseStatusCode(state.status);
    if (state.step) where += ", step \"" + item_.steps[*state.step].id + "\"";
    Fail(Status::FailedPrecondition("action \"" + (command ? command->action : std::string("?")) +
                                    "\" is not available in status " + where));
  }

  ClockMode DesiredClock() const {
    switch (state.status) {
      case CaseStatus::kSubmitted:
      case CaseStatus::kCorrectionPending:
        return ClockMode::kIdle;
      case CaseStatus::kUnderReview: {
        bool step_paused = state.step && !item_.steps[*state.step].counts_toward_limit;
        return state.suspended || step_paused ? ClockMode::kPaused : ClockMode::kRunning;
      }
      default:
        return ClockMode::kStopped;
    }
  }

  void OpenPause() {
    std::string reason;
    if (state.suspended) {
      reason = "suspended";
    } else if (state.step) {
      const Step& step = item_.steps[*state.step];
      reason = "step " + step.id +
               (step.special_procedure.empty() ? "" : " (" + step.special_procedure + ")");
    }
    state.pauses.push_back({now(), std::nullopt, reason});
  }
  void ClosePause() {
    if (state.paused()) state.pauses.back().end = now();
  }

  void EnterStep(size_t index) {
    state.step = index;
    state.step_entered_at = now();
    state.joint_passed.clear();
  }

  std::string Reason() const {
    if (command == nullptr) return "";
    auto it = command->data.find("reason");
    return it != command->data.end() && it->is_string() ? it->get<std::string>() : "";
  }

  bool MaterialSupplied(const std::string& id) const {
    return MaterialSuppliedIn(item_, state, id);
  }

  // Required materials that are neither supplied nor replaced by a commitment; deferrable
  // (容缺后补) and optional ones do not block acceptance.
  std::vector<std::string> MissingRequiredMaterials() const {
    return OutstandingMaterials(item_, state, /*include_deferrable=*/false);
  }

  // Reads data.materials as a list of known material ids; reports and returns false otherwise.
  bool ReadMaterialList(const char* key, std::vector<std::string>* out, bool required) {
    auto it = command->data.find(key);
    if (it == command->data.end()) {
      if (required)
        Fail(Status::InvalidArgument(std::string("data.") + key + " is required")
                 .WithPointer(JoinJsonPointer("/data", key)));
      return !required;
    }
    Status read = ReadMaterialIds(item_.materials, *it, JoinJsonPointer("/data", key), out);
    if (read.ok()) return true;
    Fail(std::move(read));
    return false;
  }

 private:
  const Item& item_;
};

// Every refusal goes through here so that no reaction forgets to keep the state unchanged.
#define TONGBAN_REFUSE(machine, status) \
  do {                                  \
    (machine).Fail(status);             \
    return discard_event();             \
  } while (0)
#define TONGBAN_RETURN_IF_REFUSED(machine, expr)           \
  do {                                                     \
    Status refused_ = (expr);                              \
    if (!refused_.ok()) TONGBAN_REFUSE(machine, refused_); \
  } while (0)

struct Active : sc::simple_state<Active, CaseMachine, mpl::list<Open, ClockIdle>> {
  using reactions = sc::custom_reaction<sc::exception_thrown>;
  sc::result react(const sc::exception_thrown&) {
    std::string what = "unexpected failure";
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    context<CaseMachine>().Fail(
        Status::InvalidArgument("the action's data is malformed: " + what).WithPointer("/data"));
    return discard_event();
  }
};

// -- Lifecycle region --

struct Open : sc::simple_state<Open, Active::orthogonal<0>, Submitted> {
  using reactions = mpl::list<sc::custom_reaction<EvWithdraw>, sc::custom_reaction<EvTerminate>>;
  sc::result react(const EvWithdraw&) { return transit<Withdrawn>(); }
  sc::result react(const EvTerminate&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("terminating a procedure needs data.reason")
                            .WithPointer("/data/reason"));
    }
    return transit<Terminated>();
  }
};

template <class Derived, class Context, CaseStatus kStatus, class Inner = mpl::list<>>
struct StatusState : sc::state<Derived, Context, Inner> {
  using Base = sc::state<Derived, Context, Inner>;
  explicit StatusState(typename Base::my_context ctx) : Base(ctx) {
    this->template context<CaseMachine>().state.status = kStatus;
    this->post_event(EvClockSync());
  }
};

struct Submitted : StatusState<Submitted, Open, CaseStatus::kSubmitted> {
  using StatusState::StatusState;
  using reactions =
      mpl::list<sc::custom_reaction<EvAccept>, sc::custom_reaction<EvAcceptAndDecide>,
                sc::custom_reaction<EvRequestCorrection>, sc::custom_reaction<EvRefuse>,
                sc::custom_reaction<EvDeemAccepted>, sc::custom_reaction<EvSupplyMaterials>,
                sc::custom_reaction<EvTransfer>>;

  // 收受分离: until the receiving window transfers the case, the handling organ cannot act on it.
  bool AtHandlingOrgan(CaseMachine& m) {
    if (!m.state.awaiting_transfer()) return true;
    m.Fail(Status::FailedPrecondition(
        "the case is at the receiving window of " + m.state.received_by +
        "; it must be transferred to the handling organ (transfer) before it is handled"));
    return false;
  }

  sc::result react(const EvTransfer&) {
    CaseMachine& m = context<CaseMachine>();
    if (!m.state.awaiting_transfer()) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition(
                            m.state.received_by.empty()
                                ? "the case was received by the handling organ itself; there is "
                                  "nothing to transfer"
                                : "the case has already been transferred"));
    }
    m.state.transferred_at = m.now();
    // The handling organ receives the application now: the 5-day window of art. 32 starts here.
    m.state.received_at = m.now();
    return discard_event();
  }

  bool MaterialsComplete(CaseMachine& m) {
    std::vector<std::string> missing = m.MissingRequiredMaterials();
    if (missing.empty()) return true;
    std::string list;
    for (const auto& id : missing)
      list += (list.empty() ? "" : ", ") + id;
    m.Fail(
        Status::FailedPrecondition("required materials are missing (" + list +
                                   "); issue a correction notice (request_correction) or refuse"));
    return false;
  }

  sc::result react(const EvAccept&) {
    CaseMachine& m = context<CaseMachine>();
    if (!AtHandlingOrgan(m) || !MaterialsComplete(m)) return discard_event();
    m.state.accepted_at = m.now();
    if (m.state.mode == "commitment" && m.item().commitment &&
        m.item().commitment->decide_at_acceptance) {
      m.state.decision = Decision::kApprove;
      m.state.decided_at = m.now();
      return transit<Approved>();
    }
    return transit<UnderReview>();
  }

  sc::result react(const EvAcceptAndDecide&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.item().case_type != CaseType::kInstant) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition(
                            "accept_and_decide is for instant items (即办件) only; this item is "
                            "a promised item"));
    }
    std::string decision = m.command->data.value("decision", "");
    if (decision != "approve" && decision != "deny") {
      TONGBAN_REFUSE(m, Status::InvalidArgument("data.decision must be \"approve\" or \"deny\"")
                            .WithPointer("/data/decision"));
    }
    if (decision == "deny" && m.Reason().empty()) {
      TONGBAN_REFUSE(
          m, Status::InvalidArgument("a denial needs data.reason").WithPointer("/data/reason"));
    }
    if (!AtHandlingOrgan(m) || !MaterialsComplete(m)) return discard_event();
    m.state.accepted_at = m.now();
    m.state.decided_at = m.now();
    m.state.decision_reason = m.Reason();
    if (decision == "approve") {
      m.state.decision = Decision::kApprove;
      return transit<Approved>();
    }
    m.state.decision = Decision::kDeny;
    return transit<Denied>();
  }

  sc::result react(const EvRequestCorrection&) {
    CaseMachine& m = context<CaseMachine>();
    if (!AtHandlingOrgan(m)) return discard_event();
    if (m.state.correction_issued) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition(
                            "a correction notice was already issued; everything missing must be "
                            "notified at once (一次性告知, art. 32)"));
    }
    const Calendar& calendar = *m.item().time_limits.calendar;
    Day received = calendar.LocalDate(m.state.received_at);
    Day last_day = calendar.AddWorkingDays(received, 5).day;
    if (calendar.LocalDate(m.now()) > last_day) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition(
                            "a correction notice may only be issued within 5 working days of "
                            "receipt (until " +
                            FormatIsoDay(last_day) + ", art. 32)"));
    }
    std::vector<std::string> missing;
    if (!m.ReadMaterialList("missing", &missing, true)) return discard_event();
    if (missing.empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("data.missing must list at least one material")
                            .WithPointer("/data/missing"));
    }
    // The one notice allowed must name everything that blocks acceptance; a notice that leaves a
    // required material out would use it up on an application that can then never be accepted.
    std::string left_out;
    for (const std::string& id : m.MissingRequiredMaterials()) {
      if (std::find(missing.begin(), missing.end(), id) == missing.end()) {
        left_out += (left_out.empty() ? "" : ", ") + id;
      }
    }
    if (!left_out.empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument(
                            "a correction notice must list everything missing at once (一次性告知, "
                            "art. 32); it leaves out: " +
                            left_out));
    }
    m.state.correction_issued = true;
    m.state.missing_materials = missing;
    return transit<CorrectionPending>();
  }

  sc::result react(const EvRefuse&) {
    CaseMachine& m = context<CaseMachine>();
    if (!AtHandlingOrgan(m)) return discard_event();
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("refusing to accept (不予受理) needs data.reason")
                            .WithPointer("/data/reason"));
    }
    m.state.decision_reason = m.Reason();
    return transit<NotAccepted>();
  }

  sc::result react(const EvDeemAccepted&) {
    CaseMachine& m = context<CaseMachine>();
    if (!AtHandlingOrgan(m)) return discard_event();
    // Art. 32(4): counted as accepted from the day the materials were received.
    m.state.accepted_at = m.state.received_at;
    m.state.deemed_accepted = true;
    return transit<UnderReview>();
  }

  sc::result react(const EvSupplyMaterials&);
};

// Shared by every state that lets the applicant add materials without changing status.
template <class State>
sc::result SupplyMaterials(State& state, CaseMachine& m) {
  std::vector<std::string> supplied;
  if (!m.ReadMaterialList("materials", &supplied, true)) return state.discard_event();
  if (supplied.empty()) {
    m.Fail(Status::InvalidArgument("data.materials must list at least one material")
               .WithPointer("/data/materials"));
    return state.discard_event();
  }
  m.state.materials.insert(supplied.begin(), supplied.end());
  return state.discard_event();
}

sc::result Submitted::react(const EvSupplyMaterials&) {
  return SupplyMaterials(*this, context<CaseMachine>());
}

struct CorrectionPending : StatusState<CorrectionPending, Open, CaseStatus::kCorrectionPending> {
  using StatusState::StatusState;
  using reactions = sc::custom_reaction<EvSupplyCorrection>;
  sc::result react(const EvSupplyCorrection&) {
    CaseMachine& m = context<CaseMachine>();
    std::vector<std::string> supplied;
    if (!m.ReadMaterialList("materials", &supplied, true)) return discard_event();
    std::vector<std::string> still_missing;
    for (const std::string& id : m.state.missing_materials) {
      if (std::find(supplied.begin(), supplied.end(), id) == supplied.end() &&
          m.state.materials.count(id) == 0) {
        still_missing.push_back(id);
      }
    }
    if (!still_missing.empty()) {
      std::string list;
      for (const auto& id : still_missing)
        list += (list.empty() ? "" : ", ") + id;
      TONGBAN_REFUSE(m,
                     Status::InvalidArgument("the correction is incomplete; still missing: " + list)
                         .WithPointer("/data/materials"));
    }
    m.state.materials.insert(supplied.begin(), supplied.end());
    m.state.missing_materials.clear();
    m.state.received_at = m.now();  // the application is complete from now on
    return transit<Submitted>();
  }
};

struct UnderReview : StatusState<UnderReview, Open, CaseStatus::kUnderReview> {
  explicit UnderReview(my_context ctx) : StatusState(ctx) {
    CaseMachine& m = context<CaseMachine>();
    m.EnterStep(m.item().initial_step);
  }
  // However review ends (decision, withdrawal, termination), there is no current step after it.
  void exit() {
    CaseMachine& m = context<CaseMachine>();
    m.state.step.reset();
    m.state.step_entered_at.reset();
    m.state.joint_passed.clear();
  }
  using reactions =
      mpl::list<sc::custom_reaction<EvStepAction>, sc::custom_reaction<EvSuspend>,
                sc::custom_reaction<EvResume>, sc::custom_reaction<EvExtend>,
                sc::custom_reaction<EvMarkOverdue>, sc::custom_reaction<EvSupplyMaterials>>;

  // The runtime table: the item's steps, looked up by the current step index.
  sc::result react(const EvStepAction&) {
    CaseMachine& m = context<CaseMachine>();
    const Command& c = *m.command;
    const size_t step_index = *m.state.step;
    const Step& step = m.item().steps[step_index];
    const bool joint_sign_off = step.is_joint() && c.action == step.completes_with;
    // A party that is not a string throws here; the exception translator reports it as malformed.
    const std::string party_id = joint_sign_off ? c.data.value("party", "") : std::string();
    TONGBAN_RETURN_IF_REFUSED(m, CheckStepAction(m.item(), m.state, c, /*check_data=*/true));
    const Action* action = step.FindAction(c.action);
    // Everyone who ever acted in a step stays on record under "step/@id", so that a send-back and a
    // second round, or an abandoned joint round, cannot launder who did what (four-eyes).
    m.state.step_actors[step.id + "/@" + c.actor.id] = c.actor.id;
    if (joint_sign_off) {
      m.state.joint_passed[party_id] = c.actor.id;
      if (m.state.joint_passed.size() < step.parties.size()) return discard_event();
    }
    m.state.step_actors[step.id] = c.actor.id;
    if (action->to_step) {
      m.EnterStep(*action->to_step);
      post_event(EvClockSync());
      return discard_event();
    }
    m.state.decision = action->decision;
    m.state.decided_at = m.now();
    m.state.decision_reason = m.Reason();
    m.state.step.reset();
    m.state.step_entered_at.reset();
    if (action->decision == Decision::kApprove) return transit<Approved>();
    return transit<Denied>();
  }

  sc::result react(const EvSuspend&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.state.suspended) TONGBAN_REFUSE(m, Status::FailedPrecondition("already suspended"));
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument(
                            "a suspension needs data.reason (the special procedure, art. 45)")
                            .WithPointer("/data/reason"));
    }
    m.state.suspended = true;
    post_event(EvClockSync());
    return discard_event();
  }

  sc::result react(const EvResume&) {
    CaseMachine& m = context<CaseMachine>();
    if (!m.state.suspended) TONGBAN_REFUSE(m, Status::FailedPrecondition("not suspended"));
    m.state.suspended = false;
    post_event(EvClockSync());
    return discard_event();
  }

  sc::result react(const EvExtend&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.state.extended) {
      TONGBAN_REFUSE(m,
                     Status::FailedPrecondition("the limit was already extended once (art. 42)"));
    }
    if (m.item().time_limits.extension_days == 0) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition("this item allows no extension"));
    }
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("an extension needs data.reason, told to the "
                                                "applicant (art. 42)")
                            .WithPointer("/data/reason"));
    }
    // Art. 42: the extension is granted when the decision cannot be made *within* the limit, so
    // once the statutory due date has passed there is nothing left to extend.
    // Compared as dates: a limit that ended on a Friday has passed on the Saturday, although no
    // working day has been used since.
    ClockView clock = ComputeClock(m.item(), m.state, m.now());
    if (m.item().time_limits.calendar->LocalDate(m.now()) > *clock.statutory_due) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition(
                            "the statutory limit ended on " + FormatIsoDay(*clock.statutory_due) +
                            "; an extension must be granted before it ends (art. 42)"));
    }
    m.state.extended = true;
    m.state.extension_days = m.item().time_limits.extension_days;
    return discard_event();
  }

  sc::result react(const EvMarkOverdue&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.state.overdue_recorded) TONGBAN_REFUSE(m, Status::FailedPrecondition("already recorded"));
    m.state.overdue_recorded = true;
    return discard_event();
  }

  sc::result react(const EvSupplyMaterials&) {
    return SupplyMaterials(*this, context<CaseMachine>());
  }
};

// 告知承诺 verification, shared by Decided and Closed: a pass is recorded; a breach (a false
// commitment) revokes the decision (撤销, 行政许可法 art. 69).
template <class State>
sc::result VerifyCommitment(State& st, CaseMachine& m) {
  if (m.state.verification != Verification::kPending) {
    m.Fail(Status::FailedPrecondition(
        m.state.verification == Verification::kNone
            ? "there is nothing to verify: the case was not approved on a commitment (告知承诺)"
            : std::string("the commitment was already verified: ") +
                  VerificationName(m.state.verification)));
    return st.discard_event();
  }
  const std::string result = m.command->data.value("result", "");
  if (result != "pass" && result != "breach") {
    m.Fail(Status::InvalidArgument("data.result must be \"pass\" or \"breach\"")
               .WithPointer("/data/result"));
    return st.discard_event();
  }
  m.state.verified_at = m.now();
  m.state.verified_by = m.command->actor.id;
  m.state.verification_findings = m.command->data.value("findings", "");
  if (result == "pass") {
    m.state.verification = Verification::kPassed;
    return st.discard_event();
  }
  if (m.Reason().empty()) {
    m.Fail(
        Status::InvalidArgument(
            "a breach revokes the decision and needs data.reason (what the commitment got wrong)")
            .WithPointer("/data/reason"));
    return st.discard_event();
  }
  m.state.verification = Verification::kBreached;
  return st.template transit<Revoked>();
}

template <class State>
sc::result MarkVerificationOverdue(State& st, CaseMachine& m) {
  if (m.state.verification != Verification::kPending || m.state.verification_overdue_recorded) {
    m.Fail(Status::FailedPrecondition("no pending verification to mark overdue"));
    return st.discard_event();
  }
  m.state.verification_overdue_recorded = true;
  return st.discard_event();
}

struct Decided : sc::simple_state<Decided, Active::orthogonal<0>, Approved> {
  using reactions = mpl::list<sc::custom_reaction<EvDeliver>, sc::custom_reaction<EvVerify>,
                              sc::custom_reaction<EvMarkVerificationOverdue>>;
  sc::result react(const EvDeliver&) {
    context<CaseMachine>().state.delivered_at = context<CaseMachine>().now();
    return transit<Closed>();
  }
  sc::result react(const EvVerify&) { return VerifyCommitment(*this, context<CaseMachine>()); }
  sc::result react(const EvMarkVerificationOverdue&) {
    return MarkVerificationOverdue(*this, context<CaseMachine>());
  }
};

struct Approved : StatusState<Approved, Decided, CaseStatus::kApproved> {
  // An approval on a commitment opens its verification (核查) at once.
  explicit Approved(my_context ctx) : StatusState(ctx) {
    CaseMachine& m = context<CaseMachine>();
    if (m.state.mode == "commitment" && m.item().commitment &&
        m.state.verification == Verification::kNone) {
      m.state.verification = Verification::kPending;
    }
  }
  using reactions = sc::custom_reaction<EvRevoke>;
  sc::result react(const EvRevoke&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("revoking a decision (撤销) needs data.reason")
                            .WithPointer("/data/reason"));
    }
    return transit<Revoked>();
  }
};

// Decided's initial state is Approved; a denial transits straight to Denied.
struct Denied : StatusState<Denied, Decided, CaseStatus::kDenied> {
  using StatusState::StatusState;
};

struct Closed : StatusState<Closed, Active::orthogonal<0>, CaseStatus::kClosed> {
  using StatusState::StatusState;
  using reactions = mpl::list<sc::custom_reaction<EvRevoke>, sc::custom_reaction<EvVerify>,
                              sc::custom_reaction<EvMarkVerificationOverdue>>;
  sc::result react(const EvVerify&) { return VerifyCommitment(*this, context<CaseMachine>()); }
  sc::result react(const EvMarkVerificationOverdue&) {
    return MarkVerificationOverdue(*this, context<CaseMachine>());
  }
  sc::result react(const EvRevoke&) {
    CaseMachine& m = context<CaseMachine>();
    if (m.state.decision != Decision::kApprove) {
      TONGBAN_REFUSE(m, Status::FailedPrecondition("only a granted decision can be revoked"));
    }
    if (m.Reason().empty()) {
      TONGBAN_REFUSE(m, Status::InvalidArgument("revoking a decision (撤销) needs data.reason")
                            .WithPointer("/data/reason"));
    }
    return transit<Revoked>();
  }
};

struct NotAccepted : StatusState<NotAccepted, Active::orthogonal<0>, CaseStatus::kNotAccepted> {
  using StatusState::StatusState;
};
struct Withdrawn : StatusState<Withdrawn, Active::orthogonal<0>, CaseStatus::kWithdrawn> {
  using StatusState::StatusState;
};
struct Terminated : StatusState<Terminated, Active::orthogonal<0>, CaseStatus::kTerminated> {
  explicit Terminated(my_context ctx) : StatusState(ctx) {
    context<CaseMachine>().state.decision_reason = context<CaseMachine>().Reason();
  }
};
struct Revoked : StatusState<Revoked, Active::orthogonal<0>, CaseStatus::kRevoked> {
  explicit Revoked(my_context ctx) : StatusState(ctx) {
    context<CaseMachine>().state.decision_reason = context<CaseMachine>().Reason();
  }
};

// -- Clock region --

template <class Derived>
struct ClockState : sc::state<Derived, Active::orthogonal<1>> {
  using Base = sc::state<Derived, Active::orthogonal<1>>;
  using reactions = sc::custom_reaction<EvClockSync>;
  explicit ClockState(typename Base::my_context ctx) : Base(ctx) {}
  sc::result react(const EvClockSync&);
};

struct ClockIdle : ClockState<ClockIdle> {
  using ClockState::ClockState;
};
struct ClockRunning : ClockState<ClockRunning> {
  using ClockState::ClockState;
};
struct ClockPaused : ClockState<ClockPaused> {
  explicit ClockPaused(my_context ctx) : ClockState(ctx) { context<CaseMachine>().OpenPause(); }
  void exit() { context<CaseMachine>().ClosePause(); }
};
struct ClockStopped : ClockState<ClockStopped> {
  using ClockState::ClockState;
};

template <class Derived>
sc::result ClockState<Derived>::react(const EvClockSync&) {
  switch (this->template context<CaseMachine>().DesiredClock()) {
    case ClockMode::kIdle:
      if (std::is_same_v<Derived, ClockIdle>) return this->discard_event();
      return this->template transit<ClockIdle>();
    case ClockMode::kRunning:
      if (std::is_same_v<Derived, ClockRunning>) return this->discard_event();
      return this->template transit<ClockRunning>();
    case ClockMode::kPaused:
      if (std::is_same_v<Derived, ClockPaused>) return this->discard_event();
      return this->template transit<ClockPaused>();
    case ClockMode::kStopped:
      if (std::is_same_v<Derived, ClockStopped>) return this->discard_event();
      return this->template transit<ClockStopped>();
  }
  return this->discard_event();
}

// ---- CaseLifecycle ------------------------------------------------------------------------------

namespace {

using Dispatch = std::function<void(CaseMachine&, const Command&)>;

template <class E>
Dispatch Send() {
  return [](CaseMachine& m, const Command& c) { m.process_event(E(c)); };
}

// 好差评: a rating and its rectification run beside the life cycle, after it has ended: they
// change no status and no state of the machine, only the case's rating.

// Whether the frame offers `action` in the case's status (a closed one); refuses otherwise.
bool InClosedStatus(CaseMachine& m, const std::string& action) {
  const std::vector<std::string>& closed = ClosedStatuses();
  const std::string status = CaseStatusCode(m.state.status);
  if (std::find(closed.begin(), closed.end(), status) != closed.end()) return true;
  m.Fail(Status::FailedPrecondition("action \"" + action +
                                    "\" is available once the case is closed (decided or ended); "
                                    "it is " +
                                    status));
  return false;
}

size_t CodePoints(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void Rate(CaseMachine& m, const Command& c) {
  if (!InClosedStatus(m, c.action)) return;
  if (m.state.rating) {
    m.Fail(Status::FailedPrecondition("the case was rated on " +
                                      FormatTimestamp(m.state.rating->rated_at) +
                                      "; a case is rated once"));
    return;
  }
  auto score = c.data.find("score");
  if (score == c.data.end() || !score->is_number_integer() || score->get<int64_t>() < 1 ||
      score->get<int64_t>() > 5) {
    m.Fail(Status::InvalidArgument("data.score must be a whole number from 1 to 5")
               .WithPointer("/data/score"));
    return;
  }
  std::string comment;
  if (auto it = c.data.find("comment"); it != c.data.end()) {
    if (!it->is_string()) {
      m.Fail(Status::InvalidArgument("data.comment must be a string").WithPointer("/data/comment"));
      return;
    }
    comment = it->get<std::string>();
  }
  if (CodePoints(comment) > kMaxRatingCommentChars) {
    m.Fail(Status::InvalidArgument("data.comment is " + std::to_string(CodePoints(comment)) +
                                   " characters long; a rating's comment has at most " +
                                   std::to_string(kMaxRatingCommentChars))
               .WithPointer("/data/comment"));
    return;
  }
  RatingRecord r;
  r.score = static_cast<int>(score->get<int64_t>());
  r.comment = std::move(comment);
  r.rated_at = c.time;
  r.rated_by = c.actor.id;
  if (r.bad()) {
    const Calendar& calendar = *m.item().time_limits.calendar;
    r.rectification_due =
        calendar.AddWorkingDays(calendar.LocalDate(c.time), kRectificationWorkingDays).day;
  }
  m.state.rating = std::move(r);
}

void AnswerRating(CaseMachine& m, const Command& c) {
  if (!InClosedStatus(m, c.action)) return;
  if (!m.state.rating || !m.state.rating->rectification_due) {
    m.Fail(Status::FailedPrecondition(
        "the case has no bad rating (1 or 2) to answer: a rectification opens with one"));
    return;
  }
  if (m.state.rating->answered_at) {
    m.Fail(Status::FailedPrecondition("the rectification was answered on " +
                                      FormatTimestamp(*m.state.rating->answered_at)));
    return;
  }
  auto answer = c.data.find("answer");
  if (answer == c.data.end() || !answer->is_string() || answer->get<std::string>().empty()) {
    m.Fail(Status::InvalidArgument("data.answer must say what was done (整改情况)")
               .WithPointer("/data/answer"));
    return;
  }
  m.state.rating->answered_at = c.time;
  m.state.rating->answered_by = c.actor.id;
  m.state.rating->answer = answer->get<std::string>();
}

void MarkRectificationOverdue(CaseMachine& m, const Command&) {
  if (!m.state.rating || !m.state.rating->rectification_open() ||
      m.state.rating->overdue_recorded) {
    m.Fail(Status::FailedPrecondition("no open rectification to mark overdue"));
    return;
  }
  m.state.rating->overdue_recorded = true;
}

}  // namespace

static const std::map<std::string, Dispatch>& FrameDispatch() {
  static const std::map<std::string, Dispatch> table = {
      {"accept", Send<EvAccept>()},
      {"accept_and_decide", Send<EvAcceptAndDecide>()},
      {"request_correction", Send<EvRequestCorrection>()},
      {"supply_correction", Send<EvSupplyCorrection>()},
      {"supply_materials", Send<EvSupplyMaterials>()},
      {"refuse", Send<EvRefuse>()},
      {"withdraw", Send<EvWithdraw>()},
      {"suspend", Send<EvSuspend>()},
      {"resume", Send<EvResume>()},
      {"extend", Send<EvExtend>()},
      {"deliver", Send<EvDeliver>()},
      {"terminate", Send<EvTerminate>()},
      {"revoke", Send<EvRevoke>()},
      {"deem_accepted", Send<EvDeemAccepted>()},
      {"mark_overdue", Send<EvMarkOverdue>()},
      {"transfer", Send<EvTransfer>()},
      {"verify", Send<EvVerify>()},
      {"mark_verification_overdue", Send<EvMarkVerificationOverdue>()},
      {"rate", Rate},
      {"answer_rating", AnswerRating},
      {"mark_rectification_overdue", MarkRectificationOverdue},
  };
  return table;
}

std::vector<std::string> DispatchedFrameActions() {
  std::vector<std::string> ids;
  for (const auto& [id, dispatch] : FrameDispatch())
    ids.push_back(id);
  return ids;
}

CaseLifecycle::CaseLifecycle(std::shared_ptr<const Item> item)
    : item_(std::move(item)), machine_(std::make_unique<CaseMachine>(*item_)) {}

CaseLifecycle::~CaseLifecycle() = default;

const CaseState& CaseLifecycle::state() const {
  return machine_->state;
}

std::string CaseLifecycle::step_id() const {
  const CaseState& s = machine_->state;
  return s.step ? item_->steps[*s.step].id : std::string();
}

bool CaseLifecycle::terminated() const {
  return machine_->terminated();
}

std::vector<std::string> CaseLifecycle::ActiveStates() const {
  std::vector<std::string> names;
  auto add = [&](bool active, const char* name) {
    if (active) names.push_back(name);
  };
  const CaseMachine& m = *machine_;
  if (m.terminated()) return names;
  add(m.state_downcast<const Submitted*>() != nullptr, "Submitted");
  add(m.state_downcast<const CorrectionPending*>() != nullptr, "CorrectionPending");
  add(m.state_downcast<const UnderReview*>() != nullptr, "UnderReview");
  add(m.state_downcast<const Approved*>() != nullptr, "Approved");
  add(m.state_downcast<const Denied*>() != nullptr, "Denied");
  add(m.state_downcast<const Closed*>() != nullptr, "Closed");
  add(m.state_downcast<const NotAccepted*>() != nullptr, "NotAccepted");
  add(m.state_downcast<const Withdrawn*>() != nullptr, "Withdrawn");
  add(m.state_downcast<const Terminated*>() != nullptr, "Terminated");
  add(m.state_downcast<const Revoked*>() != nullptr, "Revoked");
  add(m.state_downcast<const ClockIdle*>() != nullptr, "ClockIdle");
  add(m.state_downcast<const ClockRunning*>() != nullptr, "ClockRunning");
  add(m.state_downcast<const ClockPaused*>() != nullptr, "ClockPaused");
  add(m.state_downcast<const ClockStopped*>() != nullptr, "ClockStopped");
  return names;
}

Status CaseLifecycle::Submit(const Command& c) {
  if (c.action != "submit") return Status::Internal("the first event of a case must be submit");
  CaseState& s = machine_->state;
  TONGBAN_RETURN_IF_ERROR(ReadSubmission(*item_, c.data, c.time, &s));
  s.created_at = s.received_at = s.updated_at = c.time;
  RecordVisits(c);
  machine_->command = &c;
  machine_->initiate();
  machine_->command = nullptr;
  return machine_->outcome;
}

// A decision is issued in the name of the organ whose power it used: the implementing organ's own,
// the delegator's under an entrustment (委托), the receiving organ's with its approval seal under a
// devolution or concentrated approval. The engine recorded which in data.authority.
void CaseLifecycle::RecordIssuer(const Command& c) {
  CaseState& s = machine_->state;
  s.issued_in_name = item_->organ.name;
  s.issued_in_seal.clear();
  s.issued_under_delegation.clear();
  auto it = c.data.find("authority");
  if (it == c.data.end() || !it->is_object()) return;
  s.issued_in_name = it->value("issued_in_name", item_->organ.name);
  s.issued_in_seal = it->value("issued_in_seal", "");
  s.issued_under_delegation = it->value("delegation", "");
}

Status CaseLifecycle::Apply(const Command& c) {
  if (machine_->terminated()) return Status::Internal("case machine is not running");
  const FrameActionSpec* frame = FindFrameAction(c.action);
  if (frame != nullptr) {
    if (std::find(frame->roles.begin(), frame->roles.end(), c.actor.role) == frame->roles.end()) {
      std::string roles;
      for (const auto& r : frame->roles)
        roles += (roles.empty() ? "" : " or ") + r;
      return Status::PermissionDenied("action \"" + c.action + "\" is taken by " + roles +
                                      ", not " + c.actor.role);
    }
  } else if (c.action == "submit") {
    return Status::FailedPrecondition("the case has already been submitted");
  }
  if (c.actor.role == "applicant" && c.actor.id != machine_->state.applicant_id) {
    return Status::PermissionDenied("only the case's own applicant may act on it");
  }
  if (!c.data.is_object())
    return Status::InvalidArgument("data must be an object").WithPointer("/data");
  // 帮办代办: an agent acts for the applicant; the engine checked the mandate and recorded whom the
  // agent acts for, so the event shows both.
  if (c.actor.role == "agent" &&
      c.data.value("on_behalf_of", nlohmann::json()) != machine_->state.applicant_id) {
    return Status::PermissionDenied("an agent acts only for the applicant whose mandate it holds");
  }
  const bool decided_before = machine_->state.decision.has_value();
  const bool accepted_before = machine_->state.accepted_at.has_value();
  machine_->command = &c;
  machine_->outcome = Status::Ok();
  if (frame != nullptr) {
    FrameDispatch().at(c.action)(*machine_, c);
  } else {
    machine_->process_event(EvStepAction(c));
  }
  machine_->command = nullptr;
  if (machine_->terminated()) return Status::Internal("case machine terminated unexpectedly");
  Status outcome = machine_->outcome;
  if (outcome.ok()) {
    machine_->state.updated_at = c.time;
    if (!decided_before && machine_->state.decision) RecordIssuer(c);
    if (!accepted_before && machine_->state.accepted_at) {
      // Deemed acceptance (the system) and an organ-less or all-organs actor: the implementing
      // organ, whose window the law deems to have accepted.
      const std::string& organ = c.actor.organ;
      machine_->state.handled_by = organ.empty() || organ == "*" ? machine_->state.organ_id : organ;
    }
    RecordVisits(c);
  }
  return outcome;
}

// The engine records the channel of the application and the visits of each applicant-side action
// in the event's data (action_provenance.h); the state sums them.
void CaseLifecycle::RecordVisits(const Command& c) {
  CaseState& s = machine_->state;
  auto channel = c.data.find("channel");
  if (c.action == "submit" && channel != c.data.end() && channel->is_string()) {
    s.channel = channel->get<std::string>();
  }
  auto visits = c.data.find("visits");
  if (visits != c.data.end() && visits->is_number_integer()) s.visits += visits->get<int>();
}

}  // namespace tongban
