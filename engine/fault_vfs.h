// FaultVfs (tests only): a SQLite VFS that passes every call to the default one (unix) and can
// fail a chosen read, write or fsync, in the manner of SQLite's test_vfs.c and LevelDB's
// db/fault_injection_test.cc.
//
// It counts the reads (xRead), writes (xWrite) and syncs (xSync) of the files opened through it,
// by file kind (main database, WAL, rollback journal, other), and fails "the Nth one from now" of
// an operation on the chosen kinds with a chosen SQLite error (SQLITE_IOERR_WRITE, SQLITE_FULL,
// …). A fault is one-shot, or sticky: every later matching operation fails too until Disarm(),
// like a disk that stays full. Memory-mapped I/O is refused (xFetch maps nothing), so every page
// read goes through xRead and can be counted and failed.
//
// A store uses it when opened with SqliteStoreOptions::vfs = FaultVfs::kName; Install(true) also
// makes it the process's default VFS, for code that opens its own SqliteStore (the API test
// server). Disarmed it changes nothing.
//
// Ownership: one process-wide instance, never destroyed (SQLite keeps a pointer to it).
// Thread safety: every method is thread-safe; counting and arming are under one mutex, so the
// store's writer and reader threads may run while a test arms or reads the counts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace tongban {

enum class FaultOp { kRead = 0, kWrite = 1, kSync = 2 };

// File kinds, as bits of a mask.
inline constexpr unsigned kFaultMainDb = 1;
inline constexpr unsigned kFaultWal = 2;
inline constexpr unsigned kFaultJournal = 4;
inline constexpr unsigned kFaultOther = 8;  // temporary files, the super-journal
inline constexpr unsigned kFaultAnyFile = 15;

const char* FaultOpName(FaultOp op);
// "main", "wal", "journal" or "other" for one kind bit.
const char* FaultFileName(unsigned kind);

class FaultVfs {
 public:
  static constexpr const char* kName = "tongban-fault";

  // Registers the VFS (once per process; later calls return the same instance). With
  // `make_default` it also becomes the default VFS. Aborts when SQLite refuses it (a test bug).
  static FaultVfs& Install(bool make_default = false);

  // Operations of `op` on files of the kinds in `files` since the last ResetCounts().
  int64_t Count(FaultOp op, unsigned files = kFaultAnyFile) const;
  void ResetCounts();

  // Fails the `nth` (1-based) operation `op` from now on a file of the kinds in `files`, returning
  // `error` (an extended SQLite result code) instead of calling the real VFS; with `sticky`, every
  // later one as well until Disarm(). Replaces any fault armed before.
  void Arm(FaultOp op, int64_t nth, int error, unsigned files = kFaultAnyFile, bool sticky = false);
  void Disarm();
  // Faults injected since the last Arm(): 0 when the armed point was never reached.
  int64_t injected() const;
  // The kind of file the first fault injected since the last Arm() hit (0 when none).
  unsigned injected_file() const;

  // Slows or stops the disk, for tests of group commit and overload. Every xSync waits
  // `microseconds` first (0: no delay).
  void SetSyncDelay(int64_t microseconds);
  // While held, every xSync blocks until Release(); syncs_held() is how many are blocked now.
  void HoldSyncs();
  void ReleaseSyncs();
  int syncs_held() const;

  // Called by the VFS's file methods: counts the operation and returns the error to inject, or 0
  // to call the real VFS.
  int OnOperation(FaultOp op, unsigned file);
  // Called by xSync before it syncs: the delay, and the hold.
  void BeforeSync();

 private:
  FaultVfs() = default;

  mutable std::mutex mutex_;
  int64_t counts_[3][4] = {};  // [op][kind bit index]
  bool armed_ = false;
  FaultOp op_ = FaultOp::kWrite;
  unsigned files_ = kFaultAnyFile;
  int64_t countdown_ = 0;  // matching operations left before the faulting one
  int error_ = 0;
  bool sticky_ = false;
  bool firing_ = false;  // sticky and reached
  int64_t injected_ = 0;
  unsigned injected_file_ = 0;
  int64_t sync_delay_us_ = 0;
  bool holding_ = false;
  int held_ = 0;
  std::condition_variable released_;
};

}  // namespace tongban
