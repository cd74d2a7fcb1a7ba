#include "engine/permissions.h"

#include <algorithm>
#include <optional>

#include "engine/case_clock.h"
#include "workflows/json_document.h"

namespace tongban {

namespace {

bool Holds(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string JoinOr(const std::vector<std::string>& roles) {
  std::string out;
  for (const std::string& r : roles)
    out += (out.empty() ? "" : " or ") + r;
  return out;
}

bool InScope(const Principal& p, const std::string& organ) {
  return p.organ == "*" || (!p.organ.empty() && p.organ == organ);
}

// The organs whose staff sign a joint party's opinion on the item, wherever the party's step is.
bool SignsAJointParty(const Item& item, const std::string& organ) {
  for (const Step& step : item.steps) {
    for (const JointParty& party : step.parties) {
      if (!party.organ.id.empty() && party.organ.id == organ) return true;
    }
  }
  return false;
}

const JointParty* SignOffParty(const Item& item, const CaseState& state, const std::string& action,
                               const nlohmann::json& data) {
  if (!state.step || *state.step >= item.steps.size()) return nullptr;
  const Step& step = item.steps[*state.step];
  if (!step.is_joint() || action != step.completes_with) return nullptr;
  auto it = data.find("party");
  if (it == data.end() || !it->is_string()) return nullptr;
  for (const JointParty& party : step.parties) {
    if (party.id == it->get<std::string>()) return &party;
  }
  return nullptr;
}

// Drops from `candidates` what time alone makes the engine refuse at `now`. A due timer is applied
// before any action is decided, so a case about to be deemed accepted (art. 32) is no longer
// accepted, corrected or refused at the window; its review is offered once the timer is recorded.
// An extension is granted only before the statutory limit ends (art. 42).
void DropUntimely(const Item& item, const CaseState& s, Instant now,
                  std::vector<std::string>* candidates) {
  auto drop = [&](const char* action) {
    candidates->erase(std::remove(candidates->begin(), candidates->end(), action),
                      candidates->end());
  };
  std::optional<Timer> timer = NextTimer(item, s, now);
  if (timer && timer->due <= now && timer->action == "deem_accepted") {
    for (const char* action : {"accept", "accept_and_decide", "request_correction", "refuse"})
      drop(action);
  }
  if (Holds(*candidates, "extend")) {
    ClockView clock = ComputeClock(item, s, now);
    if (clock.statutory_due && item.time_limits.calendar->LocalDate(now) > *clock.statutory_due) {
      drop("extend");
    }
  }
}

std::vector<DataField> StepActionData(const Action& action) {
  std::vector<DataField> data;
  if (action.requires_reason)
    data.push_back({"reason", DataFieldType::kText, true, "", {}, "理由"});
  return data;
}

// The fields `action` takes on the case as it stands; nullopt when it is neither a frame action
// nor an action of the current step.
std::optional<std::vector<DataField>> FieldsOf(const Item& item, const CaseState& s,
                                               const std::string& action) {
  if (const FrameActionSpec* frame = FindFrameAction(action)) return frame->data;
  const Step* step = s.step && *s.step < item.steps.size() ? &item.steps[*s.step] : nullptr;
  const Action* a = step != nullptr ? step->FindAction(action) : nullptr;
  if (a == nullptr) return std::nullopt;
  std::vector<DataField> fields = StepActionData(*a);
  if (step->is_joint() && action == step->completes_with)
    fields.push_back({"party", DataFieldType::kChoice, true, "", {}, "会签方"});
  return fields;
}

}  // namespace

nlohmann::json OfferedActionToJson(const OfferedAction& offered) {
  // `data` keeps the one-line hints clients of the first API versions read; `fields` is what a
  // form is built from.
  nlohmann::json hints = nlohmann::json::object();
  nlohmann::json fields = nlohmann::json::array();
  for (const DataField& f : offered.data) {
    std::string hint;
    switch (f.type) {
      case DataFieldType::kText:
        hint = "string";
        break;
      case DataFieldType::kMaterialIds:
        hint = "array of material ids";
        break;
      case DataFieldType::kObject:
        hint = "object";
        break;
      case DataFieldType::kInteger:
        hint = "integer";
        if (!f.choices.empty()) hint += " from " + f.choices.front() + " to " + f.choices.back();
        break;
      case DataFieldType::kChoice:
        for (const std::string& c : f.choices)
          hint += (hint.empty() ? "" : " or ") + ("\"" + c + "\"");
        break;
    }
    if (f.required) hint += ", required";
    if (!f.required_when.empty()) hint += ", required when " + f.required_when;
    hints[f.name] = hint;
    nlohmann::json field = {{"name", f.name},
                            {"type", DataFieldTypeName(f.type)},
                            {"required", f.required},
                            {"title", f.title}};
    if (!f.required_when.empty()) field["required_when"] = f.required_when;
    if (!f.choices.empty()) field["choices"] = f.choices;
    fields.push_back(std::move(field));
  }
  nlohmann::json j = {{"action", offered.action},
                      {"title", offered.title},
                      {"role", offered.role},
                      {"data", hints},
                      {"fields", fields}};
  if (!offered.description.empty()) j["description"] = offered.description;
  if (!offered.party.empty()) j["party"] = offered.party;
  return j;
}

bool IsCallableAction(const Item& item, const std::string& action) {
  if (const FrameActionSpec* frame = FindFrameAction(action)) return !frame->system_only;
  for (const Step& step : item.steps) {
    if (step.FindAction(action) != nullptr) return true;
  }
  return false;
}

std::vector<Power> PowersFor(const Item& item, const CaseState& state, const std::string& action) {
  if (const FrameActionSpec* frame = FindFrameAction(action)) {
    std::vector<Power> powers = frame->powers;
    // 当场办结: accepting such a commitment-mode case is also the decision.
    if (action == "accept" && state.mode == "commitment" && item.commitment &&
        item.commitment->decide_at_acceptance) {
      powers.push_back(Power::kDecide);
    }
    return powers;
  }
  if (state.step && *state.step < item.steps.size()) {
    const Action* a = item.steps[*state.step].FindAction(action);
    if (a != nullptr && a->decision) return {Power::kDecide};
  }
  return {Power::kReview};
}

bool IsStaff(const Principal& p) {
  return std::any_of(p.roles.begin(), p.roles.end(),
                     [](const std::string& r) { return r != "applicant" && r != "agent"; });
}

Actor ActorFor(const Principal& p, const std::string& role) {
  return Actor{p.id, role, role == "applicant" ? "" : p.organ, p.name};
}

// ---- Seeing -------------------------------------------------------------------------------------

bool Permissions::MaySee(const Principal& p, const CaseState& state,
                         const std::string& bundle_definition) {
  if (p.HasRole("applicant") && state.applicant_id == p.id) return true;
  if (p.HasRole("agent")) {
    for (const Mandate& m : registers_->KnownMandates(p.id)) {
      if (m.agent_id == p.id && m.applicant_id == state.applicant_id &&
          (m.Covers(state.definition_id) ||
           (!bundle_definition.empty() && m.Covers(bundle_definition)))) {
        return true;
      }
    }
  }
  if (!IsStaff(p) || p.organ.empty()) return false;
  if (registers_->Concerns(p.organ, state)) return true;
  auto item = registry_->FindItem(state.definition_id, state.definition_version);
  return item != nullptr && SignsAJointParty(*item, p.organ);
}

bool Permissions::MaySeeBundle(const Principal& p, const BundleState& state,
                               const std::vector<CaseState>& parts) {
  if (p.HasRole("applicant") && state.applicant_id == p.id) return true;
  if (p.HasRole("agent")) {
    for (const Mandate& m : registers_->KnownMandates(p.id)) {
      if (m.agent_id == p.id && m.applicant_id == state.applicant_id &&
          m.Covers(state.definition_id)) {
        return true;
      }
    }
  }
  if (!IsStaff(p)) return false;
  if (InScope(p, state.organ_id)) return true;
  // Staff of an organ handling one of the parts see the bundle it belongs to.
  for (const CaseState& part : parts) {
    if (MaySee(p, part, state.definition_id)) return true;
  }
  return false;
}

Result<Actor> Permissions::AuthorizeDocumentUpload(const Principal& p, const CaseState& state,
                                                   const std::string& bundle_definition) {
  if (!MaySee(p, state, bundle_definition)) return Status::NotFound("no case " + state.id);
  if (p.HasRole("applicant") && state.applicant_id == p.id) return ActorFor(p, "applicant");
  if (p.HasRole("agent") && !IsStaff(p)) return ActorFor(p, "agent");
  for (const std::string& role : p.roles) {
    if (role != "applicant" && role != "agent" && role != "auditor" && role != "admin") {
      return ActorFor(p, role);
    }
  }
  if (p.HasRole("agent")) return ActorFor(p, "agent");
  return Status::PermissionDenied(
      "documents are supplied by the case's applicant (or its agent) and by staff acting on the "
      "case; an auditor or admin reads them");
}

bool Permissions::MayReadArchive(const Principal& p, const CaseState& state,
                                 const std::string& bundle_definition) {
  const bool own = p.HasRole("applicant") && state.applicant_id == p.id;
  return (own || IsStaff(p)) && MaySee(p, state, bundle_definition);
}

bool Permissions::MayReadBundleArchive(const Principal& p, const BundleState& state,
                                       const std::vector<CaseState>& parts) {
  const bool own = p.HasRole("applicant") && state.applicant_id == p.id;
  return (own || IsStaff(p)) && MaySeeBundle(p, state, parts);
}

bool Permissions::MaySeeCreditRecord(const Principal& p, const CreditRecord& r) {
  if (IsStaff(p)) return true;
  return p.HasRole("applicant") &&
         (r.applicant_id == p.id || (!p.credit_code.empty() && r.credit_code == p.credit_code));
}

bool Permissions::MaySeeMandate(const Principal& p, const Mandate& m) {
  return p.HasRole("admin") || p.HasRole("auditor") || m.applicant_id == p.id || m.agent_id == p.id;
}

bool Permissions::NarrowToScope(const Principal& p, CaseFilter* filter) {
  const bool staff = IsStaff(p);
  if (!staff && !p.HasRole("agent")) {
    filter->applicant_id = p.id;
    return true;
  }
  // Staff without an organ see no cases (MaySee agrees).
  return !(staff && p.organ != "*" && p.organ.empty());
}

Result<Actor> Permissions::AuthorizeMandateRevocation(const Principal& p, const Mandate& m) {
  if (p.HasRole("admin")) return ActorFor(p, "admin");
  if (m.applicant_id == p.id) return ActorFor(p, "applicant");
  return Status::NotFound("no mandate " + m.id + " granted by you");
}

bool Permissions::MaySeeOfficials(const Principal& p) {
  return IsStaff(p);
}

// ---- Operations outside a case ------------------------------------------------------------------

namespace {

struct OperationRule {
  Operation operation;
  std::vector<std::string> roles;  // empty: any staff role
  const char* refusal;
};

const std::vector<OperationRule>& OperationRules() {
  static const std::vector<OperationRule> rules = {
      {Operation::kReadDelegations, {}, "delegations are read by staff"},
      {Operation::kChangeDelegation, {"admin"}, "adding or revoking a delegation needs admin"},
      {Operation::kRepairCredit, {"admin"}, "recording a credit repair (信用修复) needs admin"},
      {Operation::kGrantMandate, {"applicant"}, "an applicant grants a mandate to its agent"},
      {Operation::kReadLedger, {"auditor", "admin"}, "the ledger is read by auditors"},
      {Operation::kDeploy, {"admin"}, "deploying needs the admin role"},
      {Operation::kValidateDefinition, {}, "definitions are validated by staff"},
      {Operation::kMoveClock, {"admin"}, "moving the clock needs admin"},
      {Operation::kAudit, {"auditor"}, "the audit queries are the auditor's"},
      {Operation::kReadIndicators, {"auditor", "admin"}, "the indicators are read by auditors"},
      {Operation::kRecordCheckpoint, {"admin"}, "recording a checkpoint needs admin"},
  };
  return rules;
}

}  // namespace

Result<Actor> Permissions::AuthorizeOperation(const Principal& p, Operation operation) {
  for (const OperationRule& rule : OperationRules()) {
    if (rule.operation != operation) continue;
    if (rule.roles.empty()) {
      for (const std::string& role : p.roles) {
        if (role != "applicant" && role != "agent") return ActorFor(p, role);
      }
    }
    for (const std::string& role : rule.roles) {
      if (p.HasRole(role)) return ActorFor(p, role);
    }
    return Status::PermissionDenied(rule.refusal);
  }
  return Status::Internal("no rule for this operation");
}

Status Permissions::CheckMandateAgent(const Principal* agent) {
  if (agent == nullptr || !agent->HasRole("agent")) {
    return Status::InvalidArgument(
               "\"agent\" must name a principal with the agent role (帮办代办员)")
        .WithPointer("/agent");
  }
  return Status::Ok();
}

// ---- Acting on an item case ---------------------------------------------------------------------

Result<Actor> Permissions::ResolveSubmitter(const Principal& p) {
  for (const char* role : {"applicant", "clerk", "agent"}) {
    if (p.HasRole(role)) return ActorFor(p, role);
  }
  return Status::PermissionDenied(
      "cases are submitted by applicants, by clerks at the window, or by agents");
}

Result<Actor> Permissions::ResolveActor(const Principal& p, const Item& item,
                                        const CaseState& state, const std::string& action,
                                        const nlohmann::json& data) {
  std::vector<std::string> roles;
  std::string organ_note;
  if (const FrameActionSpec* frame = FindFrameAction(action)) {
    if (frame->system_only) {
      return Status::InvalidArgument("\"" + action +
                                     "\" is recorded by the engine's timers, never sent");
    }
    roles = frame->roles;
  } else if (state.step && *state.step < item.steps.size() &&
             item.steps[*state.step].FindAction(action) != nullptr) {
    const Step& step = item.steps[*state.step];
    if (const JointParty* party = SignOffParty(item, state, action, data)) {
      roles = {party->role};
      if (!party->organ.id.empty()) organ_note = " of " + party->organ.name;
    } else if (step.is_joint() && action == step.completes_with) {
      // No (known) party named: whoever holds a party's role may sign; the life cycle says which
      // party is missing.
      for (const JointParty& party : step.parties)
        roles.push_back(party.role);
    } else {
      roles = {step.role};
    }
  } else {
    bool known = false;
    for (const Step& step : item.steps)
      known = known || step.FindAction(action) != nullptr;
    if (!known) {
      return Status::InvalidArgument("\"" + action +
                                     "\" is not an action of this case's definition");
    }
    return Status::FailedPrecondition(
        "action \"" + action + "\" is not available in status " + CaseStatusCode(state.status) +
        (state.step ? " at step \"" + item.steps[*state.step].id + "\"" : std::string()));
  }
  for (const std::string& role : roles) {
    if (role == "system" || !p.HasRole(role)) continue;
    if (role == "applicant" && state.applicant_id != p.id) continue;
    return ActorFor(p, role);
  }
  if (organ_note.empty() && state.applicant_id != p.id) {
    organ_note = " of the competent organ " + item.organ.name;
  }
  return Status::PermissionDenied("action \"" + action + "\" is taken by " +
                                  (roles.empty() ? std::string("nobody now") : JoinOr(roles)) +
                                  organ_note);
}

Result<std::optional<Mandate>> Permissions::AgentMandate(const CaseState& state,
                                                         const std::string& agent_id,
                                                         const std::string& bundle_definition,
                                                         Instant at) {
  auto mandate = registers_->MandateFor(state.applicant_id, agent_id, state.definition_id, at);
  // A mandate for a bundle covers its parts.
  if (mandate.ok() && !*mandate && !bundle_definition.empty()) {
    mandate = registers_->MandateFor(state.applicant_id, agent_id, bundle_definition, at);
  }
  return mandate;
}

Status Permissions::AuthorizeCommand(const Item& item, const CaseState& state,
                                     const std::string& bundle_definition, Command* c) {
  const Actor& actor = c->actor;
  if (actor.role == "system") return Status::Ok();
  // 收受分离: until the receiving window transfers the case, the handling organ has nothing to do
  // with it, and the applicant may only withdraw. (Staff without jurisdiction hear that first.)
  auto at_window = [&]() {
    if (!state.awaiting_transfer() || c->action == "transfer" || c->action == "withdraw" ||
        c->action == "rate" || c->action == "answer_rating") {
      return Status::Ok();
    }
    return Status::FailedPrecondition(
        "the case is at the receiving window of " + state.received_by +
        "; it must be transferred to the handling organ (transfer) before it is handled");
  };
  if (actor.role == "applicant") return at_window();
  if (actor.role == "agent") {
    TONGBAN_RETURN_IF_ERROR(at_window());
    auto mandate = AgentMandate(state, actor.id, bundle_definition, c->time);
    if (!mandate.ok()) return mandate.status();
    if (!*mandate) {
      return Status::PermissionDenied("agent " + actor.id + " holds no mandate in force from " +
                                      state.applicant_id + " for " + state.definition_id +
                                      " (帮办代办授权)");
    }
    c->data["on_behalf_of"] = state.applicant_id;
    c->data["mandate"] = (*mandate)->id;
    return Status::Ok();
  }
  if (c->action == "deliver" && state.is_bundle_child()) {
    return Status::FailedPrecondition("this case is part " + state.bundle_part +
                                      " of bundle case " + state.bundle_number +
                                      "; its result is delivered together with the bundle "
                                      "(deliver on the bundle case)");
  }
  if (c->action == "transfer") {
    // Not (or no longer) at a receiving window: the life cycle says why there is nothing to do.
    if (!state.awaiting_transfer()) return Status::Ok();
    if (actor.organ != state.received_by && actor.organ != "*") {
      return Status::PermissionDenied("only the receiving window (" + state.received_by +
                                      ") transfers this case");
    }
    c->data["authority"] = {{"organ", actor.organ},
                            {"basis", "handling_agreement"},
                            {"agreement", state.reception_agreement}};
    return Status::Ok();
  }
  // 会签: a party of another organ is signed by that organ's staff, on the item's joint step alone.
  if (const JointParty* party = SignOffParty(item, state, c->action, c->data)) {
    if (!party->organ.id.empty() && party->organ.id != item.organ.id) {
      if (actor.organ != party->organ.id && actor.organ != "*") {
        return Status::PermissionDenied("party \"" + party->id + "\" (" + party->title +
                                        ") is signed by staff of " + party->organ.name + " (" +
                                        party->organ.id + "), not of " +
                                        (actor.organ.empty() ? "(no organ)" : actor.organ));
      }
      TONGBAN_RETURN_IF_ERROR(at_window());
      c->data["authority"] = {{"organ", actor.organ},
                              {"basis", "joint_party"},
                              {"party", party->id},
                              {"powers", PowerName(Power::kReview)}};
      return Status::Ok();
    }
  }
  auto authority =
      registers_->Authorize(item, state, actor.organ, PowersFor(item, state, c->action), c->time);
  if (!authority.ok()) return authority.status();
  TONGBAN_RETURN_IF_ERROR(at_window());
  c->data["authority"] = *authority;
  return Status::Ok();
}

std::vector<std::string> Permissions::Candidates(const Item& item, const CaseState& s) const {
  std::vector<std::string> candidates;
  const std::string status = CaseStatusCode(s.status);
  for (const FrameActionSpec& a : FrameActionTable()) {
    if (!a.dispatched || a.system_only || !Holds(a.offered_in, status)) continue;
    candidates.push_back(a.id);
  }
  auto drop = [&](const char* action) {
    candidates.erase(std::remove(candidates.begin(), candidates.end(), action), candidates.end());
  };
  // The conditions the life cycle adds to the table's statuses.
  // 好差评: rated once; a rectification is answered once, and only a bad rating opens one.
  if (s.rating) drop("rate");
  if (!s.rating || !s.rating->rectification_open()) drop("answer_rating");
  if (s.awaiting_transfer()) {
    // Only while the case is open: one withdrawn at the window stays untransferred for good.
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [](const std::string& a) {
                                      return a != "transfer" && a != "withdraw" && a != "rate" &&
                                             a != "answer_rating";
                                    }),
                     candidates.end());
    return candidates;
  }
  drop("transfer");
  // An application is accepted only complete; until then the window asks for a correction.
  if (!OutstandingMaterials(item, s, /*include_deferrable=*/false).empty()) {
    drop("accept");
    drop("accept_and_decide");
  }
  if (item.case_type != CaseType::kInstant) drop("accept_and_decide");
  if (s.correction_issued) drop("request_correction");
  drop(s.suspended ? "suspend" : "resume");
  if (s.extended || item.time_limits.extension_days <= 0) drop("extend");
  if (s.status == CaseStatus::kClosed && s.decision != Decision::kApprove) drop("revoke");
  if (s.verification != Verification::kPending) drop("verify");
  // A bundle's parts are delivered together, on the bundle case.
  if (s.is_bundle_child()) drop("deliver");
  if (s.step && *s.step < item.steps.size()) {
    const Step& step = item.steps[*s.step];
    std::vector<std::string> step_actions;
    for (const Action& a : step.actions)
      step_actions.push_back(a.id);
    candidates.insert(candidates.begin(), step_actions.begin(), step_actions.end());
  }
  return candidates;
}

Status Permissions::CheckDataMembers(const Item& item, const CaseState& s,
                                     const std::string& action, const nlohmann::json& data) {
  if (!data.is_object() || data.empty()) return Status::Ok();
  std::optional<std::vector<DataField>> fields = FieldsOf(item, s, action);
  if (!fields) return Status::Ok();
  for (auto it = data.begin(); it != data.end(); ++it) {
    const std::string& member = it.key();
    if (member == "comment" || member == "documents") continue;  // any action may name documents
    const bool known = std::any_of(fields->begin(), fields->end(),
                                   [&](const DataField& f) { return f.name == member; });
    if (known) continue;
    std::string names;
    for (const DataField& f : *fields)
      names += (names.empty() ? "" : ", ") + f.name;
    return Status::InvalidArgument("data." + member + " is not a field of action \"" + action +
                                   "\" (" +
                                   (names.empty() ? "it takes none" : "its fields: " + names) + ")")
        .WithPointer(JoinJsonPointer("/data", member));
  }
  return Status::Ok();
}

std::vector<OfferedAction> Permissions::Offered(const Principal& p, const Item& item,
                                                const CaseState& s,
                                                const std::string& bundle_definition, Instant now) {
  std::vector<OfferedAction> out;
  const Step* step = s.step && *s.step < item.steps.size() ? &item.steps[*s.step] : nullptr;
  std::vector<std::string> candidates = Candidates(item, s);
  DropUntimely(item, s, now, &candidates);
  for (const std::string& action : candidates) {
    // A joint sign-off is offered once per party the principal could sign for.
    std::vector<const JointParty*> parties = {nullptr};
    if (step != nullptr && step->is_joint() && action == step->completes_with) {
      parties.clear();
      for (const JointParty& party : step->parties) {
        if (s.joint_passed.count(party.id) == 0) parties.push_back(&party);
      }
    }
    for (const JointParty* party : parties) {
      nlohmann::json data = nlohmann::json::object();
      if (party != nullptr) data["party"] = party->id;
      auto actor = ResolveActor(p, item, s, action, data);
      if (!actor.ok()) continue;
      Command command{action, *actor, now, data};
      if (!AuthorizeCommand(item, s, bundle_definition, &command).ok()) continue;
      OfferedAction offered;
      offered.action = action;
      offered.role = actor->role;
      if (const FrameActionSpec* frame = FindFrameAction(action)) {
        offered.title = frame->title;
        offered.description = frame->description;
        offered.data = frame->data;
      } else {
        if (!CheckStepAction(item, s, command, /*check_data=*/false).ok()) continue;
        const Action* a = step->FindAction(action);
        offered.title = a->title;
        offered.data = StepActionData(*a);
        if (party != nullptr) {
          offered.party = party->id;
          offered.title += "（" + party->title + "）";
          offered.data.push_back(
              {"party", DataFieldType::kChoice, true, "", {party->id}, "会签方"});
        }
      }
      out.push_back(std::move(offered));
    }
  }
  return out;
}

// ---- Acting on a bundle case --------------------------------------------------------------------

Result<Actor> Permissions::ResolveBundleActor(const Principal& p) {
  // The bundle's own rules (who supplies, who delivers, an agent's mandate) are checked when the
  // action is taken (CaseService::ActOnBundle); here only the role it is taken in is chosen.
  for (const char* role : {"applicant", "agent", "clerk"}) {
    if (p.HasRole(role)) return ActorFor(p, role);
  }
  if (p.roles.empty()) return Status::PermissionDenied(p.id + " holds no role");
  return ActorFor(p, p.roles.front());
}

std::vector<OfferedAction> Permissions::OfferedOnBundle(const Principal& p,
                                                        const BundleState& state,
                                                        const std::vector<std::string>& correction,
                                                        Instant now) {
  std::vector<OfferedAction> out;
  const std::string status = state.Status();
  // The applicant itself, or an agent holding its mandate for this bundle now.
  std::string own_role;
  if (p.HasRole("applicant") && p.id == state.applicant_id) {
    own_role = "applicant";
  } else if (p.HasRole("agent")) {
    // Nothing is offered on a mandate while the ledger cannot be read: acting would be refused.
    auto mandate = registers_->MandateFor(state.applicant_id, p.id, state.definition_id, now);
    if (mandate.ok() && *mandate) own_role = "agent";
  }
  auto offer = [&](const char* action, const char* title, const char* description,
                   const std::string& role, std::vector<DataField> data) {
    out.push_back({action, title, role, "", std::move(data), description});
  };
  if (!correction.empty() && !own_role.empty()) {
    offer("supply_correction", "补正",
          "supply everything the combined correction notice lists, once", own_role,
          {{"materials", DataFieldType::kMaterialIds, true, "", {}, "补正材料"}});
  }
  const bool awaiting_input =
      std::any_of(state.parts.begin(), state.parts.end(),
                  [](const BundlePartState& part) { return part.status == "awaiting_input"; });
  if (awaiting_input && !own_role.empty()) {
    offer("supply_form", "补充申请信息",
          "supply the bundle form fields a part needs to start (see each part's note)", own_role,
          {{"form", DataFieldType::kObject, true, "", {}, "补充的表单项"}});
  }
  if (status == "ready" && p.HasRole("clerk") && InScope(p, state.organ_id)) {
    offer("deliver", "送达", "deliver every part's result together", "clerk", {});
  }
  if (!own_role.empty() && status != "ready" && status != "delivered" && status != "withdrawn") {
    offer("withdraw", "撤回申请", "withdraw the whole application", own_role, {});
  }
  return out;
}

}  // namespace tongban
