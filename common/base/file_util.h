#pragma once
// Whole-file reads, crash-safe writes and directory helpers over POSIX calls.
// Every function is thread-safe (no shared state) and reports failures as Error values whose
// message names the path and the system's reason.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice {

// Builds the Error for a failed system call on `path`: "<action> <path>: <strerror(err)>".
// ENOENT becomes Errc::kNotFound, everything else Errc::kIo.
Error ErrnoError(std::string_view action, const std::string& path, int err);

// Returns the whole content of `path`. Errc::kNotFound if it does not exist, Errc::kIo for any
// other failure (permissions, a directory, read errors).
Result<std::string> ReadFile(const std::string& path);

// Replaces `path` with `data` so that a crash or failure at any point leaves either the old or
// the new content, never a mix: writes a temp file in the same directory (created 0600, then
// set to exactly `mode`, umask not applied), fsyncs it, renames it over `path` and fsyncs the
// directory. On failure the old file is untouched, the temp file is removed and the error
// (Errc::kIo, including a missing directory or a full disk) names the path.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Creates `path` and any missing parents (like mkdir -p). Directories this call creates get
// exactly `mode`; existing directories are left as they are. Errc::kIo if a component exists and
// is not a directory or cannot be created.
Status EnsureDir(const std::string& path, mode_t mode = 0755);

// Creates a fresh, empty, mode-0700 directory "<$TMPDIR or /tmp>/<prefix>XXXXXX" and returns its
// path. The caller owns it (see RemoveAll). Errc::kInvalidArgument if `prefix` contains '/'.
Result<std::string> MakeTempDir(const std::string& prefix);

// Removes `path` and, if it is a directory, everything below it, without following symlinks.
// A path that does not exist is success. Errc::kIo on failure.
Status RemoveAll(const std::string& path);

}  // namespace sluice
