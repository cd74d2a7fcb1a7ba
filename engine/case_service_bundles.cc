// The bundle half of CaseService (一件事集成办): bundle cases and the follow-ups that keep a bundle
// case in step with its children. See case_service.h and bundle_case.h for the contract.
#include <algorithm>

#include "engine/action_provenance.h"
#include "engine/case_ids.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/snapshot_codec.h"
#include "engine/submission.h"
#include "workflows/json_document.h"

namespace tongban {

namespace {

Event MakeBundleEvent(const BundleCase& bundle, const Command& command, int64_t seq,
                      const std::string& prev_hash, const std::string& idempotency_key) {
  const BundleState& s = bundle.state();
  return ChainedEvent(command, s.id, seq, s.Status(), "", s.definition_id, s.definition_version,
                      prev_hash, idempotency_key);
}

CaseWrite MakeBundleWrite(const BundleCase& bundle, int64_t expected_version,
                          std::vector<Event> events) {
  const BundleState& s = bundle.state();
  return CaseWriteFor(s, s.Status(), "", expected_version, std::move(events),
                      [](const BundleState& state) { return EncodeBundleSnapshot(state); });
}

// A bundle case loaded for changing: its replayed state and the events to append.
struct OpenBundle {
  std::unique_ptr<BundleCase> bundle;
  int64_t version = 0;
  int64_t seq = 0;
  std::string last_hash;
  std::vector<Event> new_events;

  Status Apply(const Command& command, const std::string& idempotency_key = "") {
    TONGBAN_RETURN_IF_ERROR(bundle->Apply(command));
    new_events.push_back(MakeBundleEvent(*bundle, command, ++seq, last_hash, idempotency_key));
    last_hash = new_events.back().hash;
    bundle->mutable_state().version = seq;
    bundle->mutable_state().last_hash = last_hash;
    return Status::Ok();
  }
};

// A bundle case as its stored snapshot holds it: a BundleCase is plain state, so the snapshot is
// all of it and no replay is needed (the store's version check guards the write).
Result<std::unique_ptr<BundleCase>> ReadBundle(Store* store, const DefinitionRegistry& registry,
                                               const std::string& id) {
  auto record = store->GetCase(id);
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound("no case " + id);
  const CaseRecord& r = **record;
  auto bundle = registry.FindBundle(r.definition_id, r.definition_version);
  if (!bundle) {
    return Status::DataLoss("the case's bundle " + r.definition_id + " v" +
                            std::to_string(r.definition_version) + " is not deployed");
  }
  auto state = DecodeBundleSnapshot(r.snapshot);
  auto out = std::make_unique<BundleCase>(bundle);
  if (state.ok()) {
    out->mutable_state() = std::move(state).value();
    return out;
  }
  // A snapshot this build cannot read: the events still can.
  auto events = store->GetEvents(id);
  if (!events.ok()) return events.status();
  auto replayed = ReplayBundleEvents(*events, registry);
  if (!replayed.ok()) return replayed.status();
  return std::move(replayed->bundle);
}

Result<OpenBundle> LoadBundle(Store* store, const DefinitionRegistry& registry,
                              const std::string& id) {
  auto bundle = ReadBundle(store, registry, id);
  if (!bundle.ok()) return bundle.status();
  OpenBundle open;
  open.bundle = std::move(bundle).value();
  open.version = open.seq = open.bundle->state().version;
  open.last_hash = open.bundle->state().last_hash;
  return open;
}

// The bundle's record of a change in one of its parts' cases. A part approved just now issues the
// materials its definition says it issues (证照共享), recorded in the event ("issued") so that the
// replay of events written before a definition issued anything stays what it was.
Command PartChanged(const Bundle& bundle, const BundlePartState& part, const CaseState& child,
                    Instant time) {
  Command c;
  c.action = "part_changed";
  c.actor = Actor::System();
  c.time = time;
  c.data = {
      {"part", part.part},
      {"case_id", child.id},
      {"case_number", child.number},
      {"status", CaseStatusCode(child.status)},
      {"decision", child.decision ? DecisionName(*child.decision) : ""},
      {"missing", child.status == CaseStatus::kCorrectionPending ? child.missing_materials
                                                                 : std::vector<std::string>()}};
  const BundlePart* definition = bundle.FindPart(part.part);
  if (child.status == CaseStatus::kApproved && definition != nullptr &&
      !definition->issues.empty()) {
    c.data["issued"] = definition->issues;
  }
  return c;
}

}  // namespace

Result<BundleReplayResult> ReplayBundleEvents(const std::vector<Event>& events,
                                              const DefinitionRegistry& registry) {
  if (events.empty()) return Status::NotFound("the case has no events");
  const Event& first = events.front();
  auto bundle = registry.FindBundle(first.definition_id, first.definition_version);
  if (!bundle) {
    return Status::DataLoss("the case's bundle " + first.definition_id + " v" +
                            std::to_string(first.definition_version) + " is not deployed");
  }
  BundleReplayResult result;
  result.bundle = std::make_unique<BundleCase>(bundle);
  for (const Event& e : events) {
    Command command = CommandFromEvent(e);
    Status status = e.seq == 1 ? result.bundle->Submit(command) : result.bundle->Apply(command);
    if (!status.ok()) {
      return Status::DataLoss("event " + std::to_string(e.seq) + " (" + e.action +
                              ") does not replay: " + status.message());
    }
    if (e.status != result.bundle->state().Status()) {
      return Status::DataLoss("event " + std::to_string(e.seq) + " (" + e.action + ") records " +
                              e.status + " but replays to " + result.bundle->state().Status());
    }
    result.bundle->mutable_state().version = e.seq;
    result.bundle->mutable_state().last_hash = e.hash;
    ++result.applied;
  }
  return result;
}

namespace {

// Submits the child case for `index` of `bundle`, numbered after the bundle case.
Result<std::unique_ptr<CaseLifecycle>> SubmitChild(const Bundle& bundle, size_t index,
                                                   const BundleState& parent, const Actor& actor,
                                                   const nlohmann::json& engine_data, Instant now,
                                                   Event* event) {
  const BundlePart& part = bundle.parts[index];
  Command submit;
  submit.action = "submit";
  submit.actor = actor;
  submit.time = now;
  submit.data = {{"case",
                  {{"id", NewCaseId(now)},
                   {"number", parent.number + "-" + std::to_string(index + 1)},
                   {"query_code", parent.query_code}}},
                 {"applicant",
                  {{"id", parent.applicant_id},
                   {"name", parent.applicant_name},
                   {"credit_code", parent.applicant_credit_code}}},
                 {"form", bundle.MapForm(part, parent.form)},
                 {"materials", bundle.MapMaterials(part, parent.materials)},
                 {"mode", "standard"},
                 {"bundle", {{"case", parent.id}, {"number", parent.number}, {"part", part.id}}}};
  for (const auto& [key, value] : engine_data.items())
    submit.data[key] = value;
  auto lifecycle = std::make_unique<CaseLifecycle>(part.item);
  Status submitted = lifecycle->Submit(submit);
  if (!submitted.ok()) {
    return Status(submitted.code(),
                  "part \"" + part.id + "\" (" + part.item->title + "): " + submitted.message());
  }
  *event = MakeCaseEvent(*lifecycle, submit, 1, kGenesisHash, "");
  auto& state = const_cast<CaseState&>(lifecycle->state());
  state.version = 1;
  state.last_hash = event->hash;
  return lifecycle;
}

// Creates the child cases of the parts ready to start, each with its part_changed event. A part its
// item refuses is marked awaiting_input (strict: the refusal is returned instead, for supply_form,
// where the applicant is there to read it).
Status ReleaseParts(OpenBundle* open, Instant now, bool strict, StoreWrite* write) {
  const Bundle& bundle = open->bundle->bundle();
  for (const std::string& ready : open->bundle->state().ReadyToRelease(bundle, strict)) {
    size_t index = *bundle.PartIndex(ready);
    Event event;
    nlohmann::json engine_data = {{"released_after", bundle.parts[index].after.size()}};
    auto released = SubmitChild(bundle, index, open->bundle->state(), Actor::System(), engine_data,
                                now, &event);
    if (!released.ok()) {
      if (strict || released.status().code() != StatusCode::kInvalidArgument) {
        return released.status();
      }
      Command c;
      c.action = "part_changed";
      c.actor = Actor::System();
      c.time = now;
      c.data = {
          {"part", ready}, {"status", "awaiting_input"}, {"note", released.status().message()}};
      TONGBAN_RETURN_IF_ERROR(open->Apply(c));
      continue;
    }
    std::vector<Event> events = {event};
    write->cases.push_back(MakeCaseWrite(**released, 0, std::move(events), now));
    TONGBAN_RETURN_IF_ERROR(open->Apply(
        PartChanged(bundle, *open->bundle->state().FindPart(ready), (*released)->state(), now)));
  }
  return Status::Ok();
}

}  // namespace

Status CaseService::AddBundleFollowups(const CaseLifecycle& child, const CaseState& before,
                                       Instant now, StoreWrite* write) {
  const CaseState& after = child.state();
  if (after.status == before.status && after.missing_materials == before.missing_materials) {
    return Status::Ok();
  }
  auto open = LoadBundle(store_, *registry_, after.bundle_case_id);
  if (!open.ok()) return open.status();
  const BundlePartState* part = open->bundle->state().FindPart(after.bundle_part);
  if (part == nullptr) {
    return Status::DataLoss("bundle case " + after.bundle_number + " has no part " +
                            after.bundle_part);
  }
  TONGBAN_RETURN_IF_ERROR(open->Apply(PartChanged(open->bundle->bundle(), *part, after, now)));
  // Parts that waited for this one start now. One its item refuses awaits the applicant's input
  // rather than undoing the decision that released it.
  TONGBAN_RETURN_IF_ERROR(ReleaseParts(&*open, now, /*strict=*/false, write));
  write->cases.push_back(
      MakeBundleWrite(*open->bundle, open->version, std::move(open->new_events)));
  return Status::Ok();
}

Result<BundleView> CaseService::CreateBundle(const NewCase& request) {
  if (!request.idempotency_key.empty()) {
    auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
    if (!hit.ok()) return hit.status();
    if (*hit) return GetBundle((*hit)->case_id);
  }
  auto bundle = registry_->FindBundle(request.definition_id, request.definition_version);
  if (!bundle) return Status::NotFound("no deployed bundle \"" + request.definition_id + "\"");
  if (request.mode != "standard") {
    return Status::InvalidArgument(
               "a bundle is applied for in standard mode; commitment-based approval is chosen per "
               "item")
        .WithPointer("/mode");
  }
  nlohmann::json engine_data = nlohmann::json::object();
  const Actor& actor = request.actor;
  if (actor.role == "agent") {
    auto mandate =
        registers_->MandateFor(request.applicant_id, actor.id, bundle->id, clock_->Now());
    if (!mandate.ok()) return mandate.status();
    if (!*mandate) {
      return Status::PermissionDenied("agent " + actor.id + " holds no mandate in force from " +
                                      request.applicant_id + " for " + bundle->id +
                                      " (帮办代办授权)");
    }
    engine_data["on_behalf_of"] = request.applicant_id;
    engine_data["mandate"] = (*mandate)->id;
  } else if (actor.role == "clerk") {
    // 一窗受理: the bundle is received at the lead organ's window.
    if (actor.organ != bundle->lead_organ.id && actor.organ != "*") {
      return Status::PermissionDenied("bundle " + bundle->id + " is received at the window of " +
                                      bundle->lead_organ.name + " (" + bundle->lead_organ.id + ")");
    }
    engine_data["authority"] = {{"organ", actor.organ}, {"basis", "bundle_lead_organ"}};
  } else if (actor.role != "applicant") {
    return Status::PermissionDenied(
        "a bundle is applied for by an applicant, a clerk at the lead "
        "organ's window, or an agent with a mandate");
  }
  RecordProvenance(actor, "submit", *registry_, &engine_data);
  // The bundle's own form, checked against the bundle's fields so that a refusal points into the
  // form the applicant filled in (the parts check the forms mapped from it again).
  TONGBAN_RETURN_IF_ERROR(CheckForm(bundle->form, request.form));
  std::vector<std::string> materials;
  TONGBAN_RETURN_IF_ERROR(
      ReadMaterialIds(bundle->materials, request.materials, "/materials", &materials));
  for (int attempt = 0; attempt < 3; ++attempt) {
    Instant now = clock_->Now();
    BundleState planned;
    planned.id = NewCaseId(now);
    planned.number = NewCaseNumber(*bundle->calendar, now);
    planned.query_code = NewQueryCode();
    planned.applicant_id = request.applicant_id;
    planned.applicant_name = request.applicant_name;
    planned.applicant_credit_code = request.applicant_credit_code;
    planned.form = request.form;
    planned.materials = materials;
    StoreWrite write;
    nlohmann::json plan = nlohmann::json::array();
    for (size_t i = 0; i < bundle->parts.size(); ++i) {
      const BundlePart& part = bundle->parts[i];
      bool applies = part.when == nullptr || part.when->Evaluate(request.form);
      nlohmann::json entry = {{"part", part.id}, {"applies", applies}};
      bool waits = false;
      for (size_t dep : part.after) {
        const BundlePart& d = bundle->parts[dep];
        if (d.when == nullptr || d.when->Evaluate(request.form)) waits = true;
      }
      if (!applies) {
        entry["status"] = "not_applicable";
      } else if (waits) {
        entry["status"] = "waiting";
      } else {
        Event event;
        auto child = SubmitChild(*bundle, i, planned, actor, engine_data, now, &event);
        if (!child.ok()) return child.status();
        entry["status"] = CaseStatusCode((*child)->state().status);
        entry["case_id"] = (*child)->state().id;
        entry["case_number"] = (*child)->state().number;
        std::vector<Event> events = {event};
        write.cases.push_back(MakeCaseWrite(**child, 0, std::move(events), now));
      }
      plan.push_back(entry);
    }
    Command submit;
    submit.action = "submit";
    submit.actor = actor;
    submit.time = now;
    submit.data = {
        {"case",
         {{"id", planned.id}, {"number", planned.number}, {"query_code", planned.query_code}}},
        {"applicant",
         {{"id", request.applicant_id},
          {"name", request.applicant_name},
          {"credit_code", request.applicant_credit_code}}},
        {"form", request.form},
        {"materials", materials},
        {"parts", plan}};
    for (const auto& [key, value] : engine_data.items())
      submit.data[key] = value;
    BundleCase parent(bundle);
    TONGBAN_RETURN_IF_ERROR(parent.Submit(submit));
    std::vector<Event> events = {
        MakeBundleEvent(parent, submit, 1, kGenesisHash, request.idempotency_key)};
    BundleState created = parent.state();
    created.version = 1;
    created.last_hash = events.back().hash;
    write.cases.insert(write.cases.begin(), MakeBundleWrite(parent, 0, std::move(events)));
    Status status = Commit(std::move(write));
    if (status.ok()) {
      // Committed: the answer is made from what was written, not read back, so that a read
      // failing now cannot turn a stored bundle into an error (and the client's retry into a
      // second bundle).
      const Instant as_of = std::max(clock_->Now(), created.updated_at);
      return MakeBundleView(std::move(created), parent.bundle_ptr(), as_of);
    }
    if (status.code() == StatusCode::kAlreadyExists && !request.idempotency_key.empty()) {
      auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
      if (hit.ok() && *hit) return GetBundle((*hit)->case_id);
    }
    if (status.code() != StatusCode::kAlreadyExists && status.code() != StatusCode::kAborted) {
      return status;
    }
  }
  return Status::Unavailable("could not allocate a case number; try again");
}

Result<BundleView> CaseService::ActOnBundle(const ActRequest& request) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!request.idempotency_key.empty()) {
      auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
      if (!hit.ok()) return hit.status();
      if (*hit) return GetBundle((*hit)->case_id);
    }
    bool retry = false;
    auto result = ActOnBundleOnce(request, &retry);
    if (!retry) return result;
  }
  return Status::Aborted("the bundle kept changing under this action; try again");
}

Result<BundleView> CaseService::ActOnBundleOnce(const ActRequest& request, bool* retry) {
  auto open = LoadBundle(store_, *registry_, request.case_id);
  if (!open.ok()) return open.status();
  const BundleState& s = open->bundle->state();
  const Bundle& bundle = open->bundle->bundle();
  if (request.expected_version && *request.expected_version != open->version) {
    return Status::Aborted("the case is at version " + std::to_string(open->version) + ", not " +
                           std::to_string(*request.expected_version));
  }
  Instant now = std::max(clock_->Now(), s.updated_at);
  Command command;
  command.action = request.action;
  command.actor = request.actor;
  command.time = now;
  auto data = request.CommandData();
  if (!data.ok()) return data.status();
  command.data = std::move(data).value();
  const std::string& role = request.actor.role;
  std::string child_action;
  if (request.action == "rate" || request.action == "answer_rating") {
    // 好差评 rates the service of an organ on an item: each part's case is rated on its own.
    return Status::FailedPrecondition(
        "a bundle case (一件事) is rated part by part: rate each part's case");
  }
  if (request.action == "supply_correction") {
    if (role != "applicant" && role != "agent" && role != "clerk") {
      return Status::PermissionDenied("the applicant supplies the correction");
    }
    child_action = "supply_correction";
  } else if (request.action == "supply_form") {
    if (role != "applicant" && role != "agent" && role != "clerk") {
      return Status::PermissionDenied("the applicant supplies the bundle's form");
    }
  } else if (request.action == "deliver") {
    if (role != "clerk" ||
        (request.actor.organ != bundle.lead_organ.id && request.actor.organ != "*")) {
      return Status::PermissionDenied(
          "the bundle's results are delivered together by a clerk of "
          "the lead organ " +
          bundle.lead_organ.name + " (" + bundle.lead_organ.id + ")");
    }
    child_action = "deliver";
  } else if (request.action == "withdraw") {
    if (role != "applicant" && role != "agent") {
      return Status::PermissionDenied("the applicant withdraws the bundle");
    }
    child_action = "withdraw";
  } else {
    return Status::InvalidArgument("\"" + request.action +
                                   "\" is not an action of a bundle case (supply_correction, "
                                   "supply_form, deliver, withdraw); act on its part cases")
        .WithReason("unknown-action");
  }
  if (role == "applicant" && request.actor.id != s.applicant_id) {
    return Status::PermissionDenied("only the bundle's own applicant may act on it");
  }
  if (role == "agent") {
    auto mandate = registers_->MandateFor(s.applicant_id, request.actor.id, bundle.id, now);
    if (!mandate.ok()) return mandate.status();
    if (!*mandate) {
      return Status::PermissionDenied("agent " + request.actor.id +
                                      " holds no mandate in force for this bundle");
    }
    command.data["on_behalf_of"] = s.applicant_id;
    command.data["mandate"] = (*mandate)->id;
  }
  std::vector<std::string> supplied;
  if (child_action == "supply_correction") {
    auto it = command.data.find("materials");
    if (it == command.data.end()) {
      return Status::InvalidArgument("data.materials must list the bundle materials supplied")
          .WithPointer("/data/materials");
    }
    TONGBAN_RETURN_IF_ERROR(ReadMaterialIds(bundle.materials, *it, "/data/materials", &supplied));
  }
  // The parts acted on, to go back into the machine cache once the write committed (a refusal or
  // a failed write drops them).
  std::vector<OpenCase> children;
  // The bundle's own event first (it checks the bundle's status), then each child's.
  RecordProvenance(command.actor, child_action, *registry_, &command.data);
  TONGBAN_RETURN_IF_ERROR(open->Apply(command, request.idempotency_key));
  StoreWrite write;
  if (request.action == "supply_form") {
    TONGBAN_RETURN_IF_ERROR(ReleaseParts(&*open, now, /*strict=*/true, &write));
  }
  for (size_t i = 0; i < open->bundle->state().parts.size(); ++i) {
    const BundlePartState part = open->bundle->state().parts[i];
    if (part.case_id.empty()) continue;
    const bool takes_it =
        (child_action == "supply_correction" && part.status == "correction_pending") ||
        (child_action == "deliver" && (part.status == "approved" || part.status == "denied")) ||
        (child_action == "withdraw" &&
         (part.status == "submitted" || part.status == "correction_pending" ||
          part.status == "under_review"));
    if (!takes_it) continue;
    auto open_child = Checkout(part.case_id);
    if (!open_child.ok()) return open_child.status();
    CaseLifecycle& child = *open_child->lifecycle;
    Command c;
    c.action = child_action;
    c.actor = request.actor;
    c.time = now;
    c.data = {{"bundle_action", {{"case", s.id}, {"seq", open->seq}}}};
    if (command.data.contains("reason")) c.data["reason"] = command.data["reason"];
    if (command.data.contains("on_behalf_of")) {
      c.data["on_behalf_of"] = command.data["on_behalf_of"];
      c.data["mandate"] = command.data["mandate"];
    }
    if (child_action == "supply_correction") {
      c.data["materials"] = bundle.MapMaterials(bundle.parts[i], supplied);
    }
    if (child_action == "deliver") {
      c.data["authority"] = {{"organ", request.actor.organ}, {"basis", "bundle_lead_organ"}};
    }
    RecordProvenance(c.actor, child_action, *registry_, &c.data);
    Status applied = child.Apply(c);
    if (!applied.ok()) {
      return Status(applied.code(),
                    "part \"" + part.part + "\" (" + part.case_number + "): " + applied.message());
    }
    std::vector<Event> child_events = {
        MakeCaseEvent(child, c, open_child->version + 1, open_child->last_hash, "")};
    const std::string child_hash = child_events.back().hash;
    write.cases.push_back(MakeCaseWrite(child, open_child->version, std::move(child_events), now));
    TONGBAN_RETURN_IF_ERROR(open->Apply(PartChanged(bundle, part, child.state(), now)));
    children.push_back({std::move(open_child->lifecycle), open_child->version + 1, child_hash});
  }
  write.cases.push_back(MakeBundleWrite(*open->bundle, open->version, std::move(open->new_events)));
  Status committed = Commit(std::move(write));
  if (committed.code() == StatusCode::kAborted && !request.expected_version) {
    *retry = true;
    return committed;
  }
  if (committed.code() == StatusCode::kAlreadyExists && !request.idempotency_key.empty()) {
    auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
    if (hit.ok() && *hit) return GetBundle((*hit)->case_id);
  }
  if (!committed.ok()) return committed;
  for (OpenCase& child : children)
    CheckIn(std::move(child.lifecycle), child.version, child.last_hash);
  return GetBundle(request.case_id);
}

bool CaseService::IsBundleCase(const std::string& case_id) {
  auto record = store_->GetCase(case_id);
  if (!record.ok() || !*record) return false;
  return IsBundle(**record);
}

bool CaseService::IsBundle(const CaseRecord& record) const {
  return registry_->FindBundle(record.definition_id, record.definition_version) != nullptr;
}

Result<BundleView> CaseService::GetBundle(const std::string& case_id) {
  auto bundle = ReadBundle(store_, *registry_, case_id);
  if (!bundle.ok()) return bundle.status();
  const BundleState& state = (*bundle)->state();
  Instant now = std::max(clock_->Now(), state.updated_at);
  return MakeBundleView(state, (*bundle)->bundle_ptr(), now);
}

BundleView CaseService::MakeBundleView(BundleState state, std::shared_ptr<const Bundle> bundle_ptr,
                                       Instant now) {
  BundleView view;
  view.state = std::move(state);
  view.bundle = std::move(bundle_ptr);
  view.as_of = now;
  const Bundle& bundle = *view.bundle;
  for (size_t i = 0; i < view.state.parts.size(); ++i) {
    BundlePartView part;
    part.state = view.state.parts[i];
    part.item = bundle.parts[i].item;
    part.title = bundle.parts[i].title.empty() ? part.item->title : bundle.parts[i].title;
    if (!part.state.case_id.empty()) {
      auto child = Get(part.state.case_id);
      if (child.ok()) part.child = std::move(child).value();
    }
    view.parts.push_back(std::move(part));
  }
  view.correction = view.state.CombinedCorrection(bundle);
  const Calendar& calendar = *bundle.calendar;
  const std::string status = view.state.Status();
  const bool stopped = status == "ready" || status == "delivered" || status == "withdrawn";
  // A promise of `days` in `unit` from `start` seen at `end`: its due date, days left and light
  // (yellow on the last day, red once it has passed).
  auto promise = [&](Day start, int days, DayUnit unit, Instant end, std::optional<Day>* due,
                     bool* due_provisional, int* days_left, Light* light) {
    WorkingDayDate d = calendar.AddDays(start, days, unit);
    *due = d.day;
    *due_provisional = d.provisional;
    Day end_day = calendar.LocalDate(end);
    *days_left = calendar.DaysUntil(end_day, d.day, unit).days;
    *light = end_day > d.day ? Light::kRed : *days_left <= 1 ? Light::kYellow : Light::kGreen;
    view.provisional |= d.provisional;
  };
  // The bundle's own promise runs from submission until every part is decided.
  if (bundle.promised_days > 0) {
    promise(calendar.LocalDate(view.state.created_at), bundle.promised_days, bundle.promised_unit,
            stopped ? view.state.updated_at : now, &view.promised_due,
            &view.promised_due_provisional, &view.promised_days_left, &view.light);
  }
  // Each stage's promise runs from its first part's acceptance (受理) to its last part's end, so
  // neither the time between stages (a construction period) nor a part waiting for the applicant's
  // materials is anybody's promise.
  for (const BundleStage& stage : bundle.stages) {
    BundleStageClock clock;
    clock.id = stage.id;
    clock.title = stage.title;
    clock.unit = stage.promised_unit;
    clock.promised_days = stage.promised_days;
    std::optional<Instant> start;
    std::optional<Instant> end;
    bool all_ended = true;
    for (size_t i : stage.parts) {
      const BundlePartView& part = view.parts[i];
      if (!part.state.ended()) all_ended = false;
      if (!part.child) continue;
      const CaseState& child = part.child->state;
      if (child.accepted_at && (!start || *child.accepted_at < *start)) start = child.accepted_at;
      Instant ended_at = child.decided_at.value_or(child.updated_at);
      if (!end || ended_at > *end) end = ended_at;
    }
    clock.started = start.has_value();
    clock.stopped = clock.started && all_ended;
    if (clock.started) {
      promise(calendar.LocalDate(*start), stage.promised_days, stage.promised_unit,
              clock.stopped ? *end : now, &clock.due, &clock.due_provisional, &clock.days_left,
              &clock.light);
      view.light = std::max(view.light, clock.light);
    }
    view.stages.push_back(std::move(clock));
  }
  for (const BundlePartView& part : view.parts) {
    if (part.child) view.provisional |= part.child->clock.provisional;
  }
  return view;
}

nlohmann::json BundleViewToJson(const BundleView& v) {
  nlohmann::json j = BundleStateToJson(v.state);
  j["title"] = v.bundle->title;
  j["lead_organ"] = {{"id", v.bundle->lead_organ.id}, {"name", v.bundle->lead_organ.name}};
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePartView& p : v.parts) {
    nlohmann::json part = {{"part", p.state.part},
                           {"title", p.title},
                           {"item", p.state.item_id},
                           {"organ", {{"id", p.item->organ.id}, {"name", p.item->organ.name}}},
                           {"applies", p.state.applies},
                           {"status", p.state.status},
                           {"case_id", p.state.case_id},
                           {"case_number", p.state.case_number},
                           {"missing_materials", p.state.missing_materials},
                           {"note", p.state.note},
                           {"clock", nullptr}};
    if (p.child) {
      part["status"] = CaseStatusCode(p.child->state.status);
      part["clock"] = ClockToJson(p.child->clock);
      part["decision"] = p.child->state.decision
                             ? nlohmann::json(DecisionName(*p.child->state.decision))
                             : nlohmann::json(nullptr);
    }
    parts.push_back(part);
  }
  j["parts"] = parts;
  j["correction_notice"] = {{"materials", v.correction}};
  nlohmann::json stages = nlohmann::json::array();
  for (const BundleStageClock& stage : v.stages) {
    stages.push_back({{"id", stage.id},
                      {"title", stage.title},
                      {"promised_days", stage.promised_days},
                      {"unit", DayUnitName(stage.unit)},
                      {"started", stage.started},
                      {"stopped", stage.stopped},
                      {"due", stage.due ? nlohmann::json(FormatIsoDay(*stage.due)) : nullptr},
                      {"due_provisional", stage.due_provisional},
                      {"days_left", stage.started ? nlohmann::json(stage.days_left) : nullptr},
                      {"light", LightName(stage.light)}});
  }
  j["clock"] = {
      {"promised_due", v.promised_due ? nlohmann::json(FormatIsoDay(*v.promised_due)) : nullptr},
      {"promised_due_provisional", v.promised_due_provisional},
      {"promised_days_left", v.promised_due ? nlohmann::json(v.promised_days_left) : nullptr},
      {"promised_unit", DayUnitName(v.bundle->promised_unit)},
      {"stages", stages},
      {"provisional", v.provisional},
      {"light", LightName(v.light)}};
  j["as_of"] = FormatTimestamp(v.as_of);
  return j;
}

}  // namespace tongban
