// Tests of what an application must hold (ReadSubmission, CheckForm, ReadMaterialIds): each
// refusal's JSON pointer is where the caller's request has the member refused.
#include "engine/submission.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "workflows/sha256.h"

namespace tongban {
namespace {

using nlohmann::json;

Item TestItem() {
  Item item;
  item.id = "test-permit";
  item.version = 3;
  item.organ.id = "test-organ";
  item.form = {{"area", "面积", FieldType::kNumber, true, {}},
               {"kind", "类别", FieldType::kEnum, false, {"a", "b"}},
               {"start", "开工日期", FieldType::kDate, false, {}},
               {"a/b", "带斜杠的字段", FieldType::kString, false, {}}};
  item.materials = {{"application_form", "申请表", Necessity::kRequired, false},
                    {"site_plan", "总平面图", Necessity::kRequired, true}};
  item.commitment = CommitmentMode{"test-commitment", 2, "本人承诺……", false, "", 0};
  return item;
}

json Application() {
  return {{"case", {{"id", "c1"}, {"number", "TB20260302-00000001"}, {"query_code", "123456"}}},
          {"applicant", {{"id", "ent-1"}, {"name", "示例公司"}, {"credit_code", "9133"}}},
          {"form", {{"area", 120}}},
          {"materials", {"application_form"}}};
}

const Instant kNow = Instant{std::chrono::milliseconds{1772413200000}};  // 2026-03-02T01:00Z

Status Read(const json& application, CaseState* state = nullptr) {
  CaseState scratch;
  return ReadSubmission(TestItem(), application, kNow, state ? state : &scratch);
}

// The refusal's pointer, or "(accepted)".
std::string PointerOf(const json& application) {
  Status s = Read(application);
  if (s.ok()) return "(accepted)";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  return s.pointer();
}

TEST(ReadSubmission, ReadsTheApplicationIntoTheNewCase) {
  CaseState s;
  ASSERT_TRUE(Read(Application(), &s).ok());
  EXPECT_EQ(s.id, "c1");
  EXPECT_EQ(s.number, "TB20260302-00000001");
  EXPECT_EQ(s.applicant_id, "ent-1");
  EXPECT_EQ(s.applicant_credit_code, "9133");
  EXPECT_EQ(s.definition_id, "test-permit");
  EXPECT_EQ(s.definition_version, 3);
  EXPECT_EQ(s.organ_id, "test-organ");
  EXPECT_EQ(s.mode, "standard");
  EXPECT_EQ(s.form, json({{"area", 120}}));
  EXPECT_EQ(s.materials, (std::set<std::string>{"application_form"}));
  EXPECT_FALSE(s.commitment.has_value());
}

TEST(ReadSubmission, TheFormIsCheckedFieldByField) {
  json a = Application();
  a["form"] = json::array();
  EXPECT_EQ(PointerOf(a), "/form");
  a["form"] = {{"area", 1}, {"colour", "red"}};
  EXPECT_EQ(PointerOf(a), "/form/colour");
  a["form"] = {{"area", "big"}};
  EXPECT_EQ(PointerOf(a), "/form/area");
  a["form"] = {{"area", 1}, {"kind", "c"}};
  EXPECT_EQ(PointerOf(a), "/form/kind");
  a["form"] = {{"area", 1}, {"start", "2026-02-30"}};
  EXPECT_EQ(PointerOf(a), "/form/start");
  a["form"] = {{"area", 1}, {"a/b", 7}};
  EXPECT_EQ(PointerOf(a), "/form/a~1b");  // RFC 6901
  a["form"] = {{"area", nullptr}};        // null is "not given", and area is required
  EXPECT_EQ(PointerOf(a), "/form/area");
  a["form"] = {{"area", 1}, {"kind", nullptr}, {"start", "2026-03-02"}, {"a/b", "x"}};
  EXPECT_EQ(PointerOf(a), "(accepted)");
}

TEST(ReadSubmission, AMaterialIsPointedAtInTheApplicationsList) {
  json a = Application();
  a["materials"] = "application_form";
  EXPECT_EQ(PointerOf(a), "/materials");
  a["materials"] = {"application_form", "passport"};
  EXPECT_EQ(PointerOf(a), "/materials/1");
  Status s = Read(a);
  EXPECT_EQ(s.message(), "materials names an unknown material: \"passport\"");
  a["materials"] = {"site_plan", 7};
  EXPECT_EQ(PointerOf(a), "/materials/1");
  a.erase("materials");
  EXPECT_EQ(PointerOf(a), "(accepted)");  // none given yet: a correction notice will ask
}

TEST(ReadSubmission, TheModeAndTheCommitmentAreCheckedAgainstTheItem) {
  json a = Application();
  a["mode"] = "express";
  EXPECT_EQ(PointerOf(a), "/mode");
  a["mode"] = 5;  // a wrong JSON type is refused, never thrown
  EXPECT_EQ(Read(a).code(), StatusCode::kInvalidArgument);
  a["mode"] = "commitment";
  EXPECT_EQ(PointerOf(a), "/commitment");
  a["commitment"] = {
      {"template_id", "test-commitment"}, {"template_version", 1}, {"signed_by", "x"}};
  EXPECT_EQ(PointerOf(a), "/commitment");
  a["commitment"]["template_version"] = 2;
  a["commitment"]["content_hash"] = std::string(64, '0');
  EXPECT_EQ(PointerOf(a), "/commitment/content_hash");
  a["commitment"]["content_hash"] = Sha256Hex("本人承诺……");
  CaseState s;
  ASSERT_TRUE(Read(a, &s).ok());
  ASSERT_TRUE(s.commitment.has_value());
  EXPECT_EQ(s.commitment->signed_by, "x");
  EXPECT_EQ(s.commitment->signed_at, kNow);
  EXPECT_EQ(s.commitment->content_hash, Sha256Hex("本人承诺……"));

  Item commitment_only = TestItem();
  commitment_only.standard_mode = false;
  CaseState scratch;
  Status refused = ReadSubmission(commitment_only, Application(), kNow, &scratch);
  EXPECT_EQ(refused.pointer(), "/mode") << refused.ToString();
  Item standard_only = TestItem();
  standard_only.commitment.reset();
  a = Application();
  a["mode"] = "commitment";
  refused = ReadSubmission(standard_only, a, kNow, &scratch);
  EXPECT_EQ(refused.pointer(), "/mode") << refused.ToString();
}

TEST(ReadSubmission, AMalformedRecordIsRefusedWithoutAPointer) {
  // The engine writes case and applicant itself; their absence is not the caller's member.
  json a = Application();
  a.erase("case");
  Status s = Read(a);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("malformed submission"), std::string::npos) << s.message();
  EXPECT_EQ(s.pointer(), "");
}

TEST(ReadMaterialIds, NamesTheMemberWhereTheCallerSentIt) {
  const std::vector<Material> known = TestItem().materials;
  std::vector<std::string> out;
  Status s = ReadMaterialIds(known, json{"site_plan", "x"}, "/data/missing", &out);
  EXPECT_EQ(s.pointer(), "/data/missing/1");
  EXPECT_EQ(s.message(), "data.missing names an unknown material: \"x\"");
  EXPECT_EQ(out, std::vector<std::string>{"site_plan"});  // read up to the unknown one
  s = ReadMaterialIds(known, json::object(), "/data/materials", &out);
  EXPECT_EQ(s.pointer(), "/data/materials");
  EXPECT_EQ(s.message(), "data.materials must be a list of material ids");
  out.clear();
  EXPECT_TRUE(ReadMaterialIds(known, json::array(), "/materials", &out).ok());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace tongban
