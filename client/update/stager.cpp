#include "client/update/stager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "common/base/file_util.h"

namespace sluice::client {
namespace {

// fsyncs a file or directory. Directories that cannot be fsynced (EINVAL) count as done.
Status SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return Fail(ErrnoError("opening", path, errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && !(directory && err == EINVAL)) return Fail(ErrnoError("syncing", path, err));
  return {};
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status CheckName(const std::string& version) {
  if (!IsValidVersionName(version)) {
    return Fail(Errc::kInvalidArgument, "'" + version + "' cannot name a version folder");
  }
  return {};
}

}  // namespace

bool IsValidVersionName(std::string_view version) {
  if (version.empty() || version == "." || version == "..") return false;
  return std::none_of(version.begin(), version.end(), [](char c) {
    return c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

Stager::Stager(std::string state_dir, std::string payload_name)
    : state_dir_(std::move(state_dir)), payload_name_(std::move(payload_name)) {}

std::string Stager::VersionDir(const std::string& version) const {
  return state_dir_ + "/versions/" + version;
}

std::string Stager::PayloadPath(const std::string& version) const {
  return VersionDir(version) + "/" + payload_name_;
}

bool Stager::HasVersion(const std::string& version) const {
  struct stat st {};
  return IsValidVersionName(version) && ::stat(VersionDir(version).c_str(), &st) == 0 &&
         S_ISDIR(st.st_mode);
}

std::optional<std::string> Stager::CurrentTarget() const {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(state_dir_ + "/current", ec);
  if (ec) return std::nullopt;
  return target.filename().string();
}

Status Stager::Stage(const std::string& part_path, const std::string& version) const {
  if (auto ok = CheckName(version); !ok) return ok;
  const std::string payload = PayloadPath(version);
  if (!Exists(part_path)) {
    if (Exists(payload)) return {};
    return Fail(Errc::kNotFound, "neither " + part_path + " nor " + payload + " exists");
  }
  if (auto made = EnsureDir(VersionDir(version), 0755); !made) return made;
  if (::chmod(part_path.c_str(), 0755) != 0) return Fail(ErrnoError("chmod", part_path, errno));
  if (auto synced = SyncPath(part_path, false); !synced) return synced;
  if (::rename(part_path.c_str(), payload.c_str()) != 0) {
    return Fail(ErrnoError("moving " + part_path + " to", payload, errno));
  }
  if (auto synced = SyncPath(VersionDir(version), true); !synced) return synced;
  if (auto synced = SyncPath(state_dir_ + "/versions", true); !synced) return synced;
  return SyncPath(std::filesystem::path(part_path).parent_path().string(), true);
}

Status Stager::Switch(const std::string& version) const {
  if (auto ok = CheckName(version); !ok) return ok;
  if (!HasVersion(version)) {
    return Fail(Errc::kNotFound, "cannot switch to missing " + VersionDir(version));
  }
  const std::string link = state_dir_ + "/current";
  const std::string temp = link + ".tmp";
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT) {
    return Fail(ErrnoError("removing", temp, errno));
  }
  const std::string target = "versions/" + version;
  if (::symlink(target.c_str(), temp.c_str()) != 0) {
    return Fail(ErrnoError("creating symlink", temp, errno));
  }
  if (::rename(temp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Fail(ErrnoError("replacing", link, err));
  }
  return SyncPath(state_dir_, true);
}

Status Stager::RemoveCurrent() const {
  const std::string link = state_dir_ + "/current";
  if (::unlink(link.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return Fail(ErrnoError("removing", link, errno));
  }
  return SyncPath(state_dir_, true);
}

Status Stager::RemoveVersion(const std::string& version) const {
  if (auto ok = CheckName(version); !ok) return ok;
  return RemoveAll(VersionDir(version));
}

Status Stager::PruneExcept(const std::vector<std::string>& keep) const {
  std::error_code ec;
  std::filesystem::directory_iterator it(state_dir_ + "/versions", ec);
  if (ec) return {};  // no versions/ yet
  std::vector<std::string> doomed;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) doomed.push_back(name);
  }
  if (ec) return Fail(Errc::kIo, "listing " + state_dir_ + "/versions: " + ec.message());
  for (const auto& name : doomed) {
    if (auto removed = RemoveAll(VersionDir(name)); !removed) return removed;
  }
  return {};
}

}  // namespace sluice::client
