#include "workflows/definition_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "workflows/item_compiler.h"
#include "workflows/schema_reader.h"

namespace tongban {

namespace fs = std::filesystem;

void DefinitionSet::AddPath(const std::string& path, bool report) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(path, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (it->is_regular_file() && it->path().extension() == ".json") {
        found.push_back(it->path().string());
      }
    }
    std::sort(found.begin(), found.end());
    for (const std::string& f : found)
      AddPath(f, report);
    return;
  }
  // The same file reached twice (a folder given as context that also holds the reported file) is
  // loaded once; a report request wins over context.
  const std::string canonical = fs::weakly_canonical(path, error).string();
  for (File& existing : files_) {
    if (fs::weakly_canonical(existing.name, error).string() == canonical) {
      existing.report = existing.report || report;
      return;
    }
  }
  std::ifstream in(path, std::ios::binary);
  File file;
  file.name = path;
  file.report = report;
  file.sink = std::make_unique<DiagnosticSink>(path, nullptr);
  if (!in) {
    file.sink->Error(
        "", "unreadable",
        "cannot read this file: " +
            (fs::exists(path) ? std::string("permission denied") : std::string("no such file")));
    files_.push_back(std::move(file));
    return;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  file.text = buffer.str();
  files_.push_back(std::move(file));
}

void DefinitionSet::AddText(const std::string& name, std::string text, bool report,
                            std::optional<Instant> deployed_at, bool stored) {
  File file;
  file.name = name;
  file.report = report;
  file.text = std::move(text);
  file.deployed_at = deployed_at;
  file.stored = stored;
  files_.push_back(std::move(file));
}

namespace {

// "item, calendar, delegation_list, handling_agreements, bundle and principals"
std::string KindList(const char* last_joiner) {
  const auto& kinds = DefinitionKinds();
  std::string out;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? last_joiner : ", ";
    out += kinds[i];
  }
  return out;
}

}  // namespace

void DefinitionSet::Parse(File* file) {
  if (file->sink && file->sink->has_errors()) return;  // unreadable
  SourcePosition position;
  Result<JsonDocument> document = JsonDocument::Parse(file->text, &position);
  if (!document.ok()) {
    file->sink = std::make_unique<DiagnosticSink>(file->name, nullptr);
    file->sink->Error("", "json-syntax", "invalid JSON: " + document.status().message());
    file->sink->mutable_diagnostics().back().position = position;
    return;
  }
  file->document = std::move(document).value();
  file->sink = std::make_unique<DiagnosticSink>(file->name, &file->document);
  file->parsed = true;
  const nlohmann::json& root = file->document.root();
  if (!root.is_object()) {
    file->sink->Error("", "wrong-type",
                      "a definition is a JSON object, found " + JsonTypeName(root));
    file->parsed = false;
    return;
  }
  auto kind = root.find("kind");
  if (kind == root.end()) {
    file->sink->Error("", "missing-key",
                      "missing required key \"kind\" (one of: " + KindList(", ") + ")");
    file->parsed = false;
    return;
  }
  if (!kind->is_string()) {
    file->sink->Error("/kind", "wrong-type", "\"kind\" must be a string");
    file->parsed = false;
    return;
  }
  file->kind = kind->get<std::string>();
  const auto& kinds = DefinitionKinds();
  if (std::find(kinds.begin(), kinds.end(), file->kind) == kinds.end()) {
    std::string message = "unknown kind \"" + file->kind + "\"; Tongban knows " + KindList(" and ");
    std::string suggestion = ClosestMatch(file->kind, kinds);
    if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
    file->sink->Error("/kind", "bad-enum", message);
    file->parsed = false;
  }
}

void DefinitionSet::DeclareRoles(const std::vector<std::string>& roles) {
  declared_roles_ = roles;
}

void DefinitionSet::Compile() {
  for (File& file : files_)
    Parse(&file);
  // Identities already seen, to report the same id and version defined in two files.
  std::map<std::string, std::string> seen;
  auto claim = [&](File& file, const std::string& kind, const std::string& id, int version) {
    std::string key = kind + "/" + id + "@" + std::to_string(version);
    auto [it, inserted] = seen.emplace(key, file.name);
    if (!inserted) {
      file.sink->Error("/id", "duplicate-definition",
                       kind + " \"" + id + "\" version " + std::to_string(version) +
                           " is also defined in " + it->second);
      return false;
    }
    return true;
  };
  for (File& file : files_) {
    if (!file.parsed || file.kind != "calendar") continue;
    auto calendar = CompileCalendar(file.document.root(), file.sink.get());
    if (calendar && claim(file, "calendar", calendar->id(), calendar->version())) {
      auto& slot = calendars_[calendar->id()];
      if (!slot || slot->version() < calendar->version()) slot = calendar;
    }
  }
  CalendarLookup lookup = [this](const std::string& id) { return FindCalendar(id); };
  for (File& file : files_) {
    if (!file.parsed || file.kind != "item") continue;
    auto item = CompileItem(file.document.root(), lookup, file.sink.get(), file.stored);
    if (item && claim(file, "item", item->id, item->version)) {
      items_[{item->id, item->version}] = item;
      item_deployed_at_[{item->id, item->version}] = file.deployed_at;
    }
  }
  const std::vector<std::string> item_ids = ItemIds();
  // Delegation lists refer to items, so they come after them.
  auto item_exists = [this](const std::string& id) { return FindItem(id) != nullptr; };
  for (File& file : files_) {
    if (!file.parsed || file.kind != "delegation_list") continue;
    auto list = CompileDelegationList(file.document.root(), item_exists, file.sink.get());
    if (list && claim(file, "delegation_list", list->id, list->version)) {
      delegation_lists_.push_back(list);
    }
  }
  // Handling agreements need the delegation lists: a handling organ that does not implement an
  // item may still accept it under a delegation.
  AcceptsByDelegation accepts = [this](const std::string& organ, const std::string& item) {
    for (const auto& list : delegation_lists_) {
      for (const Delegation& d : list->delegations) {
        if (d.to.id == organ && d.item_id == item && d.Grants(Power::kAccept)) return true;
      }
    }
    return false;
  };
  std::map<std::string, AgreementOwner> agreement_ids;
  for (File& file : files_) {
    if (!file.parsed || file.kind != "handling_agreements") continue;
    auto as_of = file.deployed_at;
    auto find_item = [this, as_of](const std::string& id, int version) {
      return FindItemAsOf(id, version, as_of);
    };
    auto list = CompileHandlingAgreements(file.document.root(), find_item, file.sink.get(), accepts,
                                          item_ids);
    if (!list || !claim(file, "handling_agreements", list->id, list->version)) continue;
    CheckAgreementIdsAcrossLists(&file, *list, &agreement_ids);
    if (!file.sink->has_errors()) agreement_lists_.push_back(list);
  }
  // Bundles come last: their parts are items, and they may name items of context files.
  for (File& file : files_) {
    if (!file.parsed || file.kind != "bundle") continue;
    auto as_of = file.deployed_at;
    auto find_item = [this, as_of](const std::string& id, int version) {
      return FindItemAsOf(id, version, as_of);
    };
    auto bundle = CompileBundle(file.document.root(), find_item, lookup, file.sink.get(), item_ids);
    if (bundle && claim(file, "bundle", bundle->id, bundle->version)) {
      bundles_[{bundle->id, bundle->version}] = bundle;
    }
  }
  std::optional<std::vector<std::string>> known_roles;
  if (declared_roles_ || !items_.empty()) {
    known_roles = KnownPrincipalRoles(Items());
    for (const std::string& role : declared_roles_.value_or(std::vector<std::string>{})) {
      if (std::find(known_roles->begin(), known_roles->end(), role) == known_roles->end())
        known_roles->push_back(role);
    }
  }
  for (File& file : files_) {
    if (!file.parsed || file.kind != "principals") continue;
    auto principals = CompilePrincipals(file.document.root(), file.sink.get());
    if (principals && known_roles &&
        !CheckPrincipalRoles(*principals, *known_roles, file.sink.get()))
      principals = nullptr;
    if (principals && !principals_) principals_ = principals;
  }
  for (File& file : files_)
    file.source = file.document.root();
}

std::vector<Diagnostic> DefinitionSet::Diagnostics() const {
  std::vector<Diagnostic> all;
  for (const File& file : files_) {
    if (!file.report || !file.sink) continue;
    std::vector<Diagnostic> mine = file.sink->diagnostics();
    std::stable_sort(mine.begin(), mine.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.position.line, a.position.column) <
             std::tie(b.position.line, b.position.column);
    });
    all.insert(all.end(), mine.begin(), mine.end());
  }
  return all;
}

bool DefinitionSet::HasErrors() const {
  for (const File& file : files_) {
    if (file.report && file.sink && file.sink->has_errors()) return true;
  }
  return false;
}

size_t DefinitionSet::reported_file_count() const {
  return static_cast<size_t>(
      std::count_if(files_.begin(), files_.end(), [](const File& f) { return f.report; }));
}

std::shared_ptr<const Calendar> DefinitionSet::FindCalendar(const std::string& id) const {
  auto it = calendars_.find(id);
  return it == calendars_.end() ? nullptr : it->second;
}

std::shared_ptr<const Item> DefinitionSet::FindItem(const std::string& id, int version) const {
  if (version > 0) {
    auto it = items_.find({id, version});
    return it == items_.end() ? nullptr : it->second;
  }
  std::shared_ptr<const Item> best;
  for (const auto& [key, item] : items_) {
    if (key.first == id) best = item;  // map order: the last is the highest version
  }
  return best;
}

std::shared_ptr<const Item> DefinitionSet::FindItemAsOf(const std::string& id, int version,
                                                        const std::optional<Instant>& as_of) const {
  if (version > 0 || !as_of) return FindItem(id, version);
  std::shared_ptr<const Item> best;
  for (const auto& [key, item] : items_) {
    if (key.first != id) continue;
    const std::optional<Instant>& deployed = item_deployed_at_.at(key);
    if (deployed && *deployed <= *as_of) best = item;  // map order: the last is the highest
  }
  return best;
}

std::vector<std::string> DefinitionSet::ItemIds() const {
  std::vector<std::string> ids;
  for (const auto& [key, item] : items_) {
    if (ids.empty() || ids.back() != key.first) ids.push_back(key.first);
  }
  return ids;
}

// Agreement ids are unique across lists (a case records the agreement it was received under); the
// versions of one list share their ids, of course.
void DefinitionSet::CheckAgreementIdsAcrossLists(
    File* file, const HandlingAgreementList& list,
    std::map<std::string, AgreementOwner>* seen) const {
  for (size_t i = 0; i < list.agreements.size(); ++i) {
    const std::string& id = list.agreements[i].id;
    auto [it, inserted] = seen->emplace(id, AgreementOwner{list.id, file->name});
    if (inserted || it->second.list_id == list.id) continue;
    file->sink->Error("/agreements/" + std::to_string(i) + "/id", "duplicate-id",
                      "agreement \"" + id + "\" is also defined in list \"" + it->second.list_id +
                          "\" (" + it->second.file + "); agreement ids are unique across lists");
  }
}

std::shared_ptr<const Bundle> DefinitionSet::FindBundle(const std::string& id, int version) const {
  if (version > 0) {
    auto it = bundles_.find({id, version});
    return it == bundles_.end() ? nullptr : it->second;
  }
  std::shared_ptr<const Bundle> best;
  for (const auto& [key, bundle] : bundles_) {
    if (key.first == id) best = bundle;
  }
  return best;
}

std::vector<std::shared_ptr<const Bundle>> DefinitionSet::Bundles() const {
  std::vector<std::shared_ptr<const Bundle>> out;
  for (const auto& [key, bundle] : bundles_)
    out.push_back(bundle);
  return out;
}

std::vector<std::shared_ptr<const Item>> DefinitionSet::Items() const {
  std::vector<std::shared_ptr<const Item>> out;
  for (const auto& [key, item] : items_)
    out.push_back(item);
  return out;
}

std::vector<std::shared_ptr<const Calendar>> DefinitionSet::Calendars() const {
  std::vector<std::shared_ptr<const Calendar>> out;
  for (const auto& [key, calendar] : calendars_)
    out.push_back(calendar);
  return out;
}

}  // namespace tongban
