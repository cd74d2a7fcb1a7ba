#include "workflows/principals.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "workflows/definition_set.h"
#include "workflows/sha256.h"

namespace tongban {
namespace {

using nlohmann::json;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;

// A principals file with an applicant and one staff member holding `staff_roles`.
json PrincipalsWith(const json& staff_roles) {
  return {{"kind", "principals"},
          {"id", "test"},
          {"principals",
           {{{"id", "ent"},
             {"name", "企业"},
             {"roles", {"applicant"}},
             {"credit_code", "91330100MA2TB00014"},
             {"token_sha256", Sha256Hex("ent-token")}},
            {{"id", "staff"},
             {"name", "工作人员"},
             {"roles", staff_roles},
             {"organ", "dz-approval-bureau"},
             {"token_sha256", Sha256Hex("staff-token")}}}}};
}

// An item of the test calendar whose only step is done by the role it declares, `role`.
std::string ItemDeclaring(const std::string& role) {
  json item = json::parse(R"({
    "kind": "item", "id": "survey", "version": 1, "title": "测绘成果审核",
    "category": "confirmation", "case_type": "instant",
    "organ": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
    "legal_basis": [{"citation": "《测试条例》"}],
    "time_limits": {"calendar": "cn-mainland", "statutory_days": 1, "promised_days": 0},
    "form": {"fields": []},
    "steps": [{"id": "survey", "title": "测绘", "role": "",
               "actions": {"confirm": {"decision": "approve"}}}]
  })");
  item["roles"] = {{{"id", role}, {"title", "测绘人员"}}};
  item["steps"][0]["role"] = role;
  return item.dump(2);
}

std::vector<Diagnostic> Compile(DiagnosticSink* sink, const json& root,
                                std::shared_ptr<const PrincipalSet>* out = nullptr) {
  auto set = CompilePrincipals(root, sink);
  if (out != nullptr) *out = set;
  return sink->diagnostics();
}

TEST(Principals, AcceptAnyRoleIdWhenCompiledAlone) {
  DiagnosticSink sink("p.json", nullptr);
  std::shared_ptr<const PrincipalSet> set;
  EXPECT_TRUE(Compile(&sink, PrincipalsWith({"surveyor", "reviewer"}), &set).empty());
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->principals[1].HasRole("surveyor"));
  EXPECT_TRUE(set->principals[1].HasRole("reviewer"));
}

TEST(Principals, RefuseARoleThatIsNotAnId) {
  DiagnosticSink sink("p.json", nullptr);
  std::shared_ptr<const PrincipalSet> set;
  auto diagnostics = Compile(&sink, PrincipalsWith({"reviewer", "Fire Reviewer"}), &set);
  EXPECT_EQ(set, nullptr);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].code, "bad-id");
  EXPECT_EQ(diagnostics[0].pointer, "/principals/1/roles/1");
}

TEST(Principals, KnownRolesAreTheBuiltInOnesAndWhatItemsDeclare) {
  DefinitionSet definitions;
  definitions.AddPath(kSourceDir + "/definitions/calendars", false);
  definitions.AddPath(kSourceDir + "/definitions/items", false);
  definitions.Compile();
  std::vector<std::string> known = KnownPrincipalRoles(definitions.Items());
  for (const std::string& role : PrincipalRoles())
    EXPECT_EQ(std::count(known.begin(), known.end(), role), 1) << role;
  for (const char* declared : {"inspector", "fire_reviewer", "civil_defence_reviewer",
                               "expert_secretary", "planning_verifier", "fire_inspector"}) {
    EXPECT_EQ(std::count(known.begin(), known.end(), declared), 1) << declared;
  }
  EXPECT_EQ(known.size(), PrincipalRoles().size() + 6);
}

TEST(Principals, CheckReportsAnUndeclaredRoleAtItsPointer) {
  DiagnosticSink sink("p.json", nullptr);
  std::shared_ptr<const PrincipalSet> set;
  ASSERT_TRUE(Compile(&sink, PrincipalsWith({"clerk", "inspectr"}), &set).empty());
  ASSERT_NE(set, nullptr);
  std::vector<std::string> known = PrincipalRoles();
  known.push_back("inspector");
  EXPECT_FALSE(CheckPrincipalRoles(*set, known, &sink));
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  const Diagnostic& d = sink.diagnostics()[0];
  EXPECT_EQ(d.code, "unknown-role");
  EXPECT_EQ(d.pointer, "/principals/1/roles/1");
  EXPECT_NE(d.message.find("\"inspectr\""), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("did you mean \"inspector\"?"), std::string::npos) << d.message;

  DiagnosticSink clean("p.json", nullptr);
  known.push_back("inspectr");
  EXPECT_TRUE(CheckPrincipalRoles(*set, known, &clean));
  EXPECT_TRUE(clean.diagnostics().empty());
}

// With definitions in the set, principals are checked against the roles its items declare, with
// the file's line and column.
TEST(Principals, DefinitionSetChecksRolesAgainstItsItems) {
  {
    DefinitionSet set;
    set.AddPath(kSourceDir + "/definitions/calendars", false);
    set.AddText("survey.json", ItemDeclaring("surveyor"), false);
    set.AddText("principals.json", PrincipalsWith({"surveyor"}).dump(2), true);
    set.Compile();
    EXPECT_FALSE(set.HasErrors());
    ASSERT_NE(set.FindPrincipals(), nullptr);
    EXPECT_TRUE(set.FindPrincipals()->principals[1].HasRole("surveyor"));
  }
  {
    DefinitionSet set;
    set.AddPath(kSourceDir + "/definitions/calendars", false);
    set.AddText("survey.json", ItemDeclaring("surveyor"), false);
    set.AddText("principals.json", PrincipalsWith({"reviewer", "surveyer"}).dump(2), true);
    set.Compile();
    EXPECT_EQ(set.FindPrincipals(), nullptr);
    auto diagnostics = set.Diagnostics();
    ASSERT_EQ(diagnostics.size(), 1u);
    EXPECT_EQ(diagnostics[0].pointer, "/principals/1/roles/1");
    EXPECT_GT(diagnostics[0].position.line, 1);
    EXPECT_EQ(FormatDiagnostic(diagnostics[0]).rfind("principals.json:", 0), 0u)
        << FormatDiagnostic(diagnostics[0]);
    EXPECT_NE(diagnostics[0].message.find("did you mean \"surveyor\"?"), std::string::npos)
        << diagnostics[0].message;
  }
}

// A server's deployed items are not in the set: their roles are declared to it.
TEST(Principals, DeclaredRolesStandForDeployedItems) {
  std::string text = PrincipalsWith({"surveyor"}).dump(2);
  {
    DefinitionSet alone;  // nothing known: only the id form is checked
    alone.AddText("principals.json", text, true);
    alone.Compile();
    EXPECT_FALSE(alone.HasErrors());
  }
  {
    DefinitionSet declared;
    declared.AddText("principals.json", text, true);
    declared.DeclareRoles({"surveyor"});
    declared.Compile();
    EXPECT_FALSE(declared.HasErrors());
  }
  {
    DefinitionSet built_in_only;
    built_in_only.AddText("principals.json", text, true);
    built_in_only.DeclareRoles({});
    built_in_only.Compile();
    EXPECT_TRUE(built_in_only.HasErrors());
    EXPECT_EQ(built_in_only.FindPrincipals(), nullptr);
  }
}

// The shipped demo principals hold the roles the shipped items declare, and validate with them.
TEST(Principals, DemoPrincipalsValidateWithTheShippedItems) {
  DefinitionSet set;
  set.AddPath(kSourceDir + "/definitions/calendars", false);
  set.AddPath(kSourceDir + "/definitions/items", false);
  set.AddPath(kSourceDir + "/definitions/principals/demo.json", true);
  set.Compile();
  for (const Diagnostic& d : set.Diagnostics())
    ADD_FAILURE() << FormatDiagnostic(d);
  ASSERT_NE(set.FindPrincipals(), nullptr);
  std::set<std::string> held;
  for (const Principal& p : set.FindPrincipals()->principals)
    held.insert(p.roles.begin(), p.roles.end());
  for (const std::string& role : KnownPrincipalRoles(set.Items()))
    EXPECT_EQ(held.count(role), 1u) << "no demo principal holds " << role;
}

TEST(Principals, EveryJointPartyOfTheShippedItemsHasASignerInItsOrgan) {
  DefinitionSet set;
  set.AddPath(kSourceDir + "/definitions/calendars", false);
  set.AddPath(kSourceDir + "/definitions/items", false);
  set.AddPath(kSourceDir + "/definitions/principals/demo.json", true);
  set.Compile();
  auto demo = set.FindPrincipals();
  ASSERT_NE(demo, nullptr);
  EXPECT_EQ(UnsignableJointParties(*demo, set.Items()), std::vector<std::string>{});
  // Without the fire reviewer of the city's housing bureau, the drawing review's fire party can
  // never sign: the reviewer of the bureau holding the same role elsewhere does not count.
  PrincipalSet without = *demo;
  without.principals.erase(
      std::remove_if(without.principals.begin(), without.principals.end(),
                     [](const Principal& p) { return p.HasRole("fire_reviewer"); }),
      without.principals.end());
  Principal elsewhere;
  elsewhere.id = "bureau-fire";
  elsewhere.roles = {"fire_reviewer"};
  elsewhere.organ = "dz-approval-bureau";
  without.principals.push_back(elsewhere);
  auto lines = UnsignableJointParties(without, set.Items());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("joint-drawing-review"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("city-housing-bureau"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tongban
