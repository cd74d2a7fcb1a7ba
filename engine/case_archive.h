// The archive of a case (电子档案): one self-contained tar file (tar.h) holding everything needed
// to check the case on another machine with nothing else — GET /v1/cases/{id}/archive and
// `tongban export` write it, `tongban verify --archive` checks it.
//
// Contents (paths in the archive):
//   manifest.json                      format, the case, when it was exported, each file's SHA-256
//                                      and size, and each case's head (seq, hash): the lines a
//                                      checkpoint witness (checkpoint.h) holds for it
//   cases/ID/record.json               the stored record (status, step, version, snapshot)
//   cases/ID/events.jsonl              its events, one JSON object a line, `data` as the exact
//                                      canonical text the hash covers
//   definitions/KIND/ID@VERSION.json   the item (bundle) version the case ran on, every version of
//                                      its calendar, the delegation lists naming a delegation it
//                                      relied on, as deployed
//   ledger.jsonl                       the register entries it relied on: delegations named in its
//                                      events' authority, mandates, credit records of its
//                                      applicant (every entry of those subjects, with its hash)
//   documents.json, documents/HASH     its documents (documents.h): metadata, and the bytes
// A bundle case (一件事) is exported with its parts: one cases/ID/ folder each.
//
// What the verification shows: a file changed, added or removed against the manifest; a document
// whose bytes do not hash to its name, or one an event names and the archive lacks; an event
// altered, removed or reordered (the chain); a history that does not replay on the archived
// definitions to the recorded state; a ledger entry whose hash does not match its content. A
// manifest rewritten together with what it lists is not shown by the archive alone: compare its
// heads with a checkpoint witness kept elsewhere.
//
// Thread safety: functions only; the store and registry are used as their contracts allow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/definition_registry.h"
#include "engine/store.h"

namespace tongban {

struct CaseArchive {
  std::string bytes;               // the tar file
  std::vector<std::string> cases;  // the case, then a bundle's parts
  int64_t events = 0;
  int64_t documents = 0;
  int64_t ledger_entries = 0;
};

// Writes the archive of `case_id` as the store holds it now. kNotFound ("no case ID"); the store's
// codes; kDataLoss when a definition it ran on is not in the store.
Result<CaseArchive> ExportCaseArchive(Store* store, const std::string& case_id, Instant now);

struct ArchiveFinding {
  std::string where;  // a file of the archive, with the line or seq when there is one
  std::string what;
};

struct ArchiveReport {
  bool readable = true;  // false: not a tar archive of this format at all (findings say why)
  std::string case_id;
  int64_t cases = 0;
  int64_t events = 0;
  int64_t documents = 0;
  int64_t ledger_entries = 0;
  std::vector<ArchiveFinding> findings;  // empty: the archive verifies
  bool ok() const { return readable && findings.empty(); }
};

// Checks an archive with nothing but its bytes. The replay needs a definition registry: the
// archived definitions are deployed into a temporary SQLite file in `scratch_dir` (removed
// before returning). Every problem is a finding; nothing stops at the first but an unreadable
// archive or manifest.
ArchiveReport VerifyCaseArchive(std::string_view bytes, const std::string& scratch_dir);

nlohmann::json ArchiveReportToJson(const ArchiveReport& report);

}  // namespace tongban
