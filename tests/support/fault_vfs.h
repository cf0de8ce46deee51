// FaultVfs: a test-only SQLite VFS over the default (unix) one, registered as the process's
// default VFS while it lives, so that every connection the code under test opens goes through
// it without any production seam. Two uses:
//
//  (a) deterministic faults: the Nth write or sync of the database files fails with a chosen
//      SQLite code (SQLITE_FULL, SQLITE_IOERR_WRITE, ...), once or until cleared ("the disk
//      stays full until space returns"). No tmpfs, no root.
//  (b) simulated power loss: every write, truncate and sync that reaches a database file is
//      recorded with what it overwrote. CutPower() (or an op budget) turns the machine "off":
//      later writes, truncates, syncs and deletes fail with SQLITE_IOERR_*. Once every
//      connection is closed, RevertUnsynced() puts each file back as the disk would hold it:
//      writes since that file's last completed xSync are undone (the page cache is lost), in
//      a variant a random subset of them survives, or the last one survives torn. The -shm
//      file (a cache SQLite rebuilds) is removed.
//
// The model follows what SQLite relies on: a completed xSync makes every earlier write of
// that file durable; nothing else does; writes within one sector range may be torn, bytes
// outside a write's range are never damaged (powersafe overwrite).
//
// Only files with a name are tracked (temporary files are not durable state). Thread-safe:
// SQLite may call the VFS from any thread; one mutex guards the bookkeeping.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace cistern::testing {

class FaultVfs {
 public:
  // Registers as the default VFS. Only one may exist at a time.
  FaultVfs();
  // Unregisters and restores the previous default. Close every connection first.
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // The `n`th write (1 = the next one) to a tracked file fails with `rc` without writing.
  // With `persist`, every later write fails too until ClearFaults().
  void FailNthWrite(int n, int rc, bool persist = false);
  // The `n`th sync (1 = the next one) of a tracked file fails with `rc` without syncing.
  void FailNthSync(int n, int rc);
  // Ends the faults set above (e.g. space returned).
  void ClearFaults();

  // Power goes off after `ops` more writes/truncates/syncs of tracked files (0 = now).
  void CutPowerAfter(int64_t ops);
  bool power_off() const;

  enum class Loss {
    kDropUnsynced,  // every write since the last sync is lost
    kRandomSubset,  // each unsynced write survives or not, at random
    kTornLast,      // all are lost but the last one, which survives torn (its tail sector junk)
  };
  // Puts the tracked files back as a disk would hold them after the power loss, then forgets
  // all bookkeeping and turns the power back on. REQUIRES: no connection open on them.
  void RevertUnsynced(Loss loss, std::mt19937_64& rng);

  // Writes / syncs seen on tracked files since construction.
  int64_t writes() const;
  int64_t syncs() const;

  // Internals used by the C callbacks (not for tests).
  struct Undo {
    int64_t offset = 0;
    std::string old_bytes;  // what the write overwrote (within the old size)
    std::string new_bytes;  // what it wrote (kept for the torn variant)
    int64_t size_before = 0;
    bool truncate = false;  // a truncate to `offset` rather than a write
  };
  struct FileLog {
    int64_t synced_size = -1;  // -1: never synced since tracking began (size at first sight)
    std::vector<Undo> unsynced;
  };
  int BeforeWrite(const std::string& path, sqlite3_file* real, const void* data, int amount,
                  int64_t offset);
  int BeforeTruncate(const std::string& path, sqlite3_file* real, int64_t size);
  int BeforeSync(const std::string& path);
  void AfterSync(const std::string& path, sqlite3_file* real);
  int BeforeDelete();
  void NoteOpen(const std::string& path, sqlite3_file* real);
  sqlite3_vfs* real() const { return real_; }

 private:
  // One tracked I/O op happened; true when the power is (now) off. Holds mu_.
  bool Tick();

  sqlite3_vfs vfs_{};
  sqlite3_vfs* real_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, FileLog> files_;  // guarded by mu_
  int64_t writes_ = 0, syncs_ = 0;        // guarded by mu_
  int64_t fail_write_at_ = 0, fail_sync_at_ = 0;
  int fail_write_rc_ = 0, fail_sync_rc_ = 0;
  bool fail_write_persist_ = false, write_failing_ = false;
  int64_t power_budget_ = -1;  // ops left before the power goes; -1 = no cut planned
  bool power_off_ = false;
};

}  // namespace cistern::testing
