// CompileItem: checks an "item" definition and turns it into an executable Item.
//
// The compiler reports every problem it finds (it does not stop at the first), each with the JSON
// pointer of the offending value. Errors make the definition unusable; warnings (a path that can
// never approve, step limits longer than the promise) are shown to the modeller but do not block
// deployment.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"
#include "workflows/item.h"

namespace tongban {

// Resolves a calendar id to a compiled calendar, or null when there is none by that id.
using CalendarLookup = std::function<std::shared_ptr<const Calendar>(const std::string& id)>;

// Reads an array of form fields — the element shape of an item's "form"."fields", shared with the
// bundle's "form" — found at `pointer`. Reports malformed fields, duplicate ids and enum mistakes;
// returns the fields that could be read.
std::vector<FormField> ReadFormFields(const nlohmann::json& fields, const std::string& pointer,
                                      DiagnosticSink* sink);
// Reads an array of materials — the element shape of an item's "materials", shared with the
// bundle's — found at `pointer`, with the same reporting.
std::vector<Material> ReadMaterialList(const nlohmann::json& list, const std::string& pointer,
                                       DiagnosticSink* sink);

// Returns null when any error was reported into `sink`. `stored`: the text was read back from the
// store, deployed under an earlier version of the language; a rule added since (art. 45's exact
// list) is then a warning, and the definition keeps the meaning its cases ran under.
std::shared_ptr<const Item> CompileItem(const nlohmann::json& root, const CalendarLookup& calendars,
                                        DiagnosticSink* sink, bool stored = false);

}  // namespace tongban
