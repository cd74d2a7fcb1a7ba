#include "workflows/frame_actions.h"

#include <utility>

namespace tongban {

const char* DataFieldTypeName(DataFieldType type) {
  switch (type) {
    case DataFieldType::kText:
      return "text";
    case DataFieldType::kMaterialIds:
      return "material_ids";
    case DataFieldType::kChoice:
      return "choice";
    case DataFieldType::kObject:
      return "object";
    case DataFieldType::kInteger:
      return "integer";
  }
  return "text";
}

namespace {

DataField Reason(bool required = true, std::string when = "") {
  return {"reason", DataFieldType::kText, required && when.empty(), std::move(when), {}, "理由"};
}

DataField Materials(const char* name, const char* title) {
  return {name, DataFieldType::kMaterialIds, true, "", {}, title};
}

}  // namespace

const std::vector<std::string>& ClosedStatuses() {
  static const std::vector<std::string> statuses = {
      "approved", "denied", "closed", "not_accepted", "withdrawn", "terminated", "revoked"};
  return statuses;
}

namespace {

std::vector<FrameActionSpec> BuildTable() {
  const std::vector<std::string> kStaffWindow = {"clerk"};
  const std::vector<std::string> kApplicantSide = {"applicant", "agent", "clerk"};
  const std::vector<std::string> kOpen = {"submitted", "correction_pending", "under_review"};
  std::vector<FrameActionSpec> t;
  t.push_back({"submit",
               "申请",
               "the application that opens a case (recorded by case creation)",
               {"applicant", "agent", "clerk"},
               {},
               {},
               {},
               false,
               false,
               /*records_channel=*/true});
  t.push_back({"accept",
               "受理",
               "accept the application (受理); starts the clock",
               kStaffWindow,
               {Power::kAccept},
               {"submitted"},
               {}});
  t.push_back({"accept_and_decide",
               "受理并当场决定",
               "instant item (即办件): accept and decide at once",
               kStaffWindow,
               {Power::kAccept, Power::kDecide},
               {"submitted"},
               {{"decision", DataFieldType::kChoice, true, "", {"approve", "deny"}, "决定"},
                Reason(false, "decision is deny")}});
  t.push_back({"request_correction",
               "一次性告知补正",
               "notify every missing material at once (一次性告知)",
               kStaffWindow,
               {Power::kAccept},
               {"submitted"},
               {Materials("missing", "需补正的材料"), Reason(/*required=*/false)}});
  t.push_back({"supply_correction",
               "补正",
               "supply what the correction notice listed",
               kApplicantSide,
               {Power::kAccept},
               {"correction_pending"},
               {Materials("materials", "补正材料")},
               false,
               true,
               /*records_channel=*/true});
  t.push_back({"supply_materials",
               "补交材料",
               "supply materials (e.g. deferred ones)",
               kApplicantSide,
               {Power::kAccept},
               {"submitted", "under_review"},
               {Materials("materials", "补交的材料")},
               false,
               true,
               /*records_channel=*/true});
  t.push_back({"refuse",
               "不予受理",
               "do not accept (不予受理), with reasons",
               kStaffWindow,
               {Power::kAccept},
               {"submitted"},
               {Reason()}});
  t.push_back({"withdraw",
               "撤回申请",
               "withdraw the application before a decision (撤回)",
               {"applicant", "agent"},
               {},
               kOpen,
               {},
               false,
               true,
               /*records_channel=*/true});
  t.push_back({"transfer",
               "移交",
               "收受分离: the receiving window transfers the case to the handling organ",
               kStaffWindow,
               {Power::kAccept},
               {"submitted"},
               {}});
  t.push_back({"suspend",
               "中止",
               "pause the clock for a special procedure",
               {"reviewer", "approver"},
               {Power::kReview},
               {"under_review"},
               {Reason()}});
  t.push_back({"resume",
               "恢复",
               "end a suspension",
               {"reviewer", "approver"},
               {Power::kReview},
               {"under_review"},
               {}});
  t.push_back({"extend",
               "延长期限",
               "extend the limit once by the item's extension days",
               {"approver"},
               {Power::kDecide},
               {"under_review"},
               {Reason()}});
  t.push_back({"deliver",
               "送达",
               "deliver the decision (送达)",
               kStaffWindow,
               {Power::kAccept},
               {"approved", "denied"},
               {}});
  t.push_back({"terminate",
               "终止",
               "terminate the procedure (终止), with reasons",
               {"approver"},
               {Power::kDecide},
               kOpen,
               {Reason()}});
  t.push_back({"revoke",
               "撤销",
               "revoke a granted decision (撤销), with reasons",
               {"approver"},
               {Power::kDecide},
               {"approved", "closed"},
               {Reason()}});
  t.push_back({"verify",
               "核查",
               "record the verification of a commitment (核查): pass, or breach (revokes the "
               "decision)",
               {"verifier"},
               {Power::kDecide},
               {"approved", "closed"},
               {{"result", DataFieldType::kChoice, true, "", {"pass", "breach"}, "核查结果"},
                Reason(false, "result is breach"),
                {"findings", DataFieldType::kText, false, "", {}, "核查情况"}}});
  t.push_back({"record_breach",
               "记录失信",
               "reserved: a breach is recorded by verify with result \"breach\"",
               {"verifier"},
               {},
               {},
               {},
               false,
               false});
  t.push_back({"rate",
               "评价",
               "rate the handling of a closed case once (好差评): a score from 1 to 5 and a "
               "comment; 1 or 2 (差评) opens a rectification",
               {"applicant", "agent"},
               {},
               ClosedStatuses(),
               {{"score", DataFieldType::kInteger, true, "", {"1", "2", "3", "4", "5"}, "评分"},
                {"comment", DataFieldType::kText, false, "", {}, "评价内容"}}});
  t.push_back({"answer_rating",
               "差评整改答复",
               "answer a bad rating's rectification (整改) with what was done",
               {"clerk", "reviewer", "approver"},
               {Power::kAccept},
               ClosedStatuses(),
               {{"answer", DataFieldType::kText, true, "", {}, "整改情况"}}});
  t.push_back({"deem_accepted",
               "视为受理",
               "no correction notice within 5 working days (art. 32)",
               {"system"},
               {},
               {},
               {},
               true});
  t.push_back({"mark_overdue",
               "逾期",
               "the statutory limit has passed without a decision",
               {"system"},
               {},
               {},
               {},
               true});
  t.push_back({"mark_verification_overdue",
               "核查逾期",
               "the verification period of a commitment has passed without a result",
               {"system"},
               {},
               {},
               {},
               true});
  t.push_back({"mark_rectification_overdue",
               "整改逾期",
               "a bad rating's rectification period has passed without an answer",
               {"system"},
               {},
               {},
               {},
               true});
  return t;
}

}  // namespace

namespace {

// Beside the frame table, whose offered_in names the same codes; the bundle's own codes follow.
const std::pair<const char*, const char*> kStatusTitles[] = {
    {"submitted", "待受理"},
    {"correction_pending", "待补正"},
    {"under_review", "审查中"},
    {"approved", "准予许可"},
    {"denied", "不予许可"},
    {"closed", "已办结"},
    {"not_accepted", "不予受理"},
    {"withdrawn", "已撤回"},
    {"terminated", "已终止"},
    {"revoked", "已撤销"},
    // bundle cases (一件事)
    {"in_progress", "办理中"},
    {"ready", "待送达"},
    {"delivered", "已送达"},
    // bundle parts
    {"waiting", "等待前序事项"},
    {"blocked", "无法办理"},
    {"awaiting_input", "待补充信息"},
    {"not_applicable", "不适用"},
};

}  // namespace

const char* StatusTitle(const std::string& code) {
  for (const auto& [status, title] : kStatusTitles) {
    if (code == status) return title;
  }
  return "";
}

const std::vector<FrameActionSpec>& FrameActionTable() {
  static const std::vector<FrameActionSpec> table = BuildTable();
  return table;
}

const FrameActionSpec* FindFrameAction(const std::string& id) {
  for (const FrameActionSpec& a : FrameActionTable()) {
    if (a.id == id) return a.dispatched ? &a : nullptr;
  }
  return nullptr;
}

const std::vector<std::string>& ReservedActionIds() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const FrameActionSpec& a : FrameActionTable())
      out.push_back(a.id);
    return out;
  }();
  return ids;
}

}  // namespace tongban
