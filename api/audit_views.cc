#include "api/audit_views.h"

#include <cstdio>

#include "engine/clock.h"
#include "workflows/frame_actions.h"

namespace tongban::api {

namespace {

const char* const kGroupingNames[] = {"organ", "item", "zone"};

nlohmann::json OptionalDay(const std::optional<Day>& day) {
  return day ? nlohmann::json(FormatIsoDay(*day)) : nlohmann::json(nullptr);
}

nlohmann::json OptionalText(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

nlohmann::json OptionalShare(const std::optional<double>& share) {
  if (!share) return nullptr;
  // Four decimals: a rate, not a measurement.
  return static_cast<double>(static_cast<int64_t>(*share * 10000.0 + 0.5)) / 10000.0;
}

std::string CsvNumber(const std::optional<double>& share) {
  if (!share) return "";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", *share);
  return buffer;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += CsvField(fields[i]);
  }
  return line + "\r\n";
}

std::string ActionTitle(const std::string& action) {
  const FrameActionSpec* frame = FindFrameAction(action);
  return frame != nullptr ? frame->title : action;
}

std::string KeyName(IndicatorGrouping grouping, const std::string& key,
                    const DefinitionRegistry& registry) {
  if (key.empty()) return "合计";
  if (grouping == IndicatorGrouping::kItem) {
    auto item = registry.FindItem(key);
    return item ? item->title : key;
  }
  const std::string name = registry.OrganName(key);
  return name.empty() ? key : name;
}

}  // namespace

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

nlohmann::json PeriodJson(const Period& period, const Calendar& calendar) {
  return {{"first_day", FormatIsoDay(period.first)},
          {"last_day", FormatIsoDay(period.last)},
          {"time_zone", calendar.time_zone()},
          {"from", FormatTimestamp(period.from)},
          {"to", FormatTimestamp(period.to)}};
}

nlohmann::json AuditCasesJson(const AuditAnswer<AuditCaseRow>& answer,
                              const DefinitionRegistry& registry) {
  nlohmann::json rows = nlohmann::json::array();
  for (const AuditCaseRow& r : answer.rows) {
    const CaseFacts& f = r.facts;
    auto item = registry.FindItem(f.item);
    rows.push_back({{"case_id", r.case_id},
                    {"number", r.number},
                    {"status", r.status},
                    {"status_title", StatusTitle(r.status)},
                    {"item", f.item},
                    {"item_title", item ? item->title : f.item},
                    {"organ", f.organ},
                    {"organ_name", registry.OrganName(f.organ)},
                    {"zone", f.zone},
                    {"month", f.month},
                    {"applied_at", FormatTimestamp(f.applied_at)},
                    {"decided_at", f.decided_at ? nlohmann::json(FormatTimestamp(*f.decided_at))
                                                : nlohmann::json(nullptr)},
                    {"decided_on", OptionalDay(r.decided_on)},
                    {"decision", OptionalText(r.decision)},
                    {"statutory_due", OptionalDay(r.statutory_due)},
                    {"promised_due", OptionalDay(r.promised_due)},
                    {"late_statutory", f.late_statutory},
                    {"late_promised", f.late_promised},
                    {"working_days_used", r.working_days_used},
                    {"channel", OptionalText(r.channel)},
                    {"visits", r.visits}});
  }
  return {{"cases", rows}, {"count", answer.rows.size()}, {"truncated", answer.truncated}};
}

std::string AuditCasesCsv(const AuditAnswer<AuditCaseRow>& answer) {
  std::string out =
      CsvLine({"case_id", "number", "status", "item", "organ", "zone", "month", "applied_at",
               "decided_at", "decided_on", "decision", "statutory_due", "promised_due",
               "late_statutory", "late_promised", "working_days_used", "channel", "visits"});
  auto day = [](const std::optional<Day>& d) { return d ? FormatIsoDay(*d) : std::string(); };
  for (const AuditCaseRow& r : answer.rows) {
    const CaseFacts& f = r.facts;
    out +=
        CsvLine({r.case_id, r.number, r.status, f.item, f.organ, f.zone, f.month,
                 FormatTimestamp(f.applied_at), f.decided_at ? FormatTimestamp(*f.decided_at) : "",
                 day(r.decided_on), r.decision, day(r.statutory_due), day(r.promised_due),
                 f.late_statutory ? "true" : "false", f.late_promised ? "true" : "false",
                 std::to_string(r.working_days_used), r.channel, std::to_string(r.visits)});
  }
  return out;
}

nlohmann::json AuditEventsJson(const AuditAnswer<AuditEventRow>& answer, const Calendar& calendar) {
  nlohmann::json rows = nlohmann::json::array();
  for (const AuditEventRow& r : answer.rows) {
    const Event& e = r.event;
    nlohmann::json row = {{"case_id", e.case_id},
                          {"case_number", r.case_number},
                          {"seq", e.seq},
                          {"time", FormatTimestamp(e.time)},
                          {"time_local", FormatTimestampIn(e.time, calendar.time_zone())},
                          {"action", e.action},
                          {"action_title", ActionTitle(e.action)},
                          {"status", e.status},
                          {"actor",
                           {{"id", e.actor.id},
                            {"role", e.actor.role},
                            {"organ", e.actor.organ},
                            {"name", OptionalText(r.actor_name)},
                            {"organ_name", OptionalText(r.actor_organ_name)},
                            {"name_recorded", !r.actor_name.empty() || e.actor.role == "system"}}},
                          {"delegation", OptionalText(r.delegation)},
                          {"hash", e.hash}};
    if (!r.delegation_ended.empty()) {
      row["delegation_ended"] = r.delegation_ended;
      row["delegation_revoked_at"] = r.delegation_revoked_at
                                         ? nlohmann::json(FormatTimestamp(*r.delegation_revoked_at))
                                         : nlohmann::json(nullptr);
      row["delegation_effective_to"] = OptionalDay(r.delegation_effective_to);
    }
    if (!r.result.empty()) row["result"] = r.result;
    if (!r.reason.empty()) row["reason"] = r.reason;
    rows.push_back(std::move(row));
  }
  return {{"events", rows}, {"count", answer.rows.size()}, {"truncated", answer.truncated}};
}

std::string AuditEventsCsv(const AuditAnswer<AuditEventRow>& answer, const Calendar& calendar) {
  std::string out =
      CsvLine({"case_id", "case_number", "seq", "time", "time_local", "action", "status",
               "actor_id", "actor_role", "actor_organ", "actor_name", "actor_organ_name",
               "delegation", "delegation_ended", "result", "reason", "hash"});
  for (const AuditEventRow& r : answer.rows) {
    const Event& e = r.event;
    out += CsvLine({e.case_id, r.case_number, std::to_string(e.seq), FormatTimestamp(e.time),
                    FormatTimestampIn(e.time, calendar.time_zone()), e.action, e.status, e.actor.id,
                    e.actor.role, e.actor.organ, r.actor_name, r.actor_organ_name, r.delegation,
                    r.delegation_ended, r.result, r.reason, e.hash});
  }
  return out;
}

nlohmann::json IndicatorsJson(const std::vector<IndicatorFigures>& rows, IndicatorGrouping grouping,
                              const DefinitionRegistry& registry) {
  nlohmann::json out = nlohmann::json::array();
  for (const IndicatorFigures& f : rows) {
    nlohmann::json counts = nlohmann::json::object();
    for (const std::string& name : IndicatorNames())
      counts[name] = f.Count(name);
    out.push_back({{"month", OptionalText(f.month)},
                   {"key", OptionalText(f.key)},
                   {"name", KeyName(grouping, f.key, registry)},
                   {"counts", counts},
                   {"rates",
                    {{"on_time_statutory", OptionalShare(f.OnTimeRateStatutory())},
                     {"on_time_promised", OptionalShare(f.OnTimeRatePromised())},
                     {"average_working_days", OptionalShare(f.AverageWorkingDays())},
                     {"correction_notices", OptionalShare(f.CorrectionRate())},
                     {"decided_at_acceptance", OptionalShare(f.DecidedAtAcceptanceShare())},
                     {"withdrawals", OptionalShare(f.WithdrawalRate())},
                     {"denials", OptionalShare(f.DenialRate())},
                     {"average_rating", OptionalShare(f.AverageRating())},
                     {"bad_ratings", OptionalShare(f.BadRatingShare())}}}});
  }
  return {{"by", kGroupingNames[static_cast<int>(grouping)]}, {"rows", out}};
}

std::string IndicatorsCsv(const std::vector<IndicatorFigures>& rows, IndicatorGrouping grouping,
                          const DefinitionRegistry& registry) {
  std::vector<std::string> header = {"month", kGroupingNames[static_cast<int>(grouping)], "name"};
  for (const std::string& name : IndicatorNames())
    header.push_back(name);
  for (const char* rate : {"on_time_rate_statutory", "on_time_rate_promised",
                           "average_working_days", "correction_rate", "decided_at_acceptance_share",
                           "withdrawal_rate", "denial_rate", "average_rating", "bad_rating_share"})
    header.push_back(rate);
  std::string out = CsvLine(header);
  for (const IndicatorFigures& f : rows) {
    std::vector<std::string> fields = {f.month, f.key, KeyName(grouping, f.key, registry)};
    for (const std::string& name : IndicatorNames())
      fields.push_back(std::to_string(f.Count(name)));
    for (const auto& share :
         {f.OnTimeRateStatutory(), f.OnTimeRatePromised(), f.AverageWorkingDays(),
          f.CorrectionRate(), f.DecidedAtAcceptanceShare(), f.WithdrawalRate(), f.DenialRate(),
          f.AverageRating(), f.BadRatingShare()})
      fields.push_back(CsvNumber(share));
    out += CsvLine(fields);
  }
  return out;
}

}  // namespace tongban::api
