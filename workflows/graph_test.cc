#include "workflows/graph.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "workflows/definition_set.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

const DefinitionSet& Shipped() {
  static const DefinitionSet* set = [] {
    auto* s = new DefinitionSet();
    s->AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions");
    s->Compile();
    return s;
  }();
  return *set;
}

std::vector<std::shared_ptr<const Item>> ShippedItems() {
  EXPECT_FALSE(Shipped().HasErrors());
  std::vector<std::shared_ptr<const Item>> items = Shipped().Items();
  EXPECT_GE(items.size(), 5u);
  return items;
}

std::shared_ptr<const Item> ShippedItem(const std::string& id) {
  auto item = Shipped().FindItem(id);
  EXPECT_TRUE(item) << id;
  return item;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The first line of `text` that contains `part` (which may end in "\n" to match a line's end), or
// "" when there is none.
std::string LineWith(const std::string& text, const std::string& part) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (Contains(line + "\n", part)) return line;
  }
  return "";
}

const std::vector<std::string> kFrameStates = {
    "submitted",  "correction_pending", "not_accepted", "withdrawn",
    "terminated", "approved",           "denied",       "closed",
    "revoked"};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tongban-graph-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool HaveDot() {
  return std::system("command -v dot >/dev/null 2>&1") == 0;
}

struct DotRun {
  int exit_code = -1;
  std::string svg;
  std::string errors;
};

// Renders `dot_text` with Graphviz into SVG.
DotRun RunDot(const std::string& dot_text, const std::string& name) {
  TempDir dir;
  fs::path in = dir.path() / (name + ".dot");
  fs::path out = dir.path() / (name + ".svg");
  fs::path err = dir.path() / (name + ".err");
  std::ofstream(in, std::ios::binary) << dot_text;
  std::string command =
      "dot -Tsvg '" + in.string() + "' -o '" + out.string() + "' 2> '" + err.string() + "'";
  int status = std::system(command.c_str());
  DotRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream svg(out, std::ios::binary);
  std::ostringstream svg_text;
  svg_text << svg.rdbuf();
  run.svg = svg_text.str();
  std::ifstream errors(err, std::ios::binary);
  std::ostringstream error_text;
  error_text << errors.rdbuf();
  run.errors = error_text.str();
  return run;
}

TEST(GraphTest, MermaidHasEveryStepFrameStateAndAction) {
  for (const auto& item : ShippedItems()) {
    SCOPED_TRACE(item->id);
    std::string mermaid = RenderMermaid(*item);
    EXPECT_EQ(mermaid.rfind("stateDiagram-v2\n", 0), 0u);
    for (const std::string& state : kFrameStates) {
      EXPECT_TRUE(Contains(mermaid, "\" as " + state + "\n")) << state;
    }
    EXPECT_TRUE(Contains(mermaid, "under_review {\n"));
    EXPECT_TRUE(Contains(mermaid, "[*] --> submitted\n"));
    EXPECT_TRUE(Contains(mermaid, "submitted --> under_review"));
    EXPECT_TRUE(Contains(mermaid, "[*] --> s" + std::to_string(item->initial_step) + "\n"));
    for (size_t i = 0; i < item->steps.size(); ++i) {
      const Step& step = item->steps[i];
      std::string node = "\" as s" + std::to_string(i) + "\n";
      std::string line = LineWith(mermaid, node);
      ASSERT_FALSE(line.empty()) << step.id;
      EXPECT_TRUE(Contains(line, "(" + step.id + ", " + step.role)) << line;
      for (const Action& action : step.actions) {
        std::string target = action.to_step ? "s" + std::to_string(*action.to_step)
                             : action.decision == Decision::kApprove ? "review_approve"
                                                                     : "review_deny";
        EXPECT_TRUE(
            Contains(mermaid, "s" + std::to_string(i) + " --> " + target + " : " + action.id))
            << step.id << "." << action.id;
      }
    }
  }
}

TEST(GraphTest, DotHasEveryStepFrameStateAndAction) {
  for (const auto& item : ShippedItems()) {
    SCOPED_TRACE(item->id);
    std::string dot = RenderDot(*item);
    EXPECT_EQ(dot.rfind("digraph \"" + item->id + "\" {\n", 0), 0u);
    for (const std::string& state : kFrameStates) {
      EXPECT_TRUE(Contains(dot, "  " + state + " [label=\"")) << state;
    }
    EXPECT_TRUE(Contains(dot, "subgraph cluster_under_review {"));
    EXPECT_TRUE(Contains(dot, "start -> submitted;"));
    for (size_t i = 0; i < item->steps.size(); ++i) {
      const Step& step = item->steps[i];
      std::string line = LineWith(dot, "    s" + std::to_string(i) + " [label=\"");
      ASSERT_FALSE(line.empty()) << step.id;
      EXPECT_TRUE(Contains(line, "(" + step.id + ", " + step.role)) << line;
      for (const Action& action : step.actions) {
        std::string target = action.to_step ? "s" + std::to_string(*action.to_step)
                             : action.decision == Decision::kApprove ? "approved"
                                                                     : "denied";
        // The action's title, not its id, on the edge.
        EXPECT_TRUE(Contains(
            dot, "  s" + std::to_string(i) + " -> " + target + " [label=\"" + action.title))
            << step.id << "." << action.id;
      }
    }
  }
}

TEST(GraphTest, DotOfEveryShippedItemRenders) {
  if (!HaveDot()) GTEST_SKIP() << "Graphviz dot is not on PATH";
  for (const auto& item : ShippedItems()) {
    SCOPED_TRACE(item->id);
    DotRun run = RunDot(RenderDot(*item), item->id);
    EXPECT_EQ(run.exit_code, 0) << run.errors;
    EXPECT_FALSE(Contains(run.errors, "Error")) << run.errors;
    EXPECT_TRUE(Contains(run.svg, "<svg")) << run.svg.substr(0, 200);
    // Every step appears in the picture (Graphviz writes the node name as the title of its group).
    for (size_t i = 0; i < item->steps.size(); ++i) {
      EXPECT_TRUE(Contains(run.svg, "<title>s" + std::to_string(i) + "</title>")) << i;
    }
  }
}

// No shipped item has an art. 45 procedure since the food licence's on-site check counts (art.
// 34): the scenarios' test item, whose 检测 step is one.
std::shared_ptr<const Item> TestingItem() {
  static const std::shared_ptr<const Item> item = [] {
    DefinitionSet set;
    set.AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars", false);
    set.AddPath(std::string(TONGBAN_SOURCE_DIR) +
                "/tests/scenarios/items/product-testing-licence.json");
    set.Compile();
    EXPECT_FALSE(set.HasErrors());
    return set.FindItem("product-testing-licence");
  }();
  return item;
}

TEST(GraphTest, SpecialProcedureStepsAreMarked) {
  auto item = TestingItem();
  ASSERT_TRUE(item);
  auto index = item->StepIndex("detection");
  ASSERT_TRUE(index);
  ASSERT_EQ(item->steps[*index].special_procedure, "detection");
  std::string s = "s" + std::to_string(*index);

  std::string mermaid = RenderMermaid(*item);
  EXPECT_TRUE(Contains(mermaid, "  class " + s + " special\n"));
  EXPECT_TRUE(Contains(LineWith(mermaid, "\" as " + s + "\n"), "special procedure detection"));
  std::string dot_line = LineWith(RenderDot(*item), "    " + s + " [label=\"");
  EXPECT_TRUE(Contains(dot_line, "special procedure detection")) << dot_line;
  EXPECT_TRUE(Contains(dot_line, "fillcolor=\"#fde68a\"")) << dot_line;

  // Steps that count are not marked — the food licence's on-site check among them.
  auto review = item->StepIndex("review");
  ASSERT_TRUE(review);
  std::string r = "s" + std::to_string(*review);
  EXPECT_FALSE(Contains(mermaid, "class " + r + " special"));
  EXPECT_FALSE(Contains(LineWith(RenderDot(*item), "    " + r + " [label=\""), "fillcolor"));
  auto food = ShippedItem("food-business-licence");
  ASSERT_TRUE(food);
  auto inspection = food->StepIndex("inspection");
  ASSERT_TRUE(inspection);
  EXPECT_TRUE(food->steps[*inspection].counts_toward_limit);
  EXPECT_FALSE(
      Contains(RenderMermaid(*food), "class s" + std::to_string(*inspection) + " special"));
}

TEST(GraphTest, JointStepsAreMarked) {
  auto item = ShippedItem("joint-drawing-review");
  ASSERT_TRUE(item);
  auto index = item->StepIndex("joint_review");
  ASSERT_TRUE(index);
  const Step& step = item->steps[*index];
  ASSERT_TRUE(step.is_joint());
  std::string s = "s" + std::to_string(*index);

  std::string mermaid = RenderMermaid(*item);
  EXPECT_TRUE(Contains(mermaid, "  class " + s + " joint\n"));
  std::string mermaid_line = LineWith(mermaid, "\" as " + s + "\n");
  EXPECT_TRUE(Contains(mermaid_line, "[joint")) << mermaid_line;
  std::string dot_line = LineWith(RenderDot(*item), "    " + s + " [label=\"");
  EXPECT_TRUE(Contains(dot_line, "peripheries=2")) << dot_line;
  for (const JointParty& party : step.parties) {
    EXPECT_TRUE(Contains(mermaid_line, party.title)) << party.title;
    EXPECT_TRUE(Contains(dot_line, party.title)) << party.title;
  }
  // The decision step is neither joint nor special.
  auto decide = item->StepIndex("decide");
  ASSERT_TRUE(decide);
  EXPECT_FALSE(Contains(mermaid, "class s" + std::to_string(*decide) + " "));
}

TEST(GraphTest, InstantAndCommitmentShortcuts) {
  auto instant = ShippedItem("seal-engraving-filing");
  ASSERT_TRUE(instant);
  ASSERT_EQ(instant->case_type, CaseType::kInstant);
  EXPECT_TRUE(Contains(RenderMermaid(*instant), "submitted --> approved : accept_and_decide"));
  EXPECT_TRUE(Contains(RenderDot(*instant), "submitted -> denied [label=\"受理并当场决定\"]"));

  auto promised = ShippedItem("establishment-registration");
  ASSERT_TRUE(promised);
  ASSERT_EQ(promised->case_type, CaseType::kPromised);
  EXPECT_FALSE(Contains(RenderMermaid(*promised), "accept_and_decide"));
  EXPECT_FALSE(Contains(RenderDot(*promised), "受理并当场决定"));
  EXPECT_FALSE(Contains(RenderDot(*promised), "verification"));

  auto commitment = ShippedItem("food-business-licence");
  ASSERT_TRUE(commitment);
  ASSERT_TRUE(commitment->commitment && commitment->commitment->decide_at_acceptance);
  EXPECT_TRUE(Contains(RenderMermaid(*commitment), "submitted --> approved : accept (commitment"));
  // The commitment path: accepted and decided at once, then verified; a breach revokes.
  const std::string dot = RenderDot(*commitment);
  EXPECT_TRUE(Contains(dot, "submitted -> approved [label=\"受理（告知承诺，当场决定）\""));
  EXPECT_TRUE(Contains(dot, "  verification [label=\"告知承诺核查\\n")) << dot;
  EXPECT_TRUE(Contains(dot, "approved -> verification [label=\"核查（告知承诺）\""));
  EXPECT_TRUE(Contains(dot, "verification -> revoked [label=\"不实承诺：撤销，记入信用记录\""));
}

// A page lays the graph out top to bottom; the DOT text's default stays left to right. Every
// graph names the CJK font, and the frame's states show in words.
TEST(GraphTest, DotRankdirFontAndFrameInWords) {
  auto item = ShippedItem("construction-permit");
  ASSERT_TRUE(item);
  const std::string lr = RenderDot(*item);
  const std::string tb = RenderDot(*item, DotOptions{"TB"});
  EXPECT_TRUE(Contains(lr, "  rankdir=LR;\n"));
  EXPECT_FALSE(Contains(lr, "rankdir=TB"));
  EXPECT_TRUE(Contains(tb, "  rankdir=TB;\n"));
  EXPECT_FALSE(Contains(tb, "rankdir=LR"));
  EXPECT_TRUE(IsRankdir("TB") && IsRankdir("LR") && !IsRankdir("BT") && !IsRankdir("tb"));
  for (const std::string& dot : {lr, tb}) {
    EXPECT_TRUE(Contains(dot, "  node [shape=box, style=rounded, fontname=\"Noto Sans CJK SC\"];"));
    EXPECT_TRUE(Contains(dot, "  edge [fontname=\"Noto Sans CJK SC\", fontsize=10];"));
    EXPECT_TRUE(Contains(dot, "  not_accepted [label=\"不予受理\\nnot_accepted\"]"));
    EXPECT_TRUE(Contains(dot, "submitted -> correction_pending [label=\"一次性告知补正\"]"));
    EXPECT_TRUE(Contains(dot, "review_frame [shape=note"));
  }
}

// Free text from a modeller may contain anything; both outputs must stay well-formed.
TEST(GraphTest, TitlesAreEscaped) {
  Item item;
  item.id = "odd-item";
  item.title = "Title with \"quotes\", back\\slash; colon: {braces} # hash\nand a new line";
  Step step;
  step.id = "odd_step";
  step.title = "审查 \"A\": {B}; #C \\ D\nE";
  step.role = "reviewer";
  step.time_limit_days = 2;
  Action approve;
  approve.id = "approve";
  approve.decision = Decision::kApprove;
  step.action_index["approve"] = 0;
  step.actions.push_back(approve);
  item.steps.push_back(step);
  item.step_index["odd_step"] = 0;

  std::string mermaid = RenderMermaid(item);
  std::string line = LineWith(mermaid, "\" as s0");
  ASSERT_FALSE(line.empty()) << mermaid;
  // Only the two quotes around the label remain on the line.
  EXPECT_EQ(std::count(line.begin(), line.end(), '"'), 2) << line;
  EXPECT_TRUE(Contains(line, "(odd_step, reviewer, 2 wd)")) << line;
  // The title's new line did not break the comment line into two.
  EXPECT_TRUE(Contains(mermaid,
                       "%% Title with  quotes , back\\slash  colon   braces    hash and a "
                       "new line (odd-item v1)\n"))
      << mermaid;

  std::string dot = RenderDot(item);
  EXPECT_TRUE(Contains(dot, "\\\"quotes\\\", back\\\\slash")) << dot;
  EXPECT_TRUE(Contains(dot, "\\nand a new line")) << dot;
  if (!HaveDot()) GTEST_SKIP() << "Graphviz dot is not on PATH";
  DotRun run = RunDot(dot, "odd-item");
  EXPECT_EQ(run.exit_code, 0) << run.errors << "\n" << dot;
  EXPECT_TRUE(Contains(run.svg, "<title>s0</title>"));
}

TEST(GraphTest, GuardedActionsAreMarked) {
  auto item = ShippedItem("food-business-licence");
  ASSERT_TRUE(item);
  const Step* step = item->FindStep("review");
  ASSERT_TRUE(step);
  ASSERT_TRUE(step->FindAction("pass")->guard);
  ASSERT_FALSE(step->FindAction("order_inspection")->guard);
  std::string mermaid = RenderMermaid(*item);
  EXPECT_TRUE(Contains(mermaid, " : pass [guarded]\n")) << mermaid;
  EXPECT_TRUE(Contains(mermaid, " : order_inspection\n")) << mermaid;
  EXPECT_TRUE(Contains(RenderDot(*item), "[label=\"审查通过，无需现场核查，提交决定\\n（条件："))
      << RenderDot(*item);
}

// 开办企业 over the shipped items: registration, then the seal when the applicant wants one.
const char* kStartupBundle = R"({
  "kind": "bundle", "id": "startup", "version": 1, "title": "开办企业一件事",
  "lead_organ": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
  "time_limits": {"calendar": "cn-mainland", "promised_days": 1},
  "form": [
    {"id": "enterprise_name", "label": "企业名称", "type": "string", "required": true},
    {"id": "enterprise_type", "label": "企业类型", "type": "enum", "required": true,
     "values": ["有限责任公司", "股份有限公司"]},
    {"id": "residence", "label": "住所", "type": "string", "required": true},
    {"id": "legal_representative", "label": "法定代表人", "type": "string", "required": true},
    {"id": "business_scope", "label": "经营范围", "type": "string", "required": true},
    {"id": "requires_pre_approval", "label": "是否含前置审批", "type": "boolean", "required": true},
    {"id": "needs_seal", "label": "是否刻制公章", "type": "boolean", "required": true},
    {"id": "credit_code", "label": "统一社会信用代码", "type": "string", "required": true},
    {"id": "seal_type", "label": "印章类型", "type": "enum", "required": true,
     "values": ["法定名称章", "财务专用章"]},
    {"id": "seal_count", "label": "数量", "type": "number", "required": true},
    {"id": "engraver_name", "label": "刻制单位", "type": "string", "required": true}
  ],
  "materials": [
    {"id": "application_form", "name": "申请书", "necessity": "required"},
    {"id": "articles", "name": "章程", "necessity": "required"},
    {"id": "investor_documents", "name": "投资人证明", "necessity": "required"},
    {"id": "officer_documents", "name": "任职文件和身份证明", "necessity": "required"},
    {"id": "residence_document", "name": "住所文件", "necessity": "required"},
    {"id": "business_licence", "name": "营业执照", "necessity": "required"},
    {"id": "seal_impression", "name": "印模", "necessity": "required"}
  ],
  "parts": [
    {"id": "registration", "title": "设立登记", "item": "establishment-registration"},
    {"id": "seal", "title": "公章刻制", "item": "seal-engraving-filing", "after": ["registration"],
     "when": {"and": [{"==": [{"var": "needs_seal"}, true]}, {">": [{"var": "seal_count"}, 0]}]},
     "materials": {"filing_form": "application_form", "representative_id": "officer_documents"}}
  ]
})";

std::shared_ptr<const Bundle> StartupBundle() {
  static const DefinitionSet* set = [] {
    auto* s = new DefinitionSet();
    s->AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions/calendars", false);
    s->AddPath(std::string(TONGBAN_SOURCE_DIR) + "/definitions/items", false);
    s->AddText("startup.json", kStartupBundle);
    s->Compile();
    for (const Diagnostic& d : s->Diagnostics())
      ADD_FAILURE() << FormatDiagnostic(d);
    return s;
  }();
  auto bundle = set->FindBundle("startup");
  EXPECT_TRUE(bundle);
  return bundle;
}

TEST(GraphTest, GuardText) {
  using nlohmann::json;
  EXPECT_EQ(GuardText(json::parse(R"({"==": [{"var": "a"}, true]})")), "a == true");
  EXPECT_EQ(
      GuardText(json::parse(R"({"and": [{"!": {"var": "a"}}, {">=": [{"var": ["n", 0]}, 3]}]})")),
      "(not a and n >= 3)");
  EXPECT_EQ(GuardText(json::parse(R"({"in": [{"var": "t"}, ["x", "y"]]})")), "t in ['x', 'y']");
  EXPECT_EQ(GuardText(json::parse(R"({"!": [{"var": "a"}]})")), "not a");
}

TEST(GraphTest, BundleAsMermaidFlowchart) {
  auto bundle = StartupBundle();
  ASSERT_TRUE(bundle);
  std::string mermaid = RenderMermaid(*bundle);
  EXPECT_EQ(mermaid.rfind("flowchart LR\n", 0), 0u) << mermaid;
  EXPECT_TRUE(Contains(mermaid, "%% 开办企业一件事 (startup v1, ××开发区行政审批局, 1 wd)\n"))
      << mermaid;
  EXPECT_TRUE(Contains(mermaid,
                       "  p0[\"设立登记 (registration)<br/>企业设立登记 · "
                       "establishment-registration v2<br/>××市市场监督管理局 · 1 wd\"]\n"))
      << mermaid;
  EXPECT_TRUE(Contains(mermaid, "  start --> p0\n")) << mermaid;
  // The guard labels the edge into the guarded part; ">" is written as an entity code.
  EXPECT_TRUE(
      Contains(mermaid, "  p0 -->|\"when (needs_seal == true and seal_count #gt; 0)\"| p1\n"))
      << mermaid;
  EXPECT_TRUE(Contains(mermaid, "  class p1 guarded\n")) << mermaid;
  EXPECT_FALSE(Contains(mermaid, "start --> p1")) << mermaid;
}

TEST(GraphTest, BundleAsDot) {
  auto bundle = StartupBundle();
  ASSERT_TRUE(bundle);
  std::string dot = RenderDot(*bundle);
  EXPECT_EQ(dot.rfind("digraph \"startup\" {\n", 0), 0u) << dot;
  EXPECT_TRUE(Contains(dot, "  start -> p0;\n")) << dot;
  EXPECT_TRUE(
      Contains(dot, "  p0 -> p1 [label=\"when (needs_seal == true and seal_count > 0)\"];\n"))
      << dot;
  EXPECT_TRUE(Contains(dot, "公章刻制 (seal)\\n公章刻制备案 · seal-engraving-filing v2\\n")) << dot;
  EXPECT_TRUE(Contains(dot, "style=\"rounded,dashed\"")) << dot;
  if (!HaveDot()) GTEST_SKIP() << "Graphviz dot is not on PATH";
  DotRun run = RunDot(dot, "startup");
  EXPECT_EQ(run.exit_code, 0) << run.errors << "\n" << dot;
  EXPECT_TRUE(Contains(run.svg, "<title>p1</title>"));
}

}  // namespace
}  // namespace tongban
