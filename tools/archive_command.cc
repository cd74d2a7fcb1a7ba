// tongban export (a case's archive file) and tongban verify --archive (checking one with nothing
// else): engine/case_archive.h.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/case_archive.h"
#include "engine/clock.h"
#include "engine/durable_file.h"
#include "engine/engine.h"
#include "engine/sqlite_store.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace {

constexpr const char* kExportHelp =
    R"(usage: tongban export --db FILE|URI --case ID --out FILE [--format text|json]

Writes the case's archive (电子档案): one tar file holding its events, the definition and
calendar versions it ran on, the register entries it relied on (delegations, mandates,
credit records, as the ledger recorded them), its documents (materials, notices, the
decision document) and manifest.json with every file's SHA-256. A bundle case (一件事) is
exported with its parts. 'tongban verify --archive FILE' checks it anywhere, with nothing
else. The database is opened read-only; FILE is written whole or not at all, synced to
disk, and never replaces a file that exists.

Exit codes: 0 written, 2 wrong usage, 3 cannot read the case or write the file (or FILE
exists).
)";

}  // namespace

int ExportCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"db", "case", "out", "format"});
  if (!args.ok()) return UsageError("export", args.error());
  if (args.Has("help")) {
    std::cout << kExportHelp;
    return kExitOk;
  }
  for (const char* required : {"db", "case", "out"}) {
    if (!args.Get(required))
      return UsageError("export", std::string("--") + required + " is required");
  }
  if (auto bad = TextOrJsonFormatError(args, "export")) return *bad;
  // Before the export, which reads the whole case: an archive already there is an earlier
  // export, perhaps the one handed to the archives (档案馆), and is never replaced.
  const std::string out = *args.Get("out");
  if (std::error_code error; std::filesystem::exists(out, error)) {
    std::cerr << "tongban export: " << out << " already exists; export never replaces a file\n";
    return kExitError;
  }
  const std::string db_path = *args.Get("db");
  if (!IsPostgresConnectionString(db_path) && !std::filesystem::exists(db_path)) {
    std::cerr << "tongban export: no database file " << db_path << "\n";
    return kExitError;
  }
  EngineOptions options;
  SelectDatabase(db_path, /*read_only=*/true, SqliteStoreOptions{}.max_queue, &options);
  auto engine = Engine::Open(std::move(options));
  if (!engine.ok()) {
    std::cerr << "tongban export: " << engine.status().message() << "\n";
    return kExitError;
  }
  auto archive = ExportCaseArchive((*engine)->store(), *args.Get("case"), SystemClock().Now());
  if (!archive.ok()) {
    std::cerr << "tongban export: " << archive.status().message() << "\n";
    return kExitError;
  }
  Status written = WriteNewFile(out, archive->bytes);
  if (!written.ok()) {
    std::cerr << "tongban export: " << written.message()
              << (written.code() == StatusCode::kAlreadyExists ? "; export never replaces a file"
                                                               : "")
              << "\n";
    return kExitError;
  }
  if (WantsJson(args)) {
    nlohmann::json cases = archive->cases;
    std::cout << PrettyJson(nlohmann::json{{"out", out},
                                           {"bytes", archive->bytes.size()},
                                           {"cases", cases},
                                           {"events", archive->events},
                                           {"documents", archive->documents},
                                           {"ledger_entries", archive->ledger_entries}})
              << "\n";
  } else {
    std::cout << "wrote " << out << ": " << archive->cases.size() << " case(s), " << archive->events
              << " event(s), " << archive->documents << " document(s), " << archive->ledger_entries
              << " ledger entr" << (archive->ledger_entries == 1 ? "y" : "ies") << ", "
              << archive->bytes.size() << " bytes\n";
  }
  return kExitOk;
}

int VerifyArchive(const std::string& path, bool json) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "tongban verify: no such file " << path << "\n";
    return kExitError;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::error_code ignored;
  ArchiveReport report =
      VerifyCaseArchive(buffer.str(), std::filesystem::temp_directory_path(ignored).string());
  if (json) {
    std::cout << PrettyJson(ArchiveReportToJson(report)) << "\n";
  } else if (report.ok()) {
    std::cout << "OK: archive of case " << report.case_id << ": " << report.cases << " case(s), "
              << report.events << " event(s) chained and replayed, " << report.documents
              << " document(s) and " << report.ledger_entries << " ledger entr"
              << (report.ledger_entries == 1 ? "y" : "ies") << " match their hashes\n";
  } else {
    for (const ArchiveFinding& f : report.findings)
      std::cout << "BROKEN: " << f.where << ": " << f.what << "\n";
  }
  if (!report.readable) return kExitError;
  return report.ok() ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
