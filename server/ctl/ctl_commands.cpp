#include "server/ctl/ctl_commands.h"

#include "server/ctl/ctl_output.h"

namespace sluice::ctl {

void AddAllCommands(Ctl& ctl) {
  AddStatusCommands(ctl);
  AddClientCommands(ctl);
  AddSettingsCommands(ctl);
  AddUpgradeCommands(ctl);
  AddPackageCommands(ctl);
  AddUpdateCommands(ctl);
  AddInstallerCommands(ctl);
  AddBackupCommands(ctl);
  AddCertCommands(ctl);
  AddPairCommands(ctl);
  AddAdminCommands(ctl);
  AddMetricsCommands(ctl);
}

std::vector<std::pair<std::string, std::string>> ClientCountFields(const nlohmann::json& counts) {
  return {
      {"clients", Text(counts, "total", "0") + " total, " + Text(counts, "online", "0") +
                      " online, " + Text(counts, "lost", "0") + " lost"},
      {"by kind", JoinCounts(Field(counts, "by_kind"))},
      {"by version", JoinCounts(Field(counts, "by_version"))},
      {"by state", JoinCounts(Field(counts, "by_state"))},
  };
}

}  // namespace sluice::ctl
