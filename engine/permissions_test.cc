// Permissions on the shipped definitions, over a real SQLite file and the demo principals: who is
// offered what, who may see a case, and the key property that what is offered is accepted —
// every action `Offered` lists for any demo principal, on any state the shipped items reach, is
// taken by CaseService::Act with that principal as the caller, in the role it was offered in.
#include "engine/permissions.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "engine/case_ids.h"
#include "engine/case_service.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const std::string kSource = TONGBAN_SOURCE_DIR;
constexpr const char* kApplicantCreditCode = "91330100MA2TB00014";  // ent-demo's

Instant T(const char* text) {
  return ParseTimestamp(text).value();
}

std::shared_ptr<const PrincipalSet> DemoPrincipals() {
  static const std::shared_ptr<const PrincipalSet> set = [] {
    DiagnosticSink sink("demo.json", nullptr);
    std::ifstream file(kSource + "/definitions/principals/demo.json");
    auto compiled = CompilePrincipals(json::parse(file), &sink);
    for (const Diagnostic& d : sink.diagnostics())
      ADD_FAILURE() << d.pointer << ": " << d.message;
    return compiled;
  }();
  return set;
}

// ---- Filling forms and material lists from a compiled item ----

// The values tried for a field, the first being its default (as a modeller's example would be).
std::vector<json> FieldValues(const FormField& f) {
  switch (f.type) {
    case FieldType::kBoolean:
      return {false, true};
    case FieldType::kNumber:
      return {1, 8, 100};
    case FieldType::kDate:
      return {"2026-04-01"};
    case FieldType::kEnum:
      return std::vector<json>(f.values.begin(), f.values.end());
    case FieldType::kString:
      break;
  }
  if (f.id.find("credit_code") != std::string::npos) return {kApplicantCreditCode};
  return {"示例-" + f.id};
}

json DefaultForm(const std::vector<FormField>& fields) {
  json form = json::object();
  for (const FormField& f : fields)
    form[f.id] = FieldValues(f)[0];
  return form;
}

// A form under which `guard` holds, trying every combination of the fields' values (the shipped
// forms are small); the default form when none does.
json FormWhere(const Item& item, const Guard& guard) {
  std::vector<size_t> choice(item.form.size(), 0);
  for (int tries = 0; tries < 200000; ++tries) {
    json form = json::object();
    for (size_t i = 0; i < item.form.size(); ++i)
      form[item.form[i].id] = FieldValues(item.form[i])[choice[i]];
    if (guard.Evaluate(form)) return form;
    size_t i = 0;
    for (; i < choice.size(); ++i) {
      if (++choice[i] < FieldValues(item.form[i]).size()) break;
      choice[i] = 0;
    }
    if (i == choice.size()) break;
  }
  return DefaultForm(item.form);
}

enum class Materials { kAll, kRequiredOnly, kAllButOneRequired };

json MaterialList(const Item& item, Materials which) {
  json ids = json::array();
  bool left_out = false;
  for (const Material& m : item.materials) {
    if (which != Materials::kAll && m.necessity != Necessity::kRequired) continue;
    if (which == Materials::kAllButOneRequired && !left_out) {
      left_out = true;
      continue;
    }
    ids.push_back(m.id);
  }
  return ids;
}

std::string Ids(const std::vector<OfferedAction>& offered) {
  std::string out;
  for (const OfferedAction& o : offered)
    out += (out.empty() ? "" : ", ") + o.action + (o.party.empty() ? "" : "/" + o.party) + "(" +
           o.role + ")";
  return "[" + out + "]";
}

bool HasAction(const std::vector<OfferedAction>& offered, const std::string& action,
               const std::string& party = "") {
  return std::any_of(offered.begin(), offered.end(), [&](const OfferedAction& o) {
    return o.action == action && (party.empty() || o.party == party);
  });
}

// ---- The fixture -------------------------------------------------------------------------------

class PermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(DemoPrincipals(), nullptr);
    std::string pattern = (fs::temp_directory_path() / "tongban-permissions-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    SqliteStoreOptions options;
    options.path = dir_ + "/tongban.db";
    // The property test commits thousands of cases: durability across power loss is not what it
    // tests, the rules are.
    options.synchronous = "NORMAL";
    auto store = OpenStoreUnderTest(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = std::make_unique<DefinitionRegistry>(store_.get());
    ASSERT_TRUE(registry_->LoadFromStore().ok());
    auto deployed = registry_->DeployDirectory(kSource + "/definitions", clock_.Now());
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), &clock_);
  }
  void TearDown() override {
    service_.reset();
    registry_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  static const Principal& P(const std::string& id) {
    for (const Principal& p : DemoPrincipals()->principals) {
      if (p.id == id) return p;
    }
    ADD_FAILURE() << "no demo principal " << id;
    static const Principal nobody;
    return nobody;
  }
  std::shared_ptr<const Item> ItemOf(const std::string& id) {
    auto item = registry_->FindItem(id, 0);
    EXPECT_NE(item, nullptr) << id;
    return item;
  }

  // A case of `item_id` submitted by `submitter` for ent-demo (itself when an applicant).
  Result<CaseView> Apply(const std::string& item_id, const Principal& submitter, json form,
                         json materials, const std::string& mode = "standard") {
    auto item = registry_->FindItem(item_id, 0);
    if (!item) return Status::NotFound(item_id);
    NewCase c;
    c.definition_id = item_id;
    c.actor = *Permissions::ResolveSubmitter(submitter);
    const Principal& applicant = P("ent-demo");
    c.applicant_id = applicant.id;
    c.applicant_name = applicant.name;
    c.applicant_credit_code = applicant.credit_code;
    c.form = std::move(form);
    c.materials = std::move(materials);
    c.mode = mode;
    if (mode == "commitment") {
      c.commitment = {{"template_id", item->commitment->template_id},
                      {"template_version", item->commitment->template_version},
                      {"signed_by", "张三"}};
    }
    return service_->Create(c);
  }
  std::string MustApply(const std::string& item_id, const Principal& submitter, json form,
                        json materials, const std::string& mode = "standard") {
    auto created = Apply(item_id, submitter, std::move(form), std::move(materials), mode);
    EXPECT_TRUE(created.ok()) << item_id << ": " << created.status().ToString();
    return created.ok() ? created->state.id : "";
  }
  std::string ApplyDefault(const std::string& item_id, const std::string& submitter = "ent-demo") {
    auto item = ItemOf(item_id);
    return MustApply(item_id, P(submitter), DefaultForm(item->form),
                     MaterialList(*item, Materials::kAll));
  }

  // An action as the API takes it: the caller is the principal, the role is the engine's choice.
  Result<CaseView> Act(const std::string& id, const Principal& p, const std::string& action,
                       json data = json::object()) {
    clock_.Advance(minutes(1));
    ActRequest r;
    r.case_id = id;
    r.action = action;
    r.caller = &p;
    r.data = std::move(data);
    return service_->Act(r);
  }
  void MustAct(const std::string& id, const std::string& principal, const std::string& action,
               json data = json::object()) {
    auto acted = Act(id, P(principal), action, std::move(data));
    ASSERT_TRUE(acted.ok()) << action << " by " << principal << ": " << acted.status().ToString();
  }

  CaseView View(const std::string& id) {
    auto view = service_->Get(id);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : CaseView{};
  }
  std::vector<OfferedAction> Offered(const std::string& principal, const std::string& id) {
    return service_->OfferedActions(P(principal), View(id));
  }
  bool MaySee(const std::string& principal, const std::string& id) {
    return service_->MaySee(P(principal), View(id).state);
  }
  json LastEventData(const std::string& id) {
    auto events = service_->History(id);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events->back().DataJson() : json();
  }
  void GrantMandate(const std::string& id, std::vector<std::string> definitions) {
    Mandate m;
    m.id = id;
    m.applicant_id = "ent-demo";
    m.applicant_name = P("ent-demo").name;
    m.agent_id = "agent-demo";
    m.agent_name = P("agent-demo").name;
    m.definitions = std::move(definitions);
    auto granted =
        service_->registers()->GrantMandate(m, ActorFor(P("ent-demo"), "applicant"), clock_.Now());
    ASSERT_TRUE(granted.ok()) << granted.status().ToString();
  }

  std::string dir_;
  SimulatedClock clock_{T("2026-03-02T09:00:00+08:00")};  // a Monday
  std::unique_ptr<Store> store_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
};

// ---- Role resolution ---------------------------------------------------------------------------

TEST_F(PermissionsTest, ResolvesFrameStepJointAndApplicantRoles) {
  Permissions& permissions = *service_->permissions();
  const std::string id = ApplyDefault("joint-drawing-review");
  CaseView submitted = View(id);
  const Item& item = *submitted.item;
  auto resolve = [&](const std::string& who, const CaseView& view, const std::string& action,
                     json data = json::object()) {
    return permissions.ResolveActor(P(who), item, view.state, action, data);
  };

  // Frame actions: the table's roles.
  auto clerk = resolve("clerk-demo", submitted, "accept");
  ASSERT_TRUE(clerk.ok()) << clerk.status().ToString();
  EXPECT_EQ(clerk->role, "clerk");
  EXPECT_EQ(clerk->organ, "dz-approval-bureau");
  auto reviewer_accepts = resolve("reviewer-demo", submitted, "accept");
  EXPECT_EQ(reviewer_accepts.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(reviewer_accepts.status().message().find("clerk"), std::string::npos)
      << reviewer_accepts.status().message();
  // The applicant acts as applicant on its own case, with no organ; another applicant does not.
  auto own = resolve("ent-demo", submitted, "withdraw");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->role, "applicant");
  EXPECT_EQ(own->organ, "");
  EXPECT_EQ(resolve("ent-other", submitted, "withdraw").status().code(),
            StatusCode::kPermissionDenied);
  // Actions only the engine's timers take, and actions the item does not have, are not callable.
  EXPECT_EQ(resolve("clerk-demo", submitted, "deem_accepted").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(resolve("admin-demo", submitted, "mark_overdue").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(resolve("reviewer-demo", submitted, "no_such_action").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsCallableAction(item, "deem_accepted"));
  EXPECT_TRUE(IsCallableAction(item, "conclude"));
  // A step action of the item, but not now: not available (409), not forbidden.
  EXPECT_EQ(resolve("approver-demo", submitted, "approve").status().code(),
            StatusCode::kFailedPrecondition);

  MustAct(id, "clerk-demo", "accept");
  CaseView review = View(id);
  ASSERT_EQ(review.step_id, "joint_review");
  // A step action: the step's role.
  auto reviewer = resolve("reviewer-demo", review, "reject_drawings");
  ASSERT_TRUE(reviewer.ok()) << reviewer.status().ToString();
  EXPECT_EQ(reviewer->role, "reviewer");
  auto approver = resolve("approver-demo", review, "reject_drawings");
  EXPECT_EQ(approver.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(approver.status().message().find("reviewer"), std::string::npos);
  // A joint sign-off: the role of the party named in data.party.
  auto fire = resolve("fire-reviewer-demo", review, "conclude", {{"party", "fire"}});
  ASSERT_TRUE(fire.ok()) << fire.status().ToString();
  EXPECT_EQ(fire->role, "fire_reviewer");
  EXPECT_EQ(fire->organ, "city-housing-bureau");
  auto wrong_party = resolve("fire-reviewer-demo", review, "conclude", {{"party", "building"}});
  EXPECT_EQ(wrong_party.status().code(), StatusCode::kPermissionDenied);
  auto reviewer_for_fire = resolve("reviewer-demo", review, "conclude", {{"party", "fire"}});
  EXPECT_EQ(reviewer_for_fire.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(reviewer_for_fire.status().message().find("fire_reviewer"), std::string::npos)
      << reviewer_for_fire.status().message();
  auto building = resolve("reviewer-demo", review, "conclude", {{"party", "building"}});
  ASSERT_TRUE(building.ok()) << building.status().ToString();
  EXPECT_EQ(building->role, "reviewer");
}

// ---- Joint parties of several organs (会签) ----

TEST_F(PermissionsTest, JointPartiesAreSeenAndSignedByTheirOwnOrgansStaff) {
  const std::string id = ApplyDefault("joint-drawing-review");
  MustAct(id, "clerk-demo", "accept");
  // The parties' organs see the case; an organ that signs no party of this item does not.
  EXPECT_TRUE(MaySee("fire-reviewer-demo", id));
  EXPECT_TRUE(MaySee("civil-defence-reviewer-demo", id));
  EXPECT_FALSE(MaySee("planning-verifier-demo", id));
  EXPECT_FALSE(MaySee("tax-demo", id));

  // Each party's staff are offered their party's sign-off and nothing else.
  auto fire = Offered("fire-reviewer-demo", id);
  ASSERT_EQ(fire.size(), 1u) << Ids(fire);
  EXPECT_EQ(fire[0].action, "conclude");
  EXPECT_EQ(fire[0].party, "fire");
  EXPECT_EQ(fire[0].role, "fire_reviewer");
  auto civil = Offered("civil-defence-reviewer-demo", id);
  ASSERT_EQ(civil.size(), 1u) << Ids(civil);
  EXPECT_EQ(civil[0].party, "civil_defence");
  auto bureau = Offered("reviewer-demo", id);
  EXPECT_TRUE(HasAction(bureau, "conclude", "building")) << Ids(bureau);
  EXPECT_FALSE(HasAction(bureau, "conclude", "fire")) << Ids(bureau);
  EXPECT_FALSE(HasAction(bureau, "conclude", "civil_defence")) << Ids(bureau);

  // Staff of the implementing organ holding the fire party's role see the case but may not sign
  // another organ's party: refused naming the organ, and never offered.
  const Principal bureau_fire{
      "bureau-fire-reviewer", "审批局消防审查员", {"fire_reviewer"}, "dz-approval-bureau", "", ""};
  EXPECT_TRUE(service_->MaySee(bureau_fire, View(id).state));
  EXPECT_FALSE(HasAction(service_->OfferedActions(bureau_fire, View(id)), "conclude"));
  auto refused = Act(id, bureau_fire, "conclude", {{"party", "fire"}});
  ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("××市住房和城乡建设局"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("city-housing-bureau"), std::string::npos)
      << refused.status().message();
  // Nor may a party's reviewer sign for another party.
  EXPECT_EQ(
      Act(id, P("fire-reviewer-demo"), "conclude", {{"party", "civil_defence"}}).status().code(),
      StatusCode::kPermissionDenied);

  // The party's own organ signs, and the event records the authority it signed under.
  MustAct(id, "fire-reviewer-demo", "conclude", {{"party", "fire"}});
  json data = LastEventData(id);
  EXPECT_EQ(data["authority"]["basis"], "joint_party") << data.dump();
  EXPECT_EQ(data["authority"]["organ"], "city-housing-bureau") << data.dump();
  EXPECT_EQ(data["authority"]["party"], "fire") << data.dump();
  auto events = service_->History(id);
  EXPECT_EQ(events->back().actor.role, "fire_reviewer");
  EXPECT_EQ(events->back().actor.organ, "city-housing-bureau");
  // Signed once: no longer offered to anyone.
  EXPECT_TRUE(Offered("fire-reviewer-demo", id).empty()) << Ids(Offered("fire-reviewer-demo", id));
  EXPECT_TRUE(HasAction(Offered("civil-defence-reviewer-demo", id), "conclude", "civil_defence"));
}

TEST_F(PermissionsTest, JointAcceptancePartiesOfThreeOrgansEachSignTheirOwn) {
  const std::string id = ApplyDefault("low-risk-joint-acceptance");
  MustAct(id, "clerk-demo", "accept");
  EXPECT_TRUE(MaySee("planning-verifier-demo", id));
  EXPECT_TRUE(MaySee("fire-inspector-demo", id));
  EXPECT_FALSE(MaySee("civil-defence-reviewer-demo", id));
  // The fire party here is the fire inspector's: the housing bureau's fire-design reviewer, of the
  // same organ, is offered nothing.
  EXPECT_TRUE(Offered("fire-reviewer-demo", id).empty()) << Ids(Offered("fire-reviewer-demo", id));
  // 规划核实 comes first (城乡规划法第四十五条): the fire inspector has nothing to sign yet.
  EXPECT_TRUE(Offered("fire-inspector-demo", id).empty())
      << Ids(Offered("fire-inspector-demo", id));
  auto planning = Offered("planning-verifier-demo", id);
  ASSERT_EQ(planning.size(), 1u) << Ids(planning);
  EXPECT_EQ(planning[0].party, "planning");
  MustAct(id, "planning-verifier-demo", "verified", {{"party", "planning"}});
  MustAct(id, "reviewer-demo", "verified", {{"party", "survey"}});
  EXPECT_EQ(View(id).step_id, "joint_acceptance");
  MustAct(id, "fire-inspector-demo", "conclude", {{"party", "fire"}});
  // The implementing organ's own party is signed under its own jurisdiction, not as a joint party
  // of another organ.
  MustAct(id, "reviewer-demo", "conclude", {{"party", "completion_filing"}});
  json data = LastEventData(id);
  EXPECT_NE(data["authority"].value("basis", ""), "joint_party") << data.dump();
  EXPECT_EQ(View(id).step_id, "decide");
}

// ---- Four-eyes, guards, materials, verification ----

TEST_F(PermissionsTest, FourEyesActionIsNotOfferedToWhoActedInThePartnerStep) {
  const std::string id = ApplyDefault("establishment-registration");
  MustAct(id, "amr-clerk-demo", "accept");
  EXPECT_TRUE(HasAction(Offered("amr-clerk-demo", id), "pass"));
  MustAct(id, "amr-clerk-demo", "pass");
  ASSERT_EQ(View(id).step_id, "decide");
  // The city AMR's clerk holds the approver role too, but reviewed this case.
  auto reviewed = Offered("amr-clerk-demo", id);
  EXPECT_FALSE(HasAction(reviewed, "approve")) << Ids(reviewed);
  EXPECT_FALSE(HasAction(reviewed, "deny")) << Ids(reviewed);
  EXPECT_FALSE(HasAction(reviewed, "send_back")) << Ids(reviewed);
  auto other = Offered("amr-approver-demo", id);
  EXPECT_TRUE(HasAction(other, "approve")) << Ids(other);
  auto refused = Act(id, P("amr-clerk-demo"), "approve");
  ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("four-eyes"), std::string::npos)
      << refused.status().message();
  MustAct(id, "amr-approver-demo", "approve");
  EXPECT_EQ(View(id).state.status, CaseStatus::kApproved);
}

TEST_F(PermissionsTest, GuardedActionIsOfferedOnlyWhenItsGuardHoldsOnTheForm) {
  auto item = ItemOf("establishment-registration");
  json form = DefaultForm(item->form);
  form["requires_pre_approval"] = false;
  const std::string id =
      MustApply(item->id, P("ent-demo"), form, MaterialList(*item, Materials::kAll));
  MustAct(id, "amr-clerk-demo", "accept");
  auto offered = Offered("amr-clerk-demo", id);
  EXPECT_TRUE(HasAction(offered, "pass")) << Ids(offered);
  EXPECT_FALSE(HasAction(offered, "pass_with_pre_approval")) << Ids(offered);
  EXPECT_EQ(Act(id, P("amr-clerk-demo"), "pass_with_pre_approval").status().code(),
            StatusCode::kInvalidArgument);

  form["requires_pre_approval"] = true;
  const std::string other =
      MustApply(item->id, P("ent-demo"), form, MaterialList(*item, Materials::kAll));
  MustAct(other, "amr-clerk-demo", "accept");
  offered = Offered("amr-clerk-demo", other);
  EXPECT_FALSE(HasAction(offered, "pass")) << Ids(offered);
  EXPECT_TRUE(HasAction(offered, "pass_with_pre_approval")) << Ids(offered);
}

TEST_F(PermissionsTest, StepActionNeedingAMissingMaterialIsOfferedOnceItIsSupplied) {
  auto item = ItemOf("construction-permit");
  // The drawing-review certificate is not required at intake (a drawing review by commitment
  // replaces it), but the review does not pass without it.
  const std::string id = MustApply(item->id, P("ent-demo"), DefaultForm(item->form),
                                   MaterialList(*item, Materials::kRequiredOnly));
  MustAct(id, "clerk-demo", "accept");
  ASSERT_EQ(View(id).step_id, "review");
  auto offered = Offered("reviewer-demo", id);
  EXPECT_FALSE(HasAction(offered, "pass")) << Ids(offered);
  EXPECT_TRUE(HasAction(offered, "deny")) << Ids(offered);
  EXPECT_EQ(Act(id, P("reviewer-demo"), "pass").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasAction(Offered("ent-demo", id), "supply_materials"));
  MustAct(id, "ent-demo", "supply_materials", {{"materials", {"drawing_review_certificate"}}});
  offered = Offered("reviewer-demo", id);
  EXPECT_TRUE(HasAction(offered, "pass")) << Ids(offered);
  MustAct(id, "reviewer-demo", "pass");
  EXPECT_EQ(View(id).step_id, "decide");
}

TEST_F(PermissionsTest, AcceptIsNotOfferedWhileARequiredMaterialIsMissing) {
  auto item = ItemOf("construction-permit");
  const std::string id = MustApply(item->id, P("ent-demo"), DefaultForm(item->form),
                                   MaterialList(*item, Materials::kAllButOneRequired));
  auto offered = Offered("clerk-demo", id);
  EXPECT_FALSE(HasAction(offered, "accept")) << Ids(offered);
  EXPECT_TRUE(HasAction(offered, "request_correction")) << Ids(offered);
  EXPECT_TRUE(HasAction(offered, "refuse")) << Ids(offered);
  EXPECT_EQ(Act(id, P("clerk-demo"), "accept").status().code(), StatusCode::kFailedPrecondition);
  MustAct(id, "ent-demo", "supply_materials",
          {{"materials", MaterialList(*item, Materials::kAll)}});
  EXPECT_TRUE(HasAction(Offered("clerk-demo", id), "accept"));
  MustAct(id, "clerk-demo", "accept");
}

TEST_F(PermissionsTest, VerifyIsOfferedOnAPendingCommitmentAndNotOnceRevoked) {
  auto item = ItemOf("drawing-review-commitment");
  ASSERT_TRUE(item->commitment.has_value());
  const std::string id = MustApply(item->id, P("ent-demo"), DefaultForm(item->form),
                                   MaterialList(*item, Materials::kAll), "commitment");
  MustAct(id, "clerk-demo", "accept");
  ASSERT_EQ(View(id).state.status, CaseStatus::kApproved);
  EXPECT_TRUE(HasAction(Offered("verifier-demo", id), "verify"));
  EXPECT_FALSE(HasAction(Offered("approver-demo", id), "verify"));
  EXPECT_TRUE(HasAction(Offered("approver-demo", id), "revoke"));
  MustAct(id, "approver-demo", "revoke", {{"reason", "申请人以欺骗手段取得许可"}});
  ASSERT_EQ(View(id).state.status, CaseStatus::kRevoked);
  // Nothing is offered on a revoked case but its applicant's rating (好差评).
  for (const Principal& p : DemoPrincipals()->principals) {
    const auto offered = service_->OfferedActions(p, View(id));
    if (p.id == "ent-demo") {
      EXPECT_EQ(Ids(offered), "[rate(applicant)]");
    } else {
      EXPECT_TRUE(offered.empty()) << p.id << ": " << Ids(offered);
    }
  }
  EXPECT_EQ(Act(id, P("verifier-demo"), "verify", {{"result", "pass"}}).status().code(),
            StatusCode::kFailedPrecondition);
}

// Time alone: a due timer is applied before any action is decided, whether or not the engine's
// timer loop has recorded it yet, and an extension must come before the statutory limit ends.
TEST_F(PermissionsTest, WhatTimeHasTakenAwayIsNotOffered) {
  const std::string id = ApplyDefault("construction-permit");
  // Past the 5 working days of art. 32 with no notice: the case is deemed accepted at the next
  // action, though the timer has not been recorded yet.
  clock_.Set(T("2026-03-10T09:00:00+08:00"));
  ASSERT_EQ(View(id).state.status, CaseStatus::kSubmitted);
  auto offered = Offered("clerk-demo", id);
  EXPECT_FALSE(HasAction(offered, "accept")) << Ids(offered);
  EXPECT_FALSE(HasAction(offered, "request_correction")) << Ids(offered);
  EXPECT_FALSE(HasAction(offered, "refuse")) << Ids(offered);
  EXPECT_EQ(Act(id, P("clerk-demo"), "accept").status().code(), StatusCode::kFailedPrecondition);
  // The refused action let the timer be recorded: the review is offered now.
  EXPECT_EQ(View(id).state.status, CaseStatus::kUnderReview);
  EXPECT_TRUE(HasAction(Offered("reviewer-demo", id), "pass"));

  // The food licence allows one extension, before its 10 working days end (accepted 03-10: by
  // 03-24). joint-drawing-review, which this used, has no extension since the drawing-review rules
  // provide none.
  const std::string food = ApplyDefault("food-business-licence");
  MustAct(food, "clerk-demo", "accept");
  EXPECT_TRUE(HasAction(Offered("approver-demo", food), "extend"));
  clock_.Set(T("2026-04-30T09:00:00+08:00"));
  ASSERT_TRUE(service_->FireDueTimers().ok());
  offered = Offered("approver-demo", food);
  EXPECT_FALSE(HasAction(offered, "extend")) << Ids(offered);
  EXPECT_EQ(Act(food, P("approver-demo"), "extend", {{"reason", "测试"}}).status().code(),
            StatusCode::kFailedPrecondition);
}

// ---- Reception separated from handling (收受分离) ----

TEST_F(PermissionsTest, CaseAtTheReceivingWindowOffersOnlyTransferAndWithdraw) {
  GrantMandate("mandate-food", {"food-business-licence"});
  const std::string id = ApplyDefault("food-business-licence", "remote-clerk-demo");
  ASSERT_TRUE(View(id).state.awaiting_transfer());
  for (const Principal& p : DemoPrincipals()->principals) {
    auto offered = service_->OfferedActions(p, View(id));
    if (p.id == "remote-clerk-demo") {
      ASSERT_EQ(offered.size(), 1u) << Ids(offered);
      EXPECT_EQ(offered[0].action, "transfer");
    } else if (p.id == "ent-demo" || p.id == "agent-demo") {
      ASSERT_EQ(offered.size(), 1u) << p.id << ": " << Ids(offered);
      EXPECT_EQ(offered[0].action, "withdraw");
    } else {
      EXPECT_TRUE(offered.empty()) << p.id << ": " << Ids(offered);
    }
  }
  // The handling organ sees the case but cannot handle it before the transfer, nor can the
  // applicant add to it.
  EXPECT_TRUE(MaySee("approver-demo", id));
  EXPECT_EQ(Act(id, P("ent-demo"), "supply_materials", {{"materials", {"power_of_attorney"}}})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Act(id, P("approver-demo"), "terminate", {{"reason", "测试"}}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Act(id, P("amr-approver-demo"), "terminate", {{"reason", "测试"}}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Act(id, P("clerk-demo"), "accept").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Act(id, P("clerk-demo"), "transfer").status().code(), StatusCode::kPermissionDenied);

  MustAct(id, "remote-clerk-demo", "transfer");
  json data = LastEventData(id);
  EXPECT_EQ(data["authority"]["basis"], "handling_agreement") << data.dump();
  EXPECT_TRUE(HasAction(Offered("clerk-demo", id), "accept"));
  EXPECT_FALSE(HasAction(Offered("remote-clerk-demo", id), "transfer"));
  EXPECT_TRUE(HasAction(Offered("ent-demo", id), "supply_materials"));
}

// ---- Mandates (帮办代办) -----------------------------------------------------------------------

TEST_F(PermissionsTest, AgentWithoutAMandateForTheItemNeitherSeesNorActs) {
  GrantMandate("mandate-tax", {"tax-clearance"});
  const std::string id = ApplyDefault("construction-permit");
  EXPECT_FALSE(MaySee("agent-demo", id));
  EXPECT_TRUE(Offered("agent-demo", id).empty());
  EXPECT_EQ(Act(id, P("agent-demo"), "withdraw").status().code(), StatusCode::kPermissionDenied);
  GrantMandate("mandate-permit", {"construction-permit"});
  EXPECT_TRUE(MaySee("agent-demo", id));
  EXPECT_TRUE(HasAction(Offered("agent-demo", id), "withdraw"));
  MustAct(id, "agent-demo", "withdraw");
  EXPECT_EQ(LastEventData(id)["mandate"], "mandate-permit");
}

TEST_F(PermissionsTest, BundleMandateCoversItsParts) {
  // A mandate for another definition first: the part is not the agent's.
  GrantMandate("mandate-other", {"construction-permit"});
  auto bundle = registry_->FindBundle("low-risk-project", 0);
  ASSERT_NE(bundle, nullptr);
  NewCase c;
  c.definition_id = bundle->id;
  c.actor = ActorFor(P("ent-demo"), "applicant");
  c.applicant_id = "ent-demo";
  c.applicant_name = P("ent-demo").name;
  c.applicant_credit_code = kApplicantCreditCode;
  c.form = DefaultForm(bundle->form);
  for (const Material& m : bundle->materials)
    c.materials.push_back(m.id);
  auto created = service_->CreateBundle(c);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string part = created->parts[0].state.case_id;
  ASSERT_FALSE(part.empty());
  ASSERT_EQ(View(part).state.definition_id, "low-risk-project-permit");
  EXPECT_FALSE(MaySee("agent-demo", part));
  EXPECT_EQ(Act(part, P("agent-demo"), "withdraw").status().code(), StatusCode::kPermissionDenied);

  // A mandate for the bundle, not for the part's item, covers the part.
  GrantMandate("mandate-bundle", {"low-risk-project"});
  EXPECT_TRUE(MaySee("agent-demo", part));
  auto bundle_view = service_->GetBundle(created->state.id);
  ASSERT_TRUE(bundle_view.ok());
  EXPECT_TRUE(service_->MaySeeBundle(P("agent-demo"), bundle_view->state));
  auto offered = Offered("agent-demo", part);
  EXPECT_TRUE(HasAction(offered, "supply_materials")) << Ids(offered);
  EXPECT_TRUE(HasAction(offered, "withdraw")) << Ids(offered);
  MustAct(part, "agent-demo", "supply_materials", {{"materials", {"power_of_attorney"}}});
  json data = LastEventData(part);
  EXPECT_EQ(data["mandate"], "mandate-bundle") << data.dump();
  EXPECT_EQ(data["on_behalf_of"], "ent-demo") << data.dump();
}

// ---- Operations outside a case and list scope --------------------------------------------------

TEST_F(PermissionsTest, OperationsOutsideACaseAreTakenInTheRolesTheirRuleNames) {
  struct Expectation {
    Operation operation;
    std::vector<std::pair<std::string, std::string>> allowed;  // principal, role acted in
  };
  const std::vector<Expectation> table = {
      {Operation::kReadDelegations,
       {{"clerk-demo", "clerk"},
        {"reviewer-demo", "reviewer"},
        {"auditor-demo", "auditor"},
        {"admin-demo", "admin"},
        {"fire-reviewer-demo", "fire_reviewer"}}},
      {Operation::kChangeDelegation, {{"admin-demo", "admin"}}},
      {Operation::kRepairCredit, {{"admin-demo", "admin"}}},
      {Operation::kGrantMandate, {{"ent-demo", "applicant"}, {"ent-other", "applicant"}}},
      {Operation::kReadLedger, {{"auditor-demo", "auditor"}, {"admin-demo", "admin"}}},
      {Operation::kDeploy, {{"admin-demo", "admin"}}},
      {Operation::kMoveClock, {{"admin-demo", "admin"}}},
  };
  for (const Expectation& e : table) {
    for (const Principal& p : DemoPrincipals()->principals) {
      auto actor = Permissions::AuthorizeOperation(p, e.operation);
      auto allowed = std::find_if(e.allowed.begin(), e.allowed.end(),
                                  [&](const auto& a) { return a.first == p.id; });
      if (allowed == e.allowed.end()) {
        // Staff of any organ read delegations: only those named in the table are checked there.
        if (e.operation == Operation::kReadDelegations && IsStaff(p)) continue;
        EXPECT_EQ(actor.status().code(), StatusCode::kPermissionDenied)
            << p.id << " op " << static_cast<int>(e.operation);
        continue;
      }
      ASSERT_TRUE(actor.ok()) << p.id << ": " << actor.status().ToString();
      EXPECT_EQ(actor->role, allowed->second) << p.id;
      EXPECT_EQ(actor->id, p.id);
    }
  }
  EXPECT_FALSE(Permissions::AuthorizeOperation(P("agent-demo"), Operation::kReadDelegations).ok());
  EXPECT_FALSE(Permissions::AuthorizeOperation(P("ent-demo"), Operation::kReadDelegations).ok());
}

TEST_F(PermissionsTest, MandateRevocationAndAgentsFollowTheirOwnersRule) {
  Mandate m;
  m.id = "mandate-x";
  m.applicant_id = "ent-demo";
  m.agent_id = "agent-demo";
  auto own = Permissions::AuthorizeMandateRevocation(P("ent-demo"), m);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->role, "applicant");
  auto admin = Permissions::AuthorizeMandateRevocation(P("admin-demo"), m);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->role, "admin");
  for (const char* other : {"ent-other", "agent-demo", "clerk-demo", "auditor-demo"}) {
    EXPECT_EQ(Permissions::AuthorizeMandateRevocation(P(other), m).status().code(),
              StatusCode::kNotFound)
        << other;
  }
  EXPECT_TRUE(Permissions::CheckMandateAgent(&P("agent-demo")).ok());
  EXPECT_EQ(Permissions::CheckMandateAgent(&P("clerk-demo")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Permissions::CheckMandateAgent(nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(PermissionsTest, CaseListsShowOnlyWhatEachPrincipalMaySee) {
  const std::string mine = ApplyDefault("construction-permit");
  auto item = ItemOf("construction-permit");
  NewCase other;
  other.definition_id = item->id;
  other.actor = ActorFor(P("ent-other"), "applicant");
  other.applicant_id = "ent-other";
  other.applicant_name = P("ent-other").name;
  other.form = DefaultForm(item->form);
  other.materials = MaterialList(*item, Materials::kAll);
  auto created = service_->Create(other);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string theirs = created->state.id;
  auto ids = [&](const std::string& principal, CaseFilter filter) {
    filter.limit = 50;
    auto page = service_->ListFor(P(principal), filter, "");
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::set<std::string> out;
    if (!page.ok()) return out;
    for (const ListedCase& c : page->cases) {
      EXPECT_TRUE(c.item.has_value());
      if (c.item) out.insert(c.item->state.id);
    }
    return out;
  };
  // An applicant asking for another applicant's cases still gets only its own.
  CaseFilter asks_for_other;
  asks_for_other.applicant_id = "ent-other";
  EXPECT_EQ(ids("ent-demo", asks_for_other), (std::set<std::string>{mine}));
  EXPECT_EQ(ids("ent-demo", {}), (std::set<std::string>{mine}));
  EXPECT_EQ(ids("clerk-demo", {}), (std::set<std::string>{mine, theirs}));
  EXPECT_TRUE(ids("agent-demo", {}).empty());          // no mandate
  EXPECT_TRUE(ids("fire-reviewer-demo", {}).empty());  // another organ, no joint step here
  // Paging: one per page, resumed by the cursor.
  CaseFilter one;
  one.limit = 1;
  auto first = service_->ListFor(P("clerk-demo"), one, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->cases.size(), 1u);
  ASSERT_FALSE(first->next_cursor.empty());
  one.after_id = first->next_cursor;
  auto second = service_->ListFor(P("clerk-demo"), one, "");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->cases.size(), 1u);
  EXPECT_NE(second->cases[0].item->state.id, first->cases[0].item->state.id);
}

// ---- The key property: what is offered is accepted ---------------------------------------------

// How a walked case is submitted.
struct Start {
  std::string name;
  std::string submitter;  // a demo principal
  Materials materials = Materials::kAll;
  std::string mode = "standard";
};

class OfferedIsAccepted : public PermissionsTest,
                          public ::testing::WithParamInterface<std::string> {
 protected:
  // A copy of case `id` under a new identity: its commands applied to a fresh machine and
  // committed with their new hash chain, so that an action can be tried on the copy while the
  // original stays as it is. A walk makes thousands of copies on one simulated day, so a random
  // case number may repeat: a new one is drawn then, as CaseService::Create does.
  std::string Copy(const std::string& id) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::string copy = TryCopy(id);
      if (copy != kNumberTaken) return copy;
    }
    ADD_FAILURE() << "three case numbers in a row were taken";
    return "";
  }

  static constexpr const char* kNumberTaken = "(number taken)";

  std::string TryCopy(const std::string& id) {
    auto events = service_->History(id);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return "";
    auto item =
        registry_->FindItem(events->front().definition_id, events->front().definition_version);
    CaseLifecycle lifecycle(item);
    std::vector<Event> copied;
    std::string prev = kGenesisHash;
    for (size_t i = 0; i < events->size(); ++i) {
      Command c = CommandFromEvent((*events)[i]);
      Status applied;
      if (i == 0) {
        c.data["case"] = {{"id", NewCaseId(c.time)},
                          {"number", NewCaseNumber(*item->time_limits.calendar, c.time)},
                          {"query_code", NewQueryCode()}};
        applied = lifecycle.Submit(c);
      } else {
        applied = lifecycle.Apply(c);
      }
      EXPECT_TRUE(applied.ok()) << applied.ToString();
      copied.push_back(MakeCaseEvent(lifecycle, c, static_cast<int64_t>(i) + 1, prev, ""));
      prev = copied.back().hash;
    }
    Status committed = store_->Commit(MakeCaseWrite(lifecycle, 0, std::move(copied), clock_.Now()));
    if (committed.code() == StatusCode::kAlreadyExists) return kNumberTaken;
    EXPECT_TRUE(committed.ok()) << committed.ToString();
    return lifecycle.state().id;
  }

  // The data a client would send for `offered`: every field filled; one variant per choice.
  std::vector<json> DataFor(const Item& item, const CaseState& state,
                            const OfferedAction& offered) {
    std::vector<json> variants = {json::object()};
    for (const DataField& f : offered.data) {
      std::vector<json> values;
      switch (f.type) {
        case DataFieldType::kText:
          values = {"测试：" + f.title};
          break;
        case DataFieldType::kObject:
          values = {json::object()};
          break;
        case DataFieldType::kChoice:
          values.assign(f.choices.begin(), f.choices.end());
          break;
        case DataFieldType::kInteger:
          for (const std::string& c : f.choices)
            values.push_back(std::stoi(c));
          break;
        case DataFieldType::kMaterialIds: {
          json ids = json::array();
          if (f.name == "materials" && !state.missing_materials.empty()) {
            ids = state.missing_materials;  // a correction supplies what the notice lists
          } else {
            for (const Material& m : item.materials) {
              bool missing_required =
                  m.necessity == Necessity::kRequired && state.materials.count(m.id) == 0;
              if (f.name == "missing" ? missing_required : state.materials.count(m.id) == 0)
                ids.push_back(m.id);
            }
          }
          if (ids.empty()) ids.push_back(item.materials.back().id);
          values = {ids};
          break;
        }
      }
      std::vector<json> expanded;
      for (const json& base : variants) {
        for (const json& v : values) {
          json d = base;
          d[f.name] = v;
          expanded.push_back(std::move(d));
        }
      }
      variants = std::move(expanded);
    }
    return variants;
  }

  static std::string Signature(const CaseState& s) {
    json sig = {{"status", CaseStatusCode(s.status)},
                {"step", s.step ? static_cast<int>(*s.step) : -1},
                {"suspended", s.suspended},
                {"extended", s.extended},
                {"correction", s.correction_issued},
                {"verification", VerificationName(s.verification)},
                {"materials", s.materials},
                {"transfer", s.awaiting_transfer()},
                {"rated", s.rating.has_value()},
                {"answered", s.rating && s.rating->answered_at.has_value()}};
    for (const auto& [party, who] : s.joint_passed)
      sig["joint"][party] = who;
    return sig.dump();
  }

  // Tries every action offered to every demo principal on case `id`, each on its own copy; returns
  // the copies the accepted actions left, each with the action that made it.
  std::vector<std::pair<std::string, std::string>> TryEverythingOffered(const std::string& id) {
    std::vector<std::pair<std::string, std::string>> children;
    CaseView view = View(id);
    const std::string where = view.item->id + " [" + Signature(view.state) + "]";
    for (const Principal& p : DemoPrincipals()->principals) {
      std::vector<OfferedAction> offered = service_->OfferedActions(p, view);
      if (!offered.empty() && !service_->MaySee(p, view.state)) {
        failures_.insert(where + ": " + p.id + " is offered " + Ids(offered) +
                         " on a case it may not see");
      }
      for (const OfferedAction& o : offered) {
        for (const json& data : DataFor(*view.item, view.state, o)) {
          ++checks_;
          const std::string copy = Copy(id);
          if (Signature(View(copy).state) != Signature(view.state)) {
            failures_.insert(where + ": the copy differs: " + Signature(View(copy).state));
            continue;
          }
          clock_.Advance(seconds(1));
          ActRequest r;
          r.case_id = copy;
          r.action = o.action;
          r.caller = &p;
          r.data = data;
          auto acted = service_->Act(r);
          if (!acted.ok()) {
            failures_.insert(where + ": " + p.id + " is offered " + o.action + " as " + o.role +
                             " but " + data.dump() + " is refused: " + acted.status().ToString());
            continue;
          }
          auto events = service_->History(copy);
          const Event& taken = events->back();
          if (taken.action != o.action || taken.actor.id != p.id || taken.actor.role != o.role) {
            failures_.insert(where + ": " + p.id + " was offered " + o.action + " as " + o.role +
                             " and took it as " + taken.actor.role);
          }
          reached_.insert(CaseStatusCode(acted->state.status));
          children.emplace_back(copy, o.action);
        }
      }
    }
    return children;
  }

  // Walks a case from its submission, trying everything offered at each state and moving on to
  // one of the resulting states (new ones and open ones preferred) chosen by `seed`.
  void Walk(const Item& item, const Start& start, uint32_t seed) {
    json form = DefaultForm(item.form);
    // Walk w of a start makes the w-th guarded action of the item hold, so that every guarded
    // branch is walked by some start.
    std::vector<const Action*> guarded;
    for (const Step& s : item.steps) {
      for (const Action& a : s.actions) {
        if (a.guard) guarded.push_back(&a);
      }
    }
    if (!guarded.empty()) form = FormWhere(item, *guarded[seed % guarded.size()]->guard);
    // A breach found by a walk's verification blocks the next walk's commitment (a credit
    // record): recorded as repaired, so that each walk starts from a clean record.
    auto blocking = service_->registers()->BlockingCreditRecords(kApplicantCreditCode, "ent-demo");
    ASSERT_TRUE(blocking.ok()) << blocking.status().ToString();
    for (const CreditRecord& r : *blocking) {
      auto repaired = service_->registers()->RepairCredit(
          r.id, "测试：信用修复", ActorFor(P("admin-demo"), "admin"), clock_.Now());
      ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
    }
    auto created =
        Apply(item.id, P(start.submitter), form, MaterialList(item, start.materials), start.mode);
    ASSERT_TRUE(created.ok()) << item.id << " (" << start.name
                              << "): " << created.status().ToString();
    std::mt19937 random(seed);
    std::string current = created->state.id;
    reached_.insert(CaseStatusCode(created->state.status));
    for (int depth = 0; depth < 16; ++depth) {
      seen_.insert(Signature(View(current).state));
      auto children = TryEverythingOffered(current);
      if (children.empty()) break;
      std::vector<double> weights;
      for (const auto& [child, action] : children) {
        CaseState s = View(child).state;
        double w = IsFinal(s.status) ? 1 : 8;
        if (seen_.count(Signature(s)) == 0) w *= 4;
        // Toward a decision: the frame's side roads (suspend, extend…) are taken less often.
        const FrameActionSpec* frame = FindFrameAction(action);
        if (frame == nullptr || action == "accept" || action == "transfer" || action == "deliver" ||
            action == "supply_correction") {
          w *= 4;
        }
        weights.push_back(w);
      }
      std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
      current = children[pick(random)].first;
    }
  }

  std::set<std::string> failures_;
  std::set<std::string> seen_;
  std::set<std::string> reached_;
  int checks_ = 0;
};

TEST_P(OfferedIsAccepted, OnEveryStateTheShippedItemReaches) {
  auto item = ItemOf(GetParam());
  ASSERT_NE(item, nullptr);
  // The agent holds a mandate for everything, so that it is offered what the applicant is.
  GrantMandate("mandate-all", {});
  std::vector<Start> starts;
  const std::string mode = item->standard_mode ? "standard" : "commitment";
  starts.push_back({"applicant, every material", "ent-demo", Materials::kAll, mode});
  starts.push_back({"applicant, required materials", "ent-demo", Materials::kRequiredOnly, mode});
  starts.push_back(
      {"applicant, a required material missing", "ent-demo", Materials::kAllButOneRequired, mode});
  starts.push_back({"agent under a mandate", "agent-demo", Materials::kAll, mode});
  if (item->commitment && item->standard_mode) {
    starts.push_back({"applicant, commitment", "ent-demo", Materials::kAll, "commitment"});
  }
  // A window that receives under a handling agreement (收受分离).
  for (const char* window : {"remote-clerk-demo", "clerk-demo"}) {
    if (service_->registers()->AgreementFor(*item, P(window).organ, clock_.Now())) {
      starts.push_back({std::string("received by ") + window, window, Materials::kAll, mode});
    }
  }
  for (const Start& start : starts) {
    for (uint32_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE(start.name + ", walk " + std::to_string(seed));
      Walk(*item, start, seed);
    }
  }
  // A walk ends at the first final state, and an item with a long road to its decision
  // (low-risk-joint-acceptance: two joint steps of two parties each, every party able to reject)
  // may need more walks than these to reach a grant: walk on from the first start until one does.
  for (uint32_t seed = 4; seed < 64 && !(reached_.count("approved") && reached_.count("closed"));
       ++seed) {
    SCOPED_TRACE(starts.front().name + ", walk " + std::to_string(seed));
    Walk(*item, starts.front(), seed);
  }
  for (const std::string& failure : failures_)
    ADD_FAILURE() << failure;
  // The walks went somewhere: actions were tried and the item reached a decision.
  EXPECT_GT(checks_, 0);
  EXPECT_TRUE(reached_.count("under_review") || item->case_type == CaseType::kInstant ||
              !item->standard_mode)
      << json(reached_).dump();
  EXPECT_TRUE(reached_.count("approved") && reached_.count("closed")) << json(reached_).dump();
  RecordProperty("checks", checks_);
  RecordProperty("states", static_cast<int>(seen_.size()));
}

std::vector<std::string> ShippedItems() {
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(kSource + "/definitions/items")) {
    if (entry.path().extension() == ".json") ids.push_back(entry.path().stem().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Shipped, OfferedIsAccepted, ::testing::ValuesIn(ShippedItems()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace tongban
