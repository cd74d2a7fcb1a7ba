// GET /v1/track/{number}?code=: public progress, for anyone holding the number and query code.
#include <string>
#include <utility>
#include <vector>

#include "api/case_views.h"
#include "api/handlers.h"
#include "api/http_util.h"
#include "workflows/sha256.h"

namespace tongban::api {

namespace {

// The name of the window that received a case under a handling agreement (for the public).
std::string ReceivingOrganName(const ApiContext& ctx, const std::string& agreement_id,
                               const std::string& organ_id) {
  for (const auto& list : ctx.service->registry()->AgreementLists()) {
    for (const HandlingAgreement& a : list->agreements) {
      if (a.id == agreement_id && a.receiving.id == organ_id) return a.receiving.name;
    }
  }
  return organ_id;
}

}  // namespace

void Track(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::string number = req.matches[1];
  std::string code = Param(req, "code");
  if (auto record = ctx.service->store()->GetCaseByNumber(number);
      record.ok() && *record &&
      ctx.service->registry()->FindBundle((*record)->definition_id,
                                          (*record)->definition_version)) {
    auto bundle = ctx.service->GetBundle((*record)->id);
    if (!bundle.ok() || code.empty() || !ConstantTimeEquals(code, bundle->state.query_code)) {
      Fail(404, "not-found", "Not found", "no case with that number and query code");
    }
    SendJson(res, 200, BundleTrackingJson(*bundle, BundlePartReasons(*bundle, *ctx.service)));
    return;
  }
  auto view = ctx.service->GetByNumber(number);
  // A wrong code and an unknown number look the same, so numbers cannot be probed.
  if (!view.ok() || code.empty() || !ConstantTimeEquals(code, view->state.query_code)) {
    Fail(404, "not-found", "Not found", "no case with that number and query code");
  }
  const CaseState& s = view->state;
  std::vector<Event> events;  // the timeline is left empty when the history cannot be read
  if (auto history = ctx.service->History(s.id); history.ok()) events = std::move(history).value();
  const std::string receiving =
      s.received_by.empty() ? "" : ReceivingOrganName(ctx, s.reception_agreement, s.received_by);
  SendJson(
      res, 200,
      TrackingJson(*view, ComputeProgress(*view, events, *ctx.service->registry()), receiving));
}

}  // namespace tongban::api
