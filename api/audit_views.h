// The audit queries' and the indicators' answers as JSON and as CSV (RFC 4180: a header row, CRLF
// line ends, fields quoted when they hold a comma, a quote or a line break; UTF-8, no BOM).
//
// Machine fields are RFC 3339 in UTC (`time`, `applied_at`); the local day in the calendar's time
// zone beside them (`time_local`, `decided_on`) is what people read. An event written before names
// were recorded (engine/action_provenance.h) has `actor.name` null and `name_recorded` false, an
// empty `actor_name` column in CSV: it is never filled in with today's names.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/audit_queries.h"
#include "engine/definition_registry.h"

namespace tongban::api {

nlohmann::json PeriodJson(const Period& period, const Calendar& calendar);

nlohmann::json AuditCasesJson(const AuditAnswer<AuditCaseRow>& answer,
                              const DefinitionRegistry& registry);
std::string AuditCasesCsv(const AuditAnswer<AuditCaseRow>& answer);

nlohmann::json AuditEventsJson(const AuditAnswer<AuditEventRow>& answer, const Calendar& calendar);
std::string AuditEventsCsv(const AuditAnswer<AuditEventRow>& answer, const Calendar& calendar);

// `grouping`'s keys are named from the definitions (organ names, item titles).
nlohmann::json IndicatorsJson(const std::vector<IndicatorFigures>& rows, IndicatorGrouping grouping,
                              const DefinitionRegistry& registry);
std::string IndicatorsCsv(const std::vector<IndicatorFigures>& rows, IndicatorGrouping grouping,
                          const DefinitionRegistry& registry);

// One CSV field as written: quoted when it must be.
std::string CsvField(const std::string& value);

}  // namespace tongban::api
