// DefinitionSet: loads definition files of every kind, compiles them in dependency order, and keeps
// the compiled results and every diagnostic.
//
// A file's "kind" picks its compiler. The kinds are compiled in dependency order: calendars, items
// (which refer to calendars), delegation lists (which name items), handling agreements (whose
// handling organ must implement the items or be delegated "accept" for them), bundles (whose parts
// are items), then principals. Files can be added as "context" — used to resolve references but
// not reported on — which is how a single item is validated against the shipped calendars, or a
// bundle against the shipped items.
//
// Deployed texts carry the time they were deployed: a bundle or agreements list deployed at T
// resolves an item named without a version to the highest version deployed at or before T, so a
// deployed definition keeps the meaning it was checked with when a newer item version arrives.
//
// Thread safety: not thread-safe while loading; once Compile() has returned, the const accessors
// may be used from any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workflows/agreement.h"
#include "workflows/bundle.h"
#include "workflows/calendar.h"
#include "workflows/delegation.h"
#include "workflows/diagnostics.h"
#include "workflows/item.h"
#include "workflows/json_document.h"
#include "workflows/principals.h"

namespace tongban {

inline const std::vector<std::string>& DefinitionKinds() {
  static const std::vector<std::string> kinds = {
      "item", "calendar", "delegation_list", "handling_agreements", "bundle", "principals"};
  return kinds;
}

class DefinitionSet {
 public:
  // Adds one file, or every *.json file below a directory (sorted, recursively). When `report` is
  // false the files only provide context. Unreadable paths are reported as diagnostics.
  void AddPath(const std::string& path, bool report = true);
  // Adds a text under a display name (for definitions that arrive over HTTP, or from the store).
  // `deployed_at` is when the text was deployed (see above); a text without it is "not deployed
  // yet": it sees every item, and an item from it is seen only by texts without `deployed_at`.
  // `stored`: read back from the store, so compiled under the rules it was deployed under (a rule
  // the language added since is a warning on it, see CompileItem).
  void AddText(const std::string& name, std::string text, bool report = true,
               std::optional<Instant> deployed_at = std::nullopt, bool stored = false);

  // Roles declared by definitions outside this set (a server's deployed items), accepted in a
  // principals file besides the built-in ones and those the set's own items declare. A principals
  // file is checked against these roles (CheckPrincipalRoles) when the set holds an item or this
  // was called; alone, its roles are only checked to be ids. Call before Compile().
  void DeclareRoles(const std::vector<std::string>& roles);

  // Compiles everything added so far. May be called once.
  void Compile();

  // Diagnostics of reported files, in file order then position order.
  std::vector<Diagnostic> Diagnostics() const;
  bool HasErrors() const;
  // The number of reported files.
  size_t reported_file_count() const;

  std::shared_ptr<const Calendar> FindCalendar(const std::string& id) const;
  // The item with this id and version; version 0 means the highest version.
  std::shared_ptr<const Item> FindItem(const std::string& id, int version = 0) const;
  std::vector<std::shared_ptr<const Item>> Items() const;
  std::vector<std::shared_ptr<const Calendar>> Calendars() const;
  // The (first) principals file among the reported ones, or null.
  std::shared_ptr<const PrincipalSet> FindPrincipals() const { return principals_; }
  std::vector<std::shared_ptr<const DelegationList>> DelegationLists() const {
    return delegation_lists_;
  }
  std::vector<std::shared_ptr<const HandlingAgreementList>> AgreementLists() const {
    return agreement_lists_;
  }
  // The bundle with this id and version; version 0 means the highest version.
  std::shared_ptr<const Bundle> FindBundle(const std::string& id, int version = 0) const;
  std::vector<std::shared_ptr<const Bundle>> Bundles() const;  // every version, by id and version

  struct File {
    std::string name;
    bool report = true;
    std::string text;
    JsonDocument document;
    bool parsed = false;
    std::string kind;
    std::unique_ptr<DiagnosticSink> sink;
    nlohmann::json source;  // the parsed JSON, kept for deployment
    std::optional<Instant> deployed_at;
    bool stored = false;
  };
  const std::vector<File>& files() const { return files_; }

 private:
  void Parse(File* file);
  // FindItem as seen by a text deployed at `as_of` (nullopt: not deployed, sees everything).
  std::shared_ptr<const Item> FindItemAsOf(const std::string& id, int version,
                                           const std::optional<Instant>& as_of) const;
  std::vector<std::string> ItemIds() const;
  // The list (and file) that first defined an agreement id.
  struct AgreementOwner {
    std::string list_id;
    std::string file;
  };
  void CheckAgreementIdsAcrossLists(File* file, const HandlingAgreementList& list,
                                    std::map<std::string, AgreementOwner>* seen) const;

  std::vector<File> files_;
  std::map<std::string, std::shared_ptr<const Calendar>> calendars_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Item>> items_;
  std::map<std::pair<std::string, int>, std::optional<Instant>> item_deployed_at_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Bundle>> bundles_;
  std::vector<std::shared_ptr<const HandlingAgreementList>> agreement_lists_;
  std::shared_ptr<const PrincipalSet> principals_;
  std::optional<std::vector<std::string>> declared_roles_;
  std::vector<std::shared_ptr<const DelegationList>> delegation_lists_;
};

}  // namespace tongban
