// CaseService, verification: a case's or the whole database's history checked against its chain,
// its replay and its stored snapshot (the auditor's question "did anyone rewrite this?").
#include "engine/case_service.h"

#include "engine/snapshot_codec.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace tongban {

bool AddVerifyFinding(VerifyReport* report, VerifyFinding finding, size_t limit) {
  if (report->findings.size() >= std::max<size_t>(limit, 1)) {
    report->findings_truncated = true;
    return false;
  }
  if (report->ok) {
    report->ok = false;
    report->subject = finding.subject;
    report->case_id = finding.case_id;
    report->first_bad_seq = finding.first_bad_seq;
    report->reason = finding.reason;
  }
  report->findings.push_back(std::move(finding));
  return report->findings.size() < std::max<size_t>(limit, 1);
}

nlohmann::json VerifyReportToJson(const VerifyReport& r) {
  nlohmann::json j = {{"ok", r.ok}, {"events", r.events}};
  if (r.cases > 0) j["cases"] = r.cases;
  if (r.definitions > 0) j["definitions"] = r.definitions;
  if (!r.ok) j["subject"] = r.subject;
  if (!r.case_id.empty()) j["case_id"] = r.case_id;
  if (r.first_bad_seq) j["first_bad_seq"] = *r.first_bad_seq;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.findings.empty()) {
    nlohmann::json& findings = j["findings"] = nlohmann::json::array();
    for (const VerifyFinding& f : r.findings) {
      nlohmann::json one = {{"subject", f.subject}, {"case_id", f.case_id}, {"reason", f.reason}};
      if (f.first_bad_seq) one["first_bad_seq"] = *f.first_bad_seq;
      findings.push_back(std::move(one));
    }
  }
  if (r.findings_truncated) j["findings_truncated"] = true;
  return j;
}

namespace {

// The finding a one-case report carries in its own fields (VerifyCaseEvents fills only those).
VerifyFinding FindingOf(const VerifyReport& r) {
  return VerifyFinding{r.subject, r.case_id, r.first_bad_seq, r.reason};
}

std::string FindingLine(const VerifyFinding& f) {
  std::string line = "BROKEN: ";
  if (f.case_id.empty()) return line + f.reason;  // the store could not be read
  if (f.subject == "ledger") {
    line += "the registers' ledger";
    if (f.first_bad_seq) line += ", entry " + std::to_string(*f.first_bad_seq);
  } else if (f.subject == "definition") {
    line += "definition " + f.case_id;
  } else {
    line += "case " + f.case_id;
    if (f.first_bad_seq) line += ", event " + std::to_string(*f.first_bad_seq);
  }
  return line + ": " + f.reason;
}

}  // namespace

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
  if (r.findings.empty()) {  // a report filled by hand, or a failure to read
    return FindingLine(FindingOf(r));
  }
  std::string text;
  for (const VerifyFinding& f : r.findings) {
    if (!text.empty()) text += "\n";
    text += FindingLine(f);
  }
  if (r.findings.size() > 1 || r.findings_truncated) {
    text += "\nBROKEN: " + std::to_string(r.findings.size()) + " finding(s) in " +
            std::to_string(r.cases) + " case(s) looked at";
    if (r.findings_truncated) text += "; stopped at that limit, so there may be more";
  }
  return text;
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
// up to `max_findings` failing cases, and the events and cases counted up to and including the last
// case looked at (the one that reached the limit, where it stops).
//
// The event stream and the case records are merge-joined in case id order. Records are read in
// batches just ahead of the events, so memory stays bounded whatever the database's size, and a
// batch's records reuse the buffers of the one before. The two are read at different moments while
// writers may be committing, so a finding is only reported after a fresh reading of that case
// confirms it (VerifyNow): a case acted on or created between the two reads is not damage.
class RangeVerifier {
 public:
  RangeVerifier(Store* store, const DefinitionRegistry* registry, CaseIdRange range,
                size_t max_findings)
      : store_(store), registry_(registry), range_(std::move(range)), max_findings_(max_findings) {}

  // `stop` says that an earlier range already reached the limit of findings, so this one's no
  // longer count; `tick` is called every 1000 cases with the cases verified since the last call.
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
    if (!full_ && !stop() && FinishCase()) {
      // Records after the last case that has events.
      while (!full_ && !stop() && NextRecord() && VerifyRecordWithoutEvents()) {
      }
    }
    Tick(stop, tick);
    return total_;
  }

 private:
  static constexpr size_t kRecordBatch = 256;

  // Verifies the case whose events were gathered, after the records before it; false when the
  // range must stop: the limit of findings reached, or the records unreadable.
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
    if (full_) return false;  // reading the records failed
    events_.resize(used_);
    VerifyReport r = VerifyCaseEvents(current_, events_, record, *registry_, &hashes_);
    if (!r.ok) r = VerifyNow(current_);
    used_ = 0;
    return Count(r);
  }

  // The next record (at next_record_) had no events in the stream: the case was created after the
  // event scan began, or its events are gone. Takes the record; false when the range must stop.
  bool VerifyRecordWithoutEvents() {
    std::string id = records_[next_record_++].id;
    return Count(VerifyNow(id));
  }

  // Adds a case's report to the range's total; false when it reached the limit of findings.
  bool Count(const VerifyReport& r) {
    total_.events += r.events;
    total_.cases += 1;
    if (r.ok) return true;
    full_ = !AddVerifyFinding(&total_, FindingOf(r), max_findings_);
    counted_at_finding_.push_back({total_.cases, total_.events});
    return !full_;
  }

 public:
  // Whether the range stopped at the limit of findings (or at a failure to read), so that ranges
  // after it no longer count.
  bool full() const { return full_; }
  // The range's (cases, events) counted up to and including the case of each finding.
  const std::vector<std::pair<int64_t, int64_t>>& counted_at_finding() const {
    return counted_at_finding_;
  }

 private:
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

  // Reading failed: the range cannot go on, and what it had not read may hold anything.
  const VerifyReport& Failed(const Status& status) {
    AddVerifyFinding(&total_, VerifyFinding{"case", "", std::nullopt, status.ToString()},
                     total_.findings.size() + 1);
    full_ = true;
    total_.findings_truncated = true;
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
  const size_t max_findings_;
  VerifyReport total_;
  bool full_ = false;
  std::vector<std::pair<int64_t, int64_t>> counted_at_finding_;
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
// or only the one `only` names ({id, version} of any kind). Each that fails is a finding, up to
// `limit` findings in the report.
void CheckDefinitions(Store* store, const std::pair<std::string, int>* only, VerifyReport* report,
                      size_t limit) {
  auto records = store->Definitions();
  if (!records.ok()) {
    AddVerifyFinding(
        report, VerifyFinding{"definition", "", std::nullopt, records.status().ToString()}, limit);
    return;
  }
  for (const DefinitionRecord& r : *records) {
    if (only && (r.id != only->first || r.version != only->second)) continue;
    if (auto fault = DefinitionRecordFault(r)) {
      std::string name = r.kind + "/" + r.id + "@" + std::to_string(r.version);
      if (!AddVerifyFinding(report, VerifyFinding{"definition", name, std::nullopt, *fault}, limit))
        return;
      continue;
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
  if (!report.ok) {
    report.findings.push_back(FindingOf(report));
  } else if (!reading->events.empty()) {
    const Event& first = reading->events.front();
    std::pair<std::string, int> definition{first.definition_id, first.definition_version};
    CheckDefinitions(store_, &definition, &report, 1);
  }
  return report;
}

VerifyReport CaseService::VerifyAll(const std::function<void(int64_t, int64_t)>& progress,
                                    int threads, size_t max_findings) {
  max_findings = std::max<size_t>(max_findings, 1);
  VerifyReport total;
  auto could_not_read = [&](const Status& status) {
    AddVerifyFinding(&total, VerifyFinding{"case", "", std::nullopt, status.ToString()}, 1);
    total.findings_truncated = true;
    return total;
  };
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Progress counts cases, not events: counting the events first would be a scan of its own, about
  // 6 % of the whole verification's time (docs/benchmarks.md, round 7).
  int64_t case_total = 0;  // guarded by progress_mutex once the ranges run
  if (threads > 1 || progress) {
    auto cases = store_->CountCases();
    if (!cases.ok()) return could_not_read(cases.status());
    case_total = *cases;
  }
  auto ranges = SplitCaseIds(store_, threads, case_total);
  if (!ranges.ok()) return could_not_read(ranges.status());
  const size_t n = ranges->size();
  // The lowest range that reached the limit of findings so far: ranges after it stop, since the
  // first findings in case id order are the ones reported (as one thread would report them).
  std::atomic<size_t> first_full{n};
  std::mutex progress_mutex;
  int64_t cases_done = 0;  // guarded by progress_mutex
  std::vector<VerifyReport> reports(n);
  std::vector<std::vector<std::pair<int64_t, int64_t>>> counted_at_finding(n);
  auto run = [&](size_t k) {
    RangeVerifier verifier(store_, registry_, (*ranges)[k], max_findings);
    reports[k] = verifier.Run([&] { return first_full.load() < k; },
                              [&](int64_t cases) {
                                std::lock_guard<std::mutex> lock(progress_mutex);
                                cases_done += cases;
                                // Cases created during the scan may be verified too.
                                case_total = std::max(case_total, cases_done);
                                if (progress) progress(cases_done, case_total);
                              });
    counted_at_finding[k] = verifier.counted_at_finding();
    if (verifier.full()) {
      size_t seen = first_full.load();
      while (k < seen && !first_full.compare_exchange_weak(seen, k)) {
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    for (size_t k = 1; k < n; ++k)
      workers.emplace_back(run, k);
    run(0);
  }
  // The ranges' findings in range order, up to the limit; the counts up to the range where it was
  // reached, as one thread would have stopped there.
  for (size_t k = 0; k < n; ++k) {
    const VerifyReport& r = reports[k];
    // The limit reached: what comes after (the range's later cases, later ranges, the ledger, the
    // definitions) is not looked at, and may hold more.
    const size_t room = max_findings - total.findings.size();
    if (r.findings.size() >= room) {
      for (size_t i = 0; i < room; ++i)
        AddVerifyFinding(&total, r.findings[i], max_findings);
      // A finding without a count is a failure to read, which ended the range where it stood.
      if (room - 1 < counted_at_finding[k].size()) {
        total.cases += counted_at_finding[k][room - 1].first;
        total.events += counted_at_finding[k][room - 1].second;
      } else {
        total.cases += r.cases;
        total.events += r.events;
      }
      total.findings_truncated = true;
      break;
    }
    for (const VerifyFinding& f : r.findings)
      AddVerifyFinding(&total, f, max_findings);
    total.events += r.events;
    total.cases += r.cases;
    if (r.findings_truncated) {  // a failure to read
      total.findings_truncated = true;
      break;
    }
  }
  // The registers' ledger is one more chain to check, and the definitions' texts, while there is
  // room for findings.
  if (!total.findings_truncated && total.findings.size() < max_findings) {
    auto entries = store_->Ledger(0);
    if (!entries.ok()) {
      AddVerifyFinding(&total,
                       VerifyFinding{"ledger", "ledger", std::nullopt, entries.status().ToString()},
                       max_findings);
    } else if (auto fault = CheckLedgerChain(*entries)) {
      AddVerifyFinding(&total, VerifyFinding{"ledger", "ledger", fault->seq, fault->reason},
                       max_findings);
    }
  }
  if (!total.findings_truncated && total.findings.size() < max_findings) {
    CheckDefinitions(store_, nullptr, &total, max_findings);
  }
  // Every range reported its last cases before it returned. A store may count its cases from
  // counts kept on write (PostgreSQL), which rows deleted behind the engine's back leave too high:
  // a verification that went through every case ends at all of them.
  if (progress) progress(cases_done, total.findings_truncated ? case_total : cases_done);
  return total;
}

}  // namespace tongban
