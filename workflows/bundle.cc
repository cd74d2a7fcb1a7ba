#include "workflows/bundle.h"

#include <algorithm>
#include <set>

#include "workflows/item_compiler.h"
#include "workflows/schema_reader.h"
#include "workflows/sha256.h"

namespace tongban {

namespace {

std::string Quoted(const std::string& text) {
  return "\"" + text + "\"";
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string suggestion = ClosestMatch(word, candidates);
  return suggestion.empty() ? "" : "; did you mean \"" + suggestion + "\"?";
}

// The form field ids a guard expression reads: {"var": "x"} or {"var": ["x", default]}.
void CollectVars(const nlohmann::json& expression, std::set<std::string>* out) {
  if (expression.is_array()) {
    for (const nlohmann::json& e : expression)
      CollectVars(e, out);
    return;
  }
  if (!expression.is_object()) return;
  for (const auto& [key, value] : expression.items()) {
    if (key != "var") {
      CollectVars(value, out);
    } else if (value.is_string()) {
      out->insert(value.get<std::string>());
    } else if (value.is_array() && !value.empty() && value[0].is_string()) {
      out->insert(value[0].get<std::string>());
    }
  }
}

class BundleCompiler {
 public:
  using FindItem = std::function<std::shared_ptr<const Item>(const std::string&, int)>;
  using FindCalendar = std::function<std::shared_ptr<const Calendar>(const std::string&)>;

  BundleCompiler(const nlohmann::json& root, const FindItem& find_item,
                 const FindCalendar& find_calendar, const std::vector<std::string>& known_items,
                 DiagnosticSink* sink)
      : root_(root),
        find_item_(find_item),
        find_calendar_(find_calendar),
        known_items_(known_items),
        sink_(sink) {}

  std::shared_ptr<const Bundle> Run() {
    ObjectReader top(root_, "", sink_,
                     {"kind", "id", "version", "title", "description", "lead_organ", "time_limits",
                      "form", "materials", "parts", "notes"});
    if (!top.valid()) return nullptr;
    bundle_.id = top.Slug("id", true).value_or("");
    bundle_.version = static_cast<int>(top.Integer("version", true, 1, 1000000).value_or(1));
    bundle_.title = top.String("title", true).value_or("");
    bundle_.description = top.String("description", false).value_or("");
    bundle_.notes = top.String("notes", false).value_or("");
    ReadLeadOrgan(top);
    ReadTimeLimits(top);
    ReadForm(top);
    if (const nlohmann::json* list = top.Array("materials", false)) {
      bundle_.materials = ReadMaterialList(*list, top.PointerOf("materials"), sink_);
    }
    ReadParts(top);
    ReadStages();
    ResolveDependencies();
    CheckCycles();
    if (sink_->has_errors()) return nullptr;
    CheckIssuedMaterials();
    if (sink_->has_errors()) return nullptr;
    WarnUnused();
    WarnPromise();
    bundle_.content_hash = Sha256Hex(root_.dump());
    return std::make_shared<const Bundle>(std::move(bundle_));
  }

 private:
  void ReadLeadOrgan(ObjectReader& top) {
    const nlohmann::json* organ = top.Object("lead_organ", true);
    if (organ == nullptr) return;
    ObjectReader r(*organ, top.PointerOf("lead_organ"), sink_, {"id", "name"});
    bundle_.lead_organ.id = r.Slug("id", true).value_or("");
    bundle_.lead_organ.name = r.String("name", true).value_or("");
  }

  void ReadTimeLimits(ObjectReader& top) {
    const nlohmann::json* limits = top.Object("time_limits", true);
    if (limits == nullptr) return;
    ObjectReader r(*limits, top.PointerOf("time_limits"), sink_,
                   {"calendar", "promised_days", "promised_unit", "stages", "note"});
    bundle_.calendar_id = r.Slug("calendar", true).value_or("");
    stages_ = r.Array("stages", false);
    stages_pointer_ = r.PointerOf("stages");
    // A bundle promises for the whole, per stage, or both; never nothing.
    bundle_.promised_days =
        static_cast<int>(r.Integer("promised_days", stages_ == nullptr, 1, 3650).value_or(0));
    if (auto unit = r.Enum("promised_unit", false, DayUnitNames())) {
      bundle_.promised_unit = ParseDayUnit(*unit).value_or(DayUnit::kWorkingDays);
    }
    bundle_.time_note = r.String("note", false).value_or("");
    if (!bundle_.calendar_id.empty() && IsSlug(bundle_.calendar_id)) {
      bundle_.calendar = find_calendar_ ? find_calendar_(bundle_.calendar_id) : nullptr;
      if (!bundle_.calendar) {
        sink_->Error(r.PointerOf("calendar"), "unknown-calendar",
                     "unknown calendar \"" + bundle_.calendar_id +
                         "\"; the calendar must be deployed or validated together with the "
                         "bundle (tongban validate --with definitions/calendars)");
      }
    }
  }

  void ReadForm(ObjectReader& top) {
    const nlohmann::json* form = top.Get("form");
    if (form != nullptr && form->is_object()) {
      // The item's shape {"fields": [...]} is the likely slip.
      sink_->Error(top.PointerOf("form"), "wrong-type",
                   "\"form\" must be an array, found an object: a bundle's form is the list of "
                   "fields itself, each written like an element of an item's \"form\".\"fields\"");
      return;
    }
    form = top.Array("form", true);
    if (form == nullptr) return;
    bundle_.form = ReadFormFields(*form, top.PointerOf("form"), sink_);
  }

  void ReadParts(ObjectReader& top) {
    const nlohmann::json* list = top.Array("parts", true);
    if (list == nullptr) return;
    if (list->size() < 2) {
      sink_->Error(top.PointerOf("parts"), "too-few-parts",
                   "a bundle needs at least two parts (found " + std::to_string(list->size()) +
                       "); a single item is applied for on its own");
    }
    // The issued materials are known before any part is read, so that the warnings about what the
    // applicant must supply leave them out whichever part issues them.
    for (const nlohmann::json& part : *list) {
      if (!part.is_object() || !part.contains("issues") || !part.at("issues").is_array()) continue;
      for (const nlohmann::json& m : part.at("issues")) {
        if (m.is_string()) issued_.insert(m.get<std::string>());
      }
    }
    part_pointers_.resize(list->size());
    pending_after_.resize(list->size());
    has_form_map_.resize(list->size(), false);
    has_material_map_.resize(list->size(), false);
    for (size_t i = 0; i < list->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("parts"), i);
      part_pointers_[i] = pointer;
      bundle_.parts.push_back(ReadPart((*list)[i], i, pointer));
    }
  }

  BundlePart ReadPart(const nlohmann::json& value, size_t index, const std::string& pointer) {
    BundlePart part;
    named_fields_.clear();
    named_materials_.clear();
    ObjectReader r(
        value, pointer, sink_,
        {"id", "title", "item", "version", "when", "after", "form", "materials", "issues"});
    if (!r.valid()) return part;
    part.id = r.Slug("id", true).value_or("");
    part.title = r.String("title", true).value_or("");
    if (!part.id.empty()) {
      if (part_index_.count(part.id) != 0) {
        sink_->Error(r.PointerOf("id"), "duplicate-id",
                     "part \"" + part.id + "\" is defined twice");
      } else {
        part_index_[part.id] = index;
      }
    }
    auto item_id = r.Slug("item", true);
    auto version = r.Integer("version", false, 1, 1000000);
    if (item_id && IsSlug(*item_id)) {
      part.item = ResolveItem(*item_id, version, r);
    }
    if (const nlohmann::json* when = r.Get("when")) {
      part.when = CompileGuard(*when, r.PointerOf("when"), bundle_.form, sink_);
      CollectVars(*when, &guard_fields_);
    }
    if (const nlohmann::json* after = r.Array("after", false)) {
      for (size_t a = 0; a < after->size(); ++a) {
        std::string ap = JoinJsonPointer(r.PointerOf("after"), a);
        if (!(*after)[a].is_string()) {
          sink_->Error(ap, "wrong-type",
                       "a dependency is the id of another part (a string), found " +
                           JsonTypeName((*after)[a]));
          continue;
        }
        pending_after_[index].push_back({(*after)[a].get<std::string>(), ap});
      }
    }
    if (const nlohmann::json* form = r.Object("form", false)) {
      has_form_map_[index] = true;
      ReadFormMap(*form, r.PointerOf("form"), &part);
    }
    if (const nlohmann::json* materials = r.Object("materials", false)) {
      has_material_map_[index] = true;
      ReadMaterialMap(*materials, r.PointerOf("materials"), &part);
    }
    if (const nlohmann::json* issues = r.Array("issues", false)) {
      ReadIssues(*issues, r.PointerOf("issues"), index, &part);
    }
    if (part.item) CompleteMapping(pointer, index, &part);
    return part;
  }

  void ReadIssues(const nlohmann::json& list, const std::string& pointer, size_t index,
                  BundlePart* part) {
    for (size_t k = 0; k < list.size(); ++k) {
      const std::string entry = JoinJsonPointer(pointer, k);
      if (!list[k].is_string()) {
        sink_->Error(entry, "wrong-type",
                     "an issued material is the id of a bundle material (a string), found " +
                         JsonTypeName(list[k]));
        continue;
      }
      const std::string id = list[k].get<std::string>();
      if (bundle_.FindMaterial(id) == nullptr) {
        sink_->Error(entry, "unknown-material",
                     "unknown bundle material \"" + id + "\"" +
                         DidYouMean(id, MaterialIds(bundle_.materials)));
        continue;
      }
      if (!issuer_of_.emplace(id, index).second) {
        sink_->Error(entry, "duplicate-id",
                     "bundle material \"" + id +
                         "\" is issued twice; a material is issued by one part, once");
        continue;
      }
      part->issues.push_back(id);
    }
  }

  std::shared_ptr<const Item> ResolveItem(const std::string& item_id,
                                          std::optional<int64_t> version, ObjectReader& r) {
    std::shared_ptr<const Item> item =
        find_item_ ? find_item_(item_id, static_cast<int>(version.value_or(0))) : nullptr;
    if (item) return item;
    std::shared_ptr<const Item> latest = (version && find_item_) ? find_item_(item_id, 0) : nullptr;
    if (latest) {
      sink_->Error(r.PointerOf("version"), "unknown-item",
                   "item \"" + item_id + "\" has no version " + std::to_string(*version) +
                       "; the latest known is version " + std::to_string(latest->version));
      return nullptr;
    }
    sink_->Error(r.PointerOf("item"), "unknown-item",
                 "unknown item \"" + item_id + "\"" + DidYouMean(item_id, known_items_) +
                     " (the item must be deployed or validated together with the bundle: "
                     "tongban validate --with definitions/items)");
    return nullptr;
  }

  // Explicit form mappings: item field id → {"field": bundle field id} or {"value": constant}.
  void ReadFormMap(const nlohmann::json& map, const std::string& pointer, BundlePart* part) {
    const Item* item = part->item.get();
    for (const auto& [item_field_id, source] : map.items()) {
      named_fields_.insert(item_field_id);
      std::string entry = JoinJsonPointer(pointer, item_field_id);
      const FormField* item_field = item ? item->FindField(item_field_id) : nullptr;
      if (item != nullptr && item_field == nullptr) {
        sink_->Error(entry, "unknown-field",
                     "item \"" + item->id + "\" has no form field \"" + item_field_id + "\"" +
                         DidYouMean(item_field_id, FieldIds(item->form)));
      }
      ObjectReader s(source, entry, sink_, {"field", "value"});
      if (!s.valid()) continue;
      if (s.Has("field") == s.Has("value")) {
        sink_->Error(entry, "map-source",
                     "the mapping of \"" + item_field_id +
                         "\" needs exactly one of \"field\" (a field of the bundle's form) or "
                         "\"value\" (a constant)");
        continue;
      }
      if (s.Has("value")) {
        const nlohmann::json& constant = *s.Get("value");
        if (item_field != nullptr)
          CheckConstant(*item_field, *item, constant, s.PointerOf("value"));
        part->form_map[item_field_id] = {"", constant};
        continue;
      }
      auto bundle_field_id = s.String("field", true);
      if (!bundle_field_id || bundle_field_id->empty()) continue;
      const FormField* bundle_field = bundle_.FindField(*bundle_field_id);
      if (bundle_field == nullptr) {
        sink_->Error(s.PointerOf("field"), "unknown-field",
                     "the bundle's form has no field \"" + *bundle_field_id + "\"" +
                         DidYouMean(*bundle_field_id, FieldIds(bundle_.form)));
        continue;
      }
      if (item_field != nullptr) {
        CheckFeeds(*bundle_field, *item_field, *item, s.PointerOf("field"), "");
      }
      part->form_map[item_field_id] = {*bundle_field_id, nullptr};
    }
  }

  // Explicit material mappings: item material id → bundle material id.
  void ReadMaterialMap(const nlohmann::json& map, const std::string& pointer, BundlePart* part) {
    const Item* item = part->item.get();
    for (const auto& [item_material_id, source] : map.items()) {
      named_materials_.insert(item_material_id);
      std::string entry = JoinJsonPointer(pointer, item_material_id);
      const Material* item_material = item ? item->FindMaterial(item_material_id) : nullptr;
      if (item != nullptr && item_material == nullptr) {
        sink_->Error(entry, "unknown-material",
                     "item \"" + item->id + "\" has no material \"" + item_material_id + "\"" +
                         DidYouMean(item_material_id, MaterialIds(item->materials)));
      }
      if (!source.is_string()) {
        sink_->Error(entry, "wrong-type",
                     "a material mapping is the id of a bundle material (a string), found " +
                         JsonTypeName(source));
        continue;
      }
      std::string bundle_material_id = source.get<std::string>();
      const Material* bundle_material = bundle_.FindMaterial(bundle_material_id);
      if (bundle_material == nullptr) {
        sink_->Error(entry, "unknown-material",
                     "the bundle has no material \"" + bundle_material_id + "\"" +
                         DidYouMean(bundle_material_id, MaterialIds(bundle_.materials)));
        continue;
      }
      if (item_material != nullptr) {
        WarnOptionalMaterial(*bundle_material, *item_material, *item, entry);
      }
      part->material_map[item_material_id] = bundle_material_id;
    }
  }

  // Adds the implicit same-id mappings and checks that everything the item requires is supplied.
  // An item field or material the part's maps name is not mapped implicitly, even when its entry
  // was wrong (that entry's own error says what to fix).
  void CompleteMapping(const std::string& pointer, size_t index, BundlePart* part) {
    const Item& item = *part->item;
    std::string form_pointer = has_form_map_[index] ? JoinJsonPointer(pointer, "form") : pointer;
    for (const FormField& item_field : item.form) {
      if (named_fields_.count(item_field.id) != 0) continue;
      if (const FormField* bundle_field = bundle_.FindField(item_field.id)) {
        if (CheckFeeds(*bundle_field, item_field, item, pointer, " (mapped by the same id)")) {
          part->form_map[item_field.id] = {bundle_field->id, nullptr};
        }
        continue;
      }
      if (item_field.required) {
        sink_->Error(form_pointer, "unmapped-field",
                     "required form field \"" + item_field.id + "\" (" + item_field.label +
                         ") of item \"" + item.id +
                         "\" gets no value: the bundle's form has no field of that id and the "
                         "part's \"form\" does not map it");
      }
    }
    std::string materials_pointer =
        has_material_map_[index] ? JoinJsonPointer(pointer, "materials") : pointer;
    for (const Material& item_material : item.materials) {
      if (named_materials_.count(item_material.id) != 0) continue;
      if (const Material* bundle_material = bundle_.FindMaterial(item_material.id)) {
        WarnOptionalMaterial(*bundle_material, item_material, item, pointer);
        part->material_map[item_material.id] = bundle_material->id;
        continue;
      }
      if (item_material.necessity == Necessity::kRequired) {
        sink_->Error(materials_pointer, "unmapped-material",
                     "required material \"" + item_material.id + "\" (" + item_material.name +
                         ") of item \"" + item.id +
                         "\" is supplied by no bundle material: the bundle has no material of "
                         "that id and the part's \"materials\" does not map it");
      }
    }
  }

  // Whether `from` (a bundle field) may fill `to` (an item field); reports when not. Also warns
  // when a required item field is filled from an optional bundle field.
  bool CheckFeeds(const FormField& from, const FormField& to, const Item& item,
                  const std::string& pointer, const std::string& how) {
    std::string target = "form field \"" + to.id + "\" of item \"" + item.id + "\"";
    bool same_type = from.type == to.type;
    bool enum_to_string = from.type == FieldType::kEnum && to.type == FieldType::kString;
    if (!same_type && !enum_to_string) {
      sink_->Error(pointer, "incompatible-field",
                   "bundle form field \"" + from.id + "\" (" + FieldTypeName(from.type) +
                       ") cannot fill " + target + " (" + FieldTypeName(to.type) + ")" + how +
                       "; map a field of the same type");
      return false;
    }
    if (same_type && from.type == FieldType::kEnum) {
      std::vector<std::string> missing;
      for (const std::string& v : from.values) {
        if (std::find(to.values.begin(), to.values.end(), v) == to.values.end()) {
          missing.push_back(Quoted(v));
        }
      }
      if (!missing.empty()) {
        std::string list;
        for (const std::string& m : missing)
          list += (list.empty() ? "" : ", ") + m;
        sink_->Error(pointer, "incompatible-field",
                     "bundle enum field \"" + from.id + "\" may hold " + list +
                         ", which is not a value of " + target + how +
                         "; the bundle field's values must be a subset of the item field's");
        return false;
      }
    }
    if (to.required && !from.required) {
      sink_->Warning(pointer, "optional-feeds-required",
                     "required " + target + " is filled from the optional bundle field \"" +
                         from.id + "\"" + how +
                         ": an application without it is incomplete for this item; make \"" +
                         from.id + "\" required");
    }
    return true;
  }

  void CheckConstant(const FormField& field, const Item& item, const nlohmann::json& value,
                     const std::string& pointer) {
    std::string target = "form field \"" + field.id + "\" of item \"" + item.id + "\"";
    if (!ValueHasFieldType(field.type, value)) {
      sink_->Error(pointer, "incompatible-constant",
                   "the constant for " + target + " must be a " + FieldTypeName(field.type) +
                       " value, found " + JsonTypeName(value));
      return;
    }
    if (!value.is_string()) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (field.type == FieldType::kDate && !IsIsoDate(text)) {
      sink_->Error(
          pointer, "incompatible-constant",
          "\"" + text + "\" is not a date (YYYY-MM-DD), but is the constant for " + target);
    } else if (field.type == FieldType::kEnum &&
               std::find(field.values.begin(), field.values.end(), text) == field.values.end()) {
      sink_->Error(pointer, "incompatible-constant",
                   "\"" + text + "\" is not one of the values of enum " + target +
                       DidYouMean(text, field.values));
    }
  }

  void WarnOptionalMaterial(const Material& from, const Material& to, const Item& item,
                            const std::string& pointer) {
    if (to.necessity != Necessity::kRequired || from.necessity == Necessity::kRequired) return;
    if (issued_.count(from.id) != 0) return;  // a part issues it; CheckIssuedMaterials checks who
    sink_->Warning(pointer, "optional-feeds-required",
                   "required material \"" + to.id + "\" of item \"" + item.id +
                       "\" is supplied by the " + NecessityName(from.necessity) +
                       " bundle material \"" + from.id +
                       "\": an application without it is incomplete for this item; make \"" +
                       from.id + "\" required");
  }

  void ResolveDependencies() {
    std::vector<std::string> ids;
    for (const BundlePart& p : bundle_.parts) {
      if (!p.id.empty()) ids.push_back(p.id);
    }
    for (size_t i = 0; i < bundle_.parts.size(); ++i) {
      std::set<std::string> seen;
      for (const auto& [name, pointer] : pending_after_[i]) {
        if (!seen.insert(name).second) {
          sink_->Error(pointer, "duplicate-id", "part \"" + name + "\" is listed twice");
          continue;
        }
        auto it = part_index_.find(name);
        if (it == part_index_.end()) {
          sink_->Error(pointer, "unknown-part",
                       "unknown part \"" + name + "\"" + DidYouMean(name, ids));
          continue;
        }
        if (it->second == i) {
          sink_->Error(pointer, "self-dependency", "part \"" + name + "\" cannot wait for itself");
          continue;
        }
        bundle_.parts[i].after.push_back(it->second);
      }
    }
  }

  // Reports each cycle of "after" once, at the "after" of its first part in definition order.
  void CheckCycles() {
    const size_t n = bundle_.parts.size();
    std::vector<int> color(n, 0);  // 0 new, 1 on the stack, 2 done
    std::vector<size_t> stack;
    std::set<std::set<size_t>> reported;
    std::function<void(size_t)> visit = [&](size_t v) {
      color[v] = 1;
      stack.push_back(v);
      for (size_t w : bundle_.parts[v].after) {
        if (color[w] == 0) {
          visit(w);
        } else if (color[w] == 1) {
          auto from = std::find(stack.begin(), stack.end(), w);
          std::vector<size_t> cycle(from, stack.end());
          std::set<size_t> key(cycle.begin(), cycle.end());
          if (!reported.insert(key).second) continue;
          // Start the description at the part defined first, so the message is stable.
          auto first = std::min_element(cycle.begin(), cycle.end());
          std::rotate(cycle.begin(), first, cycle.end());
          std::string path;
          for (size_t p : cycle)
            path += Quoted(bundle_.parts[p].id) + " → ";
          path += Quoted(bundle_.parts[cycle.front()].id);
          sink_->Error(JoinJsonPointer(part_pointers_[cycle.front()], "after"), "dependency-cycle",
                       "the parts wait for each other in a cycle, so none of them can start: " +
                           path + " (each waits for the next)");
        }
      }
      stack.pop_back();
      color[v] = 2;
    };
    for (size_t i = 0; i < n; ++i) {
      if (color[i] == 0) visit(i);
    }
  }

  // A part supplied an issued material must wait for its issuer, or it would start without it.
  // Runs on an acyclic "after".
  void CheckIssuedMaterials() {
    for (const auto& issued : issuer_of_) {
      // Named, not a structured binding: clang before 16 cannot capture those in a lambda.
      const std::string& material = issued.first;
      const size_t issuer = issued.second;
      const std::string& issuer_id = bundle_.parts[issuer].id;
      for (size_t i = 0; i < bundle_.parts.size(); ++i) {
        const BundlePart& part = bundle_.parts[i];
        const bool supplied =
            std::any_of(part.material_map.begin(), part.material_map.end(),
                        [&](const auto& entry) { return entry.second == material; });
        if (!supplied) continue;
        if (i == issuer) {
          sink_->Error(JoinJsonPointer(part_pointers_[i], "issues"), "issued-before-use",
                       "part \"" + part.id + "\" is supplied bundle material \"" + material +
                           "\", which it issues itself: no application could include it");
        } else if (!WaitsFor(i, issuer)) {
          sink_->Error(part_pointers_[i], "issued-before-use",
                       "part \"" + part.id + "\" is supplied bundle material \"" + material +
                           "\", which part \"" + issuer_id +
                           "\" issues, but does not wait for it: add \"" + issuer_id +
                           "\" to its \"after\"");
        }
      }
    }
  }

  // Whether part `from` waits for part `to` through "after", directly or not.
  bool WaitsFor(size_t from, size_t to) const {
    std::vector<size_t> stack = bundle_.parts[from].after;
    std::set<size_t> seen;
    while (!stack.empty()) {
      size_t p = stack.back();
      stack.pop_back();
      if (p == to) return true;
      if (!seen.insert(p).second) continue;
      stack.insert(stack.end(), bundle_.parts[p].after.begin(), bundle_.parts[p].after.end());
    }
    return false;
  }

  void WarnUnused() {
    std::set<std::string> used_fields = guard_fields_;
    std::set<std::string> used_materials;
    for (const BundlePart& part : bundle_.parts) {
      for (const auto& [unused, source] : part.form_map) {
        if (!source.bundle_field.empty()) used_fields.insert(source.bundle_field);
      }
      for (const auto& [unused, bundle_material] : part.material_map)
        used_materials.insert(bundle_material);
    }
    for (size_t i = 0; i < bundle_.form.size(); ++i) {
      const FormField& f = bundle_.form[i];
      if (used_fields.count(f.id) != 0) continue;
      sink_->Warning(JoinJsonPointer("/form", i), "unused-field",
                     "bundle form field \"" + f.id +
                         "\" is used by no part: no item field is filled from it and no \"when\" "
                         "reads it; the applicant would fill it in for nothing");
    }
    for (size_t i = 0; i < bundle_.materials.size(); ++i) {
      const Material& m = bundle_.materials[i];
      if (used_materials.count(m.id) != 0) continue;
      sink_->Warning(JoinJsonPointer("/materials", i), "unused-material",
                     "bundle material \"" + m.id +
                         "\" is supplied to no part: no item material is mapped from it");
    }
  }

  // Stages: each a group of parts with a promise of its own; a part belongs to one stage at most.
  void ReadStages() {
    if (stages_ == nullptr) return;
    if (stages_->empty()) {
      sink_->Error(stages_pointer_, "empty-list",
                   "\"stages\" is empty: list the stages, or leave the key out");
      return;
    }
    std::map<std::string, size_t> stage_of_part;
    std::set<std::string> ids;
    for (size_t i = 0; i < stages_->size(); ++i) {
      std::string pointer = JoinJsonPointer(stages_pointer_, i);
      ObjectReader r((*stages_)[i], pointer, sink_,
                     {"id", "title", "parts", "promised_days", "promised_unit", "note"});
      if (!r.valid()) continue;
      BundleStage stage;
      stage.id = r.Slug("id", true).value_or("");
      stage.title = r.String("title", true).value_or("");
      stage.promised_days = static_cast<int>(r.Integer("promised_days", true, 1, 3650).value_or(0));
      if (auto unit = r.Enum("promised_unit", false, DayUnitNames())) {
        stage.promised_unit = ParseDayUnit(*unit).value_or(DayUnit::kWorkingDays);
      }
      r.String("note", false);
      if (!stage.id.empty() && !ids.insert(stage.id).second) {
        sink_->Error(r.PointerOf("id"), "duplicate-id",
                     "stage \"" + stage.id + "\" is defined twice");
      }
      if (const nlohmann::json* parts = r.Array("parts", true)) {
        if (parts->empty()) {
          sink_->Error(r.PointerOf("parts"), "empty-list", "a stage needs at least one part");
        }
        for (size_t k = 0; k < parts->size(); ++k) {
          std::string part_pointer = JoinJsonPointer(r.PointerOf("parts"), k);
          const nlohmann::json& v = (*parts)[k];
          std::string name = v.is_string() ? v.get<std::string>() : "";
          auto it = part_index_.find(name);
          if (it == part_index_.end()) {
            std::string message = "stage \"" + stage.id + "\" names no part \"" + name + "\"";
            std::vector<std::string> names;
            for (const auto& [id, index] : part_index_)
              names.push_back(id);
            std::string suggestion = ClosestMatch(name, names);
            if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
            sink_->Error(part_pointer, "unknown-part", message);
            continue;
          }
          auto [previous, fresh] = stage_of_part.insert({name, i});
          if (!fresh) {
            sink_->Error(part_pointer, "duplicate-id",
                         "part \"" + name + "\" is already in stage " +
                             std::to_string(previous->second) +
                             ": a part belongs to one stage at most");
            continue;
          }
          stage.parts.push_back(it->second);
        }
      }
      bundle_.stages.push_back(std::move(stage));
    }
  }

  // Parts that wait for others run after them, so their promises add up along a chain of "after";
  // the longest chain is what the items promise for the whole bundle.
  void WarnPromise() {
    if (bundle_.promised_days == 0) return;  // promises per stage only
    const size_t n = bundle_.parts.size();
    std::vector<int> finish(n, -1);
    std::vector<std::optional<size_t>> via(n);
    std::function<int(size_t)> days = [&](size_t p) {
      if (finish[p] >= 0) return finish[p];
      int before = 0;
      for (size_t d : bundle_.parts[p].after) {
        int f = days(d);
        if (!via[p] || f > before) {
          via[p] = d;
          before = f;
        }
      }
      finish[p] = before + bundle_.parts[p].item->time_limits.promised_days;
      return finish[p];
    };
    if (n == 0) return;
    size_t last = 0;
    for (size_t p = 0; p < n; ++p) {
      if (days(p) > days(last)) last = p;
    }
    if (finish[last] <= bundle_.promised_days) return;
    std::vector<size_t> chain;
    for (std::optional<size_t> p = last; p; p = via[*p])
      chain.insert(chain.begin(), *p);
    std::string what;
    if (chain.size() == 1) {
      const BundlePart& part = bundle_.parts[chain[0]];
      what = "part \"" + part.id + "\" (item \"" + part.item->id + "\") alone promises " +
             std::to_string(finish[last]);
    } else {
      std::string path;
      for (size_t p : chain) {
        const BundlePart& part = bundle_.parts[p];
        path += (path.empty() ? "" : " → ") + Quoted(part.id) + " (" +
                std::to_string(part.item->time_limits.promised_days) + ")";
      }
      what = "the parts " + path + " run one after another and promise " +
             std::to_string(finish[last]) + " together";
    }
    sink_->Warning("/time_limits/promised_days", "promise-below-parts",
                   "the bundle promises " + std::to_string(bundle_.promised_days) +
                       " working day(s), but " + what +
                       ": a promise the bundle cannot keep unless the items are handled faster "
                       "than they promise");
  }

  static std::vector<std::string> FieldIds(const std::vector<FormField>& form) {
    std::vector<std::string> ids;
    for (const FormField& f : form)
      ids.push_back(f.id);
    return ids;
  }
  static std::vector<std::string> MaterialIds(const std::vector<Material>& materials) {
    std::vector<std::string> ids;
    for (const Material& m : materials)
      ids.push_back(m.id);
    return ids;
  }

  const nlohmann::json& root_;
  const FindItem& find_item_;
  const FindCalendar& find_calendar_;
  const std::vector<std::string>& known_items_;
  DiagnosticSink* sink_;
  Bundle bundle_;
  std::map<std::string, size_t> part_index_;
  const nlohmann::json* stages_ = nullptr;
  std::string stages_pointer_;
  std::vector<std::string> part_pointers_;
  std::vector<std::vector<std::pair<std::string, std::string>>> pending_after_;
  std::vector<bool> has_form_map_;
  std::vector<bool> has_material_map_;
  std::set<std::string> guard_fields_;
  // Bundle material ids some part issues: all of them, read before the parts; and those read so
  // far that were valid, with the index of the part issuing each.
  std::set<std::string> issued_;
  std::map<std::string, size_t> issuer_of_;
  // The keys of the part being read's "form" and "materials" maps.
  std::set<std::string> named_fields_;
  std::set<std::string> named_materials_;
};

}  // namespace

const BundlePart* Bundle::FindPart(const std::string& part_id) const {
  auto index = PartIndex(part_id);
  return index ? &parts[*index] : nullptr;
}

std::optional<size_t> Bundle::PartIndex(const std::string& part_id) const {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].id == part_id) return i;
  }
  return std::nullopt;
}

const FormField* Bundle::FindField(const std::string& field_id) const {
  return FindFormField(form, field_id);
}

const Material* Bundle::FindMaterial(const std::string& material_id) const {
  return FindMaterialIn(materials, material_id);
}

nlohmann::json Bundle::MapForm(const BundlePart& part, const nlohmann::json& bundle_form) const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [item_field, source] : part.form_map) {
    if (source.bundle_field.empty()) {
      out[item_field] = source.constant;
      continue;
    }
    if (!bundle_form.is_object()) continue;
    auto it = bundle_form.find(source.bundle_field);
    if (it == bundle_form.end() || it->is_null()) continue;
    out[item_field] = *it;
  }
  return out;
}

std::vector<std::string> Bundle::MapMaterials(
    const BundlePart& part, const std::vector<std::string>& bundle_materials) const {
  std::vector<std::string> out;
  auto supplied = [&](const std::string& id) {
    return std::find(bundle_materials.begin(), bundle_materials.end(), id) !=
           bundle_materials.end();
  };
  // In the item's own order, so that the result reads like the item's material list.
  if (part.item) {
    for (const Material& m : part.item->materials) {
      auto it = part.material_map.find(m.id);
      if (it != part.material_map.end() && supplied(it->second)) out.push_back(m.id);
    }
    return out;
  }
  for (const auto& [item_material, bundle_material] : part.material_map) {
    if (supplied(bundle_material)) out.push_back(item_material);
  }
  return out;
}

std::vector<std::string> Bundle::BundleMaterialsFor(
    const BundlePart& part, const std::vector<std::string>& item_materials) const {
  std::vector<std::string> out;
  for (const std::string& id : item_materials) {
    auto it = part.material_map.find(id);
    const std::string& bundle_id = it == part.material_map.end() ? id : it->second;
    if (std::find(out.begin(), out.end(), bundle_id) == out.end()) out.push_back(bundle_id);
  }
  return out;
}

std::shared_ptr<const Bundle> CompileBundle(
    const nlohmann::json& root,
    const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
    const std::function<std::shared_ptr<const Calendar>(const std::string&)>& find_calendar,
    DiagnosticSink* sink, const std::vector<std::string>& known_items) {
  BundleCompiler compiler(root, find_item, find_calendar, known_items, sink);
  return compiler.Run();
}

nlohmann::json BundleSummaryJson(const Bundle& bundle) {
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePart& part : bundle.parts) {
    nlohmann::json after = nlohmann::json::array();
    for (size_t a : part.after)
      after.push_back(bundle.parts[a].id);
    nlohmann::json p = {{"id", part.id}, {"title", part.title}, {"after", after}};
    if (part.item) {
      p["item"] = part.item->id;
      p["item_version"] = part.item->version;
      p["item_title"] = part.item->title;
      p["organ"] = {{"id", part.item->organ.id}, {"name", part.item->organ.name}};
      p["promised_days"] = part.item->time_limits.promised_days;
    }
    if (part.when) p["when"] = part.when->source();
    parts.push_back(p);
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const BundleStage& stage : bundle.stages) {
    nlohmann::json ids = nlohmann::json::array();
    for (size_t i : stage.parts)
      ids.push_back(bundle.parts[i].id);
    stages.push_back({{"id", stage.id},
                      {"title", stage.title},
                      {"parts", ids},
                      {"promised_days", stage.promised_days},
                      {"promised_unit", DayUnitName(stage.promised_unit)}});
  }
  return {{"id", bundle.id},
          {"version", bundle.version},
          {"title", bundle.title},
          {"lead_organ", {{"id", bundle.lead_organ.id}, {"name", bundle.lead_organ.name}}},
          {"calendar", bundle.calendar_id},
          {"promised_days", bundle.promised_days},
          {"promised_unit", DayUnitName(bundle.promised_unit)},
          {"stages", stages},
          {"parts", parts},
          {"content_hash", bundle.content_hash}};
}

}  // namespace tongban
