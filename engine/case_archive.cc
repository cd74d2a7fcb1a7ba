#include "engine/case_archive.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/documents.h"
#include "engine/snapshot_codec.h"
#include "engine/sqlite_store.h"
#include "engine/tar.h"
#include "workflows/sha256.h"

namespace tongban {

namespace {

constexpr const char* kFormat = "tongban-case-archive";
constexpr int kFormatVersion = 1;

Instant FromMillis(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
int64_t ToMillis(Instant t) {
  return t.time_since_epoch().count();
}

std::string EventLine(const Event& e) {
  nlohmann::json j = {
      {"case_id", e.case_id},
      {"seq", e.seq},
      {"time", FormatTimestamp(e.time)},
      {"time_ms", ToMillis(e.time)},
      {"actor", {{"id", e.actor.id}, {"role", e.actor.role}, {"organ", e.actor.organ}}},
      {"action", e.action},
      {"data", e.data},
      {"status", e.status},
      {"step", e.step},
      {"definition", {{"id", e.definition_id}, {"version", e.definition_version}}},
      {"prev_hash", e.prev_hash},
      {"hash", e.hash}};
  return j.dump() + "\n";
}

// Calls visit(line number from 1, the line's JSON) for each line of a JSON-lines text; a line that
// is not JSON comes as a discarded value, which the visitor's conversion refuses.
template <typename Visit>
void ForEachJsonLine(const std::string& text, const Visit& visit) {
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    visit(++line_no, nlohmann::json::parse(text.substr(at, end - at), nullptr, false));
    at = end + 1;
  }
}

Event EventOfLine(const nlohmann::json& j) {
  Event e;
  e.case_id = j.at("case_id").get<std::string>();
  e.seq = j.at("seq").get<int64_t>();
  e.time = FromMillis(j.at("time_ms").get<int64_t>());
  e.actor.id = j.at("actor").at("id").get<std::string>();
  e.actor.role = j.at("actor").at("role").get<std::string>();
  e.actor.organ = j.at("actor").at("organ").get<std::string>();
  e.action = j.at("action").get<std::string>();
  e.data = j.at("data").get<std::string>();
  e.status = j.at("status").get<std::string>();
  e.step = j.at("step").get<std::string>();
  e.definition_id = j.at("definition").at("id").get<std::string>();
  e.definition_version = j.at("definition").at("version").get<int>();
  e.prev_hash = j.at("prev_hash").get<std::string>();
  e.hash = j.at("hash").get<std::string>();
  return e;
}

std::string LedgerLine(const LedgerEntry& e) {
  nlohmann::json j = LedgerEntryToJson(e);
  j["time_ms"] = ToMillis(e.time);
  j["data"] = e.data;  // the exact text the hash covers
  return j.dump() + "\n";
}

LedgerEntry LedgerOfLine(const nlohmann::json& j) {
  LedgerEntry e;
  e.seq = j.at("seq").get<int64_t>();
  e.time = FromMillis(j.at("time_ms").get<int64_t>());
  e.actor.id = j.at("actor").at("id").get<std::string>();
  e.actor.role = j.at("actor").at("role").get<std::string>();
  e.actor.organ = j.at("actor").at("organ").get<std::string>();
  e.actor.name = j.at("actor").at("name").get<std::string>();
  e.kind = j.at("kind").get<std::string>();
  e.subject = j.at("subject").get<std::string>();
  e.data = j.at("data").get<std::string>();
  e.prev_hash = j.at("prev_hash").get<std::string>();
  e.hash = j.at("hash").get<std::string>();
  return e;
}

nlohmann::json RecordJson(const CaseRecord& r) {
  return {{"id", r.id},
          {"number", r.number},
          {"query_code", r.query_code},
          {"definition", {{"id", r.definition_id}, {"version", r.definition_version}}},
          {"status", r.status},
          {"step", r.step},
          {"applicant_id", r.applicant_id},
          {"organ_id", r.organ_id},
          {"created_at", FormatTimestamp(r.created_at)},
          {"created_ms", ToMillis(r.created_at)},
          {"updated_at", FormatTimestamp(r.updated_at)},
          {"updated_ms", ToMillis(r.updated_at)},
          {"version", r.version},
          {"snapshot", r.snapshot}};
}

CaseRecord RecordOfJson(const nlohmann::json& j) {
  CaseRecord r;
  r.id = j.at("id").get<std::string>();
  r.number = j.at("number").get<std::string>();
  r.query_code = j.at("query_code").get<std::string>();
  r.definition_id = j.at("definition").at("id").get<std::string>();
  r.definition_version = j.at("definition").at("version").get<int>();
  r.status = j.at("status").get<std::string>();
  r.step = j.at("step").get<std::string>();
  r.applicant_id = j.at("applicant_id").get<std::string>();
  r.organ_id = j.at("organ_id").get<std::string>();
  r.created_at = FromMillis(j.at("created_ms").get<int64_t>());
  r.updated_at = FromMillis(j.at("updated_ms").get<int64_t>());
  r.version = j.at("version").get<int64_t>();
  r.snapshot = j.at("snapshot").get<std::string>();
  return r;
}

std::string DefinitionPath(const DefinitionRecord& d) {
  return "definitions/" + d.kind + "/" + d.id + "@" + std::to_string(d.version) + ".json";
}

// One case of the archive as read from the store.
struct ExportedCase {
  CaseRecord record;
  std::vector<Event> events;
  std::vector<DocumentRecord> documents;
};

}  // namespace

Result<CaseArchive> ExportCaseArchive(Store* store, const std::string& case_id, Instant now) {
  auto first = store->GetCase(case_id);
  if (!first.ok()) return first.status();
  if (!*first) return Status::NotFound("no case " + case_id);
  auto definitions = store->Definitions();
  if (!definitions.ok()) return definitions.status();
  auto deployed = [&](const std::string& kind, const std::string& id) {
    std::vector<const DefinitionRecord*> out;
    for (const DefinitionRecord& d : *definitions)
      if (d.kind == kind && d.id == id) out.push_back(&d);
    return out;
  };

  std::vector<ExportedCase> cases;
  cases.push_back({**first, {}, {}});
  bool bundle = !deployed("bundle", (*first)->definition_id).empty();
  if (bundle) {
    auto state = DecodeBundleSnapshot((*first)->snapshot);
    if (!state.ok()) return state.status();
    for (const BundlePartState& part : state->parts) {
      if (part.case_id.empty()) continue;
      auto child = store->GetCase(part.case_id);
      if (!child.ok()) return child.status();
      if (!*child)
        return Status::DataLoss("the bundle's part case " + part.case_id + " is missing");
      cases.push_back({**child, {}, {}});
    }
  }

  // What the cases relied on: definitions, register subjects, documents.
  std::set<std::tuple<std::string, std::string, int>> wanted;  // kind, id, version
  std::set<std::string> subjects;
  std::set<std::string> delegations;
  std::set<std::string> credit_codes;
  std::set<std::string> case_ids;
  for (ExportedCase& c : cases) {
    case_ids.insert(c.record.id);
    auto events = store->GetEvents(c.record.id);
    if (!events.ok()) return events.status();
    c.events = std::move(events).value();
    auto documents = store->CaseDocuments(c.record.id);
    if (!documents.ok()) return documents.status();
    c.documents = std::move(documents).value();
    const std::string kind = deployed("bundle", c.record.definition_id).empty() ? "item" : "bundle";
    wanted.insert({kind, c.record.definition_id, c.record.definition_version});
    for (const Event& e : c.events) {
      const nlohmann::json data = ParseStoredData(e.data);
      if (auto a = data.find("authority"); a != data.end() && a->is_object()) {
        const std::string delegation = a->value("delegation", "");
        if (!delegation.empty()) delegations.insert(delegation);
      }
      if (auto m = data.find("mandate"); m != data.end() && m->is_string()) {
        subjects.insert(m->get<std::string>());
      }
      if (e.seq == 1) {
        const auto applicant = data.value("applicant", nlohmann::json::object());
        const std::string code = applicant.is_object() ? applicant.value("credit_code", "") : "";
        if (!code.empty()) credit_codes.insert(code);
      }
    }
  }
  subjects.insert(delegations.begin(), delegations.end());
  // Items and their calendars (every version: the registry resolves a calendar to its latest), a
  // bundle's part items (every version: it resolves them by deployment time).
  std::set<std::string> calendars;
  std::vector<std::string> part_items;
  for (const DefinitionRecord& d : *definitions) {
    if (d.kind != "bundle" || !wanted.count({"bundle", d.id, d.version})) continue;
    for (const auto& part :
         nlohmann::json::parse(d.text, nullptr, false).value("parts", nlohmann::json::array())) {
      if (part.is_object()) part_items.push_back(part.value("item", ""));
    }
  }
  for (const std::string& item : part_items)
    for (const DefinitionRecord* d : deployed("item", item))
      wanted.insert({"item", d->id, d->version});
  for (const DefinitionRecord& d : *definitions) {
    if (d.kind != "item" || !wanted.count({"item", d.id, d.version})) continue;
    auto text = nlohmann::json::parse(d.text, nullptr, false);
    if (text.is_object() && text.contains("time_limits") && text["time_limits"].is_object()) {
      calendars.insert(text["time_limits"].value("calendar", ""));
    }
  }
  for (const std::string& id : calendars)
    for (const DefinitionRecord* d : deployed("calendar", id))
      wanted.insert({"calendar", d->id, d->version});
  for (const DefinitionRecord& d : *definitions) {
    if (d.kind != "delegation_list") continue;
    for (const std::string& id : delegations) {
      if (d.text.find("\"" + id + "\"") != std::string::npos)
        wanted.insert({d.kind, d.id, d.version});
    }
  }

  auto ledger = store->Ledger(0);
  if (!ledger.ok()) return ledger.status();
  for (const LedgerEntry& e : *ledger) {
    if (e.kind != kLedgerCreditRecorded) continue;
    const nlohmann::json data = e.DataJson();
    if (case_ids.count(data.value("case_id", "")) ||
        credit_codes.count(data.value("credit_code", ""))) {
      subjects.insert(e.subject);
    }
  }

  CaseArchive archive;
  TarWriter tar;
  nlohmann::json files = nlohmann::json::array();
  auto add = [&](const std::string& path, const std::string& content) -> Status {
    TONGBAN_RETURN_IF_ERROR(tar.Add(path, content, now));
    files.push_back({{"path", path}, {"sha256", Sha256Hex(content)}, {"size", content.size()}});
    return Status::Ok();
  };
  nlohmann::json heads = nlohmann::json::array();
  nlohmann::json documents_json = nlohmann::json::array();
  std::set<std::string> document_hashes;
  for (const ExportedCase& c : cases) {
    archive.cases.push_back(c.record.id);
    TONGBAN_RETURN_IF_ERROR(
        add("cases/" + c.record.id + "/record.json", RecordJson(c.record).dump(2) + "\n"));
    std::string lines;
    for (const Event& e : c.events)
      lines += EventLine(e);
    TONGBAN_RETURN_IF_ERROR(add("cases/" + c.record.id + "/events.jsonl", lines));
    archive.events += static_cast<int64_t>(c.events.size());
    if (!c.events.empty()) {
      heads.push_back(
          {{"case", c.record.id}, {"seq", c.events.back().seq}, {"hash", c.events.back().hash}});
    }
    for (const DocumentRecord& d : c.documents) {
      documents_json.push_back({{"case", d.case_id},
                                {"hash", d.hash},
                                {"media_type", d.media_type},
                                {"size", d.size},
                                {"name", d.name},
                                {"kind", d.kind},
                                {"attached_at", FormatTimestamp(d.attached_at)},
                                {"attached_by", d.attached_by}});
      if (!document_hashes.insert(d.hash).second) continue;
      auto stored = store->GetDocument(d.case_id, d.hash);
      if (!stored.ok()) return stored.status();
      if (!*stored) return Status::DataLoss("document " + d.hash + " has no bytes");
      TONGBAN_RETURN_IF_ERROR(add("documents/" + d.hash, (*stored)->content));
      ++archive.documents;
    }
  }
  TONGBAN_RETURN_IF_ERROR(add("documents.json", documents_json.dump(2) + "\n"));
  nlohmann::json definitions_json = nlohmann::json::array();
  for (const DefinitionRecord& d : *definitions) {
    if (!wanted.count({d.kind, d.id, d.version})) continue;
    TONGBAN_RETURN_IF_ERROR(add(DefinitionPath(d), d.text));
    definitions_json.push_back({{"kind", d.kind},
                                {"id", d.id},
                                {"version", d.version},
                                {"content_hash", d.content_hash},
                                {"deployed_at", FormatTimestamp(d.deployed_at)},
                                {"deployed_ms", ToMillis(d.deployed_at)},
                                {"path", DefinitionPath(d)}});
  }
  std::string ledger_lines;
  for (const LedgerEntry& e : *ledger) {
    if (!subjects.count(e.subject)) continue;
    ledger_lines += LedgerLine(e);
    ++archive.ledger_entries;
  }
  TONGBAN_RETURN_IF_ERROR(add("ledger.jsonl", ledger_lines));
  nlohmann::json manifest = {{"format", kFormat},
                             {"format_version", kFormatVersion},
                             {"case", case_id},
                             {"number", (*first)->number},
                             {"kind", bundle ? "bundle" : "item"},
                             {"exported_at", FormatTimestamp(now)},
                             {"cases", archive.cases},
                             {"heads", heads},
                             {"definitions", definitions_json},
                             {"files", files}};
  TONGBAN_RETURN_IF_ERROR(tar.Add("manifest.json", manifest.dump(2) + "\n", now));
  archive.bytes = tar.Finish();
  return archive;
}

namespace {

// A temporary directory removed when it goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern =
        (parent.empty() ? std::string("/tmp") : parent) + "/tongban-archive-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

ArchiveReport VerifyCaseArchive(std::string_view bytes, const std::string& scratch_dir) {
  ArchiveReport report;
  auto find = [&](std::string where, std::string what) {
    report.findings.push_back({std::move(where), std::move(what)});
  };
  auto unreadable = [&](std::string where, std::string what) {
    report.readable = false;
    find(std::move(where), std::move(what));
    return report;
  };
  auto files = ReadTar(bytes);
  if (!files.ok()) return unreadable("(archive)", files.status().message());
  std::map<std::string, const TarFile*> by_path;
  for (const TarFile& f : *files) {
    if (!by_path.emplace(f.path, &f).second) find(f.path, "appears twice in the archive");
  }
  auto manifest_file = by_path.find("manifest.json");
  if (manifest_file == by_path.end()) return unreadable("manifest.json", "missing");
  nlohmann::json manifest = nlohmann::json::parse(manifest_file->second->content, nullptr, false);
  if (!manifest.is_object() || manifest.value("format", "") != kFormat ||
      !manifest.contains("files") || !manifest["files"].is_array() || !manifest.contains("cases") ||
      !manifest["cases"].is_array()) {
    return unreadable("manifest.json", "not a tongban case archive manifest");
  }
  if (manifest.value("format_version", 0) != kFormatVersion) {
    return unreadable("manifest.json", "format version " +
                                           std::to_string(manifest.value("format_version", 0)) +
                                           " is not one this tongban reads (" +
                                           std::to_string(kFormatVersion) + ")");
  }
  report.case_id = manifest.value("case", "");

  // Every file as the manifest lists it, and nothing else.
  std::set<std::string> listed = {"manifest.json"};
  for (const auto& f : manifest["files"]) {
    const std::string path = f.value("path", "");
    listed.insert(path);
    auto it = by_path.find(path);
    if (it == by_path.end()) {
      find(path, "listed in the manifest but missing from the archive");
      continue;
    }
    const std::string hash = Sha256Hex(it->second->content);
    if (hash != f.value("sha256", "")) {
      find(path, "its SHA-256 is " + hash + ", the manifest says " + f.value("sha256", ""));
    }
  }
  for (const auto& [path, file] : by_path) {
    if (!listed.count(path)) find(path, "in the archive but not in the manifest");
  }
  auto content = [&](const std::string& path) -> const std::string* {
    auto it = by_path.find(path);
    return it == by_path.end() ? nullptr : &it->second->content;
  };

  // Documents: each named by the SHA-256 of its bytes.
  std::set<std::string> documents;
  for (const auto& [path, file] : by_path) {
    if (path.rfind("documents/", 0) != 0) continue;
    const std::string name = path.substr(10);
    documents.insert(name);
    ++report.documents;
    const std::string hash = Sha256Hex(file->content);
    if (hash != name) {
      find(path, "document " + name + ": its bytes hash to " + hash + ": the document was altered");
    }
  }

  // The registry of the archived definitions, in a scratch store.
  ScratchDir scratch(scratch_dir);
  if (scratch.path().empty()) return unreadable("(scratch)", "cannot create a scratch directory");
  SqliteStoreOptions options;
  options.path = scratch.path() + "/definitions.db";
  options.synchronous = "OFF";
  auto store = SqliteStore::Open(options);
  if (!store.ok()) return unreadable("(scratch)", store.status().message());
  for (const auto& d : manifest.value("definitions", nlohmann::json::array())) {
    const std::string path = d.value("path", "");
    const std::string* text = content(path);
    if (text == nullptr) continue;  // reported above
    const std::string kind = d.value("kind", "");
    // Replay needs the cases' items, bundles and calendars; the delegation lists are the record.
    if (kind != "item" && kind != "bundle" && kind != "calendar") continue;
    DefinitionRecord record{kind,
                            d.value("id", ""),
                            d.value("version", 0),
                            d.value("content_hash", ""),
                            *text,
                            FromMillis(d.value("deployed_ms", int64_t{0}))};
    Status deployed = (*store)->Deploy(record);
    if (!deployed.ok()) find(path, "cannot be deployed for the replay: " + deployed.message());
  }
  DefinitionRegistry registry(store->get());
  if (Status loaded = registry.LoadFromStore(); !loaded.ok()) {
    find("definitions/", "the archived definitions do not compile: " + loaded.message());
  }

  for (const auto& id_json : manifest["cases"]) {
    const std::string id = id_json.is_string() ? id_json.get<std::string>() : "";
    ++report.cases;
    const std::string events_path = "cases/" + id + "/events.jsonl";
    const std::string record_path = "cases/" + id + "/record.json";
    const std::string* lines = content(events_path);
    const std::string* record_text = content(record_path);
    if (lines == nullptr || record_text == nullptr) continue;  // reported above
    std::vector<Event> events;
    bool parsed = true;
    ForEachJsonLine(*lines, [&](size_t line_no, const nlohmann::json& j) {
      try {
        events.push_back(EventOfLine(j));
      } catch (const std::exception&) {
        find(events_path + ":" + std::to_string(line_no),
             "not an event (malformed JSON or fields)");
        parsed = false;
      }
    });
    report.events += static_cast<int64_t>(events.size());
    for (const Event& e : events) {
      for (const std::string& hash : DocumentRefs(ParseStoredData(e.data))) {
        if (!documents.count(hash)) {
          find(events_path + " seq " + std::to_string(e.seq),
               "names document " + hash + ", which the archive lacks");
        }
      }
    }
    if (!parsed) continue;
    std::optional<CaseRecord> record;
    try {
      record = RecordOfJson(nlohmann::json::parse(*record_text));
    } catch (const std::exception&) {
      find(record_path, "not a case record");
    }
    VerifyReport verified = VerifyCaseHistory(id, events, record ? &*record : nullptr, registry);
    if (!verified.ok) {
      find(events_path + (verified.first_bad_seq
                              ? ":" + std::to_string(*verified.first_bad_seq) + " (seq " +
                                    std::to_string(*verified.first_bad_seq) + ")"
                              : std::string()),
           verified.reason);
    }
  }

  if (const std::string* lines = content("ledger.jsonl")) {
    ForEachJsonLine(*lines, [&](size_t line_no, const nlohmann::json& j) {
      try {
        LedgerEntry e = LedgerOfLine(j);
        ++report.ledger_entries;
        if (ComputeLedgerHash(e) != e.hash) {
          find("ledger.jsonl:" + std::to_string(line_no) + " (seq " + std::to_string(e.seq) + ")",
               "the entry's hash does not match its content: the entry was altered");
        }
      } catch (const std::exception&) {
        find("ledger.jsonl:" + std::to_string(line_no), "not a ledger entry");
      }
    });
  }
  return report;
}

nlohmann::json ArchiveReportToJson(const ArchiveReport& r) {
  nlohmann::json findings = nlohmann::json::array();
  for (const ArchiveFinding& f : r.findings)
    findings.push_back({{"where", f.where}, {"what", f.what}});
  return {{"ok", r.ok()},
          {"readable", r.readable},
          {"case", r.case_id},
          {"cases", r.cases},
          {"events", r.events},
          {"documents", r.documents},
          {"ledger_entries", r.ledger_entries},
          {"findings", findings}};
}

}  // namespace tongban
