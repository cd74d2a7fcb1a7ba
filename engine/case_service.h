// CaseService: runs cases. The one entry point the API and the tools use to create cases, act on
// them, read them (now or as they stood at a past time), replay and verify their history, and fire
// the deadlines that act on their own.
//
// How an action is applied: the case's live life-cycle machine is checked out of the machine cache
// (case_cache.h) when it is there at the case's stored version, or else its events are read and
// replayed into a fresh one (so the rules that admitted every past event rebuild the present); any
// timer that has come due is applied first as a system event, then the action; the new events are
// hash-chained to the last one and committed with the new snapshot in one durable transaction, and
// the machine goes back into the cache at the new version. If another writer got there first the
// store refuses the stale write (and the machine is dropped); the action is then decided again on
// the fresh state, unless the caller pinned the version it saw (If-Match), in which case the
// conflict is returned. A refused action leaves no trace: the machine goes back only if the
// refusal left it exactly as it was.
//
// How a case is read: from its stored snapshot (snapshot_codec.h), with the clock computed at the
// time of reading — never by replaying its history, whose length does not matter. A read never
// writes: timers that have come due are applied by FireDueTimers (the timer loop) or by the next
// action, as before. Replay is for verification, GetAt (?at=) and a snapshot this build cannot
// decode.
//
// Thread safety: all methods are thread-safe; concurrency control is optimistic, in the store.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/bundle_case.h"
#include "engine/case_cache.h"
#include "engine/case_clock.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/documents.h"
#include "engine/lifecycle.h"
#include "engine/permissions.h"
#include "engine/registers.h"
#include "engine/store.h"
#include "engine/transition_counter.h"

namespace tongban {

struct CaseView {
  CaseState state;
  std::shared_ptr<const Item> item;
  ClockView clock;
  std::string step_id;  // "" outside review
  Instant as_of{};      // the time the clock was computed for
};

struct NewCase {
  std::string definition_id;   // an item, or a bundle (CreateBundle)
  int definition_version = 0;  // 0: the latest deployed version
  // The applicant; a clerk registering at the window (of an organ with jurisdiction, or of a
  // receiving organ under a handling agreement); or an agent holding the applicant's mandate.
  Actor actor;
  std::string applicant_id;
  std::string applicant_name;
  std::string applicant_credit_code;
  nlohmann::json form = nlohmann::json::object();
  nlohmann::json materials = nlohmann::json::array();
  std::string mode = "standard";
  nlohmann::json commitment;  // for mode "commitment"
  std::string idempotency_key;
};

struct ActRequest {
  std::string case_id;
  std::string action;
  // Who acts. With `caller` set (the API), the engine chooses the role on the case as it stands
  // when the action is decided (Permissions::ResolveActor) and `actor` is ignored; without it
  // (tools, benchmarks, the scenario runner) `actor` is taken as given. Not owned; must outlive
  // the call.
  const Principal* caller = nullptr;
  Actor actor;
  nlohmann::json data = nlohmann::json::object();
  std::string comment;
  std::optional<int64_t> expected_version;  // If-Match
  std::string idempotency_key;
  // The case as the caller has just read it (CaseService::Read), or null: the first attempt acts
  // from its version instead of reading the store again (a record gone stale meanwhile costs a
  // replay or a retry, never correctness: the store's version check still guards the write). Not
  // owned; must outlive the call.
  const CaseRecord* read = nullptr;

  // The command's data: `data` (null: an empty object) with `comment` as its member "comment".
  // kInvalidArgument when `data` is not an object, or when it already holds a different comment
  // (a rating's comment is data.comment: given twice, neither may silently win).
  Result<nlohmann::json> CommandData() const;
};

// One thing verification found broken.
struct VerifyFinding {
  // "case" (case_id names it, first_bad_seq its event), "ledger" (first_bad_seq the entry) or
  // "definition" (case_id is "item/food-business-licence@1").
  std::string subject = "case";
  std::string case_id;
  std::optional<int64_t> first_bad_seq;
  std::string reason;
};

struct VerifyReport {
  bool ok = true;
  int64_t events = 0;
  int64_t cases = 0;
  int64_t definitions = 0;  // deployed definitions whose text matched its content hash
  // The first finding, as `findings` holds it first (kept beside the list for the readers of one
  // finding: a case's verification has at most one, a case's chain being unreadable past its
  // first break).
  std::string subject = "case";
  // Verify(case_id) only: neither an event nor a record holds that id (a mistyped id, not damage).
  bool not_found = false;
  std::string case_id;
  std::optional<int64_t> first_bad_seq;
  std::string reason;
  // Every finding, in the order reported: cases in id order, then the ledger, then definitions;
  // at most the limit VerifyAll was given. `findings_truncated`: verification stopped at that
  // limit, so more may exist.
  std::vector<VerifyFinding> findings;
  bool findings_truncated = false;
};

// Records `finding` in `report` (ok becomes false; the first finding also fills the report's own
// fields), unless `limit` findings are there already, which sets findings_truncated instead.
// Returns whether the report has room for another.
bool AddVerifyFinding(VerifyReport* report, VerifyFinding finding, size_t limit);

// A bundle case (一件事) with its children as they stand now.
struct BundlePartView {
  BundlePartState state;
  std::string title;
  std::shared_ptr<const Item> item;
  std::optional<CaseView> child;  // when the part's case exists
};

// A stage's promise (Bundle::stages): it starts when the first of its parts is accepted (受理) and
// stops when every one of its parts has ended; before it starts there is no due date.
struct BundleStageClock {
  std::string id;
  std::string title;
  DayUnit unit = DayUnit::kWorkingDays;
  int promised_days = 0;
  bool started = false;
  bool stopped = false;
  std::optional<Day> due;
  bool due_provisional = false;
  int days_left = 0;  // in `unit`; frozen when the stage stops
  Light light = Light::kGreen;
};

struct BundleView {
  BundleState state;
  std::shared_ptr<const Bundle> bundle;
  std::vector<BundlePartView> parts;
  std::vector<std::string> correction;    // the combined correction notice, bundle material ids
  std::optional<Day> promised_due;        // the bundle's own promise; none when it has only stages
  bool promised_due_provisional = false;  // counted through a year the calendar does not cover
  int promised_days_left = 0;
  std::vector<BundleStageClock> stages;
  // Any date of the bundle's clock (whole, stages) or of its parts' clocks is 暂定.
  bool provisional = false;
  Light light = Light::kGreen;  // the worst of the whole promise's and the stages' lights
  Instant as_of{};
};

// The view of a case in `state` at `now` (the clock computed then).
CaseView MakeCaseView(CaseState state, std::shared_ptr<const Item> item, Instant now);

nlohmann::json VerifyReportToJson(const VerifyReport& report);
// The report for people: one line "OK: …", or one line per finding ("BROKEN: case …, event 3:
// reason") and, when there are several or the limit was reached, a last line that counts them.
// No final newline.
std::string VerifyReportLine(const VerifyReport& report);
nlohmann::json CaseViewToJson(const CaseView& view);
nlohmann::json BundleViewToJson(const BundleView& view);

// Rebuilds a case from its events alone, checking that each event reproduces the status and step it
// recorded. Events after `at` (when given) are ignored. On divergence returns kDataLoss naming the
// seq.
// A case as a list shows it: an item case or a bundle case (exactly one is set).
struct ListedCase {
  std::optional<CaseView> item;
  std::optional<BundleView> bundle;
};
struct CaseListPage {
  std::vector<ListedCase> cases;
  std::string next_cursor;  // "" when nothing follows
};

// How many cases a caller may see, by status code (a case's or a bundle case's own), light now,
// definition id and implementing (for a bundle: lead) organ id, with the titles a list shows.
struct CaseCounts {
  std::map<std::string, int64_t> by_status;
  std::map<std::string, int64_t> by_light;  // green, yellow and red, always all three
  std::map<std::string, int64_t> by_definition;
  std::map<std::string, int64_t> by_organ;
  std::map<std::string, std::string> definition_titles;  // definition id -> title
  std::map<std::string, std::string> organ_names;        // organ id -> name
  int64_t total = 0;
  // False when more cases matched than CaseService::kMaxCountedCases: the counts then cover the
  // first ones in id order.
  bool complete = true;
};

struct ReplayResult {
  std::unique_ptr<CaseLifecycle> lifecycle;
  int64_t applied = 0;
};
Result<ReplayResult> ReplayEvents(const std::vector<Event>& events,
                                  const DefinitionRegistry& registry,
                                  std::optional<Instant> at = std::nullopt);

// Rebuilds a bundle case from its events alone (as ReplayEvents does for item cases).
struct BundleReplayResult {
  std::unique_ptr<BundleCase> bundle;
  int64_t applied = 0;
};
Result<BundleReplayResult> ReplayBundleEvents(const std::vector<Event>& events,
                                              const DefinitionRegistry& registry);

// Checks one case's events (in seq order) against its record — the chain, the replay and the
// snapshot — as Verify does for a stored case; for a case read from elsewhere (an archive,
// case_archive.h). `record` null: the record is missing.
VerifyReport VerifyCaseHistory(const std::string& case_id, const std::vector<Event>& events,
                               const CaseRecord* record, const DefinitionRegistry& registry);

// The event recording `command`, just applied to `lifecycle`, chained to `prev_hash`.
Event MakeCaseEvent(const CaseLifecycle& lifecycle, const Command& command, int64_t seq,
                    const std::string& prev_hash, const std::string& idempotency_key);
// The store write for `events` just applied to `lifecycle`: the events and the new snapshot, with
// the case's next timer as seen at `now`.
CaseWrite MakeCaseWrite(const CaseLifecycle& lifecycle, int64_t expected_version,
                        std::vector<Event> events, Instant now);

struct CaseServiceOptions {
  // Live machines kept for acting without replaying history (case_cache.h); 0 turns it off.
  size_t machine_cache_capacity = 4096;
  // What an uploaded document may be (documents.h).
  DocumentPolicy documents;
};

// A document a caller attaches to a case (CaseService::UploadDocument).
struct DocumentUpload {
  std::string case_id;
  std::string media_type;  // the request's Content-Type
  std::string name;        // a file name, or ""
  std::string kind = kDocumentMaterial;
  std::string content;
};

class CaseService {
 public:
  // `store`, `registry` and `clock` are not owned and must outlive the service.
  CaseService(Store* store, DefinitionRegistry* registry, const Clock* clock,
              CaseServiceOptions options = {})
      : store_(store),
        registry_(registry),
        clock_(clock),
        registers_(std::make_unique<Registers>(store, registry)),
        permissions_(std::make_unique<Permissions>(registers_.get(), registry)),
        cache_(std::make_unique<CaseCache>(options.machine_cache_capacity)),
        options_(std::move(options)) {}

  // Staff actions are checked for jurisdiction at the moment they are taken (Registers::Authorize)
  // and the authority is recorded in the event; agents need a mandate in force; a commitment
  // application is refused while the applicant has a blocking credit record. A breach found by
  // verification is committed together with its credit record. An action on a bundle child also
  // records the change on the bundle case, and creates the children it releases, in the same
  // transaction.
  //
  // Status codes: kNotFound (no such case or definition), kInvalidArgument, kPermissionDenied and
  // kFailedPrecondition (the action refused: see CaseLifecycle::Apply); kInvalidArgument with
  // reason "unknown-action" when a caller sends an action that is not one of the definition's
  // (or, on a bundle, not a bundle action); kAborted (If-Match did not
  // match, or the case kept changing), kAlreadyExists (an idempotency key reused for another case),
  // kDataLoss (the history does not replay), kUnavailable/kInternal (the store).
  Result<CaseView> Create(const NewCase& request);
  Result<CaseView> Act(const ActRequest& request);
  // The case now, from its stored snapshot and the clock at the time of reading. kNotFound;
  // kFailedPrecondition for a bundle case (GetBundle); kDataLoss when its definition is missing.
  Result<CaseView> Get(const std::string& case_id);
  // The case as it stood at `at`, replayed from its events.
  Result<CaseView> GetAt(const std::string& case_id, Instant at);
  Result<CaseView> GetByNumber(const std::string& number);
  Result<std::vector<Event>> History(const std::string& case_id);

  // Verifies one case: its chain, its replay, its stored record, and the text of the definition it
  // runs on against that definition's content hash. Safe while writers commit: a write landing
  // between the reads of the record and of the events is read again, not reported.
  VerifyReport Verify(const std::string& case_id);
  // Verifies every case, the ledger's chain, and every deployed definition's text against its
  // content hash (the definitions are reported after the cases and the ledger). Safe on a live
  // database: a case created or acted on during the scan is read again on its own before anything
  // is reported about it (so a finding is what the store holds, never a write in flight); what is
  // written after the scan has passed a case id is not looked at. The cases are split into
  // `threads` ranges of case ids (0: one per hardware thread), each verified on a thread of its own
  // with its own store connection; the report is the one a single thread would give: the failing
  // cases in id order, up to `max_findings` findings in all (at least 1), with the events and cases
  // counted up to and including the last case it looked at (every case, unless the limit stopped
  // it: then findings_truncated). The default of 1 answers "is it intact?" at the first break; an
  // auditor's listing asks for more. Memory stays bounded whatever the database's size: each
  // thread streams the events and reads the case records beside them a batch of 256 at a time.
  // `progress` is called now and then with (cases done, cases total), from the verifying threads
  // but never concurrently, and last with (cases done, cases done) when every case was looked at.
  VerifyReport VerifyAll(const std::function<void(int64_t, int64_t)>& progress = {},
                         int threads = 0, size_t max_findings = 1);

  // Applies every timer due at the clock's now on the cases this node claims
  // (Store::ClaimDueTimers: with several nodes on one database, each fires the cases it claimed);
  // returns how many system events were recorded. A case another node wrote first (kAborted, after
  // a few fresh tries) is not a failure: its timer is that node's to fire or already fired.
  // Also rewrites up to `limit` cases per clock written before the store recorded their lights
  // (Store::CasesWithUnknownLights), so that CountLights needs no case read.
  Result<int> FireDueTimers(int limit = 500);
  // Cases by the light of `clock` now — kDecision: cases under review; kDelivery: granted cases
  // whose certificate is not yet delivered (art. 44: green, yellow near the 10th working day, red
  // past it) — from the counts the store keeps on write. A case written by an older version and
  // not yet rewritten has its clock computed from its snapshot (at most kMaxComputedLights of them,
  // the rest counted green; FireDueTimers rewrites them). `unknown` is 0. Status codes: the
  // store's (kFailedPrecondition for an old file opened read-only).
  Result<LightCounts> CountLights(LightClock clock);
  static constexpr int kMaxComputedLights = 5000;

  // --- Bundles (一件事集成办)
  // Applies for a bundle: works out which parts apply from the form, and creates the bundle case
  // and one child case for every part that applies and waits for no other, all in one transaction.
  // A part whose mapped form or materials its item refuses fails the whole application, naming the
  // part.
  Result<BundleView> CreateBundle(const NewCase& request);
  // supply_correction (the combined correction notice, answered once), deliver (every result
  // together, by the lead organ's clerk) and withdraw (every open part). Any other action:
  // kInvalidArgument with reason "unknown-action" (act on the part cases).
  Result<BundleView> ActOnBundle(const ActRequest& request);
  // The bundle and its parts now, from their stored snapshots (as Get).
  Result<BundleView> GetBundle(const std::string& case_id);
  // Whether `case_id` is a bundle case (false for item cases and unknown ids).
  bool IsBundleCase(const std::string& case_id);
  // The same for a record just read (Read).
  bool IsBundle(const CaseRecord& record) const;

  // The stored record of a case, read once for a route that would otherwise read it several times
  // (is it a bundle, may the caller see it, act on it: IsBundle, GetFor, ActRequest::read).
  // kNotFound ("no case ID"); the store's codes.
  Result<CaseRecord> Read(const std::string& case_id);
  // The version at which this process's machine cache holds item case `case_id`, when `p` may see
  // the case as it stood there (MaySee); nullopt when nothing is cached or `p` may not see it
  // there. Reads no case from the store (a bundle's part reads its bundle's record for MaySee).
  // Only a hint: another process, or a bundle's follow-up write, may have written a later version
  // since. An action decided from it (ActRequest::read holding just the id and this version) is
  // guarded by the store's version check; a caller answers only its successes from it and decides
  // a refusal again on the stored case (Read, GetFor), so that no refusal rests on the hint.
  std::optional<int64_t> CachedVisibleVersion(const Principal& p, const std::string& case_id);

  // --- Who may see and do what (engine/permissions.h), for the API
  // The case, or the bundle case, if `p` may see it; kNotFound ("no case ID") when it may not,
  // exactly as when it does not exist.
  Result<CaseView> GetFor(const Principal& p, const std::string& case_id);
  // As GetFor, for an item case's record just read (Read).
  Result<CaseView> GetFor(const Principal& p, const CaseRecord& record);
  Result<BundleView> GetBundleFor(const Principal& p, const std::string& case_id);
  bool MaySee(const Principal& p, const CaseState& state);
  bool MaySeeBundle(const Principal& p, const BundleState& state);
  // One page of the cases `p` may see among those `filter` selects, in id order after
  // filter.after_id, at most filter.limit of them; `light` ("" or green, yellow, red) keeps only
  // cases of that light now. The scope is enforced here, not requested: an applicant's filter is
  // narrowed to its own cases (Permissions::NarrowToScope), and every row is checked with MaySee,
  // since an organ's cases (implemented, received, delegated, joint) are not one column. At most
  // 20 store pages are read per call; next_cursor then resumes where this one stopped.
  // Status codes: kUnavailable/kInternal (the store).
  Result<CaseListPage> ListFor(const Principal& p, CaseFilter filter, const std::string& light);
  // The cases `p` may see among those `filter` and `light` select (the scope, filters and checks of
  // ListFor; filter.after_id and filter.limit are ignored), counted. Reads every matching case's
  // snapshot, at most kMaxCountedCases of them. Status codes: kUnavailable/kInternal (the store).
  Result<CaseCounts> CountFor(const Principal& p, CaseFilter filter, const std::string& light);
  static constexpr int kMaxCountedCases = 20000;
  // What `p` may do on the case now, each in the role it would be taken in.
  std::vector<OfferedAction> OfferedActions(const Principal& p, const CaseView& view);
  std::vector<OfferedAction> OfferedActions(const Principal& p, const BundleView& view);

  // --- Documents (documents.h) and the archive (case_archive.h)
  // Attaches a document to an item case, as `p` (Permissions::AuthorizeDocumentUpload), within
  // the policy's size and types (CheckUpload: reasons "too-large", "unsupported-media-type");
  // nothing is stored when refused. Attaching the same bytes again is a no-op returning the
  // first attachment. Returns the record without its bytes. kNotFound when `p` may not see the
  // case; kPermissionDenied; kInvalidArgument (a bad name or kind, the limits, and
  // (reason "bundle-case") for a bundle case (documents belong to its parts); the store's codes.
  Result<DocumentRecord> UploadDocument(const Principal& p, const DocumentUpload& upload);
  // The documents of a case `p` may see (a bundle case: none of its own). kNotFound otherwise.
  Result<std::vector<DocumentRecord>> DocumentsFor(const Principal& p, const std::string& case_id);
  // One document with its bytes. kNotFound when `p` may not see the case or it has no such one.
  Result<DocumentRecord> DocumentFor(const Principal& p, const std::string& case_id,
                                     const std::string& hash);
  // The case's archive (a bundle case with its parts) when `p` may read it
  // (Permissions::MayReadArchive); kNotFound otherwise, as for a case it may not see.
  Result<std::string> ArchiveFor(const Principal& p, const std::string& case_id);
  const DocumentPolicy& document_policy() const { return options_.documents; }

  Permissions* permissions() const { return permissions_.get(); }
  Registers* registers() const { return registers_.get(); }
  Store* store() const { return store_; }
  DefinitionRegistry* registry() const { return registry_; }
  const Clock* clock() const { return clock_; }
  const CaseCache& machine_cache() const { return *cache_; }
  // The case events committed through this service since it started, by action and status.
  const TransitionCounter& transitions() const { return transitions_; }

 private:
  // A case checked out for acting: its live machine (exclusively this caller's) and where its
  // chain ends.
  struct OpenCase {
    std::unique_ptr<CaseLifecycle> lifecycle;
    int64_t version = 0;
    std::string last_hash;
  };
  // The machine from the cache when it is there at the stored version, else replayed. `read`,
  // when not null, is the case's record as just read (ActRequest::read), used instead of reading
  // it again.
  Result<OpenCase> Checkout(const std::string& case_id, const CaseRecord* read = nullptr);
  // Puts a machine whose write committed (or that nothing changed) back into the cache, its chain
  // bookkeeping advanced to `version` and `last_hash`.
  void CheckIn(std::unique_ptr<CaseLifecycle> lifecycle, int64_t version,
               const std::string& last_hash);
  // Calls `visit` with each case `p` may see among those `filter` selects (and of `light`, when not
  // ""), in id order after filter.after_id, reading store pages of filter.limit records, at most
  // `max_pages` of them, until `visit` returns false. Returns the id of the last record read, or
  // "" when the store holds no more: where a next call resumes.
  Result<std::string> VisitVisible(const Principal& p, CaseFilter filter, const std::string& light,
                                   int max_pages, const std::function<bool(ListedCase)>& visit);
  Result<CaseView> ActOnce(const ActRequest& request, const CaseRecord* read, bool* retry);
  // Checks the actor's right to take `command` now and records it in the command's data.
  Status AuthorizeCommand(const CaseLifecycle& lifecycle, Command* command);
  // Checks that every document `data.documents` names is attached to the case.
  Status CheckDocumentRefs(const std::string& case_id, const nlohmann::json& data);
  // The state of an item case `p` may see; kNotFound otherwise, kInvalidArgument (reason
  // "bundle-case") for a bundle case it may see.
  Result<CaseState> VisibleItemCase(const Principal& p, const std::string& case_id);
  // The definition id of the bundle `state` is a part of; "" for a case of no bundle.
  std::string BundleDefinitionOf(const CaseState& state);
  Status AuthorizeSubmission(const Item& item, const NewCase& request, Instant now,
                             nlohmann::json* data);
  // The write for `events` on `lifecycle` (whose state before them was `before`), with the bundle
  // follow-ups when the case is a bundle child.
  Result<StoreWrite> WriteWithFollowups(const CaseLifecycle& lifecycle, const CaseState& before,
                                        int64_t version, std::vector<Event> events, Instant now);
  Status AddBundleFollowups(const CaseLifecycle& child, const CaseState& before, Instant now,
                            StoreWrite* write);
  Result<BundleView> ActOnBundleOnce(const ActRequest& request, bool* retry);
  BundleView MakeBundleView(BundleState state, std::shared_ptr<const Bundle> bundle, Instant now);
  Result<CaseView> ViewAtSeq(const std::string& case_id, int64_t seq);
  // The case as its stored snapshot holds it, its clock computed now.
  Result<CaseView> ViewOfRecord(const CaseRecord& record);
  Result<CaseView> FireTimersFor(const std::string& case_id, int* fired);
  // The store's Commit, counting the write's events in transitions_ once it is committed. Every
  // case write of this service goes through it.
  Status Commit(StoreWrite write);
  Status Commit(CaseWrite write);
  CaseView MakeView(const CaseLifecycle& lifecycle, Instant now) const;

  Store* store_;
  DefinitionRegistry* registry_;
  const Clock* clock_;
  std::unique_ptr<Registers> registers_;
  std::unique_ptr<Permissions> permissions_;
  std::unique_ptr<CaseCache> cache_;
  CaseServiceOptions options_;
  TransitionCounter transitions_;
};

}  // namespace tongban
