// Request and response helpers shared by every route group: strict body parsing and validation,
// JSON and problem responses, and the headers the API reads (If-Match, ?version=).
//
// A handler refuses a request by throwing ProblemError (Fail, or a parse or check below); the
// route wrapper (routes.cc) catches it and sends the problem. Exceptions stop at this HTTP edge.
//
// Thread safety: every function is pure apart from the response it writes.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/problem.h"
#include "workflows/status.h"

namespace tongban::api {

inline constexpr const char* kJson = "application/json";
inline constexpr const char* kProblemJson = "application/problem+json";
// The Retry-After (seconds) of every 503.
inline constexpr int kRetryAfterSeconds = 1;

// Raised inside handlers to answer with a problem; caught by the route wrapper.
struct ProblemError {
  Problem problem;
};

[[noreturn]] void Fail(int status, const std::string& slug, const std::string& title,
                       const std::string& detail);
// `pinned`: an If-Match was given, so kAborted is 412 (ProblemFromStatus).
[[noreturn]] void Fail(const Status& status, bool pinned = false);

// Serializes a response body. Strings may carry bytes that are not UTF-8 (a parser message quoting
// the offending input, a stored form); plain dump() throws on them, which turned a malformed body
// into a 500, so invalid sequences are replaced (U+FFFD) instead.
std::string Dump(const nlohmann::json& body);
void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
// A 503 also gets Retry-After (kRetryAfterSeconds); a 401 gets WWW-Authenticate (Bearer).
void SendProblem(httplib::Response& res, const Problem& p);
// The case (or bundle case) version as its ETag: "3".
void SetVersionETag(httplib::Response& res, int64_t version);

// Parses a request body as a JSON object, refusing what a careless client might send: 400 for
// malformed JSON (with line and column), duplicate keys or nesting deeper than 32; 422 for a body
// that is not an object. Either refusal has errors[] pointing at the whole document ("").
// Every POST route parses its body with this (then CheckKeys), so that no route ignores a body.
nlohmann::json ParseBody(const httplib::Request& req);
// The same for a route whose body may be left out: an empty body is the empty object.
nlohmann::json ParseOptionalBody(const httplib::Request& req);

// Refuses unknown members (422 with the pointer), so typos never pass silently.
void CheckKeys(const nlohmann::json& body, const std::vector<std::string>& allowed,
               const std::string& pointer = "");

// Refuses a member that is missing (when `required`) or fails `check` (422 naming `what`).
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

// The longest free text a request may carry (a comment, a reason, a note), in characters.
inline constexpr size_t kMaxTextChars = 4000;
// Refuses (422 pointing at it) a string anywhere in `value` — in its objects and arrays too — of
// more than kMaxTextChars characters (Unicode code points; the body is UTF-8). `pointer` is where
// `value` is in the body.
void CheckTextLengths(const nlohmann::json& value, const std::string& pointer = "");

bool IsString(const nlohmann::json& j);
bool IsObject(const nlohmann::json& j);
bool IsArray(const nlohmann::json& j);
// A definition version: a whole number 1..999999999.
bool IsVersion(const nlohmann::json& j);

// A query parameter, or "" when absent.
std::string Param(const httplib::Request& req, const char* name);
// If-Match: "*" (pins nothing) or a list of entity tags, compared as RFC 9110 strong comparison
// does: the version of the one strong tag that is a case version ("3"). 412 when no tag can match
// any version (weak tags, "01", "x"); 400 when malformed or naming two versions.
std::optional<int64_t> IfMatchVersion(const httplib::Request& req);
// Idempotency-Key: "" when the header is absent; otherwise 1 to kMaxIdempotencyKeyBytes printable
// ASCII characters (space to '~'), as a structured-header string's content is, else 400. The key
// is stored beside the caller's event and compared byte for byte, so bytes a client cannot be
// sure to send again the same way (controls, UTF-8 that proxies may re-encode) are refused.
inline constexpr size_t kMaxIdempotencyKeyBytes = 255;
std::string IdempotencyKey(const httplib::Request& req);
// ?version= of a definition: 0 when absent, 422 unless a whole number ≥ 1.
int VersionParam(const httplib::Request& req);
// A body {"reason": non-empty string} (revocations, repairs); the reason.
std::string RequiredReason(const httplib::Request& req);

}  // namespace tongban::api
