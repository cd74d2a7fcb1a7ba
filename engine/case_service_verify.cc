// CaseService, verification: a case's or the whole database's history checked against its chain,
// its replay and its stored snapshot (the auditor's question "did anyone rewrite this?").
#include "engine/case_service.h"

#include "engine/snapshot_codec.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace tongban {

nlohmann::json VerifyReportToJson(const VerifyReport& r) {
  nlohmann::json j = {{"ok", r.ok}, {"events", r.events}};
  if (r.cases > 0) j["cases"] = r.cases;
  if (r.definitions > 0) j["definitions"] = r.definitions;
  if (!r.ok) j["subject"] = r.subject;
  if (!r.case_id.empty()) j["case_id"] = r.case_id;
  if (r.first_bad_seq) j["first_bad_seq"] = *r.first_bad_seq;
  if (!r.reason.empty()) j["reason"] = r.reason;
  return j;
}

std::string VerifyReportLine(const VerifyReport& r) {
  if (r.ok) {
    std::string line = "OK: " + std::to_string(r.events) + " event(s)";
    if (r.cases > 0) line += " in " + std::to_string(r.cases) + " case(s)";
    line += " verified; hash chains intact, snapshots match";
    if (r.definitions > 0) {
      line += "; " + std::to_string(r.definitions) + " definition(s) match their content hashes";
    }
    return line;
  }
  std::string line = "BROKEN: ";
  if (r.subject == "ledger") {
    line += "the registers' ledger";
    if (r.first_bad_seq) line += ", entry " + std::to_string(*r.first_bad_seq);
  } else if (r.subject == "definition") {
    line += "definition " + r.case_id;
  } else {
    line += "case " + r.case_id;
    if (r.first_bad_seq) line += ", event " + std::to_string(*r.first_bad_seq);
  }
  return line + ": " + r.reason;
}

namespace {

// Whether the stored snapshot holds the replayed state, `replayed` being that state encoded. The
// two are compared in this build's format, so a snapshot of an older format verifies too;
// `reencode` decodes stored text and encodes it again. Equal bytes need no decoding: the codec
// round-trips (snapshot_codec_test), so re-encoding them would give the same bytes again.
template <typename Reencode>
bool SameSnapshot(const std::string& stored, const std::string& replayed,
                  const Reencode& reencode) {
  if (stored == replayed) return true;
  Result<std::string> again = reencode(stored);
  return again.ok() && *again == replayed;
}

// Checks one case's events against its record: chain, replay, snapshot. `events` is in seq order;
// `record` is null when the case has none.
VerifyReport VerifyCaseEvents(const std::string& case_id, const std::vector<Event>& events,
                              const CaseRecord* record, const DefinitionRegistry& registry,
                              EventHashChecker* hashes) {
  VerifyReport report;
  report.case_id = case_id;
  report.events = static_cast<int64_t>(events.size());
  auto fail = [&](std::optional<int64_t> seq, std::string reason) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.reason = std::move(reason);
    return report;
  };
  std::string_view previous = kGenesisHash;
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
    if (!hashes->Matches(e)) {
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
    if (!SameSnapshot(record->snapshot, EncodeBundleSnapshot(state),
                      [](std::string_view text) -> Result<std::string> {
                        auto stored = DecodeBundleSnapshot(text);
                        if (!stored.ok()) return stored.status();
                        return EncodeBundleSnapshot(*stored);
                      }) ||
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
  const Item& item = lifecycle.item();
  if (!SameSnapshot(record->snapshot, EncodeCaseSnapshot(lifecycle.state(), item),
                    [&](std::string_view text) -> Result<std::string> {
                      auto stored = DecodeCaseSnapshot(text, item);
                      if (!stored.ok()) return stored.status();
                      // Snapshots written before the accepting organ was kept lack it; the
                      // replay derives it from the accepting event, which the chain covers.
                      if (text.find("\"handled_by\"") == std::string_view::npos) {
                        stored->handled_by = lifecycle.state().handled_by;
                      }
                      return EncodeCaseSnapshot(*stored, item);
                    }) ||
      record->status != CaseStatusCode(lifecycle.state().status) ||
      record->step != lifecycle.step_id()) {
    return fail(std::nullopt,
                "the stored snapshot differs from the state replayed from the events");
  }
  return report;
}

// Takes what a scan handed out into slot `index` of `slots` (at most one past the end): swapped
// with what the slot kept from before, so no copy is made and the scan's next row is assigned into
// buffers that already have room.
template <typename T>
void TakeIntoSlot(std::vector<T>* slots, size_t index, T& taken) {
  if (index < slots->size()) {
    using std::swap;
    swap((*slots)[index], taken);
  } else {
    slots->push_back(std::move(taken));
  }
}

// A case's record and events as of one moment, read while writers may be committing: the record
// first, then the events, and again while a write landed between the two reads (the events then
// go past the record's version). A record and events that still disagree after a few tries are
// what the store holds, and verification reports them.
struct CaseReading {
  std::optional<CaseRecord> record;
  std::vector<Event> events;
};
Result<CaseReading> ReadCaseSettled(Store* store, const std::string& case_id) {
  constexpr int kTries = 3;
  for (int attempt = 1;; ++attempt) {
    auto record = store->GetCase(case_id);
    if (!record.ok()) return record.status();
    auto events = store->GetEvents(case_id);
    if (!events.ok()) return events.status();
    bool settled = !*record || events->empty() || events->back().seq <= (*record)->version;
    if (settled || attempt == kTries) return CaseReading{std::move(*record), std::move(*events)};
  }
}

// Verification of the cases in one range of ids, as VerifyAll reports it for the whole database:
// events and cases counted up to and including the first case that fails, where it stops.
//
// The event stream and the case records are merge-joined in case id order. Records are read in
// batches just ahead of the events, so memory stays bounded whatever the database's size, and a
// batch's records reuse the buffers of the one before. The two are read at different moments while
// writers may be committing, so a finding is only reported after a fresh reading of that case
// confirms it (VerifyNow): a case acted on or created between the two reads is not damage.
class RangeVerifier {
 public:
  RangeVerifier(Store* store, const DefinitionRegistry* registry, CaseIdRange range)
      : store_(store), registry_(registry), range_(std::move(range)) {}

  // `stop` says that an earlier range already failed, so this one's findings no longer count;
  // `tick` is called every 1000 cases with the cases verified since the last call.
  VerifyReport Run(const std::function<bool()>& stop, const std::function<void(int64_t)>& tick) {
    Status streamed = store_->ForEachEvent(range_, [&](Event& e) {
      if (e.case_id != current_) {
        if (!FinishCase() || (total_.cases % 1000 == 0 && Tick(stop, tick))) return false;
        current_ = e.case_id;
      }
      TakeIntoSlot(&events_, used_++, e);
      return true;
    });
    if (!streamed.ok()) return Failed(streamed);
    if (total_.ok && !stop() && FinishCase()) {
      // Records after the last case that has events.
      while (total_.ok && !stop() && NextRecord() && VerifyRecordWithoutEvents()) {
      }
    }
    Tick(stop, tick);
    return total_;
  }

 private:
  static constexpr size_t kRecordBatch = 256;

  // Verifies the case whose events were gathered, after the records before it; false (and the
  // finding in total_) when one fails.
  bool FinishCase() {
    if (current_.empty()) return true;
    const CaseRecord* record = nullptr;
    while (const CaseRecord* next = NextRecord()) {
      if (next->id > current_) break;
      if (next->id == current_) {
        record = next;
        ++next_record_;
        break;
      }
      if (!VerifyRecordWithoutEvents()) return false;
    }
    if (!total_.ok) return false;  // reading the records failed
    events_.resize(used_);
    VerifyReport r = VerifyCaseEvents(current_, events_, record, *registry_, &hashes_);
    if (!r.ok) r = VerifyNow(current_);
    used_ = 0;
    return Count(r);
  }

  // The next record (at next_record_) had no events in the stream: the case was created after the
  // event scan began, or its events are gone. Takes the record; false when it fails.
  bool VerifyRecordWithoutEvents() {
    std::string id = records_[next_record_++].id;
    return Count(VerifyNow(id));
  }

  // Adds a case's report to the range's total; false when it failed.
  bool Count(const VerifyReport& r) {
    total_.events += r.events;
    total_.cases += 1;
    if (r.ok) return true;
    total_.ok = false;
    total_.case_id = r.case_id;
    total_.first_bad_seq = r.first_bad_seq;
    total_.reason = r.reason;
    return false;
  }

  // The next case record in id order, reading the next batch when this one is used up; null when
  // none is left or reading failed (then total_ holds the failure).
  const CaseRecord* NextRecord() {
    if (next_record_ == loaded_ && (!records_started_ || more_from_)) {
      std::string from = records_started_ ? *more_from_ : range_.from;
      records_started_ = true;
      loaded_ = next_record_ = 0;
      more_from_.reset();
      Status read = store_->ForEachCase(CaseIdRange{from, range_.to}, [&](CaseRecord& r) {
        if (loaded_ == kRecordBatch) {
          more_from_ = r.id;
          return false;
        }
        TakeIntoSlot(&records_, loaded_++, r);
        return true;
      });
      if (!read.ok()) {
        Failed(read);
        loaded_ = 0;
        more_from_.reset();
      }
    }
    return next_record_ < loaded_ ? &records_[next_record_] : nullptr;
  }

  VerifyReport VerifyNow(const std::string& case_id) {
    auto reading = ReadCaseSettled(store_, case_id);
    if (!reading.ok()) {
      VerifyReport report;
      report.ok = false;
      report.case_id = case_id;
      report.reason = reading.status().ToString();
      return report;
    }
    return VerifyCaseEvents(case_id, reading->events, reading->record ? &*reading->record : nullptr,
                            *registry_, &hashes_);
  }

  const VerifyReport& Failed(const Status& status) {
    total_.ok = false;
    total_.reason = status.ToString();
    return total_;
  }

  // Reports progress; true when an earlier range failed, so this one can stop.
  bool Tick(const std::function<bool()>& stop, const std::function<void(int64_t)>& tick) {
    tick(total_.cases - ticked_);
    ticked_ = total_.cases;
    return stop();
  }

  Store* store_;
  const DefinitionRegistry* registry_;
  const CaseIdRange range_;
  VerifyReport total_;
  // The current batch of case records is records_[0, loaded_); next_record_ is the first not yet
  // joined with events. more_from_ is the id the next batch starts at, when there is one.
  std::vector<CaseRecord> records_;
  size_t loaded_ = 0;
  size_t next_record_ = 0;
  bool records_started_ = false;
  std::optional<std::string> more_from_;
  std::string current_;
  std::vector<Event> events_;  // the current case's events are events_[0, used_)
  size_t used_ = 0;
  int64_t ticked_ = 0;
  EventHashChecker hashes_;
};

// Checks the deployed definitions' texts against their content hashes, into `report`: all of them,
// or only the one `only` names ({id, version} of any kind). The first that fails is the finding.
void CheckDefinitions(Store* store, const std::pair<std::string, int>* only, VerifyReport* report) {
  auto records = store->Definitions();
  if (!records.ok()) {
    report->ok = false;
    report->reason = records.status().ToString();
    return;
  }
  for (const DefinitionRecord& r : *records) {
    if (only && (r.id != only->first || r.version != only->second)) continue;
    if (auto fault = DefinitionRecordFault(r)) {
      report->ok = false;
      report->subject = "definition";
      report->case_id = r.kind + "/" + r.id + "@" + std::to_string(r.version);
      report->first_bad_seq.reset();
      report->reason = *fault;
      return;
    }
    ++report->definitions;
  }
}

// `parts` ranges that together hold every case id, split at cases so that each holds about as many
// of the `cases` (fewer ranges when there are fewer cases).
Result<std::vector<CaseIdRange>> SplitCaseIds(Store* store, int parts, int64_t cases) {
  std::vector<CaseIdRange> ranges(1);
  if (parts <= 1) return ranges;
  for (int i = 1; i < parts; ++i) {
    auto id = store->CaseIdAt(cases * i / parts);
    if (!id.ok()) return id.status();
    if (!*id || id->value() <= ranges.back().from) continue;
    ranges.back().to = **id;
    ranges.push_back(CaseIdRange{**id, ""});
  }
  return ranges;
}

}  // namespace

VerifyReport VerifyCaseHistory(const std::string& case_id, const std::vector<Event>& events,
                               const CaseRecord* record, const DefinitionRegistry& registry) {
  EventHashChecker hashes;
  return VerifyCaseEvents(case_id, events, record, registry, &hashes);
}

VerifyReport CaseService::Verify(const std::string& case_id) {
  auto reading = ReadCaseSettled(store_, case_id);
  VerifyReport report;
  report.case_id = case_id;
  if (!reading.ok()) {
    report.ok = false;
    report.reason = reading.status().ToString();
    return report;
  }
  if (reading->events.empty() && !reading->record) {
    report.ok = false;
    report.reason = "no such case";
    report.not_found = true;
    return report;
  }
  EventHashChecker hashes;
  report = VerifyCaseEvents(case_id, reading->events, reading->record ? &*reading->record : nullptr,
                            *registry_, &hashes);
  if (report.ok && !reading->events.empty()) {
    const Event& first = reading->events.front();
    std::pair<std::string, int> definition{first.definition_id, first.definition_version};
    CheckDefinitions(store_, &definition, &report);
  }
  return report;
}

VerifyReport CaseService::VerifyAll(const std::function<void(int64_t, int64_t)>& progress,
                                    int threads) {
  VerifyReport total;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Progress counts cases, not events: counting the events first would be a scan of its own, about
  // 6 % of the whole verification's time (docs/benchmarks.md, round 7).
  int64_t case_total = 0;  // guarded by progress_mutex once the ranges run
  if (threads > 1 || progress) {
    auto cases = store_->CountCases();
    if (!cases.ok()) {
      total.ok = false;
      total.reason = cases.status().ToString();
      return total;
    }
    case_total = *cases;
  }
  auto ranges = SplitCaseIds(store_, threads, case_total);
  if (!ranges.ok()) {
    total.ok = false;
    total.reason = ranges.status().ToString();
    return total;
  }
  const size_t n = ranges->size();
  // The lowest range that failed so far: ranges after it stop, since the first finding in case id
  // order is the one reported (the same as one thread would report).
  std::atomic<size_t> first_failed{n};
  std::mutex progress_mutex;
  int64_t cases_done = 0;  // guarded by progress_mutex
  std::vector<VerifyReport> reports(n);
  auto run = [&](size_t k) {
    RangeVerifier verifier(store_, registry_, (*ranges)[k]);
    reports[k] = verifier.Run([&] { return first_failed.load() < k; },
                              [&](int64_t cases) {
                                std::lock_guard<std::mutex> lock(progress_mutex);
                                cases_done += cases;
                                // Cases created during the scan may be verified too.
                                case_total = std::max(case_total, cases_done);
                                if (progress) progress(cases_done, case_total);
                              });
    if (!reports[k].ok) {
      size_t seen = first_failed.load();
      while (k < seen && !first_failed.compare_exchange_weak(seen, k)) {
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    for (size_t k = 1; k < n; ++k)
      workers.emplace_back(run, k);
    run(0);
  }
  for (const VerifyReport& r : reports) {
    total.events += r.events;
    total.cases += r.cases;
    if (!r.ok) {
      total.ok = false;
      total.case_id = r.case_id;
      total.first_bad_seq = r.first_bad_seq;
      total.reason = r.reason;
      break;
    }
  }
  // The registers' ledger is one more chain to check.
  if (total.ok) {
    auto entries = store_->Ledger(0);
    if (!entries.ok()) {
      total.ok = false;
      total.reason = entries.status().ToString();
    } else if (auto fault = CheckLedgerChain(*entries)) {
      total.ok = false;
      total.subject = "ledger";
      total.case_id = "ledger";
      total.first_bad_seq = fault->seq;
      total.reason = fault->reason;
    }
  }
  if (total.ok) CheckDefinitions(store_, nullptr, &total);
  // Every range reported its last cases before it returned. A store may count its cases from
  // counts kept on write (PostgreSQL), which rows deleted behind the engine's back leave too high:
  // a verification that went through every case ends at all of them.
  if (progress) progress(cases_done, total.ok ? cases_done : case_total);
  return total;
}

}  // namespace tongban
