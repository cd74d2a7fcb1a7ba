// CaseService, verification: a case's or the whole database's history checked against its chain,
// its replay and its stored snapshot (the auditor's question "did anyone rewrite this?").
#include "engine/case_service.h"

#include "engine/snapshot_codec.h"

#include <algorithm>

namespace tongban {

nlohmann::json VerifyReportToJson(const VerifyReport& r) {
  nlohmann::json j = {{"ok", r.ok}, {"events", r.events}};
  if (r.cases > 0) j["cases"] = r.cases;
  if (!r.case_id.empty()) j["case_id"] = r.case_id;
  if (r.first_bad_seq) j["first_bad_seq"] = *r.first_bad_seq;
  if (!r.reason.empty()) j["reason"] = r.reason;
  return j;
}

namespace {

// Checks one case's events against its record: chain, replay, snapshot. `events` is in seq order.
VerifyReport VerifyCaseEvents(const std::string& case_id, const std::vector<Event>& events,
                              const std::optional<CaseRecord>& record,
                              const DefinitionRegistry& registry) {
  VerifyReport report;
  report.case_id = case_id;
  report.events = static_cast<int64_t>(events.size());
  auto fail = [&](std::optional<int64_t> seq, std::string reason) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.reason = std::move(reason);
    return report;
  };
  std::string previous = kGenesisHash;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.seq != static_cast<int64_t>(i) + 1) {
      return fail(static_cast<int64_t>(i) + 1, "event " + std::to_string(i + 1) +
                                                   " is missing (found seq " +
                                                   std::to_string(e.seq) + " in its place)");
    }
    if (e.prev_hash != previous) {
      return fail(e.seq, "prev_hash does not match the hash of event " + std::to_string(e.seq - 1) +
                             ": the chain is broken here");
    }
    if (ComputeEventHash(e) != e.hash) {
      return fail(e.seq, "hash does not match the event's content: the event was altered");
    }
    previous = e.hash;
  }
  if (!record) return fail(std::nullopt, "events exist but the case record is missing");
  if (events.empty()) return fail(std::nullopt, "the case record has no events");
  if (registry.FindBundle(events.front().definition_id, events.front().definition_version)) {
    auto bundle = ReplayBundleEvents(events, registry);
    if (!bundle.ok()) return fail(std::nullopt, "replay failed: " + bundle.status().message());
    BundleState state = bundle->bundle->state();
    if (record->version != events.back().seq) {
      return fail(std::min(record->version, events.back().seq) + 1,
                  "the case record is at version " + std::to_string(record->version) +
                      " but the log ends at " + std::to_string(events.back().seq));
    }
    // Compared in this build's format, so a snapshot of an older format verifies too.
    auto stored = DecodeBundleSnapshot(record->snapshot);
    if (!stored.ok() || EncodeBundleSnapshot(*stored) != EncodeBundleSnapshot(state) ||
        record->status != state.Status()) {
      return fail(std::nullopt,
                  "the stored snapshot differs from the state replayed from the events");
    }
    return report;
  }
  auto replayed = ReplayEvents(events, registry);
  if (!replayed.ok()) {
    const std::string& message = replayed.status().message();
    std::optional<int64_t> seq;
    if (message.rfind("event ", 0) == 0) seq = std::atoll(message.c_str() + 6);
    return fail(seq, "replay failed: " + message);
  }
  const CaseLifecycle& lifecycle = *replayed->lifecycle;
  if (record->version != events.back().seq) {
    // The first seq the record and the log disagree on: an event missing from the end of the log,
    // or one the record does not reflect.
    return fail(std::min(record->version, events.back().seq) + 1,
                "the case record is at version " + std::to_string(record->version) +
                    " but the log ends at " + std::to_string(events.back().seq));
  }
  // Compared in this build's format, so a snapshot of an older format verifies too.
  auto stored = DecodeCaseSnapshot(record->snapshot, lifecycle.item());
  if (!stored.ok() ||
      EncodeCaseSnapshot(*stored, lifecycle.item()) !=
          EncodeCaseSnapshot(lifecycle.state(), lifecycle.item()) ||
      record->status != CaseStatusCode(lifecycle.state().status) ||
      record->step != lifecycle.step_id()) {
    return fail(std::nullopt,
                "the stored snapshot differs from the state replayed from the events");
  }
  return report;
}

}  // namespace

VerifyReport CaseService::Verify(const std::string& case_id) {
  auto events = store_->GetEvents(case_id);
  auto record = store_->GetCase(case_id);
  if (!events.ok() || !record.ok()) {
    VerifyReport report;
    report.ok = false;
    report.case_id = case_id;
    report.reason = !events.ok() ? events.status().ToString() : record.status().ToString();
    return report;
  }
  if (events->empty() && !*record) {
    VerifyReport report;
    report.ok = false;
    report.case_id = case_id;
    report.reason = "no such case";
    return report;
  }
  return VerifyCaseEvents(case_id, *events, *record, *registry_);
}

VerifyReport CaseService::VerifyAll(const std::function<void(int64_t, int64_t)>& progress) {
  VerifyReport total;
  int64_t event_total = 0;
  if (auto n = store_->CountEvents(); n.ok()) event_total = *n;
  // Merge-join the event stream with the case stream, both in case id order.
  std::vector<CaseRecord> records;
  Status scanned = store_->ForEachCase([&](const CaseRecord& r) {
    records.push_back(r);
    return true;
  });
  if (!scanned.ok()) {
    total.ok = false;
    total.reason = scanned.ToString();
    return total;
  }
  size_t next_record = 0;
  std::string current;
  std::vector<Event> events;
  auto finish_case = [&]() -> bool {
    if (current.empty()) return true;
    std::optional<CaseRecord> record;
    while (next_record < records.size() && records[next_record].id < current) {
      total.ok = false;
      total.case_id = records[next_record].id;
      total.reason = "the case record has no events";
      return false;
    }
    if (next_record < records.size() && records[next_record].id == current) {
      record = records[next_record++];
    }
    VerifyReport r = VerifyCaseEvents(current, events, record, *registry_);
    total.events += r.events;
    total.cases += 1;
    if (!r.ok) {
      total.ok = false;
      total.case_id = r.case_id;
      total.first_bad_seq = r.first_bad_seq;
      total.reason = r.reason;
      return false;
    }
    if (progress && total.cases % 1000 == 0) progress(total.events, event_total);
    return true;
  };
  Status streamed = store_->ForEachEvent([&](const Event& e) {
    if (e.case_id != current) {
      if (!finish_case()) return false;
      current = e.case_id;
      events.clear();
    }
    events.push_back(e);
    return true;
  });
  if (!streamed.ok()) {
    total.ok = false;
    total.reason = streamed.ToString();
    return total;
  }
  if (total.ok && finish_case() && next_record < records.size()) {
    total.ok = false;
    total.case_id = records[next_record].id;
    total.reason = "the case record has no events";
  }
  // The registers' ledger is one more chain to check.
  if (total.ok) {
    auto entries = store_->Ledger(0);
    if (!entries.ok()) {
      total.ok = false;
      total.reason = entries.status().ToString();
    } else if (auto fault = CheckLedgerChain(*entries)) {
      total.ok = false;
      total.case_id = "ledger";
      total.first_bad_seq = fault->seq;
      total.reason = "ledger entry " + std::to_string(fault->seq) + ": " + fault->reason;
    }
  }
  if (progress) progress(total.events, event_total);
  return total;
}

}  // namespace tongban
