#include "engine/decision_document.h"

#include <chrono>

#include "workflows/calendar.h"

namespace tongban {

namespace {

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 2026年3月2日
std::string ChineseDate(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  return std::to_string(static_cast<int>(ymd.year())) + "年" +
         std::to_string(static_cast<unsigned>(ymd.month())) + "月" +
         std::to_string(static_cast<unsigned>(ymd.day())) + "日";
}

}  // namespace

std::string RenderDecisionDocument(const CaseState& s, const Item& item) {
  const bool granted = s.decision == Decision::kApprove;
  const std::string title = granted ? "准予行政许可决定书" : "不予行政许可决定书";
  const std::string issuer = s.issued_in_name.empty() ? item.organ.name : s.issued_in_name;
  const std::string seal = s.issued_in_seal.empty() ? issuer + "（印章）" : s.issued_in_seal;
  const Instant decided = s.decided_at.value_or(s.updated_at);
  std::string date = FormatIsoDay(std::chrono::floor<std::chrono::days>(decided));
  if (item.time_limits.calendar) {
    date = ChineseDate(item.time_limits.calendar->LocalDate(decided));
  }
  std::string basis;
  for (const LegalCitation& c : item.legal_basis) {
    basis +=
        "<li>" + Escape(c.citation) + (c.article.empty() ? "" : " " + Escape(c.article)) + "</li>";
  }
  std::string reasons = s.decision_reason;
  if (reasons.empty()) {
    reasons = granted ? "经审查，申请材料齐全、符合法定形式，申请人的申请符合法定条件、标准。"
                      : "经审查，申请不符合法定条件、标准。";
  }
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         title + " " + Escape(s.number) + "</title>\n";
  out +=
      "<style>body{font-family:serif;max-width:42em;margin:2em auto;line-height:1.8}"
      "h1{text-align:center;letter-spacing:.2em}.no{text-align:center}"
      ".sign{text-align:right;margin-top:3em}dt{font-weight:bold}</style>\n</head>\n<body>\n";
  out += "<h1>" + title + "</h1>\n";
  out += "<p class=\"no\">编号：" + Escape(s.number) + "</p>\n";
  out += "<p>申请人：" + Escape(s.applicant_name) +
         (s.applicant_credit_code.empty()
              ? ""
              : "（统一社会信用代码：" + Escape(s.applicant_credit_code) + "）") +
         "</p>\n";
  out += "<p>申请事项：" + Escape(item.title) + "</p>\n";
  out += "<p>" + Escape(issuer) + "于" +
         (s.accepted_at && item.time_limits.calendar
              ? ChineseDate(item.time_limits.calendar->LocalDate(*s.accepted_at))
              : std::string("依法")) +
         "受理你（单位）提出的" + Escape(item.title) + "申请（案件号 " + Escape(s.number) +
         "）。</p>\n";
  out += "<p>" + std::string(granted ? "决定：准予行政许可。" : "决定：不予行政许可。") + "</p>\n";
  out += "<dl>\n<dt>理由</dt><dd>" + Escape(reasons) + "</dd>\n";
  out += "<dt>法律依据</dt><dd><ul>" + basis + "</ul></dd>\n";
  out += "<dt>实施机关</dt><dd>" + Escape(item.organ.name) + "</dd>\n";
  if (!s.issued_under_delegation.empty()) {
    out += "<dt>赋权</dt><dd>依据赋权（" + Escape(s.issued_under_delegation) + "），以" +
           Escape(issuer) + "名义作出</dd>\n";
  }
  out += "</dl>\n";
  if (!granted) {
    out +=
        "<p>如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法"
        "向人民法院提起行政诉讼。</p>\n";
  }
  out += "<p class=\"sign\">" + Escape(issuer) + "<br>" + Escape(seal) + "<br>" + date + "</p>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace tongban
