// /v1/audit/…: the auditor's queries, and /v1/indicators (赛马). JSON, or CSV with `?format=csv`
// or `Accept: text/csv`. Periods are local days of the items' calendar (`month=2026-11`, or
// `from=2026-11-01&to=2026-11-30`), turned into UTC bounds by the engine (ParsePeriod). Who may ask
// is the engine's (Operation::kAudit, kReadIndicators); the answers come from the store's indexes
// and counters (engine/audit_queries.h, engine/indicators.h).
#include <algorithm>

#include "api/audit_views.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_util.h"

namespace tongban::api {

namespace {

constexpr const char* kCsv = "text/csv; charset=utf-8";

// Whether the answer is to be CSV: ?format=csv, or Accept naming text/csv without ?format=json.
bool WantsCsv(const httplib::Request& req) {
  const std::string format = Param(req, "format");
  if (format == "csv") return true;
  if (format == "json") return false;
  if (!format.empty()) {
    Fail(422, "invalid", "The request is not valid",
         "format must be json or csv, not \"" + format + "\"");
  }
  return req.get_header_value("Accept").find("text/csv") != std::string::npos;
}

void SendCsv(httplib::Response& res, const std::string& text) {
  res.status = 200;
  res.set_content(text, kCsv);
}

int LimitParam(const httplib::Request& req) {
  const std::string l = Param(req, "limit");
  if (l.empty()) return 1000;
  if (l.size() > 5 || !std::all_of(l.begin(), l.end(), ::isdigit) || std::stoi(l) < 1 ||
      std::stoi(l) > AuditQueries::kMaxLimit) {
    Fail(422, "invalid", "The request is not valid",
         "limit must be 1.." + std::to_string(AuditQueries::kMaxLimit));
  }
  return std::stoi(l);
}

// What every audit query starts from: the caller checked, the calendar, the period asked for.
struct AuditRequest {
  AuditQueries queries;
  std::shared_ptr<const Calendar> calendar;
  Period period;
};

AuditRequest StartAudit(const ApiContext& ctx, const httplib::Request& req, Operation operation) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, operation);
  AuditQueries queries(ctx.service);
  auto calendar = queries.PeriodCalendar();
  if (!calendar.ok()) Fail(calendar.status());
  auto period = ParsePeriod(Param(req, "month"), Param(req, "from"), Param(req, "to"), **calendar,
                            ctx.service->clock()->Now());
  if (!period.ok()) Fail(period.status());
  return {queries, *calendar, *period};
}

void SendCases(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
               const AuditRequest& asked, const char* query,
               const Result<AuditAnswer<AuditCaseRow>>& answer, nlohmann::json extra = {}) {
  if (!answer.ok()) Fail(answer.status());
  if (WantsCsv(req)) return SendCsv(res, AuditCasesCsv(*answer));
  nlohmann::json body = AuditCasesJson(*answer, *ctx.service->registry());
  body["query"] = query;
  body["period"] = PeriodJson(asked.period, *asked.calendar);
  if (extra.is_object()) body.update(extra);
  SendJson(res, 200, body);
}

void SendEvents(const httplib::Request& req, httplib::Response& res, const AuditRequest& asked,
                const char* query, const Result<AuditAnswer<AuditEventRow>>& answer,
                nlohmann::json extra = {}) {
  if (!answer.ok()) Fail(answer.status());
  if (WantsCsv(req)) return SendCsv(res, AuditEventsCsv(*answer, *asked.calendar));
  nlohmann::json body = AuditEventsJson(*answer, *asked.calendar);
  body["query"] = query;
  body["period"] = PeriodJson(asked.period, *asked.calendar);
  if (extra.is_object()) body.update(extra);
  SendJson(res, 200, body);
}

}  // namespace

void AuditLateDecisions(const ApiContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kAudit);
  const std::string against_text = Param(req, "against").empty() ? "either" : Param(req, "against");
  LateAgainst against = LateAgainst::kEither;
  if (against_text == "statutory") {
    against = LateAgainst::kStatutory;
  } else if (against_text == "promised") {
    against = LateAgainst::kPromised;
  } else if (against_text != "either") {
    Fail(422, "invalid", "The request is not valid",
         "against must be statutory, promised or either, not \"" + against_text + "\"");
  }
  auto answer = asked.queries.LateDecisions(asked.period, against, Param(req, "organ"),
                                            Param(req, "item"), LimitParam(req));
  SendCases(ctx, req, res, asked, "late-decisions", answer, {{"against", against_text}});
}

void AuditCases(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kAudit);
  auto answer =
      asked.queries.Cases(asked.period, Param(req, "organ"), Param(req, "item"), LimitParam(req));
  SendCases(ctx, req, res, asked, "cases", answer);
}

void AuditActorActions(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kAudit);
  const std::string actor = req.matches[1];
  auto answer = asked.queries.ActorActions(actor, asked.period, LimitParam(req));
  nlohmann::json extra = {{"actor", actor}};
  // The principal as the server knows it now, apart from the names each event recorded.
  for (const Principal& now : ctx.principals->principals) {
    if (now.id != actor) continue;
    extra["actor_now"] = {{"name", now.name}, {"organ", now.organ}, {"roles", now.roles}};
  }
  SendEvents(req, res, asked, "actor-actions", answer, extra);
}

void AuditDelegatedActions(const ApiContext& ctx, const httplib::Request& req,
                           httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kAudit);
  SendEvents(req, res, asked, "delegated-actions",
             asked.queries.DelegatedActions(asked.period, LimitParam(req)));
}

void AuditVerifications(const ApiContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kAudit);
  SendEvents(req, res, asked, "verifications",
             asked.queries.Verifications(asked.period, LimitParam(req)));
}

void Indicators(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  AuditRequest asked = StartAudit(ctx, req, Operation::kReadIndicators);
  const std::string by = Param(req, "by").empty() ? "organ" : Param(req, "by");
  auto grouping = ParseIndicatorGrouping(by);
  if (!grouping) {
    Fail(422, "invalid", "The request is not valid",
         "by must be organ, item or zone, not \"" + by + "\"");
  }
  auto counts = ctx.service->store()->Indicators(asked.period.first_month, asked.period.last_month);
  if (!counts.ok()) Fail(counts.status());
  const std::vector<IndicatorFigures> rows =
      SummarizeIndicators(*counts, *grouping, /*by_month=*/true);
  if (WantsCsv(req)) return SendCsv(res, IndicatorsCsv(rows, *grouping, *ctx.service->registry()));
  nlohmann::json body = IndicatorsJson(rows, *grouping, *ctx.service->registry());
  // Indicators are kept per month of application: the period is widened to whole months.
  nlohmann::json period = PeriodJson(asked.period, *asked.calendar);
  period["first_month"] = asked.period.first_month;
  period["last_month"] = asked.period.last_month;
  body["period"] = period;
  SendJson(res, 200, body);
}

}  // namespace tongban::api
