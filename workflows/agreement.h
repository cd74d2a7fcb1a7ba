// Handling agreements (跨区通办 / 异地代收): reception separated from handling (收受分离).
//
// An agreement lets the window of one organ (the receiving organ) receive applications for items
// that another organ (the handling organ) implements. The receiving window registers the
// application and transfers it; the handling organ accepts it, and the statutory clock starts
// there. Compiled from a "handling_agreements" definition.
//
// Thread safety: immutable after compilation.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/calendar.h"
#include "workflows/diagnostics.h"
#include "workflows/item.h"

namespace tongban {

struct HandlingAgreement {
  std::string id;  // unique across lists
  std::string list_id;
  Organ receiving;  // the window that receives (代收)
  Organ handling;   // the organ that accepts and decides; must implement the items or be
                    // delegated "accept" for them
  std::vector<std::string> items;  // item ids covered
  std::vector<LegalCitation> legal_basis;
  Day effective_from{};
  std::optional<Day> effective_to;  // inclusive
  std::string note;

  bool Covers(const std::string& item_id) const;
  bool EffectiveOn(Day day) const;
};

struct HandlingAgreementList {
  std::string id;
  int version = 1;
  std::string title;
  std::vector<HandlingAgreement> agreements;
};

// Whether a delegation grants `organ_id` the power to accept applications for `item_id`.
using AcceptsByDelegation =
    std::function<bool(const std::string& organ_id, const std::string& item_id)>;

// Compiles a "handling_agreements" definition. `find_item` resolves item ids (version 0: latest;
// null: items are not checked). The handling organ must be competent for every listed item: it is
// the item's organ (the latest version's), or `accepts_by_delegation` says a delegation grants it
// "accept" for the item; otherwise the agreement is an error. `known_items` only feeds "did you
// mean" for an unknown item. Agreement ids are checked within the list here; across lists by the
// caller (DefinitionSet). Returns null on errors.
std::shared_ptr<const HandlingAgreementList> CompileHandlingAgreements(
    const nlohmann::json& root,
    const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
    DiagnosticSink* sink, const AcceptsByDelegation& accepts_by_delegation = nullptr,
    const std::vector<std::string>& known_items = {});

// {id, list, receiving_organ, handling_organ, items, legal_basis, effective_from, effective_to?,
// note?}: the definition's element shape, plus the list id.
nlohmann::json HandlingAgreementToJson(const HandlingAgreement& agreement);

}  // namespace tongban
