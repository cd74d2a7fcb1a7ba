// API tests of ratings (好差评, POST /v1/cases/{id}/rating and the actions "rate" and
// "answer_rating"), over real HTTP with the demo principals: who may rate (the applicant, an agent
// under a mandate; 403 for staff, 404 for another applicant), when (409 while open and once
// rated), what (422 naming /score or /comment), the rating in the case's hash chain, and a bad
// rating's rectification with its own working-day clock, answered by the organ or marked overdue
// by the timer. The indicators' ratings are checked against the events in audit_api_test.cc.
#include <string>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

class RatingsApiTest : public ApiTest {
 protected:
  // A construction permit approved on Monday 2026-03-02 (kStart), not yet delivered.
  std::string Approved() {
    std::string id = AtDecision();
    Reply r = api().Act(id, kApprover, "approve");
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.doc.value("status", ""), "approved");
    return id;
  }
  Reply Rate(const std::string& id, const std::string& token, const json& body) {
    return api().Post("/v1/cases/" + id + "/rating", token, body);
  }
  // The events of `action` in the case's history.
  int Count(const std::string& id, const std::string& action) {
    int n = 0;
    for (const json& e : History(id))
      n += e.value("action", "") == action ? 1 : 0;
    return n;
  }
  void AdvanceDays(int days) {
    Reply r = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", days}}}});
    ASSERT_EQ(r.status, 200) << r;
  }
};

std::string Repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i)
    out += text;
  return out;
}

TEST_F(RatingsApiTest, TheApplicantRatesAClosedCaseOnceAndEveryoneElseIsRefused) {
  // Open: not yet.
  std::string open = UnderReview();
  ExpectProblem(Rate(open, kApplicant, {{"score", 5}}), 409, "not-available");
  EXPECT_EQ(Count(open, "rate"), 0);

  std::string id = Approved();
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kApplicant)).count("rate"), 1u);
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kClerk)).count("rate"), 0u);
  ExpectProblem(Rate(id, "", {{"score", 5}}), 401, "unauthenticated");
  ExpectProblem(Rate(id, kClerk, {{"score", 5}}), 403, "forbidden");
  ExpectProblem(Rate(id, kApprover, {{"score", 5}}), 403, "forbidden");
  ExpectProblem(Rate(id, kAuditor, {{"score", 5}}), 403, "forbidden");
  ExpectProblem(Rate(id, kOtherApplicant, {{"score", 5}}), 404, "not-found");
  ExpectProblem(Rate("no-such-case", kApplicant, {{"score", 5}}), 404, "not-found");
  ExpectProblem(api().PostRaw("/v1/cases/" + id + "/rating", kApplicant, "{"), 400,
                "malformed-json");
  // What is rated: a whole number 1..5, a comment of at most 500 characters, nothing else.
  for (const json& score : {json(0), json(6), json("5"), json(4.5), json(nullptr)})
    ExpectInvalidAt(Rate(id, kApplicant, {{"score", score}}), "/score");
  ExpectInvalidAt(Rate(id, kApplicant, {{"comment", "很好"}}), "/score");
  ExpectInvalidAt(Rate(id, kApplicant, {{"score", 4}, {"comment", Repeat("好", 501)}}), "/comment");
  ExpectInvalidAt(Rate(id, kApplicant, {{"score", 4}, {"comment", 4}}), "/comment");
  ExpectInvalidAt(Rate(id, kApplicant, {{"score", 4}, {"stars", 4}}), "/stars");
  // The same action through /actions points into its data.
  ExpectInvalidAt(api().Act(id, kApplicant, "rate", {{"score", 9}}), "/data/score");
  // The rating's comment is the action's one comment: given twice, differently, neither wins.
  ExpectInvalidAt(
      api().Post(
          "/v1/cases/" + id + "/actions", kApplicant,
          {{"action", "rate"}, {"data", {{"score", 4}, {"comment", "好"}}}, {"comment", "差"}}),
      "/comment");
  EXPECT_EQ(Count(id, "rate"), 0) << "a refused rating stored something";

  const std::string comment = Repeat("好", 500);
  Reply rated = Rate(id, kApplicant, {{"score", 4}, {"comment", comment}});
  ASSERT_EQ(rated.status, 201) << rated;
  EXPECT_EQ(rated.doc["status"], "approved");  // a rating changes no status
  EXPECT_EQ(rated.doc["rating"]["score"], 4);
  EXPECT_EQ(rated.doc["rating"]["comment"], comment);
  EXPECT_EQ(rated.doc["rating"]["rated_by"], "ent-demo");
  EXPECT_TRUE(rated.doc["rating"]["rectification"].is_null()) << rated;
  EXPECT_TRUE(rated.doc["clock"]["rectification"].is_null()) << rated;
  EXPECT_EQ(ActionIds(rated).count("rate"), 0u);
  // Once.
  ExpectProblem(Rate(id, kApplicant, {{"score", 1}}), 409, "not-available");
  ExpectProblem(api().Act(id, kApplicant, "rate", {{"score", 1}}), 409, "not-available");
  // A good rating opens nothing to answer.
  ExpectProblem(api().Act(id, kApprover, "answer_rating", {{"answer", "无"}}), 409,
                "not-available");

  // In the hash chain: one event, the score and comment under its hash; the case verifies.
  json events = History(id);
  const json& last = events.back();
  EXPECT_EQ(last["action"], "rate");
  EXPECT_EQ(last["actor"]["id"], "ent-demo");
  EXPECT_EQ(last["data"]["score"], 4);
  EXPECT_EQ(last["data"]["comment"], comment);
  EXPECT_EQ(Count(id, "rate"), 1);
  Reply verify = api().Get("/v1/cases/" + id + "/verify", kAuditor);
  ASSERT_EQ(verify.status, 200) << verify;
  EXPECT_EQ(verify.doc["ok"], true) << verify;
  // The stored snapshot keeps it: a fresh read shows the same rating.
  EXPECT_EQ(api().Get("/v1/cases/" + id, kApplicant).doc["rating"], rated.doc["rating"]);
}

TEST_F(RatingsApiTest, AWithdrawnCaseIsRatedAndABundleCaseIsRatedByItsParts) {
  std::string id = Submitted();
  ASSERT_EQ(api().Act(id, kApplicant, "withdraw").status, 200);
  Reply rated = Rate(id, kApplicant, {{"score", 3}});
  EXPECT_EQ(rated.status, 201) << rated;
  std::string bundle = CreateId(kApplicant, NewStartup());
  ExpectProblem(Rate(bundle, kApplicant, {{"score", 3}}), 409, "not-available");
  ExpectProblem(api().Act(bundle, kApplicant, "rate", {{"score", 3}}), 409, "not-available");
  ExpectProblem(Rate(bundle, kOtherApplicant, {{"score", 3}}), 404, "not-found");
}

TEST_F(RatingsApiTest, AnAgentRatesUnderAMandateAndNotWithout) {
  std::string id = Approved();
  // No mandate: the agent does not even see the case.
  ExpectProblem(Rate(id, kAgent, {{"score", 5}}), 404, "not-found");
  Reply mandate = api().Post("/v1/mandates", kApplicant,
                             {{"agent", "agent-demo"}, {"definitions", {"construction-permit"}}});
  ASSERT_EQ(mandate.status, 201) << mandate;
  Reply rated = Rate(id, kAgent, {{"score", 5}, {"comment", "帮办代办很省心"}});
  ASSERT_EQ(rated.status, 201) << rated;
  EXPECT_EQ(rated.doc["rating"]["rated_by"], "agent-demo");
  const json last = History(id).back();
  EXPECT_EQ(last["actor"]["role"], "agent");
  EXPECT_EQ(last["data"]["on_behalf_of"], "ent-demo");
  ExpectProblem(Rate(id, kApplicant, {{"score", 1}}), 409, "not-available");
}

// Rated 1 on Monday 2026-03-02: the rectification is due on the 5th working day after, Monday
// 2026-03-09 (no holiday between); yellow on that day, red from the next, when the timer records
// it; the organ's answer comes late and the clock keeps it red.
TEST_F(RatingsApiTest, ABadRatingOpensARectificationWithItsOwnWorkingDayClock) {
  std::string id = Approved();
  const json light_before = api().Get("/v1/cases/" + id, kApplicant).doc["clock"]["light"];
  Reply rated = Rate(id, kApplicant, {{"score", 1}, {"comment", "材料反复退回"}});
  ASSERT_EQ(rated.status, 201) << rated;
  EXPECT_EQ(rated.doc["rating"]["rectification"]["due"], "2026-03-09") << rated;
  EXPECT_TRUE(rated.doc["rating"]["rectification"]["answered_at"].is_null()) << rated;
  const json& clock = rated.doc["clock"]["rectification"];
  EXPECT_EQ(clock["due"], "2026-03-09") << rated;
  EXPECT_EQ(clock["limit_days"], 5);
  EXPECT_EQ(clock["days_left"], 5);
  EXPECT_EQ(clock["light"], "green");
  EXPECT_EQ(clock["overdue"], false);
  // The case's own light is not the rectification's.
  EXPECT_EQ(rated.doc["clock"]["light"], light_before);

  // Who answers: staff of the organ with jurisdiction, not the applicant.
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kApprover)).count("answer_rating"), 1u);
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kApplicant)).count("answer_rating"), 0u);
  ExpectProblem(api().Act(id, kApplicant, "answer_rating", {{"answer", "已整改"}}), 403,
                "forbidden");
  ExpectProblem(api().Act(id, kForeignClerk, "answer_rating", {{"answer", "已整改"}}), 404,
                "not-found");
  ExpectInvalidAt(api().Act(id, kApprover, "answer_rating", {{"answer", ""}}), "/data/answer");

  AdvanceDays(7);  // Monday 2026-03-09: the last day
  Reply last_day = api().Get("/v1/cases/" + id, kApprover);
  EXPECT_EQ(last_day.doc["clock"]["rectification"]["days_left"], 0) << last_day;
  EXPECT_EQ(last_day.doc["clock"]["rectification"]["light"], "yellow") << last_day;
  EXPECT_EQ(Count(id, "mark_rectification_overdue"), 0);

  AdvanceDays(1);  // Tuesday 2026-03-10: overdue, recorded by the timer
  EXPECT_EQ(Count(id, "mark_rectification_overdue"), 1);
  Reply late = api().Get("/v1/cases/" + id, kApprover);
  EXPECT_EQ(late.doc["clock"]["rectification"]["light"], "red") << late;
  EXPECT_EQ(late.doc["clock"]["rectification"]["overdue"], true);
  EXPECT_EQ(late.doc["rating"]["rectification"]["overdue_recorded"], true);

  Reply answered =
      api().Act(id, kApprover, "answer_rating", {{"answer", "已电话回访，补正告知改为一次性告知"}});
  ASSERT_EQ(answered.status, 200) << answered;
  EXPECT_EQ(answered.doc["status"], "approved");
  EXPECT_EQ(answered.doc["rating"]["rectification"]["answer"],
            "已电话回访，补正告知改为一次性告知");
  EXPECT_FALSE(answered.doc["rating"]["rectification"]["answered_at"].is_null());
  EXPECT_EQ(answered.doc["clock"]["rectification"]["answered"], true);
  EXPECT_EQ(answered.doc["clock"]["rectification"]["light"], "red");
  EXPECT_EQ(ActionIds(answered).count("answer_rating"), 0u);
  ExpectProblem(api().Act(id, kApprover, "answer_rating", {{"answer", "再次答复"}}), 409,
                "not-available");
  AdvanceDays(30);  // nothing further fires
  EXPECT_EQ(Count(id, "mark_rectification_overdue"), 1);
  Reply verify = api().Get("/v1/cases/" + id + "/verify", kAuditor);
  EXPECT_EQ(verify.doc["ok"], true) << verify;
}

}  // namespace
}  // namespace tongban::api::api_test
