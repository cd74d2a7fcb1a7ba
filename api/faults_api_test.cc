// Storage faults and overload over HTTP: the in-process server on a store opened through FaultVfs
// (engine/fault_vfs.h, made the default VFS before the server opens its file). A write the disk
// refuses is a 503 problem with Retry-After, nothing of it stored, and the same request then
// succeeds; with tiny bounds and a stalled disk, connections past the queue are answered 503 with
// Retry-After at once, and every request gets an answer.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "api/api_test_fixture.h"
#include "engine/fault_vfs.h"

namespace tongban::api::api_test {
namespace {

void ExpectRetryableProblem(const Reply& r) {
  EXPECT_EQ(r.status, 503) << r;
  EXPECT_EQ(r.Header("Retry-After"), "1") << r;
  EXPECT_EQ(r.ContentType(), "application/problem+json") << r;
  EXPECT_EQ(r.doc.value("status", 0), 503) << r;
  EXPECT_FALSE(r.doc.value("detail", "").empty()) << r;
}

class FaultsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    faults_ = &FaultVfs::Install(/*make_default=*/true);
    faults_->Disarm();
    ApiTest::SetUp();
  }
  void TearDown() override {
    faults_->Disarm();
    faults_->ReleaseSyncs();
    ApiTest::TearDown();
  }
  int64_t CaseCount() {
    auto n = server_->service().store()->CountCases();
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }
  FaultVfs* faults_ = nullptr;
};

TEST_F(FaultsApiTest, AFullDiskIsA503WithRetryAfterAndTheSameRequestThenSucceeds) {
  const std::string id = Submitted();
  const int64_t cases = CaseCount();
  // The disk is full until cleared: every write fails.
  faults_->Arm(FaultOp::kWrite, 1, SQLITE_FULL, kFaultAnyFile, /*sticky=*/true);
  Reply created = api().Post("/v1/cases", kApplicant, NewPermit());
  ExpectRetryableProblem(created);
  EXPECT_EQ(created.ProblemType(), "https://tongban.dev/problems/unavailable") << created;
  Reply accepted = api().Act(id, kClerk, "accept");
  ExpectRetryableProblem(accepted);
  EXPECT_GT(faults_->injected(), 0);
  faults_->Disarm();
  // Nothing of either was stored.
  EXPECT_EQ(CaseCount(), cases);
  Reply read = api().Get("/v1/cases/" + id, kClerk);
  EXPECT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.doc.value("status", ""), "submitted") << read;
  EXPECT_EQ(read.Header("ETag"), "\"1\"") << read;
  // The fault cleared: the same requests succeed.
  Create();
  EXPECT_EQ(CaseCount(), cases + 1);
  Reply again = api().Act(id, kClerk, "accept");
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.doc.value("status", ""), "under_review") << again;
  EXPECT_TRUE(server_->service().VerifyAll().ok);
}

TEST_F(FaultsApiTest, AFailedFsyncIsA503AndTheActionThenSucceeds) {
  const std::string id = Submitted();
  faults_->Arm(FaultOp::kSync, 1, SQLITE_IOERR_FSYNC);
  Reply accepted = api().Act(id, kClerk, "accept");
  ExpectRetryableProblem(accepted);
  EXPECT_EQ(faults_->injected(), 1);
  faults_->Disarm();
  Reply again = api().Act(id, kClerk, "accept");
  EXPECT_EQ(again.status, 200) << again;
  Reply history = api().Get("/v1/cases/" + id + "/history", kAuditor);
  EXPECT_EQ(history.doc.value("events", json::array()).size(), 2u) << history;
  EXPECT_TRUE(server_->service().VerifyAll().ok);
}

// The registers' ledger unreadable: their listings are 503, not the entries read before (which
// could show a revoked delegation or mandate in force); once the disk reads again, 200.
TEST_F(FaultsApiTest, AnUnreadableLedgerMakesTheRegistersListings503) {
  Submitted();  // a write, so that the readers must read pages again rather than use their caches
  faults_->Arm(FaultOp::kRead, 1, SQLITE_IOERR_READ, kFaultAnyFile, /*sticky=*/true);
  Reply delegations = api().Get("/v1/delegations", kClerk);
  Reply mandates = api().Get("/v1/mandates", kApplicant);
  Reply credit_records = api().Get("/v1/credit-records", kAuditor);
  faults_->Disarm();
  EXPECT_GT(faults_->injected(), 0);
  for (const Reply& r : {delegations, mandates, credit_records}) {
    ExpectRetryableProblem(r);
    EXPECT_EQ(r.ProblemType(), "https://tongban.dev/problems/unavailable") << r;
  }
  EXPECT_EQ(api().Get("/v1/delegations", kClerk).status, 200);
  EXPECT_EQ(api().Get("/v1/mandates", kApplicant).status, 200);
  EXPECT_EQ(api().Get("/v1/credit-records", kAuditor).status, 200);
}

// Tiny bounds and a stalled disk: the harness's 32 workers, 1 connection waiting. The disk is held
// in its fsync while many clients post at once, so the workers block and the queue fills;
// connections past it must be answered 503 with Retry-After at once. Then the disk is released:
// every request has an answer, 201 or 503 and nothing else, and exactly the 201s were stored.
class OverloadApiTest : public FaultsApiTest {
 protected:
  void SetUp() override {
    faults_ = &FaultVfs::Install(/*make_default=*/true);
    faults_->Disarm();
    ServerOptions options;
    options.max_queued_connections = 1;
    server_ = std::make_unique<TestServer>(options);
    api_ = std::make_unique<Api>(server_->port());
  }
};

TEST_F(OverloadApiTest, PastTheQueueRequestsAre503WithRetryAfterAndNoneIsLost) {
  const int64_t cases = CaseCount();
  // The harness runs 32 workers (test_harness.cc); with the one queued slot, 33 requests can be
  // held while the disk is stalled.
  constexpr int kHeld = 33;
  constexpr int kClients = kHeld + 8;
  faults_->HoldSyncs();
  std::mutex mutex;
  std::vector<Reply> replies;
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      Api client(server_->port());
      Reply r = client.Post("/v1/cases", kApplicant, NewPermit());
      if (r.status == 503) refused.fetch_add(1);
      std::lock_guard<std::mutex> lock(mutex);
      replies.push_back(r);
    });
  }
  // The workers blocked on the held disk and one connection waiting take at most kHeld of the
  // requests: the others are refused while the disk is still held.
  while (refused.load() < kClients - kHeld)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  faults_->ReleaseSyncs();
  for (std::thread& t : clients)
    t.join();
  int created = 0;
  for (const Reply& r : replies) {
    ASSERT_NE(r.status, 0) << "a request without an answer";
    if (r.status == 201) {
      ++created;
    } else {
      ExpectRetryableProblem(r);
      EXPECT_EQ(r.ProblemType(), "https://tongban.dev/problems/overloaded") << r;
    }
  }
  EXPECT_EQ(replies.size(), static_cast<size_t>(kClients));
  // The first connection always finds a worker; at most the workers and the one queued slot held
  // requests while the disk was stalled.
  EXPECT_GE(created, 1);
  EXPECT_LE(created, kHeld);
  EXPECT_EQ(CaseCount(), cases + created);
  // Past the overload the server serves again.
  Create();
}

}  // namespace
}  // namespace tongban::api::api_test
