// The route handlers, by route group: one file each, all on the shared ApiContext. routes.cc maps
// them to methods and paths; nothing else calls them.
//
// A handler authenticates (auth.h), parses and checks the request (http_util.h), asks CaseService
// or its registers, and renders the answer (case_views.h) — or throws ProblemError. Who may see or
// do what is the engine's (engine/permissions.h); a handler only translates its refusal.
#pragma once

#include <httplib.h>

#include "api/context.h"

namespace tongban::api {

// Every handler has this type (routes.h's Handler is a pointer to it).
using HandlerFunction = void(const ApiContext& ctx, const httplib::Request& req,
                             httplib::Response& res);

// observability_routes.cc: GET /healthz, /metrics, /openapi.json (no token).
HandlerFunction Health;
HandlerFunction MetricsText;
HandlerFunction OpenApi;

// definitions_routes.cc: /v1/definitions — list, deploy, get, graph.
HandlerFunction ListDefinitions;
HandlerFunction DeployDefinition;
HandlerFunction GetDefinition;
HandlerFunction GetGraph;
HandlerFunction ValidateDefinition;

// cases_routes.cc: /v1/cases — item cases and bundle cases (一件事) share the routes.
HandlerFunction CreateCase;
HandlerFunction ListCases;
HandlerFunction CountCases;
HandlerFunction GetCase;
HandlerFunction ActOnCase;
HandlerFunction History;
HandlerFunction Verify;

// documents_routes.cc: /v1/cases/{id}/documents (raw body upload, list, one) and
// /v1/cases/{id}/archive.
HandlerFunction UploadDocument;
HandlerFunction ListDocuments;
HandlerFunction GetDocument;
HandlerFunction GetArchive;

// tracking_routes.cc: GET /v1/track/{number}?code= (public, no token).
HandlerFunction Track;

// registers_routes.cc: delegations, credit records, mandates, the ledger.
HandlerFunction ListDelegations;
HandlerFunction GetDelegation;
HandlerFunction AddDelegation;
HandlerFunction RevokeDelegation;
HandlerFunction ListCreditRecords;
HandlerFunction GetCreditRecord;
HandlerFunction RepairCreditRecord;
HandlerFunction ListMandates;
HandlerFunction GetMandate;
HandlerFunction GrantMandate;
HandlerFunction RevokeMandate;
HandlerFunction Ledger;

// admin_routes.cc: POST /v1/admin/clock (simulated clock only), POST /v1/admin/checkpoints.
HandlerFunction AdvanceClock;
HandlerFunction RecordCheckpointNow;

}  // namespace tongban::api
