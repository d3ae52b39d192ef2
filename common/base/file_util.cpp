#include "common/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

namespace sluice {
namespace {


std::string ErrnoText(int err) { return std::generic_category().message(err); }

std::string ParentDir(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

// Flushes a directory entry change (a rename) to disk. Filesystems that cannot fsync a
// directory (EINVAL) are treated as done.
int SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno;
  return 0;
}

}  // namespace

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Error ErrnoError(std::string_view action, const std::string& path, int err) {
  std::string message(action);
  message += ' ';
  message += path;
  message += ": ";
  message += ErrnoText(err);
  return Error(err == ENOENT ? Errc::kNotFound : Errc::kIo, std::move(message));
}

uint64_t FileSizeOr0(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Fail(ErrnoError("opening", path, errno));
  std::string out;
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    out.reserve(static_cast<size_t>(st.st_size));
  }
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError("reading", path, errno));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  const std::string dir = ParentDir(path);
  std::string temp = dir + "/." + std::filesystem::path(path).filename().string() + ".tmp.XXXXXX";
  // Every failure below is reported as kIo: a missing directory is an I/O failure of the write,
  // not a "file not found" the caller could branch on.
  auto io_error = [&path](std::string_view action, int err) {
    return Fail(Errc::kIo, std::string(action) + " " + path + ": " + ErrnoText(err));
  };
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));  // created with mode 0600
  if (!fd.valid()) return io_error("creating temp file for", errno);

  // Each step returns 0 or an errno value; the first failure names what was being done.
  auto write_and_rename = [&]() -> std::pair<std::string_view, int> {
    if (::fchmod(fd.get(), mode) != 0) return {"setting mode of", errno};
    if (int err = WriteAll(fd.get(), data); err != 0) return {"writing", err};
    if (::fsync(fd.get()) != 0) return {"syncing", errno};
    if (fd.Close() != 0) return {"closing", errno};
    if (::rename(temp.c_str(), path.c_str()) != 0) return {"renaming temp file over", errno};
    return {"", 0};
  };
  if (auto [action, err] = write_and_rename(); err != 0) {
    ::unlink(temp.c_str());
    return io_error(action, err);
  }
  // The new content is in place; only its durability across power loss is still pending.
  if (int err = SyncDir(dir); err != 0) return io_error("syncing directory of", err);
  return {};
}

Status PublishFile(const std::string& temp, const std::string& path) {
  auto fail = [&](std::string_view action, int err) {
    ::unlink(temp.c_str());
    return Fail(Errc::kIo, std::string(action) + " " + path + ": " + ErrnoText(err));
  };
  UniqueFd fd(::open(temp.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail("opening the new content of", errno);
  if (::fsync(fd.get()) != 0) return fail("syncing the new content of", errno);
  fd.Close();
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("renaming the new content over", errno);
  if (int err = SyncDir(ParentDir(path)); err != 0) {
    return Fail(Errc::kIo, "syncing directory of " + path + ": " + ErrnoText(err));
  }
  return {};
}

Status SyncDirectory(const std::string& dir) {
  if (int err = SyncDir(dir); err != 0) return Fail(ErrnoError("syncing directory", dir, err));
  return {};
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Fail(ErrnoError("moving to", to, errno));
  for (const std::string& dir : {ParentDir(to), ParentDir(from)}) {
    if (int err = SyncDir(dir); err != 0) return Fail(ErrnoError("syncing directory", dir, err));
  }
  return {};
}

Status EnsureDir(const std::string& path, mode_t mode) {
  if (path.empty()) return Fail(Errc::kInvalidArgument, "EnsureDir: empty path");
  std::filesystem::path so_far;
  for (const auto& part : std::filesystem::path(path)) {
    if (part.empty()) continue;  // trailing slash
    so_far /= part;
    const std::string current = so_far.string();
    if (::mkdir(current.c_str(), mode) == 0) {
      if (::chmod(current.c_str(), mode) != 0) {
        return Fail(Errc::kIo, "setting mode of " + current + ": " + ErrnoText(errno));
      }
      continue;
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(current.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return Fail(Errc::kIo,
                  "creating " + path + ": " + current + " exists and is not a directory");
    }
    return Fail(Errc::kIo, "creating " + path + ": " + current + ": " + ErrnoText(err));
  }
  return {};
}

Result<std::string> MakeTempDir(const std::string& prefix) {
  if (prefix.find('/') != std::string::npos) {
    return Fail(Errc::kInvalidArgument, "temp dir prefix must not contain '/': " + prefix);
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string base = (tmpdir != nullptr && tmpdir[0] != '\0') ? tmpdir : "/tmp";
  std::string templ = base + "/" + prefix + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Fail(Errc::kIo, "creating temp dir in " + base + ": " + ErrnoText(errno));
  }
  return templ;
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Fail(Errc::kIo, "removing " + path + ": " + ec.message());
  return {};
}

}  // namespace sluice
