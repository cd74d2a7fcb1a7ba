// API tests of bundle cases (一件事) on /v1/cases (cases_routes.cc) and /v1/track.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

// ---- 一件事: bundle cases ----

TEST_F(ApiTest, BundleCombinedCorrectionSuppliedOnceAndTracked) {
  Reply created = Create(kApplicant, NewStartup({"articles"}));
  const std::string bundle = created.doc.value("id", "");
  EXPECT_EQ(created.Header("Location"), "/v1/cases/" + bundle);
  EXPECT_EQ(created.Header("ETag"), "\"1\"");
  EXPECT_EQ(created.doc["kind"], "bundle");
  EXPECT_EQ(created.doc["status"], "submitted");
  EXPECT_EQ(created.doc["title"], "开办企业一件事");
  EXPECT_EQ(created.doc["lead_organ"]["id"], "dz-approval-bureau");
  EXPECT_TRUE(created.doc["clock"]["promised_due"].is_string()) << created;
  EXPECT_FALSE(created.doc.contains("last_hash"));
  std::map<std::string, json> parts;
  for (const json& p : created.doc["parts"])
    parts[p.value("part", "")] = p;
  ASSERT_EQ(parts.size(), 7u) << created;
  EXPECT_EQ(parts["registration"]["status"], "submitted");
  EXPECT_EQ(parts["registration"]["organ"]["id"], "city-amr");
  EXPECT_EQ(parts["seal"]["status"], "waiting");
  EXPECT_EQ(parts["invoice"]["status"], "waiting");
  EXPECT_EQ(parts["social_insurance"]["status"], "waiting");
  EXPECT_EQ(parts["housing_fund"]["status"], "not_applicable");
  EXPECT_EQ(parts["seal"]["case_id"], "");
  const std::string registration = parts["registration"].value("case_id", "");
  ASSERT_FALSE(registration.empty());

  // The child is an ordinary case that knows its bundle. The bureau holds the accept power for
  // it and notifies what is missing.
  Reply child = api().Get("/v1/cases/" + registration, kClerk);
  ASSERT_EQ(child.status, 200) << child;
  EXPECT_EQ(child.doc["bundle"]["case"], bundle);
  EXPECT_EQ(child.doc["bundle"]["part"], "registration");
  EXPECT_EQ(child.doc["number"], created.doc.value("number", "") + "-1");
  ASSERT_EQ(api()
                .Act(registration, kClerk, "request_correction",
                     {{"missing", {"articles"}}, {"reason", "缺公司章程"}})
                .status,
            200);

  // The bundle shows one combined notice, in bundle material ids, and the applicant answers once.
  Reply pending = api().Get("/v1/cases/" + bundle, kApplicant);
  ASSERT_EQ(pending.status, 200) << pending;
  EXPECT_EQ(pending.doc["status"], "correction_pending");
  EXPECT_EQ(pending.doc["correction_notice"]["materials"], json::array({"articles"}));
  EXPECT_EQ(ActionIds(pending), (std::set<std::string>{"supply_correction", "withdraw"}));
  for (const json& a : pending.doc["available_actions"]) {
    EXPECT_EQ(a["role"], "applicant") << a;
  }
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + bundle, kClerk)), std::set<std::string>{});

  // Tracking the bundle's number shows the bundle and every part, and the notice.
  const std::string track = "/v1/track/" + created.doc.value("number", "") +
                            "?code=" + created.doc.value("query_code", "");
  Reply tracked = api().Get(track);
  ASSERT_EQ(tracked.status, 200) << tracked;
  EXPECT_EQ(tracked.doc["bundle"], "开办企业一件事");
  EXPECT_EQ(tracked.doc["status"], "correction_pending");
  ASSERT_EQ(tracked.doc["missing"].size(), 1u) << tracked;
  EXPECT_EQ(tracked.doc["missing"][0]["id"], "articles");
  ASSERT_EQ(tracked.doc["parts"].size(), 7u);
  EXPECT_EQ(tracked.doc["parts"][0]["status"], "correction_pending");
  EXPECT_EQ(tracked.doc["parts"][0]["organ"], kAmrName);
  EXPECT_EQ(tracked.doc["parts"][0]["number"], created.doc.value("number", "") + "-1");
  EXPECT_EQ(tracked.doc["parts"][1]["status"], "waiting");
  // In words, in the calendar's zone, with each part's reason and whether its date is a guess.
  EXPECT_EQ(tracked.doc["status_title"], "待补正");
  EXPECT_EQ(tracked.doc["time_zone"], "Asia/Shanghai");
  EXPECT_EQ(tracked.doc["due_provisional"], false);
  EXPECT_EQ(tracked.doc["parts"][0]["status_title"], "待补正");
  EXPECT_EQ(tracked.doc["parts"][0]["reason"]["kind"], "correction") << tracked;
  // The clerk's words and when, as an item's tracking shows them (read from the part's history).
  EXPECT_EQ(tracked.doc["parts"][0]["reason"]["text"], "缺公司章程") << tracked;
  EXPECT_EQ(tracked.doc["parts"][0]["reason"]["time"], History(registration).back()["time"])
      << tracked;
  EXPECT_EQ(tracked.doc["parts"][1]["status_title"], "等待前序事项");
  EXPECT_EQ(tracked.doc["parts"][1]["reason"], nullptr);
  for (const char* secret : {"clerk-demo", "ent-demo", "query_code", "91330100MA2TB00014"}) {
    EXPECT_FALSE(Contains(tracked.body, secret)) << secret;
  }
  ExpectProblem(api().Get("/v1/track/" + created.doc.value("number", "") + "?code=WRONG234"), 404,
                "not-found");
  // A part's own number and code track the part.
  Reply part_track = api().Get("/v1/track/" + child.doc.value("number", "") +
                               "?code=" + child.doc.value("query_code", ""));
  ASSERT_EQ(part_track.status, 200) << part_track;
  EXPECT_EQ(part_track.doc["bundle"], created.doc["number"]);

  // Only the bundle's actions; the applicant supplies the notice once, on the bundle.
  ExpectProblem(api().Act(bundle, kApplicant, "accept"), 422, "unknown-action");
  ExpectProblem(
      api().Act(bundle, kOtherApplicant, "supply_correction", {{"materials", {"articles"}}}), 404,
      "not-found");
  ExpectInvalidAt(api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"nope"}}}),
                  "/data/materials/0");
  Reply supplied =
      api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"articles"}}});
  ASSERT_EQ(supplied.status, 200) << supplied;
  EXPECT_EQ(supplied.doc["status"], "submitted");
  EXPECT_EQ(supplied.doc["correction_notice"]["materials"], json::array());
  Reply resubmitted = api().Get("/v1/cases/" + registration, kClerk);
  EXPECT_EQ(resubmitted.doc["status"], "submitted");
  bool has_articles = false;
  for (const json& m : resubmitted.doc["materials"])
    has_articles = has_articles || m == "articles";
  EXPECT_TRUE(has_articles) << resubmitted.doc["materials"];
  ExpectProblem(api().Act(bundle, kApplicant, "supply_correction", {{"materials", {"articles"}}}),
                409, "not-available");

  // The bureau accepts; the city bureau reviews and decides (two people). The parts that waited
  // for registration are due now, but need the credit code registration has just given: they
  // await the applicant's input, which the applicant supplies on the bundle.
  ASSERT_EQ(api().Act(registration, kClerk, "accept").status, 200);
  ASSERT_EQ(api().Act(registration, kAmr, "pass").status, 200);
  Reply approved = api().Act(registration, kAmrApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  Reply awaiting = api().Get("/v1/cases/" + bundle, kApplicant);
  EXPECT_EQ(awaiting.doc["status"], "correction_pending");
  EXPECT_EQ(ActionIds(awaiting), (std::set<std::string>{"supply_form", "withdraw"}));
  for (const json& p : awaiting.doc["parts"]) {
    if (p["part"] == "registration" || p.value("status", "") == "not_applicable") continue;
    SCOPED_TRACE(p.dump());
    EXPECT_EQ(p["status"], "awaiting_input");
    EXPECT_TRUE(Contains(p.value("note", ""), "credit_code"));
  }
  ExpectInvalidAt(api().Act(bundle, kApplicant, "supply_form", {{"form", {{"colour", "red"}}}}),
                  "/data/form/colour");
  Reply supplied_form = api().Act(bundle, kApplicant, "supply_form",
                                  {{"form", {{"credit_code", "91330100MA2TB0003X"}}}});
  ASSERT_EQ(supplied_form.status, 200) << supplied_form;
  Reply running = api().Get("/v1/cases/" + bundle, kClerk);
  EXPECT_EQ(running.doc["status"], "in_progress");
  parts.clear();
  for (const json& p : running.doc["parts"])
    parts[p.value("part", "")] = p;
  EXPECT_EQ(parts["registration"]["status"], "approved");
  EXPECT_EQ(parts["registration"]["decision"], "approve");
  for (const char* released : {"seal", "invoice", "social_insurance"}) {
    SCOPED_TRACE(released);
    EXPECT_EQ(parts[released]["status"], "submitted");
    EXPECT_FALSE(parts[released].value("case_id", "").empty());
  }
  // A part's result is delivered with the bundle, never alone.
  Reply alone = api().Act(registration, kClerk, "deliver");
  ExpectProblem(alone, 409, "not-available");
  EXPECT_TRUE(Contains(Detail(alone), "bundle")) << alone;
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + registration, kClerk)).count("deliver"), 0u);
  ExpectProblem(api().Act(bundle, kClerk, "deliver"), 409, "not-available");  // not ready yet

  // Every part appears in tracking; the bundle's history records every change and verifies.
  Reply later = api().Get(track);
  EXPECT_EQ(later.doc["parts"][0]["status"], "approved");
  EXPECT_EQ(later.doc["parts"][0]["decision"], "approve");
  EXPECT_EQ(later.doc["parts"][1]["status"], "submitted");
  json events = History(bundle);
  EXPECT_EQ(events[0]["action"], "submit");
  bool part_changed = false;
  bool supply = false;
  for (const json& e : events) {
    part_changed = part_changed || e["action"] == "part_changed";
    supply = supply || e["action"] == "supply_correction";
  }
  EXPECT_TRUE(part_changed && supply);
  EXPECT_EQ(api().Get("/v1/cases/" + bundle + "/verify", kAuditor).doc["ok"], true);
  EXPECT_EQ(api().Get("/v1/cases/" + registration + "/verify", kAuditor).doc["ok"], true);
  // The bundle is listed with the applicant's cases.
  bool listed = false;
  Reply own = api().Get("/v1/cases", kApplicant);
  for (const json& c : own.doc["cases"])
    listed = listed || (c["id"] == bundle && c["kind"] == "bundle");
  EXPECT_TRUE(listed);
}

TEST_F(ApiTest, RefusedBundlePartBlocksItsDependents) {
  Reply created = Create(kApplicant, NewStartup());
  const std::string bundle = created.doc.value("id", "");
  const std::string registration = created.doc["parts"][0].value("case_id", "");
  Reply refused =
      api().Act(registration, kClerk, "refuse", {{"reason", "企业名称与已登记企业重名"}});
  ASSERT_EQ(refused.status, 200) << refused;
  EXPECT_EQ(refused.doc["status"], "not_accepted");

  Reply ready = api().Get("/v1/cases/" + bundle, kClerk);
  ASSERT_EQ(ready.status, 200) << ready;
  EXPECT_EQ(ready.doc["status"], "ready");
  EXPECT_EQ(ready.doc["outcome"], "none");
  std::map<std::string, std::string> status;
  for (const json& p : ready.doc["parts"])
    status[p.value("part", "")] = p.value("status", "");
  EXPECT_EQ(status, (std::map<std::string, std::string>{{"registration", "not_accepted"},
                                                        {"seal", "blocked"},
                                                        {"invoice", "blocked"},
                                                        {"social_insurance", "blocked"},
                                                        {"medical_insurance", "blocked"},
                                                        {"bank_account", "not_applicable"},
                                                        {"housing_fund", "not_applicable"}}));
  EXPECT_EQ(ActionIds(ready), std::set<std::string>{"deliver"});
  Reply tracked = api().Get("/v1/track/" + created.doc.value("number", "") +
                            "?code=" + created.doc.value("query_code", ""));
  EXPECT_EQ(tracked.doc["parts"][1]["status"], "blocked");

  // The lead organ's clerk delivers the results together; the applicant cannot.
  ExpectProblem(api().Act(bundle, kApplicant, "deliver"), 403, "forbidden");
  ExpectProblem(api().Act(bundle, kApplicant, "withdraw"), 409, "not-available");
  Reply delivered = api().Act(bundle, kClerk, "deliver");
  ASSERT_EQ(delivered.status, 200) << delivered;
  EXPECT_EQ(delivered.doc["status"], "delivered");
  EXPECT_TRUE(delivered.doc["delivered_at"].is_string());
  EXPECT_EQ(api().Get("/v1/cases/" + bundle + "/verify", kAuditor).doc["ok"], true);
}

TEST_F(ApiTest, WithdrawingABundleWithdrawsItsOpenParts) {
  Reply created = Create(kApplicant, NewStartup());
  const std::string bundle = created.doc.value("id", "");
  const std::string registration = created.doc["parts"][0].value("case_id", "");
  ExpectProblem(api().Act(bundle, kClerk, "withdraw"), 403, "forbidden");
  Reply withdrawn =
      api().Act(bundle, kApplicant, "withdraw", json::object(), {{"If-Match", "\"1\""}});
  ASSERT_EQ(withdrawn.status, 200) << withdrawn;
  EXPECT_EQ(withdrawn.doc["status"], "withdrawn");
  EXPECT_EQ(api().Get("/v1/cases/" + registration, kApplicant).doc["status"], "withdrawn");
  for (const json& p : withdrawn.doc["parts"]) {
    if (p["applies"] == true) {
      EXPECT_EQ(p["status"], "withdrawn") << p;
    }
  }
  ExpectProblem(api().Act(bundle, kApplicant, "withdraw", json::object(), {{"If-Match", "\"1\""}}),
                412, "stale-version");
}

}  // namespace
}  // namespace tongban::api::api_test
