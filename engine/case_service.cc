#include "engine/case_service.h"

#include "engine/action_provenance.h"
#include "engine/case_ids.h"
#include "engine/decision_document.h"
#include "engine/indicators.h"
#include "engine/snapshot_codec.h"
#include "workflows/json_document.h"
#include "workflows/sha256.h"

#include <algorithm>

namespace tongban {

Event MakeCaseEvent(const CaseLifecycle& lifecycle, const Command& command, int64_t seq,
                    const std::string& prev_hash, const std::string& idempotency_key) {
  const CaseState& s = lifecycle.state();
  return ChainedEvent(command, s.id, seq, CaseStatusCode(s.status), lifecycle.step_id(),
                      s.definition_id, s.definition_version, prev_hash, idempotency_key);
}

namespace {

// Applies timers that are due at `now`, appending their system events to `events`.
void ApplyDueTimers(CaseLifecycle* lifecycle, Instant now, std::vector<Event>* events, int64_t* seq,
                    std::string* last_hash) {
  for (int guard = 0; guard < 4; ++guard) {
    std::optional<Timer> timer = NextTimer(lifecycle->item(), lifecycle->state(), now);
    if (!timer || timer->due > now) return;
    Command command;
    command.action = timer->action;
    command.actor = Actor::System();
    command.time = std::max(timer->due, lifecycle->state().updated_at);
    command.data = {{"due", FormatTimestamp(timer->due)}};
    if (!lifecycle->Apply(command).ok()) return;
    Event e = MakeCaseEvent(*lifecycle, command, ++*seq, *last_hash, "");
    *last_hash = e.hash;
    events->push_back(std::move(e));
  }
}

}  // namespace

nlohmann::json CaseViewToJson(const CaseView& v) {
  nlohmann::json j = CaseStateToJson(v.state, v.item.get());
  j["clock"] = ClockToJson(v.clock);
  j["as_of"] = FormatTimestamp(v.as_of);
  return j;
}

Result<ReplayResult> ReplayEvents(const std::vector<Event>& events,
                                  const DefinitionRegistry& registry, std::optional<Instant> at) {
  if (events.empty()) return Status::NotFound("the case has no events");
  const Event& first = events.front();
  auto item = registry.FindItem(first.definition_id, first.definition_version);
  if (!item && registry.FindBundle(first.definition_id, first.definition_version)) {
    return Status::FailedPrecondition("case " + first.case_id +
                                      " is a bundle case (一件事); read it as a bundle");
  }
  if (!item) {
    return Status::DataLoss("the case's definition " + first.definition_id + " v" +
                            std::to_string(first.definition_version) + " is not deployed");
  }
  ReplayResult result;
  result.lifecycle = std::make_unique<CaseLifecycle>(item);
  for (const Event& e : events) {
    if (at && e.time > *at) break;
    Command command = CommandFromEvent(e);
    Status status =
        e.seq == 1 ? result.lifecycle->Submit(command) : result.lifecycle->Apply(command);
    if (!status.ok()) {
      return Status::DataLoss("event " + std::to_string(e.seq) + " (" + e.action +
                              ") does not replay: " + status.message());
    }
    const CaseState& s = result.lifecycle->state();
    if (e.status != CaseStatusCode(s.status) || e.step != result.lifecycle->step_id()) {
      return Status::DataLoss("event " + std::to_string(e.seq) + " (" + e.action + ") records " +
                              e.status + "/" + e.step + " but replays to " +
                              CaseStatusCode(s.status) + "/" + result.lifecycle->step_id());
    }
    // The machine does not know about the chain; keep its bookkeeping in step with the log.
    const_cast<CaseState&>(s).version = e.seq;
    const_cast<CaseState&>(s).last_hash = e.hash;
    ++result.applied;
  }
  if (result.applied == 0) return Status::NotFound("the case did not exist at that time");
  return result;
}

CaseView CaseService::MakeView(const CaseLifecycle& lifecycle, Instant now) const {
  return MakeCaseView(lifecycle.state(), lifecycle.item_ptr(), now);
}

CaseView MakeCaseView(CaseState state, std::shared_ptr<const Item> item, Instant now) {
  CaseView view;
  view.state = std::move(state);
  view.item = std::move(item);
  if (view.state.step && *view.state.step < view.item->steps.size()) {
    view.step_id = view.item->steps[*view.state.step].id;
  }
  view.clock = ComputeClock(*view.item, view.state, now);
  view.as_of = now;
  return view;
}

Result<nlohmann::json> ActRequest::CommandData() const {
  nlohmann::json out = data.is_null() ? nlohmann::json::object() : data;
  if (!out.is_object())
    return Status::InvalidArgument("data must be an object").WithPointer("/data");
  if (comment.empty()) return out;
  auto given = out.find("comment");
  if (given != out.end() && *given != comment) {
    return Status::InvalidArgument(
               "the comment is given twice, as comment and as data.comment, differently: give "
               "it once")
        .WithPointer("/comment");
  }
  out["comment"] = comment;
  return out;
}

CaseWrite MakeCaseWrite(const CaseLifecycle& lifecycle, int64_t expected_version,
                        std::vector<Event> events, Instant now) {
  const CaseState& s = lifecycle.state();
  CaseWrite write = CaseWriteFor(
      s, CaseStatusCode(s.status), lifecycle.step_id(), expected_version, std::move(events),
      [&](const CaseState& state) { return EncodeCaseSnapshot(state, lifecycle.item()); });
  if (auto timer = NextTimer(lifecycle.item(), s, now)) write.record.next_timer_at = timer->due;
  LightChanges lights = NextLightChanges(lifecycle.item(), s, now);
  write.record.yellow_at = lights.yellow_at;
  write.record.red_at = lights.red_at;
  write.record.facts = FactsOf(lifecycle.item(), s);
  for (const Event& e : write.events) {
    // Stored data is canonical (sorted keys, no spaces): most events are told apart without
    // parsing them.
    if (e.data.find("\"basis\":\"delegation\"") == std::string::npos) continue;
    const nlohmann::json data = ParseStoredData(e.data);
    auto authority = data.find("authority");
    if (authority == data.end() || !authority->is_object()) continue;
    auto delegation = authority->find("delegation");
    if (authority->value("basis", "") == "delegation" && delegation != authority->end() &&
        delegation->is_string()) {
      write.delegations.emplace_back(e.seq, delegation->get<std::string>());
    }
  }
  return write;
}

namespace {

// Keys of an action's data that only the engine writes.
const char* const kEngineDataKeys[] = {
    "authority",  "on_behalf_of", "mandate",          "reception", "bundle",
    "actor_name", "channel",      "actor_organ_name", "visits",    "decision_document"};

Status RefuseEngineKeys(const nlohmann::json& data) {
  if (!data.is_object()) return Status::Ok();
  for (const char* key : kEngineDataKeys) {
    if (data.contains(key)) {
      return Status::InvalidArgument(std::string("data.") + key +
                                     " is recorded by the engine and may not be sent")
          .WithPointer(JoinJsonPointer("/data", key));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CaseService::AuthorizeSubmission(const Item& item, const NewCase& request, Instant now,
                                        nlohmann::json* data) {
  const Actor& actor = request.actor;
  if (actor.role == "applicant") {
    // nothing to check: an applicant applies for itself
  } else if (actor.role == "agent") {
    auto mandate = registers_->MandateFor(request.applicant_id, actor.id, item.id, now);
    if (!mandate.ok()) return mandate.status();
    if (!*mandate) {
      return Status::PermissionDenied("agent " + actor.id + " holds no mandate in force from " +
                                      request.applicant_id + " for " + item.id +
                                      " (帮办代办授权); the applicant grants one first");
    }
    (*data)["on_behalf_of"] = request.applicant_id;
    (*data)["mandate"] = (*mandate)->id;
  } else if (actor.role == "clerk") {
    auto authority = registers_->Authorize(item, CaseState{}, actor.organ, {Power::kAccept}, now);
    if (authority.ok()) {
      (*data)["authority"] = *authority;
    } else if (auto agreement = registers_->AgreementFor(item, actor.organ, now)) {
      // 收受分离: this window receives for the handling organ and transfers the case there.
      (*data)["reception"] = {{"organ", actor.organ}, {"agreement", agreement->id}};
      (*data)["authority"] = {
          {"organ", actor.organ}, {"basis", "handling_agreement"}, {"agreement", agreement->id}};
    } else {
      return authority.status();
    }
  } else {
    return Status::PermissionDenied(
        "a case is submitted by an applicant, by a clerk at the window on an applicant's behalf, "
        "or by an agent holding the applicant's mandate");
  }
  if (request.mode == "commitment") {
    auto blocking =
        registers_->BlockingCreditRecords(request.applicant_credit_code, request.applicant_id);
    if (!blocking.ok()) return blocking.status();
    if (!blocking->empty()) {
      const CreditRecord& r = blocking->front();
      return Status::PermissionDenied(
          "commitment-based approval (告知承诺) is not available to this applicant: credit "
          "record " +
          r.id + " (a false commitment on case " + r.case_number + ", recorded " +
          FormatTimestamp(r.recorded_at) + ": " + r.reason +
          ") blocks it until a repair is recorded (信用修复); apply in standard mode instead");
    }
  }
  return Status::Ok();
}

std::string CaseService::BundleDefinitionOf(const CaseState& state) {
  if (!state.is_bundle_child()) return "";
  auto parent = store_->GetCase(state.bundle_case_id);
  return parent.ok() && *parent ? (*parent)->definition_id : std::string();
}

Status CaseService::AuthorizeCommand(const CaseLifecycle& lifecycle, Command* c) {
  return permissions_->AuthorizeCommand(lifecycle.item(), lifecycle.state(),
                                        BundleDefinitionOf(lifecycle.state()), c);
}

bool CaseService::MaySee(const Principal& p, const CaseState& state) {
  return permissions_->MaySee(p, state, BundleDefinitionOf(state));
}

bool CaseService::MaySeeBundle(const Principal& p, const BundleState& state) {
  std::vector<CaseState> parts;
  for (const BundlePartState& part : state.parts) {
    if (part.case_id.empty()) continue;
    auto child = Get(part.case_id);
    if (child.ok()) parts.push_back(std::move(child->state));
  }
  return permissions_->MaySeeBundle(p, state, parts);
}

Result<CaseView> CaseService::GetFor(const Principal& p, const std::string& case_id) {
  auto view = Get(case_id);
  if (!view.ok()) return view.status();
  if (!MaySee(p, view->state)) return Status::NotFound("no case " + case_id);
  return view;
}

Result<CaseView> CaseService::GetFor(const Principal& p, const CaseRecord& record) {
  auto view = ViewOfRecord(record);
  if (!view.ok()) return view.status();
  if (!MaySee(p, view->state)) return Status::NotFound("no case " + record.id);
  return view;
}

Result<CaseRecord> CaseService::Read(const std::string& case_id) {
  auto record = store_->GetCase(case_id);
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound("no case " + case_id);
  return std::move(**record);
}

std::optional<int64_t> CaseService::CachedVisibleVersion(const Principal& p,
                                                         const std::string& case_id) {
  std::optional<CaseState> cached = cache_->Latest(case_id);
  if (!cached || !MaySee(p, *cached)) return std::nullopt;
  return cached->version;
}

Result<BundleView> CaseService::GetBundleFor(const Principal& p, const std::string& case_id) {
  auto view = GetBundle(case_id);
  if (!view.ok()) return view.status();
  if (!MaySeeBundle(p, view->state)) return Status::NotFound("no case " + case_id);
  return view;
}

Result<std::string> CaseService::VisitVisible(const Principal& p, CaseFilter filter,
                                              const std::string& light, int max_pages,
                                              const std::function<bool(ListedCase)>& visit) {
  std::string next;
  bool stopped = false;
  for (int round = 0; round < max_pages && !stopped; ++round) {
    auto records = store_->ListCases(filter);
    if (!records.ok()) return records.status();
    for (const CaseRecord& r : *records) {
      next = r.id;
      ListedCase listed;
      if (registry_->FindBundle(r.definition_id, r.definition_version)) {
        auto bundle = GetBundle(r.id);
        if (!bundle.ok() || !MaySeeBundle(p, bundle->state)) continue;
        if (!light.empty() && LightName(bundle->light) != light) continue;
        listed.bundle = std::move(*bundle);
      } else {
        auto view = Get(r.id);
        if (!view.ok() || !MaySee(p, view->state)) continue;
        if (!light.empty() && LightName(view->clock.light) != light) continue;
        listed.item = std::move(*view);
      }
      if (!visit(std::move(listed))) {
        stopped = true;
        break;
      }
    }
    if (static_cast<int>(records->size()) < filter.limit) {
      if (!stopped) next.clear();
      break;
    }
    filter.after_id = next;
  }
  return next;
}

Result<CaseListPage> CaseService::ListFor(const Principal& p, CaseFilter filter,
                                          const std::string& light) {
  CaseListPage page;
  if (!Permissions::NarrowToScope(p, &filter)) return page;
  const int limit = filter.limit;
  auto next = VisitVisible(p, filter, light, /*max_pages=*/20, [&](ListedCase listed) {
    page.cases.push_back(std::move(listed));
    return static_cast<int>(page.cases.size()) < limit;
  });
  if (!next.ok()) return next.status();
  page.next_cursor = *next;
  return page;
}

Result<CaseCounts> CaseService::CountFor(const Principal& p, CaseFilter filter,
                                         const std::string& light) {
  CaseCounts counts;
  for (Light l : {Light::kGreen, Light::kYellow, Light::kRed})
    counts.by_light[LightName(l)] = 0;
  if (!Permissions::NarrowToScope(p, &filter)) return counts;
  filter.after_id.clear();
  filter.limit = 500;
  auto next =
      VisitVisible(p, filter, light, kMaxCountedCases / filter.limit, [&](ListedCase listed) {
        if (listed.bundle) {
          const BundleView& b = *listed.bundle;
          ++counts.by_status[b.state.Status()];
          ++counts.by_light[LightName(b.light)];
          ++counts.by_definition[b.state.definition_id];
          ++counts.by_organ[b.state.organ_id];
          counts.definition_titles[b.state.definition_id] = b.bundle->title;
          counts.organ_names[b.state.organ_id] = b.bundle->lead_organ.name;
        } else {
          const CaseView& v = *listed.item;
          ++counts.by_status[CaseStatusCode(v.state.status)];
          ++counts.by_light[LightName(v.clock.light)];
          ++counts.by_definition[v.state.definition_id];
          ++counts.by_organ[v.state.organ_id];
          counts.definition_titles[v.state.definition_id] = v.item->title;
          counts.organ_names[v.state.organ_id] = v.state.organ_id == v.item->organ.id
                                                     ? v.item->organ.name
                                                     : registry_->OrganName(v.state.organ_id);
        }
        ++counts.total;
        return true;
      });
  if (!next.ok()) return next.status();
  counts.complete = next->empty();
  return counts;
}

std::vector<OfferedAction> CaseService::OfferedActions(const Principal& p, const CaseView& view) {
  return permissions_->Offered(p, *view.item, view.state, BundleDefinitionOf(view.state),
                               view.as_of);
}

std::vector<OfferedAction> CaseService::OfferedActions(const Principal& p, const BundleView& view) {
  return permissions_->OfferedOnBundle(p, view.state, view.correction, view.as_of);
}

Result<StoreWrite> CaseService::WriteWithFollowups(const CaseLifecycle& lifecycle,
                                                   const CaseState& before, int64_t version,
                                                   std::vector<Event> events, Instant now) {
  StoreWrite write;
  write.cases.push_back(MakeCaseWrite(lifecycle, version, std::move(events), now));
  const CaseState& after = lifecycle.state();
  if (after.verification == Verification::kBreached &&
      before.verification != Verification::kBreached) {
    write.ledger.push_back(Registers::CreditRecordEntry(
        after, after.decision_reason, write.cases.back().events.back().actor, after.updated_at));
  }
  if (after.is_bundle_child()) {
    TONGBAN_RETURN_IF_ERROR(AddBundleFollowups(lifecycle, before, now, &write));
  }
  return write;
}

Result<CaseView> CaseService::Create(const NewCase& request) {
  if (!request.idempotency_key.empty()) {
    auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
    if (!hit.ok()) return hit.status();
    if (*hit) return ViewAtSeq((*hit)->case_id, (*hit)->seq);
  }
  auto item = registry_->FindItem(request.definition_id, request.definition_version);
  if (!item) {
    return Status::NotFound("no deployed item \"" + request.definition_id + "\"" +
                            (request.definition_version > 0
                                 ? " version " + std::to_string(request.definition_version)
                                 : std::string()));
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    Instant now = clock_->Now();
    nlohmann::json engine_data = nlohmann::json::object();
    TONGBAN_RETURN_IF_ERROR(AuthorizeSubmission(*item, request, now, &engine_data));
    RecordProvenance(request.actor, "submit", *registry_, &engine_data);
    Command submit;
    submit.action = "submit";
    submit.actor = request.actor;
    submit.time = now;
    submit.data = {{"case",
                    {{"id", NewCaseId(now)},
                     {"number", NewCaseNumber(*item->time_limits.calendar, now)},
                     {"query_code", NewQueryCode()}}},
                   {"applicant",
                    {{"id", request.applicant_id},
                     {"name", request.applicant_name},
                     {"credit_code", request.applicant_credit_code}}},
                   {"form", request.form},
                   {"materials", request.materials},
                   {"mode", request.mode}};
    if (!request.commitment.is_null()) submit.data["commitment"] = request.commitment;
    for (const auto& [key, value] : engine_data.items())
      submit.data[key] = value;
    auto machine = std::make_unique<CaseLifecycle>(item);
    CaseLifecycle& lifecycle = *machine;
    TONGBAN_RETURN_IF_ERROR(lifecycle.Submit(submit));
    std::vector<Event> events;
    events.push_back(MakeCaseEvent(lifecycle, submit, 1, kGenesisHash, request.idempotency_key));
    const std::string hash = events.back().hash;
    CaseWrite write = MakeCaseWrite(lifecycle, 0, std::move(events), now);
    Status status = Commit(std::move(write));
    if (status.ok()) {
      CaseView view = MakeView(lifecycle, now);
      view.state.version = 1;
      view.state.last_hash = hash;
      CheckIn(std::move(machine), 1, hash);
      return view;
    }
    if (status.code() == StatusCode::kAlreadyExists && !request.idempotency_key.empty()) {
      auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
      if (hit.ok() && *hit) return ViewAtSeq((*hit)->case_id, (*hit)->seq);
    }
    if (status.code() != StatusCode::kAlreadyExists && status.code() != StatusCode::kAborted) {
      return status;
    }
    // A case number or id collided (rare): draw new ones.
  }
  return Status::Unavailable("could not allocate a case number; try again");
}

Result<CaseView> CaseService::ViewAtSeq(const std::string& case_id, int64_t seq) {
  auto events = store_->GetEvents(case_id, seq);
  if (!events.ok()) return events.status();
  auto replayed = ReplayEvents(*events, *registry_);
  if (!replayed.ok()) return replayed.status();
  return MakeView(*replayed->lifecycle, events->back().time);
}

Result<CaseView> CaseService::Act(const ActRequest& sent) {
  // Idempotency keys are the caller's; its role is chosen in ActOnce.
  ActRequest resolved;
  if (sent.caller != nullptr) {
    resolved = sent;
    resolved.actor = ActorFor(*sent.caller, "");
  }
  const ActRequest& request = sent.caller != nullptr ? resolved : sent;
  for (int attempt = 0; attempt < 8; ++attempt) {
    // Checked on every attempt: when a write was aborted, the request that beat it may have been
    // this very request, sent twice concurrently; its result is the answer.
    if (!request.idempotency_key.empty()) {
      auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
      if (!hit.ok()) return hit.status();
      if (*hit) {
        if ((*hit)->case_id != request.case_id) {
          return Status::InvalidArgument("this Idempotency-Key was already used for another case");
        }
        return ViewAtSeq((*hit)->case_id, (*hit)->seq);
      }
    }
    bool retry = false;
    // The caller's record stands for the store only until a write is aborted.
    Result<CaseView> result = ActOnce(request, attempt == 0 ? request.read : nullptr, &retry);
    if (!result.ok() && !retry && !request.idempotency_key.empty()) {
      // The same request sent twice at once: the twin may have committed between the key check
      // above and this attempt's read, and this attempt then saw the action already taken and
      // refused it. The twin's outcome is the answer.
      auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
      if (hit.ok() && *hit && (*hit)->case_id == request.case_id) {
        return ViewAtSeq((*hit)->case_id, (*hit)->seq);
      }
    }
    if (!retry) return result;
  }
  return Status::Aborted("the case kept changing under this action; try again");
}

Result<CaseService::OpenCase> CaseService::Checkout(const std::string& case_id,
                                                    const CaseRecord* read) {
  std::optional<int64_t> stored_version;
  if (read != nullptr && read->id == case_id) {
    stored_version = read->version;
  } else {
    auto record = store_->GetCase(case_id);
    if (!record.ok()) return record.status();
    if (*record) stored_version = (*record)->version;
  }
  OpenCase open;
  if (stored_version) {
    open.lifecycle = cache_->Take(case_id, *stored_version);
    if (open.lifecycle) {
      open.version = *stored_version;
      open.last_hash = open.lifecycle->state().last_hash;
      return open;
    }
  }
  auto events = store_->GetEvents(case_id);
  if (!events.ok()) return events.status();
  if (events->empty()) return Status::NotFound("no case " + case_id);
  auto replayed = ReplayEvents(*events, *registry_);
  if (!replayed.ok()) return replayed.status();
  open.lifecycle = std::move(replayed->lifecycle);
  open.version = events->back().seq;
  open.last_hash = events->back().hash;
  return open;
}

void CaseService::CheckIn(std::unique_ptr<CaseLifecycle> lifecycle, int64_t version,
                          const std::string& last_hash) {
  // The machine does not know about the chain; keep its bookkeeping in step with the log.
  auto& state = const_cast<CaseState&>(lifecycle->state());
  state.version = version;
  state.last_hash = last_hash;
  std::string id = state.id;
  cache_->Put(id, version, std::move(lifecycle));
}

namespace {

// What a machine is, as far as any action can tell: its state and its active states. Taken on
// every action but compared only after a refusal, so the state is copied, and encoded only then.
// `same` is a copy of the machine's state already taken (then not copied again), or null.
class MachineMark {
 public:
  MachineMark(const CaseLifecycle& l, const CaseState* same)
      : copy_(same ? std::nullopt : std::optional<CaseState>(l.state())),
        state_(same ? *same : *copy_),
        active_(l.ActiveStates()) {}
  // Whether `l` is still exactly as marked.
  bool Unchanged(const CaseLifecycle& l) const {
    return active_ == l.ActiveStates() &&
           EncodeCaseSnapshot(state_, l.item()) == EncodeCaseSnapshot(l.state(), l.item());
  }

 private:
  std::optional<CaseState> copy_;
  const CaseState& state_;
  std::vector<std::string> active_;
};

}  // namespace

Result<CaseView> CaseService::ActOnce(const ActRequest& request, const CaseRecord* read,
                                      bool* retry) {
  auto open = Checkout(request.case_id, read);
  if (!open.ok()) return open.status();
  std::unique_ptr<CaseLifecycle> machine = std::move(open->lifecycle);
  CaseLifecycle& lifecycle = *machine;
  const int64_t version = open->version;
  // A refusal decided on the caller's record (ActRequest::read) stands only while the store still
  // holds that version; otherwise the action is decided again on the case as it is stored.
  auto read_went_stale = [&] {
    if (read == nullptr) return false;
    auto stored = store_->GetCase(request.case_id);
    return stored.ok() && *stored && (*stored)->version != version;
  };
  if (request.expected_version && *request.expected_version != version) {
    CheckIn(std::move(machine), version, open->last_hash);
    if (read_went_stale()) *retry = true;
    return Status::Aborted("the case is at version " + std::to_string(version) + ", not " +
                           std::to_string(*request.expected_version));
  }
  if (request.caller != nullptr && !IsCallableAction(lifecycle.item(), request.action)) {
    CheckIn(std::move(machine), version, open->last_hash);
    return Status::InvalidArgument("\"" + request.action +
                                   "\" is not an action of this case's definition")
        .WithReason("unknown-action");
  }
  Instant now = std::max(clock_->Now(), lifecycle.state().updated_at);
  if (Status refused = RefuseEngineKeys(request.data); !refused.ok()) {
    CheckIn(std::move(machine), version, open->last_hash);
    return refused;
  }
  if (Status refused = CheckDocumentRefs(request.case_id, request.data); !refused.ok()) {
    CheckIn(std::move(machine), version, open->last_hash);
    return refused;
  }
  if (request.caller != nullptr) {
    Status refused = Permissions::CheckDataMembers(lifecycle.item(), lifecycle.state(),
                                                   request.action, request.data);
    if (!refused.ok()) {
      CheckIn(std::move(machine), version, open->last_hash);
      return refused;
    }
  }
  const CaseState before = lifecycle.state();
  std::vector<Event> new_events;
  int64_t seq = version;
  std::string last_hash = open->last_hash;
  ApplyDueTimers(&lifecycle, now, &new_events, &seq, &last_hash);
  Command command;
  command.action = request.action;
  command.actor = request.actor;
  command.time = now;
  auto data = request.CommandData();
  if (data.ok()) command.data = std::move(data).value();
  // A refusal may come after the machine changed part of its state: it is then dropped. Without
  // due timers the machine is still as `before` holds it.
  const MachineMark mark(lifecycle, new_events.empty() ? &before : nullptr);
  Status applied = data.status();
  if (applied.ok() && request.caller != nullptr) {
    // The role is chosen on the case as it stands now, not as the caller last saw it: a lost race
    // is then "not available" (409), not "taken by another role".
    auto actor = permissions_->ResolveActor(*request.caller, lifecycle.item(), lifecycle.state(),
                                            request.action, command.data);
    if (actor.ok()) {
      command.actor = *actor;
    } else {
      applied = actor.status();
    }
  }
  if (applied.ok()) applied = AuthorizeCommand(lifecycle, &command);
  if (applied.ok()) RecordProvenance(command.actor, command.action, *registry_, &command.data);
  if (applied.ok()) applied = lifecycle.Apply(command);
  if (!applied.ok()) {
    const bool untouched = mark.Unchanged(lifecycle);
    if (read_went_stale()) {
      if (untouched && new_events.empty()) CheckIn(std::move(machine), version, open->last_hash);
      *retry = true;
      return applied;
    }
    if (new_events.empty()) {
      if (untouched) CheckIn(std::move(machine), version, open->last_hash);
      return applied;
    }
    // A refused action still lets due timers be recorded, so the case reflects the law's time.
    std::unique_ptr<CaseLifecycle> timed;
    std::vector<Event> timer_events;
    int64_t timer_seq = version;
    std::string timer_hash = open->last_hash;
    if (untouched) {
      timed = std::move(machine);  // exactly the timers applied
      timer_events = std::move(new_events);
      timer_seq = seq;
      timer_hash = last_hash;
    } else if (auto events = store_->GetEvents(request.case_id); events.ok()) {
      if (auto rebuilt = ReplayEvents(*events, *registry_);
          rebuilt.ok() && events->back().seq == version) {
        timed = std::move(rebuilt->lifecycle);
        ApplyDueTimers(timed.get(), now, &timer_events, &timer_seq, &timer_hash);
      }
    }
    if (timed) {
      auto write = WriteWithFollowups(*timed, before, version, std::move(timer_events), now);
      if (write.ok() && Commit(std::move(write).value()).ok()) {
        CheckIn(std::move(timed), timer_seq, timer_hash);
      }
    }
    return applied;
  }
  // The decision document is written from the decided state and named by the decision's own
  // event, so the chain covers its bytes; it is stored in the same transaction.
  std::optional<DocumentRecord> decision_document;
  if (!before.decision && lifecycle.state().decision && command.data.is_object()) {
    DocumentRecord d;
    d.case_id = request.case_id;
    d.content = RenderDecisionDocument(lifecycle.state(), lifecycle.item());
    d.hash = Sha256Hex(d.content);
    d.media_type = kDecisionDocumentMediaType;
    d.size = static_cast<int64_t>(d.content.size());
    d.name = lifecycle.state().number + "-decision.html";
    d.kind = kDocumentDecision;
    d.attached_at = now;
    d.attached_by = Actor::System().id;
    command.data["decision_document"] = d.hash;
    decision_document = std::move(d);
  }
  new_events.push_back(
      MakeCaseEvent(lifecycle, command, ++seq, last_hash, request.idempotency_key));
  last_hash = new_events.back().hash;
  auto write = WriteWithFollowups(lifecycle, before, version, std::move(new_events), now);
  if (!write.ok()) return write.status();
  if (decision_document) write->documents.push_back(std::move(*decision_document));
  Status committed = Commit(std::move(write).value());
  // From here on a failed write drops the machine: it holds changes the store does not.
  if (committed.code() == StatusCode::kAborted) {
    // Decided on the caller's record, the If-Match check is made again on the stored version.
    if (request.expected_version && read == nullptr) return committed;
    *retry = true;
    return committed;
  }
  if (committed.code() == StatusCode::kAlreadyExists && !request.idempotency_key.empty()) {
    auto hit = store_->FindIdempotencyKey(request.actor.id, request.idempotency_key);
    if (hit.ok() && *hit) return ViewAtSeq((*hit)->case_id, (*hit)->seq);
  }
  if (!committed.ok()) return committed;
  CaseView view = MakeView(lifecycle, now);
  view.state.version = seq;
  view.state.last_hash = last_hash;
  CheckIn(std::move(machine), seq, last_hash);
  return view;
}

Status CaseService::Commit(StoreWrite write) {
  std::vector<TransitionCounter::Key> events = TransitionCounter::KeysOf(write);
  Status committed = store_->Commit(std::move(write));
  if (committed.ok()) transitions_.Count(events);
  return committed;
}

Status CaseService::Commit(CaseWrite write) {
  StoreWrite one;
  one.cases.push_back(std::move(write));
  return Commit(std::move(one));
}

Result<CaseView> CaseService::Get(const std::string& case_id) {
  auto record = store_->GetCase(case_id);
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound("no case " + case_id);
  return ViewOfRecord(**record);
}

Result<CaseView> CaseService::ViewOfRecord(const CaseRecord& record) {
  if (registry_->FindBundle(record.definition_id, record.definition_version)) {
    return Status::FailedPrecondition("case " + record.id +
                                      " is a bundle case (一件事); read it as a bundle");
  }
  auto item = registry_->FindItem(record.definition_id, record.definition_version);
  if (!item) {
    return Status::DataLoss("the case's definition " + record.definition_id + " v" +
                            std::to_string(record.definition_version) + " is not deployed");
  }
  // The live machine at this version holds the state the snapshot decodes to; copying it is
  // cheaper than decoding.
  std::optional<CaseState> cached = cache_->StateAt(record.id, record.version);
  Result<CaseState> state =
      cached ? Result<CaseState>(std::move(*cached)) : DecodeCaseSnapshot(record.snapshot, *item);
  if (!state.ok()) {
    // A snapshot this build cannot read: the events still can.
    auto events = store_->GetEvents(record.id);
    if (!events.ok()) return events.status();
    if (events->empty()) return Status::NotFound("no case " + record.id);
    auto replayed = ReplayEvents(*events, *registry_);
    if (!replayed.ok()) return replayed.status();
    return MakeView(*replayed->lifecycle, std::max(clock_->Now(), events->back().time));
  }
  // The last event's time is the state's updated_at: a read never shows a clock before it.
  Instant now = std::max(clock_->Now(), state->updated_at);
  return MakeCaseView(std::move(state).value(), std::move(item), now);
}

Result<CaseView> CaseService::GetAt(const std::string& case_id, Instant at) {
  auto events = store_->GetEvents(case_id);
  if (!events.ok()) return events.status();
  if (events->empty()) return Status::NotFound("no case " + case_id);
  auto replayed = ReplayEvents(*events, *registry_, at);
  if (!replayed.ok()) return replayed.status();
  return MakeView(*replayed->lifecycle, at);
}

Result<CaseView> CaseService::GetByNumber(const std::string& number) {
  auto record = store_->GetCaseByNumber(number);
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound("no case numbered " + number);
  return ViewOfRecord(**record);
}

Result<std::vector<Event>> CaseService::History(const std::string& case_id) {
  auto events = store_->GetEvents(case_id);
  if (!events.ok()) return events.status();
  if (events->empty()) return Status::NotFound("no case " + case_id);
  return events;
}

Result<CaseView> CaseService::FireTimersFor(const std::string& case_id, int* fired) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto open = Checkout(case_id);
    if (!open.ok()) return open.status();
    std::unique_ptr<CaseLifecycle> machine = std::move(open->lifecycle);
    CaseLifecycle& lifecycle = *machine;
    const int64_t version = open->version;
    Instant now = std::max(clock_->Now(), lifecycle.state().updated_at);
    const CaseState before = lifecycle.state();
    std::vector<Event> new_events;
    int64_t seq = version;
    std::string last_hash = open->last_hash;
    ApplyDueTimers(&lifecycle, now, &new_events, &seq, &last_hash);
    int count = static_cast<int>(new_events.size());
    // Even without events the write reschedules the timer (a pause may have moved the deadline).
    auto write = WriteWithFollowups(lifecycle, before, version, std::move(new_events), now);
    if (!write.ok()) return write.status();
    Status committed = Commit(std::move(write).value());
    if (committed.code() == StatusCode::kAborted) continue;
    if (!committed.ok()) return committed;
    *fired += count;
    CaseView view = MakeView(lifecycle, now);
    view.state.version = seq;
    view.state.last_hash = last_hash;
    CheckIn(std::move(machine), seq, last_hash);
    return view;
  }
  return Status::Aborted("case kept changing while its timers fired");
}

Result<int> CaseService::FireDueTimers(int limit) {
  // Claimed, not only listed: another node on the same database fires the others.
  auto due = store_->ClaimDueTimers(clock_->Now(), limit);
  if (!due.ok()) return due.status();
  int fired = 0;
  Status first_error;
  for (const std::string& id : *due) {
    auto view = FireTimersFor(id, &fired);
    // One broken case (one that no longer replays, say) must not hold up the deadlines of every
    // case due after it: go on, and report the first failure at the end.
    if (!view.ok() && view.status().code() != StatusCode::kAborted && first_error.ok()) {
      first_error = Status(view.status().code(), "case " + id + ": " + view.status().message());
    }
  }
  // Cases written before the store recorded their lights (under review, or granted and awaiting
  // delivery): a write records them (and applies their due timers, as the loop would anyway), a
  // few per round.
  for (LightClock clock : {LightClock::kDecision, LightClock::kDelivery}) {
    auto unknown = store_->CasesWithUnknownLights(limit, clock);
    if (!unknown.ok()) continue;
    for (const std::string& id : *unknown) {
      auto view = FireTimersFor(id, &fired);
      if (!view.ok() && view.status().code() != StatusCode::kAborted && first_error.ok()) {
        first_error = Status(view.status().code(), "case " + id + ": " + view.status().message());
      }
    }
  }
  if (!first_error.ok()) return first_error;
  return fired;
}

Result<LightCounts> CaseService::CountLights(LightClock clock) {
  const Instant now = clock_->Now();
  auto counts = store_->CountLights(now, clock);
  if (!counts.ok()) return counts.status();
  if (counts->unknown == 0) return counts;
  // Cases not yet rewritten since the store began recording lights: computed, a bounded few (the
  // timer loop records them).
  auto unknown = store_->CasesWithUnknownLights(kMaxComputedLights, clock);
  if (!unknown.ok()) return unknown.status();
  for (const std::string& id : *unknown) {
    auto view = Get(id);
    if (!view.ok()) continue;
    --counts->unknown;
    const ClockView computed = ComputeClock(*view->item, view->state, now);
    if (clock == LightClock::kDelivery && !computed.delivery_due) continue;  // nothing to deliver
    const Light light = clock == LightClock::kDelivery ? computed.delivery_light : computed.light;
    (light == Light::kRed      ? counts->red
     : light == Light::kYellow ? counts->yellow
                               : counts->green)++;
  }
  counts->green += counts->unknown;  // beyond the bound: counted green, as before they were seen
  counts->unknown = 0;
  return counts;
}

}  // namespace tongban
