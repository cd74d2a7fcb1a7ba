// Tests of SHA-256: known answers, and the reused hasher against the one-shot function.
#include "workflows/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tongban {
namespace {

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, AReusedHasherGivesEachInputsOwnDigest) {
  Sha256Hasher hasher;
  for (const std::string& input :
       std::vector<std::string>{"abc", "", "abc", std::string(1000, 'x'), "材料"}) {
    char hex[64];
    hasher.Hex(input, hex);
    EXPECT_EQ(std::string(hex, sizeof hex), Sha256Hex(input)) << input.size();
  }
  char hex[64];
  hasher.Hex("abc", hex);
  EXPECT_EQ(std::string(hex, sizeof hex),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tongban
