#pragma once
// Failover pair admin commands (docs/admin.md, "Failover pair"):
//   pair-set-key        {"key"}                    -> {}
//   pair-establish      {"peer", "reverse"}        -> STATUS (run on the primary-to-be)
//   pair-status         {}                         -> STATUS + {"reachable", "peer_role", ...}
//   pair-break          {}                         -> {"broken", "peer": told|not told (...)}
//   pair-sync-now       {}                         -> the sync {"finished_ms", "duration_ms",
//                                                     "bytes", "packages", "site_version"}
//   pair-become-primary {"sync_first"?, "force"?}  -> {"role", "epoch", "grant_fence_until_ms"}
//   pair-upgrade        {"procedure"?: synchronous|asynchronous, "file"? | "update"?,
//                        "backup_password"? | "unprotected_backup"?, "continue"?, "dry_run"?,
//                        "abandon"?} -> {"procedure", "steps": [{"n", "name", "title",
//                        "state"}], "next", "backup_file", "finished"}
// STATUS is pair::PairService's status object ("role", "server_id", "peer", "epoch",
// "last_sync", "sync_running", "history", ...). Commands that change the role answer before
// the server restarts into it.

#include "server/admin/admin_server.h"
#include "server/pair/pair_service.h"
#include "server/pair/pair_upgrade.h"

namespace sluice::server {

// `pair` must outlive `admin`. Loop thread.
void RegisterPairCommands(admin::AdminServer& admin, pair::PairService& pair,
                          pair::PairUpgrade& upgrade);

}  // namespace sluice::server
