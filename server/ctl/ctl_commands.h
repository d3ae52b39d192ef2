#pragma once
// sluicectl's subcommands, one function per command group (one .cpp each). Adding a command is
// one small function: declare its options on a subcommand of ctl.app(), then in its callback
// call ctl.Run(cmd, args, json, render) with a function that prints the result for humans.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/ctl/ctl.h"

namespace sluice::ctl {

void AddStatusCommands(Ctl& ctl);    // status                      (ctl_status.cpp)
void AddClientCommands(Ctl& ctl);    // clients, client-config      (ctl_clients.cpp)
void AddSettingsCommands(Ctl& ctl);  // settings, settings set      (ctl_settings.cpp)
void AddUpgradeCommands(Ctl& ctl);   // limits, policy, upgrade, rollout, audit (ctl_upgrades.cpp)
void AddPackageCommands(Ctl& ctl);   // package add|list, site set-version (ctl_package.cpp)
void AddUpdateCommands(Ctl& ctl);    // update build|keygen|check|install|...  (ctl_update.cpp)

void AddInstallerCommands(Ctl& ctl);  // installer create|list|extend|delete (ctl_installer.cpp)
void AddBackupCommands(Ctl& ctl);     // backup create|status|inspect, restore (ctl_backup.cpp)
void AddCertCommands(Ctl& ctl);       // cert show|export|import                (ctl_cert.cpp)
void AddPairCommands(Ctl& ctl);       // pair set-key|establish|status|break|... (ctl_pair.cpp)
void AddAdminCommands(Ctl& ctl);      // admin add|passwd|remove|list            (ctl_admin.cpp)
void AddMetricsCommands(Ctl& ctl);    // metrics token [--rotate]                (ctl_metrics.cpp)

// Every group above, in help order.
void AddAllCommands(Ctl& ctl);

// "clients: 5 total, 3 online, 0 lost" and the by-kind/version/state breakdowns of a client
// counts object, as PrintFields rows; shared by status and clients.
std::vector<std::pair<std::string, std::string>> ClientCountFields(const nlohmann::json& counts);

}  // namespace sluice::ctl
