// `tongban bench http`, the real binary: the shape of its output, never its speed.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

// A fraction of a second per phase and a few clients: enough for every figure to be printed.
const char* kQuickHttpBench = "bench http --seconds 0.2 --connections 4";

TEST(CliBenchHttp, SqliteAloneIsOneConfigurationInJson) {
  RunResult r = Tongban(std::string(kQuickHttpBench) + " --format json");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["benchmark"], "http");
  EXPECT_EQ(out["failed_requests"], 0);
  ASSERT_EQ(out["rounds"].size(), 1u) << r.out;
  ASSERT_EQ(out["rounds"][0]["configurations"].size(), 1u) << r.out;
  const nlohmann::json& sqlite = out["rounds"][0]["configurations"][0];
  EXPECT_EQ(sqlite["configuration"], "sqlite-1");
  EXPECT_EQ(sqlite["store"], "sqlite");
  EXPECT_EQ(sqlite["nodes"], 1);
  for (const char* figure :
       {"healthz_per_second", "transitions_per_second", "transition_p50_ms", "transition_p99_ms",
        "node_cpu_us_per_transition", "ratio_to_ceiling"}) {
    EXPECT_TRUE(sqlite[figure].is_number()) << figure << " in " << r.out;
  }
  EXPECT_TRUE(sqlite["database_cpu_us_per_transition"].is_null()) << r.out;
  EXPECT_EQ(sqlite["ratio_to_sqlite"], 1.0);
  EXPECT_EQ(out["rounds"][0]["load_average"].size(), 3u) << r.out;
}

TEST(CliBenchHttp, NodesWithoutPostgresAndABadDatabaseAreRefused) {
  RunResult nodes = Tongban(std::string(kQuickHttpBench) + " --nodes 2");
  EXPECT_EQ(nodes.exit_code, 2) << Describe(nodes);
  EXPECT_NE(nodes.err.find("--nodes needs --postgres"), std::string::npos) << Describe(nodes);
  RunResult rounds = Tongban(std::string(kQuickHttpBench) + " --rounds 0");
  EXPECT_EQ(rounds.exit_code, 2) << Describe(rounds);
  // No server listens there: the benchmark cannot run (3), and says so before measuring anything.
  RunResult away = Tongban(std::string(kQuickHttpBench) + " --postgres " +
                           Quote("postgresql:///none?host=" + TempPath("-no-socket")));
  EXPECT_EQ(away.exit_code, 3) << Describe(away);
  EXPECT_NE(away.err.find("--postgres: cannot make the scratch schema"), std::string::npos)
      << Describe(away);
  EXPECT_EQ(away.out, "") << Describe(away);
}

// With a PostgreSQL cluster (TONGBAN_TEST_POSTGRES; tools/test.sh starts one): the three
// configurations of one round, each with its ratio to the SQLite node, in text and JSON, and no
// scratch schema left behind.
TEST(CliBenchHttp, PostgresOneAndTwoNodesAgainstSqlite) {
  const char* postgres = std::getenv("TONGBAN_TEST_POSTGRES");
  if (postgres == nullptr || *postgres == '\0') {
    GTEST_SKIP() << "TONGBAN_TEST_POSTGRES is unset (tools/pg_cluster.sh start DIR prints one)";
  }
  RunResult r =
      Tongban(std::string(kQuickHttpBench) + " --postgres " + Quote(postgres) + " --format json");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["synchronous_commit"], "on");
  const nlohmann::json& round = out["rounds"][0]["configurations"];
  ASSERT_EQ(round.size(), 3u) << r.out;
  EXPECT_EQ(round[0]["configuration"], "sqlite-1");
  EXPECT_EQ(round[1]["configuration"], "postgresql-1");
  EXPECT_EQ(round[2]["configuration"], "postgresql-2");
  EXPECT_EQ(round[2]["nodes"], 2);
  EXPECT_EQ(round[2]["store"], "postgresql");
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_TRUE(round[i]["ratio_to_sqlite"].is_number()) << r.out;
    EXPECT_GT(round[i]["transitions_per_second"].get<double>(), 0) << r.out;
  }
  ASSERT_EQ(out["summary"].size(), 3u) << r.out;
  EXPECT_EQ(out["summary"][1]["configuration"], "postgresql-1");
  EXPECT_EQ(out["summary"][1]["goal"]["ratio_to_sqlite_at_least"], 0.5);
  EXPECT_TRUE(out["summary"][1]["goal"]["met"].is_boolean()) << r.out;

  RunResult text =
      Tongban(std::string(kQuickHttpBench) + " --postgres " + Quote(postgres) + " --nodes 3");
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("PostgreSQL synchronous_commit=on"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  postgresql-3 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ratio postgresql-1 / sqlite-1: median "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ratio postgresql-3 / sqlite-1: median "), std::string::npos) << text.out;

  PGconn* conn = PQconnectdb(postgres);
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* left = PQexec(conn,
                          "SELECT count(*) FROM information_schema.schemata "
                          "WHERE schema_name LIKE 'tongban_bench_http_%'");
  EXPECT_STREQ(PQgetvalue(left, 0, 0), "0") << "scratch schemas left behind";
  PQclear(left);
  PQfinish(conn);
}

}  // namespace
}  // namespace tongban::cli_test
