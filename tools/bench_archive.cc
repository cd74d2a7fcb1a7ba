// tongban bench archive: what exporting a case's archive, and verifying it with nothing else,
// cost for a case with a long history, beside the reads an auditor already has, measured in the
// same run on the same case.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "engine/case_archive.h"
#include "engine/case_service.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

extern const char* const kBenchArchiveHelp;
const char* const kBenchArchiveHelp =
    R"(usage: tongban bench archive [--events N] [--ops N] [--definitions DIR] [--format text|json]

Measures, on one throw-away database (synchronous=OFF: CPU, not fsync), interleaved, on one
construction-permit case with about --events events (default 1000: review rounds, then the
approval that writes the decision document) and three 200 KiB PDF materials:
  - the archive export (engine/case_archive.h: what GET /v1/cases/{id}/archive and tongban
    export do) against the baseline of reading the case's history and rendering it as JSON
    (what GET /v1/cases/{id}/history does), and against CaseService::Verify of the case;
  - tongban verify --archive's work (VerifyCaseArchive: tar, manifest, hashes, chain, replay on
    the archived definitions in a scratch SQLite file) against the same Verify.
Medians over --ops runs each (default 20) on the shipped definitions (--definitions, default
./definitions).

Exit codes: 0 measured, 2 wrong usage, 3 the benchmark could not run.
)";

namespace {

using Millis = std::chrono::duration<double, std::milli>;

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <class F>
double TimeMs(F f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return Millis(std::chrono::steady_clock::now() - t0).count();
}

int Failed(const std::string& what, const Status& status) {
  std::cerr << "tongban bench archive: " << what << ": " << status.ToString() << "\n";
  return kExitError;
}

}  // namespace

int BenchArchive(const Args& args) {
  long events = 1000, ops = 20;
  for (auto [name, out, min, max] :
       {std::tuple<const char*, long*, long, long>{"events", &events, 10, 100000},
        {"ops", &ops, 3, 10000}}) {
    if (auto text = args.Get(name)) {
      char* end = nullptr;
      *out = std::strtol(text->c_str(), &end, 10);
      if (text->empty() || *end != '\0' || *out < min || *out > max) {
        return UsageError("bench", "--events 10..100000, --ops 3..10000");
      }
    }
  }
  std::ifstream application_file("docs/examples/construction-permit-application.json");
  if (!application_file) {
    return Failed("reading docs/examples/construction-permit-application.json",
                  Status::NotFound("run from the repository root"));
  }
  const nlohmann::json application = nlohmann::json::parse(application_file);
  auto engine = ScratchEngine::Open("archive", args.Get("definitions").value_or("definitions"));
  if (!engine.ok()) return Failed("a throw-away database", engine.status());
  Store* store = (*engine)->store;
  CaseService& service = *(*engine)->service;
  SimulatedClock& clock = *(*engine)->clock;

  const Principal applicant{"bench-applicant", "示例科技有限公司", {"applicant"}, "", "", ""};
  const Actor clerk{"bench-clerk", "clerk", "dz-approval-bureau", "bench-clerk"};
  const Actor reviewer{"bench-reviewer", "reviewer", "dz-approval-bureau", "bench-reviewer"};
  const Actor approver{"bench-approver", "approver", "dz-approval-bureau", "bench-approver"};
  NewCase c;
  c.definition_id = "construction-permit";
  c.actor = {applicant.id, "applicant", "", applicant.name};
  c.applicant_id = applicant.id;
  c.applicant_name = applicant.name;
  c.form = application["form"];
  c.materials = application["materials"];
  auto created = service.Create(c);
  if (!created.ok()) return Failed("creating the case", created.status());
  const std::string id = created->state.id;
  for (int i = 0; i < 3; ++i) {
    std::string pdf = "%PDF-1.7\n% material " + std::to_string(i) + "\n";
    pdf.resize(200 * 1024, 'x');
    auto uploaded =
        service.UploadDocument(applicant, {id, "application/pdf", "", kDocumentMaterial, pdf});
    if (!uploaded.ok()) return Failed("uploading", uploaded.status());
  }
  auto act = [&](const std::string& action, const Actor& actor, nlohmann::json data) {
    clock.Advance(std::chrono::minutes(1));
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.actor = actor;
    r.data = std::move(data);
    return service.Act(r).status();
  };
  if (Status s = act("accept", clerk, nlohmann::json::object()); !s.ok()) {
    return Failed("accept", s);
  }
  for (long i = 0; i < (events - 4) / 2; ++i) {
    if (Status s = act("pass", reviewer, nlohmann::json::object()); !s.ok()) {
      return Failed("pass", s);
    }
    if (Status s = act("send_back", approver, {{"reason", "review again"}}); !s.ok()) {
      return Failed("send_back", s);
    }
  }
  if (Status s = act("pass", reviewer, nlohmann::json::object()); !s.ok()) return Failed("pass", s);
  if (Status s = act("approve", approver, nlohmann::json::object()); !s.ok()) {
    return Failed("approve", s);
  }
  const int64_t case_events = service.Get(id)->state.version;

  std::vector<double> exports, histories, verifies, archive_verifies;
  size_t archive_bytes = 0;
  size_t history_bytes = 0;
  for (long i = 0; i < ops; ++i) {
    Status status = Status::Ok();
    std::string archive;
    exports.push_back(TimeMs([&] {
      auto made = ExportCaseArchive(store, id, clock.Now());
      if (!made.ok()) {
        status = made.status();
      } else {
        archive = std::move(made->bytes);
      }
    }));
    if (!status.ok()) return Failed("exporting", status);
    archive_bytes = archive.size();
    histories.push_back(TimeMs([&] {
      auto history = service.History(id);
      if (!history.ok()) {
        status = history.status();
        return;
      }
      nlohmann::json out = nlohmann::json::array();
      for (const Event& e : *history)
        out.push_back(EventToJson(e));
      history_bytes = nlohmann::json{{"case_id", id}, {"events", out}}.dump().size();
    }));
    if (!status.ok()) return Failed("reading the history", status);
    verifies.push_back(TimeMs([&] {
      if (!service.Verify(id).ok) status = Status::DataLoss("the case does not verify");
    }));
    if (!status.ok()) return Failed("verifying", status);
    archive_verifies.push_back(TimeMs([&] {
      if (!VerifyCaseArchive(archive, (*engine)->dir).ok()) {
        status = Status::DataLoss("the archive does not verify");
      }
    }));
    if (!status.ok()) return Failed("verifying the archive", status);
  }
  const double ex = MedianOf(exports), hi = MedianOf(histories), ve = MedianOf(verifies),
               av = MedianOf(archive_verifies);
  if (WantsJson(args)) {
    std::cout << PrettyJson(nlohmann::json{{"benchmark", "archive"},
                                           {"case_events", case_events},
                                           {"ops", ops},
                                           {"archive_bytes", archive_bytes},
                                           {"history_json_bytes", history_bytes},
                                           {"export_median_ms", ex},
                                           {"history_json_median_ms", hi},
                                           {"verify_case_median_ms", ve},
                                           {"verify_archive_median_ms", av},
                                           {"export_vs_history", ex / hi},
                                           {"export_vs_verify", ex / ve},
                                           {"verify_archive_vs_verify", av / ve}})
              << "\n";
    return kExitOk;
  }
  std::printf(
      "archive: a case with %lld events and 4 documents (3 x 200 KiB PDF, the decision), "
      "%ld runs each, interleaved\n",
      static_cast<long long>(case_events), ops);
  std::printf("  export (%zu bytes):            median %.2f ms\n", archive_bytes, ex);
  std::printf("  baseline history as JSON (%zu bytes): median %.2f ms  (export %.2fx of it)\n",
              history_bytes, hi, ex / hi);
  std::printf("  baseline Verify of the case:   median %.2f ms  (export %.2fx of it)\n", ve,
              ex / ve);
  std::printf("  verify --archive:              median %.2f ms  (%.2fx Verify of the case)\n", av,
              av / ve);
  return kExitOk;
}

}  // namespace tongban::cli
