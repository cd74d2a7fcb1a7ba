// Delegation lists (赋权事项清单): powers over items that a city department passes to a zone's
// approval bureau, compiled from a "delegation_list" definition.
//
// Each record names the item, the delegating and the receiving organ, which powers pass (accept,
// review, decide), the legal form — entrustment (委托: decided in the delegator's name) or
// devolution (下放) and concentrated approval (相对集中许可: in the receiver's name with its
// approval seal 审批专用章) — the legal basis, the period it is effective and the territory.
// Records can also be added and revoked through the API; revocation never rewrites history.
//
// Thread safety: immutable after compilation.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/calendar.h"
#include "workflows/diagnostics.h"
#include "workflows/item.h"
#include "workflows/power.h"

namespace tongban {

enum class DelegationForm { kEntrustment, kDevolution, kConcentrated };
const char* DelegationFormName(DelegationForm form);

struct Delegation {
  std::string id;  // unique across lists
  std::string list_id;
  std::string item_id;
  Organ from;
  Organ to;
  std::string seal;  // the receiver's approval seal, for devolution and concentrated approval
  std::vector<Power> powers;
  DelegationForm form = DelegationForm::kEntrustment;
  std::vector<LegalCitation> legal_basis;
  Day effective_from{};
  std::optional<Day> effective_to;  // inclusive
  std::string territory;
  std::string note;

  bool Grants(Power power) const;
  bool EffectiveOn(Day day) const;
  // The name (and seal) a decision taken under this delegation is issued in.
  std::string IssuedInName() const {
    return form == DelegationForm::kEntrustment ? from.name : to.name;
  }
  std::string IssuedInSeal() const { return form == DelegationForm::kEntrustment ? "" : seal; }
};

struct DelegationList {
  std::string id;
  int version = 1;
  std::string title;
  std::vector<Delegation> delegations;
};

// Compiles a "delegation_list". `item_exists` tells whether an item id is known (null: not
// checked).
std::shared_ptr<const DelegationList> CompileDelegationList(
    const nlohmann::json& root, const std::function<bool(const std::string&)>& item_exists,
    DiagnosticSink* sink);

// Reads one delegation record (the list's element shape) — also the body of POST /v1/delegations.
std::optional<Delegation> ReadDelegation(const nlohmann::json& value, const std::string& pointer,
                                         const std::function<bool(const std::string&)>& item_exists,
                                         DiagnosticSink* sink);

nlohmann::json DelegationToJson(const Delegation& delegation);

}  // namespace tongban
