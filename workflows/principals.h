// Principals: who may call the API, compiled from a "principals" definition file.
//
// The file maps SHA-256 hashes of bearer tokens (never the tokens) to principals: an id, a name,
// roles, the organ they work for, and for applicants their unified social credit code
// (统一社会信用代码). `tongban token` prints a new token and the line to add.
//
// Thread safety: immutable after compilation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"

namespace tongban {

inline const std::vector<std::string>& PrincipalRoles() {
  static const std::vector<std::string> roles = {"applicant", "agent",    "clerk",   "reviewer",
                                                 "approver",  "verifier", "auditor", "admin"};
  return roles;
}

struct Principal {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string organ;        // "" for applicants; "*" for an auditor or admin of every organ
  std::string credit_code;  // applicants: 统一社会信用代码
  std::string token_sha256;

  bool HasRole(const std::string& role) const;
};

struct PrincipalSet {
  std::string id;
  bool demo = false;  // shipped demo principals: the server warns when it starts with them
  std::vector<Principal> principals;
};

// Returns null when any error was reported.
std::shared_ptr<const PrincipalSet> CompilePrincipals(const nlohmann::json& root,
                                                      DiagnosticSink* sink);

// Checks the shape of a unified social credit code (18 characters, GB 32100-2015 check digit).
bool IsValidCreditCode(const std::string& code);

}  // namespace tongban
