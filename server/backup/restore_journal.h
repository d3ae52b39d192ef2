#pragma once
// How a restore replaces the data dir's state in one step that a crash cannot split
// (docs/backup-format.md, "Restore"):
//   1. everything is staged in DIR/.restore-<id>/ — a crash here leaves the old state, and the
//      abandoned staging dir is removed by the next start or restore;
//   2. DIR/restore-journal names the staging dir and the top-level items to move: writing it
//      (atomically) is the commit point;
//   3. each item is moved into place (the old one into the staging dir's ".old"), then the
//      staging dir and the journal are removed.
// After the commit point, whoever next opens the data dir (sluiced's start or another
// restore) finishes the moves first, so a crash there ends in the new state.
// Callers hold the data dir's lock (DIR/run/lock).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice::backup {

inline constexpr std::string_view kRestoreJournal = "restore-journal";
inline constexpr std::string_view kStagingPrefix = ".restore-";

// Test-only fault injection: called with "committed" after the journal is written and with
// "moved <item>" after each move, so a test can kill the process there.
using RestoreStepHook = std::function<void(std::string_view step)>;

// Writes the journal for the staging dir `staging` (a name under `root`) and moves its
// top-level items into place. Errors: kIo naming the path; after the commit point an error
// leaves the journal, so the next open of the data dir completes the restore.
[[nodiscard]] Status CommitRestore(const std::string& root, const std::string& staging,
                                   const RestoreStepHook& hook = {});

// Completes a committed restore a crash interrupted, or removes staging dirs of one that never
// committed. Returns true when it completed one. Errors: kCorrupt for an unreadable journal,
// kIo.
[[nodiscard]] Result<bool> FinishPendingRestore(const std::string& root);

}  // namespace sluice::backup
