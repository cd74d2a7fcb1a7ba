// Status and Result<T>: how errors travel inside Tongban.
//
// The engine and the workflow compiler never throw across their public interfaces; a failure is a
// value that names what went wrong. Exceptions are confined to the JSON and HTTP edges, where they
// are caught and turned into a Status or a problem document.
//
// Thread safety: both types are plain values; copies may be used from any thread.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tongban {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or breaks a rule
  kNotFound,            // the named thing does not exist (or is not visible to the caller)
  kAlreadyExists,       // a different thing with the same identity exists
  kFailedPrecondition,  // the action is not available in the current state
  kPermissionDenied,    // the caller may not do this
  kAborted,             // a concurrency conflict: stale version, retry with fresh state
  kUnavailable,         // shutting down or temporarily unable
  kDataLoss,            // stored data is corrupt or was tampered with
  kInternal,            // a bug or an unexpected failure of a dependency
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  // A stable, machine-readable refinement of the code (a slug such as "unknown-action"), for
  // edges that must tell apart refusals of one code: the API makes it the problem's type.
  Status WithReason(std::string reason) && {
    reason_ = std::move(reason);
    return std::move(*this);
  }

  // The member of the caller's input that was refused, as a JSON pointer (RFC 6901, "/form/area"),
  // for an InvalidArgument about a request: the API lists it in the problem's errors[].
  Status WithPointer(std::string pointer) && {
    pointer_ = std::move(pointer);
    return std::move(*this);
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& reason() const { return reason_; }    // "" when none was given
  const std::string& pointer() const { return pointer_; }  // "" when none was given
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  std::string pointer_;
};

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tongban

#define TONGBAN_RETURN_IF_ERROR(expr)   \
  do {                                  \
    ::tongban::Status _status = (expr); \
    if (!_status.ok()) return _status;  \
  } while (0)
