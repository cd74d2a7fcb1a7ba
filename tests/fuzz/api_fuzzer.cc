// libFuzzer harness of the request bodies of every POST route, in-process: the route handlers of
// api/routes.h called directly (no socket) on a CaseService over a SQLite file, on a simulated
// clock, with the demo principals.
//
// An input is three bytes of header and the body:
//   byte 0  which POST route (the route table's POST routes in order, modulo their number); a route
//           with an {id} gets an id that exists: a construction-permit case (or, with bit 7, a
//           business-startup bundle case), the shipped delegation, a mandate granted in the set-up
//   byte 1  whose bearer token (the demo principals in file order, modulo their number)
//   byte 2  bit 0: If-Match "1"; bit 1: Idempotency-Key "fuzz"
//   rest    the body
// Each input runs on a fresh copy of a database prepared once (shipped definitions deployed, the
// cases and the mandate made through the same routes), so an input always meets the same state and
// a crash replays. Besides memory errors and undefined behaviour, an answer of 5xx is a finding:
// a body is the client's, and the API answers a bad one with a 4xx problem.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/context.h"
#include "api/http_util.h"
#include "api/metrics.h"
#include "api/routes.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"
#include "tests/fuzz/fuzz_support.h"
#include "workflows/definition_set.h"

namespace {

namespace fs = std::filesystem;
using tongban::api::ApiContext;
using tongban::api::Route;

constexpr const char* kStart = "2026-03-02T09:00:00+08:00";

struct Fixture {
  std::string dir;
  std::string template_db;
  std::string run_db;
  std::shared_ptr<const tongban::PrincipalSet> principals;
  std::vector<std::string> tokens;
  std::vector<const Route*> post_routes;
  std::vector<std::regex> patterns;  // beside post_routes
  std::string case_id, bundle_id, mandate_id;
};

// One engine over a database file: what ApiServer builds, without the listening server.
struct Engine {
  std::unique_ptr<tongban::SqliteStore> store;
  std::unique_ptr<tongban::SimulatedClock> clock;
  std::unique_ptr<tongban::DefinitionRegistry> registry;
  std::unique_ptr<tongban::CaseService> service;
  tongban::api::Metrics metrics;
  tongban::api::ServerOptions options;
  ApiContext ctx;
};

[[noreturn]] void Broken(const std::string& what) {
  std::fprintf(stderr, "api_fuzzer: %s\n", what.c_str());
  std::abort();
}

std::unique_ptr<Engine> OpenEngine(const std::string& path, bool deploy) {
  auto engine = std::make_unique<Engine>();
  tongban::SqliteStoreOptions store_options;
  store_options.path = path;
  store_options.synchronous = "OFF";  // thrown away after each input
  auto store = tongban::SqliteStore::Open(store_options);
  if (!store.ok()) Broken("cannot open the store: " + store.status().ToString());
  engine->store = std::move(store).value();
  engine->clock = std::make_unique<tongban::SimulatedClock>(*tongban::ParseTimestamp(kStart));
  engine->registry = std::make_unique<tongban::DefinitionRegistry>(engine->store.get());
  if (!engine->registry->LoadFromStore().ok()) Broken("cannot load the definitions");
  if (deploy) {
    auto deployed = engine->registry->DeployDirectory(tongban::fuzz::SourceDir() + "/definitions",
                                                      engine->clock->Now());
    if (!deployed.ok()) Broken("cannot deploy: " + deployed.status().ToString());
  }
  engine->service = std::make_unique<tongban::CaseService>(
      engine->store.get(), engine->registry.get(), engine->clock.get());
  return engine;
}

const Fixture& GetFixture();

// Calls the route's handler as the route wrapper (api/routes.cc) does: a ProblemError is its
// answer.
httplib::Response Dispatch(Engine& engine, const Route& route, const std::regex& pattern,
                           const std::string& path, const std::string& token,
                           const std::string& body, const httplib::Headers& headers) {
  httplib::Request req;
  req.method = route.method;
  req.path = path;
  req.body = body;
  req.headers = headers;
  req.headers.emplace("Content-Type", "application/json");
  if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
  if (!std::regex_match(req.path, req.matches, pattern)) Broken("no match for " + path);
  httplib::Response res;
  try {
    route.handler(engine.ctx, req, res);
  } catch (const tongban::api::ProblemError& e) {
    tongban::api::SendProblem(res, e.problem);
  } catch (const std::exception& e) {
    tongban::api::SendProblem(
        res, tongban::api::MakeProblem(500, "internal", "Internal error", e.what()));
  }
  return res;
}

void Bind(Engine& engine, const Fixture& fixture) {
  engine.ctx = ApiContext{engine.service.get(), fixture.principals.get(), &engine.metrics,
                          engine.clock.get(), &engine.options};
}

std::string PathOf(const Fixture& fixture, const Route& route, bool bundle) {
  std::string path = route.path;
  auto brace = path.find('{');
  if (brace == std::string::npos) return path;
  std::string id = fixture.case_id;
  if (path.rfind("/v1/cases/", 0) == 0 && bundle) id = fixture.bundle_id;
  if (path.rfind("/v1/delegations/", 0) == 0) id = "food-licence-dz-2026";
  if (path.rfind("/v1/mandates/", 0) == 0) id = fixture.mandate_id;
  if (path.rfind("/v1/credit-records/", 0) == 0) id = "credit-none";
  return path.substr(0, brace) + id + path.substr(path.find('}') + 1);
}

std::string Created(Engine& engine, Fixture& fixture, const std::string& route_path,
                    const std::string& token, const std::string& body) {
  for (size_t i = 0; i < fixture.post_routes.size(); ++i) {
    if (fixture.post_routes[i]->path != route_path) continue;
    httplib::Response res =
        Dispatch(engine, *fixture.post_routes[i], fixture.patterns[i], route_path, token, body, {});
    if (res.status != 201 && res.status != 200) Broken(route_path + ": " + res.body);
    return nlohmann::json::parse(res.body).value("id", "");
  }
  Broken("no route " + route_path);
}

Fixture MakeFixture() {
  Fixture fixture;
  std::string pattern = (fs::temp_directory_path() / "tongban-api-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) Broken("cannot make a temp dir");
  fixture.dir = pattern;
  fixture.template_db = fixture.dir + "/template.db";
  fixture.run_db = fixture.dir + "/run.db";

  tongban::DefinitionSet set;
  const std::string principals_path =
      tongban::fuzz::SourceDir() + "/definitions/principals/demo.json";
  set.AddPath(principals_path);
  set.Compile();
  if (set.HasErrors() || !set.FindPrincipals()) Broken("the demo principals do not compile");
  fixture.principals = set.FindPrincipals();
  // The demo tokens are written in each principal's note: "demo token: demo-clerk-token".
  const auto demo = nlohmann::json::parse(tongban::fuzz::ReadFile(principals_path));
  for (const auto& principal : demo["principals"]) {
    const std::string note = principal.value("note", "");
    auto colon = note.find("token: ");
    if (colon != std::string::npos) fixture.tokens.push_back(note.substr(colon + 7));
  }
  fixture.tokens.push_back("");  // no token at all
  for (const Route& route : tongban::api::RouteTable()) {
    if (std::string(route.method) != "POST") continue;
    fixture.post_routes.push_back(&route);
    fixture.patterns.emplace_back(route.pattern);
  }

  {
    auto engine = OpenEngine(fixture.template_db, /*deploy=*/true);
    Bind(*engine, fixture);
    const std::string examples = tongban::fuzz::SourceDir() + "/docs/examples/";
    fixture.case_id =
        Created(*engine, fixture, "/v1/cases", "demo-applicant-token",
                tongban::fuzz::ReadFile(examples + "construction-permit-application.json"));
    fixture.bundle_id =
        Created(*engine, fixture, "/v1/cases", "demo-applicant-token",
                tongban::fuzz::ReadFile(examples + "business-startup-application.json"));
    fixture.mandate_id = Created(*engine, fixture, "/v1/mandates", "demo-applicant-token",
                                 R"({"agent": "agent-demo", "note": "fuzz"})");
  }
  return fixture;
}

const Fixture& GetFixture() {
  static const Fixture fixture = MakeFixture();
  return fixture;
}

void CopyDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::error_code ignored;
    fs::remove(to + suffix, ignored);
  }
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  std::error_code none;
  if (fs::exists(from + "-wal", none)) {
    fs::copy_file(from + "-wal", to + "-wal", fs::copy_options::overwrite_existing);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fixture = GetFixture();
  if (size < 3) return 0;
  const Route& route = *fixture.post_routes[data[0] % fixture.post_routes.size()];
  const std::regex& pattern = fixture.patterns[data[0] % fixture.post_routes.size()];
  const std::string& token = fixture.tokens[data[1] % fixture.tokens.size()];
  httplib::Headers headers;
  if (data[2] & 1) headers.emplace("If-Match", "\"1\"");
  if (data[2] & 2) headers.emplace("Idempotency-Key", "fuzz");
  const std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);

  CopyDatabase(fixture.template_db, fixture.run_db);
  auto engine = OpenEngine(fixture.run_db, /*deploy=*/false);
  Bind(*engine, fixture);
  const std::string path = PathOf(fixture, route, (data[0] & 0x80) != 0);
  httplib::Response res = Dispatch(*engine, route, pattern, path, token, body, headers);
  if (res.status >= 500)
    Broken("POST " + path + " answered " + std::to_string(res.status) + ": " + res.body);
  if (res.status < 200 || res.status >= 500) Broken("no status");
  return 0;
}
