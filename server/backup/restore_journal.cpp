#include "server/backup/restore_journal.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/base/file_util.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOld = ".old";

std::string JournalPath(const std::string& root) {
  return root + "/" + std::string(kRestoreJournal);
}

// Moves every item into place; safe to repeat after a crash at any point.
Status MoveItems(const std::string& root, const std::string& staging,
                 const std::vector<std::string>& items, const RestoreStepHook& hook) {
  const std::string from_dir = root + "/" + staging;
  const std::string old_dir = from_dir + "/" + std::string(kOld);
  if (auto made = EnsureDir(old_dir, 0700); !made) return made;
  for (const std::string& item : items) {
    const std::string staged = from_dir + "/" + item;
    const std::string target = root + "/" + item;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(staged, ec))) continue;  // moved before a crash
    if (fs::exists(fs::symlink_status(target, ec))) {
      if (auto moved = RenameDurably(target, old_dir + "/" + item); !moved) return moved;
    }
    if (auto moved = RenameDurably(staged, target); !moved) return moved;
    if (hook) hook("moved " + item);
  }
  if (auto removed = RemoveAll(from_dir); !removed) return removed;
  if (::unlink(JournalPath(root).c_str()) != 0 && errno != ENOENT) {
    return Fail(ErrnoError("removing", JournalPath(root), errno));
  }
  return SyncDirectory(root);
}

}  // namespace

Status CommitRestore(const std::string& root, const std::string& staging,
                     const RestoreStepHook& hook) {
  std::vector<std::string> items;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root + "/" + staging, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != kOld) items.push_back(name);
  }
  if (ec) return Fail(ErrnoError("listing", root + "/" + staging, ec.value()));
  std::sort(items.begin(), items.end());
  const nlohmann::json journal = {{"staging", staging}, {"items", items}};
  if (auto written = WriteFileAtomic(JournalPath(root), journal.dump() + "\n", 0600); !written) {
    return written;
  }
  if (hook) hook("committed");
  return MoveItems(root, staging, items, hook);
}

Result<bool> FinishPendingRestore(const std::string& root) {
  auto text = ReadFile(JournalPath(root));
  if (!text && text.error().code() != Errc::kNotFound) return Fail(text.error());
  if (!text) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      if (entry.path().filename().string().starts_with(kStagingPrefix)) {
        if (auto removed = RemoveAll(entry.path().string()); !removed) return Fail(removed.error());
      }
    }
    return false;
  }
  std::string staging;
  std::vector<std::string> items;
  try {
    const auto journal = nlohmann::json::parse(*text);
    staging = journal.at("staging").get<std::string>();
    items = journal.at("items").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    return Fail(Errc::kCorrupt, JournalPath(root) + " cannot be read: " + e.what());
  }
  const auto unsafe = [](const std::string& name) {
    return name.empty() || name.find('/') != std::string::npos || name == "." || name == "..";
  };
  if (unsafe(staging) || !staging.starts_with(kStagingPrefix) ||
      std::any_of(items.begin(), items.end(), unsafe)) {
    return Fail(Errc::kCorrupt, JournalPath(root) + " names paths outside the data dir");
  }
  if (auto moved = MoveItems(root, staging, items, {}); !moved) return Fail(moved.error());
  return true;
}

}  // namespace sluice::backup
