// The decision document (行政许可决定书) of a decided case: 准予行政许可决定书 or
// 不予行政许可决定书, written by the engine from the case's state when the decision is taken,
// stored as a document of the case (documents.h) and named by the decision event
// (`data.decision_document`).
//
// It says what the law asks a written decision to say (行政许可法 arts. 38, 39): the number, the
// applicant, the item, the decision, its reasons and legal basis, the organ, the name and seal it
// is issued in (under a delegation: the organ in whose name it is issued, and the delegation), the
// date in the calendar's zone (Beijing), and for a denial the right to administrative review or
// litigation.
//
// The file is HTML: UTF-8, self-contained (its style inline, nothing loaded from elsewhere), so an
// archive can keep it and any browser can print it. Not PDF: Debian's HTML-to-PDF routes
// (wkhtmltopdf, chromium --print-to-pdf, weasyprint) all need a browser engine or a Python stack
// at run time, and a PDF library (libharu) would need fonts and layout written by hand for
// Chinese text; a PDF copy is a print of this file, made where one is needed.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "engine/case_state.h"
#include "workflows/item.h"

namespace tongban {

inline constexpr const char* kDecisionDocumentMediaType = "text/html; charset=utf-8";

// The document of `state`, which holds a decision (state.decision and decided_at set); the same
// state always gives the same bytes.
std::string RenderDecisionDocument(const CaseState& state, const Item& item);

}  // namespace tongban
