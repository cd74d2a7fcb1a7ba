// `tongban graph`, the real binary: Mermaid and Graphviz output of items and bundles.
#include <gtest/gtest.h>

#include <string>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

TEST(CliGraph, EveryShippedItemRendersWithGraphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Graphviz 'dot' is not installed";
  }
  std::vector<std::string> items = JsonFilesIn("definitions/items");
  ASSERT_FALSE(items.empty());
  for (const std::string& item : items) {
    SCOPED_TRACE(item);
    std::string svg = TempPath(".svg");
    // The exit code of the pipeline is dot's; the graph's own output is checked by running dot on
    // it, and the graph command's exit code separately below.
    RunResult rendered = RunShell(Quote(kBinary) + " graph " + Quote(item) +
                                  " --format dot | dot -Tsvg -o " + Quote(svg));
    EXPECT_EQ(rendered.exit_code, 0) << Describe(rendered);
    EXPECT_NE(ReadFile(svg).find("<svg"), std::string::npos) << "no SVG for " << item;
    std::remove(svg.c_str());

    RunResult dot = Tongban("graph " + Quote(item) + " --format dot");
    EXPECT_EQ(dot.exit_code, 0) << Describe(dot);
    EXPECT_EQ(dot.out.rfind("digraph", 0), 0u) << Describe(dot);
  }
}

// --rankdir lays the DOT out top to bottom (a page) or left to right (the default); it is refused
// with anything but a known direction and --format dot.
TEST(CliGraph, RankdirChangesTheDot) {
  const std::string item = "definitions/items/construction-permit.json";
  RunResult lr = Tongban("graph " + Quote(item) + " --format dot");
  RunResult tb = Tongban("graph " + Quote(item) + " --format dot --rankdir TB");
  ASSERT_EQ(tb.exit_code, 0) << Describe(tb);
  EXPECT_NE(lr.out.find("rankdir=LR;"), std::string::npos) << Describe(lr);
  EXPECT_NE(tb.out.find("rankdir=TB;"), std::string::npos) << Describe(tb);
  EXPECT_EQ(tb.out.find("rankdir=LR"), std::string::npos) << Describe(tb);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --format dot --rankdir LR").out, lr.out);
  // The edges carry the actions' titles, in the CJK font.
  EXPECT_NE(tb.out.find("[label=\"审查通过，提交决定\\n（条件："), std::string::npos)
      << Describe(tb);
  EXPECT_NE(tb.out.find("fontname=\"Noto Sans CJK SC\""), std::string::npos);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --format dot --rankdir BT").exit_code, 2);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --rankdir TB").exit_code, 2);
  EXPECT_NE(Tongban("graph --help").out.find("--rankdir"), std::string::npos);
}

TEST(CliGraph, EveryShippedItemDrawsAsMermaid) {
  for (const std::string& item : JsonFilesIn("definitions/items")) {
    SCOPED_TRACE(item);
    RunResult r = Tongban("graph " + Quote(item) + " --format mermaid");
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.out.rfind("stateDiagram-v2", 0), 0u) << Describe(r);
  }
}

TEST(CliGraph, BrokenItemExitsOneAndPrintsItsErrors) {
  RunResult r =
      Tongban(std::string("graph --with definitions/calendars ") + kBrokenStep + " --format dot");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(r.out.empty()) << Describe(r);
  EXPECT_NE(r.err.find(std::string(kBrokenStep) + ":39:11: error: unknown step \"decied\""),
            std::string::npos)
      << Describe(r);
}

TEST(CliGraph, BundleDrawsItsParts) {
  DefinitionsCopy copy;
  RunResult r = Tongban("graph " + Quote(copy.Path("bundles/startup.json")));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("flowchart LR\n", 0), 0u) << Describe(r);
  EXPECT_NE(r.out.find("p0 -->|\"when needs_seal == true\"| p1"), std::string::npos) << Describe(r);
  RunResult dot = Tongban("graph --format dot " + Quote(copy.Path("bundles/startup.json")));
  EXPECT_EQ(dot.exit_code, 0) << Describe(dot);
  EXPECT_NE(dot.out.find("p0 -> p1 [label=\"when needs_seal == true\"];"), std::string::npos)
      << Describe(dot);
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "no Graphviz 'dot'";
  std::string svg = TempPath(".svg");
  RunResult rendered =
      RunShell(Quote(kBinary) + " graph --format dot " + Quote(copy.Path("bundles/startup.json")) +
               " | dot -Tsvg -o " + Quote(svg));
  EXPECT_EQ(rendered.exit_code, 0) << Describe(rendered);
  EXPECT_NE(ReadFile(svg).find("<svg"), std::string::npos);
  std::remove(svg.c_str());
}

// Wrong usage, not a definition with errors (1): the argument is not something graph draws.
TEST(CliGraph, CalendarIsNotAnItem) {
  RunResult r = Tongban("graph definitions/calendars/cn-mainland.json");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("is not an item or bundle definition"), std::string::npos) << Describe(r);
  // A folder holds many items; graph draws one, and does not pick one of them.
  r = Tongban("graph definitions/items");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("definitions/items is a folder"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
}

}  // namespace
}  // namespace tongban::cli_test
