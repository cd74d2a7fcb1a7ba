#include "api/api_test_fixture.h"

#include "workflows/definition_set.h"
#include "workflows/sha256.h"

namespace tongban::api::api_test {

std::shared_ptr<const PrincipalSet> LoadPrincipals(bool with_test_principals) {
  DefinitionSet set;
  std::string path = kSourceDir + "/definitions/principals/demo.json";
  if (!with_test_principals) {
    set.AddPath(path, true);
  } else {
    json doc = json::parse(ReadFile(path));
    doc["id"] = "api-test";
    doc["principals"].push_back({{"id", "clerk-second"},
                                 {"name", "second window clerk"},
                                 {"roles", {"clerk"}},
                                 {"organ", "dz-approval-bureau"},
                                 {"token_sha256", Sha256Hex(kSecondClerk)}});
    doc["principals"].push_back({{"id", "clerk-foreign"},
                                 {"name", "clerk of another organ"},
                                 {"roles", {"clerk"}},
                                 {"organ", "other-organ"},
                                 {"token_sha256", Sha256Hex(kForeignClerk)}});
    doc["principals"].push_back({{"id", "amr-approver-test"},
                                 {"name", "second approver of the city AMR"},
                                 {"roles", {"approver"}},
                                 {"organ", "city-amr"},
                                 {"token_sha256", Sha256Hex(kAmrApprover)}});
    set.AddText("api-test-principals.json", doc.dump(2), true);
  }
  set.Compile();
  EXPECT_FALSE(set.HasErrors());
  for (const Diagnostic& d : set.Diagnostics())
    ADD_FAILURE() << FormatDiagnostic(d);
  auto principals = set.FindPrincipals();
  EXPECT_NE(principals, nullptr);
  return principals;
}

// ---- Request bodies ----------------------------------------------------------------------------

json PermitForm() {
  return {{"project_name", "示例园区一期厂房"}, {"project_code", "2026-330100-47-01-000001"},
          {"builder_name", "示例科技有限公司"}, {"builder_credit_code", "91330100MA2TB00014"},
          {"project_category", "房屋建筑工程"}, {"contract_price_wan", 1200},
          {"building_area_m2", 8600},           {"planned_start_date", "2026-04-01"}};
}

json PermitMaterials(const std::set<std::string>& without) {
  json materials = json::array();
  for (const char* m : kPermitMaterials) {
    if (without.count(m) == 0) materials.push_back(m);
  }
  return materials;
}

json NewPermit(const std::set<std::string>& without) {
  return {{"definition", "construction-permit"},
          {"form", PermitForm()},
          {"materials", PermitMaterials(without)}};
}

json FoodForm() {
  return {{"applicant_name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00014"},
          {"legal_representative", "张三"},       {"premises_address", "开发区创新路1号"},
          {"business_type", "食品销售经营者"},    {"sells_special_food", false}};
}

json FoodCommitment() {
  return {{"template_id", "food-business-licence-commitment"},
          {"template_version", 1},
          {"signed_by", "张三"}};
}

json NewFood(const std::string& mode) {
  json body = {{"definition", "food-business-licence"}, {"form", FoodForm()}};
  if (mode == "commitment") {
    body["mode"] = "commitment";
    body["commitment"] = FoodCommitment();
    body["materials"] = {"application_form", "business_licence", "identity_document"};
  } else {
    body["materials"] = {"application_form", "business_licence", "identity_document",
                         "premises_layout",  "equipment_list",   "safety_rules"};
  }
  return body;
}

json NewRegistration() {
  return {{"definition", "establishment-registration"},
          {"form",
           {{"enterprise_name", "示例新材料有限公司"},
            {"enterprise_type", "有限责任公司"},
            {"residence", "开发区创新路8号"},
            {"legal_representative", "李四"},
            {"business_scope", "新材料技术研发"},
            {"requires_pre_approval", false}}},
          {"materials",
           {"application_form", "articles", "investor_documents", "officer_documents",
            "residence_document"}}};
}

json NewStartup(const std::set<std::string>& without) {
  json materials = json::array();
  for (const char* m : {"application_form", "articles", "investor_documents", "officer_documents",
                        "residence_document", "agent_identity"}) {
    if (without.count(m) == 0) materials.push_back(m);
  }
  return {{"definition", "business-startup"},
          {"form",
           {{"enterprise_name", "示例新材料有限公司"},
            {"enterprise_type", "有限责任公司"},
            {"residence", "开发区创新路8号"},
            {"legal_representative", "李四"},
            {"registered_capital_wan", 100},
            {"business_scope", "新材料技术研发"},
            {"requires_pre_approval", false},
            {"seal_type", "法定名称章"},
            {"seal_count", 1},
            {"engraver_name", "开发区刻章社"},
            {"taxpayer_type", "小规模纳税人"},
            {"paper_invoices", false},
            {"has_employees", true},
            {"employee_count", 5},
            {"opens_housing_fund", false}}},
          {"materials", materials}};
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace tongban::api::api_test
