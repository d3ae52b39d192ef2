#pragma once
// Whole-file reads, crash-safe writes and directory helpers over POSIX calls.
// Every function is thread-safe (no shared state) and reports failures as Error values whose
// message names the path and the system's reason.

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/base/error.h"

namespace sluice {

// Owns a file descriptor (or none: -1); closes it on destruction unless Close() already did.
// Movable, not copyable.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and returns close(2)'s result (0 when nothing was open), so write-back errors
  // reported there are not lost; errno says why on -1.
  int Close() {
    const int fd = std::exchange(fd_, -1);
    return fd >= 0 ? ::close(fd) : 0;
  }

 private:
  int fd_;
};

// Builds the Error for a failed system call on `path`: "<action> <path>: <strerror(err)>".
// ENOENT becomes Errc::kNotFound, everything else Errc::kIo.
Error ErrnoError(std::string_view action, const std::string& path, int err);

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 or an errno value.
int WriteAll(int fd, std::string_view data);

// The size of the file at `path`, 0 when it is missing or unreadable.
uint64_t FileSizeOr0(const std::string& path);

// Returns the whole content of `path`. Errc::kNotFound if it does not exist, Errc::kIo for any
// other failure (permissions, a directory, read errors).
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

// Replaces `path` with `data` so that a crash or failure at any point leaves either the old or
// the new content, never a mix: writes a temp file in the same directory (created 0600, then
// set to exactly `mode`, umask not applied), fsyncs it, renames it over `path` and fsyncs the
// directory. On failure the old file is untouched, the temp file is removed and the error
// (Errc::kIo, including a missing directory or a full disk) names the path.
[[nodiscard]] Status WriteFileAtomic(const std::string& path, std::string_view data,
                                     mode_t mode = 0644);

// Makes the finished file `temp` durable and moves it to `path` atomically: fsyncs `temp`,
// renames it over `path` and fsyncs the directory. Both must be in the same directory (or file
// system). On failure `temp` is removed, `path` is untouched and the error (Errc::kIo) names it.
[[nodiscard]] Status PublishFile(const std::string& temp, const std::string& path);

// Moves `from` to `to` (same file system; `to` is replaced if it is a file or an empty
// directory) and fsyncs both parent directories, so the move survives a crash. Errc::kIo.
[[nodiscard]] Status RenameDurably(const std::string& from, const std::string& to);

// fsyncs the directory `dir` so that entries created, renamed or removed in it survive a crash.
// Errc::kIo.
[[nodiscard]] Status SyncDirectory(const std::string& dir);

// Creates `path` and any missing parents (like mkdir -p). Directories this call creates get
// exactly `mode`; existing directories are left as they are. Errc::kIo if a component exists and
// is not a directory or cannot be created.
[[nodiscard]] Status EnsureDir(const std::string& path, mode_t mode = 0755);

// Creates a fresh, empty, mode-0700 directory "<$TMPDIR or /tmp>/<prefix>XXXXXX" and returns its
// path. The caller owns it (see RemoveAll). Errc::kInvalidArgument if `prefix` contains '/'.
[[nodiscard]] Result<std::string> MakeTempDir(const std::string& prefix);

// Removes `path` and, if it is a directory, everything below it, without following symlinks.
// A path that does not exist is success. Errc::kIo on failure.
[[nodiscard]] Status RemoveAll(const std::string& path);

}  // namespace sluice
