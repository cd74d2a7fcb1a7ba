// The registers: delegations (赋权), credit records (信用记录), mandates (帮办代办), and the ledger
// that chains every change to them.
#include <optional>
#include <random>
#include <regex>
#include <string>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_util.h"
#include "workflows/sha256.h"

namespace tongban::api {

// ---- Delegations
// ---------------------------------------------------------------------------------

void ListDelegations(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kReadDelegations);
  std::string item = Param(req, "item");
  std::string organ = Param(req, "organ");
  nlohmann::json out = nlohmann::json::array();
  auto delegations = ctx.service->registers()->Delegations();
  if (!delegations.ok()) Fail(delegations.status());
  for (const DelegationRecord& r : *delegations) {
    if (!item.empty() && r.delegation.item_id != item) continue;
    if (!organ.empty() && r.delegation.to.id != organ && r.delegation.from.id != organ) continue;
    out.push_back(DelegationRecordToJson(r));
  }
  SendJson(res, 200, {{"delegations", out}});
}

void GetDelegation(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kReadDelegations);
  auto r = ctx.service->registers()->FindDelegation(req.matches[1]);
  if (!r.ok()) Fail(r.status());
  if (!*r) Fail(404, "not-found", "Not found", "no delegation " + std::string(req.matches[1]));
  SendJson(res, 200, DelegationRecordToJson(**r));
}

void AddDelegation(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const Actor admin = Authorize(p, Operation::kChangeDelegation);
  nlohmann::json body = ParseBody(req);
  CheckTextLengths(body);
  DiagnosticSink sink("request", nullptr);
  auto registry = ctx.service->registry();
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
  auto added =
      ctx.service->registers()->AddDelegation(*delegation, admin, ctx.service->clock()->Now());
  if (!added.ok()) Fail(added.status());
  res.set_header("Location", "/v1/delegations/" + delegation->id);
  SendJson(res, 201, DelegationRecordToJson(*added));
}

void RevokeDelegation(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const Actor admin = Authorize(p, Operation::kChangeDelegation);
  std::string reason = RequiredReason(req);
  auto revoked = ctx.service->registers()->RevokeDelegation(req.matches[1], reason, admin,
                                                            ctx.service->clock()->Now());
  if (!revoked.ok()) Fail(revoked.status());
  SendJson(res, 200, DelegationRecordToJson(*revoked));
}

// ---- Credit records
// ------------------------------------------------------------------------------

void ListCreditRecords(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string code = Param(req, "credit_code");
  nlohmann::json out = nlohmann::json::array();
  auto records = ctx.service->registers()->CreditRecords(code);
  if (!records.ok()) Fail(records.status());
  for (const CreditRecord& r : *records) {
    if (Permissions::MaySeeCreditRecord(p, r)) out.push_back(CreditRecordToJson(r));
  }
  SendJson(res, 200, {{"credit_records", out}});
}

void GetCreditRecord(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  auto r = ctx.service->registers()->FindCreditRecord(id);
  if (!r.ok()) Fail(r.status());
  if (!*r || !Permissions::MaySeeCreditRecord(p, **r))
    Fail(404, "not-found", "Not found", "no credit record " + id);
  SendJson(res, 200, CreditRecordToJson(**r));
}

void RepairCreditRecord(const ApiContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const Actor admin = Authorize(p, Operation::kRepairCredit);
  std::string reason = RequiredReason(req);
  auto repaired = ctx.service->registers()->RepairCredit(req.matches[1], reason, admin,
                                                         ctx.service->clock()->Now());
  if (!repaired.ok()) Fail(repaired.status());
  SendJson(res, 200, CreditRecordToJson(*repaired));
}

// ---- Mandates
// ------------------------------------------------------------------------------------

void ListMandates(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  nlohmann::json out = nlohmann::json::array();
  auto mandates = ctx.service->registers()->Mandates();
  if (!mandates.ok()) Fail(mandates.status());
  for (const Mandate& m : *mandates) {
    if (Permissions::MaySeeMandate(p, m)) out.push_back(MandateToJson(m));
  }
  SendJson(res, 200, {{"mandates", out}});
}

void GetMandate(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  auto m = ctx.service->registers()->FindMandate(id);
  if (!m.ok()) Fail(m.status());
  if (!*m || !Permissions::MaySeeMandate(p, **m)) {
    Fail(404, "not-found", "Not found", "no mandate " + id + " granted to or by you");
  }
  SendJson(res, 200, MandateToJson(**m));
}

void GrantMandate(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const Actor applicant = Authorize(p, Operation::kGrantMandate);
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"agent", "definitions", "valid_until", "note"});
  Expect(body, "agent", IsString, "a principal id (string)", true);
  Expect(body, "definitions", IsArray, "an array of definition ids", false);
  Expect(body, "valid_until", IsString, "a timestamp", false);
  Expect(body, "note", IsString, "a string", false);
  CheckTextLengths(body);
  Mandate m;
  // Random, so that the same mandate granted twice at one instant gets two ids.
  std::random_device random;
  m.id = "mandate-" + Sha256Hex(p.id + body.dump() + FormatTimestamp(ctx.service->clock()->Now()) +
                                std::to_string(random()) + std::to_string(random()))
                          .substr(0, 16);
  m.applicant_id = p.id;
  m.applicant_name = p.name;
  m.agent_id = body["agent"].get<std::string>();
  const Principal* agent = nullptr;
  for (const Principal& candidate : ctx.principals->principals) {
    if (candidate.id == m.agent_id) agent = &candidate;
  }
  if (Status refused = Permissions::CheckMandateAgent(agent); !refused.ok()) Fail(refused);
  m.agent_name = agent->name;
  for (const auto& d : body.value("definitions", nlohmann::json::array())) {
    if (!d.is_string() || (!ctx.service->registry()->FindItem(d.get<std::string>()) &&
                           !ctx.service->registry()->FindBundle(d.get<std::string>()))) {
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
  auto granted = ctx.service->registers()->GrantMandate(m, applicant, ctx.service->clock()->Now());
  if (!granted.ok()) Fail(granted.status());
  res.set_header("Location", "/v1/mandates/" + m.id);
  SendJson(res, 201, MandateToJson(*granted));
}

void RevokeMandate(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  std::string id = req.matches[1];
  auto m = ctx.service->registers()->FindMandate(id);
  if (!m.ok()) Fail(m.status());
  if (!*m) Fail(404, "not-found", "Not found", "no mandate " + id + " granted by you");
  auto revoker = Permissions::AuthorizeMandateRevocation(p, **m);
  if (!revoker.ok()) Fail(revoker.status());
  // No members: an empty body, or {}. Anything else is refused, never ignored.
  CheckKeys(ParseOptionalBody(req), {});
  auto revoked = ctx.service->registers()->RevokeMandate(id, *revoker, ctx.service->clock()->Now());
  if (!revoked.ok()) Fail(revoked.status());
  SendJson(res, 200, MandateToJson(*revoked));
}

// ---- The ledger
// ----------------------------------------------------------------------------------

void Ledger(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kReadLedger);
  auto entries = ctx.service->registers()->Entries();
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

}  // namespace tongban::api
