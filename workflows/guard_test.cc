#include "workflows/guard.h"

#include <gtest/gtest.h>

namespace tongban {
namespace {

using nlohmann::json;

const std::vector<FormField>& Form() {
  static const std::vector<FormField> form = {
      {"age", "年龄", FieldType::kNumber, true, {}},
      {"amount", "金额", FieldType::kNumber, false, {}},
      {"name", "名称", FieldType::kString, true, {}},
      {"other_name", "其他名称", FieldType::kString, false, {}},
      {"member", "是否会员", FieldType::kBoolean, false, {}},
      {"start", "开始日期", FieldType::kDate, false, {}},
      {"end", "结束日期", FieldType::kDate, false, {}},
      {"kind", "类型", FieldType::kEnum, true, {"company", "partnership", "sole"}},
  };
  return form;
}

struct Compiled {
  std::shared_ptr<const Guard> guard;
  std::vector<Diagnostic> diagnostics;

  bool Has(const std::string& code, const std::string& pointer) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code && d.pointer == pointer) return true;
    }
    return false;
  }
  std::string Message() const { return diagnostics.empty() ? "" : diagnostics[0].message; }
  std::string Dump() const {
    std::string out;
    for (const Diagnostic& d : diagnostics)
      out += FormatDiagnostic(d) + " {" + d.code + "}\n";
    return out;
  }
};

Compiled CompileText(const std::string& text) {
  DiagnosticSink sink("guard", nullptr);
  Compiled result;
  result.guard = CompileGuard(json::parse(text), "/g", Form(), &sink);
  result.diagnostics = sink.diagnostics();
  // A guard is returned exactly when nothing was reported.
  EXPECT_EQ(result.guard == nullptr, !result.diagnostics.empty()) << text << "\n" << result.Dump();
  return result;
}

// Compiles a guard that must be valid.
std::shared_ptr<const Guard> G(const std::string& text) {
  Compiled c = CompileText(text);
  EXPECT_TRUE(c.guard) << text << "\n" << c.Dump();
  if (!c.guard) return CompileText("false").guard;
  return c.guard;
}

bool Eval(const std::string& guard, const std::string& form) {
  return G(guard)->Evaluate(json::parse(form));
}

TEST(GuardTest, LiteralGuards) {
  EXPECT_TRUE(Eval("true", "{}"));
  EXPECT_FALSE(Eval("false", "{}"));
  EXPECT_EQ(G(R"({"==": [{"var": "age"}, 1]})")->source(),
            json::parse(R"({"==": [{"var": "age"}, 1]})"));
}

TEST(GuardTest, NumberComparisons) {
  const std::string eq = R"({"==": [{"var": "age"}, 18]})";
  EXPECT_TRUE(Eval(eq, R"({"age": 18})"));
  EXPECT_TRUE(Eval(eq, R"({"age": 18.0})"));  // the same number, written as a float
  EXPECT_FALSE(Eval(eq, R"({"age": 19})"));
  const std::string ne = R"({"!=": [{"var": "age"}, 18]})";
  EXPECT_FALSE(Eval(ne, R"({"age": 18})"));
  EXPECT_TRUE(Eval(ne, R"({"age": 17.5})"));

  struct Case {
    const char* op;
    bool below, equal, above;  // the result for age 17, 18 and 19 against 18
  };
  for (const Case& c : {Case{"<", true, false, false}, Case{"<=", true, true, false},
                        Case{">", false, false, true}, Case{">=", false, true, true}}) {
    std::string guard = std::string(R"({")") + c.op + R"(": [{"var": "age"}, 18]})";
    SCOPED_TRACE(guard);
    EXPECT_EQ(Eval(guard, R"({"age": 17})"), c.below);
    EXPECT_EQ(Eval(guard, R"({"age": 18})"), c.equal);
    EXPECT_EQ(Eval(guard, R"({"age": 19})"), c.above);
  }
  // Literal on the left, field on the right; two fields; negative and fractional values.
  EXPECT_TRUE(Eval(R"({"<": [10, {"var": "age"}]})", R"({"age": 11})"));
  EXPECT_FALSE(Eval(R"({"<": [10, {"var": "age"}]})", R"({"age": 10})"));
  EXPECT_TRUE(
      Eval(R"({">": [{"var": "amount"}, {"var": "age"}]})", R"({"age": 1, "amount": 1.5})"));
  EXPECT_TRUE(Eval(R"({"<": [{"var": "amount"}, -0.5]})", R"({"amount": -1})"));
}

TEST(GuardTest, StringEnumAndBooleanEquality) {
  EXPECT_TRUE(Eval(R"({"==": [{"var": "name"}, "食堂"]})", R"({"name": "食堂"})"));
  EXPECT_FALSE(Eval(R"({"==": [{"var": "name"}, "食堂"]})", R"({"name": "餐馆"})"));
  EXPECT_TRUE(Eval(R"({"!=": [{"var": "name"}, "食堂"]})", R"({"name": "餐馆"})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": "name"}, {"var": "other_name"}]})",
                   R"({"name": "a", "other_name": "a"})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": "kind"}, "sole"]})", R"({"kind": "sole"})"));
  EXPECT_FALSE(Eval(R"({"==": [{"var": "kind"}, "sole"]})", R"({"kind": "company"})"));
  EXPECT_TRUE(Eval(R"({"!=": [{"var": "kind"}, "sole"]})", R"({"kind": "company"})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": "member"}, true]})", R"({"member": true})"));
  EXPECT_FALSE(Eval(R"({"==": [{"var": "member"}, true]})", R"({"member": false})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": "member"}, false]})", R"({"member": false})"));
  EXPECT_TRUE(Eval(R"({"!=": [{"var": "member"}, false]})", R"({"member": true})"));
  // A boolean field is itself a condition.
  EXPECT_TRUE(Eval(R"({"var": "member"})", R"({"member": true})"));
  EXPECT_FALSE(Eval(R"({"var": "member"})", R"({"member": false})"));
}

TEST(GuardTest, DatesAreOrdered) {
  const std::string before = R"({"<": [{"var": "start"}, "2026-01-01"]})";
  EXPECT_TRUE(Eval(before, R"({"start": "2025-12-31"})"));
  EXPECT_FALSE(Eval(before, R"({"start": "2026-01-01"})"));
  EXPECT_FALSE(Eval(before, R"({"start": "2026-10-01"})"));
  EXPECT_TRUE(Eval(R"({"<=": [{"var": "start"}, "2026-01-01"]})", R"({"start": "2026-01-01"})"));
  EXPECT_TRUE(Eval(R"({">": [{"var": "start"}, "2026-02-09"]})", R"({"start": "2026-02-10"})"));
  EXPECT_TRUE(Eval(R"({">=": ["2026-09-30", {"var": "start"}]})", R"({"start": "2026-09-30"})"));
  // Two date fields.
  const std::string ordered = R"({"<=": [{"var": "start"}, {"var": "end"}]})";
  EXPECT_TRUE(Eval(ordered, R"({"start": "2026-02-01", "end": "2026-10-01"})"));
  EXPECT_FALSE(Eval(ordered, R"({"start": "2026-10-02", "end": "2026-10-01"})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": "start"}, "2026-02-14"]})", R"({"start": "2026-02-14"})"));
}

TEST(GuardTest, BooleanLogic) {
  const std::string both = R"({"and": [{"var": "member"}, {">=": [{"var": "age"}, 18]}]})";
  EXPECT_TRUE(Eval(both, R"({"member": true, "age": 18})"));
  EXPECT_FALSE(Eval(both, R"({"member": false, "age": 18})"));
  EXPECT_FALSE(Eval(both, R"({"member": true, "age": 17})"));
  const std::string either = R"({"or": [{"var": "member"}, {">=": [{"var": "age"}, 18]}]})";
  EXPECT_TRUE(Eval(either, R"({"member": false, "age": 18})"));
  EXPECT_TRUE(Eval(either, R"({"member": true, "age": 1})"));
  EXPECT_FALSE(Eval(either, R"({"member": false, "age": 17})"));
  // Three operands, nested.
  const std::string nested =
      R"({"or": [false, {"and": [true, {"var": "member"}, {"!": {"var": "member"}}]},
                 {"==": [{"var": "kind"}, "company"]}]})";
  EXPECT_TRUE(Eval(nested, R"({"member": true, "kind": "company"})"));
  EXPECT_FALSE(Eval(nested, R"({"member": true, "kind": "sole"})"));
  // "!" takes a condition or a one-element array.
  EXPECT_FALSE(Eval(R"({"!": {"var": "member"}})", R"({"member": true})"));
  EXPECT_TRUE(Eval(R"({"!": [{"var": "member"}]})", R"({"member": false})"));
  EXPECT_TRUE(
      Eval(R"({"!": {"<": [{"var": "start"}, "2026-01-01"]}})", R"({"start": "2026-01-01"})"));
  EXPECT_TRUE(Eval(R"({"!": [{"!": [true]}]})", "{}"));
  // A condition compared with a boolean.
  EXPECT_TRUE(Eval(R"({"==": [{">": [{"var": "age"}, 1]}, true]})", R"({"age": 2})"));
}

TEST(GuardTest, InList) {
  const std::string kinds = R"({"in": [{"var": "kind"}, ["company", "sole"]]})";
  EXPECT_TRUE(Eval(kinds, R"({"kind": "company"})"));
  EXPECT_TRUE(Eval(kinds, R"({"kind": "sole"})"));
  EXPECT_FALSE(Eval(kinds, R"({"kind": "partnership"})"));
  const std::string ages = R"({"in": [{"var": "age"}, [18, 21]]})";
  EXPECT_TRUE(Eval(ages, R"({"age": 21})"));
  EXPECT_TRUE(Eval(ages, R"({"age": 21.0})"));
  EXPECT_FALSE(Eval(ages, R"({"age": 20})"));
  EXPECT_FALSE(Eval(R"({"in": [{"var": "age"}, []]})", R"({"age": 20})"));
  EXPECT_TRUE(Eval(R"({"in": [{"var": "name"}, ["甲", "乙"]]})", R"({"name": "乙"})"));
}

TEST(GuardTest, Substring) {
  const std::string canteen = R"({"in": ["食堂", {"var": "name"}]})";
  EXPECT_TRUE(Eval(canteen, R"({"name": "集中用餐单位食堂"})"));
  EXPECT_TRUE(Eval(canteen, R"({"name": "食堂"})"));
  EXPECT_FALSE(Eval(canteen, R"({"name": "餐馆"})"));
  EXPECT_TRUE(Eval(R"({"in": [{"var": "other_name"}, {"var": "name"}]})",
                   R"({"name": "abcdef", "other_name": "cde"})"));
}

TEST(GuardTest, VarWithDefault) {
  const std::string adult = R"({">=": [{"var": ["age", 18]}, 18]})";
  EXPECT_TRUE(Eval(adult, "{}"));                // absent: the default
  EXPECT_TRUE(Eval(adult, R"({"age": null})"));  // empty: the default
  EXPECT_FALSE(Eval(adult, R"({"age": 10})"));   // present: the value
  EXPECT_TRUE(Eval(R"({"var": ["member", true]})", "{}"));
  EXPECT_FALSE(Eval(R"({"var": ["member", true]})", R"({"member": false})"));
  EXPECT_TRUE(Eval(R"({"==": [{"var": ["kind", "sole"]}, "sole"]})", "{}"));
  EXPECT_TRUE(Eval(R"({"<": [{"var": ["start", "2025-01-01"]}, "2026-01-01"]})", "{}"));
  // A one-element array is a var without default.
  EXPECT_FALSE(Eval(R"({">=": [{"var": ["age"]}, 18]})", "{}"));
  EXPECT_TRUE(Eval(R"({">=": [{"var": ["age"]}, 18]})", R"({"age": 30})"));
}

TEST(GuardTest, MissingFieldMakesEveryComparisonFalse) {
  for (const char* guard : {
           R"({"==": [{"var": "age"}, 18]})",
           R"({"!=": [{"var": "age"}, 18]})",
           R"({"<": [{"var": "age"}, 18]})",
           R"({"<=": [{"var": "age"}, 18]})",
           R"({">": [{"var": "age"}, 18]})",
           R"({">=": [{"var": "age"}, 18]})",
           R"({"==": [{"var": "kind"}, "sole"]})",
           R"({"!=": [{"var": "kind"}, "sole"]})",
           R"({"==": [{"var": "member"}, false]})",
           R"({"!=": [{"var": "member"}, true]})",
           R"({"<": [{"var": "start"}, "2026-01-01"]})",
           R"({"==": [{"var": "name"}, {"var": "other_name"}]})",
           R"({"in": [{"var": "kind"}, ["company", "sole"]]})",
           R"({"in": ["x", {"var": "name"}]})",
           R"({"var": "member"})",
       }) {
    SCOPED_TRACE(guard);
    EXPECT_FALSE(Eval(guard, "{}"));
    EXPECT_FALSE(Eval(guard, R"({"age": null, "kind": null, "member": null, "name": null})"));
    EXPECT_FALSE(G(guard)->Evaluate(json()));  // no form at all
  }
  // Comparing with a literal null is allowed, and false as well.
  EXPECT_FALSE(Eval(R"({"==": [{"var": "age"}, null]})", "{}"));
  EXPECT_FALSE(Eval(R"({"!=": [{"var": "age"}, null]})", R"({"age": 1})"));
  // Negating a comparison with a missing field is true.
  EXPECT_TRUE(Eval(R"({"!": {"==": [{"var": "age"}, 18]}})", "{}"));
  // Only the missing side matters: the other fields still work.
  EXPECT_TRUE(
      Eval(R"({"or": [{"==": [{"var": "age"}, 18]}, {"var": "member"}]})", R"({"member": true})"));
}

TEST(GuardTest, WrongTypesAtRunTimeAreFalse) {
  // The form is checked elsewhere; a guard never throws on a value of the wrong type.
  EXPECT_FALSE(Eval(R"({"==": [{"var": "age"}, 18]})", R"({"age": "18"})"));
  EXPECT_FALSE(Eval(R"({"!=": [{"var": "age"}, 18]})", R"({"age": "18"})"));
  EXPECT_FALSE(Eval(R"({">": [{"var": "age"}, 18]})", R"({"age": [19]})"));
  EXPECT_FALSE(Eval(R"({"var": "member"})", R"({"member": "true"})"));
  EXPECT_FALSE(Eval(R"({"in": ["a", {"var": "name"}]})", R"({"name": 5})"));
}

// --- compile errors ---

TEST(GuardCompileTest, EnumLiteralNotAmongValues) {
  Compiled c = CompileText(R"({"==": [{"var": "kind"}, "compnay"]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/==")) << c.Dump();
  EXPECT_NE(c.Message().find("compnay"), std::string::npos);
  c = CompileText(R"({"!=": ["llc", {"var": "kind"}]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/!=")) << c.Dump();
  c = CompileText(R"({"in": [{"var": "kind"}, ["company", "llc"]]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/in/1/1")) << c.Dump();
  c = CompileText(R"({"==": [{"var": ["kind", "llc"]}, "sole"]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/==/0/var/1")) << c.Dump();
}

TEST(GuardCompileTest, DateLiteralMustBeADate) {
  Compiled c = CompileText(R"({"<": [{"var": "start"}, "2026-13-01"]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/<")) << c.Dump();
  c = CompileText(R"({"<": [{"var": "start"}, "next monday"]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/<")) << c.Dump();
  c = CompileText(R"({"<": [{"var": ["start", "soon"]}, "2026-01-01"]})");
  EXPECT_TRUE(c.Has("bad-guard-literal", "/g/</0/var/1")) << c.Dump();
}

TEST(GuardCompileTest, TypeMismatchNamesTheComparison) {
  Compiled c = CompileText(R"({"==": [{"var": "age"}, "18"]})");
  ASSERT_TRUE(c.Has("guard-type-mismatch", "/g/==")) << c.Dump();
  EXPECT_NE(c.Message().find("number"), std::string::npos) << c.Message();
  EXPECT_NE(c.Message().find("string"), std::string::npos) << c.Message();
  // Deeper in the expression the pointer follows the operators and operand indexes.
  c = CompileText(R"({"and": [true, {"or": [false, {"!=": ["x", {"var": "age"}]}]}]})");
  EXPECT_TRUE(c.Has("guard-type-mismatch", "/g/and/1/or/1/!=")) << c.Dump();
  // Other pairs of types.
  EXPECT_TRUE(CompileText(R"({"==": [{"var": "member"}, 1]})").Has("guard-type-mismatch", "/g/=="));
  EXPECT_TRUE(CompileText(R"({"==": [{"var": "age"}, {"var": "name"}]})")
                  .Has("guard-type-mismatch", "/g/=="));
  EXPECT_TRUE(CompileText(R"({"==": [{"var": "start"}, {"var": "name"}]})")
                  .Has("guard-type-mismatch", "/g/=="));
  EXPECT_TRUE(CompileText(R"({"==": [{"var": "kind"}, 3]})").Has("guard-type-mismatch", "/g/=="));
  EXPECT_TRUE(CompileText(R"({"in": [{"var": "age"}, [1, "two"]]})")
                  .Has("guard-type-mismatch", "/g/in/1/1"));
  EXPECT_TRUE(CompileText(R"({"in": [{"var": "age"}, {"var": "name"}]})")
                  .Has("guard-type-mismatch", "/g/in"));
  EXPECT_TRUE(CompileText(R"({"in": ["x", {"var": "kind"}]})").Has("guard-type-mismatch", "/g/in"));
  // A default of the wrong type.
  EXPECT_TRUE(CompileText(R"({"==": [{"var": ["age", "x"]}, 1]})")
                  .Has("guard-type-mismatch", "/g/==/0/var/1"));
  EXPECT_TRUE(CompileText(R"({"var": ["member", 0]})").Has("guard-type-mismatch", "/g/var/1"));
}

TEST(GuardCompileTest, OnlyNumbersAndDatesAreOrdered) {
  Compiled c = CompileText(R"({"<": [{"var": "name"}, "m"]})");
  EXPECT_TRUE(c.Has("guard-type-mismatch", "/g/<")) << c.Dump();
  EXPECT_TRUE(
      CompileText(R"({">": [{"var": "kind"}, "company"]})").Has("guard-type-mismatch", "/g/>"));
  EXPECT_TRUE(
      CompileText(R"({">=": [{"var": "member"}, true]})").Has("guard-type-mismatch", "/g/>="));
  // A boolean compared with a number, and ordered (the example of the definition reference).
  EXPECT_TRUE(CompileText(R"({">": [{"var": "member"}, 0]})").Has("guard-type-mismatch", "/g/>"));
}

TEST(GuardCompileTest, UnknownFieldWithSuggestion) {
  Compiled c = CompileText(R"({"==": [{"var": "agee"}, 18]})");
  ASSERT_TRUE(c.Has("unknown-field", "/g/==/0/var")) << c.Dump();
  EXPECT_NE(c.Message().find("did you mean \"age\""), std::string::npos) << c.Message();
  c = CompileText(R"({"var": "completely_unrelated_field"})");
  ASSERT_TRUE(c.Has("unknown-field", "/g/var")) << c.Dump();
  EXPECT_EQ(c.Message().find("did you mean"), std::string::npos) << c.Message();
}

TEST(GuardCompileTest, UnsupportedOperator) {
  Compiled c = CompileText(R"({"+": [{"var": "age"}, 1]})");
  ASSERT_TRUE(c.Has("bad-guard-operator", "/g/+")) << c.Dump();
  EXPECT_NE(c.Message().find("\"+\""), std::string::npos);
  c = CompileText(R"({"=": [{"var": "age"}, 1]})");
  ASSERT_TRUE(c.Has("bad-guard-operator", "/g/=")) << c.Dump();
  EXPECT_NE(c.Message().find("did you mean \"==\""), std::string::npos) << c.Message();
  EXPECT_TRUE(CompileText(R"({"if": [true, true, false]})").Has("bad-guard-operator", "/g/if"));
  EXPECT_TRUE(
      CompileText(R"({"and": [true, {"===": [1, 1]}]})").Has("bad-guard-operator", "/g/and/1/==="));
}

TEST(GuardCompileTest, GuardMustBeBoolean) {
  Compiled c = CompileText(R"({"var": "age"})");
  ASSERT_TRUE(c.Has("guard-type-mismatch", "/g")) << c.Dump();
  EXPECT_NE(c.Message().find("number"), std::string::npos) << c.Message();
  EXPECT_TRUE(CompileText("5").Has("guard-type-mismatch", "/g"));
  EXPECT_TRUE(CompileText(R"("yes")").Has("guard-type-mismatch", "/g"));
  EXPECT_TRUE(CompileText("null").Has("guard-type-mismatch", "/g"));
  // Operands of and, or and ! are conditions too.
  EXPECT_TRUE(
      CompileText(R"({"and": [true, {"var": "age"}]})").Has("guard-type-mismatch", "/g/and/1"));
  EXPECT_TRUE(CompileText(R"({"or": ["x"]})").Has("guard-type-mismatch", "/g/or/0"));
  EXPECT_TRUE(CompileText(R"({"!": {"var": "name"}})").Has("guard-type-mismatch", "/g/!"));
  EXPECT_TRUE(CompileText(R"({"!": [3]})").Has("guard-type-mismatch", "/g/!/0"));
}

TEST(GuardCompileTest, MalformedExpressions) {
  for (const auto& [text, pointer] : std::vector<std::pair<std::string, std::string>>{
           {R"({})", "/g"},
           {R"([true])", "/g"},
           {R"({"==": [1, 1], "!=": [1, 2]})", "/g"},
           {R"({"==": [1]})", "/g/=="},
           {R"({"==": [1, 2, 3]})", "/g/=="},
           {R"({"<": 1})", "/g/<"},
           {R"({"and": []})", "/g/and"},
           {R"({"or": true})", "/g/or"},
           {R"({"!": [true, false]})", "/g/!"},
           {R"({"var": 5})", "/g/var"},
           {R"({"var": []})", "/g/var"},
           {R"({"var": ["age", 1, 2]})", "/g/var"},
           {R"({"in": [{"var": "age"}]})", "/g/in"},
           {R"({"in": [{"var": "age"}, [{"var": "age"}]]})", "/g/in/1/0"},
           {R"({"==": [{"var": "age"}, [1]]})", "/g/==/1"},
       }) {
    SCOPED_TRACE(text);
    Compiled c = CompileText(text);
    EXPECT_FALSE(c.guard);
    EXPECT_TRUE(c.Has("bad-guard", pointer)) << c.Dump();
  }
}

TEST(GuardCompileTest, EveryProblemIsReported) {
  Compiled c = CompileText(
      R"({"and": [{"==": [{"var": "agee"}, 1]}, {"<": [{"var": "name"}, "x"]}, {"%": [1, 2]}]})");
  EXPECT_FALSE(c.guard);
  EXPECT_TRUE(c.Has("unknown-field", "/g/and/0/==/0/var")) << c.Dump();
  EXPECT_TRUE(c.Has("guard-type-mismatch", "/g/and/1/<")) << c.Dump();
  EXPECT_TRUE(c.Has("bad-guard-operator", "/g/and/2/%")) << c.Dump();
}

}  // namespace
}  // namespace tongban
