// libFuzzer harness of the strict JSON parser (workflows/json_document.h), the parser of every
// definition, scenario and request body.
//
// Beyond "does not crash", it checks what the parser promises: a text it accepts is valid UTF-8
// all through (a strict dump does not throw), dumps to a text it accepts again with the same value,
// and is accepted the same way whether positions are recorded or not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "workflows/json_document.h"

namespace {

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "json_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tongban::JsonDocument;
  using tongban::JsonParseOptions;
  using tongban::SourcePosition;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  SourcePosition error_position;
  auto full = JsonDocument::Parse(text, &error_position);
  JsonParseOptions body_options;  // as the API parses request bodies
  body_options.max_depth = 32;
  body_options.record_positions = false;
  auto body = JsonDocument::Parse(text, nullptr, body_options);

  if (!full.ok()) {
    if (body.ok()) Broken("a body parse accepted what the full parse refused");
    if (error_position.known() && (error_position.line < 1 || error_position.column < 1)) {
      Broken("an error position out of range");
    }
    return 0;
  }
  (void)full->PositionOf("");
  (void)full->PositionOf("/0/a/~1");
  if (body.ok() && body->root() != full->root()) Broken("positions changed the value");

  std::string dumped;
  try {
    dumped = full->root().dump();  // strict: throws on invalid UTF-8
  } catch (const std::exception& e) {
    Broken("an accepted text holds invalid UTF-8");
  }
  auto again = JsonDocument::Parse(dumped);
  if (!again.ok()) Broken("the dump of an accepted text is refused");
  if (again->root() != full->root()) Broken("the dump of an accepted text parses to another value");
  return 0;
}
