#include "workflows/step_graph.h"

#include <gtest/gtest.h>

#include "workflows/item_compiler.h"
#include "workflows/json_document.h"
#include "workflows/synthetic.h"

namespace tongban {
namespace {

// Builds the step graph of an item by hand; only what AnalyzeStepGraph reads is filled in.
class Graph {
 public:
  size_t Step(const std::string& id, std::optional<int> limit = std::nullopt, bool counts = true) {
    tongban::Step s;
    s.id = id;
    s.title = id;
    s.role = "reviewer";
    s.time_limit_days = limit;
    s.counts_toward_limit = counts;
    item_.step_index[id] = item_.steps.size();
    item_.steps.push_back(std::move(s));
    return item_.steps.size() - 1;
  }
  void To(size_t from, size_t to) {
    Action a;
    a.id = "to_" + item_.steps[to].id;
    a.to_step = to;
    Add(from, std::move(a));
  }
  void Decide(size_t from, Decision decision) {
    Action a;
    a.id = decision == Decision::kApprove ? "approve" : "deny";
    a.decision = decision;
    Add(from, std::move(a));
  }
  void Initial(size_t step) { item_.initial_step = step; }
  StepGraphReport Analyze() const { return AnalyzeStepGraph(item_); }

 private:
  void Add(size_t from, Action a) {
    tongban::Step& s = item_.steps[from];
    s.action_index[a.id] = s.actions.size();
    s.actions.push_back(std::move(a));
  }
  Item item_;
};

using Indexes = std::vector<size_t>;

TEST(StepGraphTest, EmptyItem) {
  StepGraphReport r = Graph().Analyze();
  EXPECT_TRUE(r.unreachable.empty());
  EXPECT_TRUE(r.trapped.empty());
  EXPECT_FALSE(r.can_approve);
  EXPECT_EQ(r.longest_path_days, 0);
}

TEST(StepGraphTest, LinearReview) {
  Graph g;
  size_t a = g.Step("accept_check", 1), b = g.Step("review", 2), c = g.Step("decide", 3);
  g.To(a, b);
  g.Decide(a, Decision::kDeny);
  g.To(b, c);
  g.Decide(c, Decision::kApprove);
  g.Decide(c, Decision::kDeny);
  StepGraphReport r = g.Analyze();
  EXPECT_TRUE(r.unreachable.empty());
  EXPECT_TRUE(r.trapped.empty());
  EXPECT_TRUE(r.can_approve);
  EXPECT_EQ(r.longest_path_days, 6);
}

TEST(StepGraphTest, Reachability) {
  Graph g;
  size_t a = g.Step("a"), b = g.Step("b"), orphan = g.Step("orphan"), feeder = g.Step("feeder"),
         island = g.Step("island");
  g.To(a, b);
  g.Decide(b, Decision::kApprove);
  g.Decide(orphan, Decision::kApprove);  // decides, but nothing leads to it
  g.To(feeder, a);                       // leads into the graph, but nothing leads to it
  g.To(island, island);                  // unreachable and without a decision
  StepGraphReport r = g.Analyze();
  EXPECT_EQ(r.unreachable, (Indexes{orphan, feeder, island}));
  // Unreachable steps are reported as unreachable only, not also as trapped.
  EXPECT_TRUE(r.trapped.empty());
  EXPECT_TRUE(r.can_approve);
}

TEST(StepGraphTest, ReachabilityFromAnotherInitialStep) {
  Graph g;
  size_t first = g.Step("first"), second = g.Step("second"), start = g.Step("start");
  g.To(first, second);
  g.Decide(second, Decision::kApprove);
  g.To(start, second);
  g.Initial(start);
  StepGraphReport r = g.Analyze();
  EXPECT_EQ(r.unreachable, (Indexes{first}));
  EXPECT_TRUE(r.can_approve);
}

TEST(StepGraphTest, TrappedCycleAndDeadEnd) {
  Graph g;
  size_t a = g.Step("a"), b = g.Step("b"), c = g.Step("c"), dead = g.Step("dead"),
         exit = g.Step("exit");
  g.Decide(a, Decision::kApprove);
  g.To(a, b);
  g.To(b, c);
  g.To(c, b);     // b ⇄ c: a loop with no way out
  g.To(a, dead);  // a step without any action
  g.To(a, exit);
  g.To(exit, a);  // a loop back to a, which can decide: fine
  StepGraphReport r = g.Analyze();
  EXPECT_TRUE(r.unreachable.empty());
  EXPECT_EQ(r.trapped, (Indexes{b, c, dead}));
  EXPECT_TRUE(r.can_approve);
}

TEST(StepGraphTest, CycleWithExitIsNotTrapped) {
  Graph g;
  size_t review = g.Step("review", 2), decide = g.Step("decide", 1);
  g.To(review, decide);
  g.To(decide, review);  // send_back
  g.Decide(decide, Decision::kApprove);
  StepGraphReport r = g.Analyze();
  EXPECT_TRUE(r.trapped.empty());
  EXPECT_TRUE(r.can_approve);
  // The loop is counted as one pass: 2 + 1.
  EXPECT_EQ(r.longest_path_days, 3);
}

TEST(StepGraphTest, NoDecisionAtAll) {
  Graph g;
  size_t a = g.Step("a", 1), b = g.Step("b", 2);
  g.To(a, b);
  g.To(b, a);
  StepGraphReport r = g.Analyze();
  EXPECT_EQ(r.trapped, (Indexes{a, b}));
  EXPECT_FALSE(r.can_approve);
  EXPECT_EQ(r.longest_path_days, 3);
}

TEST(StepGraphTest, CanApprove) {
  {
    Graph g;  // only denials
    size_t a = g.Step("a"), b = g.Step("b");
    g.To(a, b);
    g.Decide(a, Decision::kDeny);
    g.Decide(b, Decision::kDeny);
    StepGraphReport r = g.Analyze();
    EXPECT_FALSE(r.can_approve);
    EXPECT_TRUE(r.trapped.empty());
  }
  {
    Graph g;  // the only approval is in an unreachable step
    size_t a = g.Step("a"), b = g.Step("b");
    g.Decide(a, Decision::kDeny);
    g.Decide(b, Decision::kApprove);
    StepGraphReport r = g.Analyze();
    EXPECT_FALSE(r.can_approve);
    EXPECT_EQ(r.unreachable, (Indexes{b}));
  }
}

TEST(StepGraphTest, LongestPathTakesTheLongerBranch) {
  // a(1) → b(5) → d(1) and a(1) → c(2) → d(1): the longest path is 1 + 5 + 1 = 7.
  Graph g;
  size_t a = g.Step("a", 1), b = g.Step("b", 5), c = g.Step("c", 2), d = g.Step("d", 1);
  g.To(a, b);
  g.To(a, c);
  g.To(b, d);
  g.To(c, d);
  g.Decide(d, Decision::kApprove);
  EXPECT_EQ(g.Analyze().longest_path_days, 7);
}

TEST(StepGraphTest, LongestPathSkipsUncountedAndUnlimitedSteps) {
  // Same diamond, but b is a special procedure (not counted) and c has no limit:
  // a → b → d = 1 + 0 + 1, a → c → d = 1 + 0 + 1.
  Graph g;
  size_t a = g.Step("a", 1), b = g.Step("b", 5, /*counts=*/false), c = g.Step("c"),
         d = g.Step("d", 1);
  g.To(a, b);
  g.To(a, c);
  g.To(b, d);
  g.To(c, d);
  g.Decide(d, Decision::kApprove);
  EXPECT_EQ(g.Analyze().longest_path_days, 2);
}

TEST(StepGraphTest, LongestPathIgnoresUnreachableSteps) {
  Graph g;
  size_t a = g.Step("a", 2), far = g.Step("far", 100);
  g.Decide(a, Decision::kApprove);
  g.To(far, a);
  StepGraphReport r = g.Analyze();
  EXPECT_EQ(r.unreachable, (Indexes{far}));
  EXPECT_EQ(r.longest_path_days, 2);
}

TEST(StepGraphTest, CyclesAreCountedOnce) {
  // a(1) → {b(2) ⇄ c(3)} → d(4), with a self-loop on d: 1 + 2 + 3 + 4 = 10, however often the
  // loops are taken.
  Graph g;
  size_t a = g.Step("a", 1), b = g.Step("b", 2), c = g.Step("c", 3), d = g.Step("d", 4);
  g.To(a, b);
  g.To(b, c);
  g.To(c, b);
  g.To(c, d);
  g.To(d, d);
  g.Decide(d, Decision::kApprove);
  EXPECT_EQ(g.Analyze().longest_path_days, 10);

  // A loop through the initial step (review ⇄ decide via send_back, plus an inspection reached
  // from decide that returns to review): every step of the loop once, 2 + 1 + 5.
  Graph h;
  size_t review = h.Step("review", 2), decide = h.Step("decide", 1), inspect = h.Step("inspect", 5);
  h.To(review, decide);
  h.To(decide, review);
  h.To(decide, inspect);
  h.To(inspect, review);
  h.Decide(decide, Decision::kApprove);
  StepGraphReport r = h.Analyze();
  EXPECT_EQ(r.longest_path_days, 8);
  EXPECT_TRUE(r.trapped.empty());

  // Two loops one after the other, and a shortcut around the first.
  Graph k;
  size_t s = k.Step("s", 1), x1 = k.Step("x1", 10), x2 = k.Step("x2", 10), y1 = k.Step("y1", 3),
         y2 = k.Step("y2", 4);
  k.To(s, x1);
  k.To(s, y1);  // shortcut: skips the x loop
  k.To(x1, x2);
  k.To(x2, x1);
  k.To(x2, y1);
  k.To(y1, y2);
  k.To(y2, y1);
  k.Decide(y2, Decision::kApprove);
  EXPECT_EQ(k.Analyze().longest_path_days, 1 + 20 + 7);
}

TEST(StepGraphTest, LongChainDoesNotOverflowTheStack) {
  for (int n : {5000, 200000}) {
    SCOPED_TRACE(n);
    // A forward chain: longest path n (every step has 1 day).
    Graph chain;
    for (int i = 0; i < n; ++i)
      chain.Step("step-" + std::to_string(i), 1);
    for (int i = 0; i + 1 < n; ++i)
      chain.To(static_cast<size_t>(i), static_cast<size_t>(i + 1));
    chain.Decide(static_cast<size_t>(n - 1), Decision::kApprove);
    StepGraphReport r = chain.Analyze();
    EXPECT_TRUE(r.unreachable.empty());
    EXPECT_TRUE(r.trapped.empty());
    EXPECT_TRUE(r.can_approve);
    EXPECT_EQ(r.longest_path_days, n);

    // The same chain with a way back from every step: one strongly connected component of n steps,
    // each counted once.
    Graph loop;
    for (int i = 0; i < n; ++i)
      loop.Step("step-" + std::to_string(i), 1);
    for (int i = 0; i + 1 < n; ++i) {
      loop.To(static_cast<size_t>(i), static_cast<size_t>(i + 1));
      loop.To(static_cast<size_t>(i + 1), static_cast<size_t>(i));
    }
    loop.Decide(static_cast<size_t>(n - 1), Decision::kApprove);
    StepGraphReport l = loop.Analyze();
    EXPECT_TRUE(l.trapped.empty());
    EXPECT_EQ(l.longest_path_days, n);

    // Without the final decision every step is trapped.
    Graph trap;
    for (int i = 0; i < n; ++i)
      trap.Step("step-" + std::to_string(i), 1);
    for (int i = 0; i + 1 < n; ++i)
      trap.To(static_cast<size_t>(i), static_cast<size_t>(i + 1));
    EXPECT_EQ(trap.Analyze().trapped.size(), static_cast<size_t>(n));
  }
}

TEST(StepGraphTest, SyntheticItemOf5000StepsCompiles) {
  SyntheticDefinitions defs = MakeSyntheticItem(5000);
  DiagnosticSink calendar_sink("calendar", nullptr);
  auto calendar = CompileCalendar(nlohmann::json::parse(defs.calendar_text), &calendar_sink);
  ASSERT_TRUE(calendar);
  Result<JsonDocument> doc = JsonDocument::Parse(defs.item_text);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  DiagnosticSink sink("item", &doc.value());
  auto item = CompileItem(
      doc->root(), [&](const std::string&) { return calendar; }, &sink);
  ASSERT_TRUE(item);
  ASSERT_EQ(item->steps.size(), 5000u);
  StepGraphReport r = AnalyzeStepGraph(*item);
  EXPECT_TRUE(r.unreachable.empty());
  EXPECT_TRUE(r.trapped.empty());
  EXPECT_TRUE(r.can_approve);
  EXPECT_EQ(r.longest_path_days, 5000);  // one day per step, the return actions form one loop
  // The promise is 2000 days, so the compiler warns, and says by how much.
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].code, "step-limits-exceed-promise");
  EXPECT_NE(sink.diagnostics()[0].message.find("5000"), std::string::npos);
}

}  // namespace
}  // namespace tongban
