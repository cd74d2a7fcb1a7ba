// Permissions: who may see a case, and who may take which action on it now — decided here and
// nowhere else.
//
// The rules, in the order they are applied to an action:
// - role: the frame table (workflows/frame_actions.h) or the current step names the roles that take
//   the action; a joint step's sign-off is taken in the role of the party signed for. A principal
//   acts in the first such role it holds (an applicant only on its own case).
// - status: the frame offers an action only in its statuses; a case waiting at a receiving window
//   (收受分离) offers nothing but transfer (the window) and withdraw (the applicant) until it is
//   transferred; a bundle's part is delivered on the bundle. A closed case (ClosedStatuses) is
//   rated once by its applicant or an agent under a mandate (好差评; refused 409 when open or
//   rated already, 422 for a score outside 1..5 naming /data/score), a case withdrawn while it
//   waited at a receiving window included (the window's service is what was had); a bundle case
//   is rated by its parts (CaseService::ActOnBundle refuses rate, 409). A bad rating's
//   rectification is answered by staff with jurisdiction over the case (the accept power: the
//   implementing organ, or an organ holding a delegation in force).
// - jurisdiction: staff act for an organ that implements the item or holds a delegation in force
//   covering every power the action needs (Registers::Authorize); a joint party's opinion is
//   signed by staff of the party's organ; the receiving window transfers under its agreement.
// - mandate: an agent acts while a mandate in force covers the item, or the bundle the case is a
//   part of (帮办代办).
// - four-eyes, guards, required materials and required data: an action is offered only when the
//   life cycle would take it; Apply remains the final word, and reports the same reasons.
//
// The API asks here and only translates a refusal into 404, 403, 409 or 422; CaseService asks the
// same questions when the action is taken, so what is offered and what is accepted cannot drift.
//
// Thread safety: all methods are thread-safe (the registers lock themselves; the rest is pure).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bundle_case.h"
#include "engine/case_state.h"
#include "engine/event.h"
#include "engine/lifecycle.h"
#include "engine/registers.h"
#include "engine/store.h"
#include "workflows/frame_actions.h"
#include "workflows/principals.h"

namespace tongban {

// An action a principal may take on a case now, as a client renders it.
struct OfferedAction {
  std::string action;
  std::string title;  // 中文, the button's text: the frame table's or the step action's title
  std::string role;   // the role the principal takes it in
  std::string party;  // a joint step's party the principal signs for; "" otherwise
  std::vector<DataField> data;
  std::string description;  // what it does, for callers (frame and bundle actions); "" for steps'
};
nlohmann::json OfferedActionToJson(const OfferedAction& offered);

// The powers a case action needs (赋权 maps powers, not actions): the frame table's, a step
// action's (decide for a decision, review otherwise), and decide as well for accepting a
// commitment case that is decided at acceptance (当场办结).
std::vector<Power> PowersFor(const Item& item, const CaseState& state, const std::string& action);

// Whether a caller may send `action` on a case of `item` at all: a frame action that is not a
// timer's, or an action of one of the item's steps. (Whether it may now is Permissions'.)
bool IsCallableAction(const Item& item, const std::string& action);

// Whether the principal holds any staff role (anything but applicant and agent).
bool IsStaff(const Principal& p);
// The actor recorded when `p` acts in `role` (an applicant acts for no organ).
Actor ActorFor(const Principal& p, const std::string& role);

// What a principal does outside any one case: the registers, the definitions and the clock.
enum class Operation {
  kReadDelegations,     // staff: the delegations (赋权) in force and past
  kChangeDelegation,    // admin: add or revoke a delegation
  kRepairCredit,        // admin: record a credit repair (信用修复)
  kGrantMandate,        // an applicant: mandate an agent (帮办代办)
  kReadLedger,          // auditors and admins: the registers' hash-chained ledger
  kDeploy,              // admin: deploy a definition
  kValidateDefinition,  // staff: check a definition against the deployed ones, storing nothing
  kMoveClock,           // admin: move a simulated clock
  kAudit,               // auditors: the audit queries (audit_queries.h)
  kReadIndicators,      // auditors and admins: the indicators (赛马, indicators.h)
  kRecordCheckpoint,    // admin: record a signed checkpoint of the whole database
};

class Permissions {
 public:
  // Neither is owned; both must outlive this object.
  Permissions(Registers* registers, const DefinitionRegistry* registry)
      : registers_(registers), registry_(registry) {}

  // --- Seeing
  // An applicant its own cases; an agent those of applicants whose mandate it holds or held for
  // the item (or for the bundle the case is a part of: `bundle_definition`, "" otherwise); staff
  // the cases of items their organ implements, receives, holds or held delegated powers over, or
  // signs a joint party's opinion on.
  bool MaySee(const Principal& p, const CaseState& state, const std::string& bundle_definition);
  // A bundle case: its applicant, an agent with a mandate for the bundle, staff of the lead organ,
  // and staff who may see one of its parts (`parts`: the parts' cases that exist).
  bool MaySeeBundle(const Principal& p, const BundleState& state,
                    const std::vector<CaseState>& parts);
  // Staff see every credit record (the window must be able to say why commitment mode is
  // refused); an applicant those against itself.
  static bool MaySeeCreditRecord(const Principal& p, const CreditRecord& record);
  // Narrows a case list's filter to what `p` may see at all: an applicant's own cases (whatever
  // applicant it asked for); agents and staff keep the filter and each row is then checked with
  // MaySee. False when `p` sees no case at all (staff of no organ).
  static bool NarrowToScope(const Principal& p, CaseFilter* filter);
  // Admins and auditors see every mandate (帮办代办授权); anyone else those it gave or holds.
  static bool MaySeeMandate(const Principal& p, const Mandate& mandate);
  // The applicant that gave a mandate revokes it (as applicant), or an admin (as admin).
  // kNotFound for anyone else: a mandate one may not revoke is one that is not one's own.
  static Result<Actor> AuthorizeMandateRevocation(const Principal& p, const Mandate& mandate);
  // Whether `p` sees which officials acted on a case (step actors, joint sign-offs): staff do;
  // applicants and agents see what happened to the case, not who did it.
  static bool MaySeeOfficials(const Principal& p);

  // --- Operations outside a case
  // The actor as whom `p` performs `operation`, in the first role it holds that may.
  // kPermissionDenied saying who may, otherwise.
  static Result<Actor> AuthorizeOperation(const Principal& p, Operation operation);
  // Whether `agent` (nullptr: no such principal) may receive a mandate: it holds the agent role.
  // kInvalidArgument otherwise.
  static Status CheckMandateAgent(const Principal* agent);

  // --- Acting on an item case
  // The actor as whom `p` takes `action` (with `data`: a joint sign-off names its party) on the
  // case now. kPermissionDenied naming the roles (and organ) that take it; kInvalidArgument for an
  // unknown or system-only action.
  Result<Actor> ResolveActor(const Principal& p, const Item& item, const CaseState& state,
                             const std::string& action, const nlohmann::json& data);
  // The submitter of a new case: an applicant for itself, a clerk at the window, or an agent.
  // kPermissionDenied for anyone else.
  static Result<Actor> ResolveSubmitter(const Principal& p);
  // Whether every member of a request's `data` is a field `action` takes on the case now: its
  // frame row's fields, a step action's `reason`, a joint sign-off's `party`, and `comment`. An
  // action that is not the current step's is left to the life cycle to refuse. kInvalidArgument
  // naming the first other member and the fields the action takes.
  static Status CheckDataMembers(const Item& item, const CaseState& state,
                                 const std::string& action, const nlohmann::json& data);
  // Checks `command` (its actor already resolved) against status, jurisdiction, mandates and the
  // receiving window, and records the authority it is taken under in command->data (authority,
  // on_behalf_of, mandate). `bundle_definition` as for MaySee. kPermissionDenied or
  // kFailedPrecondition with the reason; the life cycle checks the rest when it applies it.
  Status AuthorizeCommand(const Item& item, const CaseState& state,
                          const std::string& bundle_definition, Command* command);
  // Every action `p` may take on the case at `now`, each in the role it would be taken in: what
  // AuthorizeCommand would accept, less step actions whose guard, materials or four-eyes rule
  // would refuse them, acceptance while a required material is outstanding, window actions once
  // deemed acceptance is due (the timer is applied first), and an extension after the statutory
  // limit. permissions_test checks on every shipped item that what is offered is accepted.
  std::vector<OfferedAction> Offered(const Principal& p, const Item& item, const CaseState& state,
                                     const std::string& bundle_definition, Instant now);

  // --- Documents and archives (documents.h, case_archive.h)
  // The actor as whom `p` attaches a document to the case: its applicant, an agent who may see it,
  // or staff who may see it in a role that acts on cases (the first they hold; not auditor or
  // admin). kNotFound ("no case ID") when `p` may not see the case, as for reading it;
  // kPermissionDenied for an auditor or admin, who read documents and do not supply them.
  // Whoever may see a case reads its documents (MaySee).
  Result<Actor> AuthorizeDocumentUpload(const Principal& p, const CaseState& state,
                                        const std::string& bundle_definition);
  // Whether `p` may export the case's archive: auditors and staff who may see the case, and its
  // applicant; not an agent (a mandate covers acting on the case, not taking its file away).
  bool MayReadArchive(const Principal& p, const CaseState& state,
                      const std::string& bundle_definition);
  // The same for a bundle case (MaySeeBundle, less agents).
  bool MayReadBundleArchive(const Principal& p, const BundleState& state,
                            const std::vector<CaseState>& parts);

  // --- Acting on a bundle case (一件事)
  // The role `p` takes a bundle action in: applicant, agent or clerk, in that order of preference
  // (whether it may is the bundle's rule, checked when the action is taken). kPermissionDenied for
  // a principal without roles.
  static Result<Actor> ResolveBundleActor(const Principal& p);
  // The bundle actions `p` may take now. `correction`: the combined correction notice.
  std::vector<OfferedAction> OfferedOnBundle(const Principal& p, const BundleState& state,
                                             const std::vector<std::string>& correction,
                                             Instant now);

 private:
  // The candidate actions of the case's status, before roles and jurisdiction.
  std::vector<std::string> Candidates(const Item& item, const CaseState& state) const;
  // Whether a step action would pass its guard, materials and four-eyes checks for `actor_id`.
  Status StepActionAllowed(const Item& item, const CaseState& state, const std::string& action,
                           const std::string& actor_id) const;
  // The agent's mandate for the case's item or for its bundle (MandateFor's status codes).
  Result<std::optional<Mandate>> AgentMandate(const CaseState& state, const std::string& agent_id,
                                              const std::string& bundle_definition, Instant at);

  Registers* registers_;
  const DefinitionRegistry* registry_;
};

}  // namespace tongban
