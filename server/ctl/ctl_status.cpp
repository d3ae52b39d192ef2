// sluicectl status: the server's version, uptime, connections and client counts.

#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

Status PrintStatus(const json& result, std::ostream& out) {
  const json& uptime = Field(result, "uptime_s");
  std::vector<std::pair<std::string, std::string>> fields = {
      {"version", Text(result, "version") + " (site " + Text(result, "site_version") + ")"},
      {"base version", Text(result, "base_version", "").empty() ? "-"
                                                                 : Text(result, "base_version")},
      {"listen", Text(result, "listen")},
      {"advertised", Text(result, "advertised")},
      {"uptime", uptime.is_number() ? FormatDuration(uptime.get<int64_t>()) : "-"},
      {"connections", Text(result, "connections")},
  };
  for (auto& field : ClientCountFields(Field(result, "clients"))) fields.push_back(field);
  PrintFields(out, fields);
  return {};
}

}  // namespace

void AddStatusCommands(Ctl& ctl) {
  CLI::App* status = ctl.app().add_subcommand("status", "Show the server's version and load");
  auto as_json = Ctl::AddJsonFlag(status);
  status->callback([&ctl, as_json] { ctl.Run("status", json::object(), *as_json, PrintStatus); });
}

}  // namespace sluice::ctl
