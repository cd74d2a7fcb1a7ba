// `tongban serve` and `tongban token`, the real binary: the roles principals hold, and a database
// file that is missing, or that may not be written, at start.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/sha256.h"

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

// A copy of the demo principals with one more staff principal, holding `role`, at the end;
// returns its path and sets `index` to the new principal's index.
std::string DemoPrincipalsWith(const std::string& role, size_t* index) {
  nlohmann::json doc =
      nlohmann::json::parse(ReadFile(kSourceDir + "/definitions/principals/demo.json"));
  doc["demo"] = false;
  *index = doc["principals"].size();
  doc["principals"].push_back({{"id", "surveyor-test"},
                               {"name", "测绘人员"},
                               {"roles", {role}},
                               {"organ", "dz-approval-bureau"},
                               {"token_sha256", tongban::Sha256Hex("test-surveyor-token")}});
  std::string path = TempPath("-principals.json");
  std::ofstream(path) << doc.dump(2);
  return path;
}

// A definitions folder with the shipped calendars and one item declaring the role "surveyor".
std::string DefinitionsDeclaringSurveyor() {
  std::string dir = TempPath("-definitions");
  fs::create_directories(dir + "/calendars");
  fs::create_directories(dir + "/items");
  fs::copy_file(kSourceDir + "/definitions/calendars/cn-mainland.json",
                dir + "/calendars/cn-mainland.json");
  nlohmann::json item =
      nlohmann::json::parse(ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json"));
  item["id"] = "survey-filing";
  item["roles"] = {{{"id", "surveyor"}, {"title", "测绘人员"}}};
  item["steps"][0]["role"] = "surveyor";
  std::ofstream(dir + "/items/survey-filing.json") << item.dump(2);
  return dir;
}

// The server refuses, before it listens, a principal holding a role that no deployed item
// declares, in the compiler format with the principal's pointer. (`timeout` only keeps a server
// that wrongly started from hanging the suite.)
TEST(CliServe, RefusesARoleNothingDeployedDeclares) {
  size_t index = 0;
  std::string principals = DemoPrincipalsWith("surveyor", &index);
  std::string db = TempPath(".db");
  RunResult r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --principals " + Quote(principals) +
                         " --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  std::regex line(std::regex_replace(principals, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                  R"(:\d+:\d+: error: unknown role "surveyor": neither built in nor declared by a )"
                  R"(deployed item \[/principals/)" +
                  std::to_string(index) + R"(/roles/0\])");
  EXPECT_TRUE(std::regex_search(r.err, line)) << Describe(r);
  // A close miss of an item-declared role gets a suggestion.
  principals = DemoPrincipalsWith("inspectr", &index);
  r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
               " --definitions definitions --principals " + Quote(principals) +
               " --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(
      r.err.find("did you mean \"inspector\"? [/principals/" + std::to_string(index) + "/roles/0]"),
      std::string::npos)
      << Describe(r);
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((db + suffix).c_str());
}

// --- A database file that is missing, or that may not be written, at start; a durability
// setting a server may not run with.

TEST(CliDatabase, VerifyOfAMissingFileExitsThreeAndCreatesNothing) {
  std::string db = TempPath(".db");
  RunResult r = Tongban("verify --db " + Quote(db));
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("tongban verify: no database file " + db), std::string::npos) << Describe(r);
  EXPECT_FALSE(fs::exists(db));
}

TEST(CliDatabase, ServeInAMissingDirectoryExitsThreeBeforeListening) {
  std::string db = TempPath("-no-such-dir") + "/tongban.db";
  RunResult r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("tongban serve: cannot open database " + db), std::string::npos)
      << Describe(r);
}

// A file the server may not write: refused at start (SQLite would open it read-only without a
// word, and every write would fail). Root may write any file, so
// as root the binary runs as nobody (setpriv).
TEST(CliDatabase, ServeRefusesAReadOnlyFile) {
  std::string dir = TempPath("-ro");
  fs::create_directories(dir);
  std::string db = dir + "/tongban.db";
  fs::copy_file(kSourceDir + "/engine/testdata/store-v2.db", db);
  const std::vector<std::string> ids =
      Lines(RunShell("sqlite3 " + Quote(db) + " 'SELECT id FROM cases ORDER BY id LIMIT 1'").out);
  ASSERT_EQ(ids.size(), 1u);
  const std::string first_case = ids[0];
  fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  std::string as = "";
  if (geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null 2>&1") != 0) GTEST_SKIP() << "root, no setpriv";
    as = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  RunResult r = RunShell("timeout 120 " + as + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("tongban serve: the database file " + db + " is read-only"),
            std::string::npos)
      << Describe(r);
  // An auditor's copy: verify, replay and export read it where it lies, in a directory they may
  // not write, and leave nothing beside it (no -wal, no -shm).
  RunResult verified = RunShell(as + Quote(kBinary) + " verify --db " + Quote(db));
  EXPECT_EQ(verified.exit_code, 0) << Describe(verified);
  EXPECT_EQ(verified.out.rfind("OK: 532 event(s) in 120 case(s) verified", 0), 0u)
      << Describe(verified);
  RunResult replayed =
      RunShell(as + Quote(kBinary) + " replay --db " + Quote(db) + " --case " + Quote(first_case));
  EXPECT_EQ(replayed.exit_code, 0) << Describe(replayed);
  for (const char* suffix : {"-wal", "-shm"})
    EXPECT_FALSE(fs::exists(db + suffix)) << suffix;
  // WAL content beside it is read through a -shm file that cannot be made there: exit 3, saying
  // why and what to do, and the file is left as it is.
  fs::permissions(dir, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(db + "-wal") << "x";
  fs::permissions(dir, fs::perms::owner_write, fs::perm_options::remove);
  verified = RunShell(as + Quote(kBinary) + " verify --db " + Quote(db));
  EXPECT_EQ(verified.exit_code, 3) << Describe(verified);
  EXPECT_NE(verified.err.find("cannot read " + db), std::string::npos) << Describe(verified);
  EXPECT_NE(verified.err.find("copy the database with its -wal file"), std::string::npos)
      << Describe(verified);
  EXPECT_FALSE(fs::exists(db + "-shm"));
  fs::permissions(dir, fs::perms::owner_write, fs::perm_options::add);
  fs::remove_all(dir);
}

// synchronous=OFF loses the last commits to a power cut, after the applicants were told their
// cases were filed: a server refuses it before it opens anything (scenarios and benchmarks, whose
// databases are thrown away, still use it).
TEST(CliDatabase, ServeRefusesSynchronousOff) {
  std::string db = TempPath(".db");
  for (const char* mode : {"OFF", "off", "EXTRA", ""}) {
    RunResult r =
        RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
                 " --definitions definitions --listen 127.0.0.1:0 --synchronous " + Quote(mode));
    EXPECT_EQ(r.exit_code, 2) << mode << "\n" << Describe(r);
    EXPECT_NE(r.err.find("--synchronous must be FULL or NORMAL"), std::string::npos) << Describe(r);
    EXPECT_FALSE(fs::exists(db)) << mode;
  }
}

TEST(CliToken, AgreesWithServeOnRoles) {
  RunResult r = Tongban("token --id inspector-2 --role inspector --organ dz-approval-bureau");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("roles":["inspector"])"), std::string::npos) << Describe(r);
  r = Tongban("token --id surveyor-1 --role surveyor --organ dz-approval-bureau");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find(R"(unknown role "surveyor": neither built in nor declared by an item in )"
                       R"(definitions)"),
            std::string::npos)
      << Describe(r);
  EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
  r = Tongban("token --id inspector-3 --role inspectr");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find(R"(did you mean "inspector"?)"), std::string::npos) << Describe(r);
  r = Tongban("token --id x --role 'Fire Reviewer'");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  // Definitions that declare the role make it acceptable.
  std::string definitions = DefinitionsDeclaringSurveyor();
  r = Tongban("token --id surveyor-1 --role surveyor --organ dz-approval-bureau --definitions " +
              Quote(definitions));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("roles":["surveyor"])"), std::string::npos) << Describe(r);
  std::error_code ignored;
  fs::remove_all(definitions, ignored);
}

// The line printed must load where it is pasted: what the principals file refuses, token refuses,
// naming the option; nothing is printed.
TEST(CliToken, ALineThePrincipalsFileWouldRefuseIsNotPrinted) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"token --id 'Bad Id' --role clerk --organ dz-approval-bureau", "--id: \"Bad Id\""},
      {"token --id app-x --role applicant", "applicants need \"credit_code\""},
      {"token --id clerk-y --role clerk", "staff principals need \"organ\""},
      {"token --id app-z --role applicant --credit-code 12345",
       "--credit-code: \"12345\" is not a valid unified social credit code"},
      {"token --id c1 --role clerk --organ dz-approval-bureau --definitions /no/such/folder",
       "--definitions /no/such/folder is not a folder"},
  };
  for (const auto& [command, message] : refused) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(message), std::string::npos) << Describe(r);
    EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
  }
  RunResult r = Tongban("token --id app-z --role applicant --credit-code 91330100MA2TB00014");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("credit_code":"91330100MA2TB00014")"), std::string::npos) << Describe(r);
}

// A principals file is JSON, so UTF-8: a name in another encoding is refused, not printed broken.
TEST(CliToken, ANameThatIsNotUtf8IsAUsageError) {
  RunResult r = Tongban("token --id reviewer-9 --role reviewer --name $(printf '\\377')");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("must be UTF-8 text"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
}

}  // namespace
}  // namespace tongban::cli_test
