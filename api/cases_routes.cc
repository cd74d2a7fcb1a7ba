// /v1/cases: create, list, get (now or ?at=), act, history, verify. Item cases and bundle cases
// (一件事) share the routes; a bundle id creates a bundle case.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "api/auth.h"
#include "api/case_views.h"
#include "api/handlers.h"
#include "api/http_util.h"

namespace tongban::api {

namespace {

// Refuses with `status`. kDataLoss on a case means its stored history no longer replays (an event
// deleted, altered or reordered): that is answered as the case-damaged problem, naming the case
// and the first bad event as GET /v1/cases/{id}/verify finds them, never as a bare 500.
[[noreturn]] void FailOnCase(const ApiContext& ctx, const std::string& case_id,
                             const Status& status, bool pinned = false) {
  if (status.code() != StatusCode::kDataLoss) Fail(status, pinned);
  VerifyReport report = ctx.service->Verify(case_id);
  Problem p = MakeProblem(500, "case-damaged", "The case's history is damaged",
                          "the stored history of case " + case_id +
                              " is damaged: " + (report.ok ? status.message() : report.reason));
  p.extra["case_id"] = case_id;
  if (report.first_bad_seq) p.extra["first_bad_seq"] = *report.first_bad_seq;
  throw ProblemError{p};
}

// The case if the principal may see it; a 404 otherwise (never a 403 that confirms existence).
CaseView VisibleCase(const ApiContext& ctx, const Principal& p, const std::string& case_id) {
  auto view = ctx.service->GetFor(p, case_id);
  if (!view.ok()) FailOnCase(ctx, case_id, view.status());
  return std::move(view).value();
}

// The same for an item case's record just read (CaseService::Read).
CaseView VisibleCase(const ApiContext& ctx, const Principal& p, const CaseRecord& record) {
  auto view = ctx.service->GetFor(p, record);
  if (!view.ok()) Fail(view.status());
  return std::move(view).value();
}

// The case's stored record, read once for the whole request; a 404 when there is none.
CaseRecord ReadCase(const ApiContext& ctx, const std::string& case_id) {
  auto record = ctx.service->Read(case_id);
  if (!record.ok()) Fail(record.status());
  return std::move(record).value();
}

// The same for a bundle case (一件事).
BundleView VisibleBundle(const ApiContext& ctx, const Principal& p, const std::string& case_id) {
  auto bundle = ctx.service->GetBundleFor(p, case_id);
  if (!bundle.ok()) FailOnCase(ctx, case_id, bundle.status());
  return std::move(bundle).value();
}

// The views with the actions the engine offers `p` now.
nlohmann::json CaseBody(const ApiContext& ctx, const CaseView& view, const Principal& p) {
  return CaseJson(view, p, ctx.service->OfferedActions(p, view));
}
// The same, sent: CaseJsonText writes the bytes of CaseBody without building the json tree.
void SendCase(const ApiContext& ctx, httplib::Response& res, int status, const CaseView& view,
              const Principal& p) {
  res.status = status;
  res.set_content(CaseJsonText(view, p, ctx.service->OfferedActions(p, view)), kJson);
}
nlohmann::json BundleBody(const ApiContext& ctx, const BundleView& view, const Principal& p) {
  return BundleJson(view, ctx.service->OfferedActions(p, view));
}

void CreateBundleCase(const ApiContext& ctx, const Principal& p, NewCase request,
                      httplib::Response& res) {
  auto view = ctx.service->CreateBundle(request);
  if (!view.ok()) Fail(view.status());
  res.set_header("Location", "/v1/cases/" + view->state.id);
  SetVersionETag(res, view->state.version);
  SendJson(res, 201, BundleBody(ctx, *view, p));
}

void ActOnBundleCase(const ApiContext& ctx, const Principal& p, const std::string& id,
                     const nlohmann::json& body, const httplib::Request& req,
                     httplib::Response& res) {
  VisibleBundle(ctx, p, id);
  ActRequest request;
  request.case_id = id;
  request.action = body["action"].get<std::string>();
  request.data = body.value("data", nlohmann::json::object());
  request.comment = body.value("comment", "");
  request.idempotency_key = IdempotencyKey(req);
  if (req.has_header("If-Match")) request.expected_version = IfMatchVersion(req);
  auto actor = Permissions::ResolveBundleActor(p);
  if (!actor.ok()) Fail(actor.status());
  request.actor = *actor;
  auto acted = ctx.service->ActOnBundle(request);
  if (!acted.ok()) FailOnCase(ctx, id, acted.status(), request.expected_version.has_value());
  SetVersionETag(res, acted->state.version);
  SendJson(res, 200, BundleBody(ctx, *acted, p));
}

// History and Verify answer for a case the caller may see, item or bundle.
void RequireVisible(const ApiContext& ctx, const Principal& p, const std::string& id) {
  if (ctx.service->IsBundleCase(id)) {
    VisibleBundle(ctx, p, id);
  } else {
    VisibleCase(ctx, p, id);
  }
}

}  // namespace

void CreateCase(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  nlohmann::json body = ParseBody(req);
  CheckKeys(body,
            {"definition", "version", "form", "materials", "mode", "commitment", "applicant"});
  Expect(body, "definition", IsString, "a definition id (string)", true);
  Expect(body, "version", IsVersion, "a whole number ≥ 1", false);
  Expect(body, "form", IsObject, "an object", false);
  Expect(body, "materials", IsArray, "an array of material ids", false);
  Expect(body, "mode", IsString, "\"standard\" or \"commitment\"", false);
  Expect(body, "commitment", IsObject, "an object", false);
  Expect(body, "applicant", IsObject, "an object {id, name, credit_code}", false);
  NewCase request;
  request.definition_id = body["definition"].get<std::string>();
  request.definition_version = body.value("version", 0);
  request.form = body.value("form", nlohmann::json::object());
  request.materials = body.value("materials", nlohmann::json::array());
  request.mode = body.value("mode", "standard");
  if (body.contains("commitment")) request.commitment = body["commitment"];
  request.idempotency_key = IdempotencyKey(req);
  auto item = ctx.service->registry()->FindItem(request.definition_id, request.definition_version);
  auto bundle =
      item ? nullptr
           : ctx.service->registry()->FindBundle(request.definition_id, request.definition_version);
  if (!item && !bundle)
    Fail(404, "not-found", "Not found", "no definition " + request.definition_id);
  // Who submits (an applicant for itself, a clerk at the window, an agent) is the engine's rule;
  // whether this window may receive or this agent holds a mandate is decided when it submits.
  auto submitter = Permissions::ResolveSubmitter(p);
  if (!submitter.ok()) Fail(submitter.status());
  request.actor = *submitter;
  if (submitter->role == "applicant") {
    if (body.contains("applicant")) {
      Fail(422, "invalid", "The request is not valid",
           "an applicant applies for itself; \"applicant\" is for clerks at the window");
    }
    request.applicant_id = p.id;
    request.applicant_name = p.name;
    request.applicant_credit_code = p.credit_code;
  } else {
    const std::string& role = submitter->role;
    const nlohmann::json applicant = body.value("applicant", nlohmann::json());
    if (!applicant.is_object() || !applicant.contains("id") || !applicant["id"].is_string()) {
      Fail(422, "invalid", "The request is not valid",
           role == "clerk" ? "a clerk registering at the window names the applicant: "
                             "\"applicant\": {id, name, credit_code}"
                           : "an agent names the applicant it acts for: \"applicant\": {id, "
                             "name, credit_code}");
    }
    CheckKeys(applicant, {"id", "name", "credit_code"}, "/applicant");
    request.applicant_id = applicant["id"].get<std::string>();
    request.applicant_name = applicant.value("name", "");
    request.applicant_credit_code = applicant.value("credit_code", "");
    if (!request.applicant_credit_code.empty() &&
        !IsValidCreditCode(request.applicant_credit_code)) {
      Fail(422, "invalid", "The request is not valid",
           "applicant.credit_code is not a valid unified social credit code");
    }
  }
  if (bundle) {
    CreateBundleCase(ctx, p, std::move(request), res);
    return;
  }
  auto view = ctx.service->Create(request);
  if (!view.ok()) Fail(view.status());
  res.set_header("Location", "/v1/cases/" + view->state.id);
  SetVersionETag(res, view->state.version);
  SendCase(ctx, res, 201, *view, p);
}

void GetCase(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  const CaseRecord record = ReadCase(ctx, id);
  if (ctx.service->IsBundle(record)) {
    BundleView bundle = VisibleBundle(ctx, p, id);
    SetVersionETag(res, bundle.state.version);
    SendJson(res, 200, BundleBody(ctx, bundle, p));
    return;
  }
  CaseView view = VisibleCase(ctx, p, record);
  if (req.has_param("at")) {
    auto at = ParseTimestamp(req.get_param_value("at"));
    if (!at) {
      Fail(422, "invalid", "The request is not valid",
           "at must be a timestamp like 2026-03-02T09:00:00+08:00");
    }
    auto past = ctx.service->GetAt(id, *at);
    if (!past.ok()) FailOnCase(ctx, id, past.status());
    view = std::move(past).value();
  }
  SetVersionETag(res, view.state.version);
  SendCase(ctx, res, 200, view, p);
}

void ActOnCase(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"action", "data", "comment"});
  Expect(body, "action", IsString, "an action id (string)", true);
  Expect(body, "data", IsObject, "an object", false);
  Expect(body, "comment", IsString, "a string", false);
  CheckTextLengths(body);  // the comment, and the reason or note in data
  // `known` is the case as last read: its version is where the first attempt starts from.
  auto act = [&](const CaseRecord& known) {
    ActRequest request;
    request.case_id = id;
    request.action = body["action"].get<std::string>();
    request.data = body.value("data", nlohmann::json::object());
    request.comment = body.value("comment", "");
    request.idempotency_key = IdempotencyKey(req);
    if (req.has_header("If-Match")) request.expected_version = IfMatchVersion(req);
    // Which role the principal acts in, and whether it may, is the engine's to decide on the case
    // as it stands when the action is taken.
    request.caller = &p;
    request.read = &known;
    return std::make_pair(ctx.service->Act(request), request.expected_version.has_value());
  };
  auto answer = [&](const CaseView& acted) {
    SetVersionETag(res, acted.state.version);
    SendCase(ctx, res, 200, acted, p);
  };
  // Without reading the store: the version this process's live machine stands at, if the
  // principal may see the case there. Only a success (or the store unavailable) is answered from
  // it — the store's version check proved that version current when the write committed. Anything
  // else (a refusal, a 404, a 412, a malformed If-Match, a lost race) is decided again below on the
  // stored case, in the order it always is: a change made by another process, which the cache
  // does not see, is never answered from here.
  if (std::optional<int64_t> cached = ctx.service->CachedVisibleVersion(p, id)) {
    CaseRecord known;
    known.id = id;
    known.version = *cached;
    std::optional<Status> unavailable;
    try {
      auto acted = act(known);
      if (acted.first.ok()) {
        answer(*acted.first);
        return;
      }
      // The store failing (a disk fault, a full queue: 503) is answered as it is, not tried again
      // behind the client's back.
      if (acted.first.status().code() == StatusCode::kUnavailable)
        unavailable = acted.first.status();
    } catch (const ProblemError&) {
      // Thrown again below, after the checks that come first.
    }
    if (unavailable) Fail(*unavailable);
  }
  // One store read serves the bundle check, the visibility check and the action's first attempt.
  const CaseRecord record = ReadCase(ctx, id);
  if (ctx.service->IsBundle(record)) {
    ActOnBundleCase(ctx, p, id, body, req, res);
    return;
  }
  VisibleCase(ctx, p, record);
  auto [acted, pinned] = act(record);
  // A twin sent concurrently with the same Idempotency-Key is answered with the first outcome by
  // the engine (CaseService::Act), whichever attempt lost the race.
  if (!acted.ok()) FailOnCase(ctx, id, acted.status(), pinned);
  answer(*acted);
}

void RateCase(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"score", "comment"});
  const CaseRecord record = ReadCase(ctx, id);
  if (ctx.service->IsBundle(record)) {
    ActOnBundleCase(ctx, p, id, {{"action", "rate"}, {"data", body}}, req, res);
    return;
  }
  VisibleCase(ctx, p, record);
  ActRequest request;
  request.case_id = id;
  request.action = "rate";
  request.data = body;
  request.idempotency_key = IdempotencyKey(req);
  request.caller = &p;
  request.read = &record;
  auto acted = ctx.service->Act(request);
  if (!acted.ok()) {
    const Status& refused = acted.status();
    // The engine points into the action's data; this body is that data.
    const std::string& pointer = refused.pointer();
    if (refused.code() == StatusCode::kInvalidArgument && pointer.rfind("/data/", 0) == 0) {
      Fail(Status::InvalidArgument(refused.message()).WithPointer(pointer.substr(5)));
    }
    FailOnCase(ctx, id, refused);
  }
  res.set_header("Location", "/v1/cases/" + id);
  SetVersionETag(res, acted->state.version);
  SendCase(ctx, res, 201, *acted, p);
}

namespace {

// The filters a case list and its counts share: status, definition, applicant, organ, created
// between, light (into *light) and the cursor.
CaseFilter ListFilter(const httplib::Request& req, std::string* light) {
  CaseFilter filter;
  auto param = [&](const char* name) { return Param(req, name); };
  filter.status = param("status");
  // A case status, or one of a bundle case's own (in_progress, ready, delivered).
  static const std::set<std::string> kBundleStatuses = {"in_progress", "ready", "delivered"};
  if (!filter.status.empty() && !ParseCaseStatus(filter.status) &&
      kBundleStatuses.count(filter.status) == 0) {
    Fail(422, "invalid", "The request is not valid", "unknown status \"" + filter.status + "\"");
  }
  filter.definition_id = param("definition");
  filter.applicant_id = param("applicant");
  filter.organ_id = param("organ");
  filter.after_id = param("cursor");
  *light = param("light");
  if (!light->empty() && *light != "green" && *light != "yellow" && *light != "red") {
    Fail(422, "invalid", "The request is not valid", "light must be green, yellow or red");
  }
  for (const char* bound : {"created_from", "created_to"}) {
    if (param(bound).empty()) continue;
    auto t = ParseTimestamp(param(bound));
    if (!t)
      Fail(422, "invalid", "The request is not valid", std::string(bound) + " must be a timestamp");
    (std::string(bound) == "created_from" ? filter.created_from : filter.created_to) = t;
  }
  return filter;
}

nlohmann::json CountsJson(const std::map<std::string, int64_t>& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, n] : counts)
    out[key] = n;
  return out;
}

}  // namespace

void ListCases(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  auto param = [&](const char* name) { return Param(req, name); };
  std::string light;
  CaseFilter filter = ListFilter(req, &light);
  int limit = 50;
  if (!param("limit").empty()) {
    std::string l = param("limit");
    if (l.size() > 4 || !std::all_of(l.begin(), l.end(), ::isdigit) || std::stoi(l) < 1 ||
        std::stoi(l) > 500) {
      Fail(422, "invalid", "The request is not valid", "limit must be 1..500");
    }
    limit = std::stoi(l);
  }
  filter.limit = limit;
  auto page = ctx.service->ListFor(p, filter, light);
  if (!page.ok()) Fail(page.status());
  nlohmann::json cases = nlohmann::json::array();
  for (const ListedCase& listed : page->cases) {
    cases.push_back(listed.bundle ? BundleBody(ctx, *listed.bundle, p)
                                  : CaseBody(ctx, *listed.item, p));
  }
  SendJson(res, 200,
           {{"cases", cases},
            {"next_cursor", page->next_cursor.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(page->next_cursor)}});
}

void CountCases(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string light;
  CaseFilter filter = ListFilter(req, &light);
  auto counts = ctx.service->CountFor(p, filter, light);
  if (!counts.ok()) Fail(counts.status());
  nlohmann::json status_titles = nlohmann::json::object();
  for (const auto& [code, n] : counts->by_status)
    status_titles[code] = StatusTitle(code);
  nlohmann::json definitions = nlohmann::json::object();
  for (const auto& [id, title] : counts->definition_titles)
    definitions[id] = title;
  nlohmann::json organs = nlohmann::json::object();
  for (const auto& [id, name] : counts->organ_names)
    organs[id] = name;
  SendJson(
      res, 200,
      {{"total", counts->total},
       {"complete", counts->complete},
       {"by_status", CountsJson(counts->by_status)},
       {"by_light", CountsJson(counts->by_light)},
       {"by_definition", CountsJson(counts->by_definition)},
       {"by_organ", CountsJson(counts->by_organ)},
       {"titles", {{"status", status_titles}, {"definition", definitions}, {"organ", organs}}}});
}

void History(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  RequireVisible(ctx, p, id);
  auto events = ctx.service->History(id);
  if (!events.ok()) FailOnCase(ctx, id, events.status());
  nlohmann::json out = nlohmann::json::array();
  for (const Event& e : *events)
    out.push_back(EventToJson(e));
  SendJson(res, 200, {{"case_id", id}, {"events", out}});
}

void Verify(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  RequireVisible(ctx, p, id);
  VerifyReport report = ctx.service->Verify(id);
  SendJson(res, 200, VerifyReportToJson(report));
}

}  // namespace tongban::api
