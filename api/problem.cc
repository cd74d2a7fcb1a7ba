#include "api/problem.h"

namespace tongban::api {

nlohmann::json Problem::ToJson() const {
  nlohmann::json j = extra;
  j["type"] = type;
  j["title"] = title;
  j["status"] = status;
  j["detail"] = detail;
  return j;
}

Problem MakeProblem(int status, const std::string& slug, const std::string& title,
                    const std::string& detail) {
  Problem p;
  p.status = status;
  p.type = "https://tongban.dev/problems/" + slug;
  p.title = title;
  p.detail = detail;
  return p;
}

Problem ProblemFromStatus(const Status& status, bool pinned_version) {
  if (status.reason() == "unknown-action") {
    return MakeProblem(422, "unknown-action", "Unknown action", status.message());
  }
  if (status.reason() == "too-large") {
    return MakeProblem(413, "too-large", "Request body too large", status.message());
  }
  if (status.reason() == "unsupported-media-type") {
    return MakeProblem(415, "unsupported-media-type", "Unsupported media type", status.message());
  }
  switch (status.code()) {
    case StatusCode::kInvalidArgument: {
      Problem p = MakeProblem(422, "invalid", "The request is not valid", status.message());
      if (!status.pointer().empty())
        p.extra["errors"] = {{{"pointer", status.pointer()}, {"message", status.message()}}};
      return p;
    }
    case StatusCode::kNotFound:
      return MakeProblem(404, "not-found", "Not found", status.message());
    case StatusCode::kAlreadyExists:
      return MakeProblem(409, "conflict", "Conflict with what exists", status.message());
    case StatusCode::kFailedPrecondition:
      return MakeProblem(409, "not-available", "The action is not available now", status.message());
    case StatusCode::kPermissionDenied:
      return MakeProblem(403, "forbidden", "Not permitted", status.message());
    case StatusCode::kAborted:
      if (pinned_version) {
        return MakeProblem(412, "stale-version", "The case has changed since you read it",
                           status.message());
      }
      return MakeProblem(409, "concurrent-change", "The case changed concurrently",
                         status.message());
    case StatusCode::kUnavailable:
      return MakeProblem(503, "unavailable", "Service unavailable", status.message());
    case StatusCode::kDataLoss:
      return MakeProblem(500, "data-loss", "Stored data failed verification", status.message());
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  return MakeProblem(500, "internal", "Internal error", status.message());
}

}  // namespace tongban::api
