// BundleCase: the parent case of a "one thing" application (一件事集成办).
//
// A bundle case is a case of its own, with its own hash-chained events, whose children are ordinary
// item cases (one per part that applies), each running its own life cycle and clock. The parent
// records what happens to the bundle as a whole — the application, each change of a child's status
// (so the parent's history shows the whole bundle), the combined supply of corrections, delivery
// together — and its status is derived from its children:
//   submitted            every child is still waiting for acceptance
//   correction_pending   some child waits for the applicant (one combined correction notice)
//   in_progress          otherwise, while some part is open or still waiting for its dependencies
//   ready                every part is decided or has ended (or is blocked): deliver together
//   delivered            the results were delivered together
//   withdrawn            the applicant withdrew the bundle
// A part waits ("waiting") until every part it comes after is approved; it is "blocked" when one of
// them ends without approval; "not_applicable" when its guard does not hold for the form;
// "awaiting_input" when it was due to start but its item refused the application mapped from the
// bundle's form (a field only known after an earlier part, such as the credit code issued at
// registration): the applicant supplies it with supply_form, and the part starts then.
//
// Events (actions): submit, part_changed (system: a child was created or changed status),
// supply_correction, supply_form, deliver, withdraw. Like item cases, the state is rebuilt from
// events alone.
//
// Thread safety: plain value types; a BundleCase belongs to one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/event.h"
#include "engine/lifecycle.h"
#include "workflows/bundle.h"
#include "workflows/status.h"

namespace tongban {

struct BundlePartState {
  std::string part;
  std::string item_id;
  int item_version = 0;
  bool applies = true;
  std::string status;  // not_applicable, waiting, blocked, or the child's case status code
  std::string case_id;
  std::string case_number;
  std::string decision;  // the child's decision ("approve", "deny"), kept after delivery
  std::vector<std::string> missing_materials;  // the child's pending correction, item material ids
  std::string note;  // why a part awaits input: what its item refused in the mapped application

  bool approved() const;  // decided to grant (approved, or delivered after a grant)
  bool ended() const;     // decided, ended, blocked or not applicable: nothing more will happen
};

struct BundleState {
  std::string id;
  std::string number;
  std::string query_code;
  std::string definition_id;
  int definition_version = 0;
  std::string organ_id;  // the lead organ
  std::string applicant_id;
  std::string applicant_name;
  std::string applicant_credit_code;
  nlohmann::json form = nlohmann::json::object();
  std::vector<std::string> materials;  // bundle material ids supplied
  std::vector<BundlePartState> parts;  // in the bundle's part order
  Instant created_at{};
  Instant updated_at{};
  std::optional<Instant> delivered_at;
  std::optional<Instant> withdrawn_at;
  int64_t version = 0;
  std::string last_hash;

  std::string Status() const;
  // "approved" when every applicable part was approved, "partial" when some were, "none".
  std::string Outcome() const;
  const BundlePartState* FindPart(const std::string& part) const;
  BundlePartState* FindPart(const std::string& part);
  // Bundle material ids of the combined correction notice (every child's missing materials,
  // mapped back to the bundle's materials, each once).
  std::vector<std::string> CombinedCorrection(const Bundle& bundle) const;
  // Parts whose dependencies are all approved and that wait ("waiting", and with
  // `including_awaiting_input` also "awaiting_input"): the children to create next.
  std::vector<std::string> ReadyToRelease(const Bundle& bundle,
                                          bool including_awaiting_input = false) const;
};

class BundleCase {
 public:
  explicit BundleCase(std::shared_ptr<const Bundle> bundle) : bundle_(std::move(bundle)) {}

  // The first command: data {case: {id, number, query_code}, applicant, form, materials,
  // parts: [{part, applies, status, case_id, case_number}]} — the plan the engine worked out.
  Status Submit(const Command& command);
  // part_changed {part, case_id, case_number, status, missing, issued (the materials a part
  // approved just now issues: Bundle's "issues")}; supply_correction {materials}; deliver;
  // withdraw. The engine has already applied the matching child commands.
  Status Apply(const Command& command);

  const BundleState& state() const { return state_; }
  BundleState& mutable_state() { return state_; }
  const Bundle& bundle() const { return *bundle_; }
  std::shared_ptr<const Bundle> bundle_ptr() const { return bundle_; }

 private:
  void PropagateBlocked();
  // Adds the material ids listed to the bundle's materials, each once. Throws on a non-string, as
  // the JSON accessors of Apply do.
  void AddMaterials(const nlohmann::json& ids);

  std::shared_ptr<const Bundle> bundle_;
  BundleState state_;
};

nlohmann::json BundleStateToJson(const BundleState& state);

}  // namespace tongban
