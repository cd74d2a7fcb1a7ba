// CountingStore (tests only): a Store that forwards to another and counts the calls that read a
// case's history, and can be told to refuse commits or ledger reads — to show that reads do not
// replay, what the machine cache does when a write fails, and what the registers answer when the
// ledger cannot be read.
//
// Thread safety: as the wrapped store; the counters are atomic.
#pragma once

#include <atomic>
#include <functional>

#include "engine/store.h"

namespace tongban {

class CountingStore final : public Store {
 public:
  explicit CountingStore(Store* base) : base_(base) {}  // not owned; must outlive this

  std::atomic<int> get_events{0};
  std::atomic<int> get_case{0};
  std::atomic<bool> fail_commits{false};
  // Refuses reads of the registers' ledger (kUnavailable), as a failing disk or a lost database
  // connection would.
  std::atomic<bool> fail_ledger_reads{false};
  // Called once a scan of events has handed out its first event: a write made here lands after
  // the scan's snapshot was taken, and before a verification reads the case records it joins with
  // the events.
  std::function<void()> after_first_event;

  Status DeployAll(const std::vector<DefinitionRecord>& d) override { return base_->DeployAll(d); }
  Result<std::vector<DefinitionRecord>> Definitions() override { return base_->Definitions(); }
  using Store::Commit;
  Status Commit(StoreWrite write) override {
    if (fail_commits) return Status::Unavailable("commits refused (test)");
    return base_->Commit(std::move(write));
  }
  Result<std::vector<LedgerEntry>> Ledger(int64_t after_seq) override {
    if (fail_ledger_reads) return Status::Unavailable("ledger reads refused (test)");
    return base_->Ledger(after_seq);
  }
  Result<std::optional<DocumentRecord>> GetDocument(const std::string& case_id,
                                                    const std::string& hash) override {
    return base_->GetDocument(case_id, hash);
  }
  Result<std::vector<DocumentRecord>> CaseDocuments(const std::string& case_id) override {
    return base_->CaseDocuments(case_id);
  }
  Result<std::optional<CaseRecord>> GetCase(const std::string& id) override {
    ++get_case;
    return base_->GetCase(id);
  }
  Result<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) override {
    ++get_case;
    return base_->GetCaseByNumber(number);
  }
  Result<std::vector<Event>> GetEvents(const std::string& case_id, int64_t up_to_seq) override {
    ++get_events;
    return base_->GetEvents(case_id, up_to_seq);
  }
  Result<std::optional<IdempotencyHit>> FindIdempotencyKey(const std::string& actor_id,
                                                           const std::string& key) override {
    return base_->FindIdempotencyKey(actor_id, key);
  }
  Result<std::vector<CaseRecord>> ListCases(const CaseFilter& filter) override {
    return base_->ListCases(filter);
  }
  Result<std::vector<std::string>> DueTimers(Instant now, int limit) override {
    return base_->DueTimers(now, limit);
  }
  Result<std::vector<std::string>> ClaimDueTimers(Instant now, int limit) override {
    return base_->ClaimDueTimers(now, limit);
  }
  Status ForEachCaseId(const std::function<bool(const std::string&)>& visit) override {
    return base_->ForEachCaseId(visit);
  }
  using Store::ForEachCase;
  using Store::ForEachEvent;
  Status ForEachEvent(const CaseIdRange& range, const std::function<bool(Event&)>& visit) override {
    if (!after_first_event) return base_->ForEachEvent(range, visit);
    bool first = true;
    return base_->ForEachEvent(range, [&](Event& e) {
      const bool go_on = visit(e);
      if (first) {
        first = false;
        after_first_event();
      }
      return go_on;
    });
  }
  Status ForEachCase(const CaseIdRange& range,
                     const std::function<bool(CaseRecord&)>& visit) override {
    return base_->ForEachCase(range, visit);
  }
  Result<std::optional<std::string>> CaseIdAt(int64_t index) override {
    return base_->CaseIdAt(index);
  }
  Result<int64_t> CountCases() override { return base_->CountCases(); }
  Result<int64_t> CountEvents() override { return base_->CountEvents(); }
  Result<std::vector<std::pair<std::string, int64_t>>> CountByStatus() override {
    return base_->CountByStatus();
  }
  Result<LightCounts> CountLights(Instant now, LightClock clock) override {
    return base_->CountLights(now, clock);
  }
  Result<std::vector<std::string>> CasesWithUnknownLights(int limit, LightClock clock) override {
    return base_->CasesWithUnknownLights(limit, clock);
  }
  Result<std::vector<IndicatorCount>> Indicators(const std::string& from_month,
                                                 const std::string& to_month) override {
    return base_->Indicators(from_month, to_month);
  }
  Result<std::vector<FactsRow>> FindCaseFacts(const FactsQuery& query) override {
    return base_->FindCaseFacts(query);
  }
  Result<std::vector<Event>> FindEvents(const EventQuery& query) override {
    return base_->FindEvents(query);
  }
  StoreStats Stats() const override { return base_->Stats(); }

 private:
  Store* base_;
};

}  // namespace tongban
