#include "engine/fault_vfs.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace tongban {

namespace {

// Our file: SQLite allocates szOsFile bytes; the real file follows ours.
struct ShimFile {
  sqlite3_file base;
  unsigned kind;
  sqlite3_file* real;
};

sqlite3_vfs* g_real = nullptr;
FaultVfs* g_faults = nullptr;

int KindIndex(unsigned kind) {
  switch (kind) {
    case kFaultMainDb:
      return 0;
    case kFaultWal:
      return 1;
    case kFaultJournal:
      return 2;
    default:
      return 3;
  }
}

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<ShimFile*>(f)->real;
}
unsigned Kind(sqlite3_file* f) {
  return reinterpret_cast<ShimFile*>(f)->kind;
}

int ShimClose(sqlite3_file* f) {
  sqlite3_file* real = Real(f);
  return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}
int ShimRead(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  if (int error = g_faults->OnOperation(FaultOp::kRead, Kind(f))) return error;
  return Real(f)->pMethods->xRead(Real(f), buffer, amount, offset);
}
int ShimWrite(sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
  if (int error = g_faults->OnOperation(FaultOp::kWrite, Kind(f))) return error;
  return Real(f)->pMethods->xWrite(Real(f), buffer, amount, offset);
}
int ShimTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int ShimSync(sqlite3_file* f, int flags) {
  g_faults->BeforeSync();
  if (int error = g_faults->OnOperation(FaultOp::kSync, Kind(f))) return error;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int ShimFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int ShimLock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int ShimUnlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int ShimCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int ShimFileControl(sqlite3_file* f, int op, void* arg) {
  // The unix VFS answers SQLITE_FCNTL_VFSNAME and the like for itself; no need to interpose.
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int ShimSectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int ShimDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShimShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShimShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShimShmBarrier(sqlite3_file* f) {
  Real(f)->pMethods->xShmBarrier(Real(f));
}
int ShimShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
// No memory mapping: SQLite then reads every page with xRead, which we count.
int ShimFetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int ShimUnfetch(sqlite3_file*, sqlite3_int64, void*) {
  return SQLITE_OK;
}

const sqlite3_io_methods kShimMethods = {
    3,
    ShimClose,
    ShimRead,
    ShimWrite,
    ShimTruncate,
    ShimSync,
    ShimFileSize,
    ShimLock,
    ShimUnlock,
    ShimCheckReservedLock,
    ShimFileControl,
    ShimSectorSize,
    ShimDeviceCharacteristics,
    ShimShmMap,
    ShimShmLock,
    ShimShmBarrier,
    ShimShmUnmap,
    ShimFetch,
    ShimUnfetch,
};

int ShimOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* shim = reinterpret_cast<ShimFile*>(file);
  shim->base.pMethods = nullptr;
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  shim->kind = (flags & SQLITE_OPEN_MAIN_DB)        ? kFaultMainDb
               : (flags & SQLITE_OPEN_WAL)          ? kFaultWal
               : (flags & SQLITE_OPEN_MAIN_JOURNAL) ? kFaultJournal
                                                    : kFaultOther;
  int rc = g_real->xOpen(g_real, name, shim->real, flags, out_flags);
  if (rc == SQLITE_OK || shim->real->pMethods != nullptr) {
    // The real methods must offer shared memory (WAL) and fetch, which ours forward.
    if (shim->real->pMethods != nullptr && shim->real->pMethods->iVersion < 3) {
      shim->real->pMethods->xClose(shim->real);
      return SQLITE_CANTOPEN;
    }
    shim->base.pMethods = &kShimMethods;
  }
  return rc;
}
int ShimDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int ShimAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int ShimFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* ShimDlOpen(sqlite3_vfs*, const char* name) {
  return g_real->xDlOpen(g_real, name);
}
void ShimDlError(sqlite3_vfs*, int n, char* out) {
  g_real->xDlError(g_real, n, out);
}
void (*ShimDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_real->xDlSym(g_real, handle, symbol);
}
void ShimDlClose(sqlite3_vfs*, void* handle) {
  g_real->xDlClose(g_real, handle);
}
int ShimRandomness(sqlite3_vfs*, int n, char* out) {
  return g_real->xRandomness(g_real, n, out);
}
int ShimSleep(sqlite3_vfs*, int microseconds) {
  return g_real->xSleep(g_real, microseconds);
}
int ShimCurrentTime(sqlite3_vfs*, double* out) {
  return g_real->xCurrentTime(g_real, out);
}
int ShimGetLastError(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError(g_real, n, out);
}
int ShimCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

sqlite3_vfs g_shim;

}  // namespace

const char* FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kRead:
      return "read";
    case FaultOp::kWrite:
      return "write";
    case FaultOp::kSync:
      return "sync";
  }
  return "?";
}

const char* FaultFileName(unsigned kind) {
  switch (kind) {
    case kFaultMainDb:
      return "main";
    case kFaultWal:
      return "wal";
    case kFaultJournal:
      return "journal";
    case kFaultOther:
      return "other";
  }
  return "?";
}

FaultVfs& FaultVfs::Install(bool make_default) {
  static std::once_flag once;
  std::call_once(once, [] {
    g_faults = new FaultVfs();
    if (sqlite3_initialize() != SQLITE_OK) std::abort();
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr || g_real->iVersion < 2) std::abort();
    g_shim = sqlite3_vfs{};
    g_shim.iVersion = 2;
    g_shim.szOsFile = static_cast<int>(sizeof(ShimFile)) + g_real->szOsFile;
    g_shim.mxPathname = g_real->mxPathname;
    g_shim.zName = kName;
    g_shim.xOpen = ShimOpen;
    g_shim.xDelete = ShimDelete;
    g_shim.xAccess = ShimAccess;
    g_shim.xFullPathname = ShimFullPathname;
    g_shim.xDlOpen = ShimDlOpen;
    g_shim.xDlError = ShimDlError;
    g_shim.xDlSym = ShimDlSym;
    g_shim.xDlClose = ShimDlClose;
    g_shim.xRandomness = ShimRandomness;
    g_shim.xSleep = ShimSleep;
    g_shim.xCurrentTime = ShimCurrentTime;
    g_shim.xGetLastError = ShimGetLastError;
    g_shim.xCurrentTimeInt64 = ShimCurrentTimeInt64;
    if (sqlite3_vfs_register(&g_shim, 0) != SQLITE_OK) std::abort();
  });
  if (make_default && sqlite3_vfs_register(&g_shim, 1) != SQLITE_OK) std::abort();
  return *g_faults;
}

int64_t FaultVfs::Count(FaultOp op, unsigned files) const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t n = 0;
  for (unsigned kind : {kFaultMainDb, kFaultWal, kFaultJournal, kFaultOther}) {
    if (files & kind) n += counts_[static_cast<int>(op)][KindIndex(kind)];
  }
  return n;
}

void FaultVfs::ResetCounts() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::memset(counts_, 0, sizeof(counts_));
}

void FaultVfs::Arm(FaultOp op, int64_t nth, int error, unsigned files, bool sticky) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = nth >= 1;
  op_ = op;
  files_ = files;
  countdown_ = nth - 1;
  error_ = error;
  sticky_ = sticky;
  firing_ = false;
  injected_ = 0;
  injected_file_ = 0;
}

void FaultVfs::Disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  firing_ = false;
}

int64_t FaultVfs::injected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return injected_;
}

unsigned FaultVfs::injected_file() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return injected_file_;
}

void FaultVfs::SetSyncDelay(int64_t microseconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  sync_delay_us_ = microseconds;
}

void FaultVfs::HoldSyncs() {
  std::lock_guard<std::mutex> lock(mutex_);
  holding_ = true;
}

void FaultVfs::ReleaseSyncs() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    holding_ = false;
  }
  released_.notify_all();
}

int FaultVfs::syncs_held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

void FaultVfs::BeforeSync() {
  int64_t delay = 0;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (holding_) {
      ++held_;
      released_.wait(lock, [this] { return !holding_; });
      --held_;
    }
    delay = sync_delay_us_;
  }
  if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
}

int FaultVfs::OnOperation(FaultOp op, unsigned file) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++counts_[static_cast<int>(op)][KindIndex(file)];
  if (!armed_ || op != op_ || (files_ & file) == 0) return 0;
  if (!firing_) {
    if (countdown_ > 0) {
      --countdown_;
      return 0;
    }
    firing_ = true;
  }
  if (injected_ == 0) injected_file_ = file;
  ++injected_;
  if (!sticky_) {
    armed_ = false;
    firing_ = false;
  }
  return error_;
}

}  // namespace tongban
