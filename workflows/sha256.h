// SHA-256 through OpenSSL, as lower-case hex. Used for definition content hashes and the event
// chain.
#pragma once

#include <string>
#include <string_view>

namespace tongban {

std::string Sha256Hex(std::string_view data);

// Compares two strings in time that depends only on their lengths (for secrets such as token
// hashes).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tongban
