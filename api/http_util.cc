#include "api/http_util.h"

#include <algorithm>

#include "workflows/json_document.h"

namespace tongban::api {

void Fail(int status, const std::string& slug, const std::string& title,
          const std::string& detail) {
  throw ProblemError{MakeProblem(status, slug, title, detail)};
}

void Fail(const Status& status, bool pinned) {
  throw ProblemError{ProblemFromStatus(status, pinned)};
}

std::string Dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(Dump(body), kJson);
}

void SendProblem(httplib::Response& res, const Problem& p) {
  res.status = p.status;
  // A 503 is temporary (a disk fault, a full queue, shutting down): say when to come back.
  if (p.status == 503) res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
  res.set_content(Dump(p.ToJson()), kProblemJson);
}

void SetVersionETag(httplib::Response& res, int64_t version) {
  res.set_header("ETag", "\"" + std::to_string(version) + "\"");
}

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

void CheckKeys(const nlohmann::json& body, const std::vector<std::string>& allowed,
               const std::string& pointer) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    Problem p = MakeProblem(422, "invalid", "The request is not valid",
                            "unknown field \"" + key + "\" at " + pointer + "/" + key);
    p.extra["errors"] = {{{"pointer", pointer + "/" + key}, {"message", "unknown field"}}};
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

std::string Param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

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

std::string RequiredReason(const httplib::Request& req) {
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"reason"});
  Expect(body, "reason", IsString, "a string", true);
  std::string reason = body["reason"].get<std::string>();
  if (reason.empty()) Fail(422, "invalid", "The request is not valid", "\"reason\" is empty");
  return reason;
}

}  // namespace tongban::api
