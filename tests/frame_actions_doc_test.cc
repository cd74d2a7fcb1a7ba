// The language reference documents the frame's actions as the code has them: every row of the one
// table (workflows/frame_actions.h) stands in definitions/README.md §6.2 with its Chinese title and
// the roles that take it, and the section lists no action the table does not have.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "workflows/frame_actions.h"

namespace tongban {
namespace {

// The rows of §6.2's table, by action id: the cells after the id.
std::map<std::string, std::vector<std::string>> ReservedActionsSection() {
  std::ifstream in(std::string(TONGBAN_SOURCE_DIR) + "/definitions/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const size_t start = all.find("### 6.2 Reserved actions");
  const size_t end = all.find("### 6.3", start);
  EXPECT_NE(start, std::string::npos);
  std::istringstream section(all.substr(start, end - start));
  std::map<std::string, std::vector<std::string>> rows;
  for (std::string line; std::getline(section, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream cols(line.substr(1));
    for (std::string cell; std::getline(cols, cell, '|');) {
      const size_t first = cell.find_first_not_of(' ');
      const size_t last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    std::string id = cells.front().substr(1, cells.front().size() - 2);  // strip the backticks
    cells.erase(cells.begin());
    rows[id] = cells;
  }
  return rows;
}

TEST(FrameActionsDoc, EveryRowIsDocumentedWithItsTitleAndRoles) {
  auto rows = ReservedActionsSection();
  for (const FrameActionSpec& action : FrameActionTable()) {
    auto row = rows.find(action.id);
    ASSERT_NE(row, rows.end()) << action.id << " is missing from definitions/README.md §6.2";
    ASSERT_GE(row->second.size(), 2u) << action.id;
    EXPECT_EQ(row->second[0], action.title) << action.id;
    for (const std::string& role : action.roles)
      EXPECT_NE(row->second[1].find(role), std::string::npos) << action.id << ": " << role;
    rows.erase(row);
  }
  for (const auto& [id, cells] : rows)
    ADD_FAILURE() << "definitions/README.md §6.2 documents " << id
                  << ", which is not a frame action";
}

}  // namespace
}  // namespace tongban
