// API tests of the registers (registers_routes.cc) and the case rules they feed: delegated powers
// (赋权), commitments and credit records (告知承诺), mandates (帮办代办) and the ledger.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"
#include "workflows/sha256.h"

namespace tongban::api::api_test {
namespace {

// ---- Delegated powers (赋权) ----

// The food licence is city-amr's item; the zone bureau's staff accept, review and decide it under
// the concentrated delegation, and the decision is issued in the bureau's name with its seal.
TEST_F(ApiTest, DelegatedBureauDecidesInItsOwnNameAndSeal) {
  std::string id = CreateId(kApplicant, NewFood());
  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["organ"], "city-amr");
  EXPECT_EQ(accepted.doc["step"], "review");
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["status"], "approved");
  EXPECT_EQ(
      approved.doc["issued_in"],
      json({{"name", kBureauName}, {"seal", kBureauSeal}, {"delegation", "food-licence-dz-2026"}}));
  // Every staff action records the authority it was taken under.
  json events = History(id);
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    SCOPED_TRACE(events[i]["action"].dump());
    const json& authority = events[i]["data"]["authority"];
    EXPECT_EQ(authority["organ"], "dz-approval-bureau");
    EXPECT_EQ(authority["basis"], "delegation");
    EXPECT_EQ(authority["delegation"], "food-licence-dz-2026");
    EXPECT_EQ(authority["form"], "concentrated");
    EXPECT_EQ(authority["delegated_by"], "city-amr");
  }
  EXPECT_EQ(events[1]["data"]["authority"]["powers"], "accept");
  EXPECT_EQ(events[3]["data"]["authority"]["powers"], "decide");
  EXPECT_EQ(events[3]["data"]["authority"]["issued_in_seal"], kBureauSeal);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // Staff of the delegated bureau and of the implementing organ see the case; others do not.
  auto listed = [&](const char* token) {
    std::set<std::string> ids;
    Reply list = api().Get("/v1/cases", token);
    for (const json& c : list.doc["cases"])
      ids.insert(c.value("id", ""));
    return ids.count(id) == 1;
  };
  EXPECT_TRUE(listed(kClerk));
  EXPECT_TRUE(listed(kAmr));
  EXPECT_FALSE(listed(kForeignClerk));
  EXPECT_EQ(api().Get("/v1/cases/" + id, kAmr).status, 200);
  ExpectProblem(api().Get("/v1/cases/" + id, kForeignClerk), 404, "not-found");
}

// Jurisdiction is checked for every staff action: an organ without the power gets 403 naming the
// competent organ, whether it registers an application or acts on a case it can see.
TEST_F(ApiTest, OrganWithoutJurisdictionIs403NamingTheCompetentOrgan) {
  json at_window = NewFood();
  at_window["applicant"] = {{"id", "ent-walkin"}, {"name", "到窗口的企业"}};
  Reply foreign = api().Post("/v1/cases", kForeignClerk, at_window);
  ExpectProblem(foreign, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(foreign), "city-amr")) << foreign;
  EXPECT_TRUE(Contains(Detail(foreign), kAmrName)) << foreign;
  // The bureau holds only the accept power for enterprise registration (entrustment).
  std::string id = CreateId(kApplicant, NewRegistration());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  Reply review = api().Act(id, kReviewer, "pass");
  ExpectProblem(review, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(review), "no power to review")) << review;
  EXPECT_TRUE(
      Contains(Detail(review), "competent organ is " + std::string(kAmrName) + " (city-amr)"))
      << review;
  EXPECT_EQ(History(id).size(), 2u);
  // The bureau's reviewer is not offered what it may not do.
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + id, kReviewer)), std::set<std::string>{});
  // The implementing organ reviews and decides (two people: four-eyes), in its own name.
  ASSERT_EQ(api().Act(id, kAmr, "pass").status, 200);
  ExpectProblem(api().Act(id, kAmr, "approve"), 403, "forbidden");
  Reply approved = api().Act(id, kAmrApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["issued_in"],
            json({{"name", kAmrName}, {"seal", ""}, {"delegation", ""}}));
  EXPECT_EQ(History(id).back()["data"]["authority"]["basis"], "implementing_organ");
}

TEST_F(ApiTest, RevokedDelegationStopsTheNextActionAndHistoryStillVerifies) {
  std::string id = CreateId(kApplicant, NewFood());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  const std::string path = "/v1/delegations/food-licence-dz-2026/revoke";
  const json reason = {{"reason", "赋权调整，收回食品经营许可"}};
  // Only admins revoke, with a reason.
  for (const char* token : {kApplicant, kClerk, kApprover, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post(path, token, reason), 403, "forbidden");
  }
  ExpectInvalidAt(api().Post(path, kAdmin, json::object()), "/reason");
  ExpectInvalidAt(api().Post(path, kAdmin, {{"reason", "x"}, {"why", "y"}}), "/why");
  ExpectProblem(api().Post(path, kAdmin, {{"reason", ""}}), 422, "invalid");
  ExpectProblem(api().Post("/v1/delegations/no-such/revoke", kAdmin, reason), 404, "not-found");
  Reply revoked = api().Post(path, kAdmin, reason);
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.doc["revoked"], true);
  EXPECT_EQ(revoked.doc["revoked_by"], "admin-demo");
  EXPECT_EQ(revoked.doc["revocation_reason"], "赋权调整，收回食品经营许可");
  ExpectProblem(api().Post(path, kAdmin, reason), 409, "not-available");

  // The next action of the bureau is refused, saying why.
  Reply pass = api().Act(id, kReviewer, "pass");
  ExpectProblem(pass, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(pass), "food-licence-dz-2026 was revoked")) << pass;
  EXPECT_TRUE(Contains(Detail(pass), "赋权调整")) << pass;
  EXPECT_TRUE(Contains(Detail(pass), "city-amr")) << pass;
  // The bureau still sees the case it held, but is offered nothing.
  Reply seen = api().Get("/v1/cases/" + id, kReviewer);
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(ActionIds(seen), std::set<std::string>{});
  // The accept taken under the delegation stays as it was: the history verifies.
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["data"]["authority"]["delegation"], "food-licence-dz-2026");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // The implementing organ takes the case over.
  ASSERT_EQ(api().Act(id, kAmr, "pass").status, 200);
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // New applications at the bureau's window are refused too.
  json at_window = NewFood();
  at_window["applicant"] = {{"id", "ent-walkin"}};
  Reply window = api().Post("/v1/cases", kClerk, at_window);
  ExpectProblem(window, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(window), "revoked")) << window;

  // The register shows the revocation.
  Reply one = api().Get("/v1/delegations/food-licence-dz-2026", kClerk);
  ASSERT_EQ(one.status, 200) << one;
  EXPECT_EQ(one.doc["revoked"], true);
  EXPECT_EQ(one.doc["source"], "delegation_list/dz-approval-bureau-2026@3");
  Reply by_item = api().Get("/v1/delegations?item=food-business-licence", kAuditor);
  ASSERT_EQ(by_item.doc["delegations"].size(), 1u) << by_item;
  EXPECT_EQ(api().Get("/v1/delegations?organ=city-hrss", kAuditor).doc["delegations"].size(), 2u);
  ExpectProblem(api().Get("/v1/delegations", kApplicant), 403, "forbidden");
  ExpectProblem(api().Get("/v1/delegations/food-licence-dz-2026", kAgent), 403, "forbidden");
  ExpectProblem(api().Get("/v1/delegations/no-such", kClerk), 404, "not-found");
}

TEST_F(ApiTest, AddDelegationValidatesAndTakesEffect) {
  const json valid = {
      {"id", "registration-review-dz-api"},
      {"item", "establishment-registration"},
      {"from", {{"id", "city-amr"}, {"name", kAmrName}}},
      {"to", {{"id", "dz-approval-bureau"}, {"name", kBureauName}}},
      {"powers", {"review", "decide"}},
      {"form", "entrustment"},
      {"legal_basis", {{{"citation", "《中华人民共和国行政许可法》"}, {"article", "第二十四条"}}}},
      {"effective_from", "2026-01-01"},
      {"effective_to", "2026-12-31"}};
  for (const char* token : {kApplicant, kClerk, kAuditor}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Post("/v1/delegations", token, valid), 403, "forbidden");
  }
  // Every problem is reported, each at its pointer.
  json bad = valid;
  bad["item"] = "no-such-item";
  bad["powers"] = {"acept"};
  bad["form"] = "concentrated";  // needs the receiver's seal
  bad["legal_basis"] = json::array();
  bad["effective_from"] = "2026-13-01";
  bad["colour"] = "red";
  Reply invalid = api().Post("/v1/delegations", kAdmin, bad);
  for (const char* pointer :
       {"/item", "/powers/0", "/to/seal", "/legal_basis", "/effective_from", "/colour"}) {
    SCOPED_TRACE(pointer);
    ExpectInvalidAt(invalid, pointer);
  }
  json self = valid;
  self["to"] = {{"id", "city-amr"}, {"name", kAmrName}};
  ExpectInvalidAt(api().Post("/v1/delegations", kAdmin, self), "/to");
  json backwards = valid;
  backwards["effective_to"] = "2025-12-31";
  ExpectInvalidAt(api().Post("/v1/delegations", kAdmin, backwards), "/effective_to");
  Reply empty = api().Post("/v1/delegations", kAdmin, json::object());
  for (const char* pointer :
       {"/id", "/item", "/from", "/to", "/powers", "/form", "/legal_basis", "/effective_from"}) {
    SCOPED_TRACE(pointer);
    ExpectInvalidAt(empty, pointer);
  }
  ExpectProblem(api().PostRaw("/v1/delegations", kAdmin, "[1]"), 422, "invalid");
  ExpectProblem(api().PostRaw("/v1/delegations", kAdmin, "{\"id\": "), 400, "malformed-json");
  EXPECT_EQ(
      api().Get("/v1/delegations?organ=dz-approval-bureau", kAuditor).doc["delegations"].size(),
      8u);

  Reply added = api().Post("/v1/delegations", kAdmin, valid);
  ASSERT_EQ(added.status, 201) << added;
  EXPECT_EQ(added.Header("Location"), "/v1/delegations/registration-review-dz-api");
  EXPECT_EQ(added.doc["source"], "api");
  EXPECT_EQ(added.doc["added_by"], "admin-demo");
  EXPECT_EQ(added.doc["issued_in_name"], kAmrName);  // entrustment: the delegator's name
  EXPECT_EQ(api().Get(added.Header("Location"), kClerk).doc, added.doc);
  // Ids are unique across the lists and the API.
  ExpectProblem(api().Post("/v1/delegations", kAdmin, valid), 409, "conflict");
  json taken = valid;
  taken["id"] = "food-licence-dz-2026";
  ExpectProblem(api().Post("/v1/delegations", kAdmin, taken), 409, "conflict");

  // It takes effect at once: the bureau now reviews and decides registrations, in the city
  // bureau's name (entrustment).
  std::string id = CreateId(kApplicant, NewRegistration());
  ASSERT_EQ(api().Act(id, kClerk, "accept").status, 200);
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply approved = api().Act(id, kApprover, "approve");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["issued_in"],
            json({{"name", kAmrName}, {"seal", ""}, {"delegation", "registration-review-dz-api"}}));
  EXPECT_EQ(History(id).back()["data"]["authority"]["form"], "entrustment");
}

// ---- 告知承诺: commitment, verification, credit ----

TEST_F(ApiTest, CommitmentBreachRevokesAndBlocksUntilRepaired) {
  Reply created = Create(kApplicant, NewFood("commitment"));
  const std::string id = created.doc.value("id", "");
  EXPECT_EQ(created.doc["mode"], "commitment");
  json item = json::parse(ReadFile(kSourceDir + "/definitions/items/food-business-licence.json"));
  const json& commitment = created.doc["commitment"];
  EXPECT_EQ(commitment["template_id"], "food-business-licence-commitment");
  EXPECT_EQ(commitment["template_version"], 1);
  EXPECT_EQ(commitment["signed_by"], "张三");
  EXPECT_EQ(commitment["content_hash"],
            Sha256Hex(item["modes"]["commitment"]["template"]["text"].get<std::string>()));
  EXPECT_EQ(commitment["signed_at"], created.doc["created_at"]);

  // 当场办结: accepting is the decision, in the bureau's name and seal; verification starts.
  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["status"], "approved");
  EXPECT_EQ(accepted.doc["decision"], "approve");
  EXPECT_EQ(accepted.doc["issued_in"]["seal"], kBureauSeal);
  EXPECT_EQ(accepted.doc["verification"]["status"], "pending");
  EXPECT_EQ(accepted.doc["clock"]["verification"]["due"], "2026-03-30");  // 20 working days
  EXPECT_EQ(accepted.doc["clock"]["verification"]["overdue"], false);
  EXPECT_EQ(History(id)[1]["data"]["authority"]["powers"], "accept+decide");

  // The verifier verifies; a breach needs its reason.
  Reply as_verifier = api().Get("/v1/cases/" + id, kVerifier);
  EXPECT_EQ(ActionIds(as_verifier).count("verify"), 1u) << as_verifier;
  ExpectProblem(api().Act(id, kClerk, "verify", {{"result", "pass"}}), 403, "forbidden");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "maybe"}}), 422, "invalid");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "breach"}}), 422, "invalid");
  Reply breach = api().Act(id, kVerifier, "verify",
                           {{"result", "breach"},
                            {"reason", "现场核查：经营场所与承诺不符"},
                            {"findings", "无冷藏设施"}});
  ASSERT_EQ(breach.status, 200) << breach;
  EXPECT_EQ(breach.doc["status"], "revoked");
  EXPECT_EQ(breach.doc["verification"]["status"], "breached");
  EXPECT_EQ(breach.doc["verification"]["verified_by"], "verifier-demo");
  EXPECT_EQ(breach.doc["verification"]["findings"], "无冷藏设施");
  ExpectProblem(api().Act(id, kVerifier, "verify", {{"result", "pass"}}), 409, "not-available");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);

  // The credit record: staff see every record, an applicant the records against itself.
  Reply records = api().Get("/v1/credit-records", kAuditor);
  ASSERT_EQ(records.status, 200) << records;
  ASSERT_EQ(records.doc["credit_records"].size(), 1u) << records;
  const json record = records.doc["credit_records"][0];
  const std::string record_id = record.value("id", "");
  EXPECT_EQ(record["credit_code"], "91330100MA2TB00014");
  EXPECT_EQ(record["case"]["id"], id);
  EXPECT_EQ(record["case"]["number"], created.doc["number"]);
  EXPECT_EQ(record["item"], "food-business-licence");
  EXPECT_EQ(record["reason"], "现场核查：经营场所与承诺不符");
  EXPECT_EQ(record["recorded_by"], "verifier-demo");
  EXPECT_EQ(record["blocking"], true);
  EXPECT_EQ(api().Get("/v1/credit-records", kApplicant).doc["credit_records"].size(), 1u);
  EXPECT_EQ(api().Get("/v1/credit-records", kOtherApplicant).doc["credit_records"].size(), 0u);
  EXPECT_EQ(api().Get("/v1/credit-records", kClerk).doc["credit_records"].size(), 1u);
  EXPECT_EQ(api()
                .Get("/v1/credit-records?credit_code=91330100MA2TB00027", kAuditor)
                .doc["credit_records"]
                .size(),
            0u);
  EXPECT_EQ(api().Get("/v1/credit-records/" + record_id, kApplicant).doc, record);
  ExpectProblem(api().Get("/v1/credit-records/" + record_id, kOtherApplicant), 404, "not-found");
  ExpectProblem(api().Get("/v1/credit-records/credit-none", kAuditor), 404, "not-found");

  // Another commitment application is refused, naming the record; standard mode is still open.
  Reply refused = api().Post("/v1/cases", kApplicant, NewFood("commitment"));
  ExpectProblem(refused, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(refused), "credit record " + record_id)) << refused;
  EXPECT_TRUE(Contains(Detail(refused), "信用修复")) << refused;
  EXPECT_EQ(api().Post("/v1/cases", kApplicant, NewFood()).status, 201);
  EXPECT_EQ(api().Post("/v1/cases", kOtherApplicant, NewFood("commitment")).status, 201);
  // Nor can the applicant get round it through a window or an agent naming it with another
  // credit code: the record blocks the applicant by its id as well as by its code.
  json for_ent_demo = NewFood("commitment");
  for_ent_demo["applicant"] = {
      {"id", "ent-demo"}, {"name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00027"}};
  Reply at_window = api().Post("/v1/cases", kClerk, for_ent_demo);
  ExpectProblem(at_window, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(at_window), "credit record " + record_id)) << at_window;
  ASSERT_EQ(api()
                .Post("/v1/mandates", kApplicant,
                      {{"agent", "agent-demo"}, {"definitions", {"food-business-licence"}}})
                .status,
            201);
  Reply by_agent = api().Post("/v1/cases", kAgent, for_ent_demo);
  ExpectProblem(by_agent, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(by_agent), "credit record " + record_id)) << by_agent;

  // An admin records the repair (信用修复), with a reason; then commitment mode is open again.
  const std::string repair = "/v1/credit-records/" + record_id + "/repair";
  const json reason = {{"reason", "已整改到位并完成信用修复"}};
  ExpectProblem(api().Post(repair, kApplicant, reason), 403, "forbidden");
  ExpectProblem(api().Post(repair, kVerifier, reason), 403, "forbidden");
  ExpectInvalidAt(api().Post(repair, kAdmin, json::object()), "/reason");
  ExpectProblem(api().Post("/v1/credit-records/credit-none/repair", kAdmin, reason), 404,
                "not-found");
  Reply repaired = api().Post(repair, kAdmin, reason);
  ASSERT_EQ(repaired.status, 200) << repaired;
  EXPECT_EQ(repaired.doc["blocking"], false);
  EXPECT_EQ(repaired.doc["repaired_by"], "admin-demo");
  EXPECT_EQ(repaired.doc["repair_reason"], "已整改到位并完成信用修复");
  ExpectProblem(api().Post(repair, kAdmin, reason), 409, "not-available");
  Reply again = api().Post("/v1/cases", kApplicant, NewFood("commitment"));
  ASSERT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.doc["mode"], "commitment");

  // The ledger holds the record, the agent's mandate and the repair, chained.
  Reply ledger = api().Get("/v1/ledger", kAuditor);
  ASSERT_EQ(ledger.status, 200) << ledger;
  std::vector<std::string> kinds;
  for (const json& e : ledger.doc["entries"])
    kinds.push_back(e.value("kind", ""));
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"credit.recorded", "mandate.granted", "credit.repaired"}));
  EXPECT_EQ(ledger.doc["verify"]["ok"], true);
}

TEST_F(ApiTest, CommitmentModeOnlyWhereTheItemOffersIt) {
  json registration = NewRegistration();
  registration["mode"] = "commitment";
  registration["commitment"] = FoodCommitment();
  Reply r = api().Post("/v1/cases", kApplicant, registration);
  ExpectProblem(r, 422, "invalid");
  EXPECT_TRUE(Contains(Detail(r), "does not offer commitment")) << r;
  // The commitment must be the item's template, signed.
  json unsigned_ = NewFood("commitment");
  unsigned_.erase("commitment");
  ExpectProblem(api().Post("/v1/cases", kApplicant, unsigned_), 422, "invalid");
  json wrong_version = NewFood("commitment");
  wrong_version["commitment"]["template_version"] = 2;
  ExpectProblem(api().Post("/v1/cases", kApplicant, wrong_version), 422, "invalid");
  json wrong_text = NewFood("commitment");
  wrong_text["commitment"]["content_hash"] = std::string(64, '0');
  Reply hash = api().Post("/v1/cases", kApplicant, wrong_text);
  ExpectProblem(hash, 422, "invalid");
  EXPECT_TRUE(Contains(Detail(hash), "content_hash")) << hash;
  json bundle = NewStartup();
  bundle["mode"] = "commitment";
  ExpectProblem(api().Post("/v1/cases", kApplicant, bundle), 422, "invalid");
  EXPECT_EQ(api().Get("/v1/cases", kAuditor).doc["cases"].size(), 0u);
}

// Verification must be done within the item's working days after the decision (20 for the food
// licence); when the period passes, a system event records it and the light turns red.
TEST_F(ApiTest, OverdueVerificationTurnsTheLightRed) {
  std::string id = CreateId(kApplicant, NewFood("commitment"));
  Reply approved = api().Act(id, kClerk, "accept");
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.doc["clock"]["verification"]["due"], "2026-03-30");
  // Delivered at once: a grant still undelivered after its art. 44 due date (10 working days,
  // 03-16) is red on its own account, which is not what this test is about.
  ASSERT_EQ(api().Act(id, kClerk, "deliver").status, 200);
  Reply early = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-30T17:00:00+08:00"}});
  EXPECT_EQ(early.doc["timer_events"], 0) << early;
  EXPECT_EQ(api().Get("/v1/cases/" + id, kVerifier).doc["clock"]["light"], "green");
  Reply late = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-31T09:00:00+08:00"}});
  EXPECT_EQ(late.doc["timer_events"], 1) << late;
  json events = History(id);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3]["action"], "mark_verification_overdue");
  EXPECT_EQ(events[3]["actor"]["id"], "system");
  Reply overdue = api().Get("/v1/cases/" + id, kVerifier);
  EXPECT_EQ(overdue.doc["clock"]["light"], "red");
  EXPECT_EQ(overdue.doc["clock"]["verification"]["overdue"], true);
  EXPECT_EQ(overdue.doc["verification"]["overdue_recorded"], true);
  ExpectProblem(api().Act(id, kApplicant, "mark_verification_overdue"), 422, "unknown-action");
  // Late verification is still recorded.
  Reply passed = api().Act(id, kVerifier, "verify", {{"result", "pass"}});
  ASSERT_EQ(passed.status, 200) << passed;
  EXPECT_EQ(passed.doc["verification"]["status"], "passed");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
  // The status filter takes bundle statuses too.
  EXPECT_EQ(api().Get("/v1/cases?status=in_progress", kClerk).status, 200);
}

// ---- 帮办代办: agents under a mandate ----

TEST_F(ApiTest, AgentActsUnderAMandate) {
  json body = NewFood();
  body["applicant"] = {
      {"id", "ent-demo"}, {"name", "示例科技有限公司"}, {"credit_code", "91330100MA2TB00014"}};
  Reply without = api().Post("/v1/cases", kAgent, body);
  ExpectProblem(without, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(without), "mandate")) << without;
  ExpectProblem(api().Post("/v1/cases", kAgent, NewFood()), 422, "invalid");  // names no applicant

  // The applicant grants a mandate; the body is checked.
  const json mandate = {{"agent", "agent-demo"},
                        {"definitions", {"food-business-licence", "business-startup"}},
                        {"note", "代办食品经营许可"}};
  ExpectProblem(api().Post("/v1/mandates", kClerk, mandate), 403, "forbidden");
  ExpectProblem(api().Post("/v1/mandates", kAgent, mandate), 403, "forbidden");
  ExpectInvalidAt(api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}, {"scope", 1}}),
                  "/scope");
  ExpectInvalidAt(api().Post("/v1/mandates", kApplicant, json::object()), "/agent");
  ExpectProblem(api().Post("/v1/mandates", kApplicant, {{"agent", "clerk-demo"}}), 422, "invalid");
  ExpectProblem(
      api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}, {"definitions", {"nope"}}}),
      422, "invalid");
  ExpectProblem(api().Post("/v1/mandates", kApplicant,
                           {{"agent", "agent-demo"}, {"valid_until", "2026-03-01T00:00:00Z"}}),
                422, "invalid");
  Reply granted = api().Post("/v1/mandates", kApplicant, mandate);
  ASSERT_EQ(granted.status, 201) << granted;
  const std::string mandate_id = granted.doc.value("id", "");
  EXPECT_EQ(granted.Header("Location"), "/v1/mandates/" + mandate_id);
  EXPECT_EQ(granted.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(granted.doc["agent"]["id"], "agent-demo");
  EXPECT_EQ(granted.doc["revoked"], false);
  EXPECT_EQ(api().Get(granted.Header("Location"), kApplicant).doc, granted.doc);
  EXPECT_EQ(api().Get(granted.Header("Location"), kAgent).doc, granted.doc);
  ExpectProblem(api().Get(granted.Header("Location"), kOtherApplicant), 404, "not-found");
  EXPECT_EQ(api().Get("/v1/mandates", kAgent).doc["mandates"].size(), 1u);
  EXPECT_EQ(api().Get("/v1/mandates", kOtherApplicant).doc["mandates"].size(), 0u);
  EXPECT_EQ(api().Get("/v1/mandates", kAuditor).doc["mandates"].size(), 1u);

  // The agent applies for the applicant; the events show the agent and for whom it acted.
  Reply created = Create(kAgent, body);
  const std::string id = created.doc.value("id", "");
  EXPECT_EQ(created.doc["applicant"]["id"], "ent-demo");
  EXPECT_EQ(ActionIds(created), (std::set<std::string>{"withdraw", "supply_materials"}));
  EXPECT_EQ(api().Get("/v1/cases/" + id, kApplicant).status, 200);
  std::set<std::string> agent_sees;
  Reply agent_list = api().Get("/v1/cases", kAgent);
  for (const json& c : agent_list.doc["cases"])
    agent_sees.insert(c.value("id", ""));
  EXPECT_EQ(agent_sees, std::set<std::string>{id});
  // Not for items outside the mandate.
  json permit = NewPermit();
  permit["applicant"] = body["applicant"];
  ExpectProblem(api().Post("/v1/cases", kAgent, permit), 403, "forbidden");
  // Nor staff work.
  ExpectProblem(api().Act(id, kAgent, "accept"), 403, "forbidden");
  Reply withdrawn = api().Act(id, kAgent, "withdraw");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn;
  EXPECT_EQ(withdrawn.doc["status"], "withdrawn");
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  for (const json& e : events) {
    SCOPED_TRACE(e["action"].dump());
    EXPECT_EQ(e["actor"]["id"], "agent-demo");
    EXPECT_EQ(e["actor"]["role"], "agent");
    EXPECT_EQ(e["data"]["on_behalf_of"], "ent-demo");
    EXPECT_EQ(e["data"]["mandate"], mandate_id);
  }

  const std::string second = CreateId(kAgent, body);
  // Only the applicant (or an admin) revokes; afterwards the agent is refused again.
  const std::string revoke = "/v1/mandates/" + mandate_id + "/revoke";
  ExpectProblem(api().PostRaw(revoke, kAgent, ""), 404, "not-found");
  ExpectProblem(api().PostRaw(revoke, kOtherApplicant, ""), 404, "not-found");
  Reply revoked = api().PostRaw(revoke, kApplicant, "");
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.doc["revoked"], true);
  ExpectProblem(api().PostRaw(revoke, kApplicant, ""), 409, "not-available");
  ExpectProblem(api().Post("/v1/cases", kAgent, body), 403, "forbidden");
  // The cases it handled stay visible to it, but it may no longer act on them.
  Reply still = api().Get("/v1/cases/" + second, kAgent);
  ASSERT_EQ(still.status, 200) << still;
  EXPECT_EQ(ActionIds(still), std::set<std::string>{});
  ExpectProblem(api().Act(second, kAgent, "withdraw"), 403, "forbidden");
  EXPECT_EQ(ActionIds(api().Get("/v1/cases/" + second, kApplicant)),
            (std::set<std::string>{"withdraw", "supply_materials"}));
}

// ---- The registers' ledger ----------------------------------------------------------------------

TEST_F(ApiTest, LedgerIsHashChainedAndReadByAuditors) {
  ASSERT_EQ(api().Post("/v1/mandates", kApplicant, {{"agent", "agent-demo"}}).status, 201);
  ASSERT_EQ(api()
                .Post("/v1/delegations/seal-filing-dz-2026/revoke", kAdmin,
                      {{"reason", "改由公安分局窗口受理"}})
                .status,
            200);
  for (const char* token : {kApplicant, kClerk, kAgent, kVerifier}) {
    SCOPED_TRACE(token);
    ExpectProblem(api().Get("/v1/ledger", token), 403, "forbidden");
  }
  Reply ledger = api().Get("/v1/ledger", kAuditor);
  ASSERT_EQ(ledger.status, 200) << ledger;
  const json& entries = ledger.doc["entries"];
  ASSERT_EQ(entries.size(), 2u) << ledger;
  EXPECT_EQ(entries[0]["kind"], "mandate.granted");
  EXPECT_EQ(entries[0]["actor"]["id"], "ent-demo");
  EXPECT_EQ(entries[1]["kind"], "delegation.revoked");
  EXPECT_EQ(entries[1]["subject"], "seal-filing-dz-2026");
  EXPECT_EQ(entries[1]["data"]["reason"], "改由公安分局窗口受理");
  std::string previous(64, '0');
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i]["seq"], i + 1);
    EXPECT_EQ(entries[i]["prev_hash"], previous);
    previous = entries[i].value("hash", "");
    EXPECT_TRUE(std::regex_match(previous, std::regex("[0-9a-f]{64}"))) << previous;
  }
  EXPECT_EQ(ledger.doc["verify"], json({{"ok", true}, {"entries", 2}}));
  EXPECT_EQ(api().Get("/v1/ledger", kAdmin).doc, ledger.doc);
}

}  // namespace
}  // namespace tongban::api::api_test
