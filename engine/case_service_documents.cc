// CaseService: documents attached to cases, and the case archive.
#include <algorithm>

#include "engine/case_archive.h"
#include "engine/case_service.h"
#include "workflows/sha256.h"

namespace tongban {

Result<CaseState> CaseService::VisibleItemCase(const Principal& p, const std::string& case_id) {
  auto record = Read(case_id);
  if (!record.ok()) return record.status();
  if (IsBundle(*record)) {
    auto bundle = GetBundleFor(p, case_id);
    if (!bundle.ok()) return bundle.status();
    return Status::InvalidArgument("case " + case_id +
                                   " is a bundle case (一件事): documents are attached to its "
                                   "parts' cases")
        .WithReason("bundle-case");
  }
  auto view = GetFor(p, *record);
  if (!view.ok()) return view.status();
  return std::move(view->state);
}

Result<DocumentRecord> CaseService::UploadDocument(const Principal& p,
                                                   const DocumentUpload& upload) {
  auto state = VisibleItemCase(p, upload.case_id);
  if (!state.ok()) return state.status();
  auto actor = permissions_->AuthorizeDocumentUpload(p, *state, BundleDefinitionOf(*state));
  if (!actor.ok()) return actor.status();
  TONGBAN_RETURN_IF_ERROR(
      CheckUpload(options_.documents, upload.media_type, upload.kind, upload.content));
  if (upload.name.size() > 255 || std::any_of(upload.name.begin(), upload.name.end(), [](char c) {
        return c == '/' || c == '\\' || (static_cast<unsigned char>(c) < 0x20) || c == 0x7f;
      })) {
    return Status::InvalidArgument(
        "a document's name is a file name of at most 255 bytes, without '/', '\\' or control "
        "characters");
  }
  DocumentRecord d;
  d.case_id = upload.case_id;
  d.hash = Sha256Hex(upload.content);
  auto existing = store_->GetDocument(d.case_id, d.hash);
  if (!existing.ok()) return existing.status();
  if (*existing) {
    (*existing)->content.clear();
    return std::move(**existing);
  }
  d.media_type = BaseMediaType(upload.media_type);
  d.size = static_cast<int64_t>(upload.content.size());
  d.name = upload.name;
  d.kind = upload.kind;
  d.attached_at = clock_->Now();
  d.attached_by = actor->id;
  d.content = upload.content;
  StoreWrite write;
  write.documents.push_back(d);
  TONGBAN_RETURN_IF_ERROR(store_->Commit(std::move(write)));
  d.content.clear();
  return d;
}

Result<std::vector<DocumentRecord>> CaseService::DocumentsFor(const Principal& p,
                                                              const std::string& case_id) {
  auto state = VisibleItemCase(p, case_id);
  if (state.status().reason() == "bundle-case") return std::vector<DocumentRecord>{};
  if (!state.ok()) return state.status();
  return store_->CaseDocuments(case_id);
}

Result<DocumentRecord> CaseService::DocumentFor(const Principal& p, const std::string& case_id,
                                                const std::string& hash) {
  auto state = VisibleItemCase(p, case_id);
  if (state.status().reason() == "bundle-case") {
    return Status::NotFound("bundle case " + case_id + " has no documents of its own");
  }
  if (!state.ok()) return state.status();
  auto document = store_->GetDocument(case_id, hash);
  if (!document.ok()) return document.status();
  if (!*document) return Status::NotFound("case " + case_id + " has no document " + hash);
  return std::move(**document);
}

Status CaseService::CheckDocumentRefs(const std::string& case_id, const nlohmann::json& data) {
  TONGBAN_RETURN_IF_ERROR(CheckDocumentsMember(data));
  if (!data.is_object() || !data.contains("documents") || data["documents"].empty()) {
    return Status::Ok();
  }
  auto attached = store_->CaseDocuments(case_id);
  if (!attached.ok()) return attached.status();
  for (const auto& h : data["documents"]) {
    const std::string hash = h.get<std::string>();
    const bool found = std::any_of(attached->begin(), attached->end(),
                                   [&](const DocumentRecord& d) { return d.hash == hash; });
    if (!found) {
      return Status::InvalidArgument("data.documents names " + hash +
                                     ", which is not a document of this case (upload it to the "
                                     "case first: POST /v1/cases/" +
                                     case_id + "/documents)");
    }
  }
  return Status::Ok();
}

Result<std::string> CaseService::ArchiveFor(const Principal& p, const std::string& case_id) {
  auto record = Read(case_id);
  if (!record.ok()) return record.status();
  if (IsBundle(*record)) {
    auto bundle = GetBundle(case_id);
    if (!bundle.ok()) return bundle.status();
    std::vector<CaseState> parts;
    for (const BundlePartView& part : bundle->parts)
      if (part.child) parts.push_back(part.child->state);
    if (!permissions_->MayReadBundleArchive(p, bundle->state, parts)) {
      return Status::NotFound("no case " + case_id);
    }
  } else {
    auto view = ViewOfRecord(*record);
    if (!view.ok()) return view.status();
    if (!permissions_->MayReadArchive(p, view->state, BundleDefinitionOf(view->state))) {
      return Status::NotFound("no case " + case_id);
    }
  }
  auto archive = ExportCaseArchive(store_, case_id, clock_->Now());
  if (!archive.ok()) return archive.status();
  return std::move(archive->bytes);
}

}  // namespace tongban
