#include "tools/bench_postgres.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/postgres_store.h"

namespace tongban::cli {

namespace {

namespace fs = std::filesystem;

// Runs `sql` on a connection of its own; the first row's first column ("" when none) or the
// error.
Result<std::string> QueryOne(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  Result<std::string> out = std::string();
  if (PQstatus(conn) != CONNECTION_OK) {
    out = Status::Unavailable(std::string("postgresql: ") + PQerrorMessage(conn));
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = std::string(PQgetvalue(r, 0, 0));
    } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      out = Status::Unavailable(std::string("postgresql: ") + PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

// utime + stime of /proc/PID/stat, in clock ticks, and its parent; false when it is gone.
bool ReadStat(int pid, int* parent, long long* ticks) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  // The command name is in parentheses and may hold spaces: fields are counted after its end.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  fields >> state >> *parent;
  std::string skip;
  for (int i = 0; i < 9; ++i)  // pgrp … cmajflt: fields 5 to 13
    fields >> skip;
  long long user = 0, system = 0;
  fields >> user >> system;
  *ticks = user + system;
  return !fields.fail();
}

}  // namespace

Result<std::unique_ptr<ScratchSchema>> ScratchSchema::Make(const std::string& base,
                                                           const std::string& name) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(base.c_str(), &error);
  if (parsed == nullptr) {
    std::string why = error != nullptr ? error : "cannot parse it";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n')
      why.pop_back();
    return Status::InvalidArgument("postgresql: bad connection string: " + why);
  }
  PQconninfoFree(parsed);
  // The pid and a random part: a schema left behind by a run that was killed cannot collide.
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  const std::string schema = "tongban_bench_" + name + "_" + std::to_string(getpid()) + "_" +
                             std::to_string(salt) + "_" + std::to_string(counter++);
  auto made = QueryOne(base, "CREATE SCHEMA " + schema);
  if (!made.ok()) {
    return Status::Unavailable("cannot make the scratch schema " + schema + ": " +
                               made.status().message());
  }
  return std::unique_ptr<ScratchSchema>(
      new ScratchSchema(base, schema, PostgresUriWithSchema(base, schema)));
}

ScratchSchema::~ScratchSchema() {
  (void)QueryOne(base_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
}

PostgresServerCpu::PostgresServerCpu(const std::string& base) {
  auto directory = QueryOne(base, "SHOW data_directory");
  if (!directory.ok() || directory->empty()) return;
  std::ifstream pid_file(fs::path(*directory) / "postmaster.pid");
  int pid = 0;
  if (pid_file >> pid && pid > 0) postmaster_pid_ = pid;
}

std::optional<double> PostgresServerCpu::Seconds() const {
  if (postmaster_pid_ <= 0) return std::nullopt;
  int parent = 0;
  long long total = 0;
  if (!ReadStat(postmaster_pid_, &parent, &total)) return std::nullopt;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    long long ticks = 0;
    if (ReadStat(std::stoi(name), &parent, &ticks) && parent == postmaster_pid_) total += ticks;
  }
  return static_cast<double>(total) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace tongban::cli
