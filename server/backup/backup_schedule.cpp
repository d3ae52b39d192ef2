#include "server/backup/backup_schedule.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "server/backup/backup_create.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBackupFilePrefix = "sluice-backup-";

}  // namespace

std::vector<std::string> ListBackupFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kBackupFilePrefix) && name.ends_with(kBackupSuffix) &&
        entry.is_regular_file(ec)) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> KeepNewestBackups(const std::string& dir, int keep) {
  std::vector<std::string> files = ListBackupFiles(dir);
  std::vector<std::string> removed;
  const size_t kept = static_cast<size_t>(std::max(keep, 1));
  for (size_t i = 0; i + kept < files.size(); ++i) {
    std::error_code ec;
    if (fs::remove(files[i], ec)) {
      Log("backup")->info("removed an old scheduled backup path={}", files[i]);
      removed.push_back(files[i]);
    } else if (ec) {
      Log("backup")->warn("cannot remove the old backup {}: {}", files[i], ec.message());
    }
  }
  return removed;
}

int64_t LastBackupMs(const std::string& dir) {
  const std::vector<std::string> files = ListBackupFiles(dir);
  if (files.empty()) return 0;
  struct stat st {};
  if (::stat(files.back().c_str(), &st) != 0) return 0;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

bool ScheduledBackupDue(int every_hours, int64_t last_ms, int64_t now_ms) {
  if (every_hours <= 0) return false;
  return last_ms == 0 || now_ms - last_ms >= int64_t{every_hours} * 3600 * 1000;
}

std::string SchedulePasswordPath(const std::string& data_root) {
  return data_root + "/keys/backup-password";
}

Result<std::optional<std::string>> ReadSchedulePassword(const std::string& data_root) {
  auto text = ReadFile(SchedulePasswordPath(data_root));
  if (!text && text.error().code() == Errc::kNotFound) return std::optional<std::string>();
  if (!text) return Fail(text.error());
  return std::optional<std::string>(std::move(*text));
}

Status WriteSchedulePassword(const std::string& data_root, const std::string& password) {
  return WriteFileAtomic(SchedulePasswordPath(data_root), password, 0600);
}

}  // namespace sluice::backup
