#include "engine/sqlite.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

namespace tongban::sqlite {

namespace {

// Whether `path` has a file beside it with content: "-wal" frames or a hot "-journal" that an
// immutable open would not read.
bool HasContentBeside(const std::string& path, const char* suffix) {
  struct stat info;
  return ::stat((path + suffix).c_str(), &info) == 0 && info.st_size > 0;
}

// The condition of Database::Open's immutable open: the directory may not be written and nothing
// beside the file holds content of its own.
bool OnlyReadableHere(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                                           : path.substr(0, slash);
  return ::access(directory.c_str(), W_OK) != 0 && !HasContentBeside(path, "-wal") &&
         !HasContentBeside(path, "-journal");
}

// "file:PATH?immutable=1", PATH percent-encoded but for the characters a path needs as they are.
std::string ImmutableUri(const std::string& path) {
  static const char kHex[] = "0123456789ABCDEF";
  // An empty authority before an absolute path, so that "//host/x" is not read as a host.
  std::string uri = path.rfind('/', 0) == 0 ? "file://" : "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 0xF];
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

bool IsTransientSqliteError(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

Status StatusFromSqlite(int rc, const std::string& message) {
  const std::string text = "sqlite: " + message;
  if ((rc & 0xFF) == SQLITE_CONSTRAINT) return Status::AlreadyExists(text);
  if (IsTransientSqliteError(rc)) return Status::Unavailable(text);
  if ((rc & 0xFF) == SQLITE_CORRUPT || (rc & 0xFF) == SQLITE_NOTADB) return Status::DataLoss(text);
  return Status::Internal(text);
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Result<Database> Database::Open(const std::string& path, bool create, bool read_only,
                                const std::string& vfs) {
  Database database;
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  std::string name = path;
  if (read_only && OnlyReadableHere(path)) {
    name = ImmutableUri(path);
    flags |= SQLITE_OPEN_URI;
  }
  int rc = sqlite3_open_v2(name.c_str(), &database.db_, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string message = database.db_ ? sqlite3_errmsg(database.db_) : sqlite3_errstr(rc);
    return Status::Unavailable("cannot open database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(database.db_, 1);
  // Writers and checkpoints briefly hold locks; readers wait rather than fail.
  sqlite3_busy_timeout(database.db_, 10000);
  return database;
}

Status Database::Exec(std::string_view sql) {
  char* error = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return StatusFromSqlite(rc, message);
  }
  return Status::Ok();
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    error_ = sqlite3_errmsg(db);
    stmt_ = nullptr;
  }
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

int Statement::Step() {
  return sqlite3_step(stmt_);
}

Status Statement::Run() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
  }
  if (rc != SQLITE_DONE) {
    Status status = StatusFromSqlite(rc, sqlite3_errmsg(db_));
    sqlite3_reset(stmt_);
    return status;
  }
  sqlite3_reset(stmt_);
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::Blob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_, column);
  if (bytes == nullptr) return "";
  return std::string(static_cast<const char*>(bytes),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string_view Statement::TextView(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

}  // namespace tongban::sqlite
