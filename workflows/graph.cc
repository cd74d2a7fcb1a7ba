#include "workflows/graph.h"

#include <sstream>

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
  if (step.time_limit_days) label += ", " + std::to_string(*step.time_limit_days) + " wd";
  label += ")";
  if (!step.special_procedure.empty()) {
    label += " [special procedure " + step.special_procedure + ", clock paused]";
  } else if (!step.counts_toward_limit) {
    label += " [not counted, clock paused]";
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

std::string RenderDot(const Item& item) {
  std::ostringstream out;
  out << "digraph \"" << DotText(item.id) << "\" {\n";
  out << "  label=\""
      << DotText(item.title + " (" + item.id + " v" + std::to_string(item.version) + ")")
      << "\";\n";
  out << "  labelloc=t;\n  rankdir=LR;\n  compound=true;\n";
  out << "  node [shape=box, style=rounded, fontname=\"Noto Sans CJK SC,sans-serif\"];\n";
  out << "  edge [fontname=\"sans-serif\", fontsize=10];\n";
  out << "  start [shape=point];\n";
  const char* frame[][2] = {{"submitted", "submitted (received)"},
                            {"correction_pending", "correction_pending (补正)"},
                            {"not_accepted", "not_accepted (不予受理)"},
                            {"withdrawn", "withdrawn (撤回)"},
                            {"terminated", "terminated (终止)"},
                            {"approved", "approved"},
                            {"denied", "denied"},
                            {"closed", "closed (delivered)"},
                            {"revoked", "revoked (撤销)"}};
  for (const auto& f : frame)
    out << "  " << f[0] << " [label=\"" << f[1] << "\"];\n";
  out << "  subgraph cluster_under_review {\n";
  out << "    label=\"under_review\";\n    style=rounded;\n";
  for (size_t i = 0; i < item.steps.size(); ++i) {
    const Step& step = item.steps[i];
    out << "    s" << i << " [label=\"" << DotText(StepLabel(step)) << "\"";
    if (!step.counts_toward_limit) out << ", style=\"rounded,filled\", fillcolor=\"#fde68a\"";
    if (step.is_joint()) out << ", style=\"rounded,filled\", fillcolor=\"#bfdbfe\", peripheries=2";
    out << "];\n";
  }
  out << "  }\n";
  out << "  start -> submitted;\n";
  out << "  submitted -> correction_pending [label=\"request_correction\"];\n";
  out << "  correction_pending -> submitted [label=\"supply_correction\"];\n";
  out << "  submitted -> not_accepted [label=\"refuse\"];\n";
  out << "  submitted -> withdrawn [label=\"withdraw\"];\n";
  out << "  correction_pending -> withdrawn [label=\"withdraw\"];\n";
  out << "  submitted -> s" << item.initial_step
      << " [label=\"accept / deemed (5 wd)\", lhead=cluster_under_review];\n";
  if (item.case_type == CaseType::kInstant) {
    out << "  submitted -> approved [label=\"accept_and_decide\"];\n";
    out << "  submitted -> denied [label=\"accept_and_decide\"];\n";
  }
  if (item.commitment && item.commitment->decide_at_acceptance) {
    out << "  submitted -> approved [label=\"accept (commitment)\"];\n";
  }
  for (size_t i = 0; i < item.steps.size(); ++i) {
    for (const Action& a : item.steps[i].actions) {
      out << "  s" << i << " -> ";
      if (a.to_step) {
        out << "s" << *a.to_step;
      } else {
        out << (a.decision == Decision::kApprove ? "approved" : "denied");
      }
      out << " [label=\"" << DotText(ActionLabel(a)) << "\"];\n";
    }
  }
  out << "  s" << item.initial_step
      << " -> withdrawn [label=\"withdraw\", ltail=cluster_under_review, style=dashed];\n";
  out << "  s" << item.initial_step
      << " -> terminated [label=\"terminate\", ltail=cluster_under_review, style=dashed];\n";
  out << "  approved -> closed [label=\"deliver\"];\n";
  out << "  denied -> closed [label=\"deliver\"];\n";
  out << "  approved -> revoked [label=\"revoke\"];\n";
  out << "  closed -> revoked [label=\"revoke\"];\n";
  out << "}\n";
  return out.str();
}

}  // namespace tongban
