// /v1/definitions: the deployed items and bundles — list, deploy (admin), get, graph.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_util.h"
#include "workflows/graph.h"

namespace tongban::api {

void ListDefinitions(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Authenticate(ctx, req);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& item : ctx.service->registry()->Items()) {
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
  for (const auto& bundle : ctx.service->registry()->Bundles()) {
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

void GetDefinition(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Authenticate(ctx, req);
  std::string id = req.matches[1];
  const int version = VersionParam(req);
  DefinitionRegistry* registry = ctx.service->registry();
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

void GetGraph(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Authenticate(ctx, req);
  std::string id = req.matches[1];
  const int version = VersionParam(req);
  auto item = ctx.service->registry()->FindItem(id, version);
  auto bundle = item ? nullptr : ctx.service->registry()->FindBundle(id, version);
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

void DeployDefinition(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kDeploy);
  nlohmann::json parsed = ParseBody(req);  // refuse malformed JSON with a position first
  if (parsed.contains("kind") && parsed["kind"] == "principals") {
    // Principals (who may call the API) come from the server's own file and are never stored.
    Problem p = MakeProblem(422, "invalid-definition", "The definition is not valid",
                            "principals are not deployed over the API; only process definitions");
    p.extra["errors"] = {{{"pointer", "/kind"}, {"message", "not a process definition kind"}}};
    throw ProblemError{p};
  }
  std::vector<Diagnostic> diagnostics;
  auto outcome = ctx.service->registry()->Deploy({{"request body", req.body}},
                                                 ctx.service->clock()->Now(), &diagnostics);
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

}  // namespace tongban::api
