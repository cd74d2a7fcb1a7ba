#include "workflows/graph.h"

#include <sstream>
#include <vector>

#include "workflows/frame_actions.h"

namespace tongban {

namespace {

// Labels may carry any text a modeller wrote; keep only what both renderers accept unquoted.
std::string MermaidText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ';' || c == '#' || c == '"' || c == '{' || c == '}' || c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string DotText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string StepLabel(const Step& step) {
  std::string label = step.title + " (" + step.id + ", " + step.role;
  if (step.time_limit_days) {
    label += ", " + std::to_string(*step.time_limit_days) +
             (step.time_limit_unit == DayUnit::kNaturalDays ? " nd" : " wd");
  }
  label += ")";
  if (!step.special_procedure.empty()) {
    label += " [special procedure " + step.special_procedure + ", clock paused]";
  } else if (!step.counts_toward_limit) {
    label += " [not counted, clock paused]";
  }
  if (step.excluded_by) {
    label += " [excluded by " + step.excluded_by->citation + step.excluded_by->article + "]";
  }
  if (step.is_joint()) {
    label += " [joint";
    for (const JointParty& p : step.parties)
      label += " " + p.title;
    label += "]";
  }
  return label;
}

std::string ActionLabel(const Action& action) {
  std::string label = action.id;
  if (action.guard) label += " [guarded]";
  return label;
}

}  // namespace

std::string RenderMermaid(const Item& item) {
  std::ostringstream out;
  out << "stateDiagram-v2\n";
  out << "  %% " << MermaidText(item.title) << " (" << item.id << " v" << item.version << ")\n";
  out << "  state \"submitted (received)\" as submitted\n";
  out << "  state \"correction_pending (补正)\" as correction_pending\n";
  out << "  state \"not_accepted (不予受理)\" as not_accepted\n";
  out << "  state \"withdrawn (撤回)\" as withdrawn\n";
  out << "  state \"terminated (终止)\" as terminated\n";
  out << "  state \"approved\" as approved\n";
  out << "  state \"denied\" as denied\n";
  out << "  state \"closed (delivered)\" as closed\n";
  out << "  state \"revoked (撤销)\" as revoked\n";
  out << "  [*] --> submitted\n";
  out << "  submitted --> correction_pending : request_correction\n";
  out << "  correction_pending --> submitted : supply_correction\n";
  out << "  submitted --> not_accepted : refuse\n";
  out << "  submitted --> withdrawn : withdraw\n";
  out << "  correction_pending --> withdrawn : withdraw\n";
  out << "  submitted --> under_review : accept, or deemed after 5 working days\n";
  if (item.case_type == CaseType::kInstant) {
    out << "  submitted --> approved : accept_and_decide (instant)\n";
    out << "  submitted --> denied : accept_and_decide (instant)\n";
  }
  if (item.commitment && item.commitment->decide_at_acceptance) {
    out << "  submitted --> approved : accept (commitment, decided at acceptance)\n";
  }
  out << "  state under_review {\n";
  for (size_t i = 0; i < item.steps.size(); ++i) {
    out << "    state \"" << MermaidText(StepLabel(item.steps[i])) << "\" as s" << i << "\n";
  }
  out << "    state \"decided approve\" as review_approve\n";
  out << "    state \"decided deny\" as review_deny\n";
  out << "    [*] --> s" << item.initial_step << "\n";
  for (size_t i = 0; i < item.steps.size(); ++i) {
    for (const Action& a : item.steps[i].actions) {
      out << "    s" << i << " --> ";
      if (a.to_step) {
        out << "s" << *a.to_step;
      } else {
        out << (a.decision == Decision::kApprove ? "review_approve" : "review_deny");
      }
      out << " : " << MermaidText(ActionLabel(a)) << "\n";
    }
  }
  out << "  }\n";
  out << "  under_review --> approved : decision approve\n";
  out << "  under_review --> denied : decision deny\n";
  out << "  under_review --> withdrawn : withdraw\n";
  out << "  under_review --> terminated : terminate\n";
  out << "  approved --> closed : deliver\n";
  out << "  denied --> closed : deliver\n";
  out << "  approved --> revoked : revoke\n";
  out << "  closed --> revoked : revoke\n";
  out << "  closed --> [*]\n";
  out << "  classDef special fill:#fde68a,stroke:#b45309\n";
  out << "  classDef joint fill:#bfdbfe,stroke:#1d4ed8\n";
  for (size_t i = 0; i < item.steps.size(); ++i) {
    if (!item.steps[i].counts_toward_limit) out << "  class s" << i << " special\n";
    if (item.steps[i].is_joint()) out << "  class s" << i << " joint\n";
  }
  return out.str();
}

bool IsRankdir(const std::string& rankdir) {
  return rankdir == "LR" || rankdir == "TB";
}

namespace {

constexpr const char* kCjkFont = "Noto Sans CJK SC";

// The graph, node and edge defaults every DOT graph shares.
void DotHeader(std::ostringstream& out, const std::string& name, const std::string& label,
               const DotOptions& options) {
  out << "digraph \"" << DotText(name) << "\" {\n";
  out << "  label=\"" << DotText(label) << "\";\n";
  out << "  labelloc=t;\n  rankdir=" << (IsRankdir(options.rankdir) ? options.rankdir : "LR")
      << ";\n";
  out << "  fontname=\"" << kCjkFont << "\";\n";
  out << "  node [shape=box, style=rounded, fontname=\"" << kCjkFont << "\"];\n";
  out << "  edge [fontname=\"" << kCjkFont << "\", fontsize=10];\n";
}

// A frame action's title (受理, 撤回申请, …), from the frame's table.
std::string FrameTitle(const char* action) {
  for (const FrameActionSpec& spec : FrameActionTable()) {
    if (spec.id == action) return spec.title;
  }
  return action;
}

// An edge's label: the action's title, and its condition when it has one.
std::string ActionTitleLabel(const Action& action) {
  std::string label = action.title.empty() ? action.id : action.title;
  if (action.guard) label += "\n（条件：" + GuardText(action.guard->source()) + "）";
  return label;
}

void DotEdge(std::ostringstream& out, const std::string& from, const std::string& to,
             const std::string& label, const std::string& attributes = "") {
  out << "  " << from << " -> " << to << " [label=\"" << DotText(label) << "\"";
  if (!attributes.empty()) out << ", " << attributes;
  out << "];\n";
}

}  // namespace

std::string RenderDot(const Item& item, const DotOptions& options) {
  std::ostringstream out;
  DotHeader(out, item.id, item.title + " (" + item.id + " v" + std::to_string(item.version) + ")",
            options);
  out << "  compound=true;\n";
  out << "  start [shape=point];\n";
  const char* frame[] = {"submitted",  "correction_pending", "not_accepted", "withdrawn",
                         "terminated", "approved",           "denied",       "closed",
                         "revoked"};
  for (const char* code : frame) {
    std::string label = std::string(StatusTitle(code)) + "\n" + code;
    out << "  " << code << " [label=\"" << DotText(label) << "\"";
    if (std::string(code) == "approved" || std::string(code) == "closed") {
      out << ", style=\"rounded,bold\"";
    }
    out << "];\n";
  }
  out << "  subgraph cluster_under_review {\n";
  out << "    label=\"" << DotText(std::string(StatusTitle("under_review")) + " (under_review)")
      << "\";\n    style=rounded;\n";
  for (size_t i = 0; i < item.steps.size(); ++i) {
    const Step& step = item.steps[i];
    out << "    s" << i << " [label=\"" << DotText(StepLabel(step)) << "\"";
    if (!step.counts_toward_limit) out << ", style=\"rounded,filled\", fillcolor=\"#fde68a\"";
    if (step.is_joint()) out << ", style=\"rounded,filled\", fillcolor=\"#bfdbfe\", peripheries=2";
    out << "];\n";
  }
  // What the frame allows at any review step, drawn once rather than as an edge from every step.
  std::string clock_note =
      FrameTitle("suspend") + " / " + FrameTitle("resume") + "：暂停计时（第四十五条）";
  if (item.time_limits.extension_days > 0) {
    clock_note += "\n" + FrameTitle("extend") + "：一次，" +
                  std::to_string(item.time_limits.extension_days) + " " +
                  DayUnitTitle(item.time_limits.statutory_unit);
  }
  out << "    review_frame [shape=note, style=\"\", fontsize=10, label=\"" << DotText(clock_note)
      << "\"];\n";
  out << "  }\n";
  out << "  start -> submitted;\n";
  DotEdge(out, "submitted", "correction_pending", FrameTitle("request_correction"));
  DotEdge(out, "correction_pending", "submitted", FrameTitle("supply_correction"));
  DotEdge(out, "submitted", "not_accepted", FrameTitle("refuse"));
  DotEdge(out, "submitted", "withdrawn", FrameTitle("withdraw"));
  DotEdge(out, "correction_pending", "withdrawn", FrameTitle("withdraw"));
  DotEdge(out, "submitted", "s" + std::to_string(item.initial_step),
          FrameTitle("accept") + " / " + FrameTitle("deem_accepted") + "（5 个工作日）",
          "lhead=cluster_under_review");
  if (item.case_type == CaseType::kInstant) {
    DotEdge(out, "submitted", "approved", FrameTitle("accept_and_decide"));
    DotEdge(out, "submitted", "denied", FrameTitle("accept_and_decide"));
  }
  for (size_t i = 0; i < item.steps.size(); ++i) {
    for (const Action& a : item.steps[i].actions) {
      std::string target = a.to_step                          ? "s" + std::to_string(*a.to_step)
                           : a.decision == Decision::kApprove ? "approved"
                                                              : "denied";
      DotEdge(out, "s" + std::to_string(i), target, ActionTitleLabel(a));
    }
  }
  const std::string first = "s" + std::to_string(item.initial_step);
  DotEdge(out, first, "withdrawn", FrameTitle("withdraw"),
          "ltail=cluster_under_review, style=dashed");
  DotEdge(out, first, "terminated", FrameTitle("terminate"),
          "ltail=cluster_under_review, style=dashed");
  DotEdge(out, "approved", "closed", FrameTitle("deliver"));
  DotEdge(out, "denied", "closed", FrameTitle("deliver"));
  DotEdge(out, "approved", "revoked", FrameTitle("revoke"));
  DotEdge(out, "closed", "revoked", FrameTitle("revoke"));
  if (item.commitment) {
    // 告知承诺: the approval rests on the applicant's commitment until it is verified.
    const CommitmentMode& c = *item.commitment;
    const char* path = "color=\"#b45309\", fontcolor=\"#b45309\"";
    out << "  verification [label=\""
        << DotText("告知承诺核查\n" + std::to_string(c.verification_days) + " 个工作日内（" +
                   c.verification_method + "）")
        << "\", style=\"rounded,dashed\", color=\"#b45309\"];\n";
    if (c.decide_at_acceptance) {
      DotEdge(out, "submitted", "approved", FrameTitle("accept") + "（告知承诺，当场决定）",
              std::string(path) + ", penwidth=2");
    }
    DotEdge(out, "approved", "verification", FrameTitle("verify") + "（告知承诺）",
            std::string(path) + ", style=dashed");
    DotEdge(out, "verification", "approved", "核查通过",
            std::string(path) + ", style=dashed, constraint=false");
    DotEdge(out, "verification", "revoked", "不实承诺：撤销，记入信用记录",
            std::string(path) + ", style=dashed");
  }
  out << "}\n";
  return out.str();
}

namespace {

// Mermaid flowchart text inside a quoted label: quotes and angle brackets as entity codes.
std::string MermaidLabel(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '#':
        out += "#35;";
        break;
      case '\n':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The lines of a part's label: the part, its item, the item's organ and promise.
std::vector<std::string> PartLines(const BundlePart& part) {
  std::vector<std::string> lines = {part.title + " (" + part.id + ")"};
  if (part.item) {
    lines.push_back(part.item->title + " · " + part.item->id + " v" +
                    std::to_string(part.item->version));
    lines.push_back(
        part.item->organ.name + " · " + std::to_string(part.item->time_limits.promised_days) +
        (part.item->time_limits.promised_unit == DayUnit::kNaturalDays ? " nd" : " wd"));
  }
  return lines;
}

std::string BundleTitle(const Bundle& bundle) {
  std::string promise;
  if (bundle.promised_days > 0) {
    promise = ", " + std::to_string(bundle.promised_days) +
              (bundle.promised_unit == DayUnit::kNaturalDays ? " nd" : " wd");
  }
  for (const BundleStage& stage : bundle.stages) {
    promise += ", " + stage.title + " " + std::to_string(stage.promised_days) +
               (stage.promised_unit == DayUnit::kNaturalDays ? " nd" : " wd");
  }
  return bundle.title + " (" + bundle.id + " v" + std::to_string(bundle.version) + ", " +
         bundle.lead_organ.name + promise + ")";
}

std::string WhenLabel(const BundlePart& part) {
  return part.when ? "when " + GuardText(part.when->source()) : "";
}

}  // namespace

std::string GuardText(const nlohmann::json& e) {
  if (e.is_string()) return "'" + e.get<std::string>() + "'";
  if (e.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < e.size(); ++i)
      out += (i > 0 ? ", " : "") + GuardText(e[i]);
    return out + "]";
  }
  if (!e.is_object() || e.size() != 1) return e.dump();
  const std::string& op = e.begin().key();
  const nlohmann::json& args = e.begin().value();
  if (op == "var") {
    if (args.is_string()) return args.get<std::string>();
    if (args.is_array() && !args.empty() && args[0].is_string()) return args[0].get<std::string>();
    return args.dump();
  }
  if (op == "!") {
    return "not " + GuardText(args.is_array() && args.size() == 1 ? args[0] : args);
  }
  if (!args.is_array()) return op + " " + GuardText(args);
  if (op == "and" || op == "or") {
    std::string out = "(";
    for (size_t i = 0; i < args.size(); ++i)
      out += (i > 0 ? " " + op + " " : "") + GuardText(args[i]);
    return out + ")";
  }
  if (args.size() == 2) return GuardText(args[0]) + " " + op + " " + GuardText(args[1]);
  return op + " " + GuardText(args);
}

std::string RenderMermaid(const Bundle& bundle) {
  std::ostringstream out;
  out << "flowchart LR\n";
  out << "  %% " << MermaidText(BundleTitle(bundle)) << "\n";
  out << "  start([\"" << MermaidLabel(bundle.title) << "\"])\n";
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    std::string label;
    for (const std::string& line : PartLines(bundle.parts[i]))
      label += (label.empty() ? "" : "<br/>") + MermaidLabel(line);
    out << "  p" << i << "[\"" << label << "\"]\n";
  }
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    const BundlePart& part = bundle.parts[i];
    std::string when = WhenLabel(part);
    std::string arrow = when.empty() ? " --> " : " -->|\"" + MermaidLabel(when) + "\"| ";
    if (part.after.empty()) out << "  start" << arrow << "p" << i << "\n";
    for (size_t a : part.after)
      out << "  p" << a << arrow << "p" << i << "\n";
  }
  out << "  classDef guarded stroke-dasharray: 5 5\n";
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    if (bundle.parts[i].when) out << "  class p" << i << " guarded\n";
  }
  return out.str();
}

std::string RenderDot(const Bundle& bundle, const DotOptions& options) {
  std::ostringstream out;
  DotHeader(out, bundle.id, BundleTitle(bundle), options);
  out << "  start [shape=oval, label=\"" << DotText(bundle.title) << "\"];\n";
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    const BundlePart& part = bundle.parts[i];
    std::string label;
    for (const std::string& line : PartLines(part))
      label += (label.empty() ? "" : "\n") + line;
    out << "  p" << i << " [label=\"" << DotText(label) << "\"";
    if (part.when) out << ", style=\"rounded,dashed\"";
    out << "];\n";
  }
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    const BundlePart& part = bundle.parts[i];
    std::string when = WhenLabel(part);
    std::string attributes = when.empty() ? "" : " [label=\"" + DotText(when) + "\"]";
    if (part.after.empty()) out << "  start -> p" << i << attributes << ";\n";
    for (size_t a : part.after)
      out << "  p" << a << " -> p" << i << attributes << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace tongban
