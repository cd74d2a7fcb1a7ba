// tongban keygen | checkpoint, and the --checkpoint part of `tongban verify` (engine/checkpoint.h).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/checkpoint.h"
#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace {

constexpr const char* kKeygenHelp =
    R"(usage: tongban keygen --private-key FILE --public-key FILE

Writes a new Ed25519 key pair for signing checkpoints, as PEM: the private key (PKCS#8,
unencrypted, mode 0600) for the operator, who keeps it from everyone else, and the public
key for auditors. Never overwrites a file.

Exit codes: 0 written, 2 wrong usage, 3 cannot write (or a file exists).
)";

constexpr const char* kCheckpointHelp =
    R"(usage: tongban checkpoint --db FILE|URI --key PRIVATE.pem --out WITNESS [--format text|json]

Records a signed checkpoint of the whole database: every case's head (its last event's
seq and hash) and the register ledger's head, signed with the operator's Ed25519 key
(from 'tongban keygen'). The checkpoint is appended to the ledger as an entry of kind
"checkpoint", so that the ledger's own chain covers it, and written to WITNESS: JSON lines,
the signed header and then one line per case head. The auditor keeps WITNESS elsewhere and
later runs 'tongban verify --db FILE --checkpoint WITNESS --public-key PUBLIC.pem', which
names every case deleted or cut short since, a truncated ledger, and a database rolled
back to an earlier copy. The server may keep running meanwhile. Never overwrites WITNESS.

The whole database is verified first, as 'tongban verify' does (a progress line on a
terminal): a database that does not verify is not signed, since a signature would vouch
for the rewritten history. Its finding is printed and nothing is recorded.

Exit codes: 0 recorded, 1 not signed (the database does not verify), 2 wrong usage, 3 could
not read, record or write.
)";

// The actor the ledger entry names: the operator at the machine, not an API principal.
const Actor kCheckpointActor{"operator", "operator", "", "tongban checkpoint"};

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

int KeygenCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"private-key", "public-key"});
  if (!args.ok()) return UsageError("keygen", args.error());
  if (args.Has("help")) {
    std::cout << kKeygenHelp;
    return kExitOk;
  }
  if (!args.Get("private-key") || !args.Get("public-key"))
    return UsageError("keygen", "--private-key and --public-key are required");
  Status s = GenerateKeyPair(*args.Get("private-key"), *args.Get("public-key"));
  if (!s.ok()) {
    std::cerr << "tongban keygen: " << s.message() << "\n";
    return kExitError;
  }
  auto key = VerifyingKey::Load(*args.Get("public-key"));
  std::cout << "OK: Ed25519 key pair written; key id " << (key.ok() ? (*key)->key_id() : "?")
            << "\n";
  return kExitOk;
}

int CheckpointCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"db", "key", "out", "format"});
  if (!args.ok()) return UsageError("checkpoint", args.error());
  if (args.Has("help")) {
    std::cout << kCheckpointHelp;
    return kExitOk;
  }
  if (!args.Get("db") || !args.Get("key") || !args.Get("out"))
    return UsageError("checkpoint", "--db, --key and --out are required");
  if (auto bad = TextOrJsonFormatError(args, "checkpoint")) return *bad;
  const std::string db = *args.Get("db");
  const std::string out = *args.Get("out");
  auto key = SigningKey::Load(*args.Get("key"));
  if (!key.ok()) {
    std::cerr << "tongban checkpoint: " << key.status().message() << "\n";
    return kExitError;
  }
  if (!IsPostgresConnectionString(db) && !std::filesystem::exists(db)) {
    std::cerr << "tongban checkpoint: no database file " << db << "\n";
    return kExitError;
  }
  // Claimed before anything is recorded: a checkpoint whose witness cannot be written is of no
  // use to an auditor, and an existing witness is never replaced.
  auto fd = ClaimWitnessFile(out);
  if (!fd.ok()) {
    std::cerr << "tongban checkpoint: " << fd.status().message() << "\n";
    return kExitError;
  }
  auto fail = [&](const std::string& message) {
    ::close(*fd);
    std::filesystem::remove(out);
    std::cerr << "tongban checkpoint: " << message << "\n";
    return kExitError;
  };
  EngineOptions options;
  SelectDatabase(db, /*read_only=*/false, SqliteStoreOptions{}.max_queue, &options);
  auto engine = Engine::Open(std::move(options));
  if (!engine.ok()) return fail(std::string(engine.status().message()));
  // A signature over a history someone rewrote would vouch for it: the database must verify
  // first. Cases written while this runs are verified as they stand when reached.
  VerifyReport verified;
  {
    Progress progress("verifying cases before signing");
    verified = (*engine)->cases()->VerifyAll(
        [&](int64_t done, int64_t total) { progress.Update(done, total); });
  }
  if (!verified.ok) {
    fail("the database does not verify, so it is not signed:");
    if (WantsJson(args)) {
      std::cout << PrettyJson(VerifyReportToJson(verified)) << "\n";
    } else {
      std::cerr << VerifyReportLine(verified) << "\n";
    }
    return kExitFailure;
  }
  auto checkpoint =
      RecordCheckpoint((*engine)->store(), **key, kCheckpointActor, (*engine)->clock()->Now());
  if (!checkpoint.ok()) return fail(std::string(checkpoint.status().message()));
  Status written = WriteWitnessFile(*fd, out, *checkpoint);
  if (!written.ok()) {
    std::cerr << "tongban checkpoint: recorded as ledger entry " << checkpoint->entry_seq
              << ", but " << written.message() << "\n";
    return kExitError;
  }
  if (WantsJson(args)) {
    std::cout << PrettyJson(CheckpointHeaderToJson(*checkpoint)) << "\n";
  } else {
    std::cout << "OK: checkpoint of " << checkpoint->cases << " case(s), " << checkpoint->events
              << " event(s), " << checkpoint->definitions
              << " deployed definition(s) and ledger seq " << checkpoint->ledger_seq
              << " recorded as ledger entry " << checkpoint->entry_seq << "; witness written to "
              << out << " (key " << checkpoint->key_id.substr(0, 16) << ")\n";
  }
  return kExitOk;
}

int VerifyWithCheckpoint(Engine* engine, const VerifyReport& report, const std::string& witness,
                         const std::string& public_key, bool json) {
  auto key = VerifyingKey::Load(public_key);
  if (!key.ok()) {
    std::cerr << "tongban verify: " << key.status().message() << "\n";
    return kExitError;
  }
  auto text = ReadWhole(witness);
  if (!text.ok()) {
    std::cerr << "tongban verify: " << text.status().message() << "\n";
    return kExitError;
  }
  std::vector<CheckpointFinding> findings;
  auto checkpoint = ParseWitness(*text);
  std::string().swap(*text);  // a million heads' text is 100 MB; the parsed heads are kept
  if (!checkpoint.ok()) {
    // A witness that does not even parse was altered as surely as one whose signature fails.
    findings.push_back({"signature", "witness", std::string(checkpoint.status().message())});
  } else if (auto bad = CheckCheckpointSignature(*checkpoint, **key)) {
    findings.push_back(*bad);
  } else {
    auto found = VerifyCheckpoint(engine->store(), *checkpoint);
    if (!found.ok()) {
      std::cerr << "tongban verify: " << found.status().message() << "\n";
      return kExitError;
    }
    findings = std::move(*found);
  }
  const bool ok = report.ok && findings.empty();
  if (json) {
    nlohmann::json j = VerifyReportToJson(report);
    nlohmann::json c = checkpoint.ok() ? CheckpointHeaderToJson(*checkpoint) : nlohmann::json{};
    c["ok"] = findings.empty();
    c["findings"] = nlohmann::json::array();
    for (const CheckpointFinding& f : findings)
      c["findings"].push_back(CheckpointFindingToJson(f));
    j["checkpoint"] = std::move(c);
    j["ok"] = ok;
    std::cout << PrettyJson(j) << "\n";
    return ok ? kExitOk : kExitFailure;
  }
  std::cout << VerifyReportLine(report) << "\n";
  for (const CheckpointFinding& f : findings)
    std::cout << "CHECKPOINT " << f.kind << ": " << f.message << "\n";
  if (findings.empty()) {
    std::cout << "OK: checkpoint of " << FormatTimestamp(checkpoint->time)
              << " holds: " << checkpoint->cases << " case head(s), "
              << (checkpoint->format == kCheckpointFormatV1
                      ? std::string("no definitions (a v1 witness)")
                      : std::to_string(checkpoint->definitions) + " definition(s) unchanged")
              << ", ledger seq " << checkpoint->ledger_seq
              << " and the checkpoint's own ledger entry present; signature verified\n";
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
