// DefinitionRegistry: the compiled definitions a running engine knows, backed by the store.
//
// Every deployed definition version is stored immutably; a case stays on the item version it
// started on, so the registry keeps every version compiled, not only the latest — items, bundles,
// delegation lists and handling agreement lists alike. Calendars resolve to their latest deployed
// version, so that adding next year's holiday notice reaches running cases. A bundle or agreements
// list that names an item without a version resolves it to the latest version deployed at or
// before its own deployment: a later item version does not change what a deployed bundle means
// (deploy a new bundle version to take it up).
//
// New texts are compiled with everything deployed as context, so a bundle whose items are
// deployed, or an agreements list whose delegations are, deploys on its own. Deployment is refused
// when it would make a deployed definition stop compiling, so the store always loads.
//
// Thread safety: all methods are thread-safe; compiled items are immutable and shared.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine/store.h"
#include "workflows/definition_set.h"

namespace tongban {

// A definition's identity: "item", "construction-permit", 1.
struct DefinitionKey {
  std::string kind;
  std::string id;
  int version = 0;
};

// The content hash deploying records for a definition: SHA-256 (hex) of its parsed JSON written
// compactly with its keys sorted, so that layout and key order of the file do not change it.
std::string DefinitionContentHash(const nlohmann::json& source);
// Why a stored definition's text no longer matches the content hash recorded when it was deployed
// (a text edited in the database after deployment: a stretched deadline, a changed guard), or
// nullopt when it matches.
std::optional<std::string> DefinitionRecordFault(const DefinitionRecord& record);

struct DeployOutcome {
  std::vector<Diagnostic> diagnostics;     // errors and warnings of the deployed texts
  std::vector<DefinitionKey> definitions;  // each text's, in the order given
  std::vector<std::string> deployed;       // "item/construction-permit@1" for each new version
  std::vector<std::string> unchanged;      // already deployed with the same content
};

class DefinitionRegistry {
 public:
  explicit DefinitionRegistry(Store* store) : store_(store) {}

  // Compiles every definition in the store. Call once at start-up.
  Status LoadFromStore();

  // Validates texts (file name → JSON text) together with what is already deployed, and deploys
  // them if there is no error at all. kInvalidArgument with diagnostics when any is invalid;
  // kAlreadyExists when an id and version is deployed with other content. All or nothing.
  // `diagnostics`, when given, receives the diagnostics also when deployment is refused.
  Result<DeployOutcome> Deploy(const std::vector<std::pair<std::string, std::string>>& texts,
                               Instant now, std::vector<Diagnostic>* diagnostics = nullptr);
  // Checks texts exactly as Deploy does — the same diagnostics and status codes, including
  // kAlreadyExists — and stores nothing: `deployed` lists what Deploy would deploy now.
  Result<DeployOutcome> Validate(const std::vector<std::pair<std::string, std::string>>& texts,
                                 Instant now, std::vector<Diagnostic>* diagnostics = nullptr);
  // Deploys every *.json below a directory (the shipped definitions).
  Result<DeployOutcome> DeployDirectory(const std::string& path, Instant now);

  std::shared_ptr<const Item> FindItem(const std::string& id, int version = 0) const;
  // The bundle with this id and version; version 0 means the highest deployed version.
  std::shared_ptr<const Bundle> FindBundle(const std::string& id, int version = 0) const;
  std::vector<std::shared_ptr<const Bundle>> Bundles() const;                  // every version
  std::vector<std::shared_ptr<const DelegationList>> DelegationLists() const;  // every version
  std::vector<std::shared_ptr<const HandlingAgreementList>> AgreementLists() const;  // ditto
  std::shared_ptr<const Calendar> FindCalendar(const std::string& id) const;
  // The name the deployed definitions give an organ (an item's implementing organ, a joint party's
  // organ, a bundle's lead organ, either side of a delegation or handling agreement), the latest
  // deployed first; "" when none names it. Organs have no register of their own: this is where
  // their names are written.
  std::string OrganName(const std::string& organ_id) const;
  std::vector<std::shared_ptr<const Item>> Items() const;  // every version
  // The deployed JSON of an item version, for GET /v1/definitions/{id}.
  std::optional<std::string> ItemText(const std::string& id, int version) const;
  // The deployed JSON of a bundle version.
  std::optional<std::string> BundleText(const std::string& id, int version) const;

 private:
  Status Rebuild(const std::vector<DefinitionRecord>& records);
  // Deploy, or with `store` false Validate.
  Result<DeployOutcome> Check(const std::vector<std::pair<std::string, std::string>>& texts,
                              Instant now, std::vector<Diagnostic>* diagnostics, bool store);

  Store* store_;
  mutable std::shared_mutex mutex_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Item>> items_;
  std::map<std::pair<std::string, int>, std::string> item_texts_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Bundle>> bundles_;
  std::map<std::pair<std::string, int>, std::string> bundle_texts_;
  std::vector<std::shared_ptr<const DelegationList>> delegation_lists_;
  std::vector<std::shared_ptr<const HandlingAgreementList>> agreement_lists_;
  std::map<std::string, std::shared_ptr<const Calendar>> calendars_;
  std::vector<DefinitionRecord> records_;
};

}  // namespace tongban
