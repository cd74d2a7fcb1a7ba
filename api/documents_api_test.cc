// Documents and the case archive over HTTP with the demo principals: uploads and their refusals
// (403, 404, 413 before and after the body is read, 415; nothing stored by any), an action naming
// a document, the decision document, who reads an archive, and the archive round trip: exported on
// one database (over HTTP and by `tongban export`), the database deleted, `tongban verify
// --archive` passes, and names a changed document byte and a changed event byte.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "api/api_test_fixture.h"
#include "engine/test_store.h"
#include "workflows/sha256.h"

namespace tongban::api::api_test {
namespace {

const std::string kPdf = "%PDF-1.7\n% 施工图审查合格书\n%%EOF\n";
constexpr int64_t kLimit = 64 * 1024;

struct Outcome {
  int exit_code = -1;
  std::string out;
};

Outcome RunBinary(const std::string& arguments) {
  Outcome run;
  FILE* pipe = popen((kBinary + " " + arguments + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class DocumentsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    CaseServiceOptions service;
    service.documents.max_bytes = kLimit;
    server_ = std::make_unique<TestServer>(ServerOptions{}, service);
    api_ = std::make_unique<Api>(server_->port());
  }
  Reply Upload(const std::string& id, const std::string& token, const std::string& bytes,
               const std::string& type = "application/pdf", const std::string& query = "") {
    return api().PostBytes("/v1/cases/" + id + "/documents" + query, token, bytes, type);
  }
  size_t DocumentCount(const std::string& id) {
    Reply r = api().Get("/v1/cases/" + id + "/documents", kAuditor);
    EXPECT_EQ(r.status, 200) << r;
    return r.doc.value("documents", json::array()).size();
  }
};

TEST_F(DocumentsApiTest, UploadsAndTheirRefusalsStoreNothing) {
  const std::string id = Submitted();
  Reply stored = Upload(id, kApplicant, kPdf, "application/pdf", "?name=%E7%94%B3%E8%AF%B7.pdf");
  ASSERT_EQ(stored.status, 201) << stored;
  EXPECT_EQ(stored.doc.value("hash", ""), Sha256Hex(kPdf));
  EXPECT_EQ(stored.doc.value("name", ""), "申请.pdf");
  EXPECT_EQ(stored.doc.value("kind", ""), "material");
  EXPECT_EQ(stored.Header("Location"), "/v1/cases/" + id + "/documents/" + Sha256Hex(kPdf));
  // The same bytes again: the first attachment (201, nothing new).
  EXPECT_EQ(Upload(id, kApplicant, kPdf).doc.value("name", ""), "申请.pdf");
  // The clerk acting on the case may upload a correction notice.
  Reply notice =
      Upload(id, kClerk, "%PDF-1.4 补正告知书", "application/pdf", "?kind=correction_notice");
  ASSERT_EQ(notice.status, 201) << notice;
  ASSERT_EQ(DocumentCount(id), 2u);

  ExpectProblem(Upload(id, kAuditor, "%PDF-auditor"), 403, "forbidden");
  ExpectProblem(Upload(id, kOtherApplicant, "%PDF-other"), 404, "not-found");
  ExpectProblem(Upload(id, "", "%PDF-anonymous"), 401, "unauthenticated");
  ExpectProblem(Upload(id, kApplicant, "%PDF-" + std::string(kLimit, 'x')), 413, "too-large");
  ExpectProblem(Upload(id, kApplicant, "plain text", "text/plain"), 415, "unsupported-media-type");
  ExpectProblem(Upload(id, kApplicant, "%PDF-not a png", "image/png"), 415,
                "unsupported-media-type");
  ExpectProblem(Upload(id, kApplicant, "%PDF-kind", "application/pdf", "?kind=decision"), 422,
                "invalid");
  // Over the server's body limit too.
  ExpectProblem(Upload(id, kApplicant, "%PDF-" + std::string((1 << 20) + 10, 'y')), 413,
                "too-large");
  // Another route keeps its own limit (1 MiB), though the server reads up to the documents'.
  Api fresh(server_->port());
  EXPECT_EQ(
      fresh.PostBytes("/v1/cases", kApplicant, std::string((1 << 20) + 10, ' '), "application/json")
          .status,
      413);
  Api again(server_->port());
  Reply list = again.Get("/v1/cases/" + id + "/documents", kApplicant);
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.doc["documents"].size(), 2u) << list;

  // The bytes back, as uploaded; another applicant cannot read them.
  Reply bytes = again.Get("/v1/cases/" + id + "/documents/" + Sha256Hex(kPdf), kApplicant);
  ASSERT_EQ(bytes.status, 200) << bytes;
  EXPECT_EQ(bytes.body, kPdf);
  EXPECT_EQ(bytes.ContentType(), "application/pdf");
  EXPECT_EQ(bytes.Header("ETag"), "\"" + Sha256Hex(kPdf) + "\"");
  ExpectProblem(again.Get("/v1/cases/" + id + "/documents/" + Sha256Hex(kPdf), kOtherApplicant),
                404, "not-found");
  ExpectProblem(again.Get("/v1/cases/" + id + "/documents", kOtherApplicant), 404, "not-found");
}

TEST_F(DocumentsApiTest, ActionsNameDocumentsAndADecisionWritesItsOwn) {
  const std::string id = Submitted();
  const std::string hash = Upload(id, kApplicant, kPdf).doc.value("hash", "");
  ASSERT_FALSE(hash.empty());
  ExpectProblem(api().Act(id, kClerk, "accept", {{"documents", {Sha256Hex("%PDF-elsewhere")}}}),
                422, "invalid");
  ExpectProblem(api().Act(id, kClerk, "accept", {{"decision_document", hash}}), 422, "invalid");
  Reply accepted = api().Act(id, kClerk, "accept", {{"documents", {hash}}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  ASSERT_EQ(api().Act(id, kApprover, "approve").status, 200);
  json events = History(id);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1]["data"]["documents"][0], hash);
  const std::string decision = events[3]["data"].value("decision_document", "");
  ASSERT_EQ(decision.size(), 64u) << events[3].dump();
  Reply html = api().Get("/v1/cases/" + id + "/documents/" + decision, kApplicant);
  ASSERT_EQ(html.status, 200) << html;
  EXPECT_EQ(html.ContentType(), "text/html; charset=utf-8");
  EXPECT_EQ(Sha256Hex(html.body), decision);
  EXPECT_TRUE(Contains(html.body, "准予行政许可决定书")) << html.body;
  EXPECT_TRUE(Contains(html.body, kBureauName)) << html.body;
  EXPECT_TRUE(Contains(html.body, "《中华人民共和国建筑法》")) << html.body;
  EXPECT_TRUE(Contains(html.body, "2026年3月")) << html.body;
  EXPECT_FALSE(Contains(html.body, "<script")) << html.body;
}

TEST_F(DocumentsApiTest, ArchiveRoundTripWithTheDatabaseDeleted) {
  const std::string id = AtDecision();
  const std::string hash = Upload(id, kApplicant, kPdf).doc.value("hash", "");
  ASSERT_EQ(api().Act(id, kApprover, "approve", {{"documents", {hash}}}).status, 200);
  // Who reads the archive: the auditor, the organ's staff, the applicant; not another applicant.
  ExpectProblem(api().Get("/v1/cases/" + id + "/archive", kOtherApplicant), 404, "not-found");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/archive", kClerk).status, 200);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/archive", kApplicant).status, 200);
  Reply archive = api().Get("/v1/cases/" + id + "/archive", kAuditor);
  ASSERT_EQ(archive.status, 200) << archive;
  EXPECT_EQ(archive.ContentType(), "application/x-tar");
  const std::string over_http = TempPath(".tar");
  WriteFile(over_http, archive.body);
  const std::string exported = TempPath(".tar");
  const std::string db = server_->db_path();
  // Exported by the command line too, from the same database (read-only beside the server).
  Outcome export_run = RunBinary("export --db '" + DatabaseUnderTest(db) + "' --case " + id +
                                 " --out '" + exported + "'");
  ASSERT_EQ(export_run.exit_code, 0) << export_run.out;
  api_.reset();
  server_.reset();
  RemoveDatabase(db);

  for (const std::string& file : {over_http, exported}) {
    Outcome verified = RunBinary("verify --archive '" + file + "'");
    EXPECT_EQ(verified.exit_code, 0) << verified.out;
    EXPECT_TRUE(Contains(verified.out, "OK: archive of case " + id)) << verified.out;
  }
  Outcome json_run = RunBinary("verify --archive '" + over_http + "' --format json");
  EXPECT_EQ(json::parse(json_run.out, nullptr, false).value("events", 0), 4) << json_run.out;

  // One byte of the uploaded document, then one byte of an event.
  std::string bytes = ReadFile(over_http);
  std::string damaged = bytes;
  const size_t document = damaged.find(kPdf);
  ASSERT_NE(document, std::string::npos);
  damaged[document + 5] ^= 0x01;
  WriteFile(over_http, damaged);
  Outcome bad_document = RunBinary("verify --archive '" + over_http + "'");
  EXPECT_EQ(bad_document.exit_code, 1) << bad_document.out;
  EXPECT_TRUE(Contains(bad_document.out, "documents/" + hash)) << bad_document.out;
  damaged = bytes;
  const size_t event = damaged.find("\"action\":\"pass\"");
  ASSERT_NE(event, std::string::npos);
  damaged[event + 10] = 'b';  // "bass"
  WriteFile(over_http, damaged);
  Outcome bad_event = RunBinary("verify --archive '" + over_http + "'");
  EXPECT_EQ(bad_event.exit_code, 1) << bad_event.out;
  EXPECT_TRUE(Contains(bad_event.out, "cases/" + id + "/events.jsonl:3")) << bad_event.out;
  Outcome missing = RunBinary("verify --archive '" + over_http + ".none'");
  EXPECT_EQ(missing.exit_code, 3) << missing.out;
  std::remove(over_http.c_str());
  std::remove(exported.c_str());
}

}  // namespace
}  // namespace tongban::api::api_test
