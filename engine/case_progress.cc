#include "engine/case_progress.h"

#include <map>
#include <utility>

#include "workflows/frame_actions.h"

namespace tongban {

std::string ActionTitle(const Item& item, const std::string& action, const std::string& step_id) {
  // The table's reserved rows too: "submit" (申请) is every case's first event.
  for (const FrameActionSpec& spec : FrameActionTable()) {
    if (spec.id == action) return spec.title;
  }
  if (const Step* step = item.FindStep(step_id)) {
    if (const Action* a = step->FindAction(action)) return a->title.empty() ? action : a->title;
  }
  for (const Step& step : item.steps) {
    if (const Action* a = step.FindAction(action)) return a->title.empty() ? action : a->title;
  }
  return action;
}

namespace {

std::string TextOf(const nlohmann::json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : "";
}

// The last event recording `action`, or null.
const Event* LastEvent(const std::vector<Event>& events, const std::string& action) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->action == action) return &*it;
  }
  return nullptr;
}

// When the case last changed into its current status, from its history.
std::optional<Instant> EnteredStatusAt(const std::vector<Event>& events, const std::string& code) {
  std::optional<Instant> at;
  std::string previous;
  for (const Event& e : events) {
    if (e.status != previous && e.status == code) at = e.time;
    previous = e.status;
  }
  return at;
}

// Who acted, as the public may be told: the applicant's side, an organ (by name), or the engine.
void DescribeActor(const Actor& actor, const CaseView& view, const DefinitionRegistry& registry,
                   ProgressEntry* entry) {
  if (actor.id == Actor::System().id) {
    entry->by = "system";
  } else if (actor.role == "applicant" || actor.role == "agent") {
    entry->by = "applicant";
  } else {
    entry->by = "organ";
    entry->organ = actor.organ == view.item->organ.id ? view.item->organ.name
                                                      : registry.OrganName(actor.organ);
  }
}

// The review steps' last entry and exit times, from each event's step after it.
struct StepTimes {
  std::map<std::string, Instant> entered;
  std::map<std::string, Instant> left;
};
StepTimes ReviewStepTimes(const std::vector<Event>& events) {
  StepTimes times;
  std::string previous;
  for (const Event& e : events) {
    if (e.step == previous) continue;
    if (!previous.empty()) times.left[previous] = e.time;
    if (!e.step.empty()) times.entered[e.step] = e.time;
    previous = e.step;
  }
  return times;
}

std::vector<ProgressStep> Steps(const CaseView& view, const std::vector<Event>& events,
                                const DefinitionRegistry& registry) {
  const CaseState& s = view.state;
  const Item& item = *view.item;
  const std::string& organ = item.organ.name;
  const bool ended_undecided = !s.decided_at && IsFinal(s.status);
  std::vector<ProgressStep> steps;

  std::string receiving = s.received_by.empty() ? organ : registry.OrganName(s.received_by);
  steps.push_back({"frame",
                   "submit",
                   ActionTitle(item, "submit"),
                   receiving.empty() ? organ : receiving,
                   {},
                   "done",
                   std::nullopt,
                   s.created_at});

  ProgressStep accept{"frame",      "accept",    ActionTitle(item, "accept"), organ, {}, "pending",
                      std::nullopt, std::nullopt};
  if (s.accepted_at) {
    accept.state = "done";
    accept.time = s.accepted_at;
  } else if (s.status == CaseStatus::kSubmitted || s.status == CaseStatus::kCorrectionPending) {
    accept.state = "current";
  } else {
    accept.state = "skipped";
  }
  steps.push_back(accept);

  const StepTimes times = ReviewStepTimes(events);
  const bool past_review = s.accepted_at && s.status != CaseStatus::kUnderReview;
  for (const Step& step : item.steps) {
    ProgressStep out{"review", step.id,   step.title,   organ,
                     {},       "pending", std::nullopt, std::nullopt};
    for (const JointParty& party : step.parties) {
      std::string name = party.organ.name.empty() ? organ : party.organ.name;
      out.party_organs.push_back(name);
    }
    auto entered = times.entered.find(step.id);
    if (entered != times.entered.end()) out.entered_at = entered->second;
    if (view.step_id == step.id) {
      out.state = "current";
    } else if (entered != times.entered.end()) {
      out.state = "done";
      auto left = times.left.find(step.id);
      if (left != times.left.end()) out.time = left->second;
    } else if (past_review || ended_undecided) {
      out.state = "skipped";
    }
    steps.push_back(out);
  }

  // The decision is taken in the last review step reached, which the applicant already sees (the
  // shipped items call it 决定 or 许可决定): a second 决定 beside it said the same thing twice.
  // With review steps the frame's entry therefore appears once decided, titled by the outcome; an
  // item without review steps (decided at acceptance) keeps it as the one decision entry.
  if (item.steps.empty() || s.decided_at) {
    ProgressStep decide{"frame", "decide",  "决定",       organ,
                        {},      "pending", std::nullopt, std::nullopt};
    if (s.decided_at) {
      decide.state = "done";
      decide.time = s.decided_at;
      if (s.decision) {
        decide.title = CaseStatusTitle(*s.decision == Decision::kApprove ? CaseStatus::kApproved
                                                                         : CaseStatus::kDenied);
      }
    } else if (ended_undecided) {
      decide.state = "skipped";
    }
    steps.push_back(decide);
  }

  ProgressStep deliver{"frame",      "deliver",   ActionTitle(item, "deliver"),
                       organ,        {},          "pending",
                       std::nullopt, std::nullopt};
  if (s.delivered_at) {
    deliver.state = "done";
    deliver.time = s.delivered_at;
  } else if (s.status == CaseStatus::kApproved || s.status == CaseStatus::kDenied) {
    deliver.state = "current";
  } else if (ended_undecided || s.status == CaseStatus::kRevoked) {
    deliver.state = "skipped";
  }
  steps.push_back(deliver);
  return steps;
}

std::optional<SpecialProcedureProgress> SpecialProcedure(const CaseView& view,
                                                         const std::vector<Event>& events) {
  const CaseState& s = view.state;
  if (!s.paused() || s.status != CaseStatus::kUnderReview) return std::nullopt;
  SpecialProcedureProgress out;
  out.started_at = s.pauses.back().start;
  if (s.suspended) {
    out.kind = "suspension";
    out.title = ActionTitle(*view.item, "suspend");
    if (const Event* e = LastEvent(events, "suspend")) out.reason = TextOf(e->DataJson(), "reason");
    return out;
  }
  const Step* step = view.item->FindStep(view.step_id);
  if (step == nullptr) return std::nullopt;
  out.kind = step->special_procedure.empty() ? "uncounted_step" : step->special_procedure;
  out.title = SpecialProcedureTitle(step->special_procedure);
  if (out.title.empty()) out.title = step->title;
  out.step_title = step->title;
  out.announced_days = step->time_limit_days;
  if (view.clock.step) {
    out.ends_by = view.clock.step->due;
    out.ends_by_provisional = view.clock.step->due_provisional;
    out.days_left = view.clock.step->days_left;
  }
  return out;
}

}  // namespace

std::optional<ProgressReason> ProgressReasonOf(const CaseView& view,
                                               const std::vector<Event>& events) {
  const CaseState& s = view.state;
  ProgressReason reason;
  reason.text = s.decision_reason;
  reason.time = EnteredStatusAt(events, CaseStatusCode(s.status));
  switch (s.status) {
    case CaseStatus::kCorrectionPending: {
      reason.kind = "correction";
      reason.title = "补正告知";
      const Event* notice = LastEvent(events, "request_correction");
      reason.text = notice ? TextOf(notice->DataJson(), "reason") : "";
      if (notice) reason.time = notice->time;
      return reason;
    }
    case CaseStatus::kNotAccepted:
      reason.kind = "refusal";
      reason.title = CaseStatusTitle(s.status);
      return reason;
    case CaseStatus::kTerminated:
      reason.kind = "termination";
      reason.title = ActionTitle(*view.item, "terminate");
      return reason;
    case CaseStatus::kRevoked:
      reason.kind = "revocation";
      reason.title = ActionTitle(*view.item, "revoke");
      return reason;
    case CaseStatus::kDenied:
    case CaseStatus::kClosed:
      if (s.decision != Decision::kDeny) return std::nullopt;
      reason.kind = "denial";
      reason.title = CaseStatusTitle(CaseStatus::kDenied);
      reason.time = s.decided_at;
      return reason;
    default:
      return std::nullopt;
  }
}

std::vector<std::optional<ProgressReason>> BundlePartReasons(const BundleView& bundle,
                                                             CaseService& service) {
  std::vector<std::optional<ProgressReason>> reasons;
  for (const BundlePartView& part : bundle.parts) {
    if (!part.child || !ProgressReasonOf(*part.child, {})) {
      reasons.emplace_back();
      continue;
    }
    std::vector<Event> events;
    if (auto history = service.History(part.child->state.id); history.ok()) {
      events = std::move(history).value();
    }
    reasons.push_back(ProgressReasonOf(*part.child, events));
  }
  return reasons;
}

CaseProgress ComputeProgress(const CaseView& view, const std::vector<Event>& events,
                             const DefinitionRegistry& registry) {
  CaseProgress progress;
  progress.steps = Steps(view, events, registry);
  std::string last_status;
  std::string step_before;  // an event records the step after it; its action was the one before's
  for (const Event& e : events) {
    const std::string acted_in = std::exchange(step_before, e.step);
    if (e.status == last_status) continue;
    last_status = e.status;
    ProgressEntry entry;
    entry.time = e.time;
    entry.status = e.status;
    entry.action = e.action;
    entry.action_title = ActionTitle(*view.item, e.action, acted_in);
    DescribeActor(e.actor, view, registry, &entry);
    progress.timeline.push_back(std::move(entry));
  }
  progress.reason = ProgressReasonOf(view, events);
  progress.special_procedure = SpecialProcedure(view, events);
  return progress;
}

}  // namespace tongban
