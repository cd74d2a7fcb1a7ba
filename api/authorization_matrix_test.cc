// The authorization matrix over HTTP: a real server on loopback with the real demo principals
// (definitions/principals/demo.json) and the shipped definitions. Each row puts a fresh case in a
// state, as the demo principals would over HTTP, and says what one principal gets for one action:
// the status and the problem type. Every row also checks that what the server offers and what it
// accepts agree: an action in the principal's `available_actions` is accepted (unless the row
// sends data that is wrong on purpose), an action answered 403 or 409 was not offered, an action
// accepted was offered, and a case the principal may not read answers every action with 404.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/test_harness.h"
#include "workflows/diagnostics.h"
#include "workflows/sha256.h"

namespace tongban::api {
namespace {

using harness::Api;
using harness::Reply;
using harness::TestServer;
using nlohmann::json;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
constexpr const char* kStart = "2026-03-02T09:00:00+08:00";  // a Monday
const std::string kProblem = "https://tongban.dev/problems/";

// The demo principals' public tokens (their notes in demo.json); checked against the file's hashes.
const std::map<std::string, std::string>& Tokens() {
  static const std::map<std::string, std::string> tokens = {
      {"ent-demo", "demo-applicant-token"},
      {"ent-other", "demo-other-applicant-token"},
      {"clerk-demo", "demo-clerk-token"},
      {"reviewer-demo", "demo-reviewer-token"},
      {"approver-demo", "demo-approver-token"},
      {"verifier-demo", "demo-verifier-token"},
      {"auditor-demo", "demo-auditor-token"},
      {"agent-demo", "demo-agent-token"},
      {"remote-clerk-demo", "demo-remote-clerk-token"},
      {"amr-clerk-demo", "demo-amr-token"},
      {"amr-approver-demo", "demo-amr-approver-token"},
      {"inspector-demo", "demo-inspector-token"},
      {"expert-secretary-demo", "demo-expert-secretary-token"},
      {"fire-reviewer-demo", "demo-fire-reviewer-token"},
      {"fire-inspector-demo", "demo-fire-inspector-token"},
      {"civil-defence-reviewer-demo", "demo-civil-defence-reviewer-token"},
      {"planning-verifier-demo", "demo-planning-verifier-token"},
      {"tax-demo", "demo-tax-token"},
      {"housing-fund-demo", "demo-housing-fund-token"},
  };
  return tokens;
}

std::shared_ptr<const PrincipalSet> DemoPrincipals() {
  static const std::shared_ptr<const PrincipalSet> set = [] {
    DiagnosticSink sink("demo.json", nullptr);
    auto compiled = CompilePrincipals(
        json::parse(harness::ReadFile(kSourceDir + "/definitions/principals/demo.json")), &sink);
    for (const Diagnostic& d : sink.diagnostics())
      ADD_FAILURE() << d.pointer << ": " << d.message;
    return compiled;
  }();
  return set;
}

// ---- Applications ------------------------------------------------------------------------------

const json kConstructionPermit = {{"definition", "construction-permit"},
                                  {"form",
                                   {{"project_name", "示范厂房"},
                                    {"project_code", "2026-330100-47-01-000001"},
                                    {"builder_name", "示例科技有限公司"},
                                    {"builder_credit_code", "91330100MA2TB00014"},
                                    {"project_category", "房屋建筑工程"},
                                    {"contract_price_wan", 1200},
                                    {"building_area_m2", 8000},
                                    {"planned_start_date", "2026-04-01"}}},
                                  {"materials",
                                   {"application_form", "land_approval", "planning_permit",
                                    "site_readiness", "contractor_contract", "funding_commitment",
                                    "drawing_review_certificate", "quality_safety_measures"}}};

const json kEstablishmentRegistration = {{"definition", "establishment-registration"},
                                         {"form",
                                          {{"enterprise_name", "示例科技有限公司"},
                                           {"enterprise_type", "有限责任公司"},
                                           {"residence", "××开发区示范路1号"},
                                           {"legal_representative", "张三"},
                                           {"business_scope", "软件开发"},
                                           {"requires_pre_approval", false}}},
                                         {"materials",
                                          {"application_form", "articles", "investor_documents",
                                           "officer_documents", "residence_document"}}};

const json kFoodLicence = {{"definition", "food-business-licence"},
                           {"form",
                            {{"applicant_name", "示例科技有限公司"},
                             {"credit_code", "91330100MA2TB00014"},
                             {"legal_representative", "张三"},
                             {"premises_address", "××开发区示范路1号"},
                             {"business_type", "食品销售经营者"},
                             {"sells_special_food", false}}},
                           {"materials",
                            {"application_form", "business_licence", "identity_document",
                             "premises_layout", "equipment_list", "safety_rules"}}};

json JointDrawingReview(bool exceeds_code_limits) {
  return {{"definition", "joint-drawing-review"},
          {"form",
           {{"project_name", "示范厂房"},
            {"project_code", "2026-330100-47-01-000001"},
            {"builder_name", "示例科技有限公司"},
            {"building_area_m2", 8000},
            {"special_construction_project", true},
            {"civil_defence_basement", true},
            {"exceeds_code_limits", exceeds_code_limits}}},
          {"materials",
           {"application_form", "construction_drawings", "survey_report", "fire_design_documents",
            "civil_defence_design", "seismic_review_opinion", "planning_permit"}}};
}

const json kJointAcceptance = {{"definition", "low-risk-joint-acceptance"},
                               {"form",
                                {{"project_name", "示范仓库"},
                                 {"project_code", "2026-330100-47-01-000002"},
                                 {"builder_name", "示例科技有限公司"},
                                 {"builder_credit_code", "91330100MA2TB00014"},
                                 {"permit_number", "330100202603020101"},
                                 {"building_area_m2", 3000},
                                 {"completion_date", "2026-03-01"}}},
                               {"materials",
                                {"application_form", "completion_report", "as_built_survey",
                                 "fire_acceptance_documents", "quality_warranty"}}};

const json kDrawingReviewCommitment = {
    {"definition", "drawing-review-commitment"},
    {"mode", "commitment"},
    {"commitment",
     {{"template_id", "drawing-review-commitment"},
      {"template_version", 1},
      {"signed_by", "张三"}}},
    {"form",
     {{"project_name", "示范仓库"},
      {"project_code", "2026-330100-47-01-000002"},
      {"builder_name", "示例科技有限公司"},
      {"builder_credit_code", "91330100MA2TB00014"},
      {"designer_name", "示例设计院"},
      {"building_area_m2", 3000},
      {"building_height_m", 12},
      {"low_risk_project", true}}},
    {"materials",
     {"application_form", "construction_drawings", "survey_report", "designer_qualification",
      "designer_statement"}}};

const json kHousingFund = {{"definition", "housing-fund-registration"},
                           {"form",
                            {{"credit_code", "91330100MA2TB00014"},
                             {"enterprise_name", "示例科技有限公司"},
                             {"legal_representative", "张三"},
                             {"employee_count", 12},
                             {"contribution_rate_percent", 8}}},
                           {"materials", {"application_form", "business_licence"}}};

const json kLowRiskProject = {
    {"definition", "low-risk-project"},
    {"form",
     {{"project_name", "示范仓库"},
      {"project_code", "2026-330100-47-01-000002"},
      {"builder_name", "示例科技有限公司"},
      {"builder_credit_code", "91330100MA2TB00014"},
      {"project_use", "普通仓库"},
      {"building_area_m2", 3000},
      {"building_height_m", 12},
      {"contract_price_wan", 500},
      {"planned_start_date", "2026-04-01"}}},
    {"materials",
     {"application_form", "land_certificate", "site_plan", "drawing_review_commitment",
      "contractor_contract", "quality_safety_commitment", "completion_report", "as_built_survey",
      "fire_acceptance_documents", "quality_warranty"}}};

// ---- The matrix --------------------------------------------------------------------------------

struct Row {
  std::string state;  // a key of AuthorizationMatrix::states_
  std::string who;    // a demo principal
  std::string action;
  json data;
  int status;               // the expected HTTP status
  std::string problem;      // the expected problem type's slug; "" for 200
  bool wrong_data = false;  // the data is wrong on purpose: offered, yet refused with 422
};

std::string Describe(const Row& row) {
  return row.state + " | " + row.who + " | " + row.action + " " + row.data.dump() + " → " +
         std::to_string(row.status);
}

class AuthorizationMatrix : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(DemoPrincipals(), nullptr);
    for (const Principal& p : DemoPrincipals()->principals) {
      auto token = Tokens().find(p.id);
      if (token != Tokens().end()) {
        EXPECT_EQ(Sha256Hex(token->second), p.token_sha256) << p.id;
      }
    }
    server_ = std::make_unique<TestServer>(DemoPrincipals(), kSourceDir + "/definitions", kStart);
    api_ = std::make_unique<Api>(server_->port());
    DefineStates();
  }
  void TearDown() override {
    api_.reset();
    server_.reset();
  }

  std::string Token(const std::string& who) {
    auto it = Tokens().find(who);
    EXPECT_NE(it, Tokens().end()) << who;
    return it == Tokens().end() ? "" : it->second;
  }
  // Applies with `body` as `who` (a clerk or an agent applies for ent-demo); the case id.
  std::string Apply(json body, const std::string& who = "ent-demo") {
    if (who != "ent-demo" && who != "ent-other") {
      body["applicant"] = {
          {"id", "ent-demo"}, {"name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00014"}};
    }
    Reply r = api_->Post("/v1/cases", Token(who), body);
    EXPECT_EQ(r.status, 201) << body.value("definition", "") << " by " << who << ": " << r;
    return r.doc.value("id", "");
  }
  void Do(const std::string& id, const std::string& who, const std::string& action,
          json data = json::object()) {
    Reply r = api_->Act(id, Token(who), action, data);
    EXPECT_EQ(r.status, 200) << action << " by " << who << ": " << r;
  }
  void GrantMandate(const std::string& applicant, const json& definitions) {
    Reply r = api_->Post("/v1/mandates", Token(applicant),
                         {{"agent", "agent-demo"}, {"definitions", definitions}});
    ASSERT_EQ(r.status, 201) << r;
  }

  // Each state is made afresh for every row, by the demo principals over HTTP.
  void DefineStates() {
    states_["permit submitted"] = [&] { return Apply(kConstructionPermit); };
    states_["permit submitted without its application form"] = [&] {
      json body = kConstructionPermit;
      body["materials"].erase(0);
      return Apply(body);
    };
    states_["food licence withdrawn at the receiving window"] = [&] {
      std::string id = Apply(kFoodLicence, "remote-clerk-demo");
      Do(id, "ent-demo", "withdraw");
      return id;
    };
    states_["permit submitted by ent-other"] = [&] {
      return Apply(kConstructionPermit, "ent-other");
    };
    states_["permit under review"] = [&] {
      std::string id = Apply(kConstructionPermit);
      Do(id, "clerk-demo", "accept");
      return id;
    };
    states_["registration at decide, reviewed by amr-clerk-demo"] = [&] {
      std::string id = Apply(kEstablishmentRegistration);
      Do(id, "amr-clerk-demo", "accept");
      Do(id, "amr-clerk-demo", "pass");
      return id;
    };
    states_["food licence at inspection"] = [&] {
      std::string id = Apply(kFoodLicence);
      Do(id, "clerk-demo", "accept");
      Do(id, "reviewer-demo", "order_inspection");
      return id;
    };
    states_["food licence at the receiving window"] = [&] {
      return Apply(kFoodLicence, "remote-clerk-demo");
    };
    states_["joint drawing review at joint_review"] = [&] {
      std::string id = Apply(JointDrawingReview(false));
      Do(id, "clerk-demo", "accept");
      return id;
    };
    states_["joint acceptance at planning_verification"] = [&] {
      std::string id = Apply(kJointAcceptance);
      Do(id, "clerk-demo", "accept");
      return id;
    };
    // 规划核实 comes first (城乡规划法第四十五条); the fire and completion parties sign after it.
    states_["joint acceptance at joint_acceptance"] = [&] {
      std::string id = Apply(kJointAcceptance);
      Do(id, "clerk-demo", "accept");
      Do(id, "planning-verifier-demo", "verified", {{"party", "planning"}});
      Do(id, "reviewer-demo", "verified", {{"party", "survey"}});
      return id;
    };
    states_["housing fund under review"] = [&] {
      std::string id = Apply(kHousingFund);
      Do(id, "housing-fund-demo", "accept");
      return id;
    };
    states_["commitment approved"] = [&] {
      std::string id = Apply(kDrawingReviewCommitment);
      Do(id, "clerk-demo", "accept");
      return id;
    };
    states_["commitment revoked"] = [&] {
      std::string id = Apply(kDrawingReviewCommitment);
      Do(id, "clerk-demo", "accept");
      Do(id, "approver-demo", "revoke", {{"reason", "申请人以欺骗手段取得许可"}});
      return id;
    };
    // The first part (low-risk-project-permit) of a bundle case applied for by `applicant`.
    auto bundle_part = [&](const std::string& applicant) {
      std::string bundle = Apply(kLowRiskProject, applicant);
      Reply r = api_->Get("/v1/cases/" + bundle, Token(applicant));
      EXPECT_EQ(r.status, 200) << r;
      std::string part;
      for (const json& p : r.doc.value("parts", json::array())) {
        if (p.value("part", "") == "permit") part = p.value("case_id", "");
      }
      EXPECT_FALSE(part.empty()) << r;
      return part;
    };
    states_["bundle part of ent-demo"] = [=] { return bundle_part("ent-demo"); };
    states_["bundle part of ent-other"] = [=] { return bundle_part("ent-other"); };
  }

  void Run(const std::vector<Row>& rows) {
    for (const Row& row : rows) {
      SCOPED_TRACE(Describe(row));
      auto state = states_.find(row.state);
      ASSERT_NE(state, states_.end()) << row.state;
      const std::string id = state->second();
      ASSERT_FALSE(id.empty());
      const std::string token = Token(row.who);
      Reply seen = api_->Get("/v1/cases/" + id, token);
      bool offered = false;
      if (seen.status == 200) {
        for (const json& a : seen.doc.value("available_actions", json::array())) {
          if (a.value("action", "") != row.action) continue;
          if (row.data.contains("party") && a.value("party", "") != row.data["party"]) continue;
          offered = true;
        }
      } else {
        EXPECT_EQ(seen.status, 404) << seen;
      }
      Reply acted = api_->Act(id, token, row.action, row.data);
      EXPECT_EQ(acted.status, row.status) << acted;
      if (row.status != 200) {
        EXPECT_EQ(acted.ProblemType(), kProblem + row.problem) << acted;
      }
      // Offered and accepted agree.
      if (offered && !row.wrong_data) {
        EXPECT_EQ(acted.status, 200) << "offered in available_actions, yet refused: " << acted;
      }
      if (acted.status == 403 || acted.status == 409) {
        EXPECT_FALSE(offered) << "refused with " << acted.status << ", yet offered: " << seen;
      }
      if (acted.status == 200) {
        EXPECT_TRUE(offered) << "accepted, yet not offered: " << seen;
      }
      if (seen.status == 404) {
        EXPECT_EQ(acted.status, 404) << "a case the principal may not read must stay unknown";
      }
    }
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Api> api_;
  std::map<std::string, std::function<std::string()>> states_;
};

const json kNone = json::object();
const json kReason = {{"reason", "测试：理由"}};

TEST_F(AuthorizationMatrix, ItemDeclaredRoles) {
  Run({
      // The food licence's inspection step is the inspector's (an item-declared role).
      {"food licence at inspection", "inspector-demo", "report", kNone, 200, ""},
      {"food licence at inspection", "inspector-demo", "report_nonconforming", kReason, 200, ""},
      {"food licence at inspection", "reviewer-demo", "report", kNone, 403, "forbidden"},
      {"food licence at inspection", "approver-demo", "report", kNone, 403, "forbidden"},
      {"food licence at inspection", "inspector-demo", "approve", kNone, 409, "not-available"},
      {"food licence at inspection", "expert-secretary-demo", "report", kNone, 403, "forbidden"},
      // Staff of an organ that has no part in the item do not see it.
      {"food licence at inspection", "tax-demo", "report", kNone, 404, "not-found"},
      // The built-in roles, under jurisdiction: the housing-fund centre decides its item; the
      // bureau holds only the acceptance of it.
      {"housing fund under review", "housing-fund-demo", "register", kNone, 200, ""},
      {"housing fund under review", "reviewer-demo", "register", kNone, 403, "forbidden"},
      {"permit under review", "reviewer-demo", "pass", kNone, 200, ""},
      {"permit under review", "approver-demo", "pass", kNone, 403, "forbidden"},
      {"permit under review", "auditor-demo", "pass", kNone, 403, "forbidden"},
      {"permit under review", "reviewer-demo", "deny", kNone, 422, "invalid", true},
      {"permit under review", "reviewer-demo", "deny", kReason, 200, ""},
      {"permit under review", "amr-approver-demo", "extend", kReason, 404, "not-found"},
      // The construction permit and joint drawing review allow no extension (their rules provide
      // none); the food licence allows one.
      {"permit under review", "approver-demo", "extend", kReason, 409, "not-available"},
      {"joint drawing review at joint_review", "approver-demo", "extend", kReason, 409,
       "not-available"},
      {"food licence at inspection", "approver-demo", "extend", kReason, 200, ""},
      {"food licence at inspection", "reviewer-demo", "extend", kReason, 403, "forbidden"},
  });
}

TEST_F(AuthorizationMatrix, JointPartiesOfTwoOrgans) {
  Run({
      {"joint drawing review at joint_review",
       "fire-reviewer-demo",
       "conclude",
       {{"party", "fire"}},
       200,
       ""},
      {"joint drawing review at joint_review",
       "civil-defence-reviewer-demo",
       "conclude",
       {{"party", "civil_defence"}},
       200,
       ""},
      {"joint drawing review at joint_review",
       "reviewer-demo",
       "conclude",
       {{"party", "building"}},
       200,
       ""},
      // A party is signed only in its role, by its own organ.
      {"joint drawing review at joint_review",
       "fire-reviewer-demo",
       "conclude",
       {{"party", "civil_defence"}},
       403,
       "forbidden"},
      {"joint drawing review at joint_review",
       "reviewer-demo",
       "conclude",
       {{"party", "fire"}},
       403,
       "forbidden"},
      {"joint drawing review at joint_review", "fire-reviewer-demo", "reject_drawings", kReason,
       403, "forbidden"},
      {"joint drawing review at joint_review",
       "fire-reviewer-demo",
       "conclude",
       {{"party", "no_such_party"}},
       403,
       "forbidden"},
      // An organ with a party in another item only does not see this one.
      {"joint drawing review at joint_review",
       "planning-verifier-demo",
       "conclude",
       {{"party", "fire"}},
       404,
       "not-found"},
      // Low-risk joint acceptance: three organs, the housing bureau's party is the fire
      // inspector's.
      {"joint acceptance at planning_verification",
       "planning-verifier-demo",
       "verified",
       {{"party", "planning"}},
       200,
       ""},
      {"joint acceptance at joint_acceptance",
       "fire-inspector-demo",
       "conclude",
       {{"party", "fire"}},
       200,
       ""},
      {"joint acceptance at joint_acceptance",
       "fire-reviewer-demo",
       "conclude",
       {{"party", "fire"}},
       403,
       "forbidden"},
      {"joint acceptance at joint_acceptance",
       "reviewer-demo",
       "conclude",
       {{"party", "completion_filing"}},
       200,
       ""},
      {"joint acceptance at planning_verification",
       "reviewer-demo",
       "verified",
       {{"party", "planning"}},
       403,
       "forbidden"},
      {"joint acceptance at planning_verification",
       "civil-defence-reviewer-demo",
       "verified",
       {{"party", "planning"}},
       404,
       "not-found"},
  });
}

TEST_F(AuthorizationMatrix, BundleMandatesOnParts) {
  // ent-demo's agent holds a mandate for the bundle only, never for the part's item.
  GrantMandate("ent-demo", {"low-risk-project"});
  Run({
      {"bundle part of ent-demo",
       "agent-demo",
       "supply_materials",
       {{"materials", {"power_of_attorney"}}},
       200,
       ""},
      {"bundle part of ent-demo", "agent-demo", "withdraw", kNone, 200, ""},
      {"bundle part of ent-demo", "agent-demo", "accept", kNone, 403, "forbidden"},
      {"bundle part of ent-demo", "agent-demo", "deliver", kNone, 403, "forbidden"},
      // ent-other granted nothing: its bundle's parts are not the agent's.
      {"bundle part of ent-other",
       "agent-demo",
       "supply_materials",
       {{"materials", {"power_of_attorney"}}},
       404,
       "not-found"},
      {"bundle part of ent-other", "agent-demo", "withdraw", kNone, 404, "not-found"},
      {"bundle part of ent-demo", "ent-other", "withdraw", kNone, 404, "not-found"},
      {"bundle part of ent-demo", "ent-demo", "withdraw", kNone, 200, ""},
      {"bundle part of ent-demo", "clerk-demo", "accept", kNone, 200, ""},
  });
}

TEST_F(AuthorizationMatrix, FourEyes) {
  Run({
      // amr-clerk-demo holds the approver role too, but reviewed this case.
      {"registration at decide, reviewed by amr-clerk-demo", "amr-clerk-demo", "approve", kNone,
       403, "forbidden"},
      {"registration at decide, reviewed by amr-clerk-demo", "amr-clerk-demo", "send_back", kReason,
       403, "forbidden"},
      {"registration at decide, reviewed by amr-clerk-demo", "amr-approver-demo", "approve", kNone,
       200, ""},
      {"registration at decide, reviewed by amr-clerk-demo", "amr-approver-demo", "send_back",
       kReason, 200, ""},
      // The bureau holds only the acceptance of registration.
      {"registration at decide, reviewed by amr-clerk-demo", "approver-demo", "approve", kNone, 403,
       "forbidden"},
  });
}

TEST_F(AuthorizationMatrix, ApplicantsAndAgents) {
  GrantMandate("ent-demo", {"construction-permit"});
  Run({
      {"permit submitted", "ent-demo", "withdraw", kNone, 200, ""},
      {"permit submitted", "ent-other", "withdraw", kNone, 404, "not-found"},
      {"permit submitted",
       "ent-other",
       "supply_materials",
       {{"materials", {"power_of_attorney"}}},
       404,
       "not-found"},
      {"permit submitted", "ent-demo", "accept", kNone, 403, "forbidden"},
      {"permit submitted", "agent-demo", "withdraw", kNone, 200, ""},
      {"permit submitted", "agent-demo", "accept", kNone, 403, "forbidden"},
      // An agent without a mandate from this applicant.
      {"permit submitted by ent-other", "agent-demo", "withdraw", kNone, 404, "not-found"},
      {"permit submitted by ent-other", "ent-other", "withdraw", kNone, 200, ""},
      {"permit under review", "ent-demo", "pass", kNone, 403, "forbidden"},
      {"permit under review",
       "ent-demo",
       "supply_materials",
       {{"materials", {"power_of_attorney"}}},
       200,
       ""},
  });
}

TEST_F(AuthorizationMatrix, ReceivingWindow) {
  GrantMandate("ent-demo", {"food-business-licence"});
  Run({
      {"food licence at the receiving window", "remote-clerk-demo", "transfer", kNone, 200, ""},
      {"food licence at the receiving window", "ent-demo", "withdraw", kNone, 200, ""},
      {"food licence at the receiving window", "agent-demo", "withdraw", kNone, 200, ""},
      // The handling organ sees the case but cannot touch it before the transfer.
      {"food licence at the receiving window", "clerk-demo", "transfer", kNone, 403, "forbidden"},
      {"food licence at the receiving window", "clerk-demo", "accept", kNone, 409, "not-available"},
      {"food licence at the receiving window", "amr-clerk-demo", "accept", kNone, 409,
       "not-available"},
      {"food licence at the receiving window", "approver-demo", "terminate", kReason, 409,
       "not-available"},
      {"food licence at the receiving window",
       "ent-demo",
       "supply_materials",
       {{"materials", {"power_of_attorney"}}},
       409,
       "not-available"},
      {"food licence at the receiving window", "remote-clerk-demo", "accept", kNone, 403,
       "forbidden"},
      {"food licence at the receiving window", "tax-demo", "transfer", kNone, 404, "not-found"},
      // Withdrawn before the transfer: nothing is left to transfer or withdraw.
      {"food licence withdrawn at the receiving window", "remote-clerk-demo", "transfer", kNone,
       409, "not-available"},
      {"food licence withdrawn at the receiving window", "ent-demo", "withdraw", kNone, 409,
       "not-available"},
  });
}

TEST_F(AuthorizationMatrix, FrameActionsAndVerification) {
  Run({
      {"permit submitted", "clerk-demo", "accept", kNone, 200, ""},
      {"permit submitted", "approver-demo", "accept", kNone, 403, "forbidden"},
      // An incomplete application is not accepted: the window asks for a correction instead.
      {"permit submitted without its application form", "clerk-demo", "accept", kNone, 409,
       "not-available"},
      {"permit submitted without its application form",
       "clerk-demo",
       "request_correction",
       {{"missing", {"application_form"}}},
       200,
       ""},
      {"permit submitted",
       "clerk-demo",
       "accept_and_decide",
       {{"decision", "approve"}},
       409,
       "not-available"},
      {"permit submitted", "clerk-demo", "deem_accepted", kNone, 422, "unknown-action"},
      {"permit submitted", "clerk-demo", "no_such_action", kNone, 422, "unknown-action"},
      {"permit submitted", "reviewer-demo", "pass", kNone, 409, "not-available"},
      {"commitment approved", "verifier-demo", "verify", {{"result", "pass"}}, 200, ""},
      {"commitment approved", "approver-demo", "verify", {{"result", "pass"}}, 403, "forbidden"},
      {"commitment approved", "approver-demo", "revoke", kReason, 200, ""},
      {"commitment approved", "clerk-demo", "deliver", kNone, 200, ""},
      {"commitment revoked", "verifier-demo", "verify", {{"result", "pass"}}, 409, "not-available"},
      {"commitment revoked", "clerk-demo", "deliver", kNone, 409, "not-available"},
  });
}

}  // namespace
}  // namespace tongban::api
