// DefinitionSet: loads definition files of every kind, compiles them in dependency order, and keeps
// the compiled results and every diagnostic.
//
// A file's "kind" picks its compiler. Calendars are compiled before items because items refer to
// them; kinds that refer to items (bundles, delegation lists) are compiled after items. Files can
// be added as "context" — used to resolve references but not reported on — which is how a single
// item is validated against the shipped calendars.
//
// Thread safety: not thread-safe while loading; once Compile() has returned, the const accessors
// may be used from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "workflows/calendar.h"
#include "workflows/delegation.h"
#include "workflows/diagnostics.h"
#include "workflows/item.h"
#include "workflows/json_document.h"
#include "workflows/principals.h"

namespace tongban {

inline const std::vector<std::string>& DefinitionKinds() {
  static const std::vector<std::string> kinds = {"item", "calendar", "delegation_list",
                                                 "principals"};
  return kinds;
}

class DefinitionSet {
 public:
  // Adds one file, or every *.json file below a directory (sorted, recursively). When `report` is
  // false the files only provide context. Unreadable paths are reported as diagnostics.
  void AddPath(const std::string& path, bool report = true);
  // Adds a text under a display name (for definitions that arrive over HTTP).
  void AddText(const std::string& name, std::string text, bool report = true);

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

  struct File {
    std::string name;
    bool report = true;
    std::string text;
    JsonDocument document;
    bool parsed = false;
    std::string kind;
    std::unique_ptr<DiagnosticSink> sink;
    nlohmann::json source;  // the parsed JSON, kept for deployment
  };
  const std::vector<File>& files() const { return files_; }

 private:
  void Parse(File* file);

  std::vector<File> files_;
  std::map<std::string, std::shared_ptr<const Calendar>> calendars_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Item>> items_;
  std::shared_ptr<const PrincipalSet> principals_;
  std::vector<std::shared_ptr<const DelegationList>> delegation_lists_;
};

}  // namespace tongban
