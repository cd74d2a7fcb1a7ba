// Documents and the case archive over the store under test (test_store.h) and the shipped
// definitions: the tar container, uploads and their refusals (nothing stored), an action naming
// documents, the decision document, and an archive that verifies alone and names each damage.
#include "engine/case_archive.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "engine/case_service.h"
#include "engine/tar.h"
#include "engine/test_store.h"
#include "workflows/sha256.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

const std::string kPdf = "%PDF-1.7\n% a material\n%%EOF\n";

TEST(Tar, WritesUstarThatReadsBackAndNamesADamagedHeader) {
  TarWriter tar;
  const std::string deep = std::string(90, 'd') + "/" + std::string(60, 'f') + ".json";
  ASSERT_TRUE(tar.Add("a.txt", "hello", T("2026-03-02T01:00:00Z")).ok());
  ASSERT_TRUE(tar.Add(deep, std::string(1000, '\0'), T("2026-03-02T01:00:00Z")).ok());
  EXPECT_EQ(tar.Add(std::string(300, 'x'), "", Instant{}).code(), StatusCode::kInvalidArgument);
  std::string bytes = tar.Finish();
  EXPECT_EQ(bytes.size() % 512, 0u);
  auto files = ReadTar(bytes);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "a.txt");
  EXPECT_EQ((*files)[0].content, "hello");
  EXPECT_EQ((*files)[1].path, deep);
  EXPECT_EQ((*files)[1].content, std::string(1000, '\0'));
  bytes[512 + 512 + 3] ^= 1;  // the second header's name
  auto damaged = ReadTar(bytes);
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("byte 1024"), std::string::npos)
      << damaged.status().ToString();
  EXPECT_EQ(ReadTar(bytes.substr(0, 700)).status().code(), StatusCode::kDataLoss);
}

class CaseArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-archive-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    SqliteStoreOptions options;
    options.path = dir_ + "/tongban.db";
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    ASSERT_TRUE(
        registry_->DeployDirectory(std::string(TONGBAN_SOURCE_DIR) + "/definitions", clock_.Now())
            .ok());
    CaseServiceOptions service_options;
    service_options.documents.max_bytes = 4096;
    service_ =
        std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_, service_options);
  }
  void TearDown() override {
    service_.reset();
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string CreateCase() {
    NewCase c;
    c.definition_id = "construction-permit";
    c.actor = {"app-1", "applicant", "", "示例建设有限公司"};
    c.applicant_id = "app-1";
    c.applicant_name = "示例建设有限公司";
    c.applicant_credit_code = "91330100MA2TEST01X";
    c.form = {{"project_name", "示范厂房"},         {"project_code", "2026-330100-47-01-000001"},
              {"builder_name", "示例建设有限公司"}, {"builder_credit_code", "91330100MA2TEST01X"},
              {"project_category", "房屋建筑工程"}, {"contract_price_wan", 1200},
              {"building_area_m2", 8000},           {"planned_start_date", "2026-03-16"}};
    c.materials = {"application_form",
                   "land_approval",
                   "planning_permit",
                   "site_readiness",
                   "contractor_contract",
                   "funding_commitment",
                   "drawing_review_certificate",
                   "quality_safety_measures"};
    auto view = service_->Create(c);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? view->state.id : "";
  }
  Status Act(const std::string& id, const std::string& action, Actor actor,
             json data = json::object()) {
    clock_.Advance(std::chrono::hours(1));
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.actor = std::move(actor);
    r.data = std::move(data);
    return service_->Act(r).status();
  }

  std::string dir_;
  SimulatedClock clock_{T("2026-03-02T09:00:00+08:00")};
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
  const Principal applicant_{"app-1", "示例建设有限公司", {"applicant"}, "", "", ""};
  const Principal other_applicant_{"app-2", "另一家公司", {"applicant"}, "", "", ""};
  const Principal auditor_{"aud-1", "审计", {"auditor"}, "*", "", ""};
  const Actor clerk_{"clerk-1", "clerk", "dz-approval-bureau", "窗口"};
  const Actor reviewer_{"rev-1", "reviewer", "dz-approval-bureau", "审查"};
  const Actor approver_{"appr-1", "approver", "dz-approval-bureau", "审批"};
};

TEST_F(CaseArchiveTest, UploadsAreCheckedAndRefusalsStoreNothing) {
  const std::string id = CreateCase();
  DocumentUpload upload{id, "application/pdf", "申请书.pdf", kDocumentMaterial, kPdf};
  auto stored = service_->UploadDocument(applicant_, upload);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->hash, Sha256Hex(kPdf));
  EXPECT_EQ(stored->attached_by, "app-1");

  auto refused = [&](const Principal& p, DocumentUpload u) {
    auto r = service_->UploadDocument(p, u);
    EXPECT_FALSE(r.ok());
    return r.status();
  };
  DocumentUpload big = upload;
  big.content = "%PDF-" + std::string(5000, 'x');
  EXPECT_EQ(refused(applicant_, big).reason(), "too-large");
  DocumentUpload typed = upload;
  typed.content = "%PDF-other";
  typed.media_type = "text/plain";
  EXPECT_EQ(refused(applicant_, typed).reason(), "unsupported-media-type");
  typed.media_type = "image/png";  // PDF bytes declared as PNG
  EXPECT_EQ(refused(applicant_, typed).reason(), "unsupported-media-type");
  DocumentUpload other = upload;
  other.content = "%PDF-auditor";
  EXPECT_EQ(refused(auditor_, other).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused(other_applicant_, other).code(), StatusCode::kNotFound);
  auto listed = store_->CaseDocuments(id);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);

  // An action names documents by hash: the case's own only.
  EXPECT_EQ(Act(id, "accept", clerk_, {{"documents", {Sha256Hex("%PDF-auditor")}}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Act(id, "accept", clerk_, {{"documents", {"not-a-hash"}}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Act(id, "accept", clerk_, {{"decision_document", stored->hash}}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(Act(id, "accept", clerk_, {{"documents", {stored->hash}}}).ok());
  auto events = store_->GetEvents(id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(ParseStoredData(events->back().data)["documents"][0], stored->hash);
}

TEST_F(CaseArchiveTest, ADecisionWritesItsDocumentAndTheArchiveVerifiesAlone) {
  const std::string id = CreateCase();
  auto material = service_->UploadDocument(
      applicant_, {id, "application/pdf", "申请书.pdf", kDocumentMaterial, kPdf});
  ASSERT_TRUE(material.ok());
  ASSERT_TRUE(Act(id, "accept", clerk_, {{"documents", {material->hash}}}).ok());
  ASSERT_TRUE(Act(id, "pass", reviewer_).ok());
  ASSERT_TRUE(Act(id, "approve", approver_).ok());

  auto events = store_->GetEvents(id);
  ASSERT_TRUE(events.ok());
  const json decided = ParseStoredData(events->back().data);
  ASSERT_TRUE(decided.contains("decision_document")) << events->back().data;
  auto decision = store_->GetDocument(id, decided["decision_document"].get<std::string>());
  ASSERT_TRUE(decision.ok() && decision->has_value());
  EXPECT_EQ((*decision)->kind, kDocumentDecision);
  EXPECT_EQ((*decision)->attached_by, "system");
  const std::string& html = (*decision)->content;
  EXPECT_NE(html.find("准予行政许可决定书"), std::string::npos);
  EXPECT_NE(html.find("《中华人民共和国建筑法》"), std::string::npos) << html;
  EXPECT_NE(html.find("2026年3月"), std::string::npos) << html;
  auto state = service_->Get(id);
  ASSERT_TRUE(state.ok());
  EXPECT_NE(html.find(state->state.number), std::string::npos);
  EXPECT_NE(html.find(state->state.issued_in_name), std::string::npos);

  auto archive = ExportCaseArchive(store_.get(), id, clock_.Now());
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  EXPECT_EQ(archive->events, 4);
  EXPECT_EQ(archive->documents, 2);
  ArchiveReport report = VerifyCaseArchive(archive->bytes, dir_);
  EXPECT_TRUE(report.ok()) << ArchiveReportToJson(report).dump(2);
  EXPECT_EQ(report.events, 4);
  EXPECT_EQ(report.documents, 2);

  // The readers of an archive: the applicant and an auditor; not another applicant.
  EXPECT_TRUE(service_->ArchiveFor(applicant_, id).ok());
  EXPECT_TRUE(service_->ArchiveFor(auditor_, id).ok());
  EXPECT_EQ(service_->ArchiveFor(other_applicant_, id).status().code(), StatusCode::kNotFound);

  auto files = ReadTar(archive->bytes);
  ASSERT_TRUE(files.ok());
  auto offset_of = [&](const std::string& path) {
    for (const TarFile& f : *files)
      if (f.path == path) return f.offset + 512;
    ADD_FAILURE() << "no " << path;
    return size_t{0};
  };
  auto names = [](const ArchiveReport& r, const std::string& where) {
    for (const ArchiveFinding& f : r.findings)
      if (f.where.find(where) != std::string::npos) return true;
    return false;
  };
  {  // One byte of the material.
    std::string damaged = archive->bytes;
    damaged[offset_of("documents/" + material->hash) + 3] ^= 0x20;
    ArchiveReport r = VerifyCaseArchive(damaged, dir_);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(names(r, "documents/" + material->hash)) << ArchiveReportToJson(r).dump(2);
  }
  {  // One byte of the accept event's action: its hash no longer matches.
    std::string damaged = archive->bytes;
    const size_t at =
        damaged.find("\"action\":\"accept\"", offset_of("cases/" + id + "/events.jsonl"));
    ASSERT_NE(at, std::string::npos);
    damaged[at + 15] = 'x';
    ArchiveReport r = VerifyCaseArchive(damaged, dir_);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(names(r, "cases/" + id + "/events.jsonl:2")) << ArchiveReportToJson(r).dump(2);
  }
  // Not an archive at all.
  ArchiveReport garbage = VerifyCaseArchive("not a tar file", dir_);
  EXPECT_FALSE(garbage.readable);
}

}  // namespace
}  // namespace tongban
