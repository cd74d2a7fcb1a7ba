#include "workflows/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace tongban {

namespace {

void ToHex(const unsigned char* digest, char* hex) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
}

// Fetched once for the process; nullptr if OpenSSL has no SHA-256 provider (then the one-shot
// function is used, and fails the same way everywhere).
EVP_MD* Sha256Digest() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  thread_local Sha256Hasher hasher;
  std::string out(SHA256_DIGEST_LENGTH * 2, '0');
  hasher.Hex(data, out.data());
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256Hasher::Hex(std::string_view data, char hex[64]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD* md = Sha256Digest();
  if (ctx_ == nullptr || md == nullptr || !EVP_DigestInit_ex2(ctx_, md, nullptr) ||
      !EVP_DigestUpdate(ctx_, data.data(), data.size()) ||
      !EVP_DigestFinal_ex(ctx_, digest, &length) || length != SHA256_DIGEST_LENGTH) {
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  }
  ToHex(digest, hex);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tongban
