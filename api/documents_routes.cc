// /v1/cases/{id}/documents and /v1/cases/{id}/archive: documents attached to a case (uploaded as
// the raw request body), and the case's archive file. Who may upload or read is the engine's
// (engine/permissions.h); the size and type limits are the engine's policy (engine/documents.h).
#include <string>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_util.h"
#include "engine/clock.h"

namespace tongban::api {

namespace {

nlohmann::json DocumentJson(const DocumentRecord& d) {
  return {{"case_id", d.case_id},
          {"hash", d.hash},
          {"media_type", d.media_type},
          {"size", d.size},
          {"name", d.name},
          {"kind", d.kind},
          {"attached_at", FormatTimestamp(d.attached_at)},
          {"attached_by", d.attached_by},
          {"href", "/v1/cases/" + d.case_id + "/documents/" + d.hash}};
}

// A file name safe inside a Content-Disposition header's quoted string.
std::string QuotedFileName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) continue;
    out += c;
  }
  return out;
}

}  // namespace

void UploadDocument(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  DocumentUpload upload;
  upload.case_id = req.matches[1];
  upload.media_type = req.get_header_value("Content-Type");
  upload.name = Param(req, "name");
  const std::string kind = Param(req, "kind");
  if (!kind.empty()) upload.kind = kind;
  upload.content = req.body;
  auto stored = ctx.service->UploadDocument(p, upload);
  if (!stored.ok()) Fail(stored.status());
  res.set_header("Location", "/v1/cases/" + stored->case_id + "/documents/" + stored->hash);
  SendJson(res, 201, DocumentJson(*stored));
}

void ListDocuments(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const std::string id = req.matches[1];
  auto documents = ctx.service->DocumentsFor(p, id);
  if (!documents.ok()) Fail(documents.status());
  nlohmann::json out = nlohmann::json::array();
  for (const DocumentRecord& d : *documents)
    out.push_back(DocumentJson(d));
  SendJson(res, 200, {{"case_id", id}, {"documents", out}});
}

void GetDocument(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  auto document = ctx.service->DocumentFor(p, req.matches[1], req.matches[2]);
  if (!document.ok()) Fail(document.status());
  // The bytes as stored; their hash is their name, so they never change: cacheable, and the
  // ETag is the hash.
  res.set_header("ETag", "\"" + document->hash + "\"");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  if (!document->name.empty()) {
    res.set_header("Content-Disposition",
                   "inline; filename=\"" + QuotedFileName(document->name) + "\"");
  }
  res.status = 200;  // set before the wrapper records it in the metrics
  res.set_content(std::move(document->content), document->media_type);
}

void GetArchive(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const std::string id = req.matches[1];
  auto archive = ctx.service->ArchiveFor(p, id);
  if (!archive.ok()) Fail(archive.status());
  res.set_header("Content-Disposition", "attachment; filename=\"case-" + id + ".tar\"");
  res.status = 200;
  res.set_content(std::move(archive).value(), "application/x-tar");
}

}  // namespace tongban::api
