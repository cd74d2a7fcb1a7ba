// API tests of the audit queries and the indicators (audit_routes.cc), over real HTTP with the
// demo principals: who may ask (403 for the rest), each query's answer, the CSV shape, the actor's
// name recorded on the event, the channel of each application, and the indicators (赛马) against
// figures counted here from the events of every case, ratings (好差评) included.
#include <cmath>
#include <map>
#include <sstream>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

const char* const kAuditRoutes[] = {
    "/v1/audit/late-decisions?month=2026-03", "/v1/audit/cases?month=2026-03",
    "/v1/audit/actors/clerk-demo/actions?month=2026-03",
    "/v1/audit/delegated-actions?month=2026-03", "/v1/audit/verifications?month=2026-03"};

// The CSV lines of a body (RFC 4180 CRLF line ends), split at commas (the fields used here hold
// none).
std::vector<std::vector<std::string>> CsvRows(const std::string& body) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find("\r\n", start);
    if (end == std::string::npos) end = body.size();
    std::vector<std::string> fields;
    std::stringstream line(body.substr(start, end - start));
    for (std::string field; std::getline(line, field, ',');)
      fields.push_back(field);
    // getline drops an empty last field (a rate with nothing to divide by).
    if (end > start && body[end - 1] == ',') fields.push_back("");
    rows.push_back(fields);
    start = end + 2;
  }
  return rows;
}

class AuditApiTest : public ApiTest {
 protected:
  // The cases of the scenario, created in March 2026 (kStart is Monday March 2):
  //  online      a permit applied for online and approved the same day;
  //  window      a permit registered by the clerk at the window, one material missing: a
  //              correction notice, the correction supplied at the window again (two visits);
  //  delegated   a food licence accepted by the bureau under the concentrated delegation, which
  //              the admin then revokes: left under review, overdue once the clock moves on;
  //  commitment  a food licence in commitment mode, decided at acceptance, then verified: breach;
  //  withdrawn   a permit withdrawn by the applicant;
  //  agent       a permit applied for by an agent under a mandate (deemed accepted later);
  //  late        a permit accepted, then left past its statutory limit and approved late.
  void SetUp() override {
    ApiTest::SetUp();
    ids_["online"] = CreateId(kApplicant, NewPermit());
    ASSERT_EQ(api().Act(ids_["online"], kClerk, "accept").status, 200);
    ASSERT_EQ(api().Act(ids_["online"], kReviewer, "pass").status, 200);
    ASSERT_EQ(api().Act(ids_["online"], kApprover, "approve").status, 200);

    json at_window = NewPermit({"quality_safety_measures"});
    at_window["applicant"] = {{"id", "ent-walkin"}, {"name", "窗口来办有限公司"}};
    ids_["window"] = CreateId(kClerk, at_window);
    Reply notice = api().Act(ids_["window"], kClerk, "request_correction",
                             {{"missing", {"quality_safety_measures"}}});
    ASSERT_EQ(notice.status, 200) << notice;
    Reply supplied = api().Act(ids_["window"], kClerk, "supply_correction",
                               {{"materials", {"quality_safety_measures"}}});
    ASSERT_EQ(supplied.status, 200) << supplied;

    ids_["delegated"] = CreateId(kApplicant, NewFood());
    ASSERT_EQ(api().Act(ids_["delegated"], kClerk, "accept").status, 200);
    ids_["commitment"] = CreateId(kApplicant, NewFood("commitment"));
    ASSERT_EQ(api().Act(ids_["commitment"], kClerk, "accept").status, 200);
    Reply breach = api().Act(ids_["commitment"], kVerifier, "verify",
                             {{"result", "breach"}, {"reason", "现场核查：经营场所与承诺不符"}});
    ASSERT_EQ(breach.status, 200) << breach;
    Reply revoked =
        api().Post("/v1/delegations/food-licence-dz-2026/revoke", kAdmin, {{"reason", "赋权调整"}});
    ASSERT_EQ(revoked.status, 200) << revoked;

    ids_["withdrawn"] = CreateId(kApplicant, NewPermit());
    ASSERT_EQ(api().Act(ids_["withdrawn"], kApplicant, "withdraw").status, 200);

    ASSERT_EQ(api()
                  .Post("/v1/mandates", kApplicant,
                        {{"agent", "agent-demo"}, {"definitions", {"construction-permit"}}})
                  .status,
              201);
    json by_agent = NewPermit();
    by_agent["applicant"] = {{"id", "ent-demo"}, {"name", "示例科技有限公司"}};
    ids_["agent"] = CreateId(kAgent, by_agent);

    ids_["late"] = CreateId(kApplicant, NewPermit());
    ASSERT_EQ(api().Act(ids_["late"], kClerk, "accept").status, 200);
    // Three weeks on: the permit's 7 working days have passed (mark_overdue), and the food
    // licence's 10 too.
    ASSERT_EQ(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 21}}}}).status, 200);
    ASSERT_EQ(api().Act(ids_["late"], kReviewer, "pass").status, 200);
    ASSERT_EQ(api().Act(ids_["late"], kApprover, "approve").status, 200);
  }

  // Every event of every case of the scenario, by case.
  std::map<std::string, json> AllHistories() {
    std::map<std::string, json> out;
    for (const auto& [name, id] : ids_)
      out[id] = History(id);
    return out;
  }

  struct Expected {
    std::map<std::string, int64_t> counts;
  };
  // What each item's cases, and all of them, count for, computed from their events alone.
  std::map<std::string, Expected> ExpectedByItem(Expected* total_out) {
    std::map<std::string, Expected> by_item;
    Expected& total = *total_out;
    for (const auto& [id, events] : AllHistories()) {
      std::map<std::string, int64_t> c;
      const json& submit = events[0];
      const std::string role = submit["actor"]["role"];
      c["applications"] = 1;
      c[role == "applicant" ? "channel_online"
        : role == "clerk"   ? "channel_window"
                            : "channel_agent"] = 1;
      bool overdue = false;
      bool decided = false;
      std::string last_status;
      for (const json& e : events) {
        const std::string action = e["action"];
        const std::string status = e["status"];
        if (e["actor"]["role"] == "clerk" &&
            (action == "submit" || action == "supply_correction" || action == "supply_materials")) {
          ++c["visits"];
        }
        if (action == "request_correction") c["correction_notices"] = 1;
        if (action == "accept" || action == "deem_accepted" || action == "accept_and_decide")
          c["accepted"] = 1;
        if (action == "mark_overdue" && !decided) overdue = true;
        if (!decided && (status == "approved" || status == "denied")) {
          decided = true;
          c["decided"] = 1;
          c[status == "approved" ? "approved" : "denied"] = 1;
          c["on_time_statutory"] = overdue ? 0 : 1;
          if (action == "accept" || action == "accept_and_decide") {
            c[submit["data"]["mode"] == "commitment" ? "decided_at_acceptance_commitment"
                                                     : "decided_at_acceptance_instant"] = 1;
          }
        }
        if (action == "verify" && e["data"]["result"] == "breach") c["verification_breaches"] = 1;
        // 好差评: the rating event's score; a bad one's rectification overdue by the timer.
        if (action == "rate") {
          const int64_t score = e["data"]["score"];
          c["ratings"] = 1;
          c["rating_points"] = score;
          if (score <= 2) c["bad_ratings"] = 1;
        }
        if (action == "mark_rectification_overdue") c["rectifications_overdue"] = 1;
        last_status = status;
      }
      if (last_status == "withdrawn") c["withdrawn"] = 1;
      if (last_status == "under_review" && overdue) c["overdue_now"] = 1;
      if (decided) {
        Reply now = api().Get("/v1/cases/" + id, kAuditor);
        c["working_days_used"] = now.doc["clock"]["working_days_used"].get<int64_t>();
      }
      const std::string item = submit["definition"]["id"];
      for (const auto& [name, n] : c) {
        by_item[item].counts[name] += n;
        total.counts[name] += n;
      }
    }
    return by_item;
  }

  std::map<std::string, std::string> ids_;
};

TEST_F(AuditApiTest, OnlyAuditorsAskAndOthersAre403) {
  for (const char* route : kAuditRoutes) {
    SCOPED_TRACE(route);
    for (const char* token : {kApplicant, kClerk, kReviewer, kApprover, kAgent, kAdmin}) {
      ExpectProblem(api().Get(route, token), 403, "forbidden");
      ExpectProblem(api().Get(std::string(route) + "&format=csv", token), 403, "forbidden");
    }
    ExpectProblem(api().Get(route), 401, "unauthenticated");
    Reply ok = api().Get(route, kAuditor);
    EXPECT_EQ(ok.status, 200) << ok;
  }
  for (const char* token : {kApplicant, kClerk, kAgent}) {
    ExpectProblem(api().Get("/v1/indicators?month=2026-03", token), 403, "forbidden");
  }
  EXPECT_EQ(api().Get("/v1/indicators?month=2026-03", kAuditor).status, 200);
  EXPECT_EQ(api().Get("/v1/indicators?month=2026-03", kAdmin).status, 200);
  // Bad parameters name themselves.
  for (const char* bad :
       {"month=2026-13", "from=2026-03-01", "from=2026-03-09&to=2026-03-01",
        "month=2026-03&format=xml", "month=2026-03&limit=0", "month=2026-03&against=sometimes"}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Get(std::string("/v1/audit/late-decisions?") + bad, kAuditor), 422,
                  "invalid");
  }
  ExpectProblem(api().Get("/v1/indicators?month=2026-03&by=street", kAuditor), 422, "invalid");
}

TEST_F(AuditApiTest, LateDecisionsAreFoundByTheMonthOfTheirDecision) {
  // March in Beijing time, whose UTC bounds the server works out.
  Reply late = api().Get("/v1/audit/late-decisions?month=2026-03", kAuditor);
  ASSERT_EQ(late.status, 200) << late;
  EXPECT_EQ(late.doc["period"]["from"], "2026-02-28T16:00:00.000Z");
  EXPECT_EQ(late.doc["period"]["to"], "2026-03-31T16:00:00.000Z");
  EXPECT_EQ(late.doc["period"]["time_zone"], "Asia/Shanghai");
  ASSERT_EQ(late.doc["cases"].size(), 1u) << late;
  const json& row = late.doc["cases"][0];
  EXPECT_EQ(row["case_id"], ids_["late"]);
  EXPECT_EQ(row["late_statutory"], true);
  EXPECT_EQ(row["decision"], "approve");
  EXPECT_EQ(row["decided_on"], "2026-03-23");
  EXPECT_LT(row["statutory_due"].get<std::string>(), row["decided_on"].get<std::string>());
  EXPECT_EQ(row["channel"], "online");
  EXPECT_EQ(late.doc["truncated"], false);
  // The same days as dates; nothing in April; against the promised limit the same case.
  EXPECT_EQ(api()
                .Get("/v1/audit/late-decisions?from=2026-03-01&to=2026-03-31", kAuditor)
                .doc["cases"]
                .size(),
            1u);
  EXPECT_EQ(api().Get("/v1/audit/late-decisions?month=2026-04", kAuditor).doc["cases"].size(), 0u);
  EXPECT_EQ(api()
                .Get("/v1/audit/late-decisions?month=2026-03&against=promised", kAuditor)
                .doc["cases"]
                .size(),
            1u);

  // CSV: by ?format=csv or by Accept; a header row and one row per case.
  Reply csv = api().Get("/v1/audit/late-decisions?month=2026-03&format=csv", kAuditor);
  ASSERT_EQ(csv.status, 200) << csv;
  EXPECT_EQ(csv.ContentType(), "text/csv; charset=utf-8");
  auto rows = CsvRows(csv.body);
  ASSERT_EQ(rows.size(), 2u) << csv.body;
  EXPECT_EQ(rows[0][0], "case_id");
  EXPECT_EQ(rows[0].size(), rows[1].size());
  EXPECT_EQ(rows[1][0], ids_["late"]);
  Reply accepted =
      api().Get("/v1/audit/late-decisions?month=2026-03", kAuditor, {{"Accept", "text/csv"}});
  EXPECT_EQ(accepted.body, csv.body);
}

TEST_F(AuditApiTest, CasesOfAnOrganOrItemInAPeriod) {
  Reply bureau = api().Get("/v1/audit/cases?month=2026-03&organ=dz-approval-bureau", kAuditor);
  ASSERT_EQ(bureau.status, 200) << bureau;
  std::set<std::string> listed;
  for (const json& c : bureau.doc["cases"])
    listed.insert(c.value("case_id", ""));
  EXPECT_EQ(listed, (std::set<std::string>{ids_["online"], ids_["window"], ids_["withdrawn"],
                                           ids_["agent"], ids_["late"]}));
  Reply food = api().Get("/v1/audit/cases?month=2026-03&item=food-business-licence", kAuditor);
  ASSERT_EQ(food.doc["cases"].size(), 2u) << food;
  for (const json& c : food.doc["cases"]) {
    EXPECT_EQ(c["organ"], "city-amr");
    EXPECT_EQ(c["zone"], "dz-approval-bureau");  // handled by the zone bureau under delegation
  }
  // The channel of each application, and the applicant's visits.
  for (const json& c : bureau.doc["cases"]) {
    if (c["case_id"] == ids_["window"]) {
      EXPECT_EQ(c["channel"], "window");
      EXPECT_EQ(c["visits"], 2);
    }
    if (c["case_id"] == ids_["agent"]) {
      EXPECT_EQ(c["channel"], "agent");
    }
    if (c["case_id"] == ids_["online"]) {
      EXPECT_EQ(c["visits"], 0);
    }
  }
  EXPECT_EQ(api().Get("/v1/audit/cases?month=2026-02", kAuditor).doc["cases"].size(), 0u);
  Reply limited = api().Get("/v1/audit/cases?month=2026-03&limit=2", kAuditor);
  EXPECT_EQ(limited.doc["cases"].size(), 2u);
  EXPECT_EQ(limited.doc["truncated"], true);
}

TEST_F(AuditApiTest, EverythingAnActorDidWithTheNameOfTheTime) {
  Reply done = api().Get("/v1/audit/actors/clerk-demo/actions?month=2026-03", kAuditor);
  ASSERT_EQ(done.status, 200) << done;
  // Counted here from the histories.
  size_t expected = 0;
  for (const auto& [id, events] : AllHistories()) {
    for (const json& e : events)
      expected += e["actor"]["id"] == "clerk-demo" ? 1 : 0;
  }
  ASSERT_EQ(done.doc["events"].size(), expected) << done;
  EXPECT_GE(expected, 6u);
  for (const json& e : done.doc["events"]) {
    EXPECT_EQ(e["actor"]["id"], "clerk-demo");
    EXPECT_EQ(e["actor"]["name"], done.doc["actor_now"]["name"]);
    EXPECT_EQ(e["actor"]["organ_name"], kBureauName);
    EXPECT_EQ(e["actor"]["name_recorded"], true);
    EXPECT_FALSE(e["case_number"].get<std::string>().empty());
  }
  // The name is on the event itself, under the hash.
  json first = History(ids_["window"])[0];
  EXPECT_EQ(first["data"]["actor_name"], done.doc["actor_now"]["name"]);
  EXPECT_EQ(first["data"]["channel"], "window");
  EXPECT_EQ(first["data"]["visits"], 1);
  EXPECT_EQ(api().Get("/v1/cases/" + ids_["window"] + "/verify", kAuditor).doc["ok"], true);
  Reply csv = api().Get("/v1/audit/actors/clerk-demo/actions?month=2026-03&format=csv", kAuditor);
  EXPECT_EQ(CsvRows(csv.body).size(), expected + 1);
  // A client may not write those fields itself.
  ExpectProblem(api().Act(ids_["agent"], kAgent, "withdraw", {{"channel", "window"}}), 422,
                "invalid");
}

TEST_F(AuditApiTest, ActionsUnderARevokedDelegationAndVerificationResults) {
  Reply delegated = api().Get("/v1/audit/delegated-actions?month=2026-03", kAuditor);
  ASSERT_EQ(delegated.status, 200) << delegated;
  size_t expected = 0;
  for (const auto& [id, events] : AllHistories()) {
    for (const json& e : events) {
      const json authority = e["data"].value("authority", json::object());
      expected += authority.value("delegation", "") == "food-licence-dz-2026" ? 1 : 0;
    }
  }
  ASSERT_EQ(delegated.doc["events"].size(), expected) << delegated;
  EXPECT_EQ(expected, 3u);  // two accepts and the verification
  for (const json& e : delegated.doc["events"]) {
    EXPECT_EQ(e["delegation"], "food-licence-dz-2026");
    EXPECT_EQ(e["delegation_ended"], "revoked");
    EXPECT_FALSE(e["delegation_revoked_at"].is_null());
  }

  Reply verified = api().Get("/v1/audit/verifications?month=2026-03", kAuditor);
  ASSERT_EQ(verified.status, 200) << verified;
  ASSERT_EQ(verified.doc["events"].size(), 1u) << verified;
  const json& v = verified.doc["events"][0];
  EXPECT_EQ(v["case_id"], ids_["commitment"]);
  EXPECT_EQ(v["result"], "breach");
  EXPECT_EQ(v["reason"], "现场核查：经营场所与承诺不符");
  EXPECT_EQ(v["actor"]["id"], "verifier-demo");
}

// The indicators against figures counted here from every case's events.
TEST_F(AuditApiTest, IndicatorsMatchTheEventsCountedIndependently) {
  Expected total;
  std::map<std::string, Expected> by_item = ExpectedByItem(&total);

  Reply figures = api().Get("/v1/indicators?month=2026-03&by=item", kAuditor);
  ASSERT_EQ(figures.status, 200) << figures;
  EXPECT_EQ(figures.doc["by"], "item");
  std::map<std::string, json> rows;
  for (const json& row : figures.doc["rows"]) {
    EXPECT_EQ(row["month"], "2026-03");
    rows[row["key"].is_null() ? "" : row["key"].get<std::string>()] = row;
  }
  ASSERT_EQ(rows.size(), 3u) << figures;  // two items and the total
  auto check = [&](const std::string& key, const Expected& expected) {
    SCOPED_TRACE(key.empty() ? "total" : key);
    ASSERT_TRUE(rows.count(key)) << figures;
    const json& counts = rows[key]["counts"];
    for (const auto& [name, n] : counts.items()) {
      auto it = expected.counts.find(name);
      const int64_t want = it == expected.counts.end() ? 0 : it->second;
      if (name == "on_time_promised") continue;  // the promised limit: checked via the rate below
      EXPECT_EQ(n.get<int64_t>(), want) << name;
    }
  };
  for (const auto& [item, expected] : by_item)
    check(item, expected);
  check("", total);
  // The rates follow from the counts.
  const json& permit = rows["construction-permit"];
  EXPECT_EQ(permit["counts"]["applications"], 5);
  EXPECT_EQ(permit["counts"]["decided"], 2);
  EXPECT_DOUBLE_EQ(permit["rates"]["on_time_statutory"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(permit["rates"]["on_time_promised"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(permit["rates"]["correction_notices"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(rows["food-business-licence"]["rates"]["decided_at_acceptance"].get<double>(),
                   1.0);
  EXPECT_EQ(rows["food-business-licence"]["counts"]["overdue_now"], 1);

  // By organ and by zone: the food licence is city-amr's item, handled in the zone bureau.
  Reply organs = api().Get("/v1/indicators?month=2026-03&by=organ", kAuditor);
  Reply zones = api().Get("/v1/indicators?month=2026-03&by=zone", kAuditor);
  std::map<std::string, int64_t> organ_apps, zone_apps;
  for (const json& row : organs.doc["rows"])
    organ_apps[row["key"].is_null() ? "" : row["key"].get<std::string>()] =
        row["counts"]["applications"];
  for (const json& row : zones.doc["rows"])
    zone_apps[row["key"].is_null() ? "" : row["key"].get<std::string>()] =
        row["counts"]["applications"];
  EXPECT_EQ(organ_apps,
            (std::map<std::string, int64_t>{{"", 7}, {"city-amr", 2}, {"dz-approval-bureau", 5}}));
  EXPECT_EQ(zone_apps, (std::map<std::string, int64_t>{{"", 7}, {"dz-approval-bureau", 7}}));
  EXPECT_EQ(api().Get("/v1/indicators?month=2026-04", kAuditor).doc["rows"].size(), 0u);

  // CSV: a header and a row per key and month, the same figures.
  Reply csv = api().Get("/v1/indicators?month=2026-03&by=item", kAuditor, {{"Accept", "text/csv"}});
  ASSERT_EQ(csv.status, 200) << csv;
  EXPECT_EQ(csv.ContentType(), "text/csv; charset=utf-8");
  auto lines = CsvRows(csv.body);
  ASSERT_EQ(lines.size(), 4u) << csv.body;
  EXPECT_EQ(lines[0][0], "month");
  EXPECT_EQ(lines[0][1], "item");
  EXPECT_EQ(lines[0][3], "applications");
  for (size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].size(), lines[0].size()) << csv.body;
  EXPECT_EQ(lines[3][3], std::to_string(total.counts["applications"]));

  // Prometheus gauges of the current month (the simulated clock is in March).
  Reply metrics = api().Get("/metrics");
  EXPECT_TRUE(Contains(
      metrics.body,
      "tongban_indicator{by=\"item\",key=\"construction-permit\",name=\"applications\"} 5"))
      << metrics.body;
}

// 好差评 in the indicators: ratings counted from the rating events alone — the online permit
// rated 5, the withdrawn one 1 (its rectification left unanswered past its 5 working days: the
// timer marks it overdue), the late one 2 and answered at once by the organ.
TEST_F(AuditApiTest, RatingsCountInTheIndicatorsAsTheirEventsSay) {
  Reply five = api().Post("/v1/cases/" + ids_["online"] + "/rating", kApplicant,
                          {{"score", 5}, {"comment", "一次办好"}});
  ASSERT_EQ(five.status, 201) << five;
  Reply one = api().Post("/v1/cases/" + ids_["withdrawn"] + "/rating", kApplicant, {{"score", 1}});
  ASSERT_EQ(one.status, 201) << one;
  Reply two = api().Post("/v1/cases/" + ids_["late"] + "/rating", kApplicant,
                         {{"score", 2}, {"comment", "超期办结"}});
  ASSERT_EQ(two.status, 201) << two;
  Reply answered =
      api().Act(ids_["late"], kApprover, "answer_rating", {{"answer", "已约谈审查人员，优化排班"}});
  ASSERT_EQ(answered.status, 200) << answered;
  ASSERT_EQ(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 10}}}}).status, 200);
  Reply overdue = api().Get("/v1/cases/" + ids_["withdrawn"], kAuditor);
  ASSERT_EQ(overdue.status, 200) << overdue;
  EXPECT_EQ(overdue.doc["clock"]["rectification"]["light"], "red") << overdue;
  EXPECT_TRUE(overdue.doc["rating"]["rectification"]["overdue_recorded"].get<bool>()) << overdue;

  Expected total;
  std::map<std::string, Expected> by_item = ExpectedByItem(&total);
  // The scenario does rate: the independent figures are not all zero.
  ASSERT_EQ(by_item["construction-permit"].counts["ratings"], 3);
  ASSERT_EQ(by_item["construction-permit"].counts["rectifications_overdue"], 1);
  Reply figures = api().Get("/v1/indicators?month=2026-03&by=item", kAuditor);
  ASSERT_EQ(figures.status, 200) << figures;
  std::map<std::string, json> rows;
  for (const json& row : figures.doc["rows"])
    rows[row["key"].is_null() ? "" : row["key"].get<std::string>()] = row;
  for (const auto& [key, expected] : std::map<std::string, Expected>{
           {"construction-permit", by_item["construction-permit"]}, {"", total}}) {
    SCOPED_TRACE(key.empty() ? "total" : key);
    ASSERT_TRUE(rows.count(key)) << figures;
    for (const char* name : {"ratings", "rating_points", "bad_ratings", "rectifications_overdue"}) {
      auto it = expected.counts.find(name);
      EXPECT_EQ(rows[key]["counts"][name].get<int64_t>(),
                it == expected.counts.end() ? 0 : it->second)
          << name;
    }
    const double ratings = static_cast<double>(expected.counts.at("ratings"));
    EXPECT_DOUBLE_EQ(rows[key]["rates"]["average_rating"].get<double>(),
                     std::round(expected.counts.at("rating_points") / ratings * 10000) / 10000);
    EXPECT_DOUBLE_EQ(rows[key]["rates"]["bad_ratings"].get<double>(),
                     std::round(expected.counts.at("bad_ratings") / ratings * 10000) / 10000);
  }
  // (5 + 1 + 2) / 3 and 2 of 3, as the audit office would work them out.
  EXPECT_DOUBLE_EQ(rows["construction-permit"]["rates"]["average_rating"].get<double>(), 2.6667);
  EXPECT_DOUBLE_EQ(rows["construction-permit"]["rates"]["bad_ratings"].get<double>(), 0.6667);
  EXPECT_TRUE(rows["food-business-licence"]["rates"]["average_rating"].is_null());
}

}  // namespace
}  // namespace tongban::api::api_test
