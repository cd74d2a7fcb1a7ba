// Bundle: the compiled form of a "bundle" definition — "one thing" integrated handling
// (一件事集成办): one application form and one set of materials for several items handled together.
//
// A bundle names its parts: each part is one item, with a guard over the bundle's form that decides
// whether the part applies (no employees → no social-insurance registration), the parts it must
// wait for (serial dependencies; parts without dependencies run in parallel), and how the bundle's
// form fields and materials map onto the item's. A material needed by several items is supplied
// once and mapped to each. The bundle has a lead organ (牵头部门) and promised time limits of its
// own: one for the whole bundle, and/or one per stage (a group of parts, e.g. the permit stage and
// the acceptance stage of a construction project), each running from the acceptance of the stage's
// first part to its parts' decisions, so that time no organ holds (the construction itself, the
// applicant's materials) is never promised.
//
// The compiler checks that every part's item exists, that the mapping covers every required field
// of each item's form with a field of a compatible type, that every required material of each item
// is mapped from a bundle material, that dependencies name parts and have no cycle, and that guards
// are typed against the bundle's form.
//
// Mapping. An item form field named in the part's "form" takes its value from the bundle field or
// the constant given there; any other item field takes the bundle field of the same id, if the
// bundle's form has one. Materials likewise ("materials": item material id → bundle material id,
// else the bundle material of the same id). A bundle field may fill an item field of the same type;
// an enum bundle field may also fill an enum item field whose values include all of its values, or
// a string item field. A constant must be a value of the item field's type (an enum constant one of
// its values, a date constant a real date).
//
// Issued materials. A part may name bundle materials its grant issues ("issues": the business
// licence of a registration). A part that is supplied such a material must wait for its issuer
// (through "after", directly or not), and a part cannot be supplied what it issues itself; a
// material is issued by one part at most.
//
// Warnings (the bundle still compiles): a required item field or material supplied from an
// optional bundle one (not for an issued material, which the applicant need not supply); a bundle
// field or material no part uses (fields read by a "when" count as used); a bundle promise shorter
// than the promises of the items along its longest chain of "after" dependencies (with no
// dependencies: the largest single promise).
//
// Thread safety: immutable after compilation.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/calendar.h"
#include "workflows/diagnostics.h"
#include "workflows/guard.h"
#include "workflows/item.h"

namespace tongban {

struct BundlePart {
  std::string id;  // the part's id within the bundle ("registration")
  std::string title;
  std::shared_ptr<const Item> item;   // resolved at compile time (the version named, or latest)
  std::shared_ptr<const Guard> when;  // null: the part always applies
  std::vector<size_t> after;          // indices into Bundle::parts that must be approved first
  // item form field id → where its value comes from: a bundle form field ("field") or a constant.
  // Holds the explicit mappings and the implicit same-id ones; item fields without either are
  // absent (only optional fields can be).
  struct FieldSource {
    std::string bundle_field;  // empty when `constant` is used
    nlohmann::json constant;
  };
  std::map<std::string, FieldSource> form_map;
  // item material id → bundle material id, explicit and implicit (same id) alike.
  std::map<std::string, std::string> material_map;
  // Bundle material ids this part's grant issues (证照共享: the registration part issues the
  // business licence). Once the part is approved they count as supplied, so the parts after it
  // receive them without the applicant supplying them.
  std::vector<std::string> issues;
};

// A stage's promise: from the day its first part is accepted to the day its last part is decided.
struct BundleStage {
  std::string id;
  std::string title;
  std::vector<size_t> parts;  // indices into Bundle::parts
  int promised_days = 0;
  DayUnit promised_unit = DayUnit::kWorkingDays;
};

struct Bundle {
  std::string id;
  int version = 1;
  std::string title;
  std::string description;
  Organ lead_organ;
  // The bundle's own promise, from submission until every part is decided, on `calendar`; 0 when
  // the bundle promises per stage only.
  std::string calendar_id;
  std::shared_ptr<const Calendar> calendar;
  int promised_days = 0;
  DayUnit promised_unit = DayUnit::kWorkingDays;
  std::vector<BundleStage> stages;
  std::string time_note;
  std::vector<FormField> form;
  std::vector<Material> materials;
  std::vector<BundlePart> parts;  // in definition order; `after` may point either way, acyclic
  std::string notes;
  std::string content_hash;  // SHA-256 of the canonical JSON, hex

  const BundlePart* FindPart(const std::string& part_id) const;
  std::optional<size_t> PartIndex(const std::string& part_id) const;
  const FormField* FindField(const std::string& field_id) const;
  const Material* FindMaterial(const std::string& material_id) const;

  // The item form for `part` built from the bundle form (fields the bundle form lacks or holds null
  // are left out; constants are always set).
  nlohmann::json MapForm(const BundlePart& part, const nlohmann::json& bundle_form) const;
  // The item material ids for `part` among the bundle material ids supplied, in the item's order.
  std::vector<std::string> MapMaterials(const BundlePart& part,
                                        const std::vector<std::string>& bundle_materials) const;
  // The bundle material ids that supply `item_materials` of `part` (the reverse mapping, for the
  // combined correction notice); ids without a mapping are returned unchanged, duplicates once.
  std::vector<std::string> BundleMaterialsFor(const BundlePart& part,
                                              const std::vector<std::string>& item_materials) const;
};

// Compiles a "bundle". `find_item(id, version)` resolves items (version 0: latest);
// `find_calendar` resolves the bundle's calendar. `known_items`, the item ids that exist, only
// feeds "did you mean" for an unknown item. Reports every problem into `sink`; returns null on
// errors.
std::shared_ptr<const Bundle> CompileBundle(
    const nlohmann::json& root,
    const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
    const std::function<std::shared_ptr<const Calendar>(const std::string&)>& find_calendar,
    DiagnosticSink* sink, const std::vector<std::string>& known_items = {});

// {id, version, title, lead_organ, calendar, promised_days, promised_unit, stages: [{id, title,
// parts, promised_days, promised_unit}], content_hash, parts: [{id, title, after: [part ids], item,
// item_version, item_title, organ, promised_days, when?}]}.
nlohmann::json BundleSummaryJson(const Bundle& bundle);

}  // namespace tongban
