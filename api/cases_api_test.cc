// API tests of /v1/cases for item cases (cases_routes.cc): creating (and the checks of the
// request), reading, listing and counting. Acting on a case is in case_actions_api_test.cc.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

// ---- Creating cases and request validation ------------------------------------------------------

TEST_F(ApiTest, CreateCaseByApplicant) {
  Reply r = Create();
  const std::string id = r.doc.value("id", "");
  ASSERT_FALSE(id.empty()) << r;
  EXPECT_EQ(r.Header("Location"), "/v1/cases/" + id);
  EXPECT_EQ(r.Header("ETag"), "\"1\"");
  EXPECT_EQ(r.ContentType(), "application/json");
  EXPECT_EQ(r.doc["status"], "submitted");
  EXPECT_EQ(r.doc["version"], 1);
  EXPECT_EQ(r.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(r.doc["applicant"]["credit_code"], "91330100MA2TB00014");
  EXPECT_EQ(r.doc["organ"], "dz-approval-bureau");
  EXPECT_EQ(r.doc["definition"]["title"], "建筑工程施工许可");
  EXPECT_FALSE(r.doc.contains("last_hash"));
  EXPECT_TRUE(std::regex_match(r.doc.value("number", ""), std::regex("TB20260302-[0-9]{8}")))
      << r.doc["number"];
  std::set<std::string> actions;
  for (const json& a : r.doc["available_actions"])
    actions.insert(a.value("action", ""));
  EXPECT_EQ(actions, (std::set<std::string>{"withdraw", "supply_materials"}));

  Reply got = api().Get(r.Header("Location"), kApplicant);
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.Header("ETag"), "\"1\"");
  EXPECT_EQ(got.doc["id"], id);
  // The clerk is offered what a clerk may do.
  actions.clear();
  Reply clerk_view = api().Get("/v1/cases/" + id, kClerk);
  std::map<std::string, json> offered;
  for (const json& a : clerk_view.doc["available_actions"]) {
    actions.insert(a.value("action", ""));
    offered[a.value("action", "")] = a;
  }
  EXPECT_EQ(actions,
            (std::set<std::string>{"accept", "request_correction", "refuse", "supply_materials"}));
  // The button's text is the frame table's Chinese title; what it does is the description.
  EXPECT_EQ(offered["accept"]["title"], "受理");
  EXPECT_EQ(offered["request_correction"]["title"], "一次性告知补正");
  EXPECT_EQ(offered["accept"]["description"], "accept the application (受理); starts the clock");
}

TEST_F(ApiTest, CreateCaseAtTheWindow) {
  json body = NewPermit();
  body["applicant"] = {
      {"id", "ent-walkin"}, {"name", "到窗口的企业"}, {"credit_code", "91330100MA2TB00014"}};
  Reply r = Create(kClerk, body);
  EXPECT_EQ(r.doc["applicant"]["id"], "ent-walkin");
  json events = History(r.doc.value("id", ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"]["id"], "clerk-demo");
  EXPECT_EQ(events[0]["actor"]["role"], "clerk");

  // A clerk names the applicant; an applicant does not.
  ExpectProblem(api().Post("/v1/cases", kClerk, NewPermit()), 422, "invalid");
  ExpectProblem(api().Post("/v1/cases", kApplicant, body), 422, "invalid");
  json bad_code = body;
  bad_code["applicant"]["credit_code"] = "123";
  ExpectProblem(api().Post("/v1/cases", kClerk, bad_code), 422, "invalid");
  json extra = body;
  extra["applicant"]["phone"] = "110";
  ExpectInvalidAt(api().Post("/v1/cases", kClerk, extra), "/applicant/phone");
  // Only applicants and clerks submit; a clerk only for items its organ implements.
  for (const char* token : {kReviewer, kApprover, kAuditor, kAdmin}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/cases", token, body), 403, "forbidden");
  }
  ExpectProblem(api().Post("/v1/cases", kForeignClerk, body), 403, "forbidden");
}

TEST_F(ApiTest, CreateCaseValidation) {
  // Unknown members are refused with a pointer.
  json unknown = NewPermit();
  unknown["colour"] = "red";
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, unknown), "/colour");
  // Wrong types.
  struct Case {
    const char* member;
    json value;
  };
  for (const Case& c : std::vector<Case>{{"definition", 5},
                                         {"version", "1"},
                                         {"version", 0},
                                         {"version", -1},
                                         {"version", 1.5},
                                         {"form", json::array()},
                                         {"materials", "application_form"},
                                         {"mode", true},
                                         {"commitment", 1}}) {
    SCOPED_TRACE(std::string(c.member) + " = " + c.value.dump());
    json body = NewPermit();
    body[c.member] = c.value;
    ExpectInvalidAt(api().Post("/v1/cases", kApplicant, body), std::string("/") + c.member);
  }
  // Missing members.
  json missing = NewPermit();
  missing.erase("definition");
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, missing), "/definition");
  // Not an object.
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, "[1, 2]"), 422, "invalid");
  ExpectProblem(api().PostRaw("/v1/cases", kApplicant, "\"construction-permit\""), 422, "invalid");
  // Rules of the item: the form, the mode. Each refusal points at the member it refuses (a form
  // field by its id, escaped as RFC 6901 says).
  json form = NewPermit();
  form["form"].erase("project_name");
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, form), "/form/project_name");
  json unknown_field = NewPermit();
  unknown_field["form"]["floors/above~ground"] = 3;
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, unknown_field),
                  "/form/floors~1above~0ground");
  json mode = NewPermit();
  mode["mode"] = "express";
  ExpectInvalidAt(api().Post("/v1/cases", kApplicant, mode), "/mode");
  // Unknown items and versions.
  json nothing = NewPermit();
  nothing["definition"] = "no-such-item";
  ExpectProblem(api().Post("/v1/cases", kApplicant, nothing), 404, "not-found");
  json v9 = NewPermit();
  v9["version"] = 9;
  ExpectProblem(api().Post("/v1/cases", kApplicant, v9), 404, "not-found");
  // Nothing of that was stored.
  Reply list = api().Get("/v1/cases", kAuditor);
  EXPECT_EQ(list.doc["cases"].size(), 0u) << list;
}

// ---- Reading cases ------------------------------------------------------------------------------

TEST_F(ApiTest, GetCaseAsItStoodThen) {
  std::string id = Submitted();  // 09:00
  Reply moved = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 1}}}});
  ASSERT_EQ(moved.status, 200) << moved;
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);  // 10:00
  api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 1}}}});
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);  // 11:00

  Reply now = api().Get("/v1/cases/" + id, kApplicant);
  EXPECT_EQ(now.doc["status"], "under_review");
  EXPECT_EQ(now.doc["step"], "decide");
  EXPECT_EQ(now.Header("ETag"), "\"3\"");

  Reply before_accept =
      api().Get("/v1/cases/" + id + "?at=2026-03-02T09:30:00%2B08:00", kApplicant);
  ASSERT_EQ(before_accept.status, 200) << before_accept;
  EXPECT_EQ(before_accept.doc["status"], "submitted");
  EXPECT_EQ(before_accept.doc["version"], 1);
  EXPECT_EQ(before_accept.doc["step"], nullptr);
  EXPECT_EQ(before_accept.Header("ETag"), "\"1\"");
  EXPECT_EQ(before_accept.doc["as_of"], "2026-03-02T01:30:00.000Z");

  Reply in_review = api().Get("/v1/cases/" + id + "?at=2026-03-02T02:30:00Z", kClerk);
  ASSERT_EQ(in_review.status, 200) << in_review;
  EXPECT_EQ(in_review.doc["status"], "under_review");
  EXPECT_EQ(in_review.doc["step"], "review");
  EXPECT_EQ(in_review.doc["version"], 2);

  // Before the case existed, and not a time at all.
  ExpectProblem(api().Get("/v1/cases/" + id + "?at=2026-03-01T09:00:00%2B08:00", kApplicant), 404,
                "not-found");
  for (const char* bad : {"yesterday", "2026-03-02", "2026-03-02T09:00:00"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Get("/v1/cases/" + id + "?at=" + bad, kApplicant), 422, "invalid");
  }
  // Another applicant cannot look into the past either.
  ExpectProblem(api().Get("/v1/cases/" + id + "?at=2026-03-02T02:30:00Z", kOtherApplicant), 404,
                "not-found");
  ExpectProblem(api().Get("/v1/cases/c0000000000000000000", kApplicant), 404, "not-found");
}

TEST_F(ApiTest, HistoryIsHashChainedAndVerifies) {
  std::string id = AtDecision();
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["status"], "approved");
  EXPECT_EQ(approved.doc["decision"], "approve");
  EXPECT_EQ(approved.Header("ETag"), "\"4\"");

  Reply r = api().Get("/v1/cases/" + id + "/history", kApplicant);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.doc["case_id"], id);
  const json& events = r.doc["events"];
  ASSERT_EQ(events.size(), 4u);
  const std::vector<std::string> actions = {"submit", "accept", "pass", "approve"};
  std::string previous(64, '0');
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i]["seq"], i + 1);
    EXPECT_EQ(events[i]["action"], actions[i]);
    EXPECT_EQ(events[i]["case_id"], id);
    EXPECT_EQ(events[i]["prev_hash"], previous);
    std::string hash = events[i].value("hash", "");
    EXPECT_TRUE(std::regex_match(hash, std::regex("[0-9a-f]{64}"))) << hash;
    EXPECT_NE(hash, previous);
    previous = hash;
  }
  EXPECT_EQ(events[3]["status"], "approved");
  EXPECT_EQ(events[1]["actor"]["id"], "clerk-demo");

  Reply verify = api().Get("/v1/cases/" + id + "/verify", kAuditor);
  ASSERT_EQ(verify.status, 200) << verify;
  EXPECT_EQ(verify.doc["ok"], true) << verify;
  EXPECT_EQ(verify.doc["events"], 4);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kApplicant).doc["ok"], true);
  ExpectProblem(api().Get("/v1/cases/" + id + "/verify", kOtherApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/nope/verify", kAuditor), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/nope/history", kAuditor), 404, "not-found");
}

TEST_F(ApiTest, ListCasesScopeFiltersAndPaging) {
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i)
    mine.push_back(Submitted());
  std::string other = Create(kOtherApplicant).doc.value("id", "");
  ASSERT_EQ(api().Act(mine[0], kClerk, "accept").status, 200);
  api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"hours", 2}}}});
  std::string later = Submitted();
  mine.push_back(later);

  auto ids = [](const Reply& r) {
    std::set<std::string> out;
    for (const json& c : r.doc["cases"])
      out.insert(c.value("id", ""));
    return out;
  };
  // Applicants see their own cases only, whatever they ask for.
  Reply own = api().Get("/v1/cases", kApplicant);
  ASSERT_EQ(own.status, 200) << own;
  EXPECT_EQ(ids(own), std::set<std::string>(mine.begin(), mine.end()));
  EXPECT_EQ(own.doc["next_cursor"], nullptr);
  EXPECT_EQ(ids(api().Get("/v1/cases?applicant=ent-other", kApplicant)),
            std::set<std::string>(mine.begin(), mine.end()));
  EXPECT_EQ(ids(api().Get("/v1/cases", kOtherApplicant)), std::set<std::string>{other});
  // Staff see their organ's; a clerk of another organ sees none of them.
  EXPECT_EQ(ids(api().Get("/v1/cases", kClerk)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases", kAuditor)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases", kForeignClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=dz-approval-bureau", kForeignClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=other-organ", kClerk)).size(), 0u);
  EXPECT_EQ(ids(api().Get("/v1/cases?organ=dz-approval-bureau", kAuditor)).size(), 5u);

  // Filters.
  EXPECT_EQ(ids(api().Get("/v1/cases?status=under_review", kClerk)),
            std::set<std::string>{mine[0]});
  EXPECT_EQ(ids(api().Get("/v1/cases?status=submitted&applicant=ent-other", kClerk)),
            std::set<std::string>{other});
  EXPECT_EQ(ids(api().Get("/v1/cases?definition=construction-permit", kClerk)).size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases?definition=seal-engraving-filing", kAuditor)).size(), 0u);
  // The light filter returns exactly the cases with that light; every case has one light.
  std::set<std::string> lit;
  for (const char* light : {"green", "yellow", "red"}) {
    Reply r = api().Get(std::string("/v1/cases?light=") + light, kClerk);
    ASSERT_EQ(r.status, 200) << r;
    for (const json& c : r.doc["cases"]) {
      EXPECT_EQ(c["clock"]["light"], light) << c["id"];
      EXPECT_TRUE(lit.insert(c.value("id", "")).second);
    }
  }
  EXPECT_EQ(lit.size(), 5u);
  EXPECT_EQ(ids(api().Get("/v1/cases?created_from=2026-03-02T10:00:00%2B08:00", kClerk)),
            std::set<std::string>{later});
  EXPECT_EQ(ids(api().Get("/v1/cases?created_to=2026-03-02T10:00:00%2B08:00", kClerk)).size(), 4u);
  for (const char* bad : {"status=pending", "light=blue", "limit=0", "limit=501", "limit=x",
                          "created_from=monday", "created_to=2026-13-01T00:00:00Z"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Get(std::string("/v1/cases?") + bad, kClerk), 422, "invalid");
  }

  // Paging with the cursor visits every case once.
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    Reply r = api().Get("/v1/cases?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), kClerk);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.doc["cases"].size(), 2u);
    for (const std::string& id : ids(r))
      EXPECT_TRUE(seen.insert(id).second) << id << " twice";
    if (r.doc["next_cursor"].is_null()) break;
    cursor = r.doc["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen.size(), 5u);
}

// The workbench's counts: the list's scope and filters, counted by status, light, item and organ.
// The bureau implements the permit and holds the food licence by delegation; city-amr implements
// the food licence only: the two organs' staff count different cases.
TEST_F(ApiTest, CaseCountsFollowTheCallersScope) {
  std::string accepted = UnderReview();
  Submitted();
  Submitted();
  Create(kApplicant, NewFood());
  auto counts = [&](const std::string& token, const std::string& query = "") {
    Reply r = api().Get("/v1/cases/counts" + query, token);
    EXPECT_EQ(r.status, 200) << r;
    int64_t lit = 0;
    for (const auto& [light, n] : r.doc["by_light"].items())
      lit += n.get<int64_t>();
    EXPECT_EQ(lit, r.doc.value("total", -1)) << r;  // every case has one light
    EXPECT_EQ(r.doc["complete"], true);
    return r.doc;
  };
  auto listed = [&](const std::string& token, const std::string& query) {
    return api().Get("/v1/cases?limit=500" + query, token).doc["cases"].size();
  };
  json bureau = counts(kClerk);
  EXPECT_EQ(bureau["total"], 4) << bureau;
  EXPECT_EQ(bureau["by_definition"],
            json({{"construction-permit", 3}, {"food-business-licence", 1}}));
  EXPECT_EQ(bureau["by_organ"], json({{"dz-approval-bureau", 3}, {"city-amr", 1}}));
  EXPECT_EQ(bureau["by_status"], json({{"submitted", 3}, {"under_review", 1}}));
  // The accepted permit has 3 promised days left, at the item's yellow threshold.
  EXPECT_EQ(bureau["by_light"], json({{"green", 3}, {"yellow", 1}, {"red", 0}}));
  EXPECT_EQ(bureau["titles"]["status"]["under_review"], "审查中");
  EXPECT_EQ(bureau["titles"]["definition"]["construction-permit"], "建筑工程施工许可");
  EXPECT_EQ(bureau["titles"]["organ"]["city-amr"], kAmrName);
  EXPECT_EQ(bureau["titles"]["organ"]["dz-approval-bureau"], kBureauName);
  json amr = counts(kAmr);
  EXPECT_EQ(amr["total"], 1) << amr;
  EXPECT_EQ(amr["by_definition"], json({{"food-business-licence", 1}}));
  EXPECT_EQ(amr["by_organ"], json({{"city-amr", 1}}));
  EXPECT_EQ(amr["total"], listed(kAmr, ""));
  EXPECT_EQ(bureau["total"], listed(kClerk, ""));
  // Applicants count their own; a clerk of another organ counts nothing.
  EXPECT_EQ(counts(kApplicant)["total"], 4);
  json none = counts(kForeignClerk);
  EXPECT_EQ(none["total"], 0);
  EXPECT_EQ(none["by_status"], json::object());
  EXPECT_EQ(none["by_light"], json({{"green", 0}, {"yellow", 0}, {"red", 0}}));
  // The list's filters, and its refusals.
  EXPECT_EQ(counts(kClerk, "?status=under_review")["by_definition"],
            json({{"construction-permit", 1}}));
  EXPECT_EQ(counts(kClerk, "?definition=food-business-licence")["total"], 1);
  EXPECT_EQ(counts(kClerk, "?light=yellow")["by_definition"], json({{"construction-permit", 1}}));
  EXPECT_EQ(counts(kClerk, "?light=red")["total"], 0);
  EXPECT_EQ(counts(kClerk, "?organ=city-amr")["total"], listed(kClerk, "&organ=city-amr"));
  ExpectProblem(api().Get("/v1/cases/counts?status=pending", kClerk), 422, "invalid");
  ExpectProblem(api().Get("/v1/cases/counts"), 401, "unauthenticated");
  // "counts" is no case id: the case route still answers for real ids.
  EXPECT_EQ(api().Get("/v1/cases/" + accepted, kClerk).status, 200);
}

}  // namespace
}  // namespace tongban::api::api_test
