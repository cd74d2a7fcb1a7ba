#include "workflows/step_graph.h"

#include <algorithm>

namespace tongban {

namespace {

// Tarjan's strongly connected components, iterative so that a long chain of steps cannot overflow
// the stack. Components come out in reverse topological order.
std::vector<int> StronglyConnectedComponents(const std::vector<std::vector<size_t>>& edges,
                                             int* component_count) {
  const size_t n = edges.size();
  std::vector<int> index(n, -1), low(n, 0), component(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  int next_index = 0;
  int components = 0;
  struct Frame {
    size_t node;
    size_t edge;
  };
  std::vector<Frame> frames;
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != -1) continue;
    frames.push_back({root, 0});
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& f = frames.back();
      if (f.edge < edges[f.node].size()) {
        size_t next = edges[f.node][f.edge++];
        if (index[next] == -1) {
          index[next] = low[next] = next_index++;
          stack.push_back(next);
          on_stack[next] = true;
          frames.push_back({next, 0});
        } else if (on_stack[next]) {
          low[f.node] = std::min(low[f.node], index[next]);
        }
        continue;
      }
      size_t node = f.node;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().node] = std::min(low[frames.back().node], low[node]);
      if (low[node] == index[node]) {
        while (true) {
          size_t member = stack.back();
          stack.pop_back();
          on_stack[member] = false;
          component[member] = components;
          if (member == node) break;
        }
        ++components;
      }
    }
  }
  *component_count = components;
  return component;
}

}  // namespace

StepGraphReport AnalyzeStepGraph(const Item& item) {
  StepGraphReport report;
  const size_t n = item.steps.size();
  if (n == 0) return report;
  std::vector<std::vector<size_t>> edges(n), reverse(n);
  std::vector<bool> decides(n, false), approves(n, false);
  for (size_t s = 0; s < n; ++s) {
    for (const Action& a : item.steps[s].actions) {
      if (a.to_step) {
        edges[s].push_back(*a.to_step);
        reverse[*a.to_step].push_back(s);
      }
      if (a.decision) decides[s] = true;
      if (a.decision == Decision::kApprove) approves[s] = true;
    }
  }
  // Forward reachability from the initial step.
  std::vector<bool> reachable(n, false);
  std::vector<size_t> work = {item.initial_step};
  reachable[item.initial_step] = true;
  while (!work.empty()) {
    size_t s = work.back();
    work.pop_back();
    for (size_t t : edges[s]) {
      if (!reachable[t]) {
        reachable[t] = true;
        work.push_back(t);
      }
    }
  }
  // Backward reachability from the steps that can decide.
  std::vector<bool> can_decide(n, false);
  for (size_t s = 0; s < n; ++s) {
    if (decides[s]) {
      can_decide[s] = true;
      work.push_back(s);
    }
  }
  while (!work.empty()) {
    size_t s = work.back();
    work.pop_back();
    for (size_t t : reverse[s]) {
      if (!can_decide[t]) {
        can_decide[t] = true;
        work.push_back(t);
      }
    }
  }
  for (size_t s = 0; s < n; ++s) {
    if (!reachable[s]) {
      report.unreachable.push_back(s);
    } else if (!can_decide[s]) {
      report.trapped.push_back(s);
    }
    if (reachable[s] && approves[s]) report.can_approve = true;
  }
  // Longest path over the condensation, from the initial step's component.
  int component_count = 0;
  std::vector<int> component = StronglyConnectedComponents(edges, &component_count);
  std::vector<int> weight(component_count, 0);
  for (size_t s = 0; s < n; ++s) {
    const Step& step = item.steps[s];
    if (reachable[s] && step.counts_toward_limit && step.time_limit_days) {
      weight[component[s]] += *step.time_limit_days;
    }
  }
  std::vector<std::vector<int>> component_edges(component_count);
  for (size_t s = 0; s < n; ++s) {
    if (!reachable[s]) continue;
    for (size_t t : edges[s]) {
      if (component[s] != component[t]) component_edges[component[s]].push_back(component[t]);
    }
  }
  // Tarjan numbers components in reverse topological order: successors have smaller numbers.
  std::vector<int> best(component_count, 0);
  for (int c = 0; c < component_count; ++c) {
    int tail = 0;
    for (int next : component_edges[c])
      tail = std::max(tail, best[next]);
    best[c] = weight[c] + tail;
  }
  report.longest_path_days = best[component[item.initial_step]];
  return report;
}

}  // namespace tongban
