#include "workflows/delegation.h"

#include <algorithm>
#include <set>

#include "workflows/schema_reader.h"

namespace tongban {

namespace {
const std::vector<std::string> kPowers = {"accept", "review", "decide"};
const std::vector<std::string> kForms = {"entrustment", "devolution", "concentrated"};
}  // namespace

const char* PowerName(Power power) {
  return power == Power::kAccept ? "accept" : power == Power::kReview ? "review" : "decide";
}

std::optional<Power> ParsePower(const std::string& name) {
  auto it = std::find(kPowers.begin(), kPowers.end(), name);
  if (it == kPowers.end()) return std::nullopt;
  return static_cast<Power>(it - kPowers.begin());
}

const char* DelegationFormName(DelegationForm form) {
  return kForms[static_cast<size_t>(form)].c_str();
}

bool Delegation::Grants(Power power) const {
  return std::find(powers.begin(), powers.end(), power) != powers.end();
}

bool Delegation::EffectiveOn(Day day) const {
  return day >= effective_from && (!effective_to || day <= *effective_to);
}

namespace {
bool ReadOrgan(ObjectReader& parent, const std::string& key, Organ* organ, std::string* seal,
               DiagnosticSink* sink) {
  const nlohmann::json* value = parent.Object(key, true);
  if (value == nullptr) return false;
  std::vector<std::string> keys = {"id", "name"};
  if (seal != nullptr) keys.push_back("seal");
  ObjectReader r(*value, parent.PointerOf(key), sink, keys);
  organ->id = r.Slug("id", true).value_or("");
  organ->name = r.String("name", true).value_or("");
  if (seal != nullptr) *seal = r.String("seal", false).value_or("");
  return r.valid();
}
}  // namespace

std::optional<Delegation> ReadDelegation(const nlohmann::json& value, const std::string& pointer,
                                         const std::function<bool(const std::string&)>& item_exists,
                                         DiagnosticSink* sink) {
  size_t before = sink->diagnostics().size();
  ObjectReader r(value, pointer, sink,
                 {"id", "item", "from", "to", "powers", "form", "legal_basis", "effective_from",
                  "effective_to", "territory", "note"});
  if (!r.valid()) return std::nullopt;
  Delegation d;
  d.id = r.Slug("id", true).value_or("");
  d.item_id = r.Slug("item", true).value_or("");
  if (!d.item_id.empty() && item_exists && !item_exists(d.item_id)) {
    sink->Error(r.PointerOf("item"), "unknown-item",
                "unknown item \"" + d.item_id + "\"; deploy the item before delegating it");
  }
  ReadOrgan(r, "from", &d.from, nullptr, sink);
  ReadOrgan(r, "to", &d.to, &d.seal, sink);
  if (!d.from.id.empty() && d.from.id == d.to.id) {
    sink->Error(r.PointerOf("to"), "self-delegation", "an organ cannot delegate to itself");
  }
  if (const nlohmann::json* powers = r.Array("powers", true)) {
    if (powers->empty()) sink->Error(r.PointerOf("powers"), "empty-list", "no power is delegated");
    std::set<std::string> seen;
    for (size_t i = 0; i < powers->size(); ++i) {
      std::string pp = JoinJsonPointer(r.PointerOf("powers"), i);
      std::string name = (*powers)[i].is_string() ? (*powers)[i].get<std::string>() : "";
      auto power = ParsePower(name);
      if (!power) {
        std::string message = "a power is one of accept, review, decide";
        std::string suggestion = ClosestMatch(name, kPowers);
        if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
        sink->Error(pp, "bad-enum", message);
        continue;
      }
      if (!seen.insert(name).second) sink->Error(pp, "duplicate-id", "power listed twice");
      d.powers.push_back(*power);
    }
  }
  if (auto form = r.Enum("form", true, kForms)) {
    d.form = static_cast<DelegationForm>(std::find(kForms.begin(), kForms.end(), *form) -
                                         kForms.begin());
    if (d.form != DelegationForm::kEntrustment && d.seal.empty() && r.Has("to")) {
      sink->Error(JoinJsonPointer(r.PointerOf("to"), "seal"), "missing-seal",
                  "devolution and concentrated approval decide in the receiver's name: give the "
                  "receiver's approval seal (审批专用章) as to.seal");
    }
  }
  if (const nlohmann::json* basis = r.Array("legal_basis", true)) {
    if (basis->empty()) {
      sink->Error(r.PointerOf("legal_basis"), "empty-list", "a delegation needs a legal basis");
    }
    for (size_t i = 0; i < basis->size(); ++i) {
      ObjectReader c((*basis)[i], JoinJsonPointer(r.PointerOf("legal_basis"), i), sink,
                     {"citation", "article", "url"});
      d.legal_basis.push_back({c.String("citation", true).value_or(""),
                               c.String("article", false).value_or(""),
                               c.String("url", false).value_or("")});
    }
  }
  auto from_text = r.String("effective_from", true);
  if (from_text) {
    if (auto day = ParseIsoDay(*from_text)) {
      d.effective_from = *day;
    } else {
      sink->Error(r.PointerOf("effective_from"), "bad-date",
                  "\"" + *from_text + "\" is not a date (YYYY-MM-DD)");
    }
  }
  if (auto to_text = r.String("effective_to", false)) {
    if (auto day = ParseIsoDay(*to_text)) {
      d.effective_to = *day;
      if (*day < d.effective_from) {
        sink->Error(r.PointerOf("effective_to"), "bad-range",
                    "effective_to is before effective_from");
      }
    } else {
      sink->Error(r.PointerOf("effective_to"), "bad-date",
                  "\"" + *to_text + "\" is not a date (YYYY-MM-DD)");
    }
  }
  d.territory = r.String("territory", false).value_or("");
  d.note = r.String("note", false).value_or("");
  r.String("note", false);
  if (sink->diagnostics().size() != before && sink->has_errors()) return std::nullopt;
  return d;
}

std::shared_ptr<const DelegationList> CompileDelegationList(
    const nlohmann::json& root, const std::function<bool(const std::string&)>& item_exists,
    DiagnosticSink* sink) {
  ObjectReader top(root, "", sink,
                   {"kind", "id", "version", "title", "description", "delegations"});
  if (!top.valid()) return nullptr;
  auto list = std::make_shared<DelegationList>();
  list->id = top.Slug("id", true).value_or("");
  list->version = static_cast<int>(top.Integer("version", true, 1, 1000000).value_or(1));
  list->title = top.String("title", true).value_or("");
  top.String("description", false);
  std::set<std::string> ids;
  if (const nlohmann::json* records = top.Array("delegations", true)) {
    for (size_t i = 0; i < records->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("delegations"), i);
      auto d = ReadDelegation((*records)[i], pointer, item_exists, sink);
      if (!d) continue;
      if (!ids.insert(d->id).second) {
        sink->Error(pointer + "/id", "duplicate-id",
                    "delegation \"" + d->id + "\" is listed twice");
        continue;
      }
      d->list_id = list->id;
      list->delegations.push_back(std::move(*d));
    }
  }
  if (sink->has_errors()) return nullptr;
  return list;
}

nlohmann::json DelegationToJson(const Delegation& d) {
  nlohmann::json powers = nlohmann::json::array();
  for (Power p : d.powers)
    powers.push_back(PowerName(p));
  nlohmann::json basis = nlohmann::json::array();
  for (const auto& c : d.legal_basis) {
    nlohmann::json j = {{"citation", c.citation}};
    if (!c.article.empty()) j["article"] = c.article;
    if (!c.url.empty()) j["url"] = c.url;
    basis.push_back(j);
  }
  nlohmann::json to = {{"id", d.to.id}, {"name", d.to.name}};
  if (!d.seal.empty()) to["seal"] = d.seal;
  nlohmann::json j = {{"id", d.id},
                      {"item", d.item_id},
                      {"from", {{"id", d.from.id}, {"name", d.from.name}}},
                      {"to", to},
                      {"powers", powers},
                      {"form", DelegationFormName(d.form)},
                      {"legal_basis", basis},
                      {"effective_from", FormatIsoDay(d.effective_from)}};
  if (d.effective_to) j["effective_to"] = FormatIsoDay(*d.effective_to);
  if (!d.territory.empty()) j["territory"] = d.territory;
  if (!d.note.empty()) j["note"] = d.note;
  return j;
}

}  // namespace tongban
