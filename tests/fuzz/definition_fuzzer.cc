// libFuzzer harness of the definition compiler, every kind: the input is one definition file,
// compiled by DefinitionSet beside the shipped definitions as context (calendars, items,
// delegation lists, agreements, bundles), exactly as `tongban validate --with definitions` and a
// deployment over HTTP compile it. A definition that compiles is also drawn (Mermaid and DOT),
// because the graph is served for every deployed item and bundle.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.h"
#include "workflows/definition_set.h"
#include "workflows/diagnostics.h"
#include "workflows/graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tongban::DefinitionSet set;
  for (const auto& [name, text] : tongban::fuzz::ShippedDefinitions())
    set.AddText(name, text, /*report=*/false);
  set.AddText("fuzz.json", std::string(reinterpret_cast<const char*>(data), size));
  set.Compile();
  for (const tongban::Diagnostic& d : set.Diagnostics())
    (void)tongban::FormatDiagnostic(d);
  if (set.HasErrors()) return 0;
  for (const auto& item : set.Items()) {
    (void)tongban::RenderMermaid(*item);
    (void)tongban::RenderDot(*item);
  }
  for (const auto& bundle : set.Bundles()) {
    (void)tongban::RenderMermaid(*bundle);
    (void)tongban::RenderDot(*bundle);
  }
  return 0;
}
