#include "engine/postgres_pipeline.h"

namespace tongban::postgres_store_detail {

PostgresPipeline::PostgresPipeline(PGconn* conn, std::map<std::string, std::string>* prepared)
    : conn_(conn), prepared_(prepared) {}

size_t PostgresPipeline::Add(const std::string& sql, Params params) {
  Statement s;
  s.sql = sql;
  s.params = std::move(params);
  if (!s.params.empty()) {
    auto it = prepared_->find(sql);
    if (it == prepared_->end()) {
      it = prepared_->emplace(sql, "s" + std::to_string(prepared_->size())).first;
      s.prepare_as = it->second;
    }
    s.name = it->second;
  }
  statements_.push_back(std::move(s));
  return statements_.size() - 1;
}

namespace {

// How far a statement got onto the wire.
struct Sent {
  bool prepare = false;
  bool query = false;
};

}  // namespace

Status PostgresPipeline::Run() {
  answers_.clear();
  answers_.resize(statements_.size());
  std::vector<Sent> sent(statements_.size());
  bool sending = PQenterPipelineMode(conn_) == 1;
  for (size_t i = 0; sending && i < statements_.size(); ++i) {
    Statement& s = statements_[i];
    if (!s.prepare_as.empty()) {
      sending = PQsendPrepare(conn_, s.prepare_as.c_str(), s.sql.c_str(), 0, nullptr) == 1;
      sent[i].prepare = sending;
      if (!sending) break;
    }
    std::vector<const char*> values;
    values.reserve(s.params.size());
    for (const Param& p : s.params)
      values.push_back(p ? p->c_str() : nullptr);
    sending =
        s.name.empty()
            ? PQsendQueryParams(conn_, s.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1
            : PQsendQueryPrepared(conn_, s.name.c_str(), static_cast<int>(values.size()),
                                  values.data(), nullptr, nullptr, 0) == 1;
    sent[i].query = sending;
  }
  // What was sent is answered even when the rest could not be: the Sync ends it either way.
  const bool synced = PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && PQpipelineSync(conn_) == 1;
  // Why statements got no answer: the connection's error, as Connection::Failure words it.
  auto unanswered = [&] {
    return FailureOf(conn_, nullptr, "sending a pipeline of statements", nullptr);
  };
  Status first = Status::Ok();
  bool reading = synced;
  for (size_t i = 0; i < statements_.size(); ++i) {
    Statement& s = statements_[i];
    PipelineAnswer& a = answers_[i];
    bool prepared = s.prepare_as.empty();
    for (int part = 0; part < 2; ++part) {
      const bool preparation = part == 0;
      if (preparation && s.prepare_as.empty()) continue;
      if (!(preparation ? sent[i].prepare : sent[i].query) || !reading) {
        // Never sent, or its answer cannot be read: a failure of its own unless the pipeline had
        // failed before it (then it would not have run anyway).
        if (a.status.ok() && !a.skipped) {
          if (first.ok()) {
            a.status = unanswered();
            first = a.status;
          } else {
            a.skipped = true;
            a.status = Status(first.code(), "not run, after: " + first.message());
          }
        }
        continue;
      }
      PgResult r(PQgetResult(conn_));
      // Each command's results end with a null result (a Sync's does not).
      if (r != nullptr && PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC) {
        while (PGresult* more = PQgetResult(conn_)) {
          PQclear(more);
          if (PQstatus(conn_) != CONNECTION_OK) break;
        }
      }
      const ExecStatusType status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r.get());
      if (!a.status.ok() || a.skipped) continue;  // its preparation failed: that is its answer
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (preparation) {
          prepared = true;
        } else {
          a.rows = Rows{std::move(r)};
        }
        continue;
      }
      if (status == PGRES_PIPELINE_ABORTED && !first.ok()) {
        a.skipped = true;
        a.status = Status(first.code(), "not run, after: " + first.message());
        continue;
      }
      a.status = FailureOf(conn_, r.get(),
                           (preparation ? "preparing " + s.sql : s.sql).substr(0, 60), &a.violated);
      if (first.ok()) first = a.status;
      // Out of step with the server (no answer where one was due, or a Sync's), or the
      // connection is gone: nothing more can be read.
      if (r == nullptr || status == PGRES_PIPELINE_SYNC || PQstatus(conn_) != CONNECTION_OK) {
        reading = false;
      }
    }
    // A statement whose preparation did not happen is prepared again at its next use.
    if (!prepared) prepared_->erase(s.sql);
  }
  if (reading) {
    PgResult sync(PQgetResult(conn_));
    if (sync == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) reading = false;
  }
  // Out of pipeline mode for the connection's one-statement calls; a connection that cannot leave
  // it (out of step, or broken) fails its next statement as unavailable and is replaced.
  if (!reading || PQexitPipelineMode(conn_) != 1) {
    if (first.ok()) first = unanswered();
  }
  return first;
}

Status PostgresPipeline::FirstFailure(size_t from, size_t to) const {
  for (size_t i = from; i < to && i < answers_.size(); ++i) {
    if (!answers_[i].status.ok()) return answers_[i].status;
  }
  return Status::Ok();
}

}  // namespace tongban::postgres_store_detail
