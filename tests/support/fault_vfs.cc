#include "support/fault_vfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cstring>
#include <filesystem>

namespace cistern::testing {
namespace {

FaultVfs* g_instance = nullptr;  // the registered shim (one at a time)

// Our file handle; the real VFS's handle lives right after it in the same allocation.
struct FaultFile {
  sqlite3_file base;
  FaultVfs* owner;
  sqlite3_file* real;
  std::string* path;  // nullptr: not tracked (temporary file)
};

constexpr size_t kRealOffset = (sizeof(FaultFile) + 15) & ~size_t{15};

FaultFile* Cast(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

int Close(sqlite3_file* f) {
  FaultFile* ff = Cast(f);
  int rc = ff->real->pMethods ? ff->real->pMethods->xClose(ff->real) : SQLITE_OK;
  delete ff->path;
  ff->path = nullptr;
  return rc;
}

int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  FaultFile* ff = Cast(f);
  return ff->real->pMethods->xRead(ff->real, buf, amount, offset);
}

int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  FaultFile* ff = Cast(f);
  if (ff->path) {
    if (int rc = ff->owner->BeforeWrite(*ff->path, ff->real, buf, amount, offset); rc != SQLITE_OK)
      return rc;
  }
  return ff->real->pMethods->xWrite(ff->real, buf, amount, offset);
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultFile* ff = Cast(f);
  if (ff->path) {
    if (int rc = ff->owner->BeforeTruncate(*ff->path, ff->real, size); rc != SQLITE_OK) return rc;
  }
  return ff->real->pMethods->xTruncate(ff->real, size);
}

int Sync(sqlite3_file* f, int flags) {
  FaultFile* ff = Cast(f);
  if (ff->path) {
    if (int rc = ff->owner->BeforeSync(*ff->path); rc != SQLITE_OK) return rc;
  }
  int rc = ff->real->pMethods->xSync(ff->real, flags);
  if (rc == SQLITE_OK && ff->path) ff->owner->AfterSync(*ff->path, ff->real);
  return rc;
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Cast(f)->real->pMethods->xFileSize(Cast(f)->real, size);
}
int Lock(sqlite3_file* f, int level) {
  return Cast(f)->real->pMethods->xLock(Cast(f)->real, level);
}
int Unlock(sqlite3_file* f, int level) {
  return Cast(f)->real->pMethods->xUnlock(Cast(f)->real, level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Cast(f)->real->pMethods->xCheckReservedLock(Cast(f)->real, out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Cast(f)->real->pMethods->xFileControl(Cast(f)->real, op, arg);
}
int SectorSize(sqlite3_file* f) { return Cast(f)->real->pMethods->xSectorSize(Cast(f)->real); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Cast(f)->real->pMethods->xDeviceCharacteristics(Cast(f)->real);
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Cast(f)->real->pMethods->xShmMap(Cast(f)->real, page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Cast(f)->real->pMethods->xShmLock(Cast(f)->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Cast(f)->real->pMethods->xShmBarrier(Cast(f)->real); }
int ShmUnmap(sqlite3_file* f, int del) {
  return Cast(f)->real->pMethods->xShmUnmap(Cast(f)->real, del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return Cast(f)->real->pMethods->xFetch(Cast(f)->real, offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Cast(f)->real->pMethods->xUnfetch(Cast(f)->real, offset, p);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* owner = static_cast<FaultVfs*>(vfs->pAppData);
  FaultFile* ff = Cast(file);
  ff->base.pMethods = nullptr;
  ff->owner = owner;
  ff->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  ff->path = nullptr;
  int rc = owner->real()->xOpen(owner->real(), name, ff->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
    ff->path = new std::string(name);
    owner->NoteOpen(*ff->path, ff->real);
  }
  ff->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  auto* owner = static_cast<FaultVfs*>(vfs->pAppData);
  if (int rc = owner->BeforeDelete(); rc != SQLITE_OK) return rc;
  return owner->real()->xDelete(owner->real(), name, sync_dir);
}

sqlite3_vfs* RealOf(sqlite3_vfs* vfs) { return static_cast<FaultVfs*>(vfs->pAppData)->real(); }

int Access(sqlite3_vfs* v, const char* n, int f, int* out) {
  return RealOf(v)->xAccess(RealOf(v), n, f, out);
}
int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return RealOf(v)->xFullPathname(RealOf(v), n, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* n) { return RealOf(v)->xDlOpen(RealOf(v), n); }
void DlError(sqlite3_vfs* v, int n, char* out) { RealOf(v)->xDlError(RealOf(v), n, out); }
void (*DlSym(sqlite3_vfs* v, void* h, const char* s))(void) {
  return RealOf(v)->xDlSym(RealOf(v), h, s);
}
void DlClose(sqlite3_vfs* v, void* h) { RealOf(v)->xDlClose(RealOf(v), h); }
int Randomness(sqlite3_vfs* v, int n, char* out) {
  return RealOf(v)->xRandomness(RealOf(v), n, out);
}
int Sleep(sqlite3_vfs* v, int us) { return RealOf(v)->xSleep(RealOf(v), us); }
int CurrentTime(sqlite3_vfs* v, double* out) { return RealOf(v)->xCurrentTime(RealOf(v), out); }
int GetLastError(sqlite3_vfs* v, int n, char* out) {
  return RealOf(v)->xGetLastError(RealOf(v), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
  return RealOf(v)->xCurrentTimeInt64(RealOf(v), out);
}

// Reads `n` bytes at `offset` of the real file (zeros past its end).
std::string ReadReal(sqlite3_file* real, int64_t offset, int n) {
  std::string buf(static_cast<size_t>(n), '\0');
  int rc = real->pMethods->xRead(real, buf.data(), n, offset);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) buf.assign(static_cast<size_t>(n), '\0');
  return buf;
}

int64_t SizeOf(sqlite3_file* real) {
  sqlite3_int64 size = 0;
  real->pMethods->xFileSize(real, &size);
  return size;
}

}  // namespace

FaultVfs::FaultVfs() {
  assert(g_instance == nullptr && "one FaultVfs at a time");
  real_ = sqlite3_vfs_find(nullptr);
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(kRealOffset) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = "cistern-fault";
  vfs_.pAppData = this;
  vfs_.xOpen = Open;
  vfs_.xDelete = Delete;
  vfs_.xAccess = Access;
  vfs_.xFullPathname = FullPathname;
  vfs_.xDlOpen = DlOpen;
  vfs_.xDlError = DlError;
  vfs_.xDlSym = DlSym;
  vfs_.xDlClose = DlClose;
  vfs_.xRandomness = Randomness;
  vfs_.xSleep = Sleep;
  vfs_.xCurrentTime = CurrentTime;
  vfs_.xGetLastError = GetLastError;
  vfs_.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&vfs_, 1);
  g_instance = this;
}

FaultVfs::~FaultVfs() {
  sqlite3_vfs_unregister(&vfs_);
  sqlite3_vfs_register(real_, 1);
  g_instance = nullptr;
}

void FaultVfs::FailNthWrite(int n, int rc, bool persist) {
  std::lock_guard lock(mu_);
  fail_write_at_ = writes_ + n;
  fail_write_rc_ = rc;
  fail_write_persist_ = persist;
  write_failing_ = false;
}

void FaultVfs::FailNthSync(int n, int rc) {
  std::lock_guard lock(mu_);
  fail_sync_at_ = syncs_ + n;
  fail_sync_rc_ = rc;
}

void FaultVfs::ClearFaults() {
  std::lock_guard lock(mu_);
  fail_write_at_ = fail_sync_at_ = 0;
  write_failing_ = false;
}

void FaultVfs::CutPowerAfter(int64_t ops) {
  std::lock_guard lock(mu_);
  power_budget_ = ops;
  if (ops == 0) power_off_ = true;
}

bool FaultVfs::power_off() const {
  std::lock_guard lock(mu_);
  return power_off_;
}

int64_t FaultVfs::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

int64_t FaultVfs::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

bool FaultVfs::Tick() {
  if (power_off_) return true;
  if (power_budget_ > 0 && --power_budget_ == 0) power_off_ = true;
  return false;
}

void FaultVfs::NoteOpen(const std::string& path, sqlite3_file* real) {
  std::lock_guard lock(mu_);
  FileLog& log = files_[path];
  if (log.synced_size < 0) log.synced_size = SizeOf(real);
}

int FaultVfs::BeforeWrite(const std::string& path, sqlite3_file* real, const void* data, int amount,
                          int64_t offset) {
  std::lock_guard lock(mu_);
  if (Tick()) return SQLITE_IOERR_WRITE;
  ++writes_;
  if (write_failing_ || (fail_write_at_ != 0 && writes_ == fail_write_at_)) {
    write_failing_ = fail_write_persist_;
    return fail_write_rc_;
  }
  FileLog& log = files_[path];
  Undo u;
  u.offset = offset;
  u.size_before = SizeOf(real);
  int64_t existing = std::max<int64_t>(0, std::min<int64_t>(amount, u.size_before - offset));
  if (existing > 0) u.old_bytes = ReadReal(real, offset, static_cast<int>(existing));
  u.new_bytes.assign(static_cast<const char*>(data), static_cast<size_t>(amount));
  log.unsynced.push_back(std::move(u));
  return SQLITE_OK;
}

int FaultVfs::BeforeTruncate(const std::string& path, sqlite3_file* real, int64_t size) {
  std::lock_guard lock(mu_);
  if (Tick()) return SQLITE_IOERR_TRUNCATE;
  FileLog& log = files_[path];
  Undo u;
  u.size_before = SizeOf(real);
  u.offset = size;
  if (u.size_before > size) {
    u.old_bytes = ReadReal(real, size, static_cast<int>(u.size_before - size));
  }
  u.truncate = true;
  log.unsynced.push_back(std::move(u));
  return SQLITE_OK;
}

int FaultVfs::BeforeSync(const std::string& path) {
  std::lock_guard lock(mu_);
  if (Tick()) return SQLITE_IOERR_FSYNC;
  ++syncs_;
  if (fail_sync_at_ != 0 && syncs_ == fail_sync_at_) return fail_sync_rc_;
  return SQLITE_OK;
}

void FaultVfs::AfterSync(const std::string& path, sqlite3_file* real) {
  std::lock_guard lock(mu_);
  FileLog& log = files_[path];
  log.unsynced.clear();
  log.synced_size = SizeOf(real);
}

int FaultVfs::BeforeDelete() {
  std::lock_guard lock(mu_);
  return power_off_ ? SQLITE_IOERR_DELETE : SQLITE_OK;
}

void FaultVfs::RevertUnsynced(Loss loss, std::mt19937_64& rng) {
  std::lock_guard lock(mu_);
  for (auto& [path, log] : files_) {
    if (!std::filesystem::exists(path)) continue;
    int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) continue;
    // Back to what the last completed sync made durable: undo every op, newest first...
    for (size_t i = log.unsynced.size(); i-- > 0;) {
      const Undo& u = log.unsynced[i];
      if (!u.old_bytes.empty()) {
        (void)!::pwrite(fd, u.old_bytes.data(), u.old_bytes.size(), u.offset);
      }
      (void)!::ftruncate(fd, u.size_before);
    }
    if (log.synced_size >= 0) (void)!::ftruncate(fd, log.synced_size);
    // ...then replay, in order, the ops that reached the platter anyway.
    for (size_t i = 0; i < log.unsynced.size(); ++i) {
      const Undo& u = log.unsynced[i];
      const bool last = i + 1 == log.unsynced.size();
      bool survives =
          loss == Loss::kRandomSubset ? rng() % 2 == 0 : loss == Loss::kTornLast && last;
      if (!survives) continue;
      if (u.truncate) {
        (void)!::ftruncate(fd, u.offset);
        continue;
      }
      std::string bytes = u.new_bytes;
      if (loss == Loss::kTornLast) {
        // The tail sector (512 bytes, or all of a shorter write) holds junk.
        size_t tail = std::min<size_t>(512, bytes.size());
        for (size_t k = bytes.size() - tail; k < bytes.size(); ++k) {
          bytes[k] = static_cast<char>(rng());
        }
      }
      (void)!::pwrite(fd, bytes.data(), bytes.size(), u.offset);
    }
    ::close(fd);
    std::error_code ec;
    if (path.size() > 4 && path.compare(path.size() - 4, 4, "-wal") == 0) {
      std::filesystem::remove(path.substr(0, path.size() - 4) + "-shm", ec);
    }
  }
  files_.clear();
  writes_ = syncs_ = 0;
  fail_write_at_ = fail_sync_at_ = 0;
  write_failing_ = false;
  power_budget_ = -1;
  power_off_ = false;
}

}  // namespace cistern::testing
