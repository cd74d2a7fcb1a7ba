// POST /v1/admin/clock: only on a simulated clock. Moves the clock forward and fires the timers
// that are then due, so that tests and demonstrations see deadlines pass at once. (On a real clock
// the engine's timer loop fires them; this server runs none.)
// POST /v1/admin/checkpoints: records a signed checkpoint of the whole database now and answers
// with its witness file, for the caller to keep elsewhere (engine/checkpoint_schedule.h). Only
// on a server started with --checkpoint-key.
#include <chrono>
#include <string>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_util.h"

namespace tongban::api {

void AdvanceClock(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  Authorize(p, Operation::kMoveClock);
  nlohmann::json body = ParseBody(req);
  CheckKeys(body, {"advance", "to"});
  SimulatedClock& clock = *ctx.simulated_clock;
  if (body.contains("to")) {
    Expect(body, "to", IsString, "a timestamp", true);
    auto to = ParseTimestamp(body["to"].get<std::string>());
    if (!to) Fail(422, "invalid", "The request is not valid", "to must be a timestamp");
    if (*to < clock.Now())
      Fail(422, "invalid", "The request is not valid", "the clock only moves forward");
    clock.Set(*to);
  } else {
    Expect(body, "advance", IsObject, "an object {days, hours, minutes}", true);
    const nlohmann::json& a = body["advance"];
    CheckKeys(a, {"days", "hours", "minutes"}, "/advance");
    for (const char* key : {"days", "hours", "minutes"}) {
      if (a.contains(key) && (!a[key].is_number_integer() || a[key].get<int64_t>() < 0 ||
                              a[key].get<int64_t>() > 3660)) {
        Fail(422, "invalid", "The request is not valid",
             std::string("advance.") + key + " must be a whole number 0..3660");
      }
    }
    clock.Advance(std::chrono::days(a.value("days", 0)) + std::chrono::hours(a.value("hours", 0)) +
                  std::chrono::minutes(a.value("minutes", 0)));
  }
  int fired_total = 0;
  for (int round = 0; round < 100; ++round) {
    auto fired = ctx.service->FireDueTimers();
    if (!fired.ok()) Fail(fired.status());
    fired_total += *fired;
    if (*fired == 0) break;
  }
  SendJson(res, 200, {{"now", FormatTimestamp(clock.Now())}, {"timer_events", fired_total}});
}

void RecordCheckpointNow(const ApiContext& ctx, const httplib::Request& req,
                         httplib::Response& res) {
  const Principal& p = Authenticate(ctx, req);
  const Actor actor = Authorize(p, Operation::kRecordCheckpoint);
  // No members: an empty body, or {}. Anything else is refused, never ignored.
  CheckKeys(ParseOptionalBody(req), {});
  auto recorded = ctx.options->checkpoints->RecordNow(actor, ctx.service->clock()->Now());
  if (!recorded.ok()) Fail(recorded.status());
  const Checkpoint& c = recorded->checkpoint;
  // The witness itself, as a file to save: the header line carries everything a later
  // `tongban verify --checkpoint` needs besides the public key.
  res.status = 201;
  res.set_header("Content-Disposition",
                 "attachment; filename=\"checkpoint-" + std::to_string(c.entry_seq) + ".jsonl\"");
  if (!recorded->witness_path.empty() && recorded->witness_written.ok())
    res.set_header("Tongban-Witness-File", recorded->witness_path);
  res.set_content(WitnessText(c), "application/jsonl; charset=utf-8");
}

}  // namespace tongban::api
