// PostgresPipeline: statements sent to PostgreSQL together in libpq's pipeline mode and answered
// together, one round trip for all of them instead of one each. PostgresStore's writer sends each
// StoreWrite's statements this way (postgres_store.cc): on a loaded machine every round trip waits
// for the scheduler twice, and the writer is the one serial stage.
//
// Contract:
// - Add() queues a statement; Run() sends every statement queued, then one Sync, and reads every
//   answer. The server runs them in order, each as its own statement inside the connection's
//   transaction (BEGIN may be one of them). A statement that fails makes the server skip the rest
//   up to the Sync (answer(i).skipped): exactly what running them one by one and stopping at the
//   first failure would have done. Inside a transaction block the transaction is then in its
//   failed state, as after a failed statement run alone (ROLLBACK TO SAVEPOINT recovers it).
// - Statements with parameters are prepared once per connection, named in `prepared` (SQL ->
//   name, PostgresStore::Connection::prepared) as Connection::Query names them: a statement's
//   first use prepares it in the same pipeline, and a preparation that did not happen (it failed,
//   or was skipped) leaves `prepared` without it. Statements without parameters (SAVEPOINT,
//   COMMIT) are sent unprepared.
// - A failure's Status is Connection::Failure's (postgres_store_detail::FailureOf): kUnavailable
//   for a lost connection or a retryable race, kAlreadyExists for a unique violation (its
//   constraint in answer(i).violated), kInternal otherwise. When the connection breaks, every
//   statement not answered is kUnavailable; whether the server ran it is unknown.
// - Run() leaves the connection out of pipeline mode (unless it broke), so that the connection's
//   one-statement calls (PQexec) work again; it runs once per pipeline.
//
// Thread safety: none; one thread uses a connection at a time.
#pragma once

#include <libpq-fe.h>

#include <map>
#include <string>
#include <vector>

#include "engine/postgres_store_detail.h"

namespace tongban::postgres_store_detail {

// What the server answered to one statement of a pipeline.
struct PipelineAnswer {
  Status status;         // Ok, or why the statement failed or did not run
  bool skipped = false;  // not run: an earlier statement of the pipeline failed
  Rows rows;             // Ok only: the rows (and PQcmdTuples) of the statement
  std::string violated;  // the constraint a failure violated, if any
};

class PostgresPipeline {
 public:
  PostgresPipeline(PGconn* conn, std::map<std::string, std::string>* prepared);
  PostgresPipeline(const PostgresPipeline&) = delete;
  PostgresPipeline& operator=(const PostgresPipeline&) = delete;

  // Queues `sql` ($1, $2, … in it) with `params`; returns its index among the answers.
  size_t Add(const std::string& sql, Params params = {});
  size_t size() const { return statements_.size(); }

  // Sends the statements and one Sync, and reads all answers. Ok when every statement succeeded;
  // else the first failure's Status (every answer is filled in either way).
  Status Run();

  // After Run(): statement i's answer.
  PipelineAnswer& answer(size_t i) { return answers_[i]; }
  // After Run(): the first failure among answers [from, to), or Ok.
  Status FirstFailure(size_t from, size_t to) const;

 private:
  struct Statement {
    std::string sql;
    Params params;
    std::string prepare_as;  // a name to prepare it under first, when new to the connection
    std::string name;        // the prepared statement's name; empty: sent unprepared
  };
  // Sends everything queued; false when the connection failed.
  bool Send();
  // Reads one command's results up to its terminating NULL; the first of them, or null.
  PgResult ReadOne();

  PGconn* conn_;
  std::map<std::string, std::string>* prepared_;
  std::vector<Statement> statements_;
  std::vector<PipelineAnswer> answers_;
};

}  // namespace tongban::postgres_store_detail
