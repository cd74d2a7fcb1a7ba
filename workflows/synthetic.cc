#include "workflows/synthetic.h"

#include <nlohmann/json.hpp>

namespace tongban {

SyntheticDefinitions MakeSyntheticItem(int steps) {
  nlohmann::json calendar = {{"kind", "calendar"},
                             {"id", "synthetic-calendar"},
                             {"version", 1},
                             {"title", "synthetic"},
                             {"time_zone", "Asia/Shanghai"},
                             {"weekly_days_off", {"saturday", "sunday"}},
                             {"years", nlohmann::json::array()}};
  for (int year : {2025, 2026}) {
    calendar["years"].push_back({{"year", year},
                                 {"holidays",
                                  {{{"name", "new year"},
                                    {"from", std::to_string(year) + "-01-01"},
                                    {"to", std::to_string(year) + "-01-01"}}}}});
  }
  nlohmann::json item = {
      {"kind", "item"},
      {"id", "synthetic-item"},
      {"version", 1},
      {"title", "synthetic item"},
      {"category", "licensing"},
      {"case_type", "promised"},
      {"organ", {{"id", "synthetic-organ"}, {"name", "synthetic organ"}}},
      {"legal_basis", {{{"citation", "synthetic"}}}},
      {"time_limits",
       {{"calendar", "synthetic-calendar"}, {"statutory_days", 3000}, {"promised_days", 2000}}},
      {"form",
       {{"fields",
         {{{"id", "amount"}, {"label", "amount"}, {"type", "number"}, {"required", true}},
          {{"id", "kind"}, {"label", "kind"}, {"type", "enum"}, {"values", {"a", "b", "c"}}},
          {{"id", "start"}, {"label", "start"}, {"type", "date"}}}}}},
      {"materials", {{{"id", "licence"}, {"name", "licence"}, {"necessity", "required"}}}},
      {"steps", nlohmann::json::array()},
      {"four_eyes", nlohmann::json::array()}};
  for (int i = 0; i < steps; ++i) {
    std::string id = "step-" + std::to_string(i);
    nlohmann::json actions = nlohmann::json::object();
    if (i + 1 < steps) {
      actions["pass"] = {{"to", "step-" + std::to_string(i + 1)},
                         {"guard",
                          {{"and",
                            {{{">=", {{{"var", "amount"}}, i}}},
                             {{"in", {{{"var", "kind"}}, {"a", "b"}}}},
                             {{">", {{{"var", "start"}}, "2025-01-01"}}}}}}},
                         {"requires_materials", {"licence"}}};
    } else {
      actions["approve"] = {{"decision", "approve"}};
    }
    if (i > 0) actions["return"] = {{"to", "step-" + std::to_string(i - 1)}};
    actions["deny"] = {{"decision", "deny"}, {"requires_reason", true}};
    item["steps"].push_back({{"id", id},
                             {"title", "step " + std::to_string(i)},
                             {"role", i % 2 == 0 ? "reviewer" : "approver"},
                             {"time_limit_days", 1},
                             {"actions", actions}});
    if (i > 0) item["four_eyes"].push_back({"step-" + std::to_string(i - 1), id});
  }
  return {calendar.dump(2), item.dump(2)};
}

}  // namespace tongban
