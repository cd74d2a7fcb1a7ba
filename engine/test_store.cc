#include "engine/test_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <vector>

#include "engine/postgres_store.h"

namespace tongban {

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// On the base database (TONGBAN_TEST_POSTGRES).
std::string ExecOnBase(const std::string& sql) {
  return ExecOnPostgres(Env("TONGBAN_TEST_POSTGRES"), sql);
}

// The schemas of this process by the path that names them. A forked child (crash_test.cc) inherits
// the map and so opens the schema its parent made.
struct Schemas {
  std::mutex mutex;
  std::map<std::string, std::string> by_path;
};
Schemas& TheSchemas() {
  static Schemas* schemas = new Schemas;  // never destroyed: used until the process exits
  return *schemas;
}

void DropSchema(const std::string& schema) {
  const std::string error = ExecOnBase("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  if (!error.empty())
    std::fprintf(stderr, "test_store: dropping %s: %s", schema.c_str(), error.c_str());
}

// The schema for `path`, made if new; "" (with `error` set) when it cannot be made.
std::string SchemaFor(const std::string& path, std::string* error) {
  Schemas& schemas = TheSchemas();
  std::lock_guard<std::mutex> lock(schemas.mutex);
  auto it = schemas.by_path.find(path);
  if (it != schemas.by_path.end()) return it->second;
  // The pid and a random part: a schema left behind by a test that crashed cannot collide.
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  const std::string schema = "tongban_t_" + std::to_string(getpid()) + "_" +
                             std::to_string(salt % 100000) + "_" + std::to_string(counter++);
  *error = ExecOnBase("CREATE SCHEMA " + schema);
  if (!error->empty()) return "";
  schemas.by_path.emplace(path, schema);
  return schema;
}

// Drops every schema made during a test when it ends (after the fixture, and so every store on
// them, is destroyed).
class DropSchemasAtTestEnd : public testing::EmptyTestEventListener {
  void OnTestEnd(const testing::TestInfo&) override {
    std::vector<std::string> made;
    {
      Schemas& schemas = TheSchemas();
      std::lock_guard<std::mutex> lock(schemas.mutex);
      for (const auto& [path, schema] : schemas.by_path)
        made.push_back(schema);
      schemas.by_path.clear();
    }
    for (const std::string& schema : made)
      DropSchema(schema);
  }
};

// Without a server, the PostgreSQL variant runs nothing and says so: exit code 77 is a skip to
// ctest (SKIP_RETURN_CODE), not a pass.
class RequirePostgres : public testing::Environment {
  void SetUp() override {
    if (!TestingPostgres() || !Env("TONGBAN_TEST_POSTGRES").empty()) return;
    std::printf(
        "[  SKIPPED ] TONGBAN_TEST_STORE=postgres but TONGBAN_TEST_POSTGRES is unset: set it to a "
        "connection URI (tools/pg_cluster.sh start DIR prints one; tools/test.sh does it)\n");
    std::fflush(stdout);
    std::_Exit(77);
  }
};

[[maybe_unused]] const bool kRegistered = [] {
  testing::AddGlobalTestEnvironment(new RequirePostgres);
  if (TestingPostgres())
    testing::UnitTest::GetInstance()->listeners().Append(new DropSchemasAtTestEnd);
  return true;
}();

}  // namespace

bool TestingPostgres() {
  static const bool postgres = Env("TONGBAN_TEST_STORE") == "postgres";
  return postgres;
}

const char* StoreUnderTestName() {
  return TestingPostgres() ? "postgres" : "sqlite";
}

std::string DatabaseUnderTest(const std::string& path) {
  if (!TestingPostgres()) return path;
  std::string error;
  const std::string schema = SchemaFor(path, &error);
  EXPECT_EQ(error, "") << "creating the schema for " << path;
  return PostgresUriWithSchema(Env("TONGBAN_TEST_POSTGRES"), schema);
}

Result<std::unique_ptr<Store>> OpenStoreUnderTest(const SqliteStoreOptions& options) {
  if (!TestingPostgres()) {
    auto store = SqliteStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  std::string error;
  const std::string schema = SchemaFor(options.path, &error);
  if (schema.empty()) {
    return Status(StatusCode::kFailedPrecondition, "test_store: cannot make a schema: " + error);
  }
  PostgresStoreOptions postgres;
  postgres.conninfo = PostgresUriWithSchema(Env("TONGBAN_TEST_POSTGRES"), schema);
  postgres.group_commit = options.group_commit;
  postgres.max_batch = options.max_batch;
  postgres.max_queue = options.max_queue;
  postgres.read_only = options.read_only;
  auto store = PostgresStore::Open(postgres);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

std::string TamperWithPostgres(const std::string& path, const std::string& sql) {
  std::string error;
  const std::string schema = SchemaFor(path, &error);
  if (schema.empty()) return error;
  static const std::regex kDropTrigger(R"(DROP TRIGGER \w+;\s*)", std::regex::icase);
  return ExecOnPostgres(
      PostgresUriWithSchema(Env("TONGBAN_TEST_POSTGRES"), schema),
      "SET session_replication_role = replica;\n" + std::regex_replace(sql, kDropTrigger, ""));
}

void RemoveDatabaseUnderTest(const std::string& path) {
  if (!TestingPostgres()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ignored;
      fs::remove(path + suffix, ignored);
    }
    return;
  }
  std::string schema;
  {
    Schemas& schemas = TheSchemas();
    std::lock_guard<std::mutex> lock(schemas.mutex);
    auto it = schemas.by_path.find(path);
    if (it == schemas.by_path.end()) return;
    schema = it->second;
    schemas.by_path.erase(it);
  }
  DropSchema(schema);
}

std::string ExecOnPostgres(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
      error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

}  // namespace tongban
