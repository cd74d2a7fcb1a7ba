#include "engine/documents.h"

#include <algorithm>
#include <cctype>

namespace tongban {

namespace {

// The first bytes every file of a type begins with.
bool HasSignature(std::string_view type, std::string_view bytes) {
  auto begins = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  if (type == "application/pdf") return begins("%PDF-");
  if (type == "application/ofd") return begins(std::string_view("PK\x03\x04", 4));
  if (type == "image/jpeg") return begins("\xFF\xD8\xFF");
  if (type == "image/png") return begins("\x89PNG\r\n\x1A\n");
  return false;
}

}  // namespace

std::string BaseMediaType(std::string_view content_type) {
  std::string out;
  for (char c : content_type.substr(0, content_type.find(';'))) {
    if (c == ' ' || c == '\t') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsDocumentHash(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status CheckUpload(const DocumentPolicy& policy, std::string_view media_type,
                   const std::string& kind, std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) > policy.max_bytes) {
    return Status::InvalidArgument("the document has " + std::to_string(bytes.size()) +
                                   " bytes; at most " + std::to_string(policy.max_bytes) +
                                   " are accepted")
        .WithReason("too-large");
  }
  std::string accepted;
  for (const std::string& t : policy.media_types)
    accepted += (accepted.empty() ? "" : ", ") + t;
  const std::string type = BaseMediaType(media_type);
  if (std::find(policy.media_types.begin(), policy.media_types.end(), type) ==
      policy.media_types.end()) {
    return Status::InvalidArgument("documents of type \"" + type + "\" are not accepted (" +
                                   accepted + ")")
        .WithReason("unsupported-media-type");
  }
  if (bytes.empty() || !HasSignature(type, bytes)) {
    return Status::InvalidArgument("the document's bytes are not a " + type + " file")
        .WithReason("unsupported-media-type");
  }
  if (kind != kDocumentMaterial && kind != kDocumentCorrectionNotice) {
    return Status::InvalidArgument("kind \"" + kind + "\" is not one a caller uploads (" +
                                   kDocumentMaterial + ", " + kDocumentCorrectionNotice + ")");
  }
  return Status::Ok();
}

std::vector<std::string> DocumentRefs(const nlohmann::json& data) {
  std::vector<std::string> out;
  if (!data.is_object()) return out;
  if (auto it = data.find("documents"); it != data.end() && it->is_array()) {
    for (const auto& h : *it)
      if (h.is_string()) out.push_back(h.get<std::string>());
  }
  if (auto it = data.find("decision_document"); it != data.end() && it->is_string()) {
    out.push_back(it->get<std::string>());
  }
  return out;
}

Status CheckDocumentsMember(const nlohmann::json& data) {
  if (!data.is_object()) return Status::Ok();
  auto it = data.find("documents");
  if (it == data.end()) return Status::Ok();
  if (!it->is_array() || it->size() > 100) {
    return Status::InvalidArgument(
        "data.documents must be an array of at most 100 document hashes");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& h = (*it)[i];
    if (!h.is_string() || !IsDocumentHash(h.get<std::string>())) {
      return Status::InvalidArgument("data.documents/" + std::to_string(i) +
                                     " is not a document hash (64 lower-case hex digits)");
    }
  }
  return Status::Ok();
}

}  // namespace tongban
