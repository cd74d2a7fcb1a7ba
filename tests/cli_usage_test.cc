// The command line as a Unix tool: usage errors exit 2, --help everywhere exits 0.
#include <gtest/gtest.h>

#include <string>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

TEST(CliUsage, NoArgumentsExitsTwo) {
  RunResult r = Tongban("");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("usage: tongban"), std::string::npos) << Describe(r);
}

TEST(CliUsage, ValidateWithoutFilesExitsTwo) {
  RunResult r = Tongban("validate");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("no definition files given"), std::string::npos) << Describe(r);
}

TEST(CliUsage, UnknownCommandExitsTwo) {
  RunResult r = Tongban("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << Describe(r);
}

TEST(CliUsage, UnknownOptionExitsTwo) {
  for (const std::string command : {"validate", "graph", "bench"}) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command + " --no-such-option definitions/");
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("unknown option --no-such-option"), std::string::npos) << Describe(r);
  }
}

TEST(CliUsage, BadFormatExitsTwo) {
  EXPECT_EQ(Tongban("validate --format xml definitions/").exit_code, 2);
  EXPECT_EQ(Tongban("graph --format svg definitions/items/seal-engraving-filing.json").exit_code,
            2);
}

TEST(CliUsage, HelpExitsZero) {
  for (const std::string command : {"validate", "graph", "bench"}) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command + " --help");
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.out.find("usage: tongban " + command), std::string::npos) << Describe(r);
  }
  RunResult r = Tongban("--help");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("usage: tongban COMMAND"), std::string::npos) << Describe(r);
}

}  // namespace
}  // namespace tongban::cli_test
