// End-to-end tests of CaseService over the store under test (test_store.h: a real SQLite file, or a
// PostgreSQL schema in the PostgreSQL variant), the shipped definitions and a simulated clock: the
// life of a case, reading it now and as it stood, idempotent retries, If-Match, concurrent actions,
// timers that fire on their own (also after re-opening the store), reads without replay and the
// machine cache (verification: case_service_verify_test.cc).
#include "engine/case_service_test_util.h"

namespace tongban {
namespace {

using namespace case_service_test;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

// ---- The life of a case
// ---------------------------------------------------------------------------

TEST_F(CaseServiceTest, CreateAcceptReviewApproveDeliver) {
  CaseView created = Create();
  const std::string id = created.state.id;
  // Made on the simulated clock's instant: the id's time digits are that instant (case_ids.h).
  ASSERT_EQ(id.size(), 1u + kCaseIdTimeDigits + kCaseIdRandomDigits);
  EXPECT_EQ(id[0], 'c');
  EXPECT_EQ(std::stoll(id.substr(1, kCaseIdTimeDigits), nullptr, 16),
            clock_.Now().time_since_epoch().count());
  EXPECT_EQ(created.state.status, CaseStatus::kSubmitted);
  EXPECT_EQ(created.state.version, 1);
  EXPECT_EQ(created.state.number.rfind("TB20260302-", 0), 0u) << created.state.number;
  EXPECT_EQ(created.state.query_code.size(), 8u);
  // Received Monday 03-02: 5 working days are 03-03..03-06 and 03-09.
  EXPECT_EQ(FormatIsoDay(*created.clock.acceptance_deadline), "2026-03-09");

  auto accepted = Act(id, "accept", Clerk());
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->state.status, CaseStatus::kUnderReview);
  EXPECT_EQ(accepted->step_id, "review");
  EXPECT_EQ(accepted->state.version, 2);
  // Statute 7 working days from 03-02: 03-03 .. 03-11; promise 3: 03-05.
  EXPECT_EQ(FormatIsoDay(*accepted->clock.statutory_due), "2026-03-11");
  EXPECT_EQ(FormatIsoDay(*accepted->clock.promised_due), "2026-03-05");

  auto passed = Act(id, "pass", Reviewer());
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(passed->step_id, "decide");
  // Four-eyes: the reviewer may not decide.
  auto same_person = Act(id, "approve", {"rev-1", "approver", "dz-approval-bureau", ""});
  EXPECT_EQ(same_person.status().code(), StatusCode::kPermissionDenied);
  auto approved = Act(id, "approve", Approver());
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->state.status, CaseStatus::kApproved);
  EXPECT_TRUE(approved->clock.stopped);
  auto delivered = Act(id, "deliver", Clerk());
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(delivered->state.status, CaseStatus::kClosed);
  EXPECT_EQ(delivered->state.version, 5);

  auto history = service_->History(id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 5u);
  std::vector<std::string> actions;
  std::string previous = kGenesisHash;
  for (const Event& e : *history) {
    actions.push_back(e.action);
    EXPECT_EQ(e.prev_hash, previous);
    EXPECT_EQ(ComputeEventHash(e), e.hash);
    previous = e.hash;
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"submit", "accept", "pass", "approve", "deliver"}));
  EXPECT_EQ(delivered->state.last_hash, history->back().hash);

  auto record = store_->GetCase(id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->status, "closed");
  EXPECT_EQ((*record)->version, 5);
  EXPECT_FALSE((*record)->next_timer_at.has_value());

  auto by_number = service_->GetByNumber(created.state.number);
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number->state.id, id);

  VerifyReport report = service_->Verify(id);
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.events, 5);
  VerifyReport all = service_->VerifyAll();
  EXPECT_TRUE(all.ok) << all.reason;
  EXPECT_EQ(all.cases, 1);
  EXPECT_EQ(all.events, 5);
}

TEST_F(CaseServiceTest, ErrorsOfCreateAndAct) {
  NewCase unknown = ConstructionPermit();
  unknown.definition_id = "no-such-item";
  EXPECT_EQ(service_->Create(unknown).status().code(), StatusCode::kNotFound);
  NewCase by_reviewer = ConstructionPermit();
  by_reviewer.actor = Reviewer();
  EXPECT_EQ(service_->Create(by_reviewer).status().code(), StatusCode::kPermissionDenied);
  NewCase bad_form = ConstructionPermit();
  bad_form.form["contract_price_wan"] = "很多";
  EXPECT_EQ(service_->Create(bad_form).status().code(), StatusCode::kInvalidArgument);
  NewCase bad_commitment = ConstructionPermit();
  bad_commitment.mode = "commitment";
  bad_commitment.commitment = {{"template_id", 1}};
  Result<CaseView> result = Status::Internal("not run");
  EXPECT_NO_THROW(result = service_->Create(bad_commitment));
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EventCount(), 0);
  EXPECT_EQ(Act("c-none", "accept", Clerk()).status().code(), StatusCode::kNotFound);
  std::string id = Create().state.id;
  EXPECT_EQ(Act(id, "approve", Approver()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Act(id, "accept", Reviewer()).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(EventCount(), 1);
}

// ---- Reading the past
// -----------------------------------------------------------------------------

TEST_F(CaseServiceTest, GetAtShowsTheCaseAsItStood) {
  Instant t0 = clock_.Now();
  std::string id = Create().state.id;  // 09:00
  MustAct(id, "accept", Clerk());      // 10:00
  MustAct(id, "pass", Reviewer());     // 11:00
  MustAct(id, "approve", Approver());  // 12:00

  auto before = service_->GetAt(id, t0 - std::chrono::milliseconds(1));
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
  auto at_submit = service_->GetAt(id, t0);
  ASSERT_TRUE(at_submit.ok()) << at_submit.status().ToString();
  EXPECT_EQ(at_submit->state.status, CaseStatus::kSubmitted);
  EXPECT_EQ(at_submit->state.version, 1);
  auto in_review = service_->GetAt(id, t0 + hours(1) + minutes(30));
  ASSERT_TRUE(in_review.ok());
  EXPECT_EQ(in_review->state.status, CaseStatus::kUnderReview);
  EXPECT_EQ(in_review->step_id, "review");
  EXPECT_EQ(in_review->state.version, 2);
  EXPECT_EQ(in_review->as_of, t0 + hours(1) + minutes(30));
  auto in_decide = service_->GetAt(id, t0 + hours(2));
  ASSERT_TRUE(in_decide.ok());
  EXPECT_EQ(in_decide->step_id, "decide");
  // The clock is computed for the time asked about: on 03-02 no working day had been used.
  EXPECT_EQ(in_review->clock.working_days_used, 0);
  auto now = service_->Get(id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->state.status, CaseStatus::kApproved);
  EXPECT_EQ(now->state.version, 4);
  EXPECT_EQ(service_->GetAt(id, t0 + hours(100))->state.version, 4);
  EXPECT_EQ(service_->Get("c-none").status().code(), StatusCode::kNotFound);
}

// ---- Idempotency and If-Match
// ---------------------------------------------------------------------

TEST_F(CaseServiceTest, IdempotentRetriesReturnTheFirstResultAndAddNothing) {
  auto first = service_->Create(ConstructionPermit("create-1"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(minutes(5));
  auto retry = service_->Create(ConstructionPermit("create-1"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->state.id, first->state.id);
  EXPECT_EQ(CaseViewToJson(*retry), CaseViewToJson(*first));
  EXPECT_EQ(EventCount(), 1);
  EXPECT_EQ(store_->CountCases().value(), 1);
  const std::string id = first->state.id;

  auto accepted = Act(id, "accept", Clerk(), json::object(), "accept-1");
  ASSERT_TRUE(accepted.ok());
  auto accepted_again = Act(id, "accept", Clerk(), json::object(), "accept-1");
  ASSERT_TRUE(accepted_again.ok()) << accepted_again.status().ToString();
  EXPECT_EQ(CaseViewToJson(*accepted_again), CaseViewToJson(*accepted));
  EXPECT_EQ(EventCount(), 2);
  // Still the first result after the case has moved on.
  MustAct(id, "pass", Reviewer());
  accepted_again = Act(id, "accept", Clerk(), json::object(), "accept-1");
  ASSERT_TRUE(accepted_again.ok());
  EXPECT_EQ(accepted_again->state.version, 2);
  EXPECT_EQ(accepted_again->step_id, "review");
  EXPECT_EQ(EventCount(), 3);
  // A key belongs to its actor: another clerk's same key is a new request.
  auto other_clerk = Act(id, "accept", Clerk("clerk-2"), json::object(), "accept-1");
  EXPECT_EQ(other_clerk.status().code(), StatusCode::kFailedPrecondition);
  // The same key for another case is a client error.
  std::string second = Create().state.id;
  auto misuse = Act(second, "accept", Clerk(), json::object(), "accept-1");
  EXPECT_EQ(misuse.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EventCount(), 4);
}

TEST_F(CaseServiceTest, ConcurrentRetriesWithOneKeyGetOneResult) {
  // A client that times out and retries while its first request is still running: both requests
  // carry the same key and must both get the one result, with one event recorded.
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::string id = Create().state.id;
    const std::string key = "accept-" + std::to_string(round);
    std::atomic<int> ready{0};
    Result<CaseView> results[2] = {Status::Internal("not run"), Status::Internal("not run")};
    std::thread threads[2];
    for (int t = 0; t < 2; ++t) {
      threads[t] = std::thread([&, t] {
        ActRequest r;
        r.case_id = id;
        r.action = "accept";
        r.actor = Clerk();
        r.idempotency_key = key;
        ready.fetch_add(1);
        while (ready.load() < 2)
          std::this_thread::yield();
        results[t] = service_->Act(r);
      });
    }
    for (auto& t : threads)
      t.join();
    ASSERT_TRUE(results[0].ok()) << "round " << round << ": " << results[0].status().ToString();
    ASSERT_TRUE(results[1].ok()) << "round " << round << ": " << results[1].status().ToString();
    EXPECT_EQ(CaseViewToJson(*results[0]), CaseViewToJson(*results[1]));
    EXPECT_EQ(service_->History(id)->size(), 2u);
  }
}

TEST_F(CaseServiceTest, StaleIfMatchIsAborted) {
  std::string id = Create().state.id;
  MustAct(id, "accept", Clerk());
  auto stale = Act(id, "pass", Reviewer(), json::object(), "", 1);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted) << stale.status().ToString();
  EXPECT_EQ(EventCount(), 2);
  auto fresh = Act(id, "pass", Reviewer(), json::object(), "", 2);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->state.version, 3);
}

TEST_F(CaseServiceTest, ConcurrentAcceptsOneWins) {
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::string id = Create().state.id;
    std::atomic<int> ready{0};
    Result<CaseView> results[2] = {Status::Internal("not run"), Status::Internal("not run")};
    std::thread threads[2];
    for (int t = 0; t < 2; ++t) {
      threads[t] = std::thread([&, t] {
        ActRequest r;
        r.case_id = id;
        r.action = "accept";
        r.actor = Clerk("clerk-" + std::to_string(t));
        ready.fetch_add(1);
        while (ready.load() < 2)
          std::this_thread::yield();
        results[t] = service_->Act(r);
      });
    }
    for (auto& t : threads)
      t.join();
    int ok = 0;
    for (const auto& r : results) {
      if (r.ok()) {
        ++ok;
      } else {
        EXPECT_TRUE(r.status().code() == StatusCode::kFailedPrecondition ||
                    r.status().code() == StatusCode::kAborted)
            << r.status().ToString();
      }
    }
    EXPECT_EQ(ok, 1) << "round " << round;
    auto history = service_->History(id);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 2u) << "round " << round;
    EXPECT_TRUE(service_->Verify(id).ok);
  }
}

TEST_F(CaseServiceTest, ConcurrentActionsOnManyCasesAllLand) {
  constexpr int kThreads = 6;
  std::vector<std::string> ids;
  for (int i = 0; i < kThreads; ++i)
    ids.push_back(Create().state.id);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (const char* step : {"accept", "pass", "approve", "deliver"}) {
        ActRequest r;
        r.case_id = ids[t];
        r.action = step;
        r.actor = std::string(step) == "pass"      ? Reviewer()
                  : std::string(step) == "approve" ? Approver()
                                                   : Clerk();
        if (!service_->Act(r).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(EventCount(), kThreads * 5);
  VerifyReport all = service_->VerifyAll();
  EXPECT_TRUE(all.ok) << all.case_id << " " << all.reason;
  EXPECT_EQ(all.cases, kThreads);
}

// ---- Timers
// ---------------------------------------------------------------------------------------

// Received Monday 03-02 09:00. No correction notice by the end of 03-09 (5 working days: 03-03,
// 03-04, 03-05, 03-06, 03-09): deemed accepted at 2026-03-10 00:00 Beijing (03-09T16:00Z), as of
// receipt. Statute: 7 working days after 03-02 = 03-11, overdue from 03-12 00:00 (03-11T16:00Z).
TEST_F(CaseServiceTest, DeemedAcceptanceAndOverdueFireOnceEach) {
  std::string id = Create().state.id;
  EXPECT_EQ(FormatTimestamp(*store_->GetCase(id)->value().next_timer_at),
            "2026-03-09T16:00:00.000Z");
  clock_.Set(T("2026-03-09T23:59:00+08:00"));
  auto fired = service_->FireDueTimers();
  ASSERT_TRUE(fired.ok());
  EXPECT_EQ(*fired, 0);
  clock_.Set(T("2026-03-10T00:30:00+08:00"));
  fired = service_->FireDueTimers();
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(*fired, 1);
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  auto view = service_->Get(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state.status, CaseStatus::kUnderReview);
  EXPECT_TRUE(view->state.deemed_accepted);
  EXPECT_EQ(view->state.accepted_at, T("2026-03-02T09:00:00+08:00"));
  EXPECT_EQ(FormatIsoDay(*view->clock.statutory_due), "2026-03-11");
  auto history = service_->History(id);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].action, "deem_accepted");
  EXPECT_EQ((*history)[1].actor.id, "system");
  EXPECT_EQ(FormatTimestamp((*history)[1].time), "2026-03-09T16:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(*store_->GetCase(id)->value().next_timer_at),
            "2026-03-11T16:00:00.000Z");

  clock_.Set(T("2026-03-11T23:00:00+08:00"));
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  clock_.Set(T("2026-03-12T08:00:00+08:00"));
  EXPECT_EQ(*service_->FireDueTimers(), 1);
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  clock_.Advance(hours(24 * 30));
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  view = service_->Get(id);
  EXPECT_TRUE(view->state.overdue_recorded);
  EXPECT_EQ(view->clock.light, Light::kRed);
  history = service_->History(id);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2].action, "mark_overdue");
  EXPECT_FALSE(store_->GetCase(id)->value().next_timer_at.has_value());
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, TimersSurviveReopeningTheStore) {
  std::string id = Create().state.id;
  Reopen();
  clock_.Set(T("2026-03-10T00:30:00+08:00"));
  auto fired = service_->FireDueTimers();
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(*fired, 1);
  Reopen();
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  EXPECT_EQ(service_->Get(id)->state.status, CaseStatus::kUnderReview);
  clock_.Set(T("2026-03-12T08:00:00+08:00"));
  Reopen();
  EXPECT_EQ(*service_->FireDueTimers(), 1);
  EXPECT_TRUE(service_->Get(id)->state.overdue_recorded);
  Reopen();
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  EXPECT_TRUE(service_->VerifyAll().ok);
}

TEST_F(CaseServiceTest, AnActionAfterADeadlineRecordsTheTimerFirst) {
  std::string id = Create().state.id;
  clock_.Set(T("2026-03-10T09:00:00+08:00"));
  // Too late to accept by hand: the law deemed it accepted at the end of 03-09.
  auto late = Act(id, "accept", Clerk());
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition) << late.status().ToString();
  auto view = service_->Get(id);
  EXPECT_EQ(view->state.status, CaseStatus::kUnderReview);
  EXPECT_TRUE(view->state.deemed_accepted);
  EXPECT_EQ(EventCount(), 2);
  // Reviewing goes on from there, in one write with no timer pending.
  MustAct(id, "pass", Reviewer());
  EXPECT_EQ(EventCount(), 3);
  EXPECT_EQ(*service_->FireDueTimers(), 0);
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, ABrokenCaseDoesNotHoldUpOtherCasesTimers) {
  // The broken case comes due first (received 03-02, deemed accepted at the end of 03-09), the
  // good one a day later (received 03-03: 03-04, 03-05, 03-06, 03-09, 03-10).
  std::string broken = Create().state.id;
  clock_.Set(T("2026-03-03T09:00:00+08:00"));
  std::string good = Create().state.id;
  // Rewrite the broken case's only event consistently (hash recomputed): it no longer replays.
  Event e = service_->History(broken)->at(0);
  e.status = "approved";
  e.hash = ComputeEventHash(e);
  Close();
  Sqlite3(path_,
          "DROP TRIGGER events_append_only_update;\n"
          "UPDATE events SET status = 'approved', hash = '" +
              e.hash + "' WHERE case_id = '" + broken + "';");
  Open();
  clock_.Set(T("2026-03-11T08:00:00+08:00"));
  auto fired = service_->FireDueTimers();
  ASSERT_FALSE(fired.ok());
  EXPECT_EQ(fired.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(fired.status().message().find(broken), std::string::npos) << fired.status().message();
  // The good case's deadline was applied all the same.
  auto view = service_->Get(good);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state.status, CaseStatus::kUnderReview);
  EXPECT_TRUE(view->state.deemed_accepted);
  EXPECT_EQ(service_->History(good)->size(), 2u);
}

// ---- Reads without replay; the machine cache
// -----------------------------------------------------

ActRequest Request(const std::string& id, const std::string& action, const Actor& actor,
                   json data = json::object()) {
  ActRequest r;
  r.case_id = id;
  r.action = action;
  r.actor = actor;
  r.data = std::move(data);
  return r;
}

// A second service over the same file whose store counts reads of history.
struct CountedService {
  CountedService(Store* base, DefinitionRegistry* registry, const Clock* clock)
      : store(base), service(&store, registry, clock) {}
  CountingStore store;
  CaseService service;
};

TEST_F(CaseServiceTest, ReadsComeFromTheSnapshotNotTheHistory) {
  std::string id = ApprovedCase();
  // A longer history: suspensions and resumptions on the other case.
  for (int i = 0; i < 10; ++i) {
    MustAct(other_, "suspend", Approver(), {{"reason", "hearing"}});
    MustAct(other_, "resume", Approver());
  }
  CountedService counted(store_.get(), registry_.get(), &clock_);
  for (const std::string& case_id : {id, other_}) {
    auto view = counted.service.Get(case_id);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    auto by_number = counted.service.GetByNumber(view->state.number);
    ASSERT_TRUE(by_number.ok());
    // What a replay of the history builds, at the same time.
    auto replayed = service_->GetAt(case_id, view->as_of);
    ASSERT_TRUE(replayed.ok());
    EXPECT_EQ(CaseViewToJson(*view), CaseViewToJson(*replayed));
    EXPECT_EQ(CaseViewToJson(*by_number), CaseViewToJson(*replayed));
  }
  EXPECT_EQ(counted.store.get_events, 0);
  EXPECT_GT(counted.store.get_case, 0);
}

TEST_F(CaseServiceTest, ActionsUseTheCachedMachine) {
  CountedService counted(store_.get(), registry_.get(), &clock_);
  auto created = counted.service.Create(ConstructionPermit());
  ASSERT_TRUE(created.ok());
  const std::string id = created->state.id;
  EXPECT_EQ(counted.service.machine_cache().CachedVersion(id), 1);
  for (auto [action, actor] : {std::pair{"accept", Clerk()}, std::pair{"pass", Reviewer()}}) {
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.actor = actor;
    ASSERT_TRUE(counted.service.Act(r).ok()) << action;
  }
  EXPECT_EQ(counted.store.get_events, 0) << "an action replayed the history";
  EXPECT_EQ(counted.service.machine_cache().CachedVersion(id), 3);
  EXPECT_EQ(counted.service.machine_cache().stats().hits, 2);
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, ACachedMachineIsNotUsedAfterAnotherWriterCommits) {
  CountedService a(store_.get(), registry_.get(), &clock_);
  const std::string id = Create().state.id;
  ASSERT_TRUE(a.service.Act(Request(id, "accept", Clerk())).ok());
  ASSERT_EQ(a.service.machine_cache().CachedVersion(id), 2);
  // Another writer (another service, as another process would be) moves the case on.
  MustAct(id, "pass", Reviewer());
  // `a` does not use its machine at version 2: it replays, and decides on the fresh state.
  const int replays = a.store.get_events;
  auto approved = a.service.Act(Request(id, "approve", Approver()));
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->state.version, 4);
  EXPECT_EQ(approved->state.decision, Decision::kApprove);
  EXPECT_EQ(a.store.get_events, replays + 1);
  EXPECT_EQ(a.service.machine_cache().CachedVersion(id), 4);
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, AnActionFromARecordJustReadDoesNotReadTheCaseAgain) {
  CountedService a(store_.get(), registry_.get(), &clock_);
  const std::string id = Create().state.id;
  ASSERT_TRUE(a.service.Act(Request(id, "accept", Clerk())).ok());
  auto record = a.service.Read(id);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->version, 2);
  EXPECT_FALSE(a.service.IsBundle(*record));
  EXPECT_EQ(a.service.Read("no-such-case").status().code(), StatusCode::kNotFound);
  // Read from the cached machine or decoded from the snapshot, the case is the same.
  auto view = a.service.Get(id);
  auto decoded = service_->Get(id);
  ASSERT_TRUE(view.ok() && decoded.ok());
  EXPECT_EQ(CaseViewToJson(*view), CaseViewToJson(*decoded));
  const int reads = a.store.get_case;
  ActRequest suspend = Request(id, "suspend", Approver(), {{"reason", "hearing"}});
  suspend.read = &*record;
  auto suspended = a.service.Act(suspend);
  ASSERT_TRUE(suspended.ok()) << suspended.status().ToString();
  EXPECT_EQ(suspended->state.version, 3);
  EXPECT_EQ(a.store.get_case, reads) << "the action read the case again";
  // A record gone stale (another writer moved the case on since) costs a retry, never an update
  // or a refusal decided on the old version: on version 3 the case is suspended and not passed.
  auto stale = a.service.Read(id);
  ASSERT_TRUE(stale.ok());
  MustAct(id, "resume", Approver());
  ActRequest review = Request(id, "pass", Reviewer());
  review.read = &*stale;
  auto passed = a.service.Act(review);
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(passed->state.version, 5);
  EXPECT_FALSE(passed->state.suspended);
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, TheCachedVisibleVersionIsAHintThatReadsNothing) {
  CountedService a(store_.get(), registry_.get(), &clock_);
  const std::string id = Create().state.id;  // by another service: `a` has nothing cached
  Principal owner;
  owner.id = "app-1";
  owner.roles = {"applicant"};
  Principal stranger;
  stranger.id = "app-2";
  stranger.roles = {"applicant"};
  EXPECT_EQ(a.service.CachedVisibleVersion(owner, id), std::nullopt);
  ASSERT_TRUE(a.service.Act(Request(id, "accept", Clerk())).ok());
  const int reads = a.store.get_case;
  EXPECT_EQ(a.service.CachedVisibleVersion(owner, id), 2);
  // Someone who may not see the case gets no hint: the route then reads and answers 404.
  EXPECT_EQ(a.service.CachedVisibleVersion(stranger, id), std::nullopt);
  EXPECT_EQ(a.store.get_case, reads) << "the hint read the case";
  // Another writer moves the case on: the hint is stale, and an action decided from it is
  // retried on the stored version, never written over it.
  MustAct(id, "pass", Reviewer());
  ASSERT_EQ(a.service.CachedVisibleVersion(owner, id), 2);
  CaseRecord known;
  known.id = id;
  known.version = 2;
  ActRequest approve = Request(id, "approve", Approver());
  approve.read = &known;
  auto approved = a.service.Act(approve);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->state.version, 4);
  EXPECT_EQ(a.service.CachedVisibleVersion(owner, id), 4);
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, ARefusedActionLeavesTheCachedMachineUnchanged) {
  CountedService a(store_.get(), registry_.get(), &clock_);
  const std::string id = Create().state.id;
  ASSERT_TRUE(a.service.Act(Request(id, "accept", Clerk())).ok());
  const int replays = a.store.get_events;  // the accept's: `a` had not seen the case
  // Refused in several ways: not available now, the wrong role, a malformed decision.
  EXPECT_FALSE(a.service.Act(Request(id, "deliver", Clerk())).ok());
  EXPECT_FALSE(a.service.Act(Request(id, "approve", Reviewer())).ok());
  EXPECT_FALSE(a.service.Act(Request(id, "refuse", Approver(), json({{"reason", 5}}))).ok());
  EXPECT_EQ(a.service.machine_cache().CachedVersion(id), 2);
  EXPECT_EQ(EventCount(), 2 + 0);
  // The machine is used again, and it is the case as it was: the next action lands on it.
  const int64_t hits = a.service.machine_cache().stats().hits;
  auto passed = a.service.Act(Request(id, "pass", Reviewer()));
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(a.service.machine_cache().stats().hits, hits + 1);
  EXPECT_EQ(a.store.get_events, replays);
  EXPECT_EQ(passed->state.version, 3);
  EXPECT_EQ(passed->step_id, "decide");
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(CaseServiceTest, AFailedCommitDropsTheMachine) {
  CountedService a(store_.get(), registry_.get(), &clock_);
  const std::string id = Create().state.id;
  ASSERT_TRUE(a.service.Act(Request(id, "accept", Clerk())).ok());
  ASSERT_EQ(a.service.machine_cache().CachedVersion(id), 2);
  const int replays = a.store.get_events;
  a.store.fail_commits = true;
  EXPECT_EQ(a.service.Act(Request(id, "pass", Reviewer())).status().code(),
            StatusCode::kUnavailable);
  // The machine took the step the store did not: it is gone, and the next action replays.
  EXPECT_EQ(a.service.machine_cache().CachedVersion(id), -1);
  a.store.fail_commits = false;
  auto passed = a.service.Act(Request(id, "pass", Reviewer()));
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(passed->state.version, 3);
  EXPECT_EQ(a.store.get_events, replays + 1);
  EXPECT_TRUE(service_->Verify(id).ok);
}

// The counts the store keeps on write equal a count over every case, after a mix of actions,
// timers that fired on their own, and days passing (the lights move without any write): the
// decision lights of the cases under review, and the delivery lights of the granted ones.
TEST_F(CaseServiceTest, CountsKeptOnWriteEqualAFullCount) {
  struct FullCount {
    std::map<std::string, int64_t> statuses;
    LightCounts lights, deliveries;
  };
  auto add = [](Light l, LightCounts* counts) {
    (l == Light::kRed ? counts->red : l == Light::kYellow ? counts->yellow : counts->green)++;
  };
  auto full_count = [&] {
    FullCount full;
    EXPECT_TRUE(store_
                    ->ForEachCase([&](const CaseRecord& r) {
                      full.statuses[r.status]++;
                      if (r.status != "under_review" && r.status != "approved") return true;
                      auto view = service_->Get(r.id);
                      EXPECT_TRUE(view.ok());
                      const ClockView c = ComputeClock(*view->item, view->state, clock_.Now());
                      if (r.status == "under_review") add(c.light, &full.lights);
                      if (r.status == "approved") add(c.delivery_light, &full.deliveries);
                      return true;
                    })
                    .ok());
    return full;
  };
  auto expect_counted = [&](LightClock clock, const LightCounts& expected,
                            const std::string& when) {
    auto counted = store_->CountLights(clock_.Now(), clock);
    EXPECT_TRUE(counted.ok()) << counted.status().ToString();
    if (!counted.ok()) return;
    EXPECT_EQ(counted->unknown, 0) << when;
    EXPECT_EQ(counted->green, expected.green) << when;
    EXPECT_EQ(counted->yellow, expected.yellow) << when;
    EXPECT_EQ(counted->red, expected.red) << when;
  };
  auto check = [&](const std::string& when) {
    FullCount full = full_count();
    auto kept = store_->CountByStatus().value();
    std::map<std::string, int64_t> kept_map(kept.begin(), kept.end());
    EXPECT_EQ(kept_map, full.statuses) << when;
    expect_counted(LightClock::kDecision, full.lights, when);
    expect_counted(LightClock::kDelivery, full.deliveries, when + " (deliveries)");
    return full;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i)
    ids.push_back(Create().state.id);
  check("created");
  for (int i = 0; i < 6; ++i)
    MustAct(ids[i], "accept", Clerk());
  MustAct(ids[0], "pass", Reviewer());
  MustAct(ids[1], "suspend", Approver(), {{"reason", "hearing"}});
  MustAct(ids[2], "withdraw", Applicant());
  check("acted");
  // Days pass: the promise and then the statute run out for the open cases; the two never
  // accepted are deemed accepted by the timer loop.
  bool yellow_seen = false, red_seen = false;
  for (int day = 0; day < 14; ++day) {
    clock_.Advance(hours(24));
    ASSERT_TRUE(service_->FireDueTimers().ok());
    LightCounts lights = check("day " + std::to_string(day + 1)).lights;
    yellow_seen |= lights.yellow > 0;
    red_seen |= lights.red > 0;
  }
  EXPECT_TRUE(yellow_seen);
  EXPECT_TRUE(red_seen);
  MustAct(ids[1], "resume", Approver());
  MustAct(ids[0], "approve", Approver());
  MustAct(ids[3], "pass", Reviewer());
  MustAct(ids[3], "approve", Approver());
  EXPECT_EQ(check("decided").deliveries.green, 2);
  // The 10 working days of art. 44 run out for the two grants; one is delivered on the way.
  bool delivery_yellow_seen = false, delivery_red_seen = false;
  for (int day = 0; day < 20; ++day) {
    clock_.Advance(hours(24));
    if (day == 4) MustAct(ids[3], "deliver", Clerk());
    LightCounts deliveries = check("delivery day " + std::to_string(day + 1)).deliveries;
    delivery_yellow_seen |= deliveries.yellow > 0;
    delivery_red_seen |= deliveries.red > 0;
    EXPECT_EQ(deliveries.green + deliveries.yellow + deliveries.red, day < 4 ? 2 : 1);
  }
  EXPECT_TRUE(delivery_yellow_seen);
  EXPECT_TRUE(delivery_red_seen);
  MustAct(ids[0], "deliver", Clerk());
  EXPECT_EQ(check("delivered").deliveries.red, 0);
}

TEST(CaseCache, BoundedLeastRecentlyUsedFirst) {
  auto item = std::make_shared<Item>();
  CaseCache cache(2);
  cache.Put("a", 1, std::make_unique<CaseLifecycle>(item));
  cache.Put("b", 1, std::make_unique<CaseLifecycle>(item));
  cache.Put("c", 1, std::make_unique<CaseLifecycle>(item));
  EXPECT_EQ(cache.CachedVersion("a"), -1);
  EXPECT_EQ(cache.stats().evictions, 1);
  EXPECT_EQ(cache.stats().size, 2u);
  // A stale version is discarded, not returned; a taken machine is no longer shared.
  EXPECT_EQ(cache.Take("b", 2), nullptr);
  EXPECT_EQ(cache.CachedVersion("b"), -1);
  EXPECT_NE(cache.Take("c", 1), nullptr);
  EXPECT_EQ(cache.Take("c", 1), nullptr);
  // An older machine does not replace a newer one.
  cache.Put("d", 5, std::make_unique<CaseLifecycle>(item));
  cache.Put("d", 4, std::make_unique<CaseLifecycle>(item));
  EXPECT_EQ(cache.CachedVersion("d"), 5);
  // A look at a cached machine's state leaves it cached, and sees only the version asked for.
  ASSERT_TRUE(cache.StateAt("d", 5).has_value());
  EXPECT_FALSE(cache.StateAt("d", 4).has_value());
  EXPECT_FALSE(cache.StateAt("a", 1).has_value());
  EXPECT_EQ(cache.CachedVersion("d"), 5);
  CaseCache off(0);
  off.Put("a", 1, std::make_unique<CaseLifecycle>(item));
  EXPECT_EQ(off.stats().size, 0u);
}

// ---- Scenarios (run through CaseService on their own database) ----------------------------------
// The scenario files in tests/scenarios are run by the integration tests; here only the runner's
// own error handling.

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

ScenarioOptions OptionsFor(const std::string& definition) {
  const std::string root = TONGBAN_SOURCE_DIR;
  ScenarioOptions options;
  options.definitions = {
      {"cn-mainland.json", ReadFile(root + "/definitions/calendars/cn-mainland.json")},
      {definition, ReadFile(root + "/" + definition)}};
  return options;
}

TEST(Scenario, WrongJsonTypesAreAMalformedScenarioNotACrash) {
  const std::string definition = "definitions/items/establishment-registration.json";
  json base = {{"name", "malformed"}, {"start", "2026-03-02T09:00:00+08:00"}};
  base["apply"] = json::parse(R"({
    "as": "applicant",
    "form": {"enterprise_name": "示例科技有限公司", "enterprise_type": "有限责任公司",
             "residence": "××开发区创新大道8号", "legal_representative": "李四",
             "business_scope": "软件开发", "requires_pre_approval": false},
    "materials": ["application_form", "articles", "investor_documents", "officer_documents",
                  "residence_document"]
  })");
  // The same scenario with a well-typed step runs and passes.
  {
    json scenario = base;
    scenario["steps"] = json::array(
        {json{{"do", "accept"}, {"as", "clerk"}, {"expect", {{"status", "under_review"}}}}});
    auto result = RunScenario(scenario, OptionsFor(definition));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->ok());
    EXPECT_EQ(result->steps_run, 1);
    EXPECT_EQ(result->checks, 1);
  }
  for (json step : {json{{"at", 5}}, json{{"do", 7}}, json{{"advance", {{"days", "two"}}}},
                    json{{"do", "accept"}, {"as", "clerk"}, {"error", 3}}}) {
    json scenario = base;
    scenario["steps"] = json::array({step});
    Result<ScenarioResult> result = Status::Internal("not run");
    EXPECT_NO_THROW(result = RunScenario(scenario, OptionsFor(definition))) << step.dump();
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << step.dump();
  }
}

}  // namespace
}  // namespace tongban
