#include "workflows/guard.h"

#include <algorithm>

#include "workflows/schema_reader.h"

namespace tongban {

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kDate:
      return "date";
    case FieldType::kEnum:
      return "enum";
  }
  return "unknown";
}

bool ValueHasFieldType(FieldType type, const nlohmann::json& value) {
  switch (type) {
    case FieldType::kNumber:
      return value.is_number();
    case FieldType::kBoolean:
      return value.is_boolean();
    case FieldType::kString:
    case FieldType::kDate:
    case FieldType::kEnum:
      return value.is_string();
  }
  return false;
}

namespace {

// The static type of a guard sub-expression. kText is a string literal, which may stand for a
// string, a date or an enum value depending on what it is compared with.
enum class ValueType { kBoolean, kNumber, kString, kDate, kEnum, kText, kNull, kInvalid };

const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kBoolean:
      return "boolean";
    case ValueType::kNumber:
      return "number";
    case ValueType::kString:
      return "string";
    case ValueType::kDate:
      return "date";
    case ValueType::kEnum:
      return "enum";
    case ValueType::kText:
      return "string";
    case ValueType::kNull:
      return "null";
    case ValueType::kInvalid:
      return "invalid";
  }
  return "invalid";
}

ValueType FromField(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return ValueType::kString;
    case FieldType::kNumber:
      return ValueType::kNumber;
    case FieldType::kBoolean:
      return ValueType::kBoolean;
    case FieldType::kDate:
      return ValueType::kDate;
    case FieldType::kEnum:
      return ValueType::kEnum;
  }
  return ValueType::kInvalid;
}

}  // namespace

enum class Op {
  kLiteral,
  kVar,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kInList,
  kSubstring
};

struct Guard::Node {
  Op op = Op::kLiteral;
  nlohmann::json literal;  // kLiteral value; kVar default; kInList the list
  std::string field;       // kVar
  std::vector<std::shared_ptr<const Node>> children;
};

namespace {

using NodePtr = std::shared_ptr<const Guard::Node>;

struct Typed {
  NodePtr node;
  ValueType type = ValueType::kInvalid;
  const FormField* field = nullptr;  // when the expression is a plain var
};

class GuardCompiler {
 public:
  GuardCompiler(const std::vector<FormField>& form, DiagnosticSink* sink)
      : form_(form), sink_(sink) {}

  Typed Compile(const nlohmann::json& e, const std::string& pointer) {
    if (e.is_boolean() || e.is_number() || e.is_string() || e.is_null()) {
      auto node = std::make_shared<Guard::Node>();
      node->op = Op::kLiteral;
      node->literal = e;
      ValueType t = e.is_boolean()  ? ValueType::kBoolean
                    : e.is_number() ? ValueType::kNumber
                    : e.is_string() ? ValueType::kText
                                    : ValueType::kNull;
      return {node, t, nullptr};
    }
    if (!e.is_object() || e.size() != 1) {
      sink_->Error(pointer, "bad-guard",
                   "a guard expression is an object with exactly one operator, such as "
                   "{\"==\": [{\"var\": \"field\"}, 1]}; found " +
                       JsonTypeName(e));
      return {};
    }
    const std::string op = e.begin().key();
    const nlohmann::json& args = e.begin().value();
    std::string arg_pointer = JoinJsonPointer(pointer, op);
    if (op == "var") return CompileVar(args, arg_pointer);
    if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      return CompileComparison(op, args, arg_pointer);
    }
    if (op == "and" || op == "or") return CompileLogic(op, args, arg_pointer);
    if (op == "!") return CompileNot(args, arg_pointer);
    if (op == "in") return CompileIn(args, arg_pointer);
    std::string message = "unsupported guard operator \"" + op +
                          "\"; Tongban supports var, ==, !=, <, <=, >, >=, and, or, !, in";
    std::string suggestion =
        ClosestMatch(op, {"var", "==", "!=", "<", "<=", ">", ">=", "and", "or", "!", "in"});
    if (!suggestion.empty() && suggestion != op)
      message += " (did you mean \"" + suggestion + "\"?)";
    sink_->Error(arg_pointer, "bad-guard-operator", message);
    return {};
  }

 private:
  Typed CompileVar(const nlohmann::json& args, const std::string& pointer) {
    std::string name;
    nlohmann::json fallback;
    if (args.is_string()) {
      name = args.get<std::string>();
    } else if (args.is_array() && !args.empty() && args.size() <= 2 && args[0].is_string()) {
      name = args[0].get<std::string>();
      if (args.size() == 2) fallback = args[1];
    } else {
      sink_->Error(pointer, "bad-guard", "\"var\" takes a field id, or [field id, default]");
      return {};
    }
    auto it =
        std::find_if(form_.begin(), form_.end(), [&](const FormField& f) { return f.id == name; });
    if (it == form_.end()) {
      std::vector<std::string> ids;
      for (const FormField& f : form_)
        ids.push_back(f.id);
      std::string message = "guard refers to unknown form field \"" + name + "\"";
      std::string suggestion = ClosestMatch(name, ids);
      if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
      sink_->Error(pointer, "unknown-field", message);
      return {};
    }
    if (!fallback.is_null() && !CheckDefault(*it, fallback, JoinJsonPointer(pointer, 1))) return {};
    auto node = std::make_shared<Guard::Node>();
    node->op = Op::kVar;
    node->field = name;
    node->literal = fallback;
    return {node, FromField(it->type), &*it};
  }

  // The default of a var stands in for the field's value, so it must have the field's type.
  bool CheckDefault(const FormField& field, const nlohmann::json& value,
                    const std::string& pointer) {
    if (!ValueHasFieldType(field.type, value)) {
      sink_->Error(pointer, "guard-type-mismatch",
                   "the default must have the type of field \"" + field.id + "\" (" +
                       FieldTypeName(field.type) + "), found " + JsonTypeName(value));
      return false;
    }
    if (!value.is_string()) return true;
    const std::string& text = value.get_ref<const std::string&>();
    if (field.type == FieldType::kDate && !IsIsoDate(text)) {
      sink_->Error(pointer, "bad-guard-literal",
                   "\"" + text +
                       "\" is not a date (YYYY-MM-DD), but is the default of date field \"" +
                       field.id + "\"");
      return false;
    }
    if (field.type == FieldType::kEnum &&
        std::find(field.values.begin(), field.values.end(), text) == field.values.end()) {
      sink_->Error(pointer, "bad-guard-literal",
                   "\"" + text + "\" is not one of the values of enum field \"" + field.id + "\"");
      return false;
    }
    return true;
  }

  // Unifies the types of two operands; reports and returns kInvalid when they cannot be compared.
  ValueType Unify(const Typed& a, const Typed& b, const std::string& pointer,
                  const std::string& op) {
    if (a.type == ValueType::kInvalid || b.type == ValueType::kInvalid) return ValueType::kInvalid;
    if (a.type == b.type) return a.type;
    auto text_fits = [&](const Typed& typed, const Typed& text) -> bool {
      const std::string value = text.node->literal.get<std::string>();
      if (typed.type == ValueType::kString) return true;
      if (typed.type == ValueType::kDate) {
        if (!IsIsoDate(value)) {
          sink_->Error(pointer, "bad-guard-literal",
                       "\"" + value +
                           "\" is not a date (YYYY-MM-DD), but is compared with date "
                           "field \"" +
                           (typed.field ? typed.field->id : std::string("?")) + "\"");
        }
        return true;
      }
      if (typed.type == ValueType::kEnum) {
        if (typed.field != nullptr &&
            std::find(typed.field->values.begin(), typed.field->values.end(), value) ==
                typed.field->values.end()) {
          sink_->Error(pointer, "bad-guard-literal",
                       "\"" + value + "\" is not one of the values of enum field \"" +
                           typed.field->id + "\"");
        }
        return true;
      }
      return false;
    };
    if (b.type == ValueType::kText && text_fits(a, b)) return a.type;
    if (a.type == ValueType::kText && text_fits(b, a)) return b.type;
    if (a.type == ValueType::kNull || b.type == ValueType::kNull) return ValueType::kNull;
    sink_->Error(pointer, "guard-type-mismatch",
                 "\"" + op + "\" compares a " + ValueTypeName(a.type) + " with a " +
                     ValueTypeName(b.type) + "; both sides must have the same type");
    return ValueType::kInvalid;
  }

  Typed CompileComparison(const std::string& op, const nlohmann::json& args,
                          const std::string& pointer) {
    if (!args.is_array() || args.size() != 2) {
      sink_->Error(pointer, "bad-guard", "\"" + op + "\" takes exactly two operands: [a, b]");
      return {};
    }
    Typed a = Compile(args[0], JoinJsonPointer(pointer, 0));
    Typed b = Compile(args[1], JoinJsonPointer(pointer, 1));
    ValueType t = Unify(a, b, pointer, op);
    if (t == ValueType::kInvalid) return {};
    bool ordered = op != "==" && op != "!=";
    if (ordered && t != ValueType::kNumber && t != ValueType::kDate) {
      sink_->Error(pointer, "guard-type-mismatch",
                   "\"" + op + "\" orders numbers or dates only, not values of type " +
                       std::string(ValueTypeName(t)));
      return {};
    }
    auto node = std::make_shared<Guard::Node>();
    node->op = op == "=="   ? Op::kEq
               : op == "!=" ? Op::kNe
               : op == "<"  ? Op::kLt
               : op == "<=" ? Op::kLe
               : op == ">"  ? Op::kGt
                            : Op::kGe;
    node->children = {a.node, b.node};
    return {node, ValueType::kBoolean, nullptr};
  }

  Typed ExpectBoolean(const nlohmann::json& e, const std::string& pointer) {
    Typed t = Compile(e, pointer);
    if (t.type != ValueType::kInvalid && t.type != ValueType::kBoolean) {
      sink_->Error(
          pointer, "guard-type-mismatch",
          std::string("a condition must be true or false, but this is a ") + ValueTypeName(t.type));
      return {};
    }
    return t;
  }

  Typed CompileLogic(const std::string& op, const nlohmann::json& args,
                     const std::string& pointer) {
    if (!args.is_array() || args.empty()) {
      sink_->Error(pointer, "bad-guard", "\"" + op + "\" takes a non-empty array of conditions");
      return {};
    }
    auto node = std::make_shared<Guard::Node>();
    node->op = op == "and" ? Op::kAnd : Op::kOr;
    bool ok = true;
    for (size_t i = 0; i < args.size(); ++i) {
      Typed child = ExpectBoolean(args[i], JoinJsonPointer(pointer, i));
      if (!child.node) ok = false;
      node->children.push_back(child.node);
    }
    if (!ok) return {};
    return {node, ValueType::kBoolean, nullptr};
  }

  Typed CompileNot(const nlohmann::json& args, const std::string& pointer) {
    const nlohmann::json* operand = &args;
    std::string operand_pointer = pointer;
    if (args.is_array()) {
      if (args.size() != 1) {
        sink_->Error(pointer, "bad-guard", "\"!\" takes one condition");
        return {};
      }
      operand = &args[0];
      operand_pointer = JoinJsonPointer(pointer, 0);
    }
    Typed child = ExpectBoolean(*operand, operand_pointer);
    if (!child.node) return {};
    auto node = std::make_shared<Guard::Node>();
    node->op = Op::kNot;
    node->children = {child.node};
    return {node, ValueType::kBoolean, nullptr};
  }

  Typed CompileIn(const nlohmann::json& args, const std::string& pointer) {
    if (!args.is_array() || args.size() != 2) {
      sink_->Error(pointer, "bad-guard",
                   "\"in\" takes [value, [list of literals]] or [\"text\", {\"var\": field}]");
      return {};
    }
    Typed needle = Compile(args[0], JoinJsonPointer(pointer, 0));
    if (!needle.node) return {};
    auto node = std::make_shared<Guard::Node>();
    if (args[1].is_array()) {
      node->op = Op::kInList;
      for (size_t i = 0; i < args[1].size(); ++i) {
        const nlohmann::json& item = args[1][i];
        std::string item_pointer = JoinJsonPointer(JoinJsonPointer(pointer, 1), i);
        Typed literal = Compile(item, item_pointer);
        if (!literal.node) return {};
        if (literal.node->op != Op::kLiteral) {
          sink_->Error(item_pointer, "bad-guard", "the list of \"in\" holds literals only");
          return {};
        }
        if (Unify(needle, literal, item_pointer, "in") == ValueType::kInvalid) return {};
      }
      node->literal = args[1];
      node->children = {needle.node};
      return {node, ValueType::kBoolean, nullptr};
    }
    Typed haystack = Compile(args[1], JoinJsonPointer(pointer, 1));
    if (!haystack.node) return {};
    bool needle_text = needle.type == ValueType::kText || needle.type == ValueType::kString;
    if (!needle_text || haystack.type != ValueType::kString) {
      sink_->Error(pointer, "guard-type-mismatch",
                   "\"in\" with a second operand that is not a list tests for a substring: both "
                   "sides must be strings");
      return {};
    }
    node->op = Op::kSubstring;
    node->children = {needle.node, haystack.node};
    return {node, ValueType::kBoolean, nullptr};
  }

  const std::vector<FormField>& form_;
  DiagnosticSink* sink_;
};

bool Holds(const Guard::Node& node, const nlohmann::json& form);

nlohmann::json Value(const Guard::Node& node, const nlohmann::json& form) {
  if (node.op == Op::kLiteral) return node.literal;
  if (node.op == Op::kVar) {
    if (form.is_object()) {
      auto it = form.find(node.field);
      if (it != form.end() && !it->is_null()) return *it;
    }
    return node.literal;  // the default, null when none
  }
  return Holds(node, form);  // a condition used as a value
}

int Compare(const nlohmann::json& a, const nlohmann::json& b, bool* comparable) {
  *comparable = true;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    // ISO dates order as strings; other strings only use == and !=.
    return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>()) < 0   ? -1
           : a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>()) > 0 ? 1
                                                                                          : 0;
  }
  if (a.is_boolean() && b.is_boolean()) return a.get<bool>() == b.get<bool>() ? 0 : 1;
  *comparable = false;
  return 0;
}

bool Holds(const Guard::Node& node, const nlohmann::json& form) {
  switch (node.op) {
    case Op::kLiteral:
      return node.literal.is_boolean() && node.literal.get<bool>();
    case Op::kVar: {
      nlohmann::json v = Value(node, form);
      return v.is_boolean() && v.get<bool>();
    }
    case Op::kAnd:
      for (const auto& c : node.children) {
        if (!Holds(*c, form)) return false;
      }
      return true;
    case Op::kOr:
      for (const auto& c : node.children) {
        if (Holds(*c, form)) return true;
      }
      return false;
    case Op::kNot:
      return !Holds(*node.children[0], form);
    case Op::kInList: {
      nlohmann::json v = Value(*node.children[0], form);
      if (v.is_null()) return false;
      for (const auto& item : node.literal) {
        bool comparable = false;
        if (Compare(v, item, &comparable) == 0 && comparable) return true;
      }
      return false;
    }
    case Op::kSubstring: {
      nlohmann::json needle = Value(*node.children[0], form);
      nlohmann::json haystack = Value(*node.children[1], form);
      if (!needle.is_string() || !haystack.is_string()) return false;
      return haystack.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) !=
             std::string::npos;
    }
    default: {
      nlohmann::json a = Value(*node.children[0], form);
      nlohmann::json b = Value(*node.children[1], form);
      bool comparable = false;
      int c = Compare(a, b, &comparable);
      if (!comparable) return false;
      switch (node.op) {
        case Op::kEq:
          return c == 0;
        case Op::kNe:
          return c != 0;
        case Op::kLt:
          return c < 0;
        case Op::kLe:
          return c <= 0;
        case Op::kGt:
          return c > 0;
        case Op::kGe:
          return c >= 0;
        default:
          return false;
      }
    }
  }
}

}  // namespace

Guard::Guard(std::shared_ptr<const Node> root, nlohmann::json source)
    : root_(std::move(root)), source_(std::move(source)) {}
Guard::~Guard() = default;

bool Guard::Evaluate(const nlohmann::json& form) const {
  return Holds(*root_, form);
}

std::shared_ptr<const Guard> CompileGuard(const nlohmann::json& expression,
                                          const std::string& pointer,
                                          const std::vector<FormField>& form,
                                          DiagnosticSink* sink) {
  size_t errors_before = sink->diagnostics().size();
  GuardCompiler compiler(form, sink);
  Typed result = compiler.Compile(expression, pointer);
  if (!result.node || sink->diagnostics().size() != errors_before) return nullptr;
  if (result.type != ValueType::kBoolean) {
    sink->Error(pointer, "guard-type-mismatch",
                std::string("a guard must be a condition (true or false), but this is a ") +
                    ValueTypeName(result.type));
    return nullptr;
  }
  return std::make_shared<Guard>(result.node, expression);
}

}  // namespace tongban
