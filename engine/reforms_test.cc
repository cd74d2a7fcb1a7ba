// The reforms of issue 5 end to end through CaseService, over a real SQLite file, the shipped
// definitions plus the test definitions in engine/testdata, and a simulated clock:
// delegated powers (赋权), commitment-based approval with verification and credit records
// (告知承诺), reception separated from handling (收受分离), assisted handling (帮办代办) and
// bundles (一件事).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/case_service.h"
#include "engine/counting_store.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"
#include "workflows/sha256.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::hours;

Instant T(const char* text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Instant{});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Actor Staff(const std::string& id, const std::string& role, const std::string& organ) {
  return {id, role, organ, id};
}
Actor Applicant(const std::string& id = "ent-1") {
  return {id, "applicant", "", "示例企业有限公司"};
}

const json kRegistrationForm = {
    {"enterprise_name", "示例科技有限公司"}, {"enterprise_type", "有限责任公司"},
    {"residence", "××开发区示范路1号"},      {"legal_representative", "张三"},
    {"business_scope", "软件开发"},          {"requires_pre_approval", false}};
const json kRegistrationMaterials = {"application_form", "articles", "investor_documents",
                                     "officer_documents", "residence_document"};

class ReformsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tongban-reforms-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    SqliteStoreOptions options;
    options.path = dir_ + "/tongban.db";
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    const std::string source = TONGBAN_SOURCE_DIR;
    auto shipped = registry_->DeployDirectory(source + "/definitions", clock_.Now());
    ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
    std::vector<std::pair<std::string, std::string>> texts;
    for (const char* name :
         {"reforms-delegations.json", "reforms-agreements.json", "reforms-bundle.json"}) {
      texts.emplace_back(name, ReadFile(source + "/engine/testdata/" + name));
    }
    std::vector<Diagnostic> diagnostics;
    auto deployed = registry_->Deploy(texts, clock_.Now(), &diagnostics);
    std::string report;
    for (const Diagnostic& d : diagnostics)
      report += d.pointer + ": " + d.message + "\n";
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString() << "\n" << report;
    service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_);
  }
  void TearDown() override {
    service_.reset();
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  Result<CaseView> Apply(const std::string& item, const Actor& actor, json form, json materials,
                         const std::string& mode = "standard", json commitment = nullptr,
                         const std::string& applicant = "ent-1") {
    NewCase c;
    c.definition_id = item;
    c.actor = actor;
    c.applicant_id = applicant;
    c.applicant_name = "示例企业有限公司";
    c.applicant_credit_code = "91330100MA2TB00014";
    c.form = std::move(form);
    c.materials = std::move(materials);
    c.mode = mode;
    c.commitment = std::move(commitment);
    return service_->Create(c);
  }
  Result<CaseView> Registration(const Actor& actor) {
    return Apply("establishment-registration", actor, kRegistrationForm, kRegistrationMaterials);
  }
  Result<CaseView> Act(const std::string& id, const std::string& action, const Actor& actor,
                       json data = json::object()) {
    clock_.Advance(hours(1));
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.actor = actor;
    r.data = std::move(data);
    return service_->Act(r);
  }
  // The accept power over establishment registration, delegated to a bureau of no deployed list
  // (without the legal basis an added delegation needs).
  static Delegation AcceptDelegationToNewBureau() {
    Delegation d;
    d.id = "api-registration-accept";
    d.item_id = "establishment-registration";
    d.from = {"city-amr", "××市市场监督管理局"};
    d.to = {"new-bureau", "新审批局"};
    d.powers = {Power::kAccept};
    d.effective_from = Day{std::chrono::year{2026} / 1 / 1};
    return d;
  }
  // ent-1's mandate to agent-1 for establishment registration.
  static Mandate RegistrationMandate() {
    Mandate m;
    m.id = "mandate-1";
    m.applicant_id = "ent-1";
    m.agent_id = "agent-1";
    m.definitions = {"establishment-registration"};
    return m;
  }
  json LastEventData(const std::string& id) {
    auto events = service_->History(id);
    EXPECT_TRUE(events.ok());
    return events->back().DataJson();
  }

  std::string dir_;
  SimulatedClock clock_{T("2026-03-02T09:00:00+08:00")};  // Monday
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
};

// ---- Delegated powers (赋权)
// ---------------------------------------------------------------------

TEST_F(ReformsTest, EntrustedBureauActsAndDecidesInTheDelegatorsName) {
  const Actor clerk = Staff("b-clerk", "clerk", "test-bureau");
  auto created = Registration(clerk);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(LastEventData(created->state.id)["authority"]["delegation"],
            "test-registration-entrusted");
  const std::string id = created->state.id;
  ASSERT_TRUE(Act(id, "accept", clerk).ok());
  json authority = LastEventData(id)["authority"];
  EXPECT_EQ(authority["basis"], "delegation");
  EXPECT_EQ(authority["form"], "entrustment");
  EXPECT_EQ(authority["delegated_by"], "city-amr");
  ASSERT_TRUE(Act(id, "pass", Staff("b-rev", "reviewer", "test-bureau")).ok());
  auto approved = Act(id, "approve", Staff("b-appr", "approver", "test-bureau"));
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  // 委托: issued in the delegator's name, without the bureau's seal.
  EXPECT_EQ(approved->state.issued_in_name, "××市市场监督管理局");
  EXPECT_EQ(approved->state.issued_in_seal, "");
  EXPECT_EQ(approved->state.issued_under_delegation, "test-registration-entrusted");
  EXPECT_TRUE(service_->Verify(id).ok);
}

TEST_F(ReformsTest, ConcentratedApprovalIsIssuedInTheReceiversNameWithItsSeal) {
  const Actor clerk = Staff("b-clerk", "clerk", "test-bureau");
  json form = {{"enterprise_name", "示例科技有限公司"},
               {"credit_code", "91330100MA2TB00014"},
               {"seal_type", "法定名称章"},
               {"seal_count", 1},
               {"engraver_name", "示例刻章店"}};
  auto created = Apply("seal-engraving-filing", clerk, form,
                       {"filing_form", "business_licence", "representative_id", "seal_impression"});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(Act(created->state.id, "accept", clerk).ok());
  auto filed = Act(created->state.id, "file", clerk);
  ASSERT_TRUE(filed.ok()) << filed.status().ToString();
  EXPECT_EQ(filed->state.status, CaseStatus::kApproved);
  EXPECT_EQ(filed->state.issued_in_name, "测试审批局");
  EXPECT_EQ(filed->state.issued_in_seal, "测试审批局行政审批专用章");
}

TEST_F(ReformsTest, ActionOutsideJurisdictionIsRefusedNamingTheCompetentOrgan) {
  auto refused = Registration(Staff("x-clerk", "clerk", "unrelated-organ"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("××市市场监督管理局 (city-amr)"), std::string::npos)
      << refused.status().message();
  auto created = Registration(Applicant());
  ASSERT_TRUE(created.ok());
  auto accept = Act(created->state.id, "accept", Staff("x-clerk", "clerk", "unrelated-organ"));
  EXPECT_EQ(accept.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->Get(created->state.id)->state.version, 1);
}

TEST_F(ReformsTest, ExpiredDelegationNoLongerCounts) {
  auto created = Registration(Applicant());
  ASSERT_TRUE(created.ok());
  auto accept = Act(created->state.id, "accept", Staff("o-clerk", "clerk", "old-bureau"));
  ASSERT_EQ(accept.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(accept.status().message().find("test-registration-expired expired on 2025-12-31"),
            std::string::npos)
      << accept.status().message();
}

TEST_F(ReformsTest, RevokedDelegationStopsFutureActionsAndLeavesHistoryIntact) {
  const Actor clerk = Staff("b-clerk", "clerk", "test-bureau");
  auto created = Registration(Applicant());
  ASSERT_TRUE(created.ok());
  const std::string id = created->state.id;
  ASSERT_TRUE(Act(id, "accept", clerk).ok());
  auto revoked = service_->registers()->RevokeDelegation(
      "test-registration-entrusted", "划转回市局", Staff("admin", "admin", "*"), clock_.Now());
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  auto pass = Act(id, "pass", Staff("b-rev", "reviewer", "test-bureau"));
  ASSERT_EQ(pass.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(pass.status().message().find("was revoked"), std::string::npos)
      << pass.status().message();
  // The implementing organ itself goes on; the accept under the delegation stays in history.
  ASSERT_TRUE(Act(id, "pass", Staff("amr-rev", "reviewer", "city-amr")).ok());
  auto history = service_->History(id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ((*history)[1].DataJson()["authority"]["delegation"], "test-registration-entrusted");
  EXPECT_TRUE(service_->Verify(id).ok);
  // Revoking twice is refused; the ledger chain holds.
  EXPECT_EQ(service_->registers()
                ->RevokeDelegation("test-registration-entrusted", "again", Staff("a", "admin", "*"),
                                   clock_.Now())
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  auto entries = service_->registers()->Entries();
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u);
  EXPECT_FALSE(CheckLedgerChain(*entries).has_value());
}

TEST_F(ReformsTest, RewritingTheLedgerIsFoundByVerification) {
  ASSERT_TRUE(service_->registers()
                  ->RevokeDelegation("test-registration-entrusted", "划转回市局",
                                     Staff("admin", "admin", "*"), clock_.Now())
                  .ok());
  EXPECT_TRUE(service_->VerifyAll().ok);
  service_.reset();
  registry_.reset();
  store_.reset();
  // Someone with the file and the sqlite3 tool (or psql) undoes the revocation's reason.
  const std::string db = dir_ + "/tongban.db";
  {
    std::ofstream script(db + ".sql");
    script << ".bail on\nDROP TRIGGER ledger_append_only_update;\n"
              "UPDATE ledger SET data = '{\"reason\":\"-\"}' WHERE seq = 1;\n";
  }
  if (TestingPostgres()) {
    ASSERT_EQ(
        TamperWithPostgres(db, "UPDATE ledger SET data = '{\"reason\":\"-\"}' WHERE seq = 1;"), "");
  } else {
    ASSERT_EQ(std::system(("sqlite3 '" + db + "' < '" + db + ".sql'").c_str()), 0);
  }
  SqliteStoreOptions options;
  options.path = db;
  auto store = OpenStoreUnderTest(options);
  ASSERT_TRUE(store.ok());
  store_ = std::move(store).value();
  registry_ = std::make_unique<DefinitionRegistry>(store_.get());
  ASSERT_TRUE(registry_->LoadFromStore().ok());
  service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_);
  VerifyReport report = service_->VerifyAll();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.case_id, "ledger");
  EXPECT_EQ(report.subject, "ledger");
  EXPECT_EQ(report.first_bad_seq, 1);
  EXPECT_EQ(VerifyReportLine(report), "BROKEN: the registers' ledger, entry 1: " + report.reason);
}

TEST_F(ReformsTest, DelegationAddedThroughTheRegisterTakesEffect) {
  auto created = Registration(Applicant());
  ASSERT_TRUE(created.ok());
  const Actor clerk = Staff("n-clerk", "clerk", "new-bureau");
  ASSERT_EQ(Act(created->state.id, "accept", clerk).status().code(), StatusCode::kPermissionDenied);
  Delegation d = AcceptDelegationToNewBureau();
  EXPECT_EQ(service_->registers()
                ->AddDelegation(d, Staff("admin", "admin", "*"), clock_.Now())
                .status()
                .code(),
            StatusCode::kInvalidArgument);  // no legal basis
  d.legal_basis = {{"《中华人民共和国行政许可法》", "第二十四条", ""}};
  ASSERT_TRUE(
      service_->registers()->AddDelegation(d, Staff("admin", "admin", "*"), clock_.Now()).ok());
  EXPECT_EQ(service_->registers()
                ->AddDelegation(d, Staff("admin", "admin", "*"), clock_.Now())
                .status()
                .code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(Act(created->state.id, "accept", clerk).ok());
  // accept only: reviewing stays with the implementing organ.
  EXPECT_EQ(
      Act(created->state.id, "pass", Staff("n-rev", "reviewer", "new-bureau")).status().code(),
      StatusCode::kPermissionDenied);
}

// ---- Commitment-based approval (告知承诺)
// ---------------------------------------------------------

class CommitmentTest : public ReformsTest {
 protected:
  std::shared_ptr<const Item> Food() { return registry_->FindItem("food-business-licence"); }
  Actor Clerk() { return Staff("f-clerk", "clerk", Food()->organ.id); }
  Actor Verifier() { return Staff("f-verifier", "verifier", Food()->organ.id); }
  json Commitment() {
    return {{"template_id", Food()->commitment->template_id},
            {"template_version", Food()->commitment->template_version},
            {"signed_by", "示例企业有限公司 法定代表人 张三"}};
  }
  Result<CaseView> ApplyFood(const std::string& mode) {
    json form = {
        {"applicant_name", "示例食品商行有限公司"}, {"credit_code", "91330100MA2TB00014"},
        {"legal_representative", "张三"},           {"premises_address", "××开发区示范路1号"},
        {"business_type", "食品销售经营者"},        {"sells_special_food", false}};
    json materials = {"application_form", "business_licence", "identity_document"};
    if (mode == "standard") {
      for (const char* m : {"premises_layout", "equipment_list", "safety_rules"})
        materials.push_back(m);
    }
    return Apply("food-business-licence", Applicant(), form, materials, mode,
                 mode == "commitment" ? Commitment() : json(nullptr));
  }
  // A commitment case accepted (and so approved at once).
  std::string Approved() {
    auto created = ApplyFood("commitment");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    auto accepted = Act(created->state.id, "accept", Clerk());
    EXPECT_TRUE(accepted.ok()) << accepted.status().ToString();
    EXPECT_EQ(accepted->state.status, CaseStatus::kApproved);
    return created->state.id;
  }
};

TEST_F(CommitmentTest, CommitmentIsRecordedAndVerificationStartsAtTheDecision) {
  auto created = ApplyFood("commitment");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(created->state.commitment.has_value());
  EXPECT_EQ(created->state.commitment->content_hash, Sha256Hex(Food()->commitment->template_text));
  EXPECT_EQ(created->state.commitment->signed_by, "示例企业有限公司 法定代表人 张三");
  EXPECT_EQ(created->state.commitment->signed_at, T("2026-03-02T09:00:00+08:00"));
  auto accepted = Act(created->state.id, "accept", Clerk());
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->state.verification, Verification::kPending);
  // 20 working days from Mon 03-02: 03-03 .. 03-30.
  ASSERT_TRUE(accepted->clock.verification_due.has_value());
  EXPECT_EQ(FormatIsoDay(*accepted->clock.verification_due), "2026-03-30");
  auto passed = Act(created->state.id, "verify", Verifier(), {{"result", "pass"}});
  ASSERT_TRUE(passed.ok()) << passed.status().ToString();
  EXPECT_EQ(passed->state.verification, Verification::kPassed);
  EXPECT_EQ(passed->state.status, CaseStatus::kApproved);
  EXPECT_EQ(Act(created->state.id, "verify", Verifier(), {{"result", "pass"}}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(CommitmentTest, SigningAnotherTextIsRefused) {
  json commitment = Commitment();
  commitment["content_hash"] = Sha256Hex("another text");
  auto refused = Apply("food-business-licence", Applicant(),
                       {{"applicant_name", "x"},
                        {"credit_code", "91330100MA2TB00014"},
                        {"legal_representative", "张三"},
                        {"premises_address", "y"},
                        {"business_type", "食品销售经营者"},
                        {"sells_special_food", false}},
                       {"application_form", "business_licence", "identity_document"}, "commitment",
                       commitment);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("another text"), std::string::npos);
}

TEST_F(CommitmentTest, OverdueVerificationTurnsRedAndIsRecorded) {
  const std::string id = Approved();
  clock_.Set(T("2026-03-31T09:00:00+08:00"));
  auto fired = service_->FireDueTimers();
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(*fired, 1);
  auto view = service_->Get(id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->state.verification_overdue_recorded);
  EXPECT_TRUE(view->clock.verification_overdue);
  EXPECT_EQ(view->clock.light, Light::kRed);
  auto history = service_->History(id);
  EXPECT_EQ(history->back().action, "mark_verification_overdue");
  // A late verification is still recorded.
  EXPECT_TRUE(Act(id, "verify", Verifier(), {{"result", "pass"}}).ok());
}

TEST_F(CommitmentTest, BreachRevokesRecordsCreditAndBlocksUntilRepaired) {
  const std::string id = Approved();
  EXPECT_EQ(Act(id, "verify", Verifier(), {{"result", "breach"}}).status().code(),
            StatusCode::kInvalidArgument);  // a breach needs its reason
  EXPECT_EQ(Act(id, "verify", Clerk(), {{"result", "pass"}}).status().code(),
            StatusCode::kPermissionDenied);  // verifiers verify
  auto breached = Act(id, "verify", Verifier(),
                      {{"result", "breach"}, {"reason", "现场核查：经营场所与承诺不符"}});
  ASSERT_TRUE(breached.ok()) << breached.status().ToString();
  EXPECT_EQ(breached->state.status, CaseStatus::kRevoked);
  EXPECT_EQ(breached->state.verification, Verification::kBreached);
  auto blocking = service_->registers()->BlockingCreditRecords("91330100MA2TB00014", "ent-1");
  ASSERT_TRUE(blocking.ok()) << blocking.status().ToString();
  const std::vector<CreditRecord>& records = *blocking;
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].case_id, id);
  EXPECT_EQ(records[0].reason, "现场核查：经营场所与承诺不符");

  auto blocked = ApplyFood("commitment");
  ASSERT_EQ(blocked.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(blocked.status().message().find(records[0].id), std::string::npos);
  EXPECT_TRUE(ApplyFood("standard").ok());  // standard mode stays open

  EXPECT_EQ(service_->registers()
                ->RepairCredit(records[0].id, "", Staff("admin", "admin", "*"), clock_.Now())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(service_->registers()
                  ->RepairCredit(records[0].id, "已整改并公开承诺，信用修复",
                                 Staff("admin", "admin", "*"), clock_.Now())
                  .ok());
  EXPECT_TRUE(ApplyFood("commitment").ok());
  auto entries = service_->registers()->Entries();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].kind, kLedgerCreditRecorded);
  EXPECT_EQ((*entries)[1].kind, kLedgerCreditRepaired);
  EXPECT_FALSE(CheckLedgerChain(*entries).has_value());
  EXPECT_TRUE(service_->Verify(id).ok);
}

// ---- Reception separated from handling (收受分离)
// -------------------------------------------------

TEST_F(ReformsTest, ReceivingWindowTransfersAndTheHandlingOrganAccepts) {
  const Actor remote = Staff("r-clerk", "clerk", "test-remote-window");
  const Actor amr = Staff("amr-clerk", "clerk", "city-amr");
  auto created = Registration(remote);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string id = created->state.id;
  EXPECT_EQ(created->state.received_by, "test-remote-window");
  EXPECT_EQ(created->state.reception_agreement, "test-remote-registration");
  EXPECT_FALSE(created->clock.acceptance_deadline.has_value() &&
               NextTimer(*created->item, created->state, clock_.Now()).has_value());
  auto early = Act(id, "accept", amr);
  ASSERT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("transferred"), std::string::npos);
  EXPECT_EQ(Act(id, "transfer", amr).status().code(), StatusCode::kPermissionDenied);
  clock_.Set(T("2026-03-04T10:00:00+08:00"));
  auto transferred = Act(id, "transfer", remote);
  ASSERT_TRUE(transferred.ok()) << transferred.status().ToString();
  // The 5-day window of art. 32 starts at the handling organ: Wed 03-04 + 5 → 03-11.
  EXPECT_EQ(FormatIsoDay(*transferred->clock.acceptance_deadline), "2026-03-11");
  EXPECT_EQ(Act(id, "accept", remote).status().code(), StatusCode::kPermissionDenied);
  auto accepted = Act(id, "accept", amr);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  auto history = service_->History(id);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].actor.organ, "test-remote-window");
  EXPECT_EQ((*history)[1].action, "transfer");
  EXPECT_EQ((*history)[2].actor.organ, "city-amr");
  EXPECT_TRUE(service_->Verify(id).ok);
}

// ---- Assisted handling (帮办代办)
// -----------------------------------------------------------------

TEST_F(ReformsTest, AgentActsUnderAMandateAndEventsShowBoth) {
  const Actor agent{"agent-1", "agent", "", "帮办员"};
  auto refused = Registration(agent);
  ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(
      service_->registers()->GrantMandate(RegistrationMandate(), Applicant(), clock_.Now()).ok());
  auto created = Registration(agent);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  json submit = LastEventData(created->state.id);
  EXPECT_EQ(submit["on_behalf_of"], "ent-1");
  EXPECT_EQ(submit["mandate"], "mandate-1");
  auto withdrawn = Act(created->state.id, "withdraw", agent);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  auto history = service_->History(created->state.id);
  EXPECT_EQ(history->back().actor.id, "agent-1");
  EXPECT_EQ(history->back().DataJson()["on_behalf_of"], "ent-1");
  // Revoked: no more.
  ASSERT_TRUE(service_->registers()->RevokeMandate("mandate-1", Applicant(), clock_.Now()).ok());
  EXPECT_EQ(Registration(agent).status().code(), StatusCode::kPermissionDenied);
  // Nobody forges what the engine records.
  auto other = Registration(Applicant());
  EXPECT_EQ(Act(other->state.id, "withdraw", Applicant(), {{"on_behalf_of", "x"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ReformsTest, AnUnreadableLedgerIsUnavailableNotAStaleAnswer) {
  // A second node (its own CaseService, so its own registers, on the same database) reads the
  // ledger; the mandate is then revoked through the first. While the second cannot read the ledger
  // again, it must neither act on the mandate it read before nor grant commitment mode without the
  // credit records: kUnavailable (503), not a decision on stale entries. Seeing a case counts
  // delegations ever held, so it is still answered from the entries read before.
  const Actor agent{"agent-1", "agent", "", "帮办员"};
  ASSERT_TRUE(
      service_->registers()->GrantMandate(RegistrationMandate(), Applicant(), clock_.Now()).ok());
  Delegation d = AcceptDelegationToNewBureau();
  d.legal_basis = {{"《中华人民共和国行政许可法》", "第二十四条", ""}};
  ASSERT_TRUE(
      service_->registers()->AddDelegation(d, Staff("admin", "admin", "*"), clock_.Now()).ok());

  CountingStore counting(store_.get());
  std::unique_ptr<CaseService> first =
      std::make_unique<CaseService>(&counting, registry_.get(), &clock_);
  std::swap(first, service_);  // Registration and Act now go through the second node
  auto created = Registration(agent);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(first->registers()->RevokeMandate("mandate-1", Applicant(), clock_.Now()).ok());

  counting.fail_ledger_reads = true;
  EXPECT_EQ(Registration(agent).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Act(created->state.id, "withdraw", agent).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(service_->registers()
                ->MandateFor("ent-1", "agent-1", "establishment-registration", clock_.Now())
                .status()
                .code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(
      service_->registers()->BlockingCreditRecords("91330100MA2TB00014", "ent-1").status().code(),
      StatusCode::kUnavailable);
  EXPECT_TRUE(service_->registers()->Concerns("new-bureau", created->state));
  EXPECT_FALSE(service_->registers()->Concerns("another-bureau", created->state));
  // The registers' own listings would show the revoked mandate in force: unavailable, too. Seeing
  // a case still counts the mandates read before.
  Registers* registers = service_->registers();
  EXPECT_EQ(registers->Mandates().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registers->Mandates("agent-1").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registers->Delegations().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registers->FindDelegation(d.id).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registers->CreditRecords().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registers->FindCreditRecord("credit-1").status().code(), StatusCode::kUnavailable);
  std::vector<Mandate> known = registers->KnownMandates("agent-1");
  ASSERT_EQ(known.size(), 1u);
  EXPECT_FALSE(known.front().revoked_at.has_value()) << "read before the revocation";

  counting.fail_ledger_reads = false;
  auto mandates = registers->Mandates("agent-1");
  ASSERT_TRUE(mandates.ok()) << mandates.status().ToString();
  ASSERT_EQ(mandates->size(), 1u);
  EXPECT_TRUE(mandates->front().revoked_at.has_value());
  auto delegation = registers->FindDelegation(d.id);
  ASSERT_TRUE(delegation.ok() && delegation->has_value());
  EXPECT_EQ(StatusCode::kOk, registers->CreditRecords().status().code());
  EXPECT_EQ(Registration(agent).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Act(created->state.id, "withdraw", agent).status().code(),
            StatusCode::kPermissionDenied);
  std::swap(first, service_);
}

// ---- Bundles (一件事)
// ----------------------------------------------------------------------------

class BundleTest : public ReformsTest {
 protected:
  NewCase Startup(bool seal = true) {
    NewCase c;
    c.definition_id = "test-startup";
    c.actor = Applicant();
    c.applicant_id = "ent-1";
    c.applicant_name = "示例企业有限公司";
    c.form = kRegistrationForm;
    c.form["credit_code"] = "91330100MA2TB00014";
    c.form["engrave_seal"] = seal;
    c.form["engraver_name"] = "示例刻章店";
    c.materials = {"application_form",   "investor_documents", "officer_documents",
                   "residence_document", "seal_filing_form",   "business_licence",
                   "seal_impression"};  // articles missing
    return c;
  }
  const Actor amr_clerk_ = Staff("amr-clerk", "clerk", "city-amr");
  const Actor amr_rev_ = Staff("amr-rev", "reviewer", "city-amr");
  const Actor amr_appr_ = Staff("amr-appr", "approver", "city-amr");
  const Actor lead_clerk_ = Staff("lead-clerk", "clerk", "test-bureau");
};

TEST_F(BundleTest, PartsRunInOrderCorrectionIsCombinedAndResultsAreDeliveredTogether) {
  auto created = service_->CreateBundle(Startup());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string bundle_id = created->state.id;
  ASSERT_EQ(created->parts.size(), 2u);
  EXPECT_EQ(created->state.Status(), "submitted");
  EXPECT_EQ(created->parts[1].state.status, "waiting");  // seal comes after registration
  const std::string registration = created->parts[0].state.case_id;
  ASSERT_FALSE(registration.empty());
  auto child = service_->Get(registration);
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->state.bundle_case_id, bundle_id);
  EXPECT_EQ(child->state.number, created->state.number + "-1");
  EXPECT_EQ(child->state.query_code, created->state.query_code);
  EXPECT_EQ(child->state.form["enterprise_name"], "示例科技有限公司");

  ASSERT_TRUE(
      Act(registration, "request_correction", amr_clerk_, {{"missing", {"articles"}}}).ok());
  auto pending = service_->GetBundle(bundle_id);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state.Status(), "correction_pending");
  EXPECT_EQ(pending->correction, std::vector<std::string>{"articles"});

  ActRequest supply;
  supply.case_id = bundle_id;
  supply.action = "supply_correction";
  supply.actor = Applicant();
  supply.data = {{"materials", {"articles"}}};
  auto supplied = service_->ActOnBundle(supply);
  ASSERT_TRUE(supplied.ok()) << supplied.status().ToString();
  EXPECT_EQ(supplied->state.Status(), "submitted");
  EXPECT_EQ(service_->Get(registration)->state.status, CaseStatus::kSubmitted);

  ASSERT_TRUE(Act(registration, "accept", amr_clerk_).ok());
  ASSERT_TRUE(Act(registration, "pass", amr_rev_).ok());
  ASSERT_TRUE(Act(registration, "approve", amr_appr_).ok());
  auto released = service_->GetBundle(bundle_id);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->state.Status(), "in_progress");
  const std::string seal = released->parts[1].state.case_id;
  ASSERT_FALSE(seal.empty());
  EXPECT_EQ(released->parts[1].state.status, "submitted");
  EXPECT_EQ(service_->Get(seal)->state.form["seal_type"], "法定名称章");

  const Actor security = Staff("ps-clerk", "clerk", "dz-public-security-branch");
  ASSERT_TRUE(Act(seal, "accept", security).ok());
  ASSERT_TRUE(Act(seal, "file", security).ok());
  auto ready = service_->GetBundle(bundle_id);
  EXPECT_EQ(ready->state.Status(), "ready");
  EXPECT_EQ(ready->state.Outcome(), "approved");

  EXPECT_EQ(Act(seal, "deliver", security).status().code(), StatusCode::kFailedPrecondition);
  ActRequest deliver;
  deliver.case_id = bundle_id;
  deliver.action = "deliver";
  deliver.actor = amr_clerk_;  // not the lead organ
  EXPECT_EQ(service_->ActOnBundle(deliver).status().code(), StatusCode::kPermissionDenied);
  deliver.actor = lead_clerk_;
  auto delivered = service_->ActOnBundle(deliver);
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(delivered->state.Status(), "delivered");
  EXPECT_EQ(service_->Get(registration)->state.status, CaseStatus::kClosed);
  EXPECT_EQ(service_->Get(seal)->state.status, CaseStatus::kClosed);

  // The bundle's history shows every part's progress, and everything verifies.
  auto history = service_->History(bundle_id);
  ASSERT_TRUE(history.ok());
  EXPECT_GE(history->size(), 8u);
  EXPECT_TRUE(service_->Verify(bundle_id).ok) << service_->Verify(bundle_id).reason;
  VerifyReport all = service_->VerifyAll();
  EXPECT_TRUE(all.ok) << all.case_id << ": " << all.reason;
  EXPECT_EQ(all.cases, 3);
}

TEST_F(BundleTest, PartItsItemRefusesAwaitsTheApplicantsInput) {
  NewCase request = Startup();
  request.form.erase("credit_code");  // issued by the registration, not known at application
  request.materials.push_back("articles");
  auto created = service_->CreateBundle(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string registration = created->parts[0].state.case_id;
  ASSERT_TRUE(Act(registration, "accept", amr_clerk_).ok());
  ASSERT_TRUE(Act(registration, "pass", amr_rev_).ok());
  // The seal filing needs the credit code: the decision stands, the seal part waits for it.
  auto approved = Act(registration, "approve", amr_appr_);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  auto bundle = service_->GetBundle(created->state.id);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->parts[1].state.status, "awaiting_input");
  EXPECT_NE(bundle->parts[1].state.note.find("credit_code"), std::string::npos)
      << bundle->parts[1].state.note;
  EXPECT_EQ(bundle->state.Status(), "correction_pending");

  ActRequest supply;
  supply.case_id = created->state.id;
  supply.action = "supply_form";
  supply.actor = Applicant();
  supply.data = {{"form", {{"no_such_field", 1}}}};
  EXPECT_EQ(service_->ActOnBundle(supply).status().code(), StatusCode::kInvalidArgument);
  supply.data = {{"form", {{"credit_code", "91330100MA2TB00014"}}}};
  auto supplied = service_->ActOnBundle(supply);
  ASSERT_TRUE(supplied.ok()) << supplied.status().ToString();
  EXPECT_EQ(supplied->parts[1].state.status, "submitted");
  ASSERT_TRUE(supplied->parts[1].child.has_value());
  EXPECT_EQ(supplied->parts[1].child->state.form["credit_code"], "91330100MA2TB00014");
  EXPECT_TRUE(service_->VerifyAll().ok);
}

TEST_F(BundleTest, DeliveredDenialKeepsThePartialOutcome) {
  auto created = service_->CreateBundle(Startup());
  ASSERT_TRUE(created.ok());
  const std::string registration = created->parts[0].state.case_id;
  ASSERT_TRUE(
      Act(registration, "request_correction", amr_clerk_, {{"missing", {"articles"}}}).ok());
  ActRequest supply;
  supply.case_id = created->state.id;
  supply.action = "supply_correction";
  supply.actor = Applicant();
  supply.data = {{"materials", {"articles"}}};
  ASSERT_TRUE(service_->ActOnBundle(supply).ok());
  ASSERT_TRUE(Act(registration, "accept", amr_clerk_).ok());
  ASSERT_TRUE(Act(registration, "pass", amr_rev_).ok());
  ASSERT_TRUE(Act(registration, "approve", amr_appr_).ok());
  const std::string seal = service_->GetBundle(created->state.id)->parts[1].state.case_id;
  const Actor security = Staff("ps-clerk", "clerk", "dz-public-security-branch");
  ASSERT_TRUE(Act(seal, "accept", security).ok());
  ASSERT_TRUE(Act(seal, "reject", security, {{"reason", "印模不清"}}).ok());
  EXPECT_EQ(service_->GetBundle(created->state.id)->state.Outcome(), "partial");
  ActRequest deliver;
  deliver.case_id = created->state.id;
  deliver.action = "deliver";
  deliver.actor = lead_clerk_;
  auto delivered = service_->ActOnBundle(deliver);
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(delivered->state.Status(), "delivered");
  EXPECT_EQ(delivered->state.Outcome(), "partial");
}

TEST_F(BundleTest, AMandateForTheBundleCoversItsParts) {
  Mandate m;
  m.id = "mandate-bundle";
  m.applicant_id = "ent-1";
  m.agent_id = "agent-1";
  m.definitions = {"test-startup"};
  ASSERT_TRUE(service_->registers()->GrantMandate(m, Applicant(), clock_.Now()).ok());
  const Actor agent{"agent-1", "agent", "", "帮办员"};
  NewCase request = Startup();
  request.actor = agent;
  auto created = service_->CreateBundle(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto supplied = Act(created->parts[0].state.case_id, "supply_materials", agent,
                      {{"materials", {"articles"}}});
  ASSERT_TRUE(supplied.ok()) << supplied.status().ToString();
  EXPECT_EQ(LastEventData(created->parts[0].state.case_id)["mandate"], "mandate-bundle");
}

TEST_F(BundleTest, PartThatDoesNotApplyIsSkipped) {
  auto created = service_->CreateBundle(Startup(/*seal=*/false));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->parts[1].state.status, "not_applicable");
  EXPECT_TRUE(created->parts[1].state.case_id.empty());
}

TEST_F(BundleTest, FailedPartBlocksWhatComesAfterIt) {
  auto created = service_->CreateBundle(Startup());
  ASSERT_TRUE(created.ok());
  const std::string registration = created->parts[0].state.case_id;
  ASSERT_TRUE(Act(registration, "refuse", amr_clerk_, {{"reason", "名称不符合规定"}}).ok());
  auto bundle = service_->GetBundle(created->state.id);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->parts[0].state.status, "not_accepted");
  EXPECT_EQ(bundle->parts[1].state.status, "blocked");
  EXPECT_EQ(bundle->state.Status(), "ready");
  EXPECT_EQ(bundle->state.Outcome(), "none");
  EXPECT_TRUE(service_->Verify(created->state.id).ok);
}

TEST_F(BundleTest, AFormTheBundleRefusesIsRefusedWhereTheApplicantTypedIt) {
  NewCase bad = Startup();
  bad.form["requires_pre_approval"] = "no";  // the bundle's field is a boolean
  auto before = store_->CountCases();
  auto refused = service_->CreateBundle(bad);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().pointer(), "/form/requires_pre_approval")
      << refused.status().ToString();
  EXPECT_EQ(*store_->CountCases(), *before);
}

TEST_F(BundleTest, PartRefusingItsMappedFormFailsTheWholeApplication) {
  // A version of the bundle whose form leaves optional what the registration item requires.
  json bundle = json::parse(
      ReadFile(std::string(TONGBAN_SOURCE_DIR) + "/engine/testdata/reforms-bundle.json"));
  bundle["version"] = 2;
  for (json& field : bundle["form"]) {
    if (field["id"] == "requires_pre_approval") field["required"] = false;
  }
  std::vector<Diagnostic> diagnostics;
  ASSERT_TRUE(registry_->Deploy({{"v2.json", bundle.dump()}}, clock_.Now(), &diagnostics).ok());
  NewCase bad = Startup();
  bad.definition_version = 2;
  bad.form.erase("requires_pre_approval");
  auto before = store_->CountCases();
  auto refused = service_->CreateBundle(bad);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("part \"registration\""), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("requires_pre_approval"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(*store_->CountCases(), *before);
}

TEST_F(BundleTest, WithdrawingTheBundleWithdrawsEveryOpenPart) {
  auto created = service_->CreateBundle(Startup());
  ASSERT_TRUE(created.ok());
  ActRequest withdraw;
  withdraw.case_id = created->state.id;
  withdraw.action = "withdraw";
  withdraw.actor = Applicant("ent-2");
  EXPECT_EQ(service_->ActOnBundle(withdraw).status().code(), StatusCode::kPermissionDenied);
  withdraw.actor = Applicant();
  auto withdrawn = service_->ActOnBundle(withdraw);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_EQ(withdrawn->state.Status(), "withdrawn");
  EXPECT_EQ(service_->Get(created->parts[0].state.case_id)->state.status, CaseStatus::kWithdrawn);
  EXPECT_EQ(withdrawn->parts[1].state.status, "withdrawn");
}

}  // namespace
}  // namespace tongban
