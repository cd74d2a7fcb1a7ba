// End-to-end: every shipped item and every shipped bundle is taken to a decision over HTTP, by the
// real server, as the demo principals (definitions/principals/demo.json, checked against the
// shipped items as `tongban serve` checks them) — no scenario runner, no engine call.
//
// The walk is read from the compiled definitions and from what the server offers: the test plans a
// path from the initial step to an approval that visits as many steps as it can (so that the
// item-declared roles and the joint parties act), fills the form so that the path's guards hold,
// supplies every material, and then at each status asks every staff principal for the case's
// `available_actions`, as a client would, and takes the planned action as one who is offered it
// (preferring someone who has not acted on the case yet: four-eyes). A joint step is signed by
// each party's principal: one holding the party's role, in the party's organ. Items whose steps
// can deny are also taken to a denial. Bundles are applied for once, their parts taken to
// approval as they start, and the bundle delivered by the lead organ's clerk.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/test_harness.h"
#include "workflows/definition_set.h"
#include "workflows/sha256.h"

namespace tongban::api {
namespace {

using harness::Api;
using harness::Reply;
using harness::TestServer;
using nlohmann::json;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
constexpr const char* kStart = "2026-03-02T09:00:00+08:00";  // a Monday

// ---- The demo principals and their public tokens ----------------------------------------------

struct Person {
  const Principal* principal = nullptr;
  std::string token;
  bool staff() const {
    return std::any_of(principal->roles.begin(), principal->roles.end(),
                       [](const std::string& r) { return r != "applicant" && r != "agent"; });
  }
};

struct Cast {
  std::shared_ptr<const PrincipalSet> set;
  std::vector<Person> people;

  const Person* WithRole(const std::string& role, const std::string& organ = "") const {
    for (const Person& p : people) {
      if (p.principal->HasRole(role) && (organ.empty() || p.principal->organ == organ)) return &p;
    }
    return nullptr;
  }
};

// The demo principals compiled with the shipped items as context, so that every role they hold
// must be built in or declared by an item, as `tongban serve` requires; the tokens are those the
// file's notes make public ("demo token: …").
const Cast& DemoCast() {
  static const Cast cast = [] {
    Cast c;
    DefinitionSet set;
    set.AddPath(kSourceDir + "/definitions/principals/demo.json", true);
    set.AddPath(kSourceDir + "/definitions/calendars", false);
    set.AddPath(kSourceDir + "/definitions/items", false);
    set.Compile();
    for (const Diagnostic& d : set.Diagnostics())
      ADD_FAILURE() << FormatDiagnostic(d);
    c.set = set.FindPrincipals();
    if (!c.set) return c;
    json doc = json::parse(harness::ReadFile(kSourceDir + "/definitions/principals/demo.json"));
    static const std::regex kToken("demo token: ([A-Za-z0-9-]+)");
    for (size_t i = 0; i < c.set->principals.size(); ++i) {
      const Principal& p = c.set->principals[i];
      std::smatch m;
      std::string note = doc["principals"][i].value("note", "");
      if (!std::regex_search(note, m, kToken)) {
        ADD_FAILURE() << "demo principal " << p.id << " has no public token in its note";
        continue;
      }
      EXPECT_EQ(Sha256Hex(m[1].str()), p.token_sha256) << p.id;
      c.people.push_back({&p, m[1].str()});
    }
    return c;
  }();
  return cast;
}

// ---- The shipped definitions -------------------------------------------------------------------

const DefinitionSet& Shipped() {
  static const DefinitionSet* set = [] {
    auto* s = new DefinitionSet;
    s->AddPath(kSourceDir + "/definitions", true);
    s->Compile();
    for (const Diagnostic& d : s->Diagnostics()) {
      if (d.severity == Severity::kError) ADD_FAILURE() << FormatDiagnostic(d);
    }
    return s;
  }();
  return *set;
}

// ---- Planning a path to a decision
// ---------------------------------------------------------------

enum class Goal { kApprove, kDeny };

// For each step, the fewest actions from it to an approval (INT_MAX: none).
std::vector<int> ActionsToApproval(const Item& item) {
  std::vector<int> distance(item.steps.size(), INT_MAX);
  for (size_t round = 0; round <= item.steps.size(); ++round) {
    for (size_t s = 0; s < item.steps.size(); ++s) {
      for (const Action& a : item.steps[s].actions) {
        if (a.decision == Decision::kApprove) distance[s] = std::min(distance[s], 1);
        if (a.to_step && distance[*a.to_step] != INT_MAX)
          distance[s] = std::min(distance[s], distance[*a.to_step] + 1);
      }
    }
  }
  return distance;
}

// The action to take at `step` among `offered`: for a denial, a deny decision when there is one;
// otherwise, toward an approval — first a move to a step not visited yet (the farthest from the
// approval first, to walk as many steps as the item has), then an approval, then a move back.
const Action* Choose(const Item& item, size_t step, const std::set<std::string>& offered,
                     const std::set<size_t>& visited, Goal goal) {
  std::vector<int> distance = ActionsToApproval(item);
  const Action* best = nullptr;
  std::tuple<int, int, std::string> best_rank;
  for (const Action& a : item.steps[step].actions) {
    if (offered.count(a.id) == 0) continue;
    if (goal == Goal::kDeny && a.decision == Decision::kDeny) return &a;
    std::tuple<int, int, std::string> rank;
    if (a.decision == Decision::kApprove) {
      rank = {1, 0, a.id};
    } else if (a.to_step && distance[*a.to_step] != INT_MAX) {
      bool fresh = visited.count(*a.to_step) == 0;
      rank = fresh ? std::make_tuple(0, -distance[*a.to_step], a.id)
                   : std::make_tuple(2, distance[*a.to_step], a.id);
    } else {
      continue;
    }
    if (best == nullptr || rank < best_rank) {
      best = &a;
      best_rank = rank;
    }
  }
  return best;
}

// The actions the walk will take when everything is offered: the guards the form must satisfy.
std::vector<const Action*> PlannedPath(const Item& item) {
  std::set<std::string> all;
  for (const Step& s : item.steps) {
    for (const Action& a : s.actions)
      all.insert(a.id);
  }
  std::vector<const Action*> path;
  std::set<size_t> visited = {item.initial_step};
  size_t step = item.initial_step;
  for (size_t n = 0; n < 2 * item.steps.size() + 2; ++n) {
    const Action* a = Choose(item, step, all, visited, Goal::kApprove);
    if (a == nullptr) break;
    path.push_back(a);
    if (a->decision) break;
    step = *a->to_step;
    visited.insert(step);
  }
  return path;
}

// ---- Filling a form -----------------------------------------------------------------------------

constexpr const char* kApplicantCreditCode = "91330100MA2TB00014";  // ent-demo

// The values the test tries for a field, the first being its default.
std::vector<json> Candidates(const FormField& f) {
  switch (f.type) {
    case FieldType::kBoolean:
      return {false, true};
    case FieldType::kNumber:
      return {1, 8, 100};
    case FieldType::kDate:
      return {"2026-04-01"};
    case FieldType::kEnum: {
      std::vector<json> values(f.values.begin(), f.values.end());
      return values;
    }
    case FieldType::kString:
      break;
  }
  if (f.id.find("credit_code") != std::string::npos) return {kApplicantCreditCode};
  return {"示例-" + f.id};
}

void GuardVariables(const json& guard, std::set<std::string>* out) {
  if (guard.is_object()) {
    for (const auto& [key, value] : guard.items()) {
      if (key == "var") {
        if (value.is_string()) out->insert(value.get<std::string>());
        if (value.is_array() && !value.empty() && value[0].is_string())
          out->insert(value[0].get<std::string>());
      } else {
        GuardVariables(value, out);
      }
    }
  } else if (guard.is_array()) {
    for (const json& g : guard)
      GuardVariables(g, out);
  }
}

// Every field filled (optional ones too, so that no part waits for input), with the fields in
// `free` tried over their candidates until `holds` accepts the form. Null when nothing does.
json SolveForm(const std::vector<FormField>& form, const std::set<std::string>& free,
               const std::function<bool(const json&)>& holds) {
  std::vector<const FormField*> varying;
  json base = json::object();
  for (const FormField& f : form) {
    base[f.id] = Candidates(f)[0];
    if (free.count(f.id) != 0 && Candidates(f).size() > 1) varying.push_back(&f);
  }
  std::vector<size_t> choice(varying.size(), 0);
  for (int tries = 0; tries < 100000; ++tries) {
    json attempt = base;
    for (size_t i = 0; i < varying.size(); ++i)
      attempt[varying[i]->id] = Candidates(*varying[i])[choice[i]];
    if (holds(attempt)) return attempt;
    size_t i = 0;
    for (; i < varying.size(); ++i) {
      if (++choice[i] < Candidates(*varying[i]).size()) break;
      choice[i] = 0;
    }
    if (i == varying.size()) break;
  }
  return nullptr;
}

bool PathHolds(const std::vector<const Action*>& path, const json& form) {
  return std::all_of(path.begin(), path.end(),
                     [&](const Action* a) { return !a->guard || a->guard->Evaluate(form); });
}

std::set<std::string> PathVariables(const std::vector<const Action*>& path) {
  std::set<std::string> vars;
  for (const Action* a : path) {
    if (a->guard) GuardVariables(a->guard->source(), &vars);
  }
  return vars;
}

json ItemForm(const Item& item) {
  std::vector<const Action*> path = PlannedPath(item);
  return SolveForm(item.form, PathVariables(path),
                   [&](const json& form) { return PathHolds(path, form); });
}

// A bundle form under which every part applies and every part's planned path holds.
json BundleForm(const Bundle& bundle) {
  std::set<std::string> free;
  for (const BundlePart& part : bundle.parts) {
    if (part.when) GuardVariables(part.when->source(), &free);
    for (const std::string& var : PathVariables(PlannedPath(*part.item))) {
      auto source = part.form_map.find(var);
      if (source != part.form_map.end() && !source->second.bundle_field.empty())
        free.insert(source->second.bundle_field);
    }
  }
  return SolveForm(bundle.form, free, [&](const json& form) {
    for (const BundlePart& part : bundle.parts) {
      if (part.when && !part.when->Evaluate(form)) return false;
      if (!PathHolds(PlannedPath(*part.item), bundle.MapForm(part, form))) return false;
    }
    return true;
  });
}

json AllMaterials(const std::vector<Material>& materials) {
  json ids = json::array();
  for (const Material& m : materials)
    ids.push_back(m.id);
  return ids;
}

// What the applicant of a bundle supplies: every bundle material but those a part issues (the
// business licence), which the parts after their issuer must receive without anyone supplying
// them — the walk never supplies a material later, so a part left without one would stop.
json ApplicantsMaterials(const Bundle& bundle) {
  json ids = json::array();
  for (const Material& m : bundle.materials) {
    bool issued = std::any_of(bundle.parts.begin(), bundle.parts.end(), [&](const BundlePart& p) {
      return std::count(p.issues.begin(), p.issues.end(), m.id) != 0;
    });
    if (!issued) ids.push_back(m.id);
  }
  return ids;
}

// ---- Walking a case over HTTP
// --------------------------------------------------------------------

class Walker {
 public:
  Walker(Api* api, const Cast* cast) : api_(api), cast_(cast) {
    auditor_ = cast->WithRole("auditor", "*");
    applicant_ = cast->WithRole("applicant");
  }

  const Person& applicant() const { return *applicant_; }
  const Person& auditor() const { return *auditor_; }
  // Every case and bundle as it is: the auditor sees all of them.
  Reply View(const std::string& id) { return api_->Get("/v1/cases/" + id, auditor_->token); }

  // Who among the staff is offered which action on case `id` now.
  std::map<std::string, std::vector<const Person*>> Offers(const std::string& id) {
    std::map<std::string, std::vector<const Person*>> offers;
    for (const Person& p : cast_->people) {
      if (!p.staff()) continue;
      Reply r = api_->Get("/v1/cases/" + id, p.token);
      if (r.status != 200) continue;
      for (const json& a : r.doc.value("available_actions", json::array())) {
        ExpectButtonText(a);
        offers[a.value("action", "")].push_back(&p);
      }
    }
    return offers;
  }

  // An offered action's title is a button's text, read by staff: Chinese, not the English
  // description (which a title like "税务UKey" may share letters with, but not spaces). E4–E9
  // lead the UTF-8 of U+4000–U+9FFF, where the CJK ideographs are.
  static void ExpectButtonText(const json& offered) {
    const std::string title = offered.value("title", "");
    EXPECT_TRUE(title.find_first_of("\xE4\xE5\xE6\xE7\xE8\xE9") != std::string::npos &&
                title.find(' ') == std::string::npos)
        << "not a Chinese button text: " << offered;
  }

  // Takes `action` as one of `people` (someone who has not acted on the case yet, if any).
  bool Take(const std::string& id, const std::string& action, const json& data,
            const std::vector<const Person*>& people) {
    const Person* actor = people.front();
    for (const Person* p : people) {
      if (acted_[id].count(p->principal->id) == 0) {
        actor = p;
        break;
      }
    }
    Reply r = api_->Act(id, actor->token, action, data);
    EXPECT_EQ(r.status, 200) << action << " on " << id << " by " << actor->principal->id << ": "
                             << r;
    acted_[id].insert(actor->principal->id);
    return r.status == 200;
  }

  // Takes item case `id` to a decision toward `goal`, and delivers it unless it is a bundle part
  // (a bundle delivers its parts together). False, with the failure reported, when it gets stuck.
  bool Decide(const Item& item, const std::string& id, Goal goal, bool deliver) {
    std::set<size_t> visited;
    for (int round = 0; round < 40; ++round) {
      Reply now = View(id);
      if (now.status != 200) {
        ADD_FAILURE() << item.id << " case " << id << ": " << now;
        return false;
      }
      const std::string status = now.doc.value("status", "");
      if (status == "closed") return true;
      if ((status == "approved" || status == "denied") && !deliver) return true;
      auto offers = Offers(id);
      std::string action;
      json data = json::object();
      if (status == "approved" || status == "denied") {
        action = "deliver";
      } else if (status == "submitted") {
        action = offers.count("transfer") ? "transfer" : "accept";
      } else if (status == "under_review") {
        std::string step_id = now.doc.value("step", "");
        auto step = item.StepIndex(step_id);
        if (!step) {
          ADD_FAILURE() << item.id << " case " << id << " is at unknown step " << step_id;
          return false;
        }
        visited.insert(*step);
        std::set<std::string> offered;
        for (const auto& [a, people] : offers)
          offered.insert(a);
        const Action* a = Choose(item, *step, offered, visited, goal);
        if (a == nullptr) {
          ADD_FAILURE() << item.id << " case " << id << ": nobody is offered an action toward "
                        << (goal == Goal::kApprove ? "approval" : "denial") << " at step "
                        << step_id << "; offered: " << json(offered).dump();
          return false;
        }
        const Step& s = item.steps[*step];
        if (s.is_joint() && a->id == s.completes_with) {
          for (const JointParty& party : s.parties) {
            if (!SignParty(item, id, s, party)) return false;
          }
          continue;
        }
        action = a->id;
        if (a->requires_reason) data["reason"] = "经审查，" + a->title + "（端到端测试）";
      } else {
        ADD_FAILURE() << item.id << " case " << id << " in unexpected status " << status << ": "
                      << now;
        return false;
      }
      auto people = offers.find(action);
      if (people == offers.end()) {
        std::set<std::string> offered;
        for (const auto& [a, who] : offers)
          offered.insert(a);
        ADD_FAILURE() << item.id << " case " << id << " (" << status << "): nobody is offered "
                      << action << "; offered: " << json(offered).dump();
        return false;
      }
      if (!Take(id, action, data, people->second)) return false;
    }
    ADD_FAILURE() << item.id << " case " << id << " reached no decision in 40 actions";
    return false;
  }

 private:
  // A party's opinion, signed by a principal holding the party's role in the party's organ (the
  // implementing organ's for a party that names none).
  bool SignParty(const Item& item, const std::string& id, const Step& step,
                 const JointParty& party) {
    std::vector<const Person*> holders, in_organ;
    const std::string organ = party.organ.id.empty() ? item.organ.id : party.organ.id;
    for (const Person& p : cast_->people) {
      if (!p.principal->HasRole(party.role)) continue;
      holders.push_back(&p);
      if (p.principal->organ == organ) in_organ.push_back(&p);
    }
    if (!in_organ.empty()) holders = in_organ;
    std::string where = item.id + " case " + id + ", joint step " + step.id + ", party " +
                        party.id + " (role " + party.role + ", organ " + organ + ")";
    if (holders.empty()) {
      ADD_FAILURE() << where << ": no demo principal holds the party's role";
      return false;
    }
    for (const Person* p : holders) {
      Reply r = api_->Get("/v1/cases/" + id, p->token);
      for (const json& a : r.doc.value("available_actions", json::array())) {
        if (a.value("action", "") == step.completes_with)
          return Take(id, step.completes_with, {{"party", party.id}}, {p});
      }
    }
    // Nobody in the party's organ is offered the opinion: show what the server says to them.
    const Person* p = holders.front();
    Reply seen = api_->Get("/v1/cases/" + id, p->token);
    Reply signed_ = api_->Act(id, p->token, step.completes_with, {{"party", party.id}});
    ADD_FAILURE() << where << ": " << p->principal->id << " (organ " << p->principal->organ
                  << ") is not offered " << step.completes_with << ". GET: " << seen << "; POST "
                  << step.completes_with << ": " << signed_;
    return false;
  }

  Api* api_;
  const Cast* cast_;
  const Person* auditor_ = nullptr;
  const Person* applicant_ = nullptr;
  std::map<std::string, std::set<std::string>> acted_;  // case id → principal ids
};

// ---- The tests
// -----------------------------------------------------------------------------------

std::string TestName(std::string id) {
  std::replace(id.begin(), id.end(), '-', '_');
  return id;
}

std::vector<std::string> ShippedIds(const std::string& folder) {
  std::vector<std::string> ids;
  for (const auto& entry :
       std::filesystem::directory_iterator(kSourceDir + "/definitions/" + folder)) {
    if (entry.path().extension() == ".json") ids.push_back(entry.path().stem().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

class ShippedE2e : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(DemoCast().set, nullptr);
    server_ = std::make_unique<TestServer>(DemoCast().set, kSourceDir + "/definitions", kStart);
    api_ = std::make_unique<Api>(server_->port());
    walker_ = std::make_unique<Walker>(api_.get(), &DemoCast());
  }
  void TearDown() override {
    walker_.reset();
    api_.reset();
    server_.reset();
  }

  // Applies for `item` as the demo applicant; returns the case id ("" on failure).
  std::string Apply(const Item& item) {
    json form = ItemForm(item);
    EXPECT_FALSE(form.is_null()) << item.id << ": no form satisfies the guards of its path";
    json body = {{"definition", item.id},
                 {"version", item.version},
                 {"form", form},
                 {"materials", AllMaterials(item.materials)}};
    if (!item.standard_mode) {
      body["mode"] = "commitment";
      body["commitment"] = {{"template_id", item.commitment->template_id},
                            {"template_version", item.commitment->template_version},
                            {"signed_by", "张三"}};
    }
    Reply r = api_->Post("/v1/cases", walker_->applicant().token, body);
    EXPECT_EQ(r.status, 201) << item.id << ": " << r;
    return r.doc.value("id", "");
  }

  void ExpectDecided(const std::string& id, const std::string& decision) {
    Reply r = walker_->View(id);
    EXPECT_EQ(r.doc.value("status", ""), "closed") << r;
    EXPECT_EQ(r.doc.value("decision", json()), decision) << r;
  }

  // The history holds every action of the planned path: the steps were walked, not skipped.
  void ExpectWalked(const std::string& id, const Item& item) {
    Reply history = api_->Get("/v1/cases/" + id + "/history", walker_->auditor().token);
    ASSERT_EQ(history.status, 200) << history;
    std::set<std::string> taken;
    for (const json& e : history.doc.value("events", json::array()))
      taken.insert(e.value("action", ""));
    for (const Action* a : PlannedPath(item))
      EXPECT_EQ(taken.count(a->id), 1u) << item.id << ": " << a->id << " was not taken";
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Walker> walker_;
};

class ShippedItem : public ShippedE2e, public testing::WithParamInterface<std::string> {};

TEST_P(ShippedItem, IsApprovedAndDeliveredOverHttp) {
  auto item = Shipped().FindItem(GetParam());
  ASSERT_NE(item, nullptr) << GetParam();
  std::string id = Apply(*item);
  ASSERT_FALSE(id.empty());
  if (!walker_->Decide(*item, id, Goal::kApprove, /*deliver=*/true)) return;
  ExpectDecided(id, "approve");
  if (item->standard_mode || !item->commitment->decide_at_acceptance) ExpectWalked(id, *item);
}

// Items whose steps can deny (all but one decided at acceptance) are also denied, at the first
// step that offers a denial, and the denial delivered.
TEST_P(ShippedItem, IsDeniedAndDeliveredOverHttp) {
  auto item = Shipped().FindItem(GetParam());
  ASSERT_NE(item, nullptr) << GetParam();
  bool steps_run = item->standard_mode || !item->commitment->decide_at_acceptance;
  bool can_deny = std::any_of(item->steps.begin(), item->steps.end(), [](const Step& s) {
    return std::any_of(s.actions.begin(), s.actions.end(),
                       [](const Action& a) { return a.decision == Decision::kDeny; });
  });
  if (!steps_run || !can_deny) GTEST_SKIP() << item->id << " is decided at acceptance";
  std::string id = Apply(*item);
  ASSERT_FALSE(id.empty());
  if (walker_->Decide(*item, id, Goal::kDeny, /*deliver=*/true)) ExpectDecided(id, "deny");
}

INSTANTIATE_TEST_SUITE_P(Shipped, ShippedItem, testing::ValuesIn(ShippedIds("items")),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return TestName(info.param);
                         });

class ShippedBundle : public ShippedE2e, public testing::WithParamInterface<std::string> {};

TEST_P(ShippedBundle, EveryPartIsApprovedAndTheBundleDeliveredOverHttp) {
  auto bundle = Shipped().FindBundle(GetParam());
  ASSERT_NE(bundle, nullptr) << GetParam();
  json form = BundleForm(*bundle);
  ASSERT_FALSE(form.is_null()) << bundle->id << ": no form lets every part apply and approve";
  Reply created = api_->Post("/v1/cases", walker_->applicant().token,
                             {{"definition", bundle->id},
                              {"version", bundle->version},
                              {"form", form},
                              {"materials", ApplicantsMaterials(*bundle)}});
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.doc.value("id", "");
  ASSERT_EQ(created.doc.value("kind", ""), "bundle") << created;

  bool stuck = false;
  for (int round = 0; round < 20 && !stuck; ++round) {
    Reply now = walker_->View(id);
    ASSERT_EQ(now.status, 200) << now;
    const std::string status = now.doc.value("status", "");
    if (status == "delivered") break;
    if (status == "ready") {
      auto offers = walker_->Offers(id);
      ASSERT_EQ(offers.count("deliver"), 1u) << "nobody is offered to deliver the bundle: " << now;
      stuck = !walker_->Take(id, "deliver", json::object(), offers["deliver"]);
      continue;
    }
    bool moved = false;
    for (const json& part : now.doc["parts"]) {
      std::string case_id = part.value("case_id", "");
      std::string part_status = part.value("status", "");
      if (case_id.empty() || part_status == "approved" || part_status == "denied" ||
          part_status == "closed") {
        continue;
      }
      const BundlePart* compiled = bundle->FindPart(part.value("part", ""));
      ASSERT_NE(compiled, nullptr) << part;
      if (!walker_->Decide(*compiled->item, case_id, Goal::kApprove, /*deliver=*/false)) {
        stuck = true;
        break;
      }
      moved = true;
    }
    if (!moved && !stuck) {
      ADD_FAILURE() << bundle->id << " is stuck in status " << status << ": " << now;
      stuck = true;
    }
  }
  if (stuck) return;
  Reply done = walker_->View(id);
  EXPECT_EQ(done.doc.value("status", ""), "delivered") << done;
  ASSERT_EQ(done.doc["parts"].size(), bundle->parts.size()) << done;
  for (const json& part : done.doc["parts"]) {
    EXPECT_EQ(part.value("applies", false), true) << part;
    EXPECT_EQ(part.value("status", ""), "closed") << part;
    EXPECT_EQ(part.value("decision", json()), "approve") << part;
    // A part after an issuer holds what it issued (mapped to the item's material id), though the
    // applicant never supplied it.
    const BundlePart* compiled = bundle->FindPart(part.value("part", ""));
    ASSERT_NE(compiled, nullptr) << part;
    for (size_t issuer : compiled->after) {
      for (const std::string& issued : bundle->parts[issuer].issues) {
        for (const auto& [item_material, bundle_material] : compiled->material_map) {
          if (bundle_material != issued) continue;
          Reply child = walker_->View(part.value("case_id", ""));
          const json materials = child.doc.value("materials", json::array());
          EXPECT_NE(std::find(materials.begin(), materials.end(), item_material), materials.end())
              << compiled->id << " lacks " << item_material << ", which "
              << bundle->parts[issuer].id << " issues: " << child;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, ShippedBundle, testing::ValuesIn(ShippedIds("bundles")),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return TestName(info.param);
                         });

}  // namespace
}  // namespace tongban::api
