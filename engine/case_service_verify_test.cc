// Verification of CaseService (case_service_verify.cc) against tampering done with the real sqlite3
// tool (on PostgreSQL, the same SQL over libpq): every kind of rewrite is found at its event, a
// live database reports no write in flight, and parallel verification reports what one thread
// reports.
#include "engine/case_service_test_util.h"

namespace tongban {
namespace {

using namespace case_service_test;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

TEST_F(CaseServiceTest, TamperedEventDataIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "UPDATE events SET data = '{\"comment\":\"looks fine\"}' WHERE case_id = '" +
              id + "' AND seq = 2;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, id);
  ASSERT_TRUE(report.first_bad_seq.has_value());
  EXPECT_EQ(*report.first_bad_seq, 2);
  EXPECT_NE(report.reason.find("altered"), std::string::npos) << report.reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.case_id, id);
  EXPECT_EQ(all.first_bad_seq, 2);
  EXPECT_FALSE(all.reason.empty());
  EXPECT_TRUE(service_->Verify(other_).ok);
  json j = VerifyReportToJson(report);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["case_id"], id);
  EXPECT_EQ(j["first_bad_seq"], 2);
}

TEST_F(CaseServiceTest, DeletedLastEventIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_delete;\n"
          "DELETE FROM events WHERE case_id = '" +
              id + "' AND seq = 4;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, id);
  EXPECT_EQ(report.first_bad_seq, 4) << report.reason;
  EXPECT_NE(report.reason.find("version 4"), std::string::npos) << report.reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.case_id, id);
  EXPECT_EQ(all.first_bad_seq, 4) << all.reason;
}

TEST_F(CaseServiceTest, DeletedMiddleEventIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_delete;\n"
          "DELETE FROM events WHERE case_id = '" +
              id + "' AND seq = 2;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
  EXPECT_NE(report.reason.find("missing"), std::string::npos) << report.reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_EQ(all.case_id, id);
  EXPECT_EQ(all.first_bad_seq, 2);
}

TEST_F(CaseServiceTest, ChangedHashIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "UPDATE events SET hash = '" +
              std::string(64, 'f') + "' WHERE case_id = '" + id + "' AND seq = 3;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, id);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_NE(report.reason.find("hash"), std::string::npos) << report.reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_EQ(all.case_id, id);
  EXPECT_EQ(all.first_bad_seq, 3);
}

TEST_F(CaseServiceTest, ARewrittenEventWithARecomputedHashBreaksTheChain) {
  // Someone who knows the hash function rewrites event 2 and its hash: event 3 still points at the
  // old hash.
  std::string id = ApprovedCase();
  Event e = service_->History(id)->at(1);
  e.data = CanonicalJson({{"comment", "rewritten"}});
  e.hash = ComputeEventHash(e);
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "UPDATE events SET data = '" +
              e.data + "', hash = '" + e.hash + "' WHERE case_id = '" + id + "' AND seq = 2;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_NE(report.reason.find("chain"), std::string::npos) << report.reason;
}

TEST_F(CaseServiceTest, ARewrittenLastEventIsFoundByReplay) {
  // The last event rewritten consistently (status and hash): the chain holds, but replaying the
  // events does not reproduce what the event records.
  std::string id = ApprovedCase();
  Event e = service_->History(id)->back();
  ASSERT_EQ(e.seq, 4);
  e.status = "denied";
  e.hash = ComputeEventHash(e);
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "UPDATE events SET status = 'denied', hash = '" +
              e.hash + "' WHERE case_id = '" + id + "' AND seq = 4;");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_NE(report.reason.find("replay"), std::string::npos) << report.reason;
  // Reads come from the stored snapshot and do not see the events; whatever replays them does.
  EXPECT_EQ(service_->GetAt(id, clock_.Now()).status().code(), StatusCode::kDataLoss);
}

TEST_F(CaseServiceTest, TamperedSnapshotIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "UPDATE cases SET snapshot = replace(snapshot, '\"status\":\"approved\"', "
          "'\"status\":\"closed\"') WHERE id = '" +
              id + "';");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, id);
  EXPECT_NE(report.reason.find("snapshot"), std::string::npos) << report.reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.case_id, id);
  EXPECT_TRUE(service_->Verify(other_).ok);
}

// A deployed definition edited in the database (its deadline stretched, so that overdue cases no
// longer look overdue): its text no longer matches the content hash recorded at deployment. The
// cases replay as before, so only the definition check finds it, for the case and the database.
TEST_F(CaseServiceTest, ADefinitionEditedAfterDeploymentIsFound) {
  std::string id = ApprovedCase();
  VerifyReport before = service_->VerifyAll();
  ASSERT_TRUE(before.ok) << before.reason;
  EXPECT_GT(before.definitions, 10);
  EXPECT_EQ(service_->Verify(id).definitions, 1);
  auto view = service_->Get(id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const std::string version = std::to_string(view->state.definition_version);
  const std::string definition = "item/construction-permit@" + version;
  Close();
  Sqlite3(path_,
          "DROP TRIGGER definitions_immutable_update;\n"
          "UPDATE definitions SET text = replace(text, '\"statutory_days\": 7', "
          "'\"statutory_days\": 70') WHERE id = 'construction-permit' AND version = " +
              version + ";");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.subject, "definition");
  EXPECT_EQ(report.case_id, definition);
  EXPECT_FALSE(report.first_bad_seq.has_value());
  EXPECT_NE(report.reason.find("changed after deployment"), std::string::npos) << report.reason;
  EXPECT_EQ(VerifyReportLine(report), "BROKEN: definition " + definition + ": " + report.reason);
  VerifyReport all = service_->VerifyAll();
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.subject, "definition");
  EXPECT_EQ(all.case_id, definition);
  // Every case was verified before the definitions.
  EXPECT_EQ(all.cases, before.cases);
  json j = VerifyReportToJson(all);
  EXPECT_EQ(j["subject"], "definition");
  EXPECT_EQ(j["case_id"], definition);
}

TEST_F(CaseServiceTest, TamperedCaseColumnsAreFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_, "UPDATE cases SET status = 'closed' WHERE id = '" + id + "';");
  Open();
  EXPECT_FALSE(service_->Verify(id).ok);
  Close();
  Sqlite3(path_, "UPDATE cases SET status = 'approved', version = 9 WHERE id = '" + id + "';");
  Open();
  VerifyReport report = service_->Verify(id);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("version 9"), std::string::npos) << report.reason;
}

TEST_F(CaseServiceTest, ARecordWithoutEventsIsFound) {
  std::string id = ApprovedCase();
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_delete;\n"
          "DELETE FROM events WHERE case_id = '" +
              other_ + "';");
  Open();
  EXPECT_TRUE(service_->Verify(id).ok);
  VerifyReport report = service_->Verify(other_);
  EXPECT_FALSE(report.ok);
  VerifyReport all = service_->VerifyAll();
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.case_id, other_);
  EXPECT_NE(all.reason.find("no events"), std::string::npos) << all.reason;
}

TEST_F(CaseServiceTest, VerifyingALiveDatabaseReportsNoWriteInFlight) {
  // VerifyAll streams the events and reads the case records it joins with them a batch at a time,
  // later. A case created and a case acted on after the event scan began are not damage (their
  // records are newer than the events the scan sees); a record really missing still is.
  std::string approved = ApprovedCase();
  CountingStore counting(store_.get());
  CaseService verifying(&counting, registry_.get(), &clock_);
  std::string created;
  bool written = false;
  counting.after_first_event = [&] {
    if (written) return;
    written = true;
    created = Create().state.id;
    MustAct(other_, "pass", Reviewer());
  };
  VerifyReport report = verifying.VerifyAll({}, 1);
  ASSERT_TRUE(written);
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
  EXPECT_EQ(report.cases, 3);
  EXPECT_EQ(report.events, 4 + 3 + 1);
  EXPECT_TRUE(verifying.Verify(other_).ok);

  Close();
  Sqlite3(path_, "DELETE FROM cases WHERE id = '" + created + "';");
  Open();
  CountingStore damaged(store_.get());
  CaseService verifying_damaged(&damaged, registry_.get(), &clock_);
  report = verifying_damaged.VerifyAll({}, 1);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, created);
  EXPECT_EQ(report.reason, "events exist but the case record is missing");
  EXPECT_EQ(verifying_damaged.Verify(created).reason,
            "events exist but the case record is missing");
  EXPECT_TRUE(verifying_damaged.Verify(approved).ok);
}

TEST_F(CaseServiceTest, ParallelVerificationReportsWhatOneThreadReports) {
  // Twelve cases; four of them damaged in different ways, spread over the id order so that with
  // two threads two lie in each half. Each round, every thread count must report the first damaged
  // case exactly as one thread does (with the events and cases counted before it); then that case
  // is removed and the next one must be found, until the database verifies.
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    std::string id = Create().state.id;
    MustAct(id, "accept", Clerk());
    if (i % 2 == 0) MustAct(id, "pass", Reviewer());
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  auto where = [](const std::string& id) { return " WHERE case_id = '" + id + "'"; };
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "DROP TRIGGER events_append_only_delete;\n"
          "UPDATE events SET data = '{\"comment\":\"x\"}'" +
              where(ids[1]) + " AND seq = 2;\n" + "DELETE FROM events" + where(ids[4]) +
              " AND seq = 2;\n" +
              "UPDATE cases SET snapshot = replace(snapshot, '\"status\":\"under_review\"', "
              "'\"status\":\"closed\"') WHERE id = '" +
              ids[7] + "';\n" + "DELETE FROM events" + where(ids[10]) + ";");
  Open();
  const std::vector<std::string> damaged = {ids[1], ids[4], ids[7], ids[10]};
  for (const std::string& expected : damaged) {
    VerifyReport one = service_->VerifyAll({}, 1);
    EXPECT_FALSE(one.ok);
    EXPECT_EQ(one.case_id, expected) << one.reason;
    for (int threads : {2, 3, 4, 12, 16}) {
      int64_t last_done = 0;
      VerifyReport many = service_->VerifyAll(
          [&](int64_t done, int64_t) {
            EXPECT_GE(done, last_done);
            last_done = done;
          },
          threads);
      EXPECT_EQ(VerifyReportToJson(many), VerifyReportToJson(one)) << threads << " threads";
    }
    Close();
    Sqlite3(path_, "DELETE FROM events" + where(expected) + ";\nDELETE FROM cases WHERE id = '" +
                       expected + "';");
    Open();
  }
  VerifyReport one = service_->VerifyAll({}, 1);
  EXPECT_TRUE(one.ok) << one.reason;
  EXPECT_EQ(one.cases, 8);
  for (int threads : {1, 2, 3, 16}) {
    // Progress counts cases and ends at (all of them, all of them).
    int64_t last_done = -1, last_total = -1;
    VerifyReport many = service_->VerifyAll(
        [&](int64_t done, int64_t total) {
          last_done = done;
          last_total = total;
        },
        threads);
    EXPECT_EQ(VerifyReportToJson(many), VerifyReportToJson(one)) << threads << " threads";
    EXPECT_EQ(last_done, 8) << threads << " threads";
    EXPECT_EQ(last_total, 8) << threads << " threads";
  }
}

TEST_F(CaseServiceTest, AnAuditorsListingNamesEveryBrokenCaseUpToItsLimit) {
  // Ten cases, three of them altered, and one deployed definition's text edited: a listing with
  // room names all four in order (cases by id, then the definition), on any number of threads; a
  // smaller limit stops there and says more may exist, with the cases counted up to the last one
  // looked at.
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    std::string id = Create().state.id;
    MustAct(id, "accept", Clerk());
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  Close();
  std::string sql =
      "DROP TRIGGER events_append_only_update;\n"
      "DROP TRIGGER events_append_only_delete;\n";
  for (int altered : {2, 5, 9}) {
    sql += "UPDATE events SET data = '{\"comment\":\"x\"}' WHERE case_id = '" + ids[altered] +
           "' AND seq = 2;\n";
  }
  sql +=
      "DROP TRIGGER definitions_immutable_update;\n"
      "UPDATE definitions SET text = replace(text, '\"statutory_days\": 7', "
      "'\"statutory_days\": 70') WHERE id = 'construction-permit';\n";
  Sqlite3(path_, sql);
  Open();

  for (int threads : {1, 2, 3, 8}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    VerifyReport all = service_->VerifyAll({}, threads, 100);
    EXPECT_FALSE(all.ok);
    EXPECT_FALSE(all.findings_truncated);
    EXPECT_EQ(all.cases, 10);
    ASSERT_GE(all.findings.size(), 4u) << VerifyReportLine(all);
    const int broken[] = {2, 5, 9};
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(all.findings[k].subject, "case");
      EXPECT_EQ(all.findings[k].case_id, ids[broken[k]]);
      EXPECT_EQ(all.findings[k].first_bad_seq, 2);
    }
    EXPECT_EQ(all.findings[3].subject, "definition");
    // The report's own fields are the first finding's.
    EXPECT_EQ(all.case_id, ids[2]);
    EXPECT_EQ(all.first_bad_seq, 2);
    const std::string text = VerifyReportLine(all);
    EXPECT_EQ(text.rfind("BROKEN: case " + ids[2] + ", event 2: ", 0), 0u) << text;
    EXPECT_NE(text.find("\nBROKEN: case " + ids[9] + ", event 2: "), std::string::npos) << text;
    EXPECT_NE(text.find("finding(s) in 10 case(s) looked at"), std::string::npos) << text;
    EXPECT_EQ(text.find("there may be more"), std::string::npos) << text;
    json j = VerifyReportToJson(all);
    EXPECT_EQ(j["findings"].size(), all.findings.size());
    EXPECT_EQ(j["findings"][1]["case_id"], ids[5]);
    EXPECT_FALSE(j.contains("findings_truncated"));

    VerifyReport two = service_->VerifyAll({}, threads, 2);
    EXPECT_TRUE(two.findings_truncated);
    ASSERT_EQ(two.findings.size(), 2u);
    EXPECT_EQ(two.findings[1].case_id, ids[5]);
    EXPECT_EQ(two.cases, 6) << "counted up to the case that reached the limit";
    EXPECT_NE(VerifyReportLine(two).find("there may be more"), std::string::npos);
    EXPECT_EQ(VerifyReportToJson(two)["findings_truncated"], true);

    // The default answers at the first break, as before.
    VerifyReport first = service_->VerifyAll({}, threads);
    ASSERT_EQ(first.findings.size(), 1u);
    EXPECT_EQ(first.case_id, ids[2]);
    EXPECT_EQ(first.cases, 3);
  }
}

}  // namespace
}  // namespace tongban
