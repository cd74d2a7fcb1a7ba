// API tests of POST /v1/admin/clock (admin_routes.cc): only on a simulated clock; moving it fires
// the timers then due.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"
#include "api/server.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban::api::api_test {
namespace {

// ---- The simulated clock ------------------------------------------------------------------------

// The admin clock exists only with a simulated clock.
TEST(ApiServerTest, AdminClockOnlyWithSimulatedClock) {
  std::string db_path = TempPath(".db");
  SqliteStoreOptions store_options;
  store_options.path = db_path;
  auto store = OpenStoreUnderTest(store_options);
  ASSERT_TRUE(store.ok());
  DefinitionRegistry registry(store->get());
  SystemClock clock;
  ASSERT_TRUE(registry.DeployDirectory(kSourceDir + "/definitions", clock.Now()).ok());
  CaseService service(store->get(), &registry, &clock);
  ServerOptions options;
  options.port = 0;
  options.threads = 4;
  {
    ApiServer server(&service, LoadPrincipals(false), nullptr, options);
    auto port = server.Bind();
    ASSERT_TRUE(port.ok());
    std::thread serving([&] { server.Serve(); });
    for (const std::string& route : server.routes())
      EXPECT_NE(route, "POST /v1/admin/clock");
    EXPECT_EQ(server.routes().size(), 32u);
    Api api(*port);
    Reply r = api.Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 1}}}});
    EXPECT_EQ(r.status, 404) << r;
    EXPECT_EQ(api.Get("/healthz").status, 200);
    server.Stop();
    serving.join();
  }
  store->reset();
  RemoveDatabase(db_path);
}

TEST_F(ApiTest, AdminClockRecordsDeemedAcceptance) {
  std::string id = Submitted();
  Reply before = api().Get("/v1/cases/" + id, kClerk);
  EXPECT_FALSE(before.doc["clock"]["acceptance_deadline"].is_null()) << before;

  // Only admins move the clock; bodies are checked.
  ExpectProblem(api().Post("/v1/admin/clock", kClerk, {{"advance", {{"days", 1}}}}), 403,
                "forbidden");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"weeks", 1}}}}),
                  "/advance/weeks");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, {{"jump", 1}}), "/jump");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", -1}}}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", "1"}}}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-01T09:00:00+08:00"}}), 422,
                "invalid");
  ExpectProblem(api().Post("/v1/admin/clock", kAdmin, {{"to", "soon"}}), 422, "invalid");
  ExpectInvalidAt(api().Post("/v1/admin/clock", kAdmin, json::object()), "/advance");

  // Four working days: still within the window for a correction notice.
  Reply early = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-06T18:00:00+08:00"}});
  ASSERT_EQ(early.status, 200) << early;
  EXPECT_EQ(early.doc["timer_events"], 0);
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["status"], "submitted");

  // Past the fifth working day (Monday 9 March) without a notice, the case is deemed accepted
  // (art. 32), as from the day the materials were received.
  Reply moved = api().Post("/v1/admin/clock", kAdmin, {{"advance", {{"days", 3}, {"hours", 15}}}});
  ASSERT_EQ(moved.status, 200) << moved;
  EXPECT_EQ(moved.doc["now"], "2026-03-10T01:00:00.000Z");
  EXPECT_EQ(moved.doc["timer_events"], 1);
  json events = History(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["action"], "deem_accepted");
  EXPECT_EQ(events[1]["actor"]["id"], "system");
  EXPECT_EQ(events[1]["status"], "under_review");
  EXPECT_EQ(events[1]["prev_hash"], events[0]["hash"]);
  Reply after = api().Get("/v1/cases/" + id, kClerk);
  EXPECT_EQ(after.doc["status"], "under_review");
  EXPECT_EQ(after.doc["deemed_accepted"], true);
  EXPECT_EQ(after.doc["accepted_at"], after.doc["received_at"]);
  EXPECT_EQ(after.Header("ETag"), "\"2\"");
  // Past the statutory limit (7 working days from receipt: Wednesday 11 March) it is marked
  // overdue, and its light is red.
  Reply later = api().Post("/v1/admin/clock", kAdmin, {{"to", "2026-03-12T09:00:00+08:00"}});
  ASSERT_EQ(later.status, 200) << later;
  EXPECT_EQ(later.doc["timer_events"], 1);
  events = History(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2]["action"], "mark_overdue");
  EXPECT_EQ(api().Get("/v1/cases/" + id, kClerk).doc["clock"]["light"], "red");
  EXPECT_EQ(api().Get("/v1/cases/" + id + "/verify", kAuditor).doc["ok"], true);
}

}  // namespace
}  // namespace tongban::api::api_test
