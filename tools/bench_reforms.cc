// tongban bench reforms: what the reforms of issue 5 cost per operation, each against a baseline
// measured in the same run on the same database:
// - a staff action under a delegation (the jurisdiction check reads the ledger and scans the
//   delegation records) against the same action by the implementing organ (no lookup);
// - applying for a bundle (a bundle case plus its first part, one transaction) against applying
//   for the first part's item alone.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/case_service.h"
#include "engine/clock.h"
#include "tools/bench_scratch.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace {

using Micros = std::chrono::duration<double, std::micro>;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

NewCase Registration(const Actor& actor) {
  NewCase c;
  c.definition_id = "establishment-registration";
  c.actor = actor;
  c.applicant_id = "bench-applicant";
  c.applicant_name = "示例科技有限公司";
  c.form = {{"enterprise_name", "示例科技有限公司"}, {"enterprise_type", "有限责任公司"},
            {"residence", "××开发区创新大道8号"},    {"legal_representative", "李四"},
            {"business_scope", "软件开发"},          {"requires_pre_approval", false}};
  c.materials = {"application_form", "articles", "investor_documents", "officer_documents",
                 "residence_document"};
  return c;
}

NewCase Startup() {
  NewCase c = Registration(Actor{"bench-applicant", "applicant", "", "示例科技有限公司"});
  c.definition_id = "business-startup";
  c.form.update({{"credit_code", "91330100MA2START1X"},
                 {"seal_type", "法定名称章"},
                 {"seal_count", 1},
                 {"engraver_name", "××开发区示例刻章有限公司"},
                 {"taxpayer_type", "小规模纳税人"},
                 {"paper_invoices", false},
                 {"invoice_contact", "王五"},
                 {"has_employees", true},
                 {"employee_count", 5},
                 {"insured_from", "2026-03-01"},
                 {"opens_housing_fund", false}});
  return c;
}

int Fail(const std::string& what, const Status& status) {
  std::cerr << "tongban bench reforms: " << what << ": " << status.ToString() << "\n";
  return kExitError;
}

}  // namespace

int BenchReforms(const Args& args) {
  int cases = 300;
  if (auto text = args.Get("cases")) {
    char* end = nullptr;
    long value = std::strtol(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || value < 10 || value > 100000) {
      return UsageError("bench", "--cases must be a whole number 10..100000");
    }
    cases = static_cast<int>(value);
  }
  const std::string definitions = args.Get("definitions").value_or("definitions");
  const bool json = WantsJson(args);
  auto engine = ScratchEngine::Open("reforms", definitions);
  if (!engine.ok()) return Fail("a throw-away database", engine.status());
  CaseService& service = *(*engine)->service;
  SimulatedClock& clock = *(*engine)->clock;
  // Some register history to read, as a running bureau has.
  for (int i = 0; i < 50; ++i) {
    Mandate m;
    m.id = "bench-mandate-" + std::to_string(i);
    m.applicant_id = "bench-applicant";
    m.agent_id = "bench-agent";
    (void)service.registers()->GrantMandate(m, Actor{"bench-applicant", "applicant", "", ""},
                                            clock.Now());
  }

  const Actor own{"amr-clerk", "clerk", "city-amr", "amr-clerk"};
  const Actor delegated{"bureau-clerk", "clerk", "dz-approval-bureau", "bureau-clerk"};
  Progress progress("bench reforms");
  std::vector<double> own_us, delegated_us, item_us, bundle_us;
  for (int i = 0; i < cases; ++i) {
    progress.Update(i, cases);
    for (const Actor* actor : {&own, &delegated}) {
      auto created = service.Create(Registration(Actor{"bench-applicant", "applicant", "", ""}));
      if (!created.ok()) return Fail("creating a case", created.status());
      ActRequest accept;
      accept.case_id = created->state.id;
      accept.action = "accept";
      accept.actor = *actor;
      auto t0 = std::chrono::steady_clock::now();
      auto accepted = service.Act(accept);
      auto t1 = std::chrono::steady_clock::now();
      if (!accepted.ok()) return Fail("accepting", accepted.status());
      (actor == &own ? own_us : delegated_us).push_back(Micros(t1 - t0).count());
    }
    auto t0 = std::chrono::steady_clock::now();
    auto item = service.Create(Registration(Actor{"bench-applicant", "applicant", "", ""}));
    auto t1 = std::chrono::steady_clock::now();
    auto bundle = service.CreateBundle(Startup());
    auto t2 = std::chrono::steady_clock::now();
    if (!item.ok()) return Fail("applying for the item", item.status());
    if (!bundle.ok()) return Fail("applying for the bundle", bundle.status());
    item_us.push_back(Micros(t1 - t0).count());
    bundle_us.push_back(Micros(t2 - t1).count());
  }
  progress.Done();
  const double own_median = Median(own_us), delegated_median = Median(delegated_us);
  const double item_median = Median(item_us), bundle_median = Median(bundle_us);
  if (json) {
    nlohmann::json out = {{"benchmark", "reforms"},
                          {"cases", cases},
                          {"accept_own_organ_median_us", own_median},
                          {"accept_under_delegation_median_us", delegated_median},
                          {"delegation_ratio", delegated_median / own_median},
                          {"apply_item_median_us", item_median},
                          {"apply_bundle_median_us", bundle_median},
                          {"bundle_ratio", bundle_median / item_median}};
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  std::printf("reforms, %d cases each (synchronous=OFF: CPU cost, not fsync)\n", cases);
  std::printf("  accept by the implementing organ (baseline): median %.0f us\n", own_median);
  std::printf("  accept under a delegation:                   median %.0f us  (%.2fx)\n",
              delegated_median, delegated_median / own_median);
  std::printf("  apply for establishment-registration (baseline): median %.0f us\n", item_median);
  std::printf("  apply for the business-startup bundle:           median %.0f us  (%.2fx)\n",
              bundle_median, bundle_median / item_median);
  return kExitOk;
}

}  // namespace tongban::cli
