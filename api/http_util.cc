#include "api/http_util.h"

#include <algorithm>
#include <cstdio>

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
  // RFC 9110 §15.5.2 requires the challenge on every 401; RFC 6750 names the scheme.
  if (p.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"tongban\"");
  res.set_content(Dump(p.ToJson()), kProblemJson);
}

void SetVersionETag(httplib::Response& res, int64_t version) {
  res.set_header("ETag", "\"" + std::to_string(version) + "\"");
}

namespace {

// A refusal of the body as a whole: its errors[] point at the document ("").
[[noreturn]] void FailBody(Problem p) {
  p.extra["errors"] = {{{"pointer", ""}, {"message", p.detail}}};
  throw ProblemError{p};
}

}  // namespace

nlohmann::json ParseBody(const httplib::Request& req) {
  if (req.body.empty()) {
    FailBody(MakeProblem(400, "malformed-json", "Malformed JSON", "the request body is empty"));
  }
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
    FailBody(p);
  }
  if (!document->root().is_object()) {
    FailBody(MakeProblem(422, "invalid", "The request is not valid",
                         "the request body must be a JSON object"));
  }
  return std::move(document).value().mutable_root();
}

nlohmann::json ParseOptionalBody(const httplib::Request& req) {
  return req.body.empty() ? nlohmann::json::object() : ParseBody(req);
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

void CheckTextLengths(const nlohmann::json& value, const std::string& pointer) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    // Code points: every byte but UTF-8 continuation bytes starts one.
    size_t chars = std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
    if (chars <= kMaxTextChars) return;
    const std::string limit = "at most " + std::to_string(kMaxTextChars) + " characters";
    Problem p =
        MakeProblem(422, "invalid", "The request is not valid",
                    pointer + " is " + std::to_string(chars) + " characters long; " + limit);
    p.extra["errors"] = {{{"pointer", pointer}, {"message", "must be " + limit}}};
    throw ProblemError{p};
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      std::string escaped;  // RFC 6901
      for (char c : key)
        escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      CheckTextLengths(member, pointer + "/" + escaped);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      CheckTextLengths(value[i], pointer + "/" + std::to_string(i));
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

std::string IdempotencyKey(const httplib::Request& req) {
  if (!req.has_header("Idempotency-Key")) return "";
  std::string key = req.get_header_value("Idempotency-Key");
  auto refuse = [](const std::string& why) {
    Fail(400, "bad-idempotency-key", "Malformed Idempotency-Key", why);
  };
  if (key.empty()) refuse("Idempotency-Key is empty; send a key, or no header");
  if (key.size() > kMaxIdempotencyKeyBytes) {
    refuse("Idempotency-Key has " + std::to_string(key.size()) + " bytes; at most " +
           std::to_string(kMaxIdempotencyKeyBytes) + " are kept");
  }
  for (size_t i = 0; i < key.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c > 0x7E) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", c);
      refuse("Idempotency-Key byte " + std::to_string(i + 1) + " is " + byte +
             "; a key is printable ASCII (a UUID, say)");
    }
  }
  return key;
}

std::optional<int64_t> IfMatchVersion(const httplib::Request& req) {
  // RFC 9110 §13.1.1: If-Match is "*" or a list of entity tags, compared strongly — as strings,
  // and a weak tag never matches. A case's tag is its version in decimal without leading zeros,
  // so "01" names no version and W/"1" matches none: both are 412, not version 1.
  const std::string value = req.get_header_value("If-Match");
  auto malformed = [] {
    Fail(400, "bad-if-match", "Malformed If-Match",
         "If-Match is \"*\" or a list of entity tags such as \"3\" (RFC 9110)");
  };
  size_t i = 0;
  auto skip_list_space = [&] {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
      ++i;
  };
  skip_list_space();
  if (value.size() > i && value[i] == '*' &&
      value.find_first_not_of(" \t", i + 1) == std::string::npos) {
    return std::nullopt;
  }
  std::optional<std::string> match;
  bool any = false;
  while (i < value.size()) {
    bool weak = value.compare(i, 2, "W/") == 0;
    if (weak) i += 2;
    if (i >= value.size() || value[i] != '"') malformed();
    size_t close = i + 1;
    // etagc: %x21 / %x23-7E / obs-text
    while (close < value.size() && value[close] != '"') {
      unsigned char c = static_cast<unsigned char>(value[close]);
      if (c < 0x21 || c == 0x7F) malformed();
      ++close;
    }
    if (close >= value.size()) malformed();
    std::string opaque = value.substr(i + 1, close - i - 1);
    i = close + 1;
    any = true;
    if (!weak) {
      if (match && *match != opaque) {
        Fail(400, "bad-if-match", "Malformed If-Match",
             "If-Match names several versions; an action is pinned to one");
      }
      match = opaque;
    }
    skip_list_space();
    if (i == value.size()) break;
    if (value[i] != ',') malformed();
    ++i;
    skip_list_space();
    if (i == value.size()) malformed();
  }
  if (!any) malformed();
  const bool canonical =
      match && !match->empty() && match->size() <= 15 && (*match)[0] != '0' &&
      std::all_of(match->begin(), match->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!canonical) {
    Fail(412, "stale-version", "The case has changed since you read it",
         "If-Match " + value +
             " matches no version of this case: entity tags compare as strings and weak tags "
             "never match (RFC 9110 strong comparison)");
  }
  return std::stoll(*match);
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
  CheckTextLengths(body);
  std::string reason = body["reason"].get<std::string>();
  if (reason.empty()) Fail(422, "invalid", "The request is not valid", "\"reason\" is empty");
  return reason;
}

}  // namespace tongban::api
