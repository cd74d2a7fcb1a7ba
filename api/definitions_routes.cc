// /v1/definitions: the deployed items and bundles — list, deploy (admin), get, graph.
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/graphviz.h"
#include "api/handlers.h"
#include "api/http_util.h"
#include "workflows/graph.h"
#include "workflows/json_document.h"

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
                         {"issues", part.issues},
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

namespace {

// SVG of immutable definitions, by content hash and rankdir: Graphviz runs once per picture.
class SvgCache {
 public:
  std::optional<std::string> Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = svgs_.find(key);
    return it == svgs_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  void Put(const std::string& key, std::string svg) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (svgs_.size() >= kCapacity) svgs_.clear();  // a few hundred pictures; no need for LRU
    svgs_[key] = std::move(svg);
  }

 private:
  static constexpr size_t kCapacity = 256;
  std::mutex mutex_;
  std::map<std::string, std::string> svgs_;
};

}  // namespace

void GetGraph(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Authenticate(ctx, req);
  std::string id = req.matches[1];
  const int version = VersionParam(req);
  auto item = ctx.service->registry()->FindItem(id, version);
  auto bundle = item ? nullptr : ctx.service->registry()->FindBundle(id, version);
  if (!item && !bundle) Fail(404, "not-found", "Not found", "no definition " + id);
  std::string format = req.has_param("format") ? req.get_param_value("format") : "mermaid";
  if (format != "mermaid" && format != "dot" && format != "svg") {
    Fail(422, "invalid", "The request is not valid", "format must be mermaid, dot or svg");
  }
  // A page reads top to bottom; the DOT text keeps its left-to-right default.
  DotOptions options;
  options.rankdir = format == "svg" ? "TB" : "LR";
  if (req.has_param("rankdir")) {
    options.rankdir = req.get_param_value("rankdir");
    if (!IsRankdir(options.rankdir) || format == "mermaid") {
      Fail(422, "invalid", "The request is not valid",
           "rankdir must be TB or LR, with format dot or svg");
    }
  }
  if (format == "mermaid") {
    res.set_content(item ? RenderMermaid(*item) : RenderMermaid(*bundle),
                    "text/vnd.mermaid; charset=utf-8");
    res.status = 200;
    return;
  }
  std::string dot = item ? RenderDot(*item, options) : RenderDot(*bundle, options);
  if (format == "dot") {
    res.set_content(dot, "text/vnd.graphviz; charset=utf-8");
    res.status = 200;
    return;
  }
  static SvgCache cache;
  const std::string key =
      (item ? item->content_hash : bundle->content_hash) + "/" + options.rankdir;
  std::optional<std::string> svg = cache.Find(key);
  if (!svg) {
    auto rendered = RenderSvg(dot);
    if (!rendered.ok()) Fail(rendered.status());
    svg = *rendered;
    cache.Put(key, *svg);
  }
  res.set_content(*svg, "image/svg+xml");
  res.status = 200;
}

namespace {

// Principals (who may call the API) come from the server's own file and are never stored.
void RefusePrincipals(const nlohmann::json& parsed) {
  if (!parsed.is_object() || !parsed.contains("kind") || parsed["kind"] != "principals") return;
  Problem p = MakeProblem(422, "invalid-definition", "The definition is not valid",
                          "principals are not deployed over the API; only process definitions");
  p.extra["errors"] = {{{"pointer", "/kind"}, {"message", "not a process definition kind"}}};
  throw ProblemError{p};
}

// The outcome of DefinitionRegistry::Deploy or Validate: its refusal as a problem — the
// definitions' errors as errors[] {pointer, code, message, line, column} for kInvalidArgument —
// or the warnings of a success.
nlohmann::json CheckedOrFail(const Result<DeployOutcome>& outcome,
                             const std::vector<Diagnostic>& diagnostics) {
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
  nlohmann::json warnings = nlohmann::json::array();
  for (const Diagnostic& d : outcome->diagnostics)
    warnings.push_back(DiagnosticToJson(d));
  return warnings;
}

}  // namespace

void DeployDefinition(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kDeploy);
  RefusePrincipals(ParseBody(req));  // refuse malformed JSON with a position first
  std::vector<Diagnostic> diagnostics;
  auto outcome = ctx.service->registry()->Deploy({{"request body", req.body}},
                                                 ctx.service->clock()->Now(), &diagnostics);
  nlohmann::json warnings = CheckedOrFail(outcome, diagnostics);
  nlohmann::json body = {{"deployed", outcome->deployed}, {"unchanged", outcome->unchanged}};
  body["warnings"] = warnings;
  SendJson(res, outcome->deployed.empty() ? 200 : 201, body);
}

void ValidateDefinition(const ApiContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kValidateDefinition);
  // Malformed JSON is one of the diagnostics here (json-syntax, with its line and column), as in
  // `tongban validate`; only a well-formed principals file is refused before checking.
  if (auto parsed = JsonDocument::Parse(req.body); parsed.ok()) RefusePrincipals(parsed->root());
  std::vector<Diagnostic> diagnostics;
  auto outcome = ctx.service->registry()->Validate({{"request body", req.body}},
                                                   ctx.service->clock()->Now(), &diagnostics);
  nlohmann::json warnings = CheckedOrFail(outcome, diagnostics);
  if (outcome->definitions.empty()) Fail(500, "internal", "Internal error", "nothing was checked");
  const DefinitionKey& key = outcome->definitions.front();
  SendJson(res, 200,
           {{"ok", true},
            {"kind", key.kind},
            {"id", key.id},
            {"version", key.version},
            {"already_deployed", !outcome->unchanged.empty()},
            {"warnings", warnings}});
}

}  // namespace tongban::api
