// Thin RAII wrappers over the SQLite C API, used only inside the SQLite store.
//
// Errors are returned as Status values carrying SQLite's own message; nothing here throws.
// Thread safety: a Database connection is used by one thread at a time (the store arranges that).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "workflows/status.h"

namespace tongban::sqlite {

// The Status for a failed SQLite call, by its result code: a constraint is kAlreadyExists; a
// failure of the disk or the file (I/O error, disk full, busy or locked, out of memory, read-only,
// cannot open) is kUnavailable — nothing was stored and a retry may succeed once it clears; a
// corrupt file or one that is not a database is kDataLoss; anything else is kInternal.
Status StatusFromSqlite(int rc, const std::string& message);
// True for the result codes StatusFromSqlite maps to kUnavailable.
bool IsTransientSqliteError(int rc);

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating if `create`) the database file at `path`, through the VFS named `vfs` (""
  // for the default one). kUnavailable when SQLite cannot open it.
  //
  // A `read_only` open of a file in WAL mode needs to create its -shm (and -wal) file beside it,
  // which fails where the directory may not be written (an auditor's copy on read-only media) and
  // otherwise adds files to the evidence. When that directory is not writable and no WAL content
  // exists beside the file, it is opened immutable instead (SQLite's `immutable=1`: no locks, no
  // files created), which reads the same pages. It is not used on a directory this process may
  // write, where a server could be writing the file meanwhile.
  static Result<Database> Open(const std::string& path, bool create, bool read_only,
                               const std::string& vfs = "");

  Status Exec(std::string_view sql);
  sqlite3* get() const { return db_; }
  std::string Error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_), error_(other.error_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  const std::string& error() const { return error_; }

  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& BindBlob(int index, std::string_view bytes);

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step();
  Status Run();  // Step until done; OK on SQLITE_DONE
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;
  // The column's text, valid until the next Step() or Reset(): for scans that assign it into
  // strings they reuse instead of allocating one per column per row.
  std::string_view TextView(int column) const;
  std::string Blob(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string error_;
};

}  // namespace tongban::sqlite
