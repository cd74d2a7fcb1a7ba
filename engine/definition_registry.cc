#include "engine/definition_registry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "workflows/sha256.h"

namespace tongban {

namespace {

// The identity of a parsed definition file, or empty kind when it has none.
struct Identity {
  std::string kind;
  std::string id;
  int version = 0;
};

Identity IdentityOf(const DefinitionSet::File& file) {
  Identity identity;
  if (!file.parsed || !file.source.is_object()) return identity;
  identity.kind = file.kind;
  identity.id = file.source.value("id", "");
  const auto& v = file.source.contains("version") ? file.source["version"] : nlohmann::json();
  identity.version = v.is_number_integer() ? v.get<int>() : 0;
  return identity;
}

}  // namespace

Status DefinitionRegistry::Rebuild(const std::vector<DefinitionRecord>& records) {
  DefinitionSet set;
  for (const DefinitionRecord& r : records) {
    set.AddText(r.kind + "/" + r.id + "@" + std::to_string(r.version), r.text, true);
  }
  set.Compile();
  if (set.HasErrors()) {
    std::string first;
    for (const Diagnostic& d : set.Diagnostics()) {
      if (d.severity == Severity::kError) {
        first = FormatDiagnostic(d);
        break;
      }
    }
    return Status::DataLoss("a stored definition no longer compiles: " + first);
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  items_.clear();
  item_texts_.clear();
  calendars_.clear();
  for (const auto& item : set.Items())
    items_[{item->id, item->version}] = item;
  for (const auto& calendar : set.Calendars())
    calendars_[calendar->id()] = calendar;
  for (const DefinitionRecord& r : records) {
    if (r.kind == "item") item_texts_[{r.id, r.version}] = r.text;
  }
  records_ = records;
  return Status::Ok();
}

Status DefinitionRegistry::LoadFromStore() {
  auto records = store_->Definitions();
  if (!records.ok()) return records.status();
  return Rebuild(*records);
}

Result<DeployOutcome> DefinitionRegistry::Deploy(
    const std::vector<std::pair<std::string, std::string>>& texts, Instant now,
    std::vector<Diagnostic>* diagnostics) {
  std::vector<DefinitionRecord> existing;
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    existing = records_;
  }
  DefinitionSet set;
  for (const auto& [name, text] : texts)
    set.AddText(name, text, true);
  // What is deployed already resolves references (calendars) but is not reported on; a stored
  // version that a new text redefines is left out, so the new text is checked on its own merits.
  DeployOutcome outcome;
  std::set<std::string> incoming;
  {
    DefinitionSet probe;
    for (const auto& [name, text] : texts)
      probe.AddText(name, text, true);
    probe.Compile();
    for (const auto& file : probe.files()) {
      Identity identity = IdentityOf(file);
      if (!identity.kind.empty()) {
        incoming.insert(identity.kind + "/" + identity.id + "@" + std::to_string(identity.version));
      }
    }
  }
  for (const DefinitionRecord& r : existing) {
    std::string key = r.kind + "/" + r.id + "@" + std::to_string(r.version);
    if (incoming.count(key) == 0) set.AddText("deployed:" + key, r.text, false);
  }
  set.Compile();
  outcome.diagnostics = set.Diagnostics();
  if (diagnostics != nullptr) *diagnostics = outcome.diagnostics;
  if (set.HasErrors()) {
    return Status::InvalidArgument("the definitions have errors; nothing was deployed");
  }
  std::vector<DefinitionRecord> to_store;
  for (const auto& file : set.files()) {
    if (!file.report) continue;
    Identity identity = IdentityOf(file);
    DefinitionRecord record{identity.kind,    identity.id,
                            identity.version, Sha256Hex(file.source.dump()),
                            file.text,        now};
    std::string key = identity.kind + "/" + identity.id + "@" + std::to_string(identity.version);
    bool same = false;
    for (const DefinitionRecord& r : existing) {
      if (r.kind == record.kind && r.id == record.id && r.version == record.version) {
        if (r.content_hash != record.content_hash) {
          return Status::AlreadyExists(key +
                                       " is already deployed with other content; give "
                                       "the changed definition a new version");
        }
        same = true;
      }
    }
    (same ? outcome.unchanged : outcome.deployed).push_back(key);
    if (!same) to_store.push_back(std::move(record));
  }
  for (const DefinitionRecord& record : to_store)
    TONGBAN_RETURN_IF_ERROR(store_->Deploy(record));
  if (!to_store.empty()) TONGBAN_RETURN_IF_ERROR(LoadFromStore());
  return outcome;
}

Result<DeployOutcome> DefinitionRegistry::DeployDirectory(const std::string& path, Instant now) {
  std::vector<std::pair<std::string, std::string>> texts;
  std::error_code error;
  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(path, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file() && it->path().extension() == ".json") {
      files.push_back(it->path().string());
    }
  }
  if (error)
    return Status::NotFound("cannot read definitions from " + path + ": " + error.message());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    // Only process definitions are deployed; principals (who may call the API) are loaded by the
    // server from their own file and never stored.
    nlohmann::json probe = nlohmann::json::parse(buffer.str(), nullptr, false);
    if (probe.is_object() && probe.contains("kind") && probe["kind"] == "principals") continue;
    texts.push_back({f, buffer.str()});
  }
  return Deploy(texts, now);
}

std::shared_ptr<const Item> DefinitionRegistry::FindItem(const std::string& id, int version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (version > 0) {
    auto it = items_.find({id, version});
    return it == items_.end() ? nullptr : it->second;
  }
  auto it = items_.upper_bound({id, INT32_MAX});
  if (it == items_.begin()) return nullptr;
  --it;
  return it->first.first == id ? it->second : nullptr;
}

std::shared_ptr<const Calendar> DefinitionRegistry::FindCalendar(const std::string& id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = calendars_.find(id);
  return it == calendars_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const Item>> DefinitionRegistry::Items() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::shared_ptr<const Item>> out;
  for (const auto& [key, item] : items_)
    out.push_back(item);
  return out;
}

std::optional<std::string> DefinitionRegistry::ItemText(const std::string& id, int version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = item_texts_.find({id, version});
  if (it == item_texts_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tongban
