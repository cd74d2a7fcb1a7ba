// API tests of acting on an item case (POST /v1/cases/{id}/actions, cases_routes.cc): the checks of
// the request, 409 for an action not available now, a damaged history, If-Match, who may act,
// concurrency and idempotency, and the receiving window (收受分离).
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

// ---- Acting on cases ----------------------------------------------------------------------------

TEST_F(ApiTest, ActionValidation) {
  std::string id = Submitted();
  const std::string path = "/v1/cases/" + id + "/actions";
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"colour", "red"}}), "/colour");
  ExpectInvalidAt(api().Post(path, kClerk, json::object()), "/action");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", 7}}), "/action");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"data", "now"}}), "/data");
  ExpectInvalidAt(api().Post(path, kClerk, {{"action", "accept"}, {"comment", 1}}), "/comment");
  // Unknown actions, and the system's own, are 422.
  for (const char* action : {"fly", "deem_accepted", "mark_overdue", "submit", ""}) {
    SCOPED_TRACE(action);
    ExpectProblem(api().Act(id, kClerk, action), 422, "unknown-action");
  }
  // A known action whose data breaks a rule, or holds a member the action does not take.
  ExpectInvalidAt(api().Act(id, kClerk, "refuse"), "/data/reason");
  ExpectInvalidAt(api().Act(id, kClerk, "accept", {{"colour", "red"}}), "/data/colour");
  ExpectInvalidAt(api().Act(id, kClerk, "accept", {{"authority", "mine"}}), "/data/authority");
  ExpectInvalidAt(api().Act(id, kClerk, "request_correction", {{"missing", json::array()}}),
                  "/data/missing");
  // Still nothing but the submission.
  EXPECT_EQ(History(id).size(), 1u);
  // Actions on a case that does not exist.
  ExpectProblem(api().Act("c0000000000000000000", kClerk, "accept"), 404, "not-found");
}

TEST_F(ApiTest, ActionNotAvailableNowIs409) {
  std::string id = UnderReview();
  Reply again = api().Act(id, kClerk, "accept");
  ExpectProblem(again, 409, "not-available");
  // Withdrawn cases take no further actions.
  std::string withdrawn = Submitted();
  ASSERT_EQ(api().Act(withdrawn, kApplicant, "withdraw").status, 200);
  ExpectProblem(api().Act(withdrawn, kApplicant, "withdraw"), 409, "not-available");
  ExpectProblem(api().Act(withdrawn, kClerk, "accept"), 409, "not-available");
  EXPECT_EQ(History(withdrawn).size(), 2u);
}

// A case whose stored history was damaged (an event deleted, two swapped) is reported by verify
// with the first bad event, and a read that needs the history answers the case-damaged problem
// naming it, not a bare 500. A plain read serves the snapshot committed with the last event.
TEST_F(ApiTest, DamagedHistoryIsReportedWithItsFirstBadEvent) {
  const std::string deleted = AtDecision();
  const std::string swapped = AtDecision();
  const std::string db = server_->db_path();
  harness::ExecSql(db,
                   "DROP TRIGGER events_append_only_delete; DROP TRIGGER events_append_only_update;"
                   "DELETE FROM events WHERE case_id = '" +
                       deleted +
                       "' AND seq = 2;"
                       "UPDATE events SET seq = -1 WHERE case_id = '" +
                       swapped +
                       "' AND seq = 2;"
                       "UPDATE events SET seq = 2 WHERE case_id = '" +
                       swapped +
                       "' AND seq = 3;"
                       "UPDATE events SET seq = 3 WHERE case_id = '" +
                       swapped + "' AND seq = -1;");
  auto expect_damaged = [&](const Reply& r, const std::string& id) {
    ExpectProblem(r, 500, "case-damaged");
    EXPECT_EQ(r.doc.value("case_id", ""), id) << r;
    EXPECT_EQ(r.doc.value("first_bad_seq", 0), 2) << r;
    EXPECT_TRUE(Contains(Detail(r), "damaged")) << r;
  };
  for (const std::string& id : {deleted, swapped}) {
    SCOPED_TRACE(id);
    Reply verify = api().Get("/v1/cases/" + id + "/verify", kAuditor);
    ASSERT_EQ(verify.status, 200) << verify;
    EXPECT_EQ(verify.doc["ok"], false);
    EXPECT_EQ(verify.doc["case_id"], id);
    EXPECT_EQ(verify.doc["first_bad_seq"], 2) << verify;
    EXPECT_FALSE(verify.doc.value("reason", "").empty());
    // The snapshot committed with the last event still reads.
    Reply now = api().Get("/v1/cases/" + id, kClerk);
    ASSERT_EQ(now.status, 200) << now;
    EXPECT_EQ(now.doc["step"], "decide");
    // The past is replayed from the events: it cannot be.
    expect_damaged(api().Get("/v1/cases/" + id + "?at=2026-03-02T10:00:00%2B08:00", kClerk), id);
    // The history is shown as stored, for the auditor to see.
    EXPECT_EQ(api().Get("/v1/cases/" + id + "/history", kAuditor).status, 200);
  }
  // With its snapshot unreadable too, verification still names the first bad event; a read is
  // served by the case's live machine, cached at the version the record names (reads decode the
  // snapshot only when the machine is not cached), so it still answers.
  harness::ExecSql(db, "UPDATE cases SET snapshot = 'garbage' WHERE id = '" + deleted + "';");
  Reply garbled = api().Get("/v1/cases/" + deleted + "/verify", kAuditor);
  ASSERT_EQ(garbled.status, 200) << garbled;
  EXPECT_EQ(garbled.doc["ok"], false) << garbled;
  EXPECT_EQ(garbled.doc["first_bad_seq"], 2) << garbled;
  Reply read = api().Get("/v1/cases/" + deleted, kClerk);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.doc["step"], "decide");
  // Another case is not affected.
  const std::string sound = Submitted();
  EXPECT_EQ(api().Get("/v1/cases/" + sound + "/verify", kAuditor).doc["ok"], true);
}

TEST_F(ApiTest, IfMatchPinsTheVersion) {
  std::string id = Submitted();
  Reply got = api().Get("/v1/cases/" + id, kClerk);
  ASSERT_EQ(got.Header("ETag"), "\"1\"");
  Reply accepted =
      api().Act(id, kClerk, "accept", json::object(), {{"If-Match", got.Header("ETag")}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.Header("ETag"), "\"2\"");

  // A stale version is refused, and nothing is recorded.
  Reply stale = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "\"1\""}});
  ExpectProblem(stale, 412, "stale-version");
  EXPECT_EQ(History(id).size(), 2u);
  // Malformed headers are 400.
  for (const char* bad :
       {"abc", "1 2", "3", "\"2", "\"2\" \"2\"", "\"2\",", "W/2", "\"2 \"", "\"1\", \"2\""}) {
    SCOPED_TRACE(bad);
    ExpectProblem(api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", bad}}), 400,
                  "bad-if-match");
  }
  EXPECT_EQ(History(id).size(), 2u);
  // Entity tags compare as strings, and a weak tag never matches (RFC 9110 strong comparison):
  // "02" is not version 2, W/"2" matches nothing.
  for (const char* other : {"\"02\"", "W/\"2\"", "\"\"", "\"1a\"", "\"0\"",
                            "\"99999999999999999999\"", "W/\"2\", \"x\""}) {
    SCOPED_TRACE(other);
    ExpectProblem(api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", other}}), 412,
                  "stale-version");
  }
  EXPECT_EQ(History(id).size(), 2u);
  // The current version matches, alone or in a list beside weak tags; "*" pins nothing.
  Reply passed = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "W/\"2\", \"2\""}});
  ASSERT_EQ(passed.status, 200) << passed;
  Reply sent_back =
      api().Act(id, kApprover, "send_back", {{"reason", "补充说明"}}, {{"If-Match", "\"3\""}});
  ASSERT_EQ(sent_back.status, 200) << sent_back;
  Reply star = api().Act(id, kReviewer, "pass", json::object(), {{"If-Match", "*"}});
  ASSERT_EQ(star.status, 200) << star;
  EXPECT_EQ(star.Header("ETag"), "\"5\"");
}

// Who may do what: role x action, each on a case in the state the action needs, with the exact
// status. Another applicant's case, or a case outside a clerk's organ, is a 404, not a 403.
TEST_F(ApiTest, AuthorizationMatrix) {
  struct Role {
    const char* name;
    const char* token;
  };
  const std::vector<Role> roles = {
      {"applicant (own)", kApplicant},
      {"applicant (other)", kOtherApplicant},
      {"clerk", kClerk},
      {"reviewer", kReviewer},
      {"approver", kApprover},
      {"auditor", kAuditor},
      {"admin", kAdmin},
      {"clerk (other organ)", kForeignClerk},
  };
  enum State { kSubmittedState, kReviewState, kDecisionState };
  struct Row {
    const char* action;  // "get" and "history" read; the others are case actions
    State state;
    std::vector<int> expected;  // one per role, in the order above
  };
  const std::vector<Row> table = {
      {"get", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"history", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"verify", kSubmittedState, {200, 404, 200, 200, 200, 200, 200, 404}},
      {"accept", kSubmittedState, {403, 404, 200, 403, 403, 403, 403, 404}},
      {"pass", kReviewState, {403, 404, 403, 200, 403, 403, 403, 404}},
      {"approve", kDecisionState, {403, 404, 403, 403, 200, 403, 403, 404}},
      {"withdraw", kSubmittedState, {200, 404, 403, 403, 403, 403, 403, 404}},
  };
  for (const Row& row : table) {
    ASSERT_EQ(row.expected.size(), roles.size());
    for (size_t i = 0; i < roles.size(); ++i) {
      SCOPED_TRACE(std::string(roles[i].name) + " x " + row.action);
      // A fresh case per cell, so that a permitted action does not change the next cell's case.
      std::string id = row.state == kSubmittedState ? Submitted()
                       : row.state == kReviewState  ? UnderReview()
                                                    : AtDecision();
      const size_t events_before = History(id).size();
      Reply r;
      std::string action = row.action;
      if (action == "get") {
        r = api().Get("/v1/cases/" + id, roles[i].token);
      } else if (action == "history") {
        r = api().Get("/v1/cases/" + id + "/history", roles[i].token);
      } else if (action == "verify") {
        r = api().Get("/v1/cases/" + id + "/verify", roles[i].token);
      } else {
        r = api().Act(id, roles[i].token, action);
      }
      EXPECT_EQ(r.status, row.expected[i]) << r;
      if (r.status == 200) {
        if (action == "get") {
          EXPECT_EQ(r.doc["id"], id);
        } else if (action == "history") {
          EXPECT_EQ(r.doc["events"].size(), events_before);
        }
      } else {
        ExpectProblem(r, row.expected[i], row.expected[i] == 404 ? "not-found" : "forbidden");
      }
      const bool acted =
          action != "get" && action != "history" && action != "verify" && r.status == 200;
      EXPECT_EQ(History(id).size(), events_before + (acted ? 1 : 0));
    }
  }
}

TEST_F(ApiTest, ClerkOfAnotherOrganSeesNothing) {
  std::string id = Submitted();
  ExpectProblem(api().Get("/v1/cases/" + id, kForeignClerk), 404, "not-found");
  ExpectProblem(api().Get("/v1/cases/" + id + "/history", kForeignClerk), 404, "not-found");
  ExpectProblem(api().Act(id, kForeignClerk, "accept"), 404, "not-found");
  // ... and cannot register cases for an item its organ does not implement.
  json body = NewPermit();
  body["applicant"] = {{"id", "ent-demo"}};
  Reply r = api().Post("/v1/cases", kForeignClerk, body);
  ExpectProblem(r, 403, "forbidden");
  EXPECT_NE(r.doc.value("detail", "").find("dz-approval-bureau"), std::string::npos) << r;
  EXPECT_EQ(History(id).size(), 1u);
}

TEST_F(ApiTest, ConcurrentAcceptsExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    std::string id = Submitted();
    std::mutex mutex;
    std::condition_variable cv;
    int ready = 0;
    bool go = false;
    std::vector<int> statuses(2);
    std::vector<std::thread> clerks;
    const char* tokens[] = {kClerk, kSecondClerk};
    for (int i = 0; i < 2; ++i) {
      clerks.emplace_back([&, i] {
        Api own(server_->port());
        own.Get("/healthz");  // connect first, so that both requests leave together
        {
          std::unique_lock<std::mutex> lock(mutex);
          ++ready;
          cv.notify_all();
          cv.wait(lock, [&] { return go; });
        }
        statuses[i] = own.Act(id, tokens[i], "accept").status;
      });
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return ready == 2; });
      go = true;
      cv.notify_all();
    }
    for (auto& t : clerks)
      t.join();
    std::sort(statuses.begin(), statuses.end());
    EXPECT_EQ(statuses, (std::vector<int>{200, 409}));
    json events = History(id);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1]["action"], "accept");
  }
}

TEST_F(ApiTest, IdempotentRetries) {
  // POST /v1/cases: the same key returns the same case and creates nothing.
  Reply first = api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(first.status, 201) << first;
  Reply retry = api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(retry.status, 201) << retry;
  EXPECT_EQ(retry.doc, first.doc);
  EXPECT_EQ(retry.Header("Location"), first.Header("Location"));
  EXPECT_EQ(retry.Header("ETag"), first.Header("ETag"));
  const std::string id = first.doc.value("id", "");
  EXPECT_EQ(api().Get("/v1/cases", kApplicant).doc["cases"].size(), 1u);
  EXPECT_EQ(History(id).size(), 1u);
  // Keys are per caller: another applicant's same key is its own.
  Reply other =
      api().Post("/v1/cases", kOtherApplicant, NewPermit(), {{"Idempotency-Key", "create-1"}});
  ASSERT_EQ(other.status, 201);
  EXPECT_NE(other.doc["id"], id);
  // A new key is a new case.
  Reply second =
      api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", "create-2"}});
  EXPECT_NE(second.doc["id"], id);

  // Actions: the retry returns the first outcome (not a 409) and records nothing.
  Reply accepted =
      api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  Reply accepted_again =
      api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(accepted_again.status, 200) << accepted_again;
  EXPECT_EQ(accepted_again.doc, accepted.doc);
  EXPECT_EQ(accepted_again.Header("ETag"), "\"2\"");
  EXPECT_EQ(History(id).size(), 2u);
  // Even after the case moved on, the retry answers with the case as the action left it.
  ASSERT_EQ(api().Act(id, kReviewer, "pass").status, 200);
  Reply late = api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "accept-1"}});
  ASSERT_EQ(late.status, 200) << late;
  EXPECT_EQ(late.doc, accepted.doc);
  EXPECT_EQ(History(id).size(), 3u);
  // Without the key the same request is a new attempt, refused now.
  ExpectProblem(api().Act(id, kClerk, "accept"), 409, "not-available");
  // The key belongs to the first case; using it on another is refused.
  ExpectProblem(api().Act(second.doc.value("id", ""), kClerk, "accept", json::object(),
                          {{"Idempotency-Key", "accept-1"}}),
                422, "invalid");
  EXPECT_EQ(History(second.doc.value("id", "")).size(), 1u);
  // Concurrent retries with one key record one event.
  std::string id3 = Submitted();
  std::vector<std::thread> retries;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i) {
    retries.emplace_back([&, i] {
      Api own(server_->port());
      statuses[i] =
          own.Act(id3, kClerk, "accept", json::object(), {{"Idempotency-Key", "k3"}}).status;
    });
  }
  for (auto& t : retries)
    t.join();
  for (int s : statuses)
    EXPECT_EQ(s, 200);
  EXPECT_EQ(History(id3).size(), 2u);
}

// A key a client could not be sure to send again byte for byte is refused before anything is
// recorded: bytes outside printable ASCII, one longer than the store keeps. (Control bytes are
// refused with the header line itself: connection_api_test.)
TEST_F(ApiTest, MalformedIdempotencyKeyIs400AndRecordsNothing) {
  const std::string too_long(256, 'k');
  const std::vector<std::string> malformed = {"\xE5\x8A\x9E-1", "key\xFF", too_long};
  for (const std::string& key : malformed) {
    SCOPED_TRACE(key.size());
    Reply created = api().Post("/v1/cases", kApplicant, NewPermit(), {{"Idempotency-Key", key}});
    ExpectProblem(created, 400, "bad-idempotency-key");
    EXPECT_NE(Detail(created).find("Idempotency-Key"), std::string::npos) << created;
  }
  EXPECT_EQ(api().Get("/v1/cases", kApplicant).doc["cases"].size(), 0u);
  const std::string id = Submitted();
  for (const std::string& key : malformed) {
    SCOPED_TRACE(key.size());
    // Twice: the second attempt goes through this process's cached machine.
    for (int attempt = 0; attempt < 2; ++attempt) {
      ExpectProblem(api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", key}}),
                    400, "bad-idempotency-key");
    }
  }
  EXPECT_EQ(History(id).size(), 1u);
  // Where the bad byte is, in the detail.
  EXPECT_EQ(
      Detail(api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "ab\xFF"}})),
      "Idempotency-Key byte 3 is 0xFF; a key is printable ASCII (a UUID, say)");
  // The longest key kept, and one with spaces and punctuation, work as keys do.
  const std::string longest(255, 'k');
  Reply accepted = api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", longest}});
  ASSERT_EQ(accepted.status, 200) << accepted;
  Reply again = api().Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", longest}});
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.doc, accepted.doc);
  EXPECT_EQ(History(id).size(), 2u);
  ASSERT_EQ(
      api()
          .Act(id, kReviewer, "pass", json::object(), {{"Idempotency-Key", "pass #1 (retry-safe)"}})
          .status,
      200);
  EXPECT_EQ(History(id).size(), 3u);
}

// ---- 收受分离: a window receives for the handling organ ----

TEST_F(ApiTest, ReceivingWindowTransfersToTheHandlingOrgan) {
  json body = NewFood();
  body["applicant"] = {
      {"id", "ent-remote"}, {"name", "异地企业有限公司"}, {"credit_code", "91330100MA2TB00027"}};
  Reply received = Create(kRemoteClerk, body);
  const std::string id = received.doc.value("id", "");
  EXPECT_EQ(received.doc["reception"]["received_by"], "nz-service-centre");
  EXPECT_EQ(received.doc["reception"]["agreement"], "nz-receives-for-dz-approval-bureau");
  EXPECT_EQ(received.doc["reception"]["transferred_at"], nullptr);
  EXPECT_EQ(ActionIds(received), std::set<std::string>{"transfer"});
  EXPECT_EQ(History(id)[0]["data"]["authority"]["basis"], "handling_agreement");
  // Nothing runs at the receiving window: a week later the case is not deemed accepted (art. 32
  // counts from the handling organ's receipt).
  Reply week = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 8}}}});
  ASSERT_EQ(week.status, 200) << week;
  EXPECT_EQ(week.doc["timer_events"], 0);
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["status"], "submitted");

  // The handling organ's clerk sees it but may not accept it before the transfer.
  Reply seen = api().Get("/v1/cases/" + id, kClerk);
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(ActionIds(seen), std::set<std::string>{});
  Reply early = api().Act(id, kClerk, "accept");
  ExpectProblem(early, 409, "not-available");
  EXPECT_TRUE(Contains(Detail(early), "transfer")) << early;
  // The receiving window only receives: it has no power to accept.
  Reply remote_accept = api().Act(id, kRemoteClerk, "accept");
  ExpectProblem(remote_accept, 403, "forbidden");
  EXPECT_TRUE(Contains(Detail(remote_accept), "city-amr")) << remote_accept;
  ExpectProblem(api().Act(id, kClerk, "transfer"), 403, "forbidden");
  EXPECT_EQ(History(id).size(), 1u);

  Reply transferred = api().Act(id, kRemoteClerk, "transfer");
  ASSERT_EQ(transferred.status, 200) << transferred;
  EXPECT_EQ(transferred.doc["status"], "submitted");
  EXPECT_TRUE(transferred.doc["reception"]["transferred_at"].is_string()) << transferred;
  EXPECT_EQ(ActionIds(transferred), std::set<std::string>{});
  EXPECT_NE(api().Act(id, kRemoteClerk, "transfer").status, 200);

  // Tracking shows where it was received and when it was passed on.
  Reply track = api().Get("/v1/track/" + received.doc.value("number", "") +
                          "?code=" + received.doc.value("query_code", ""));
  ASSERT_EQ(track.status, 200) << track;
  EXPECT_EQ(track.doc["received_by"], "××新区政务服务中心");
  EXPECT_EQ(track.doc["transferred_at"], transferred.doc["reception"]["transferred_at"]);
  EXPECT_FALSE(Contains(track.body, "remote-clerk-demo"));

  Reply accepted = api().Act(id, kClerk, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.doc["status"], "under_review");
  json events = History(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["action"], "transfer");
  EXPECT_EQ(events[1]["actor"]["id"], "remote-clerk-demo");
  EXPECT_EQ(events[2]["data"]["authority"]["delegation"], "food-licence-dz-2026");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);

  // The window receives only the items its agreement covers.
  json uncovered = NewPermit();
  uncovered["definition"] = "joint-drawing-review";
  uncovered["applicant"] = body["applicant"];
  ExpectProblem(api().Post("/v1/cases", kRemoteClerk, uncovered), 403, "forbidden");
}

// README.md says so: an action taken twice is not available the second time (409, the status
// in words), and a lost race is the same — not a 403 about roles.
TEST_F(ApiTest, ASecondApproveIsNotAvailable) {
  std::string id = AtDecision();
  ASSERT_EQ(api().Act(id, kApprover, "approve").status, 200);
  Reply again = api().Act(id, kApprover, "approve");
  ExpectProblem(again, 409, "not-available");
  EXPECT_EQ(Detail(again), "action \"approve\" is not available in status approved") << again;
  // The reviewer's pass, retried after the case moved on, is not available either.
  Reply late_pass = api().Act(id, kReviewer, "pass");
  ExpectProblem(late_pass, 409, "not-available");
}

// A step action retried with its Idempotency-Key gets the first outcome, although the case has
// moved on and the retry would no longer be the caller's to take (issue 10, item 1).
TEST_F(ApiTest, AnIdempotentRetryOfAStepActionGetsTheFirstOutcome) {
  std::string id = UnderReview();
  Reply first = api().Act(id, kReviewer, "pass", json::object(), {{"Idempotency-Key", "pass-1"}});
  ASSERT_EQ(first.status, 200) << first;
  Reply retry = api().Act(id, kReviewer, "pass", json::object(), {{"Idempotency-Key", "pass-1"}});
  ASSERT_EQ(retry.status, 200) << retry;
  EXPECT_EQ(retry.doc.value("version", 0), first.doc.value("version", -1));
  EXPECT_EQ(retry.doc.value("step", ""), "decide");
  EXPECT_EQ(History(id).size(), 3u);  // submit, accept, one pass
}

// Reviewers passing one case at once: one wins, the others lost a race and hear 409 (the action is
// no longer available), never a 403 about roles (issue 10, item 4).
TEST_F(ApiTest, LosersOfARaceOnAStepActionGet409) {
  std::string id = UnderReview();
  constexpr int kCallers = 8;
  std::vector<int> statuses(kCallers, 0);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      Api own(server_->port());
      statuses[i] = own.Act(id, kReviewer, "pass").status;
    });
  }
  for (std::thread& t : callers)
    t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), kCallers - 1);
}

// Twins sent at once with one Idempotency-Key: every one answers the first outcome, one event.
TEST_F(ApiTest, ConcurrentTwinsWithOneKeyGetOneOutcome) {
  std::string id = Submitted();
  constexpr int kTwins = 8;
  std::vector<Reply> replies(kTwins);
  std::vector<std::thread> twins;
  for (int i = 0; i < kTwins; ++i) {
    twins.emplace_back([&, i] {
      Api own(server_->port());
      replies[i] = own.Act(id, kClerk, "accept", json::object(), {{"Idempotency-Key", "twin-1"}});
    });
  }
  for (std::thread& t : twins)
    t.join();
  for (const Reply& r : replies) {
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.doc.value("version", 0), 2) << r;
  }
  EXPECT_EQ(History(id).size(), 2u);  // submit and one accept
}

}  // namespace
}  // namespace tongban::api::api_test
