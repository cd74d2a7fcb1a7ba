// GET /healthz, GET /metrics, GET /openapi.json: no token.
#include <map>
#include <sstream>

#include "api/handlers.h"
#include "api/http_util.h"
#include "api/server.h"
#include "engine/audit_queries.h"

namespace tongban::api {

namespace {

// Keys listed per dimension at most; the rest are summed under key="(other)". Keys are organ and
// item ids of the deployed definitions (tens), so this bound is a guard, not a cut in practice.
constexpr size_t kMaxIndicatorKeys = 100;

// The indicators of the current month (in the items' calendar) as gauges
// tongban_indicator{by, key, name}: one series per dimension (organ, item, zone), key and counter
// name — never per case or per month, so the series are bounded by the deployed definitions.
void AppendIndicatorGauges(const ApiContext& ctx, std::ostringstream& out) {
  AuditQueries queries(ctx.service);
  auto calendar = queries.PeriodCalendar();
  if (!calendar.ok()) return;
  const std::string month = FormatMonth((*calendar)->LocalDate(ctx.service->clock()->Now()));
  auto counts = ctx.service->store()->Indicators(month, month);
  if (!counts.ok()) return;
  out << "# HELP tongban_indicator Indicators (赛马) of the cases applied for this month, by "
         "organ, item and zone (key=\"\" is the total).\n"
      << "# TYPE tongban_indicator gauge\n";
  for (const auto& [by, grouping] :
       {std::pair{"organ", IndicatorGrouping::kOrgan}, std::pair{"item", IndicatorGrouping::kItem},
        std::pair{"zone", IndicatorGrouping::kZone}}) {
    std::vector<IndicatorFigures> rows = SummarizeIndicators(*counts, grouping, false);
    std::map<std::string, std::map<std::string, int64_t>> series;
    size_t keys = 0;
    for (const IndicatorFigures& row : rows) {
      const bool listed = row.key.empty() || keys++ < kMaxIndicatorKeys;
      for (const auto& [name, n] : row.counts)
        series[listed ? row.key : "(other)"][name] += n;
    }
    for (const auto& [key, names] : series) {
      for (const auto& [name, n] : names) {
        out << "tongban_indicator{by=\"" << by << "\",key=\"" << PrometheusLabel(key)
            << "\",name=\"" << name << "\"} " << n << "\n";
      }
    }
  }
}

}  // namespace

void Health(const ApiContext&, const httplib::Request&, httplib::Response& res) {
  SendJson(res, 200, {{"status", "ok"}});
}

void MetricsText(const ApiContext& ctx, const httplib::Request&, httplib::Response& res) {
  std::ostringstream extra;
  // Counted by the engine as they commit: every event once, whatever caused it.
  extra << "# HELP tongban_transitions_total Case events committed, by action and resulting "
           "status.\n"
        << "# TYPE tongban_transitions_total counter\n";
  for (const auto& [key, n] : ctx.service->transitions().Counts()) {
    extra << "tongban_transitions_total{action=\"" << PrometheusLabel(key.first) << "\",status=\""
          << PrometheusLabel(key.second) << "\"} " << n << "\n";
  }
  StoreStats stats = ctx.service->store()->Stats();
  extra << "# HELP tongban_store_commits_total Durable transactions.\n"
        << "# TYPE tongban_store_commits_total counter\n"
        << "tongban_store_commits_total " << stats.commits << "\n"
        << "# HELP tongban_store_writes_total Case writes committed (a batch holds several).\n"
        << "# TYPE tongban_store_writes_total counter\n"
        << "tongban_store_writes_total " << stats.writes << "\n"
        << "# HELP tongban_store_commit_batch_max The largest commit batch so far.\n"
        << "# TYPE tongban_store_commit_batch_max gauge\n"
        << "tongban_store_commit_batch_max " << stats.max_batch << "\n"
        << "# HELP tongban_store_wal_checkpoints_total SQLite's WAL copied back into the file.\n"
        << "# TYPE tongban_store_wal_checkpoints_total counter\n"
        << "tongban_store_wal_checkpoints_total " << stats.wal_checkpoints << "\n"
        << "# HELP tongban_store_wal_checkpoint_failures_total WAL checkpoints that failed (each "
           "is tried again).\n"
        << "# TYPE tongban_store_wal_checkpoint_failures_total counter\n"
        << "tongban_store_wal_checkpoint_failures_total " << stats.wal_checkpoint_failures << "\n";
  if (auto counts = ctx.service->store()->CountByStatus(); counts.ok()) {
    extra << "# HELP tongban_cases Cases by status.\n# TYPE tongban_cases gauge\n";
    for (const auto& [status, n] : *counts) {
      extra << "tongban_cases{status=\"" << status << "\"} " << n << "\n";
    }
  }
  // Lights from the counts the store keeps on write (no case is read).
  if (auto lights = ctx.service->CountLights(LightClock::kDecision); lights.ok()) {
    extra << "# HELP tongban_open_cases_by_light Cases under review by light.\n"
          << "# TYPE tongban_open_cases_by_light gauge\n"
          << "tongban_open_cases_by_light{light=\"green\"} " << lights->green << "\n"
          << "tongban_open_cases_by_light{light=\"red\"} " << lights->red << "\n"
          << "tongban_open_cases_by_light{light=\"yellow\"} " << lights->yellow << "\n";
  }
  // 送达 (art. 44): granted cases awaiting delivery, red once past the 10th working day; also from
  // the counts kept on write.
  if (auto deliveries = ctx.service->CountLights(LightClock::kDelivery); deliveries.ok()) {
    extra << "# HELP tongban_undelivered_grants_by_light Granted cases awaiting delivery of the "
             "certificate (10 working days, art. 44), by light.\n"
          << "# TYPE tongban_undelivered_grants_by_light gauge\n"
          << "tongban_undelivered_grants_by_light{light=\"green\"} " << deliveries->green << "\n"
          << "tongban_undelivered_grants_by_light{light=\"red\"} " << deliveries->red << "\n"
          << "tongban_undelivered_grants_by_light{light=\"yellow\"} " << deliveries->yellow << "\n";
  }
  AppendIndicatorGauges(ctx, extra);
  res.status = 200;
  res.set_content(ctx.metrics->Render(extra.str()), "text/plain; version=0.0.4");
}

void OpenApi(const ApiContext&, const httplib::Request&, httplib::Response& res) {
  res.status = 200;
  res.set_content(OpenApiDocument(), kJson);
}

}  // namespace tongban::api
