#include "engine/definition_registry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "workflows/json_document.h"
#include "workflows/sha256.h"

namespace tongban {

std::string DefinitionContentHash(const nlohmann::json& source) {
  return Sha256Hex(source.dump());
}

std::optional<std::string> DefinitionRecordFault(const DefinitionRecord& record) {
  auto document = JsonDocument::Parse(record.text);
  if (!document.ok()) {
    return "its stored text is not JSON any more (" + document.status().message() + ")";
  }
  if (DefinitionContentHash(document->root()) != record.content_hash) {
    return "its stored text does not match the content hash recorded when it was deployed: the "
           "definition was changed after deployment";
  }
  return std::nullopt;
}

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
    set.AddText(r.kind + "/" + r.id + "@" + std::to_string(r.version), r.text, true, r.deployed_at,
                true);
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
  bundles_.clear();
  bundle_texts_.clear();
  for (const auto& item : set.Items())
    items_[{item->id, item->version}] = item;
  for (const auto& bundle : set.Bundles())
    bundles_[{bundle->id, bundle->version}] = bundle;
  delegation_lists_ = set.DelegationLists();
  agreement_lists_ = set.AgreementLists();
  for (const auto& calendar : set.Calendars())
    calendars_[calendar->id()] = calendar;
  for (const DefinitionRecord& r : records) {
    if (r.kind == "item") item_texts_[{r.id, r.version}] = r.text;
    if (r.kind == "bundle") bundle_texts_[{r.id, r.version}] = r.text;
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
  return Check(texts, now, diagnostics, /*store=*/true);
}

Result<DeployOutcome> DefinitionRegistry::Validate(
    const std::vector<std::pair<std::string, std::string>>& texts, Instant now,
    std::vector<Diagnostic>* diagnostics) {
  return Check(texts, now, diagnostics, /*store=*/false);
}

Result<DeployOutcome> DefinitionRegistry::Check(
    const std::vector<std::pair<std::string, std::string>>& texts, Instant now,
    std::vector<Diagnostic>* diagnostics, bool store) {
  std::vector<DefinitionRecord> existing;
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    existing = records_;
  }
  DefinitionSet set;
  // What is deployed already resolves references (calendars, items, delegations) but is not
  // reported on; a stored version that a new text redefines is left out, so the new text is checked
  // on its own merits. The deployed texts come first, so that a clash between a new text and a
  // deployed one (an agreement id used in two lists) is reported on the new text. A new text is
  // compiled as deployed `now`, exactly as it will be when the store is next loaded; a text that
  // is deployed already with the same content keeps its deployment time (redeploying the shipped
  // definitions at start-up must not hide them from the bundles deployed since).
  DeployOutcome outcome;
  std::set<std::string> incoming;
  std::vector<Instant> deployed_at(texts.size(), now);
  {
    DefinitionSet probe;
    for (const auto& [name, text] : texts)
      probe.AddText(name, text, true);
    probe.Compile();
    for (size_t i = 0; i < probe.files().size(); ++i) {
      const auto& file = probe.files()[i];
      Identity identity = IdentityOf(file);
      if (identity.kind.empty()) continue;
      incoming.insert(identity.kind + "/" + identity.id + "@" + std::to_string(identity.version));
      std::string hash = DefinitionContentHash(file.source);
      for (const DefinitionRecord& r : existing) {
        if (r.kind == identity.kind && r.id == identity.id && r.version == identity.version &&
            r.content_hash == hash) {
          deployed_at[i] = r.deployed_at;
        }
      }
    }
  }
  for (const DefinitionRecord& r : existing) {
    std::string key = r.kind + "/" + r.id + "@" + std::to_string(r.version);
    if (incoming.count(key) == 0) {
      set.AddText("deployed:" + key, r.text, false, r.deployed_at, true);
    }
  }
  for (size_t i = 0; i < texts.size(); ++i)
    set.AddText(texts[i].first, texts[i].second, true, deployed_at[i]);
  set.Compile();
  outcome.diagnostics = set.Diagnostics();
  // A deployed definition that no longer compiles beside the new texts (a bundle whose pinned item
  // version is redefined, say) would make the store unloadable: refuse, and say which and why.
  std::string broken;
  for (const auto& file : set.files()) {
    if (file.report || !file.sink || !file.sink->has_errors()) continue;
    std::string key = file.name.substr(std::string("deployed:").size());
    for (Diagnostic d : file.sink->diagnostics()) {
      if (d.severity != Severity::kError) continue;
      // Said in the message too, for callers that show the pointer but not the file.
      d.message = "deployed " + key + " would no longer compile: " + d.message;
      outcome.diagnostics.push_back(std::move(d));
    }
    broken += (broken.empty() ? "" : ", ") + key;
  }
  if (diagnostics != nullptr) *diagnostics = outcome.diagnostics;
  if (set.HasErrors()) {
    return Status::InvalidArgument("the definitions have errors; nothing was deployed");
  }
  if (!broken.empty()) {
    return Status::InvalidArgument("deploying these definitions would break deployed " + broken +
                                   "; nothing was deployed");
  }
  std::vector<DefinitionRecord> to_store;
  for (const auto& file : set.files()) {
    if (!file.report) continue;
    Identity identity = IdentityOf(file);
    outcome.definitions.push_back({identity.kind, identity.id, identity.version});
    DefinitionRecord record{identity.kind,    identity.id,
                            identity.version, DefinitionContentHash(file.source),
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
  if (!store) return outcome;
  if (!to_store.empty()) {
    // All or nothing: a node starting beside this one never loads a list without its items.
    TONGBAN_RETURN_IF_ERROR(store_->DeployAll(to_store));
    TONGBAN_RETURN_IF_ERROR(LoadFromStore());
  }
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

std::shared_ptr<const Bundle> DefinitionRegistry::FindBundle(const std::string& id,
                                                             int version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (version > 0) {
    auto it = bundles_.find({id, version});
    return it == bundles_.end() ? nullptr : it->second;
  }
  auto it = bundles_.upper_bound({id, INT32_MAX});
  if (it == bundles_.begin()) return nullptr;
  --it;
  return it->first.first == id ? it->second : nullptr;
}

std::vector<std::shared_ptr<const Bundle>> DefinitionRegistry::Bundles() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::shared_ptr<const Bundle>> out;
  for (const auto& [key, bundle] : bundles_)
    out.push_back(bundle);
  return out;
}

std::vector<std::shared_ptr<const DelegationList>> DefinitionRegistry::DelegationLists() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return delegation_lists_;
}

std::vector<std::shared_ptr<const HandlingAgreementList>> DefinitionRegistry::AgreementLists()
    const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return agreement_lists_;
}

std::optional<std::string> DefinitionRegistry::BundleText(const std::string& id,
                                                          int version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = bundle_texts_.find({id, version});
  if (it == bundle_texts_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Calendar> DefinitionRegistry::FindCalendar(const std::string& id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = calendars_.find(id);
  return it == calendars_.end() ? nullptr : it->second;
}

std::string DefinitionRegistry::OrganName(const std::string& organ_id) const {
  if (organ_id.empty()) return "";
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto named = [&](const Organ& organ) { return organ.id == organ_id && !organ.name.empty(); };
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    const Item& item = *it->second;
    if (named(item.organ)) return item.organ.name;
    for (const Step& step : item.steps) {
      for (const JointParty& party : step.parties) {
        if (named(party.organ)) return party.organ.name;
      }
    }
  }
  for (auto it = bundles_.rbegin(); it != bundles_.rend(); ++it) {
    if (named(it->second->lead_organ)) return it->second->lead_organ.name;
  }
  for (auto it = delegation_lists_.rbegin(); it != delegation_lists_.rend(); ++it) {
    for (const Delegation& d : (*it)->delegations) {
      if (named(d.from)) return d.from.name;
      if (named(d.to)) return d.to.name;
    }
  }
  for (auto it = agreement_lists_.rbegin(); it != agreement_lists_.rend(); ++it) {
    for (const HandlingAgreement& a : (*it)->agreements) {
      if (named(a.receiving)) return a.receiving.name;
      if (named(a.handling)) return a.handling.name;
    }
  }
  return "";
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
