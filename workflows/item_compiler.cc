#include "workflows/item_compiler.h"

#include <algorithm>
#include <set>

#include "workflows/frame_actions.h"
#include "workflows/schema_reader.h"
#include "workflows/sha256.h"
#include "workflows/step_graph.h"

namespace tongban {

namespace {

const std::vector<std::string> kCategories = {"licensing",  "filing", "confirmation", "payment",
                                              "inspection", "ruling", "reward",       "other"};
const std::vector<std::string> kFieldTypes = {"string", "number", "boolean", "date", "enum"};
const std::vector<std::string> kNecessities = {"required", "optional", "deferrable"};
const std::vector<std::string> kSpecialProcedures = [] {
  std::vector<std::string> ids;
  for (const SpecialProcedureKind& kind : SpecialProcedureKinds())
    ids.push_back(kind.id);
  return ids;
}();
const std::vector<std::string> kVerificationMethods = {"document_check", "on_site_inspection",
                                                       "data_comparison", "joint_inspection"};

template <typename T>
T EnumAt(const std::vector<std::string>& names, const std::string& value) {
  return static_cast<T>(std::find(names.begin(), names.end(), value) - names.begin());
}

class ItemCompiler {
 public:
  ItemCompiler(const nlohmann::json& root, const CalendarLookup& calendars, DiagnosticSink* sink,
               bool stored)
      : root_(root), calendars_(calendars), sink_(sink), stored_(stored) {}

  std::shared_ptr<const Item> Run() {
    ObjectReader top(root_, "", sink_,
                     {"kind", "id", "version", "title", "description", "item_code", "category",
                      "case_type", "organ", "legal_basis", "time_limits", "roles", "form",
                      "materials", "modes", "steps", "initial_step", "four_eyes", "notes"});
    if (!top.valid()) return nullptr;
    item_.id = top.Slug("id", true).value_or("");
    item_.version = static_cast<int>(top.Integer("version", true, 1, 1000000).value_or(1));
    item_.title = top.String("title", true).value_or("");
    item_.description = top.String("description", false).value_or("");
    item_.item_code = top.String("item_code", false).value_or("");
    item_.notes = top.String("notes", false).value_or("");
    if (auto c = top.Enum("category", true, kCategories)) {
      item_.category = EnumAt<ItemCategory>(kCategories, *c);
    }
    if (auto c = top.Enum("case_type", true, {"instant", "promised"})) {
      item_.case_type = *c == "instant" ? CaseType::kInstant : CaseType::kPromised;
    }
    ReadOrgan(top);
    ReadLegalBasis(top);
    ReadTimeLimits(top);
    ReadRoles(top);
    ReadForm(top);
    ReadMaterials(top);
    ReadModes(top);
    ReadSteps(top);
    ResolveReferences(top);
    if (sink_->has_errors()) return nullptr;
    CheckGraph();
    if (sink_->has_errors()) return nullptr;
    item_.content_hash = Sha256Hex(root_.dump());
    return std::make_shared<const Item>(std::move(item_));
  }

 private:
  void ReadOrgan(ObjectReader& top) {
    const nlohmann::json* organ = top.Object("organ", true);
    if (organ == nullptr) return;
    ObjectReader r(*organ, top.PointerOf("organ"), sink_, {"id", "name"});
    item_.organ.id = r.Slug("id", true).value_or("");
    item_.organ.name = r.String("name", true).value_or("");
  }

  // A party of another organ names it as {"id", "name"}: only that organ's staff sign the party's
  // opinion. A bare string is the organ's name alone (the form of the first item versions); such a
  // party is signed by staff of the implementing organ, which is rarely what a modeller means.
  void ReadPartyOrgan(ObjectReader& pr, JointParty* party) {
    const nlohmann::json* organ = pr.Get("organ");
    if (organ == nullptr) return;
    if (organ->is_string()) {
      party->organ.name = organ->get<std::string>();
      sink_->Warning(pr.PointerOf("organ"), "party-organ-without-id",
                     "party \"" + party->id + "\" names its organ without an id, so staff of the " +
                         "implementing organ sign its opinion; write {\"id\": …, \"name\": \"" +
                         party->organ.name + "\"} so that only that organ's staff sign it");
      return;
    }
    const nlohmann::json* object = pr.Object("organ", false);
    if (object == nullptr) return;
    ObjectReader r(*object, pr.PointerOf("organ"), sink_, {"id", "name"});
    party->organ.id = r.Slug("id", true).value_or("");
    party->organ.name = r.String("name", true).value_or("");
  }

  static LegalCitation ReadCitation(ObjectReader& r) {
    LegalCitation c;
    c.citation = r.String("citation", true).value_or("");
    c.article = r.String("article", false).value_or("");
    c.url = r.String("url", false).value_or("");
    return c;
  }

  std::optional<DayUnit> ReadUnit(ObjectReader& r, const std::string& key) {
    auto name = r.Enum(key, false, DayUnitNames());
    return name ? ParseDayUnit(*name) : std::nullopt;
  }

  // Art. 45 lists exactly which procedures are not counted; any other step kept out of the limits
  // needs a rule of the item's own law that says so, cited in `excluded_by`. A stored definition
  // deployed before this rule keeps its meaning (its cases were counted under it), with a warning.
  void CheckExclusionCited(ObjectReader& r, const Step& step) {
    if (step.counts_toward_limit || step.excluded_by || IsArt45Procedure(step.special_procedure))
      return;
    std::string what = step.special_procedure.empty()
                           ? "a step that does not count toward the limits"
                           : "special procedure \"" + step.special_procedure + "\" (" +
                                 SpecialProcedureTitle(step.special_procedure) + ")";
    std::string pointer =
        r.PointerOf(step.special_procedure.empty() ? "counts_toward_limit" : "special_procedure");
    std::string message =
        what +
        " is not in the list of 行政许可法 art. 45 "
        "(听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审); an "
        "on-site check is part of the review (art. 34) and counts: make it an ordinary step, or "
        "cite the rule of this item's law that excludes it from the limit in \"excluded_by\"";
    if (stored_) {
      sink_->Warning(pointer, "exclusion-not-cited", message);
    } else {
      sink_->Error(pointer, "exclusion-not-cited", message);
    }
  }

  void ReadLegalBasis(ObjectReader& top) {
    const nlohmann::json* list = top.Array("legal_basis", true);
    if (list == nullptr) return;
    if (list->empty()) {
      sink_->Error(top.PointerOf("legal_basis"), "empty-list",
                   "an item needs at least one legal basis (设定依据)");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ObjectReader r((*list)[i], JoinJsonPointer(top.PointerOf("legal_basis"), i), sink_,
                     {"citation", "article", "url"});
      item_.legal_basis.push_back(ReadCitation(r));
    }
  }

  void ReadTimeLimits(ObjectReader& top) {
    const nlohmann::json* limits = top.Object("time_limits", true);
    if (limits == nullptr) return;
    ObjectReader r(*limits, top.PointerOf("time_limits"), sink_,
                   {"calendar", "statutory_days", "statutory_unit", "promised_days",
                    "promised_unit", "extension_days", "yellow_when_days_left", "note"});
    TimeLimits& t = item_.time_limits;
    t.calendar_id = r.Slug("calendar", true).value_or("");
    auto statutory = r.Integer("statutory_days", true, 0, 3650);
    auto promised = r.Integer("promised_days", true, 0, 3650);
    t.statutory_days = static_cast<int>(statutory.value_or(0));
    t.promised_days = static_cast<int>(promised.value_or(0));
    t.statutory_unit = ReadUnit(r, "statutory_unit").value_or(DayUnit::kWorkingDays);
    t.promised_unit = ReadUnit(r, "promised_unit").value_or(DayUnit::kWorkingDays);
    t.extension_days = static_cast<int>(r.Integer("extension_days", false, 0, 3650).value_or(10));
    t.yellow_when_days_left =
        static_cast<int>(r.Integer("yellow_when_days_left", false, 0, 3650).value_or(3));
    t.note = r.String("note", false).value_or("");
    // A working day is never shorter than a natural day, so a promise in working days is checked
    // against a natural-day statute by its number too: the strictest check that needs no dates.
    if (statutory && promised && *promised > *statutory) {
      sink_->Error(r.PointerOf("promised_days"), "promise-exceeds-statute",
                   "the promised limit (" + std::to_string(*promised) + " " +
                       DayUnitName(t.promised_unit) + ") may not exceed the statutory limit (" +
                       std::to_string(*statutory) + " " + DayUnitName(t.statutory_unit) + ")");
    }
    if (!t.calendar_id.empty() && IsSlug(t.calendar_id)) {
      t.calendar = calendars_ ? calendars_(t.calendar_id) : nullptr;
      if (!t.calendar) {
        sink_->Error(r.PointerOf("calendar"), "unknown-calendar",
                     "unknown calendar \"" + t.calendar_id +
                         "\"; the calendar must be deployed or validated together with the item "
                         "(tongban validate --with definitions/calendars)");
      }
    }
  }

  void ReadRoles(ObjectReader& top) {
    const nlohmann::json* list = top.Array("roles", false);
    if (list == nullptr) return;
    std::set<std::string> seen;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("roles"), i);
      ObjectReader r((*list)[i], pointer, sink_, {"id", "title"});
      auto id = r.Slug("id", true);
      auto title = r.String("title", true);
      if (!id) continue;
      const auto& built_in = BuiltInStepRoles();
      if (std::find(built_in.begin(), built_in.end(), *id) != built_in.end()) {
        sink_->Error(r.PointerOf("id"), "duplicate-id",
                     "role \"" + *id +
                         "\" is a built-in role (clerk, reviewer, approver, verifier); "
                         "use it without declaring it");
        continue;
      }
      if (!seen.insert(*id).second) {
        sink_->Error(r.PointerOf("id"), "duplicate-id", "role \"" + *id + "\" is declared twice");
        continue;
      }
      item_.extra_roles.push_back({*id, title.value_or("")});
    }
  }

  void ReadForm(ObjectReader& top) {
    const nlohmann::json* form = top.Object("form", true);
    if (form == nullptr) return;
    ObjectReader r(*form, top.PointerOf("form"), sink_, {"fields"});
    const nlohmann::json* fields = r.Array("fields", true);
    if (fields == nullptr) return;
    item_.form = ReadFormFields(*fields, r.PointerOf("fields"), sink_);
  }

  void ReadMaterials(ObjectReader& top) {
    const nlohmann::json* list = top.Array("materials", false);
    if (list == nullptr) return;
    item_.materials = ReadMaterialList(*list, top.PointerOf("materials"), sink_);
  }

  void ReadModes(ObjectReader& top) {
    const nlohmann::json* modes = top.Object("modes", false);
    if (modes == nullptr) return;
    ObjectReader r(*modes, top.PointerOf("modes"), sink_, {"standard", "commitment"});
    item_.standard_mode = r.Has("standard");
    if (const nlohmann::json* standard = r.Object("standard", false)) {
      ObjectReader s(*standard, r.PointerOf("standard"), sink_, {});
    }
    const nlohmann::json* commitment = r.Object("commitment", false);
    if (!item_.standard_mode && commitment == nullptr) {
      sink_->Error(top.PointerOf("modes"), "no-mode",
                   "an item needs at least one mode: \"standard\" or \"commitment\"");
    }
    if (commitment == nullptr) return;
    ObjectReader c(*commitment, r.PointerOf("commitment"), sink_,
                   {"template", "decide_at_acceptance", "verification"});
    CommitmentMode mode;
    if (const nlohmann::json* t = c.Object("template", true)) {
      ObjectReader tr(*t, c.PointerOf("template"), sink_, {"id", "version", "text"});
      mode.template_id = tr.Slug("id", true).value_or("");
      mode.template_version = static_cast<int>(tr.Integer("version", true, 1, 1000000).value_or(1));
      mode.template_text = tr.String("text", true).value_or("");
    }
    mode.decide_at_acceptance = c.Boolean("decide_at_acceptance", false).value_or(false);
    if (c.valid() && !c.Has("verification")) {
      sink_->Error(c.pointer(), "missing-verification",
                   "a commitment mode (告知承诺) needs a verification plan: \"verification\": "
                   "{\"method\": …, \"working_days\": …}");
    }
    if (const nlohmann::json* v = c.Object("verification", false)) {
      ObjectReader vr(*v, c.PointerOf("verification"), sink_, {"method", "working_days"});
      mode.verification_method = vr.Enum("method", true, kVerificationMethods).value_or("");
      mode.verification_days =
          static_cast<int>(vr.Integer("working_days", true, 1, 3650).value_or(1));
    }
    item_.commitment = std::move(mode);
  }

  void ReadSteps(ObjectReader& top) {
    const nlohmann::json* list = top.Array("steps", true);
    if (list == nullptr) return;
    if (list->empty()) {
      sink_->Error(top.PointerOf("steps"), "empty-list", "an item needs at least one review step");
      return;
    }
    step_pointers_.resize(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("steps"), i);
      step_pointers_[i] = pointer;
      ObjectReader r(
          (*list)[i], pointer, sink_,
          {"id", "title", "role", "time_limit_days", "time_limit_unit", "counts_toward_limit",
           "special_procedure", "excluded_by", "joint", "actions"});
      Step step;
      step.id = r.Slug("id", true).value_or("");
      step.title = r.String("title", true).value_or("");
      step.role = r.Slug("role", true).value_or("");
      if (auto limit = r.Integer("time_limit_days", false, 0, 3650)) {
        step.time_limit_days = static_cast<int>(*limit);
      }
      step.time_limit_unit = ReadUnit(r, "time_limit_unit").value_or(DayUnit::kWorkingDays);
      step.special_procedure = r.Enum("special_procedure", false, kSpecialProcedures).value_or("");
      if (const nlohmann::json* excluded = r.Object("excluded_by", false)) {
        ObjectReader er(*excluded, r.PointerOf("excluded_by"), sink_,
                        {"citation", "article", "url"});
        step.excluded_by = ReadCitation(er);
      }
      auto counts = r.Boolean("counts_toward_limit", false);
      if (!step.special_procedure.empty() && counts.value_or(false)) {
        sink_->Error(r.PointerOf("counts_toward_limit"), "special-procedure-counted",
                     "a special procedure (" + step.special_procedure +
                         ") does not count toward the time limit (行政许可法 art. 45); remove "
                         "\"counts_toward_limit\" or set it to false");
      }
      step.counts_toward_limit = counts.value_or(step.special_procedure.empty());
      CheckExclusionCited(r, step);
      if (!step.id.empty()) {
        if (item_.step_index.count(step.id) != 0) {
          sink_->Error(r.PointerOf("id"), "duplicate-id",
                       "step \"" + step.id + "\" is defined twice");
        } else {
          item_.step_index[step.id] = i;
        }
      }
      if (const nlohmann::json* joint = r.Object("joint", false)) {
        ObjectReader j(*joint, r.PointerOf("joint"), sink_, {"parties", "completes_with"});
        step.completes_with = j.Slug("completes_with", true).value_or("");
        if (const nlohmann::json* parties = j.Array("parties", true)) {
          if (parties->size() < 2) {
            sink_->Error(j.PointerOf("parties"), "joint-too-few-parties",
                         "a joint step (会签) needs at least two parties");
          }
          std::set<std::string> seen;
          for (size_t p = 0; p < parties->size(); ++p) {
            ObjectReader pr((*parties)[p], JoinJsonPointer(j.PointerOf("parties"), p), sink_,
                            {"id", "title", "role", "organ"});
            JointParty party;
            party.id = pr.Slug("id", true).value_or("");
            party.title = pr.String("title", true).value_or("");
            party.role = pr.Slug("role", true).value_or("");
            ReadPartyOrgan(pr, &party);
            if (!party.id.empty() && !seen.insert(party.id).second) {
              sink_->Error(pr.PointerOf("id"), "duplicate-id",
                           "party \"" + party.id + "\" is listed twice");
            }
            step.parties.push_back(std::move(party));
          }
        }
      }
      if (const nlohmann::json* actions = r.Object("actions", true)) {
        if (actions->empty()) {
          sink_->Error(r.PointerOf("actions"), "empty-list",
                       "step \"" + step.id + "\" has no actions, so a case would be stuck in it");
        }
        for (const auto& [action_id, body] : actions->items()) {
          std::string ap = JoinJsonPointer(r.PointerOf("actions"), action_id);
          ReadAction(action_id, body, ap, &step);
        }
      }
      item_.steps.push_back(std::move(step));
    }
  }

  void ReadAction(const std::string& action_id, const nlohmann::json& body,
                  const std::string& pointer, Step* step) {
    if (!IsSlug(action_id)) {
      sink_->Error(pointer, "bad-id",
                   "\"" + action_id +
                       "\" is not a valid action id: use lower-case letters, "
                       "digits, '-' and '_', starting with a letter");
    }
    const auto& reserved = ReservedActionIds();
    if (std::find(reserved.begin(), reserved.end(), action_id) != reserved.end()) {
      sink_->Error(pointer, "reserved-action",
                   "\"" + action_id +
                       "\" is an action of the statutory frame; give this step "
                       "action another name");
    }
    ObjectReader r(body, pointer, sink_,
                   {"title", "to", "decision", "guard", "requires_materials", "requires_reason"});
    Action action;
    action.id = action_id;
    action.title = r.String("title", false).value_or(action_id);
    action.requires_reason = r.Boolean("requires_reason", false).value_or(false);
    auto to = r.String("to", false);
    auto decision = r.Enum("decision", false, {"approve", "deny"});
    if (r.valid() && r.Has("to") == r.Has("decision")) {
      sink_->Error(pointer, "action-target",
                   "action \"" + action_id +
                       "\" needs exactly one of \"to\" (the next step) or \"decision\" "
                       "(approve or deny)");
    }
    if (decision) action.decision = *decision == "approve" ? Decision::kApprove : Decision::kDeny;
    if (to)
      pending_targets_.push_back(
          {item_.steps.size(), step->actions.size(), *to, r.PointerOf("to")});
    if (const nlohmann::json* materials = r.Array("requires_materials", false)) {
      for (size_t m = 0; m < materials->size(); ++m) {
        std::string mp = JoinJsonPointer(r.PointerOf("requires_materials"), m);
        if (!(*materials)[m].is_string()) {
          sink_->Error(mp, "wrong-type", "a material reference is a material id (a string)");
          continue;
        }
        action.requires_materials.push_back((*materials)[m].get<std::string>());
        pending_materials_.push_back({action.requires_materials.back(), mp});
      }
    }
    if (r.Has("guard"))
      pending_guards_.push_back(
          {item_.steps.size(), step->actions.size(), *r.Get("guard"), r.PointerOf("guard")});
    step->action_index[action_id] = step->actions.size();
    step->actions.push_back(std::move(action));
  }

  void ResolveReferences(ObjectReader& top) {
    std::vector<std::string> step_ids;
    for (const Step& s : item_.steps)
      step_ids.push_back(s.id);
    std::vector<std::string> role_ids = BuiltInStepRoles();
    for (const auto& r : item_.extra_roles)
      role_ids.push_back(r.first);
    std::vector<std::string> material_ids;
    for (const Material& m : item_.materials)
      material_ids.push_back(m.id);

    auto unknown = [&](const std::string& pointer, const std::string& what, const std::string& name,
                       const std::vector<std::string>& known) {
      std::string message = "unknown " + what + " \"" + name + "\"";
      std::string suggestion = ClosestMatch(name, known);
      if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
      sink_->Error(pointer, "unknown-" + what, message);
    };

    for (const PendingTarget& t : pending_targets_) {
      auto index = item_.StepIndex(t.target);
      if (!index) {
        unknown(t.pointer, "step", t.target, step_ids);
        continue;
      }
      item_.steps[t.step].actions[t.action].to_step = *index;
    }
    for (const auto& [material, pointer] : pending_materials_) {
      if (item_.FindMaterial(material) == nullptr)
        unknown(pointer, "material", material, material_ids);
    }
    for (const PendingGuard& g : pending_guards_) {
      item_.steps[g.step].actions[g.action].guard =
          CompileGuard(g.expression, g.pointer, item_.form, sink_);
    }
    for (size_t i = 0; i < item_.steps.size(); ++i) {
      const Step& step = item_.steps[i];
      std::string pointer = step_pointers_[i];
      if (!step.role.empty() && !item_.HasRole(step.role)) {
        unknown(JoinJsonPointer(pointer, "role"), "role", step.role, role_ids);
      }
      for (size_t p = 0; p < step.parties.size(); ++p) {
        const JointParty& party = step.parties[p];
        if (!party.role.empty() && !item_.HasRole(party.role)) {
          unknown(
              JoinJsonPointer(JoinJsonPointer(JoinJsonPointer(pointer, "joint"), "parties"), p) +
                  "/role",
              "role", party.role, role_ids);
        }
      }
      if (step.is_joint() && !step.completes_with.empty() &&
          step.FindAction(step.completes_with) == nullptr) {
        std::vector<std::string> action_ids;
        for (const Action& a : step.actions)
          action_ids.push_back(a.id);
        unknown(JoinJsonPointer(JoinJsonPointer(pointer, "joint"), "completes_with"), "action",
                step.completes_with, action_ids);
      }
    }
    if (auto initial = top.Slug("initial_step", false)) {
      if (auto index = item_.StepIndex(*initial)) {
        item_.initial_step = *index;
      } else {
        unknown(top.PointerOf("initial_step"), "step", *initial, step_ids);
      }
    }
    if (const nlohmann::json* pairs = top.Array("four_eyes", false)) {
      for (size_t i = 0; i < pairs->size(); ++i) {
        std::string pointer = JoinJsonPointer(top.PointerOf("four_eyes"), i);
        const nlohmann::json& pair = (*pairs)[i];
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
          sink_->Error(
              pointer, "wrong-type",
              "a four-eyes pair is an array of two step ids, e.g. [\"review\", \"decide\"]");
          continue;
        }
        auto a = item_.StepIndex(pair[0].get<std::string>());
        auto b = item_.StepIndex(pair[1].get<std::string>());
        if (!a) unknown(JoinJsonPointer(pointer, 0), "step", pair[0].get<std::string>(), step_ids);
        if (!b) unknown(JoinJsonPointer(pointer, 1), "step", pair[1].get<std::string>(), step_ids);
        if (a && b && *a == *b) {
          sink_->Error(pointer, "four-eyes-same-step",
                       "a four-eyes pair needs two different steps, not \"" +
                           pair[0].get<std::string>() + "\" twice");
          continue;
        }
        if (a && b) item_.four_eyes.push_back({*a, *b});
      }
    }
  }

  void CheckGraph() {
    StepGraphReport report = AnalyzeStepGraph(item_);
    for (size_t s : report.unreachable) {
      sink_->Error(step_pointers_[s], "unreachable-step",
                   "step \"" + item_.steps[s].id + "\" cannot be reached from the initial step \"" +
                       item_.steps[item_.initial_step].id + "\"");
    }
    for (size_t s : report.trapped) {
      sink_->Error(step_pointers_[s], "no-decision-reachable",
                   "from step \"" + item_.steps[s].id +
                       "\" no decision can be reached: a case there would never be decided "
                       "(a dead end or a cycle without an exit)");
    }
    if (!report.can_approve) {
      sink_->Warning("/steps", "never-approves",
                     "no path from the initial step ever reaches an approve decision");
    }
    if (report.longest_path_days > item_.time_limits.promised_days &&
        item_.case_type == CaseType::kPromised) {
      sink_->Warning("/time_limits/promised_days", "step-limits-exceed-promise",
                     "the step time limits along the longest path add up to " +
                         std::to_string(report.longest_path_days) +
                         " working days, more than the promised " +
                         std::to_string(item_.time_limits.promised_days));
    }
  }

  struct PendingTarget {
    size_t step;
    size_t action;
    std::string target;
    std::string pointer;
  };
  struct PendingGuard {
    size_t step;
    size_t action;
    nlohmann::json expression;
    std::string pointer;
  };

  const nlohmann::json& root_;
  const CalendarLookup& calendars_;
  DiagnosticSink* sink_;
  bool stored_;
  Item item_;
  std::vector<std::string> step_pointers_;
  std::vector<PendingTarget> pending_targets_;
  std::vector<std::pair<std::string, std::string>> pending_materials_;
  std::vector<PendingGuard> pending_guards_;
};

}  // namespace

std::vector<FormField> ReadFormFields(const nlohmann::json& fields,
                                      const std::string& fields_pointer, DiagnosticSink* sink) {
  std::vector<FormField> form;
  std::set<std::string> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string pointer = JoinJsonPointer(fields_pointer, i);
    ObjectReader f(fields[i], pointer, sink, {"id", "label", "type", "required", "values"});
    if (!f.valid()) continue;
    FormField field;
    field.id = f.Slug("id", true).value_or("");
    field.label = f.String("label", true).value_or("");
    field.required = f.Boolean("required", false).value_or(false);
    auto type = f.Enum("type", true, kFieldTypes);
    if (type) field.type = EnumAt<FieldType>(kFieldTypes, *type);
    if (!field.id.empty() && !seen.insert(field.id).second) {
      sink->Error(f.PointerOf("id"), "duplicate-id",
                  "form field \"" + field.id + "\" is defined twice");
    }
    const nlohmann::json* values = f.Array("values", false);
    if (type && *type == "enum") {
      if (values == nullptr && !f.Has("values")) {
        sink->Error(pointer, "missing-key",
                    "enum field \"" + field.id + "\" needs \"values\", the list of choices");
      }
    } else if (f.Has("values")) {
      sink->Error(f.PointerOf("values"), "values-without-enum",
                  "\"values\" is only for fields of type enum");
    }
    if (values != nullptr) {
      std::set<std::string> seen_values;
      for (size_t v = 0; v < values->size(); ++v) {
        std::string vp = JoinJsonPointer(f.PointerOf("values"), v);
        if (!(*values)[v].is_string()) {
          sink->Error(vp, "wrong-type", "enum values must be strings");
          continue;
        }
        std::string value = (*values)[v].get<std::string>();
        if (!seen_values.insert(value).second) {
          sink->Error(vp, "duplicate-id", "enum value \"" + value + "\" is listed twice");
        }
        field.values.push_back(value);
      }
      if (values->empty()) sink->Error(f.PointerOf("values"), "empty-list", "no choices given");
    }
    form.push_back(std::move(field));
  }
  return form;
}

std::vector<Material> ReadMaterialList(const nlohmann::json& list, const std::string& list_pointer,
                                       DiagnosticSink* sink) {
  std::vector<Material> materials;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string pointer = JoinJsonPointer(list_pointer, i);
    ObjectReader r(list[i], pointer, sink,
                   {"id", "name", "necessity", "commitment_replaceable", "note"});
    if (!r.valid()) continue;
    Material m;
    m.id = r.Slug("id", true).value_or("");
    m.name = r.String("name", true).value_or("");
    if (auto n = r.Enum("necessity", true, kNecessities)) {
      m.necessity = EnumAt<Necessity>(kNecessities, *n);
    }
    m.commitment_replaceable = r.Boolean("commitment_replaceable", false).value_or(false);
    r.String("note", false);
    if (!m.id.empty() && !seen.insert(m.id).second) {
      sink->Error(r.PointerOf("id"), "duplicate-id", "material \"" + m.id + "\" is defined twice");
    }
    materials.push_back(std::move(m));
  }
  return materials;
}

std::shared_ptr<const Item> CompileItem(const nlohmann::json& root, const CalendarLookup& calendars,
                                        DiagnosticSink* sink, bool stored) {
  ItemCompiler compiler(root, calendars, sink, stored);
  return compiler.Run();
}

}  // namespace tongban
