// API tests of public tracking, GET /v1/track/{number}?code= (tracking_routes.cc).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

// ---- Tracking -----------------------------------------------------------------------------------

TEST_F(ApiTest, TrackShowsProgressButNoStaff) {
  Reply created = Create(kApplicant, NewPermit({"land_approval", "planning_permit"}));
  std::string id = created.doc.value("id", "");
  std::string number = created.doc.value("number", "");
  std::string code = created.doc.value("query_code", "");
  ASSERT_FALSE(number.empty() || code.empty()) << created;
  Reply corrected = api().Act(id, kClerk, "request_correction",
                              {{"missing", {"land_approval", "planning_permit"}},
                               {"reason", "用地批准手续、规划许可证未提交"}});
  ASSERT_EQ(corrected.status, 200) << corrected;

  // No token needed: the number and the query code are the credential.
  Reply r = api().Get("/v1/track/" + number + "?code=" + code);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["number"], number);
  EXPECT_EQ(r.doc["status"], "correction_pending");
  EXPECT_EQ(r.doc["item"], "建筑工程施工许可");
  EXPECT_EQ(r.doc["organ"], "××开发区行政审批局");
  EXPECT_EQ(r.doc["light"], "green");
  EXPECT_TRUE(r.doc.contains("due"));
  EXPECT_TRUE(r.doc.contains("statutory_due"));
  std::set<std::string> missing;
  for (const json& m : r.doc["missing"]) {
    missing.insert(m.value("id", ""));
    EXPECT_FALSE(m.value("name", "").empty());
  }
  EXPECT_EQ(missing, (std::set<std::string>{"land_approval", "planning_permit"}));
  ASSERT_EQ(r.doc["timeline"].size(), 2u) << r;
  EXPECT_EQ(r.doc["timeline"][0]["status"], "submitted");
  EXPECT_EQ(r.doc["timeline"][1]["status"], "correction_pending");
  for (const json& t : r.doc["timeline"]) {
    EXPECT_EQ(t.size(), 2u) << t;  // time and status only
  }
  // Nothing about staff, the applicant's data or the case's internals.
  std::set<std::string> keys;
  for (const auto& [key, value] : r.doc.items())
    keys.insert(key);
  // received_by and transferred_at (收受分离) and bundle (一件事) name a window, a time and a
  // bundle number, never a person; null for a case received by the bureau itself on its own.
  EXPECT_EQ(keys,
            (std::set<std::string>{"number", "item", "organ", "status", "step_title", "decision",
                                   "due", "statutory_due", "light", "paused", "missing",
                                   "received_by", "transferred_at", "bundle", "timeline"}));
  EXPECT_EQ(r.doc["received_by"], nullptr);
  EXPECT_EQ(r.doc["transferred_at"], nullptr);
  EXPECT_EQ(r.doc["bundle"], nullptr);
  for (const char* secret : {"clerk-demo", "clerk", "actor", "ent-demo", "query_code", code.c_str(),
                             "91330100MA2TB00014", id.c_str()}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret << " in " << r.body;
  }

  // Once accepted and under review, the due date and the step show.
  ASSERT_EQ(api()
                .Act(id, kApplicant, "supply_correction",
                     {{"materials", {"land_approval", "planning_permit"}}})
                .status,
            200);
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply review = api().Get("/v1/track/" + number + "?code=" + code);
  EXPECT_EQ(review.doc["status"], "under_review");
  EXPECT_EQ(review.doc["step_title"], "审查");
  EXPECT_TRUE(review.doc["due"].is_string()) << review;
  EXPECT_EQ(review.doc["missing"], json::array());
  EXPECT_EQ(review.body.find("reviewer"), std::string::npos);

  // A wrong code and an unknown number look the same.
  ExpectProblem(api().Get("/v1/track/" + number + "?code=WRONG234"), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number + "?code=" + code.substr(0, 7)), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/TB20260302-00000000?code=" + code), 404, "not-found");
}

}  // namespace
}  // namespace tongban::api::api_test
