// Documents: the files a case relies on — materials the applicant supplies, correction notices,
// and the decision document (决定书) the engine writes when a case is decided — stored by the
// store (store.h), content-addressed by SHA-256 and attached to cases.
//
// A document is not an event. An event names the documents it relies on by hash (an action's
// `data.documents`, checked to be the case's own before the action is taken; the decision event's
// `data.decision_document`), so the case's hash chain covers their bytes: changing a byte changes
// the hash, which no longer matches what the chain recorded.
//
// Thread safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/status.h"

namespace tongban {

// Document kinds (DocumentRecord::kind).
inline constexpr const char* kDocumentMaterial = "material";                   // 申请材料
inline constexpr const char* kDocumentCorrectionNotice = "correction_notice";  // 补正告知书
inline constexpr const char* kDocumentDecision = "decision";  // 决定书, written by the engine

// What an upload may be.
struct DocumentPolicy {
  int64_t max_bytes = 20 * 1024 * 1024;
  // Media types accepted, each with its file signature checked against the bytes: PDF, OFD (the
  // national standard for electronic documents, GB/T 33190: a zip package), JPEG and PNG.
  std::vector<std::string> media_types = {"application/pdf", "application/ofd", "image/jpeg",
                                          "image/png"};
};

// The media type of a Content-Type value: lower case, parameters and spaces dropped.
std::string BaseMediaType(std::string_view content_type);

// Whether `text` is a SHA-256 in lower-case hex (64 digits).
bool IsDocumentHash(std::string_view text);

// Checks an upload against `policy`. kInvalidArgument with reason "too-large" when it is larger
// than max_bytes or empty, "unsupported-media-type" when its type is not accepted or its bytes do
// not begin as that type's files do; a kind other than material or correction_notice is
// kInvalidArgument (reason "invalid").
Status CheckUpload(const DocumentPolicy& policy, std::string_view media_type,
                   const std::string& kind, std::string_view bytes);

// The hashes of the documents an event's data names: `documents` (an array of hashes) and
// `decision_document`, in that order.
std::vector<std::string> DocumentRefs(const nlohmann::json& data);

// Checks a caller's `data.documents`: absent, or an array of at most 100 hashes.
// kInvalidArgument naming the bad element.
Status CheckDocumentsMember(const nlohmann::json& data);

}  // namespace tongban
