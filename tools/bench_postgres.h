// What the benchmarks need from a PostgreSQL cluster: a throw-away schema to run a configuration
// in, so that a run never touches the tables of a real deployment in the same database, and the
// CPU the cluster's processes used, so that a figure per transition counts the database's work too
// (a node on PostgreSQL hands part of what SqliteStore does in-process to the server).
//
// Thread safety: none; one benchmark thread uses these.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "workflows/status.h"

namespace tongban::cli {

// A fresh schema in the database of a libpq connection string, dropped with everything in it
// when destroyed. Move-only.
class ScratchSchema {
 public:
  // `base` is what the user gave (a URI or key=value pairs); `name` goes into the schema's name.
  // kInvalidArgument when libpq cannot parse `base`; kUnavailable when the schema cannot be made
  // (the server is away, the role may not create schemas).
  static Result<std::unique_ptr<ScratchSchema>> Make(const std::string& base,
                                                     const std::string& name);
  ~ScratchSchema();
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;

  // A postgresql:// URI with every parameter of `base` whose sessions use this schema alone
  // (options=-c search_path=…): what --db and PostgresStoreOptions::conninfo take.
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return schema_; }

 private:
  ScratchSchema(std::string base, std::string schema, std::string conninfo)
      : base_(std::move(base)), schema_(std::move(schema)), conninfo_(std::move(conninfo)) {}
  std::string base_;
  std::string schema_;
  std::string conninfo_;
};

// CPU seconds (user + system) used so far by the processes of the PostgreSQL cluster at `base`:
// its postmaster and every live child (backends, WAL writer, checkpointer …), read from /proc.
// Only when the cluster runs on this machine and its postmaster.pid is readable by this user
// (found through `SHOW data_directory`, which needs a superuser or pg_read_all_settings); nullopt
// otherwise. Backends that exited are not counted: measure over a span in which the store's
// connections stay open.
class PostgresServerCpu {
 public:
  explicit PostgresServerCpu(const std::string& base);
  bool available() const { return postmaster_pid_ > 0; }
  // nullopt when !available() or the postmaster is gone.
  std::optional<double> Seconds() const;

 private:
  int postmaster_pid_ = 0;
};

}  // namespace tongban::cli
