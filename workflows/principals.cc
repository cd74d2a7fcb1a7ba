#include "workflows/principals.h"

#include <algorithm>
#include <set>

#include "workflows/schema_reader.h"

namespace tongban {

bool Principal::HasRole(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<std::string> KnownPrincipalRoles(
    const std::vector<std::shared_ptr<const Item>>& items) {
  std::vector<std::string> known = PrincipalRoles();
  std::set<std::string> declared;
  for (const auto& item : items) {
    for (const auto& [id, title] : item->extra_roles)
      declared.insert(id);
  }
  for (const std::string& role : declared) {
    if (std::find(known.begin(), known.end(), role) == known.end()) known.push_back(role);
  }
  return known;
}

bool CheckPrincipalRoles(const PrincipalSet& set, const std::vector<std::string>& known,
                         DiagnosticSink* sink) {
  bool ok = true;
  for (size_t i = 0; i < set.principals.size(); ++i) {
    const Principal& p = set.principals[i];
    for (size_t k = 0; k < p.roles.size(); ++k) {
      if (std::find(known.begin(), known.end(), p.roles[k]) != known.end()) continue;
      std::string message =
          "unknown role \"" + p.roles[k] + "\": neither built in nor declared by a deployed item";
      std::string suggestion = ClosestMatch(p.roles[k], known);
      if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
      sink->Error(JoinJsonPointer(JoinJsonPointer("/principals", i) + "/roles", k), "unknown-role",
                  message);
      ok = false;
    }
  }
  return ok;
}

bool IsValidCreditCode(const std::string& code) {
  // GB 32100-2015: 18 characters from this alphabet; the last is a check character.
  static const std::string kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int kWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  if (code.size() != 18) return false;
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    size_t value = kAlphabet.find(code[i]);
    if (value == std::string::npos) return false;
    sum += static_cast<int>(value) * kWeights[i];
  }
  int check = (31 - sum % 31) % 31;
  return code[17] == kAlphabet[static_cast<size_t>(check)];
}

std::shared_ptr<const PrincipalSet> CompilePrincipals(const nlohmann::json& root,
                                                      DiagnosticSink* sink) {
  ObjectReader top(root, "", sink, {"kind", "id", "title", "demo", "principals"});
  if (!top.valid()) return nullptr;
  auto set = std::make_shared<PrincipalSet>();
  set->id = top.Slug("id", true).value_or("");
  top.String("title", false);
  set->demo = top.Boolean("demo", false).value_or(false);
  std::set<std::string> ids, hashes;
  if (const nlohmann::json* list = top.Array("principals", true)) {
    for (size_t i = 0; i < list->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("principals"), i);
      ObjectReader r((*list)[i], pointer, sink,
                     {"id", "name", "roles", "organ", "credit_code", "token_sha256", "note"});
      if (!r.valid()) continue;
      Principal p;
      p.id = r.Slug("id", true).value_or("");
      p.name = r.String("name", true).value_or("");
      p.organ = r.String("organ", false).value_or("");
      p.credit_code = r.String("credit_code", false).value_or("");
      p.token_sha256 = r.String("token_sha256", true).value_or("");
      r.String("note", false);
      if (!p.id.empty() && !ids.insert(p.id).second) {
        sink->Error(r.PointerOf("id"), "duplicate-id",
                    "principal \"" + p.id + "\" is listed twice");
      }
      bool hex = p.token_sha256.size() == 64 &&
                 std::all_of(p.token_sha256.begin(), p.token_sha256.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                 });
      if (!p.token_sha256.empty() && !hex) {
        sink->Error(r.PointerOf("token_sha256"), "bad-token-hash",
                    "token_sha256 must be 64 lower-case hex digits (the SHA-256 of the token; "
                    "`tongban token` prints one)");
      } else if (!p.token_sha256.empty() && !hashes.insert(p.token_sha256).second) {
        sink->Error(r.PointerOf("token_sha256"), "duplicate-id",
                    "two principals share the same token");
      }
      if (const nlohmann::json* roles = r.Array("roles", true)) {
        for (size_t k = 0; k < roles->size(); ++k) {
          std::string rp = JoinJsonPointer(r.PointerOf("roles"), k);
          if (!(*roles)[k].is_string() || !IsSlug((*roles)[k].get<std::string>())) {
            sink->Error(rp, "bad-id",
                        "a role is an id: lower-case letters, digits, '-' and '_', starting with "
                        "a letter");
            continue;
          }
          std::string role = (*roles)[k].get<std::string>();
          p.roles.push_back(role);
        }
        if (roles->empty())
          sink->Error(r.PointerOf("roles"), "empty-list", "a principal needs a role");
      }
      bool staff = std::any_of(p.roles.begin(), p.roles.end(), [](const std::string& role) {
        return role != "applicant" && role != "agent";
      });
      if (staff && p.organ.empty()) {
        sink->Error(pointer, "missing-key",
                    "staff principals need \"organ\", the authority they work for");
      }
      if (p.HasRole("applicant")) {
        if (p.credit_code.empty()) {
          sink->Error(pointer, "missing-key",
                      "applicants need \"credit_code\", their unified social credit code");
        } else if (!IsValidCreditCode(p.credit_code)) {
          sink->Error(r.PointerOf("credit_code"), "bad-credit-code",
                      "\"" + p.credit_code +
                          "\" is not a valid unified social credit code "
                          "(18 characters with a GB 32100-2015 check character)");
        }
      }
      set->principals.push_back(std::move(p));
    }
  }
  if (sink->has_errors()) return nullptr;
  return set;
}

std::vector<std::string> UnsignableJointParties(
    const PrincipalSet& set, const std::vector<std::shared_ptr<const Item>>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    for (const Step& step : item->steps) {
      for (const JointParty& party : step.parties) {
        const std::string& organ = party.organ.id.empty() ? item->organ.id : party.organ.id;
        bool signable = false;
        for (const Principal& p : set.principals) {
          signable = signable || (p.HasRole(party.role) && (p.organ == organ || p.organ == "*"));
        }
        if (signable) continue;
        out.push_back(item->id + " v" + std::to_string(item->version) + ", step " + step.id +
                      ": no principal holds role " + party.role + " in organ " + organ +
                      ", so party " + party.id + " (" + party.title + ") can never sign");
      }
    }
  }
  return out;
}

}  // namespace tongban
