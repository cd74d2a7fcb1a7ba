#include "engine/durable_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tongban {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class DurableFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("durable-file-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DurableFileTest, ANewFileIsWrittenWholeAndAnExistingOneIsLeftAsItIs) {
  const std::string path = (dir_ / "archive.tar").string();
  const std::string bytes(100000, 'a');
  ASSERT_TRUE(WriteNewFile(path, bytes).ok());
  EXPECT_EQ(Read(path), bytes);
  EXPECT_FALSE(fs::exists(path + ".partial"));

  Status again = WriteNewFile(path, "other bytes");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(Read(path), bytes);
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST_F(DurableFileTest, AFileThatCannotBeWrittenIsNamedAndNothingIsLeft) {
  const std::string path = (dir_ / "missing-folder" / "archive.tar").string();
  Status s = WriteNewFile(path, "bytes");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("cannot write " + path), std::string::npos) << s.ToString();
  EXPECT_FALSE(fs::exists(dir_ / "missing-folder"));

  // A descriptor that cannot be written: the failure names what and why, and it is closed.
  int fd = ::open((dir_ / "read-only").c_str(), O_RDONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  Status refused = WriteSyncAndClose(fd, "bytes", "witness W");
  EXPECT_EQ(refused.code(), StatusCode::kInternal);
  EXPECT_EQ(refused.message().rfind("cannot write witness W: ", 0), 0u) << refused.ToString();
  EXPECT_EQ(::close(fd), -1) << "the descriptor was left open";
}

}  // namespace
}  // namespace tongban
