// SHA-256 through OpenSSL, as lower-case hex. Used for definition content hashes and the event
// chain.
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

namespace tongban {

std::string Sha256Hex(std::string_view data);

// SHA-256 for loops over many inputs (the event chain): OpenSSL 3's one-shot SHA256() looks the
// digest up on every call, which costs about as much as hashing a short event; this looks it up
// once per process and reuses one digest context.
//
// Thread safety: one object per thread (the context is the object's); the shared digest is
// immutable once fetched.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // Writes the 64 lower-case hex digits of SHA-256(data) to `hex`. Never fails: should OpenSSL
  // refuse the reused context, it falls back to the one-shot function.
  void Hex(std::string_view data, char hex[64]);

 private:
  EVP_MD_CTX* ctx_;
};

// Compares two strings in time that depends only on their lengths (for secrets such as token
// hashes).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tongban
