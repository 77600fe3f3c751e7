// An LD_PRELOAD shim that makes file writes and syncs fail, for the fault
// tests: a disk that starts failing under a running pvcd and later recovers,
// with no root, no device mapper, no loop device.
//
//   PVC_FAIL_IO_DIR=/path   only files under this path fail
//   PVC_FAIL_IO_FLAG=/file  the faults are on while this file exists
//   PVC_FAIL_IO_OPS=write,sync,open   which calls fail: write (write, pwrite,
//                           writev, pwritev, fallocate), sync (fsync,
//                           fdatasync, sync_file_range), open (open/openat for
//                           writing or creating)
//   PVC_FAIL_IO_SPARE=name   files whose path contains `name` never fail (to
//                           let pvcd's own write probe pass, so that RocksDB
//                           meets the fault itself)
//   PVC_FAIL_IO_ERRNO=EIO   the error: EIO (default), EROFS (a filesystem the
//                           kernel remounted read-only) or ENOSPC; with EROFS
//                           statvfs() on the directory reports ST_RDONLY, with
//                           ENOSPC no free blocks, as the real cases would
//
// Each failure increments a counter printed at exit ("fail_io: failed N
// calls") so a test can tell the fault was really hit. Everything else is
// passed to libc unchanged.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<unsigned long> failures{0};
const char* dir_prefix = nullptr;
const char* flag_file = nullptr;
const char* spare = nullptr;
bool fail_writes = false, fail_syncs = false, fail_opens = false;
int error_code = EIO;

__attribute__((constructor)) void init() {
  dir_prefix = std::getenv("PVC_FAIL_IO_DIR");
  flag_file = std::getenv("PVC_FAIL_IO_FLAG");
  spare = std::getenv("PVC_FAIL_IO_SPARE");
  const char* ops = std::getenv("PVC_FAIL_IO_OPS");
  if (!ops) ops = "write,sync";
  fail_writes = std::strstr(ops, "write") != nullptr;
  fail_syncs = std::strstr(ops, "sync") != nullptr;
  fail_opens = std::strstr(ops, "open") != nullptr;
  if (const char* e = std::getenv("PVC_FAIL_IO_ERRNO")) {
    if (std::strcmp(e, "EROFS") == 0) error_code = EROFS;
    if (std::strcmp(e, "ENOSPC") == 0) error_code = ENOSPC;
  }
}

__attribute__((destructor)) void report() {
  if (dir_prefix) std::fprintf(stderr, "fail_io: failed %lu calls\n", failures.load());
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

bool faults_on() {
  return dir_prefix && flag_file && ::access(flag_file, F_OK) == 0;
}

bool fail_path(const char* path) {
  if (!path || std::strncmp(path, dir_prefix, std::strlen(dir_prefix)) != 0) return false;
  if (spare && *spare && std::strstr(path, spare)) return false;
  failures.fetch_add(1);
  errno = error_code;
  return true;
}

// True when this call on `fd` must fail now.
bool should_fail(int fd, bool enabled) {
  if (!enabled || fd < 0 || !faults_on()) return false;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return fail_path(path);
}

bool should_fail_open(const char* path, int flags) {
  if (!fail_opens || !(flags & (O_WRONLY | O_RDWR | O_CREAT)) || !faults_on()) return false;
  return fail_path(path);
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  static auto real = next<int (*)(const char*, int, ...)>("open");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  if (should_fail_open(path, flags)) return -1;
  return real(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  static auto real = next<int (*)(const char*, int, ...)>("open64");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  if (should_fail_open(path, flags)) return -1;
  return real(path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  static auto real = next<int (*)(int, const char*, int, ...)>("openat");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  if (should_fail_open(path, flags)) return -1;
  return real(dirfd, path, flags, mode);
}

ssize_t write(int fd, const void* buf, size_t count) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, iov, iovcnt, offset);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
  static auto real = next<int (*)(int, int, off_t, off_t)>("fallocate");
  if (should_fail(fd, fail_writes)) return -1;
  return real(fd, mode, offset, len);
}

int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  if (should_fail(fd, fail_syncs)) return -1;
  return real(fd);
}

int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  if (should_fail(fd, fail_syncs)) return -1;
  return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static auto real = next<int (*)(int, off64_t, off64_t, unsigned int)>("sync_file_range");
  // RocksDB probes support with an empty range on every new file (and asserts
  // it works): only real syncs fail.
  if ((offset != 0 || nbytes != 0 || flags != 0) && should_fail(fd, fail_syncs)) return -1;
  return real(fd, offset, nbytes, flags);
}

// What statvfs shows of a read-only or full filesystem while the faults are on.
static void fake_statvfs(const char* path, struct statvfs* buf) {
  if (!faults_on() || !path || std::strncmp(path, dir_prefix, std::strlen(dir_prefix)) != 0) return;
  if (error_code == EROFS) buf->f_flag |= ST_RDONLY;
  if (error_code == ENOSPC) buf->f_bfree = buf->f_bavail = 0;
}

int statvfs(const char* path, struct statvfs* buf) {
  static auto real = next<int (*)(const char*, struct statvfs*)>("statvfs");
  const int r = real(path, buf);
  if (r == 0) fake_statvfs(path, buf);
  return r;
}

int statvfs64(const char* path, struct statvfs64* buf) {
  static auto real = next<int (*)(const char*, struct statvfs64*)>("statvfs64");
  const int r = real(path, buf);
  if (r == 0) fake_statvfs(path, reinterpret_cast<struct statvfs*>(buf));
  return r;
}

}  // extern "C"
