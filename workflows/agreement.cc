#include "workflows/agreement.h"

#include <algorithm>
#include <set>

#include "workflows/schema_reader.h"

namespace tongban {

bool HandlingAgreement::Covers(const std::string& item_id) const {
  return std::find(items.begin(), items.end(), item_id) != items.end();
}

bool HandlingAgreement::EffectiveOn(Day day) const {
  return day >= effective_from && (!effective_to || day <= *effective_to);
}

namespace {

void ReadOrgan(ObjectReader& parent, const std::string& key, Organ* organ, DiagnosticSink* sink) {
  const nlohmann::json* value = parent.Object(key, true);
  if (value == nullptr) return;
  ObjectReader r(*value, parent.PointerOf(key), sink, {"id", "name"});
  organ->id = r.Slug("id", true).value_or("");
  organ->name = r.String("name", true).value_or("");
}

class AgreementReader {
 public:
  AgreementReader(
      const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
      const AcceptsByDelegation& accepts_by_delegation, const std::vector<std::string>& known_items,
      DiagnosticSink* sink)
      : find_item_(find_item),
        accepts_by_delegation_(accepts_by_delegation),
        known_items_(known_items),
        sink_(sink) {}

  std::optional<HandlingAgreement> Read(const nlohmann::json& value, const std::string& pointer) {
    size_t errors_before = ErrorCount();
    ObjectReader r(value, pointer, sink_,
                   {"id", "receiving_organ", "handling_organ", "items", "legal_basis",
                    "effective_from", "effective_to", "note"});
    if (!r.valid()) return std::nullopt;
    HandlingAgreement a;
    a.id = r.Slug("id", true).value_or("");
    ReadOrgan(r, "receiving_organ", &a.receiving, sink_);
    ReadOrgan(r, "handling_organ", &a.handling, sink_);
    if (!a.receiving.id.empty() && a.receiving.id == a.handling.id) {
      sink_->Error(r.PointerOf("handling_organ"), "same-organ",
                   "the receiving and the handling organ are both \"" + a.handling.id +
                       "\": an agreement separates the window that receives (代收) from the "
                       "organ that accepts and decides (收受分离)");
    }
    ReadItems(r, &a);
    if (const nlohmann::json* basis = r.Array("legal_basis", true)) {
      if (basis->empty()) {
        sink_->Error(r.PointerOf("legal_basis"), "empty-list", "an agreement needs a legal basis");
      }
      for (size_t i = 0; i < basis->size(); ++i) {
        ObjectReader c((*basis)[i], JoinJsonPointer(r.PointerOf("legal_basis"), i), sink_,
                       {"citation", "article", "url"});
        a.legal_basis.push_back({c.String("citation", true).value_or(""),
                                 c.String("article", false).value_or(""),
                                 c.String("url", false).value_or("")});
      }
    }
    if (auto from_text = r.String("effective_from", true)) {
      if (auto day = ParseIsoDay(*from_text)) {
        a.effective_from = *day;
      } else {
        sink_->Error(r.PointerOf("effective_from"), "bad-date",
                     "\"" + *from_text + "\" is not a date (YYYY-MM-DD)");
      }
    }
    if (auto to_text = r.String("effective_to", false)) {
      if (auto day = ParseIsoDay(*to_text)) {
        a.effective_to = *day;
        if (*day < a.effective_from) {
          sink_->Error(r.PointerOf("effective_to"), "bad-range",
                       "effective_to (" + *to_text + ") is before effective_from (" +
                           FormatIsoDay(a.effective_from) + ")");
        }
      } else {
        sink_->Error(r.PointerOf("effective_to"), "bad-date",
                     "\"" + *to_text + "\" is not a date (YYYY-MM-DD)");
      }
    }
    a.note = r.String("note", false).value_or("");
    if (ErrorCount() != errors_before) return std::nullopt;
    return a;
  }

 private:
  size_t ErrorCount() const {
    return static_cast<size_t>(
        std::count_if(sink_->diagnostics().begin(), sink_->diagnostics().end(),
                      [](const Diagnostic& d) { return d.severity == Severity::kError; }));
  }

  void ReadItems(ObjectReader& r, HandlingAgreement* a) {
    const nlohmann::json* items = r.Array("items", true);
    if (items == nullptr) return;
    if (items->empty()) {
      sink_->Error(r.PointerOf("items"), "empty-list", "an agreement covers at least one item");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < items->size(); ++i) {
      std::string ip = JoinJsonPointer(r.PointerOf("items"), i);
      if (!(*items)[i].is_string()) {
        sink_->Error(
            ip, "wrong-type",
            "an item reference is an item id (a string), found " + JsonTypeName((*items)[i]));
        continue;
      }
      std::string item_id = (*items)[i].get<std::string>();
      if (!seen.insert(item_id).second) {
        sink_->Error(ip, "duplicate-id", "item \"" + item_id + "\" is listed twice");
        continue;
      }
      a->items.push_back(item_id);
      if (!find_item_) continue;
      std::shared_ptr<const Item> item = find_item_(item_id, 0);
      if (!item) {
        std::string message = "unknown item \"" + item_id + "\"";
        std::string suggestion = ClosestMatch(item_id, known_items_);
        if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
        sink_->Error(ip, "unknown-item",
                     message +
                         " (the item must be deployed or validated together with the list: "
                         "tongban validate --with definitions/items)");
        continue;
      }
      if (a->handling.id.empty() || item->organ.id == a->handling.id) continue;
      if (accepts_by_delegation_ && accepts_by_delegation_(a->handling.id, item_id)) continue;
      sink_->Error(ip, "handling-organ-not-competent",
                   "handling organ \"" + a->handling.id + "\" cannot accept item \"" + item_id +
                       "\": the item is implemented by \"" + item->organ.id + "\" (" +
                       item->organ.name + "), and no delegation list grants \"" + a->handling.id +
                       "\" the power \"accept\" for it");
    }
  }

  const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item_;
  const AcceptsByDelegation& accepts_by_delegation_;
  const std::vector<std::string>& known_items_;
  DiagnosticSink* sink_;
};

}  // namespace

std::shared_ptr<const HandlingAgreementList> CompileHandlingAgreements(
    const nlohmann::json& root,
    const std::function<std::shared_ptr<const Item>(const std::string&, int)>& find_item,
    DiagnosticSink* sink, const AcceptsByDelegation& accepts_by_delegation,
    const std::vector<std::string>& known_items) {
  ObjectReader top(root, "", sink, {"kind", "id", "version", "title", "description", "agreements"});
  if (!top.valid()) return nullptr;
  auto list = std::make_shared<HandlingAgreementList>();
  list->id = top.Slug("id", true).value_or("");
  list->version = static_cast<int>(top.Integer("version", true, 1, 1000000).value_or(1));
  list->title = top.String("title", true).value_or("");
  top.String("description", false);
  AgreementReader reader(find_item, accepts_by_delegation, known_items, sink);
  std::set<std::string> ids;
  if (const nlohmann::json* records = top.Array("agreements", true)) {
    for (size_t i = 0; i < records->size(); ++i) {
      std::string pointer = JoinJsonPointer(top.PointerOf("agreements"), i);
      auto a = reader.Read((*records)[i], pointer);
      if (!a) continue;
      if (!ids.insert(a->id).second) {
        sink->Error(pointer + "/id", "duplicate-id", "agreement \"" + a->id + "\" is listed twice");
        continue;
      }
      a->list_id = list->id;
      list->agreements.push_back(std::move(*a));
    }
  }
  if (sink->has_errors()) return nullptr;
  return list;
}

nlohmann::json HandlingAgreementToJson(const HandlingAgreement& a) {
  nlohmann::json basis = nlohmann::json::array();
  for (const auto& c : a.legal_basis) {
    nlohmann::json j = {{"citation", c.citation}};
    if (!c.article.empty()) j["article"] = c.article;
    if (!c.url.empty()) j["url"] = c.url;
    basis.push_back(j);
  }
  nlohmann::json j = {{"id", a.id},
                      {"list", a.list_id},
                      {"receiving_organ", {{"id", a.receiving.id}, {"name", a.receiving.name}}},
                      {"handling_organ", {{"id", a.handling.id}, {"name", a.handling.name}}},
                      {"items", a.items},
                      {"legal_basis", basis},
                      {"effective_from", FormatIsoDay(a.effective_from)}};
  if (a.effective_to) j["effective_to"] = FormatIsoDay(*a.effective_to);
  if (!a.note.empty()) j["note"] = a.note;
  return j;
}

}  // namespace tongban
