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
  // Each change of status in words, with the action's title and the organ that acted — by name,
  // never the person; the applicant's own steps name no organ.
  EXPECT_EQ(r.doc["timeline"][0]["status_title"], "待受理");
  EXPECT_EQ(r.doc["timeline"][0]["action_title"], "申请");
  EXPECT_EQ(r.doc["timeline"][0]["by"], "applicant");
  EXPECT_EQ(r.doc["timeline"][0]["organ"], nullptr);
  EXPECT_EQ(r.doc["timeline"][1]["status_title"], "待补正");
  EXPECT_EQ(r.doc["timeline"][1]["action"], "request_correction");
  EXPECT_EQ(r.doc["timeline"][1]["action_title"], "一次性告知补正");
  EXPECT_EQ(r.doc["timeline"][1]["by"], "organ");
  EXPECT_EQ(r.doc["timeline"][1]["organ"], kBureauName);
  for (const json& t : r.doc["timeline"]) {
    EXPECT_EQ(t.size(), 7u) << t;  // time, status, status_title, action, action_title, by, organ
  }
  EXPECT_EQ(r.doc["status_title"], "待补正");
  EXPECT_EQ(r.doc["time_zone"], "Asia/Shanghai");
  // The correction notice's reason and what it lists, as the applicant was told.
  EXPECT_EQ(r.doc["reason"]["kind"], "correction") << r;
  EXPECT_EQ(r.doc["reason"]["title"], "补正告知");
  EXPECT_EQ(r.doc["reason"]["text"], "用地批准手续、规划许可证未提交");
  EXPECT_EQ(r.doc["reason"]["time"], r.doc["timeline"][1]["time"]);
  EXPECT_EQ(r.doc["reason"]["missing"].size(), 2u);
  // Before acceptance: no working days yet, the art. 32 deadline for the notice, acceptance due.
  EXPECT_EQ(r.doc["working_days"], nullptr);
  EXPECT_EQ(r.doc["due_dates"]["promised"], nullptr);
  EXPECT_EQ(r.doc["special_procedure"], nullptr);
  // 申请 and 受理, the item's 审查 and 决定, then 送达: the decision is the item's last step, said
  // once (the frame's own entry appears when decided, with the outcome).
  ASSERT_EQ(r.doc["steps"].size(), 5u) << r;
  EXPECT_EQ(r.doc["steps"][3]["title"], "决定");
  EXPECT_EQ(r.doc["steps"][4]["title"], "送达");
  EXPECT_EQ(r.doc["steps"][0]["title"], "申请");
  EXPECT_EQ(r.doc["steps"][0]["state"], "done");
  EXPECT_EQ(r.doc["steps"][1]["title"], "受理");
  EXPECT_EQ(r.doc["steps"][1]["state"], "current");
  EXPECT_EQ(r.doc["steps"][1]["organ"], kBureauName);
  EXPECT_EQ(r.doc["steps"][2]["title"], "审查");
  EXPECT_EQ(r.doc["steps"][2]["state"], "pending");
  // Nothing about staff, the applicant's data or the case's internals.
  std::set<std::string> keys;
  for (const auto& [key, value] : r.doc.items())
    keys.insert(key);
  // received_by and transferred_at (收受分离) and bundle (一件事) name a window, a time and a
  // bundle number, never a person; null for a case received by the bureau itself on its own.
  EXPECT_EQ(keys, (std::set<std::string>{
                      "number",       "item",          "organ",       "time_zone",
                      "status",       "status_title",  "step_title",  "decision",
                      "due",          "statutory_due", "due_dates",   "provisional",
                      "working_days", "light",         "paused",      "special_procedure",
                      "missing",      "reason",        "received_by", "transferred_at",
                      "bundle",       "steps",         "timeline",    "delivery"}));
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
  EXPECT_EQ(review.doc["status_title"], "审查中");
  EXPECT_EQ(review.doc["reason"], nullptr);
  EXPECT_EQ(review.doc["steps"][1]["state"], "done");
  EXPECT_FALSE(review.doc["steps"][1]["time"].is_null());
  EXPECT_EQ(review.doc["steps"][2]["state"], "current");
  EXPECT_FALSE(review.doc["steps"][2]["entered_at"].is_null());
  EXPECT_EQ(review.doc["steps"][3]["state"], "pending");
  // Accepted on Monday 2026-03-02: 3 promised and 7 statutory working days, none used yet.
  EXPECT_EQ(review.doc["working_days"], json({{"used", 0},
                                              {"left", 3},
                                              {"limit", 3},
                                              {"statutory_left", 7},
                                              {"statutory_limit", 7},
                                              {"paused", 0},
                                              {"extension", 0},
                                              {"unit", "working_days"},
                                              {"statutory_unit", "working_days"}}));
  EXPECT_EQ(review.doc["due_dates"]["promised"],
            json({{"date", "2026-03-05"}, {"provisional", false}}));
  EXPECT_EQ(review.doc["due_dates"]["statutory"],
            json({{"date", "2026-03-11"}, {"provisional", false}}));
  EXPECT_EQ(review.doc["provisional"], false);
  EXPECT_EQ(review.doc["timeline"].back()["action_title"], "受理");

  // Passed and denied: the step is done with its time, the denial gives its reason.
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  ASSERT_EQ(api().Act(id, kApprover, "deny", {{"reason", "施工场地不具备施工条件"}}).status, 200);
  Reply denied = api().Get("/v1/track/" + number + "?code=" + code);
  EXPECT_EQ(denied.doc["status_title"], "不予许可");
  EXPECT_EQ(denied.doc["reason"]["kind"], "denial") << denied;
  EXPECT_EQ(denied.doc["reason"]["text"], "施工场地不具备施工条件");
  EXPECT_EQ(denied.doc["steps"][2]["state"], "done");
  EXPECT_EQ(denied.doc["steps"][3]["state"], "done");
  ASSERT_EQ(denied.doc["steps"].size(), 6u) << denied;
  EXPECT_EQ(denied.doc["steps"][4]["title"], "不予许可");
  EXPECT_EQ(denied.doc["steps"][4]["state"], "done");
  EXPECT_EQ(denied.doc["steps"][4]["time"], denied.doc["steps"][3]["time"]);
  EXPECT_EQ(denied.doc["steps"][5]["title"], "送达");
  EXPECT_EQ(denied.doc["steps"][5]["state"], "current");
  EXPECT_EQ(denied.doc["timeline"].back()["action_title"], "不予许可");
  EXPECT_EQ(denied.body.find("approver"), std::string::npos);

  // A wrong code and an unknown number look the same.
  ExpectProblem(api().Get("/v1/track/" + number + "?code=WRONG234"), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number + "?code=" + code.substr(0, 7)), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/" + number), 404, "not-found");
  ExpectProblem(api().Get("/v1/track/TB20260302-00000000?code=" + code), 404, "not-found");
}

// 不予受理: the refusal and its reason; acceptance and what follows are skipped.
TEST_F(ApiTest, TrackShowsARefusalAndItsReason) {
  Reply created = Create();
  ASSERT_EQ(
      api().Act(created.doc["id"], kClerk, "refuse", {{"reason", "不属于本机关职权范围"}}).status,
      200);
  Reply r = api().Get("/v1/track/" + created.doc.value("number", "") +
                      "?code=" + created.doc.value("query_code", ""));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["status_title"], "不予受理");
  EXPECT_EQ(r.doc["reason"]["kind"], "refusal");
  EXPECT_EQ(r.doc["reason"]["title"], "不予受理");
  EXPECT_EQ(r.doc["reason"]["text"], "不属于本机关职权范围");
  EXPECT_FALSE(r.doc["reason"].contains("missing"));
  EXPECT_EQ(r.doc["steps"][1]["state"], "skipped");
  EXPECT_EQ(r.doc["steps"][2]["state"], "skipped");
  EXPECT_EQ(r.doc["steps"][4]["state"], "skipped");
  EXPECT_EQ(r.doc["timeline"].back()["action_title"], "不予受理");
}

// 现场核查 is part of the review (行政许可法 art. 34), not one of art. 45's procedures: the food
// licence's on-site check is an ordinary step and the clock keeps running. The food licence is
// city-amr's item, accepted by the zone bureau under a concentrated delegation: the timeline names
// the bureau, which acted, and the steps the item's organ.
TEST_F(ApiTest, TrackShowsAnOnSiteCheckThatCountsAndWhichOrganActed) {
  Reply created = Create(kApplicant, NewFood());
  std::string id = created.doc.value("id", "");
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply ordered = api().Act(id, kReviewer, "order_inspection");
  ASSERT_EQ(ordered.status, 200) << ordered;
  Reply r = api().Get("/v1/track/" + created.doc.value("number", "") +
                      "?code=" + created.doc.value("query_code", ""));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_FALSE(r.doc["paused"].get<bool>());
  EXPECT_EQ(r.doc["special_procedure"], nullptr);
  EXPECT_EQ(r.doc["working_days"]["paused"], 0);
  EXPECT_EQ(r.doc["timeline"].back()["action_title"], "受理");
  EXPECT_EQ(r.doc["timeline"].back()["organ"], kBureauName);
  EXPECT_EQ(r.doc["organ"], kAmrName);
  EXPECT_EQ(r.doc["steps"][2]["state"], "done");  // 材料审查
  EXPECT_EQ(r.doc["steps"][3]["title"], "现场核查");
  EXPECT_EQ(r.doc["steps"][3]["state"], "current");
  EXPECT_EQ(r.body.find("inspector"), std::string::npos);
}

// An art. 45 procedure (检测) holds the clock: its kind, words and announced duration. No shipped
// item has one, so the scenarios' test item is deployed first.
TEST_F(ApiTest, TrackShowsASpecialProcedureHoldingTheClock) {
  json item =
      json::parse(ReadFile(kSourceDir + "/tests/scenarios/items/product-testing-licence.json"));
  Reply deployed = api().Post("/v1/definitions", kAdmin, item);
  ASSERT_EQ(deployed.status, 201) << deployed;
  Reply created =
      Create(kApplicant,
             {{"definition", "product-testing-licence"},
              {"form", {{"applicant_name", "示例检测申请有限公司"}, {"product_name", "示例电器"}}},
              {"materials", {"application_form"}}});
  std::string id = created.doc.value("id", "");
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply ordered = api().Act(id, kReviewer, "order_detection");
  ASSERT_EQ(ordered.status, 200) << ordered;
  Reply r = api().Get("/v1/track/" + created.doc.value("number", "") +
                      "?code=" + created.doc.value("query_code", ""));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.doc["paused"].get<bool>());
  const json& special = r.doc["special_procedure"];
  ASSERT_TRUE(special.is_object()) << r;
  EXPECT_EQ(special["kind"], "detection");
  EXPECT_EQ(special["title"], "检测");
  EXPECT_EQ(special["step_title"], "产品检测");
  EXPECT_EQ(special["announced_days"], 5);
  EXPECT_EQ(special["days_left"], 5);
  // Ordered Monday 2026-03-02: five working days, 03-03 … 03-09.
  EXPECT_EQ(special["ends_by"], json({{"date", "2026-03-09"}, {"provisional", false}}));
  EXPECT_FALSE(special["started_at"].is_null());
  EXPECT_EQ(r.doc["steps"][3]["title"], "产品检测");
  EXPECT_EQ(r.doc["steps"][3]["state"], "current");
}

// The value of one series in the Prometheus text of /metrics, or -1 when it is absent.
long long MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

// 送达 (art. 44), end to end over HTTP: a grant's certificate is due 10 working days after the
// decision; tracking and the case show the due date and the light, /metrics counts undelivered
// grants by light, and a late delivery stays marked.
TEST_F(ApiTest, TrackShowsTheDeliveryClockOfAGrant) {
  std::string id = AtDecision();
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  // Granted Monday 2026-03-02: 03-03 … 03-06 (4), 03-09 … 03-13 (9), 03-16 (10).
  EXPECT_EQ(approved.doc["clock"]["delivery"]["due"], "2026-03-16") << approved;
  EXPECT_EQ(approved.doc["clock"]["delivery"]["light"], "green");
  Reply mine = api().Get("/v1/cases/" + id, kApplicant);
  ASSERT_EQ(mine.status, 200) << mine;
  const std::string track =
      "/v1/track/" + mine.doc.value("number", "") + "?code=" + mine.doc.value("query_code", "");
  Reply r = api().Get(track);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["delivery"]["due"], json({{"date", "2026-03-16"}, {"provisional", false}})) << r;
  EXPECT_EQ(r.doc["due_dates"]["delivery"], r.doc["delivery"]["due"]);
  EXPECT_EQ(r.doc["delivery"]["days_left"], 10);
  EXPECT_EQ(r.doc["delivery"]["overdue"], false);
  EXPECT_EQ(r.doc["delivery"]["light"], "green");
  EXPECT_EQ(r.doc["delivery"]["delivered_at"], nullptr);
  std::string metrics = api().Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "tongban_undelivered_grants_by_light{light=\"green\"}"), 1)
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "tongban_undelivered_grants_by_light{light=\"red\"}"), 0);

  // The day after the due day, undelivered: late, red — the case's light too.
  ASSERT_EQ(api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-17T09:00:00+08:00"}}).status,
            200);
  r = api().Get(track);
  EXPECT_EQ(r.doc["delivery"]["overdue"], true) << r;
  EXPECT_EQ(r.doc["delivery"]["light"], "red");
  EXPECT_EQ(r.doc["delivery"]["days_left"], -1);
  EXPECT_EQ(r.doc["light"], "red");
  metrics = api().Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "tongban_undelivered_grants_by_light{light=\"red\"}"), 1)
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "tongban_undelivered_grants_by_light{light=\"green\"}"), 0);

  // Delivered late: closed, still marked overdue; no longer counted as awaiting delivery.
  Reply delivered = api().Act(id, kClerk, "deliver");
  ASSERT_EQ(delivered.status, 200) << delivered;
  EXPECT_EQ(delivered.doc["clock"]["delivery"]["delivered"], true);
  EXPECT_EQ(delivered.doc["clock"]["delivery"]["overdue"], true);
  r = api().Get(track);
  EXPECT_EQ(r.doc["status"], "closed");
  EXPECT_FALSE(r.doc["delivery"]["delivered_at"].is_null()) << r;
  EXPECT_EQ(r.doc["delivery"]["overdue"], true);
  metrics = api().Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "tongban_undelivered_grants_by_light{light=\"red\"}"), 0);
}

// The calendar covers 2025 and 2026. Accepted on Monday 2026-12-28, the 3 promised working days
// end on 12-31, inside 2026; the 7 statutory ones run into 2027 (weekdays assumed working days:
// 01-01, 01-04, 01-05, 01-06), so that date alone is provisional.
TEST_F(ApiTest, TrackMarksADueDateInAnUncoveredYearProvisional) {
  ASSERT_EQ(api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-12-28T09:00:00+08:00"}}).status,
            200);
  Reply created = Create();
  ASSERT_EQ(api().Act(created.doc["id"], kClerk, "accept").status, 200);
  Reply r = api().Get("/v1/track/" + created.doc.value("number", "") +
                      "?code=" + created.doc.value("query_code", ""));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["due_dates"]["promised"], json({{"date", "2026-12-31"}, {"provisional", false}}));
  EXPECT_EQ(r.doc["due_dates"]["statutory"]["provisional"], true) << r;
  EXPECT_EQ(r.doc["due_dates"]["statutory"]["date"], "2027-01-06");
  EXPECT_EQ(r.doc["provisional"], true);
}

}  // namespace
}  // namespace tongban::api::api_test
