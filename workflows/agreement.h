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
  Organ handling;   // the organ that accepts and decides; must implement the items
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

// Compiles a "handling_agreements" definition. `find_item` resolves item ids (null: not checked);
// an agreement whose handling organ does not implement a listed item is an error.
std::shared_ptr<const HandlingAgreementList> CompileHandlingAgreements(
    const nlohmann::json& root,
    const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
    DiagnosticSink* sink);

nlohmann::json HandlingAgreementToJson(const HandlingAgreement& agreement);

}  // namespace tongban
