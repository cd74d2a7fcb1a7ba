// The auditor's commands, the real binary on real SQLite files: verify, export, checkpoint.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

// A copy of the database of every shipped scenario (engine/testdata/store-v2.db, an older schema
// read as it is), removed with its -wal and -shm files when destroyed.
class ScenarioDatabase {
 public:
  ScenarioDatabase() : path_(TempPath(".db")) {
    fs::copy_file(kSourceDir + "/engine/testdata/store-v2.db", path_);
  }
  ~ScenarioDatabase() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::remove((path_ + suffix).c_str());
  }
  const std::string& path() const { return path_; }
  // The ids of its first `n` cases in id order.
  std::vector<std::string> FirstCases(int n) const {
    return Lines(RunShell("sqlite3 " + Quote(path_) + " 'SELECT id FROM cases ORDER BY id LIMIT " +
                          std::to_string(n) + "'")
                     .out);
  }
  // Alters event 1 of each case, as someone with the file could (the triggers dropped first).
  void AlterFirstEvents(const std::vector<std::string>& ids) const {
    std::string sql =
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;";
    for (const std::string& id : ids)
      sql += "UPDATE events SET data = '{}' WHERE seq = 1 AND case_id = '" + id + "';";
    RunResult r = RunShell("sqlite3 " + Quote(path_) + " " + Quote(sql));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

 private:
  std::string path_;
};

// A mistyped case id is not damage (exit 1 would send an auditor looking for tampering): exit 3, as
// replay says it. An unknown --format is wrong usage, not text.
TEST(CliVerify, AnUnknownCaseAndAnUnknownFormat) {
  ScenarioDatabase copy;
  const std::string& db = copy.path();
  RunResult r = Tongban("verify --db " + Quote(db) + " --case c-nope");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("no case c-nope in " + db), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find("BROKEN"), std::string::npos) << Describe(r);
  for (const char* command : {"verify", "replay"}) {
    r = Tongban(std::string(command) + " --db " + Quote(db) + " --case c-nope --format yaml");
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("--format must be text or json"), std::string::npos) << Describe(r);
  }
  r = Tongban("verify --db " + Quote(db));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

// An auditor's listing: every broken case, one line each in id order, and a last line counting
// them; a limit that stops the verification says so. Exit 1 either way.
TEST(CliVerify, EveryBrokenCaseIsListedUpToTheLimit) {
  ScenarioDatabase copy;
  const std::vector<std::string> ids = copy.FirstCases(3);
  ASSERT_EQ(ids.size(), 3u);
  copy.AlterFirstEvents(ids);
  const std::string db = Quote(copy.path());

  RunResult r = Tongban("verify --db " + db);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << Describe(r);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(lines[i], "BROKEN: case " + ids[i] +
                            ", event 1: hash does not match the event's content: the event was "
                            "altered")
        << Describe(r);
  }
  EXPECT_EQ(lines[3], "BROKEN: 3 finding(s) in 120 case(s) looked at") << Describe(r);

  r = Tongban("verify --db " + db + " --max-findings 2 --format json");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << Describe(r);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["findings_truncated"], true);
  ASSERT_EQ(report["findings"].size(), 2u) << Describe(r);
  EXPECT_EQ(report["findings"][1]["case_id"], ids[1]);
  EXPECT_EQ(report["findings"][1]["first_bad_seq"], 1);
  EXPECT_EQ(report["case_id"], ids[0]);

  r = Tongban("verify --db " + db + " --max-findings 1");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(HasLine(r.out,
                      "BROKEN: 1 finding(s) in 1 case(s) looked at; stopped at that limit, "
                      "so there may be more"))
      << Describe(r);

  for (const char* wrong : {"0", "-1", "12abc", "1000001", ""}) {
    r = Tongban("verify --db " + db + " --max-findings " + Quote(wrong));
    EXPECT_EQ(r.exit_code, 2) << wrong << "\n" << Describe(r);
    EXPECT_NE(r.err.find("--max-findings takes a count"), std::string::npos) << Describe(r);
  }
  r = Tongban("verify --db " + db + " --case " + Quote(ids[0]) + " --max-findings 5");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

// A checkpoint signs only a database that verifies: over a rewritten history it records nothing,
// leaves no witness, prints the finding and exits 1; over the intact one it signs.
TEST(CliCheckpoint, ADatabaseThatDoesNotVerifyIsNotSigned) {
  const std::string private_key = TempPath("-operator.pem"), public_key = TempPath("-auditor.pem");
  RunResult r =
      Tongban("keygen --private-key " + Quote(private_key) + " --public-key " + Quote(public_key));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ScenarioDatabase intact, altered;
  const std::vector<std::string> ids = altered.FirstCases(1);
  altered.AlterFirstEvents(ids);
  auto ledger_entries = [](const std::string& db) {
    return RunShell("sqlite3 " + Quote(db) + " 'SELECT count(*) FROM ledger'").out;
  };
  const std::string entries_before = ledger_entries(altered.path());

  const std::string witness = TempPath("-witness.jsonl");
  r = Tongban("checkpoint --db " + Quote(altered.path()) + " --key " + Quote(private_key) +
              " --out " + Quote(witness));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("the database does not verify, so it is not signed"), std::string::npos)
      << Describe(r);
  EXPECT_NE(r.err.find("BROKEN: case " + ids[0] + ", event 1"), std::string::npos) << Describe(r);
  EXPECT_FALSE(fs::exists(witness));
  EXPECT_EQ(ledger_entries(altered.path()), entries_before);

  r = Tongban("checkpoint --db " + Quote(intact.path()) + " --key " + Quote(private_key) +
              " --out " + Quote(witness) + " --format yaml");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_FALSE(fs::exists(witness));
  r = Tongban("checkpoint --db " + Quote(intact.path()) + " --key " + Quote(private_key) +
              " --out " + Quote(witness));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Tongban("verify --db " + Quote(intact.path()) + " --checkpoint " + Quote(witness) +
              " --public-key " + Quote(public_key));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  for (const std::string& file : {private_key, public_key, witness})
    std::remove(file.c_str());
}

// An archive already written (perhaps the one handed to the archives) is never replaced, and an
// unknown --format is wrong usage before anything is read.
TEST(CliExport, AnArchiveThatExistsIsNeverReplaced) {
  ScenarioDatabase copy;
  const std::string id = copy.FirstCases(1).at(0);
  const std::string out = TempPath(".tar");
  const std::string command =
      "export --db " + Quote(copy.path()) + " --case " + Quote(id) + " --out " + Quote(out);
  RunResult r = Tongban(command);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string archive = ReadFile(out);
  ASSERT_FALSE(archive.empty());
  r = Tongban("verify --archive " + Quote(out));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  r = Tongban(command);
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find(out + " already exists; export never replaces a file"), std::string::npos)
      << Describe(r);
  EXPECT_EQ(ReadFile(out), archive);
  EXPECT_FALSE(fs::exists(out + ".partial"));

  const std::string other = TempPath(".tar");
  r = Tongban(command.substr(0, command.find(" --out ")) + " --out " + Quote(other) +
              " --format yaml");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--format must be text or json"), std::string::npos) << Describe(r);
  EXPECT_FALSE(fs::exists(other));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace tongban::cli_test
