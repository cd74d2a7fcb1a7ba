// Guard: a typed subset of JSONLogic over an application form.
//
// A guard decides whether an action may be taken given the applicant's form data. Supported:
//   {"var": "field"} or {"var": ["field", default]}   the value of a form field
//   {"==": [a, b]} {"!=": [a, b]}                        equality of values of the same type
//   {"<": [a, b]} {"<=": …} {">": …} {">=": …}            order of numbers or of dates
//   {"and": [g…]} {"or": [g…]} {"!": g} or {"!": [g]}     boolean logic
//   {"in": [a, ["x", "y"]]}                               membership in a list of literals
//   {"in": ["text", {"var": "s"}]}                        substring of a string field
// Guards are type-checked against the form when compiled: a comparison of a number with a string,
// an unknown field, or an enum literal that is not one of the field's values is an error then,
// never a surprise at run time. At run time a missing optional field is null, and any comparison
// with null is false.
//
// Thread safety: a compiled Guard is immutable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"

namespace tongban {

enum class FieldType { kString, kNumber, kBoolean, kDate, kEnum };

const char* FieldTypeName(FieldType type);
// Whether a JSON value has the JSON type a field of `type` holds (a string for dates and enums;
// their format and values are checked separately).
bool ValueHasFieldType(FieldType type, const nlohmann::json& value);

struct FormField {
  std::string id;
  std::string label;
  FieldType type = FieldType::kString;
  bool required = false;
  std::vector<std::string> values;  // for kEnum
};

class Guard {
 public:
  struct Node;
  explicit Guard(std::shared_ptr<const Node> root, nlohmann::json source);
  ~Guard();

  // True when the guard holds for `form` (an object of field id → value).
  bool Evaluate(const nlohmann::json& form) const;
  const nlohmann::json& source() const { return source_; }

 private:
  std::shared_ptr<const Node> root_;
  nlohmann::json source_;
};

// Compiles `expression` found at `pointer`; reports problems to `sink` and returns null on error.
std::shared_ptr<const Guard> CompileGuard(const nlohmann::json& expression,
                                          const std::string& pointer,
                                          const std::vector<FormField>& form, DiagnosticSink* sink);

}  // namespace tongban
