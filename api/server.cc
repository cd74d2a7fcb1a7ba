#include "api/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <regex>
#include <set>

#include "api/problem.h"
#include "engine/lifecycle.h"
#include "workflows/graph.h"
#include "workflows/json_document.h"
#include "workflows/sha256.h"

namespace tongban::api {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kProblemJson = "application/problem+json";

using Clock = std::chrono::steady_clock;

// Raised inside handlers to answer with a problem; caught by the route wrapper. Exceptions stop at
// this HTTP edge.
struct ProblemError {
  Problem problem;
};

[[noreturn]] void Fail(int status, const std::string& slug, const std::string& title,
                       const std::string& detail) {
  throw ProblemError{MakeProblem(status, slug, title, detail)};
}

[[noreturn]] void Fail(const Status& status, bool pinned = false) {
  throw ProblemError{ProblemFromStatus(status, pinned)};
}

// Serializes a response body. Strings may carry bytes that are not UTF-8 (a parser message quoting
// the offending input, a stored form); plain dump() throws on them, which turned a malformed body
// into a 500, so invalid sequences are replaced (U+FFFD) instead.
std::string Dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(Dump(body), kJson);
}

void SendProblem(httplib::Response& res, const Problem& p) {
  res.status = p.status;
  res.set_content(Dump(p.ToJson()), kProblemJson);
}

// Parses a request body as a JSON object, refusing what a careless client might send.
nlohmann::json ParseBody(const httplib::Request& req) {
  if (req.body.empty()) Fail(400, "malformed-json", "Malformed JSON", "the request body is empty");
  SourcePosition position;
  JsonParseOptions options;
  options.max_depth = 32;
  options.record_positions = false;
  auto document = JsonDocument::Parse(req.body, &position, options);
  if (!document.ok()) {
    Problem p =
        MakeProblem(400, "malformed-json", "Malformed JSON",
                    document.status().message() + " at line " + std::to_string(position.line) +
                        ", column " + std::to_string(position.column));
    p.extra["line"] = position.line;
    p.extra["column"] = position.column;
    throw ProblemError{p};
  }
  if (!document->root().is_object()) {
    Fail(422, "invalid", "The request is not valid", "the request body must be a JSON object");
  }
  return std::move(document).value().mutable_root();
}

// Refuses unknown members (with the pointer), so typos never pass silently.
void CheckKeys(const nlohmann::json& body, const std::vector<std::string>& allowed,
               const std::string& pointer = "") {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    Problem p = MakeProblem(422, "invalid", "The request is not valid",
                            "unknown field \"" + key + "\" at " + pointer + "/" + key);
    p.extra["errors"] = {{{"pointer", pointer + "/" + key}, {"message", "unknown field"}}};
    throw ProblemError{p};
  }
}

template <typename Check>
void Expect(const nlohmann::json& body, const std::string& key, Check check, const char* what,
            bool required) {
  auto it = body.find(key);
  if (it == body.end()) {
    if (!required) return;
    Problem p =
        MakeProblem(422, "invalid", "The request is not valid", "\"" + key + "\" is required");
    p.extra["errors"] = {{{"pointer", "/" + key}, {"message", "required"}}};
    throw ProblemError{p};
  }
  if (!check(*it)) {
    Problem p =
        MakeProblem(422, "invalid", "The request is not valid", "\"" + key + "\" must be " + what);
    p.extra["errors"] = {{{"pointer", "/" + key}, {"message", std::string("must be ") + what}}};
    throw ProblemError{p};
  }
}

bool IsString(const nlohmann::json& j) {
  return j.is_string();
}
bool IsObject(const nlohmann::json& j) {
  return j.is_object();
}
bool IsArray(const nlohmann::json& j) {
  return j.is_array();
}
bool IsVersion(const nlohmann::json& j) {
  return j.is_number_integer() && j.get<int64_t>() >= 1 && j.get<int64_t>() <= 999999999;
}

std::string DayOrNull(const std::optional<Day>& d) {
  return d ? FormatIsoDay(*d) : "";
}

}  // namespace

// cpp-httplib hard-codes a listen backlog of 5; the listening socket is protected, so a subclass
// raises it after binding (Linux applies a second listen() to a listening socket).
class ApiServer::TunedServer : public httplib::Server {
 public:
  void RaiseBacklog(int backlog) { ::listen(svr_sock_, backlog); }
  // Closes the listening socket whether or not the accept loop has started. httplib's stop() does
  // nothing until listen_after_bind() has marked the server running, so a stop that came between
  // Bind() and Serve() (a SIGTERM right after start, a test tearing down at once) was lost and
  // Serve() then never returned. The accept loop ends when it finds the socket closed, or never
  // starts.
  void CloseListener() {
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
};

class ApiServer::Handlers {
 public:
  explicit Handlers(ApiServer* server) : s_(*server) {}

  void Register(httplib::Server& http);

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Registers `handler` for METHOD PATTERN; `route` is the OpenAPI path used in metrics.
  void Route(httplib::Server& http, const std::string& method, const std::string& pattern,
             const std::string& route, Handler handler);

  const Principal& Authenticate(const httplib::Request& req);
  bool InScope(const Principal& p, const std::string& organ) const {
    return p.organ == "*" || (!p.organ.empty() && p.organ == organ);
  }
  // The case if the principal may see it; a 404 otherwise (never a 403 that confirms existence).
  CaseView VisibleCase(const Principal& p, const std::string& case_id);
  // The same for a bundle case (一件事).
  BundleView VisibleBundle(const Principal& p, const std::string& case_id);
  bool MaySee(const Principal& p, const CaseState& state) const;
  static bool MaySeeStaff(const Principal& p) {
    return std::any_of(p.roles.begin(), p.roles.end(),
                       [](const std::string& r) { return r != "applicant" && r != "agent"; });
  }
  nlohmann::json CaseJson(const CaseView& view, const Principal& p);
  nlohmann::json AvailableActions(const CaseView& view, const Principal& p);
  Actor ActorFor(const Principal& p, const std::string& role) const {
    return Actor{p.id, role, p.HasRole("applicant") && role == "applicant" ? "" : p.organ, p.name};
  }
  std::optional<std::string> RoleFor(const Principal& p, const CaseView& view,
                                     const std::string& action, std::vector<std::string>* needed);

  void Health(const httplib::Request&, httplib::Response& res);
  void MetricsText(const httplib::Request&, httplib::Response& res);
  void OpenApi(const httplib::Request&, httplib::Response& res);
  void ListDefinitions(const httplib::Request& req, httplib::Response& res);
  void GetDefinition(const httplib::Request& req, httplib::Response& res);
  void GetGraph(const httplib::Request& req, httplib::Response& res);
  void DeployDefinition(const httplib::Request& req, httplib::Response& res);
  void CreateCase(const httplib::Request& req, httplib::Response& res);
  void GetCase(const httplib::Request& req, httplib::Response& res);
  void ActOnCase(const httplib::Request& req, httplib::Response& res);
  void ListCases(const httplib::Request& req, httplib::Response& res);
  void History(const httplib::Request& req, httplib::Response& res);
  void Verify(const httplib::Request& req, httplib::Response& res);
  void Track(const httplib::Request& req, httplib::Response& res);
  // The name of the window that received a case under a handling agreement (for the public).
  std::string ReceivingOrganName(const std::string& agreement_id,
                                 const std::string& organ_id) const;
  void AdvanceClock(const httplib::Request& req, httplib::Response& res);
  // 一件事: bundle cases share /v1/cases with item cases.
  nlohmann::json BundleJson(const BundleView& view, const Principal& p);
  bool MaySeeBundle(const Principal& p, const BundleState& state);
  void CreateBundleCase(const Principal& p, NewCase request, httplib::Response& res);
  // Registers: delegations, credit records, mandates, the ledger.
  void ListDelegations(const httplib::Request& req, httplib::Response& res);
  void GetDelegation(const httplib::Request& req, httplib::Response& res);
  void AddDelegation(const httplib::Request& req, httplib::Response& res);
  void RevokeDelegation(const httplib::Request& req, httplib::Response& res);
  void ListCreditRecords(const httplib::Request& req, httplib::Response& res);
  void GetCreditRecord(const httplib::Request& req, httplib::Response& res);
  // Staff see every credit record; an applicant those against itself.
  bool MaySeeCreditRecord(const Principal& p, const CreditRecord& r) const;
  void RepairCreditRecord(const httplib::Request& req, httplib::Response& res);
  void ListMandates(const httplib::Request& req, httplib::Response& res);
  void GetMandate(const httplib::Request& req, httplib::Response& res);
  void GrantMandate(const httplib::Request& req, httplib::Response& res);
  void RevokeMandate(const httplib::Request& req, httplib::Response& res);
  void Ledger(const httplib::Request& req, httplib::Response& res);

  ApiServer& s_;
};

void ApiServer::Handlers::Route(httplib::Server& http, const std::string& method,
                                const std::string& pattern, const std::string& route,
                                Handler handler) {
  s_.routes_.push_back(method + " " + route);
  auto wrapped = [this, route, handler](const httplib::Request& req, httplib::Response& res) {
    auto started = Clock::now();
    try {
      handler(req, res);
    } catch (const ProblemError& e) {
      SendProblem(res, e.problem);
    } catch (const std::exception& e) {
      SendProblem(res, MakeProblem(500, "internal", "Internal error", e.what()));
    }
    s_.metrics_.RecordRequest(route, res.status,
                              std::chrono::duration<double>(Clock::now() - started).count());
  };
  if (method == "GET") http.Get(pattern, wrapped);
  if (method == "POST") http.Post(pattern, wrapped);
}

void ApiServer::Handlers::Register(httplib::Server& http) {
  using std::placeholders::_1;
  using std::placeholders::_2;
  auto bind = [this](void (Handlers::*fn)(const httplib::Request&, httplib::Response&)) {
    return
        [this, fn](const httplib::Request& req, httplib::Response& res) { (this->*fn)(req, res); };
  };
  Route(http, "GET", "/healthz", "/healthz", bind(&Handlers::Health));
  Route(http, "GET", "/metrics", "/metrics", bind(&Handlers::MetricsText));
  Route(http, "GET", "/openapi.json", "/openapi.json", bind(&Handlers::OpenApi));
  Route(http, "GET", "/v1/definitions", "/v1/definitions", bind(&Handlers::ListDefinitions));
  Route(http, "POST", "/v1/definitions", "/v1/definitions", bind(&Handlers::DeployDefinition));
  Route(http, "GET", R"(/v1/definitions/([^/]+))", "/v1/definitions/{id}",
        bind(&Handlers::GetDefinition));
  Route(http, "GET", R"(/v1/definitions/([^/]+)/graph)", "/v1/definitions/{id}/graph",
        bind(&Handlers::GetGraph));
  Route(http, "POST", "/v1/cases", "/v1/cases", bind(&Handlers::CreateCase));
  Route(http, "GET", "/v1/cases", "/v1/cases", bind(&Handlers::ListCases));
  Route(http, "GET", R"(/v1/cases/([^/]+))", "/v1/cases/{id}", bind(&Handlers::GetCase));
  Route(http, "POST", R"(/v1/cases/([^/]+)/actions)", "/v1/cases/{id}/actions",
        bind(&Handlers::ActOnCase));
  Route(http, "GET", R"(/v1/cases/([^/]+)/history)", "/v1/cases/{id}/history",
        bind(&Handlers::History));
  Route(http, "GET", R"(/v1/cases/([^/]+)/verify)", "/v1/cases/{id}/verify",
        bind(&Handlers::Verify));
  Route(http, "GET", R"(/v1/track/([^/]+))", "/v1/track/{number}", bind(&Handlers::Track));
  Route(http, "GET", "/v1/delegations", "/v1/delegations", bind(&Handlers::ListDelegations));
  Route(http, "POST", "/v1/delegations", "/v1/delegations", bind(&Handlers::AddDelegation));
  Route(http, "GET", R"(/v1/delegations/([^/]+))", "/v1/delegations/{id}",
        bind(&Handlers::GetDelegation));
  Route(http, "POST", R"(/v1/delegations/([^/]+)/revoke)", "/v1/delegations/{id}/revoke",
        bind(&Handlers::RevokeDelegation));
  Route(http, "GET", "/v1/credit-records", "/v1/credit-records",
        bind(&Handlers::ListCreditRecords));
  Route(http, "GET", R"(/v1/credit-records/([^/]+))", "/v1/credit-records/{id}",
        bind(&Handlers::GetCreditRecord));
  Route(http, "POST", R"(/v1/credit-records/([^/]+)/repair)", "/v1/credit-records/{id}/repair",
        bind(&Handlers::RepairCreditRecord));
  Route(http, "GET", "/v1/mandates", "/v1/mandates", bind(&Handlers::ListMandates));
  Route(http, "POST", "/v1/mandates", "/v1/mandates", bind(&Handlers::GrantMandate));
  Route(http, "GET", R"(/v1/mandates/([^/]+))", "/v1/mandates/{id}", bind(&Handlers::GetMandate));
  Route(http, "POST", R"(/v1/mandates/([^/]+)/revoke)", "/v1/mandates/{id}/revoke",
        bind(&Handlers::RevokeMandate));
  Route(http, "GET", "/v1/ledger", "/v1/ledger", bind(&Handlers::Ledger));
  if (s_.simulated_clock_ != nullptr) {
    Route(http, "POST", "/v1/admin/clock", "/v1/admin/clock", bind(&Handlers::AdvanceClock));
  }
}

const Principal& ApiServer::Handlers::Authenticate(const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  static const std::string kBearer = "Bearer ";
  if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0) {
    std::string presented = Sha256Hex(header.substr(kBearer.size()));
    // Every principal is compared, so the time taken does not depend on which one matched.
    const Principal* found = nullptr;
    for (const Principal& p : s_.principals_->principals) {
      if (ConstantTimeEquals(presented, p.token_sha256)) found = &p;
    }
    if (found != nullptr) return *found;
  }
  Problem p = MakeProblem(401, "unauthenticated", "Authentication required",
                          "send Authorization: Bearer TOKEN with a valid token");
  throw ProblemError{p};
}

bool ApiServer::Handlers::MaySee(const Principal& p, const CaseState& state) const {
  if (p.HasRole("applicant") && state.applicant_id == p.id) return true;
  Registers* registers = s_.service_->registers();
  // 帮办代办: an agent sees the cases of applicants whose mandate it holds (or held).
  if (p.HasRole("agent")) {
    // A part of a bundle is also covered by a mandate for the bundle.
    std::string bundle_definition;
    if (state.is_bundle_child()) {
      auto parent = s_.service_->store()->GetCase(state.bundle_case_id);
      if (parent.ok() && *parent) bundle_definition = (*parent)->definition_id;
    }
    for (const Mandate& m : registers->Mandates(p.id)) {
      if (m.agent_id == p.id && m.applicant_id == state.applicant_id &&
          (m.Covers(state.definition_id) ||
           (!bundle_definition.empty() && m.Covers(bundle_definition)))) {
        return true;
      }
    }
  }
  // Staff of the implementing organ, of the receiving window, or of an organ delegated powers
  // over the item.
  return MaySeeStaff(p) && registers->Concerns(p.organ, state);
}

bool ApiServer::Handlers::MaySeeBundle(const Principal& p, const BundleState& state) {
  if (p.HasRole("applicant") && state.applicant_id == p.id) return true;
  if (p.HasRole("agent")) {
    for (const Mandate& m : s_.service_->registers()->Mandates(p.id)) {
      if (m.agent_id == p.id && m.applicant_id == state.applicant_id &&
          m.Covers(state.definition_id)) {
        return true;
      }
    }
  }
  if (!MaySeeStaff(p)) return false;
  if (InScope(p, state.organ_id)) return true;
  // Staff of an organ handling one of the parts see the bundle it belongs to.
  for (const BundlePartState& part : state.parts) {
    if (part.case_id.empty()) continue;
    auto child = s_.service_->Get(part.case_id);
    if (child.ok() && s_.service_->registers()->Concerns(p.organ, child->state)) return true;
  }
  return false;
}

BundleView ApiServer::Handlers::VisibleBundle(const Principal& p, const std::string& case_id) {
  auto bundle = s_.service_->GetBundle(case_id);
  if (!bundle.ok()) Fail(bundle.status());
  if (!MaySeeBundle(p, bundle->state)) Fail(404, "not-found", "Not found", "no case " + case_id);
  return std::move(bundle).value();
}

CaseView ApiServer::Handlers::VisibleCase(const Principal& p, const std::string& case_id) {
  auto view = s_.service_->Get(case_id);
  if (!view.ok()) Fail(view.status());
  if (!MaySee(p, view->state)) Fail(404, "not-found", "Not found", "no case " + case_id);
  return std::move(view).value();
}

std::optional<std::string> ApiServer::Handlers::RoleFor(const Principal& p, const CaseView& view,
                                                        const std::string& action,
                                                        std::vector<std::string>* needed) {
  std::vector<std::string> roles;
  if (const FrameAction* frame = FindFrameAction(action)) {
    roles = frame->roles;
  } else if (!view.step_id.empty()) {
    const Step* step = view.item->FindStep(view.step_id);
    roles.push_back(step->role);
    for (const JointParty& party : step->parties)
      roles.push_back(party.role);
  }
  *needed = roles;
  for (const std::string& role : roles) {
    if (role == "system") continue;
    if (!p.HasRole(role)) continue;
    if (role == "applicant" && view.state.applicant_id != p.id) continue;
    // Staff roles: whether this organ has jurisdiction now (its own item, or a delegation in
    // force) is decided by the engine, which answers 403 naming the competent organ.
    return role;
  }
  return std::nullopt;
}

nlohmann::json ApiServer::Handlers::AvailableActions(const CaseView& view, const Principal& p) {
  // What the frame offers in each status; the engine still decides when an action is taken.
  std::vector<std::string> candidates;
  const CaseState& s = view.state;
  switch (s.status) {
    case CaseStatus::kSubmitted:
      candidates = {"accept",   "request_correction", "refuse",
                    "withdraw", "terminate",          "supply_materials"};
      if (view.item->case_type == CaseType::kInstant) candidates.push_back("accept_and_decide");
      if (s.correction_issued) candidates.erase(candidates.begin() + 1);
      if (s.awaiting_transfer()) candidates = {"transfer", "withdraw"};
      break;
    case CaseStatus::kCorrectionPending:
      candidates = {"supply_correction", "withdraw", "terminate"};
      break;
    case CaseStatus::kUnderReview: {
      const Step* step = view.item->FindStep(view.step_id);
      for (const Action& a : step->actions)
        candidates.push_back(a.id);
      candidates.push_back(s.suspended ? "resume" : "suspend");
      if (!s.extended && view.item->time_limits.extension_days > 0) candidates.push_back("extend");
      candidates.insert(candidates.end(), {"withdraw", "terminate", "supply_materials"});
      break;
    }
    case CaseStatus::kApproved:
      candidates = {"deliver", "revoke"};
      break;
    case CaseStatus::kDenied:
      candidates = {"deliver"};
      break;
    case CaseStatus::kClosed:
      if (s.decision == Decision::kApprove) candidates = {"revoke"};
      break;
    default:
      break;
  }
  if (s.verification == Verification::kPending) candidates.push_back("verify");
  // A bundle's parts are delivered together, on the bundle case.
  if (s.is_bundle_child()) {
    candidates.erase(std::remove(candidates.begin(), candidates.end(), "deliver"),
                     candidates.end());
  }
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& action : candidates) {
    std::vector<std::string> needed;
    auto role = RoleFor(p, view, action, &needed);
    if (!role) continue;
    // An agent acts while its mandate covers the case's item (the engine's rule).
    if (*role == "agent" &&
        !s_.service_->registers()->MandateFor(s.applicant_id, p.id, s.definition_id, view.as_of)) {
      continue;
    }
    if (*role != "applicant" && *role != "agent" && action != "transfer") {
      auto authority = s_.service_->registers()->Authorize(
          *view.item, s, p.organ, PowersFor(*view.item, s, action), view.as_of);
      if (!authority.ok()) continue;
    }
    if (action == "transfer" && (!s.awaiting_transfer() || !InScope(p, s.received_by))) continue;
    nlohmann::json data = nlohmann::json::object();
    std::string title = action;
    if (const FrameAction* frame = FindFrameAction(action)) {
      title = frame->description;
      if (action == "refuse" || action == "terminate" || action == "revoke" || action == "extend" ||
          action == "suspend") {
        data["reason"] = "string, required";
      }
      if (action == "request_correction") data["missing"] = "array of material ids, required";
      if (action == "supply_correction" || action == "supply_materials") {
        data["materials"] = "array of material ids, required";
      }
      if (action == "accept_and_decide") {
        data["decision"] = "\"approve\" or \"deny\", required";
        data["reason"] = "string, required for deny";
      }
      if (action == "verify") {
        data["result"] = "\"pass\" or \"breach\", required";
        data["reason"] = "string, required for breach";
        data["findings"] = "string";
      }
    } else if (const Step* step = view.item->FindStep(view.step_id)) {
      const Action* a = step->FindAction(action);
      title = a->title;
      if (a->requires_reason) data["reason"] = "string, required";
      if (step->is_joint() && step->completes_with == action) {
        data["party"] = "one of the joint step's parties, required";
      }
    }
    out.push_back({{"action", action}, {"title", title}, {"role", *role}, {"data", data}});
  }
  return out;
}

nlohmann::json ApiServer::Handlers::CaseJson(const CaseView& v, const Principal& p) {
  const CaseState& s = v.state;
  nlohmann::json j = CaseViewToJson(v);
  j["definition"]["title"] = v.item->title;
  j["step_title"] = v.step_id.empty() ? nlohmann::json(nullptr)
                                      : nlohmann::json(v.item->FindStep(v.step_id)->title);
  j["available_actions"] = AvailableActions(v, p);
  if (!MaySeeStaff(p)) {
    // Applicants see what happens to their case, not which official did it.
    j.erase("step_actors");
    j.erase("joint_passed");
  }
  j["version"] = s.version;
  j.erase("last_hash");
  return j;
}

void ApiServer::Handlers::Health(const httplib::Request&, httplib::Response& res) {
  SendJson(res, 200, {{"status", "ok"}});
}

void ApiServer::Handlers::MetricsText(const httplib::Request&, httplib::Response& res) {
  std::ostringstream extra;
  StoreStats stats = s_.service_->store()->Stats();
  extra << "# HELP tongban_store_commits_total Durable transactions.\n"
        << "# TYPE tongban_store_commits_total counter\n"
        << "tongban_store_commits_total " << stats.commits << "\n"
        << "# HELP tongban_store_writes_total Case writes committed (a batch holds several).\n"
        << "# TYPE tongban_store_writes_total counter\n"
        << "tongban_store_writes_total " << stats.writes << "\n"
        << "# HELP tongban_store_commit_batch_max The largest commit batch so far.\n"
        << "# TYPE tongban_store_commit_batch_max gauge\n"
        << "tongban_store_commit_batch_max " << stats.max_batch << "\n";
  if (auto counts = s_.service_->store()->CountByStatus(); counts.ok()) {
    extra << "# HELP tongban_cases Cases by status.\n# TYPE tongban_cases gauge\n";
    for (const auto& [status, n] : *counts) {
      extra << "tongban_cases{status=\"" << status << "\"} " << n << "\n";
    }
  }
  // Lights from the counts the store keeps on write (no case is read).
  if (auto lights = s_.service_->CountLights(); lights.ok()) {
    extra << "# HELP tongban_open_cases_by_light Cases under review by light.\n"
          << "# TYPE tongban_open_cases_by_light gauge\n"
          << "tongban_open_cases_by_light{light=\"green\"} " << lights->green << "\n"
          << "tongban_open_cases_by_light{light=\"red\"} " << lights->red << "\n"
          << "tongban_open_cases_by_light{light=\"yellow\"} " << lights->yellow << "\n";
  }
  res.status = 200;
  res.set_content(s_.metrics_.Render(extra.str()), "text/plain; version=0.0.4");
}

void ApiServer::Handlers::OpenApi(const httplib::Request&, httplib::Response& res) {
  res.status = 200;
  res.set_content(OpenApiDocument(), kJson);
}

void ApiServer::Handlers::ListDefinitions(const httplib::Request& req, httplib::Response& res) {
  Authenticate(req);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& item : s_.service_->registry()->Items()) {
    nlohmann::json& entry = by_id[item->id];
    entry["id"] = item->id;
    entry["title"] = item->title;
    entry["kind"] = "item";
    entry["latest_version"] = item->version;  // Items() is ordered by version
    entry["organ"] = {{"id", item->organ.id}, {"name", item->organ.name}};
    entry["case_type"] = CaseTypeName(item->case_type);
    entry["modes"] = nlohmann::json::array();
    if (item->standard_mode) entry["modes"].push_back("standard");
    if (item->commitment) entry["modes"].push_back("commitment");
    entry["versions"].push_back(item->version);
  }
  nlohmann::json items = nlohmann::json::array();
  for (auto& [id, entry] : by_id)
    items.push_back(entry);
  // 一件事 bundles, after the items: applied for with POST /v1/cases like an item.
  std::map<std::string, nlohmann::json> bundles;
  for (const auto& bundle : s_.service_->registry()->Bundles()) {
    nlohmann::json& entry = bundles[bundle->id];
    if (!entry.contains("latest_version") || entry["latest_version"].get<int>() < bundle->version) {
      nlohmann::json parts = nlohmann::json::array();
      for (const BundlePart& part : bundle->parts) {
        nlohmann::json after = nlohmann::json::array();
        for (size_t dep : part.after)
          after.push_back(bundle->parts[dep].id);
        parts.push_back({{"id", part.id},
                         {"title", part.title},
                         {"item", part.item->id},
                         {"after", after},
                         {"conditional", part.when != nullptr}});
      }
      entry["id"] = bundle->id;
      entry["title"] = bundle->title;
      entry["kind"] = "bundle";
      entry["latest_version"] = bundle->version;
      entry["organ"] = {{"id", bundle->lead_organ.id}, {"name", bundle->lead_organ.name}};
      entry["promised_days"] = bundle->promised_days;
      entry["parts"] = parts;
    }
    entry["versions"].push_back(bundle->version);
  }
  for (auto& [id, entry] : bundles) {
    std::sort(entry["versions"].begin(), entry["versions"].end());
    items.push_back(entry);
  }
  SendJson(res, 200, {{"definitions", items}});
}

namespace {
// If-Match: the case version as its ETag ("3", W/"3") or bare (3); "*" pins nothing.
std::optional<int64_t> IfMatchVersion(const httplib::Request& req) {
  std::string value = req.get_header_value("If-Match");
  while (!value.empty() && value.back() == ' ')
    value.pop_back();
  while (!value.empty() && value.front() == ' ')
    value.erase(0, 1);
  if (value == "*") return std::nullopt;
  if (value.rfind("W/", 0) == 0) value.erase(0, 2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty() || value.size() > 15 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    Fail(400, "bad-if-match", "Malformed If-Match",
         "If-Match carries the case version as its ETag, e.g. \"3\"");
  }
  return std::stoll(value);
}

int VersionParam(const httplib::Request& req) {
  if (!req.has_param("version")) return 0;
  std::string v = req.get_param_value("version");
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
      std::stoi(v) < 1) {
    Fail(422, "invalid", "The request is not valid", "version must be a whole number ≥ 1");
  }
  return std::stoi(v);
}
}  // namespace

void ApiServer::Handlers::GetDefinition(const httplib::Request& req, httplib::Response& res) {
  Authenticate(req);
  std::string id = req.matches[1];
  const int version = VersionParam(req);
  DefinitionRegistry* registry = s_.service_->registry();
  std::optional<std::string> text;
  std::string hash;
  if (auto item = registry->FindItem(id, version)) {
    text = registry->ItemText(item->id, item->version);
    hash = item->content_hash;
  } else if (auto bundle = registry->FindBundle(id, version)) {
    text = registry->BundleText(bundle->id, bundle->version);
    hash = bundle->content_hash;
  }
  if (!text) Fail(404, "not-found", "Not found", "no definition " + id);
  nlohmann::json body = nlohmann::json::parse(*text);
  res.set_header("ETag", "\"" + hash + "\"");
  SendJson(res, 200, body);
}

void ApiServer::Handlers::GetGraph(const httplib::Request& req, httplib::Response& res) {
  Authenticate(req);
  std::string id = req.matches[1];
  const int version = VersionParam(req);
  auto item = s_.service_->registry()->FindItem(id, version);
  auto bundle = item ? nullptr : s_.service_->registry()->FindBundle(id, version);
  if (!item && !bundle) Fail(404, "not-found", "Not found", "no definition " + id);
  std::string format = req.has_param("format") ? req.get_param_value("format") : "mermaid";
  if (format == "mermaid") {
    res.set_content(item ? RenderMermaid(*item) : RenderMermaid(*bundle),
                    "text/vnd.mermaid; charset=utf-8");
  } else if (format == "dot") {
    res.set_content(item ? RenderDot(*item) : RenderDot(*bundle),
                    "text/vnd.graphviz; charset=utf-8");
  } else {
    Fail(422, "invalid", "The request is not valid", "format must be mermaid or dot");
  }
  res.status = 200;
}

void ApiServer::Handlers::DeployDefinition(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("admin"))
    Fail(403, "forbidden", "Not permitted", "deploying needs the admin role");
  nlohmann::json parsed = ParseBody(req);  // refuse malformed JSON with a position first
  if (parsed.contains("kind") && parsed["kind"] == "principals") {
    // Principals (who may call the API) come from the server's own file and are never stored.
    Problem p = MakeProblem(422, "invalid-definition", "The definition is not valid",
                            "principals are not deployed over the API; only process definitions");
    p.extra["errors"] = {{{"pointer", "/kind"}, {"message", "not a process definition kind"}}};
    throw ProblemError{p};
  }
  std::vector<Diagnostic> diagnostics;
  auto outcome = s_.service_->registry()->Deploy({{"request body", req.body}},
                                                 s_.service_->clock()->Now(), &diagnostics);
  if (!outcome.ok()) {
    if (outcome.status().code() != StatusCode::kInvalidArgument) Fail(outcome.status());
    Problem invalid = MakeProblem(422, "invalid-definition", "The definition is not valid",
                                  outcome.status().message());
    invalid.extra["errors"] = nlohmann::json::array();
    for (const Diagnostic& d : diagnostics) {
      if (d.severity != Severity::kError) continue;
      nlohmann::json e = {{"pointer", d.pointer}, {"code", d.code}, {"message", d.message}};
      if (d.position.known()) {
        e["line"] = d.position.line;
        e["column"] = d.position.column;
      }
      invalid.extra["errors"].push_back(e);
    }
    throw ProblemError{invalid};
  }
  nlohmann::json body = {{"deployed", outcome->deployed}, {"unchanged", outcome->unchanged}};
  nlohmann::json warnings = nlohmann::json::array();
  for (const Diagnostic& d : outcome->diagnostics)
    warnings.push_back(DiagnosticToJson(d));
  body["warnings"] = warnings;
  SendJson(res, outcome->deployed.empty() ? 200 : 201, body);
}

void ApiServer::Handlers::CreateCase(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
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
  request.idempotency_key = req.get_header_value("Idempotency-Key");
  auto item = s_.service_->registry()->FindItem(request.definition_id, request.definition_version);
  auto bundle =
      item ? nullptr
           : s_.service_->registry()->FindBundle(request.definition_id, request.definition_version);
  if (!item && !bundle)
    Fail(404, "not-found", "Not found", "no definition " + request.definition_id);
  if (p.HasRole("applicant")) {
    if (body.contains("applicant")) {
      Fail(422, "invalid", "The request is not valid",
           "an applicant applies for itself; \"applicant\" is for clerks at the window");
    }
    request.actor = ActorFor(p, "applicant");
    request.applicant_id = p.id;
    request.applicant_name = p.name;
    request.applicant_credit_code = p.credit_code;
  } else if (p.HasRole("clerk") || p.HasRole("agent")) {
    // Whether this window may receive the application (its organ's item, a delegation of the
    // accept power, or a handling agreement) — or this agent holds a mandate — is the engine's to
    // decide.
    const std::string role = p.HasRole("clerk") ? "clerk" : "agent";
    const nlohmann::json applicant = body.value("applicant", nlohmann::json());
    if (!applicant.is_object() || !applicant.contains("id") || !applicant["id"].is_string()) {
      Fail(422, "invalid", "The request is not valid",
           role == "clerk" ? "a clerk registering at the window names the applicant: "
                             "\"applicant\": {id, name, credit_code}"
                           : "an agent names the applicant it acts for: \"applicant\": {id, "
                             "name, credit_code}");
    }
    CheckKeys(applicant, {"id", "name", "credit_code"}, "/applicant");
    request.actor = ActorFor(p, role);
    request.applicant_id = applicant["id"].get<std::string>();
    request.applicant_name = applicant.value("name", "");
    request.applicant_credit_code = applicant.value("credit_code", "");
    if (!request.applicant_credit_code.empty() &&
        !IsValidCreditCode(request.applicant_credit_code)) {
      Fail(422, "invalid", "The request is not valid",
           "applicant.credit_code is not a valid unified social credit code");
    }
  } else {
    Fail(403, "forbidden", "Not permitted",
         "cases are submitted by applicants, by clerks at the window, or by agents");
  }
  if (bundle) {
    CreateBundleCase(p, std::move(request), res);
    return;
  }
  auto view = s_.service_->Create(request);
  if (!view.ok()) Fail(view.status());
  s_.metrics_.RecordTransition("submit", CaseStatusCode(view->state.status));
  res.set_header("Location", "/v1/cases/" + view->state.id);
  res.set_header("ETag", "\"" + std::to_string(view->state.version) + "\"");
  SendJson(res, 201, CaseJson(*view, p));
}

void ApiServer::Handlers::CreateBundleCase(const Principal& p, NewCase request,
                                           httplib::Response& res) {
  auto view = s_.service_->CreateBundle(request);
  if (!view.ok()) Fail(view.status());
  s_.metrics_.RecordTransition("submit", view->state.Status());
  res.set_header("Location", "/v1/cases/" + view->state.id);
  res.set_header("ETag", "\"" + std::to_string(view->state.version) + "\"");
  SendJson(res, 201, BundleJson(*view, p));
}

nlohmann::json ApiServer::Handlers::BundleJson(const BundleView& view, const Principal& p) {
  nlohmann::json j = BundleViewToJson(view);
  nlohmann::json actions = nlohmann::json::array();
  const std::string status = view.state.Status();
  // The applicant itself, or an agent holding its mandate for this bundle now.
  std::string own_role;
  if (p.HasRole("applicant") && p.id == view.state.applicant_id) {
    own_role = "applicant";
  } else if (p.HasRole("agent") &&
             s_.service_->registers()->MandateFor(view.state.applicant_id, p.id,
                                                  view.state.definition_id, view.as_of)) {
    own_role = "agent";
  }
  auto offer = [&](const char* action, const char* title, const std::string& role,
                   nlohmann::json data) {
    actions.push_back({{"action", action}, {"title", title}, {"role", role}, {"data", data}});
  };
  if (!view.correction.empty() && !own_role.empty()) {
    offer("supply_correction", "supply everything the combined correction notice lists, once",
          own_role, {{"materials", "array of bundle material ids, required"}});
  }
  const bool awaiting_input =
      std::any_of(view.state.parts.begin(), view.state.parts.end(),
                  [](const BundlePartState& part) { return part.status == "awaiting_input"; });
  if (awaiting_input && !own_role.empty()) {
    offer("supply_form",
          "supply the bundle form fields a part needs to start (see each part's note)", own_role,
          {{"form", "object: bundle form fields by id, required"}});
  }
  if (status == "ready" && p.HasRole("clerk") && InScope(p, view.state.organ_id)) {
    offer("deliver", "deliver every part's result together (送达)", "clerk",
          nlohmann::json::object());
  }
  if (!own_role.empty() && status != "ready" && status != "delivered" && status != "withdrawn") {
    offer("withdraw", "withdraw the whole application (撤回)", own_role, nlohmann::json::object());
  }
  j["available_actions"] = actions;
  j.erase("last_hash");
  return j;
}

void ApiServer::Handlers::GetCase(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  if (s_.service_->IsBundleCase(id)) {
    BundleView bundle = VisibleBundle(p, id);
    res.set_header("ETag", "\"" + std::to_string(bundle.state.version) + "\"");
    SendJson(res, 200, BundleJson(bundle, p));
    return;
  }
  CaseView view = VisibleCase(p, id);
  if (req.has_param("at")) {
    auto at = ParseTimestamp(req.get_param_value("at"));
    if (!at) {
      Fail(422, "invalid", "The request is not valid",
           "at must be a timestamp like 2026-03-02T09:00:00+08:00");
    }
    auto past = s_.service_->GetAt(id, *at);
    if (!past.ok()) Fail(past.status());
    view = std::move(past).value();
  }
  res.set_header("ETag", "\"" + std::to_string(view.state.version) + "\"");
  SendJson(res, 200, CaseJson(view, p));
}

void ApiServer::Handlers::ActOnCase(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"action", "data", "comment"});
  Expect(body, "action", IsString, "an action id (string)", true);
  Expect(body, "data", IsObject, "an object", false);
  Expect(body, "comment", IsString, "a string", false);
  if (s_.service_->IsBundleCase(id)) {
    VisibleBundle(p, id);
    ActRequest request;
    request.case_id = id;
    request.action = body["action"].get<std::string>();
    if (request.action != "supply_correction" && request.action != "supply_form" &&
        request.action != "deliver" && request.action != "withdraw") {
      Fail(422, "unknown-action", "Unknown action",
           "\"" + request.action +
               "\" is not an action of a bundle case (supply_correction, supply_form, deliver, "
               "withdraw); act on its part cases");
    }
    request.data = body.value("data", nlohmann::json::object());
    request.comment = body.value("comment", "");
    request.idempotency_key = req.get_header_value("Idempotency-Key");
    if (req.has_header("If-Match")) request.expected_version = IfMatchVersion(req);
    std::string role = p.HasRole("applicant") ? "applicant"
                       : p.HasRole("agent")   ? "agent"
                       : p.HasRole("clerk")   ? "clerk"
                                              : (p.roles.empty() ? "" : p.roles.front());
    request.actor = ActorFor(p, role);
    auto acted = s_.service_->ActOnBundle(request);
    if (!acted.ok()) Fail(acted.status(), request.expected_version.has_value());
    s_.metrics_.RecordTransition(request.action, acted->state.Status());
    res.set_header("ETag", "\"" + std::to_string(acted->state.version) + "\"");
    SendJson(res, 200, BundleJson(*acted, p));
    return;
  }
  CaseView view = VisibleCase(p, id);
  ActRequest request;
  request.case_id = id;
  request.action = body["action"].get<std::string>();
  request.data = body.value("data", nlohmann::json::object());
  request.comment = body.value("comment", "");
  request.idempotency_key = req.get_header_value("Idempotency-Key");
  bool known = FindFrameAction(request.action) != nullptr;
  for (const Step& step : view.item->steps)
    known = known || step.FindAction(request.action);
  if (!known || request.action == "deem_accepted" || request.action == "mark_overdue" ||
      request.action == "mark_verification_overdue") {
    Fail(422, "unknown-action", "Unknown action",
         "\"" + request.action + "\" is not an action of this case's definition");
  }
  if (req.has_header("If-Match")) request.expected_version = IfMatchVersion(req);
  std::vector<std::string> needed;
  auto role = RoleFor(p, view, request.action, &needed);
  if (!role) {
    std::string list;
    for (const auto& r : needed)
      list += (list.empty() ? "" : " or ") + r;
    Fail(
        403, "forbidden", "Not permitted",
        "action \"" + request.action + "\" is taken by " + (list.empty() ? "nobody now" : list) +
            (view.state.applicant_id == p.id ? std::string()
                                             : " of the competent organ " + view.item->organ.name));
  }
  request.actor = ActorFor(p, *role);
  auto acted = s_.service_->Act(request);
  if (!acted.ok() && !request.idempotency_key.empty()) {
    // A concurrent request with the same key may have won the race. The engine decides a lost race
    // again on the fresh state without looking at the key again, which refuses the action (409);
    // the retry must get the first outcome instead, so replay it if the key is now recorded.
    auto hit = s_.service_->store()->FindIdempotencyKey(request.actor.id, request.idempotency_key);
    if (hit.ok() && *hit && (*hit)->case_id == id) acted = s_.service_->Act(request);
  }
  if (!acted.ok()) Fail(acted.status(), request.expected_version.has_value());
  // An idempotent replay answers with the case as the first attempt left it: no new transition.
  if (acted->state.version > view.state.version) {
    s_.metrics_.RecordTransition(request.action, CaseStatusCode(acted->state.status));
  }
  res.set_header("ETag", "\"" + std::to_string(acted->state.version) + "\"");
  SendJson(res, 200, CaseJson(*acted, p));
}

void ApiServer::Handlers::ListCases(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  CaseFilter filter;
  auto param = [&](const char* name) {
    return req.has_param(name) ? req.get_param_value(name) : std::string();
  };
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
  std::string light = param("light");
  if (!light.empty() && light != "green" && light != "yellow" && light != "red") {
    Fail(422, "invalid", "The request is not valid", "light must be green, yellow or red");
  }
  for (const char* bound : {"created_from", "created_to"}) {
    if (param(bound).empty()) continue;
    auto t = ParseTimestamp(param(bound));
    if (!t)
      Fail(422, "invalid", "The request is not valid", std::string(bound) + " must be a timestamp");
    (std::string(bound) == "created_from" ? filter.created_from : filter.created_to) = t;
  }
  int limit = 50;
  if (!param("limit").empty()) {
    std::string l = param("limit");
    if (l.size() > 4 || !std::all_of(l.begin(), l.end(), ::isdigit) || std::stoi(l) < 1 ||
        std::stoi(l) > 500) {
      Fail(422, "invalid", "The request is not valid", "limit must be 1..500");
    }
    limit = std::stoi(l);
  }
  // Scope is enforced, not requested: applicants see their own, agents those of the applicants
  // whose mandates they hold (MaySee below), staff their organ's.
  bool staff = MaySeeStaff(p);
  if (!staff && !p.HasRole("agent")) {
    filter.applicant_id = p.id;
  } else if (staff && p.organ != "*" && p.organ.empty()) {
    // Staff without an organ see no cases (MaySee agrees).
    SendJson(res, 200, {{"cases", nlohmann::json::array()}, {"next_cursor", nullptr}});
    return;
  }
  // Staff of an organ see the cases it implements, receives or holds delegated powers over; that
  // is not one column, so the rows are filtered here (MaySee), page by page.
  nlohmann::json cases = nlohmann::json::array();
  std::string next;
  filter.limit = limit;
  for (int page = 0; page < 20 && static_cast<int>(cases.size()) < limit; ++page) {
    auto records = s_.service_->store()->ListCases(filter);
    if (!records.ok()) Fail(records.status());
    for (const CaseRecord& r : *records) {
      next = r.id;
      if (s_.service_->registry()->FindBundle(r.definition_id, r.definition_version)) {
        auto bundle = s_.service_->GetBundle(r.id);
        if (!bundle.ok() || !MaySeeBundle(p, bundle->state)) continue;
        if (!light.empty() && LightName(bundle->light) != light) continue;
        cases.push_back(BundleJson(*bundle, p));
        if (static_cast<int>(cases.size()) == limit) break;
        continue;
      }
      auto view = s_.service_->Get(r.id);
      if (!view.ok() || !MaySee(p, view->state)) continue;
      if (!light.empty() && LightName(view->clock.light) != light) continue;
      cases.push_back(CaseJson(*view, p));
      if (static_cast<int>(cases.size()) == limit) break;
    }
    if (static_cast<int>(records->size()) < filter.limit) {
      if (static_cast<int>(cases.size()) < limit) next.clear();
      break;
    }
    filter.after_id = next;
  }
  SendJson(res, 200,
           {{"cases", cases},
            {"next_cursor", next.empty() ? nlohmann::json(nullptr) : nlohmann::json(next)}});
}

void ApiServer::Handlers::History(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  if (s_.service_->IsBundleCase(id)) {
    VisibleBundle(p, id);
  } else {
    VisibleCase(p, id);
  }
  auto events = s_.service_->History(id);
  if (!events.ok()) Fail(events.status());
  nlohmann::json out = nlohmann::json::array();
  for (const Event& e : *events)
    out.push_back(EventToJson(e));
  SendJson(res, 200, {{"case_id", id}, {"events", out}});
}

void ApiServer::Handlers::Verify(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  if (s_.service_->IsBundleCase(id)) {
    VisibleBundle(p, id);
  } else {
    VisibleCase(p, id);
  }
  VerifyReport report = s_.service_->Verify(id);
  SendJson(res, 200, VerifyReportToJson(report));
}

std::string ApiServer::Handlers::ReceivingOrganName(const std::string& agreement_id,
                                                    const std::string& organ_id) const {
  for (const auto& list : s_.service_->registry()->AgreementLists()) {
    for (const HandlingAgreement& a : list->agreements) {
      if (a.id == agreement_id && a.receiving.id == organ_id) return a.receiving.name;
    }
  }
  return organ_id;
}

void ApiServer::Handlers::Track(const httplib::Request& req, httplib::Response& res) {
  std::string number = req.matches[1];
  std::string code = req.has_param("code") ? req.get_param_value("code") : "";
  if (auto record = s_.service_->store()->GetCaseByNumber(number);
      record.ok() && *record &&
      s_.service_->registry()->FindBundle((*record)->definition_id,
                                          (*record)->definition_version)) {
    auto bundle = s_.service_->GetBundle((*record)->id);
    if (!bundle.ok() || code.empty() || !ConstantTimeEquals(code, bundle->state.query_code)) {
      Fail(404, "not-found", "Not found", "no case with that number and query code");
    }
    nlohmann::json parts = nlohmann::json::array();
    for (const BundlePartView& part : bundle->parts) {
      nlohmann::json entry = {{"part", part.state.part},
                              {"title", part.title},
                              {"organ", part.item->organ.name},
                              {"status", part.state.status},
                              {"number", part.state.case_number},
                              {"note", part.state.note},
                              {"due", nullptr},
                              {"light", nullptr}};
      if (part.child) {
        const ClockView& c = part.child->clock;
        entry["status"] = CaseStatusCode(part.child->state.status);
        entry["due"] = c.promised_due ? nlohmann::json(DayOrNull(c.promised_due)) : nullptr;
        entry["light"] = LightName(c.light);
        entry["decision"] = part.child->state.decision
                                ? nlohmann::json(DecisionName(*part.child->state.decision))
                                : nlohmann::json(nullptr);
      }
      parts.push_back(entry);
    }
    nlohmann::json missing = nlohmann::json::array();
    for (const std::string& m : bundle->correction) {
      const Material* material = bundle->bundle->FindMaterial(m);
      missing.push_back({{"id", m}, {"name", material ? material->name : m}});
    }
    SendJson(res, 200,
             {{"number", bundle->state.number},
              {"bundle", bundle->bundle->title},
              {"organ", bundle->bundle->lead_organ.name},
              {"status", bundle->state.Status()},
              {"outcome", bundle->state.Outcome()},
              {"due", bundle->promised_due ? nlohmann::json(DayOrNull(bundle->promised_due))
                                           : nlohmann::json(nullptr)},
              {"light", LightName(bundle->light)},
              {"missing", missing},
              {"parts", parts}});
    return;
  }
  auto view = s_.service_->GetByNumber(number);
  // A wrong code and an unknown number look the same, so numbers cannot be probed.
  if (!view.ok() || code.empty() || !ConstantTimeEquals(code, view->state.query_code)) {
    Fail(404, "not-found", "Not found", "no case with that number and query code");
  }
  const CaseState& s = view->state;
  auto events = s_.service_->History(s.id);
  nlohmann::json timeline = nlohmann::json::array();
  std::string last_status;
  if (events.ok()) {
    for (const Event& e : *events) {
      if (e.status == last_status) continue;
      last_status = e.status;
      timeline.push_back({{"time", FormatTimestamp(e.time)}, {"status", e.status}});
    }
  }
  nlohmann::json missing = nlohmann::json::array();
  for (const std::string& m : s.missing_materials) {
    const Material* material = view->item->FindMaterial(m);
    missing.push_back({{"id", m}, {"name", material ? material->name : m}});
  }
  if (s.status == CaseStatus::kSubmitted || s.status == CaseStatus::kUnderReview) {
    // Deferred (容缺后补) and other required materials not yet supplied.
    for (const Material& m : view->item->materials) {
      if (m.necessity == Necessity::kOptional || s.materials.count(m.id) != 0) continue;
      if (s.mode == "commitment" && m.commitment_replaceable) continue;
      if (std::find(s.missing_materials.begin(), s.missing_materials.end(), m.id) !=
          s.missing_materials.end()) {
        continue;
      }
      missing.push_back({{"id", m.id}, {"name", m.name}});
    }
  }
  const ClockView& c = view->clock;
  SendJson(res, 200,
           {{"number", s.number},
            {"item", view->item->title},
            {"organ", view->item->organ.name},
            {"status", CaseStatusCode(s.status)},
            {"step_title", view->step_id.empty()
                               ? nlohmann::json(nullptr)
                               : nlohmann::json(view->item->FindStep(view->step_id)->title)},
            {"decision",
             s.decision ? nlohmann::json(DecisionName(*s.decision)) : nlohmann::json(nullptr)},
            {"due",
             c.promised_due ? nlohmann::json(DayOrNull(c.promised_due)) : nlohmann::json(nullptr)},
            {"statutory_due", c.statutory_due ? nlohmann::json(DayOrNull(c.statutory_due))
                                              : nlohmann::json(nullptr)},
            {"light", LightName(c.light)},
            {"paused", c.paused},
            {"missing", missing},
            {"received_by", s.received_by.empty() ? nlohmann::json(nullptr)
                                                  : nlohmann::json(ReceivingOrganName(
                                                        s.reception_agreement, s.received_by))},
            {"transferred_at", s.transferred_at ? nlohmann::json(FormatTimestamp(*s.transferred_at))
                                                : nlohmann::json(nullptr)},
            {"bundle",
             s.bundle_number.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.bundle_number)},
            {"timeline", timeline}});
}

// ---- Registers ----------------------------------------------------------------------------------

void ApiServer::Handlers::ListDelegations(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!MaySeeStaff(p)) Fail(403, "forbidden", "Not permitted", "delegations are read by staff");
  std::string item = req.has_param("item") ? req.get_param_value("item") : "";
  std::string organ = req.has_param("organ") ? req.get_param_value("organ") : "";
  nlohmann::json out = nlohmann::json::array();
  for (const DelegationRecord& r : s_.service_->registers()->Delegations()) {
    if (!item.empty() && r.delegation.item_id != item) continue;
    if (!organ.empty() && r.delegation.to.id != organ && r.delegation.from.id != organ) continue;
    out.push_back(DelegationRecordToJson(r));
  }
  SendJson(res, 200, {{"delegations", out}});
}

void ApiServer::Handlers::GetDelegation(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!MaySeeStaff(p)) Fail(403, "forbidden", "Not permitted", "delegations are read by staff");
  auto r = s_.service_->registers()->FindDelegation(req.matches[1]);
  if (!r) Fail(404, "not-found", "Not found", "no delegation " + std::string(req.matches[1]));
  SendJson(res, 200, DelegationRecordToJson(*r));
}

void ApiServer::Handlers::AddDelegation(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("admin"))
    Fail(403, "forbidden", "Not permitted", "adding a delegation needs admin");
  nlohmann::json body = ParseBody(req);
  DiagnosticSink sink("request", nullptr);
  auto registry = s_.service_->registry();
  auto delegation = ReadDelegation(
      body, "", [registry](const std::string& id) { return registry->FindItem(id) != nullptr; },
      &sink);
  if (!delegation || sink.has_errors()) {
    Problem problem = MakeProblem(422, "invalid", "The request is not valid",
                                  sink.diagnostics().empty() ? "not a delegation record"
                                                             : sink.diagnostics().front().message);
    nlohmann::json errors = nlohmann::json::array();
    for (const Diagnostic& d : sink.diagnostics()) {
      // The validator points a missing key at its object; this API points at the member, as
      // for every other request body.
      std::string pointer = d.pointer;
      static const std::regex kMissing("missing required key \"([^\"]+)\"");
      std::smatch key;
      if (d.code == "missing-key" && std::regex_search(d.message, key, kMissing)) {
        pointer += "/" + key[1].str();
      }
      errors.push_back({{"pointer", pointer}, {"code", d.code}, {"message", d.message}});
    }
    problem.extra["errors"] = errors;
    throw ProblemError{problem};
  }
  delegation->list_id = "api";
  auto added = s_.service_->registers()->AddDelegation(*delegation, ActorFor(p, "admin"),
                                                       s_.service_->clock()->Now());
  if (!added.ok()) Fail(added.status());
  res.set_header("Location", "/v1/delegations/" + delegation->id);
  SendJson(res, 201, DelegationRecordToJson(*added));
}

namespace {
std::string RequiredReason(const httplib::Request& req) {
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"reason"});
  Expect(body, "reason", IsString, "a string", true);
  std::string reason = body["reason"].get<std::string>();
  if (reason.empty()) Fail(422, "invalid", "The request is not valid", "\"reason\" is empty");
  return reason;
}
}  // namespace

void ApiServer::Handlers::RevokeDelegation(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("admin")) {
    Fail(403, "forbidden", "Not permitted", "revoking a delegation needs admin");
  }
  std::string reason = RequiredReason(req);
  auto revoked = s_.service_->registers()->RevokeDelegation(
      req.matches[1], reason, ActorFor(p, "admin"), s_.service_->clock()->Now());
  if (!revoked.ok()) Fail(revoked.status());
  SendJson(res, 200, DelegationRecordToJson(*revoked));
}

bool ApiServer::Handlers::MaySeeCreditRecord(const Principal& p, const CreditRecord& r) const {
  // Staff (the window must be able to tell an applicant why commitment mode is refused), and the
  // applicant the record is against.
  if (MaySeeStaff(p)) return true;
  return p.HasRole("applicant") &&
         (r.applicant_id == p.id || (!p.credit_code.empty() && r.credit_code == p.credit_code));
}

void ApiServer::Handlers::ListCreditRecords(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string code = req.has_param("credit_code") ? req.get_param_value("credit_code") : "";
  nlohmann::json out = nlohmann::json::array();
  for (const CreditRecord& r : s_.service_->registers()->CreditRecords(code)) {
    if (MaySeeCreditRecord(p, r)) out.push_back(CreditRecordToJson(r));
  }
  SendJson(res, 200, {{"credit_records", out}});
}

void ApiServer::Handlers::GetCreditRecord(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  auto r = s_.service_->registers()->FindCreditRecord(id);
  if (!r || !MaySeeCreditRecord(p, *r))
    Fail(404, "not-found", "Not found", "no credit record " + id);
  SendJson(res, 200, CreditRecordToJson(*r));
}

void ApiServer::Handlers::RepairCreditRecord(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("admin")) {
    Fail(403, "forbidden", "Not permitted", "recording a credit repair (信用修复) needs admin");
  }
  std::string reason = RequiredReason(req);
  auto repaired = s_.service_->registers()->RepairCredit(
      req.matches[1], reason, ActorFor(p, "admin"), s_.service_->clock()->Now());
  if (!repaired.ok()) Fail(repaired.status());
  SendJson(res, 200, CreditRecordToJson(*repaired));
}

void ApiServer::Handlers::ListMandates(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  const bool all = p.HasRole("admin") || p.HasRole("auditor");
  nlohmann::json out = nlohmann::json::array();
  for (const Mandate& m : s_.service_->registers()->Mandates(all ? "" : p.id))
    out.push_back(MandateToJson(m));
  SendJson(res, 200, {{"mandates", out}});
}

void ApiServer::Handlers::GetMandate(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  const bool all = p.HasRole("admin") || p.HasRole("auditor");
  for (const Mandate& m : s_.service_->registers()->Mandates(all ? "" : p.id)) {
    if (m.id == id) {
      SendJson(res, 200, MandateToJson(m));
      return;
    }
  }
  Fail(404, "not-found", "Not found", "no mandate " + id + " granted to or by you");
}

void ApiServer::Handlers::GrantMandate(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("applicant")) {
    Fail(403, "forbidden", "Not permitted", "an applicant grants a mandate to its agent");
  }
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"agent", "definitions", "valid_until", "note"});
  Expect(body, "agent", IsString, "a principal id (string)", true);
  Expect(body, "definitions", IsArray, "an array of definition ids", false);
  Expect(body, "valid_until", IsString, "a timestamp", false);
  Expect(body, "note", IsString, "a string", false);
  Mandate m;
  // Random, so that the same mandate granted twice at one instant gets two ids.
  std::random_device random;
  m.id = "mandate-" + Sha256Hex(p.id + body.dump() + FormatTimestamp(s_.service_->clock()->Now()) +
                                std::to_string(random()) + std::to_string(random()))
                          .substr(0, 16);
  m.applicant_id = p.id;
  m.applicant_name = p.name;
  m.agent_id = body["agent"].get<std::string>();
  const Principal* agent = nullptr;
  for (const Principal& candidate : s_.principals_->principals) {
    if (candidate.id == m.agent_id) agent = &candidate;
  }
  if (agent == nullptr || !agent->HasRole("agent")) {
    Fail(422, "invalid", "The request is not valid",
         "\"agent\" must name a principal with the agent role (帮办代办员)");
  }
  m.agent_name = agent->name;
  for (const auto& d : body.value("definitions", nlohmann::json::array())) {
    if (!d.is_string() || (!s_.service_->registry()->FindItem(d.get<std::string>()) &&
                           !s_.service_->registry()->FindBundle(d.get<std::string>()))) {
      Fail(422, "invalid", "The request is not valid",
           "definitions names an unknown item or bundle: " + d.dump());
    }
    m.definitions.push_back(d.get<std::string>());
  }
  if (body.contains("valid_until")) {
    m.valid_until = ParseTimestamp(body["valid_until"].get<std::string>());
    if (!m.valid_until) {
      Fail(422, "invalid", "The request is not valid", "valid_until must be a timestamp");
    }
  }
  m.note = body.value("note", "");
  auto granted = s_.service_->registers()->GrantMandate(m, ActorFor(p, "applicant"),
                                                        s_.service_->clock()->Now());
  if (!granted.ok()) Fail(granted.status());
  res.set_header("Location", "/v1/mandates/" + m.id);
  SendJson(res, 201, MandateToJson(*granted));
}

void ApiServer::Handlers::RevokeMandate(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  std::string id = req.matches[1];
  bool found = false;
  for (const Mandate& m : s_.service_->registers()->Mandates(p.HasRole("admin") ? "" : p.id)) {
    if (m.id == id && (p.HasRole("admin") || m.applicant_id == p.id)) found = true;
  }
  if (!found) Fail(404, "not-found", "Not found", "no mandate " + id + " granted by you");
  auto revoked = s_.service_->registers()->RevokeMandate(
      id, ActorFor(p, p.HasRole("admin") ? "admin" : "applicant"), s_.service_->clock()->Now());
  if (!revoked.ok()) Fail(revoked.status());
  SendJson(res, 200, MandateToJson(*revoked));
}

void ApiServer::Handlers::Ledger(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("auditor") && !p.HasRole("admin")) {
    Fail(403, "forbidden", "Not permitted", "the ledger is read by auditors");
  }
  auto entries = s_.service_->registers()->Entries();
  if (!entries.ok()) Fail(entries.status());
  nlohmann::json out = nlohmann::json::array();
  for (const LedgerEntry& e : *entries)
    out.push_back(LedgerEntryToJson(e));
  auto fault = CheckLedgerChain(*entries);
  nlohmann::json verify = {{"ok", !fault}, {"entries", entries->size()}};
  if (fault) {
    verify["first_bad_seq"] = fault->seq;
    verify["reason"] = fault->reason;
  }
  SendJson(res, 200, {{"entries", out}, {"verify", verify}});
}

void ApiServer::Handlers::AdvanceClock(const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(req);
  if (!p.HasRole("admin")) Fail(403, "forbidden", "Not permitted", "moving the clock needs admin");
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"advance", "to"});
  SimulatedClock& clock = *s_.simulated_clock_;
  if (body.contains("to")) {
    Expect(body, "to", IsString, "a timestamp", true);
    auto to = ParseTimestamp(body["to"].get<std::string>());
    if (!to) Fail(422, "invalid", "The request is not valid", "to must be a timestamp");
    if (*to < clock.Now())
      Fail(422, "invalid", "The request is not valid", "the clock only moves forward");
    clock.Set(*to);
  } else {
    Expect(body, "advance", IsObject, "an object {days, hours, minutes}", true);
    const nlohmann::json& a = body["advance"];
    CheckKeys(a, {"days", "hours", "minutes"}, "/advance");
    for (const char* key : {"days", "hours", "minutes"}) {
      if (a.contains(key) && (!a[key].is_number_integer() || a[key].get<int64_t>() < 0 ||
                              a[key].get<int64_t>() > 3660)) {
        Fail(422, "invalid", "The request is not valid",
             std::string("advance.") + key + " must be a whole number 0..3660");
      }
    }
    clock.Advance(std::chrono::days(a.value("days", 0)) + std::chrono::hours(a.value("hours", 0)) +
                  std::chrono::minutes(a.value("minutes", 0)));
  }
  int fired_total = 0;
  for (int round = 0; round < 100; ++round) {
    auto fired = s_.service_->FireDueTimers();
    if (!fired.ok()) Fail(fired.status());
    fired_total += *fired;
    if (*fired == 0) break;
  }
  SendJson(res, 200, {{"now", FormatTimestamp(clock.Now())}, {"timer_events", fired_total}});
}

ApiServer::ApiServer(CaseService* service, std::shared_ptr<const PrincipalSet> principals,
                     SimulatedClock* simulated_clock, ServerOptions options)
    : service_(service),
      principals_(std::move(principals)),
      simulated_clock_(simulated_clock),
      options_(std::move(options)),
      http_(std::make_unique<TunedServer>()),
      handlers_(std::make_unique<Handlers>(this)) {
  httplib::Server& http = *http_;
  http.set_tcp_nodelay(true);  // without it small responses wait for delayed ACKs (~40 ms)
  const int threads = options_.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(10000);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_payload_max_length(options_.max_body_bytes);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    Problem p;
    if (res.status == 413) {
      p = MakeProblem(413, "too-large", "Request body too large",
                      "the request body exceeds the server's limit");
    } else if (res.status == 404) {
      p = MakeProblem(404, "not-found", "Not found", "no such resource");
    } else {
      p = MakeProblem(res.status, "http-" + std::to_string(res.status), "HTTP error",
                      "the request could not be served");
    }
    res.set_content(Dump(p.ToJson()), kProblemJson);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendProblem(res, MakeProblem(500, "internal", "Internal error", "unexpected failure"));
      });
  handlers_->Register(http);
}

ApiServer::~ApiServer() {
  Stop();
  if (timer_thread_.joinable()) timer_thread_.join();
}

Result<int> ApiServer::Bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Status::Unavailable("cannot bind " + options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    return Status::Unavailable("cannot listen on " + options_.host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine)");
  }
  http_->RaiseBacklog(options_.listen_backlog);
  return port;
}

void ApiServer::Serve() {
  if (stopping_.load()) return;
  if (simulated_clock_ == nullptr) {
    timer_thread_ = std::thread([this] {
      while (!stopping_.load()) {
        (void)service_->FireDueTimers();
        for (int waited = 0; waited < options_.timer_interval_ms && !stopping_.load();
             waited += 50) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  http_->listen_after_bind();
}

void ApiServer::Stop() {
  if (stopping_.exchange(true)) return;
  http_->CloseListener();
}

}  // namespace tongban::api
