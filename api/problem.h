// Problem documents (RFC 9457): every error the API returns, in one shape.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "workflows/status.h"

namespace tongban::api {

struct Problem {
  int status = 500;
  std::string type;    // a stable URI-ish identifier, "https://tongban.dev/problems/<slug>"
  std::string title;   // short, fixed per type
  std::string detail;  // this occurrence, for people
  nlohmann::json extra = nlohmann::json::object();  // e.g. "errors": [{pointer, message}]

  nlohmann::json ToJson() const;
};

Problem MakeProblem(int status, const std::string& slug, const std::string& title,
                    const std::string& detail);
// Maps an engine Status to a problem. `pinned_version` turns kAborted into 412 (If-Match given).
Problem ProblemFromStatus(const Status& status, bool pinned_version = false);

}  // namespace tongban::api
