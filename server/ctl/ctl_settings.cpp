// sluicectl settings / settings set: the site's tunable settings.

#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

Status PrintSettings(const json& result, std::ostream& out) {
  const json& settings = Field(result, "settings");
  Table table({"KEY", "VALUE"});
  if (settings.is_object()) {
    for (const auto& [key, value] : settings.items()) table.AddRow({key, Text(settings, key)});
  }
  table.Print(out);
  return {};
}

}  // namespace

void AddSettingsCommands(Ctl& ctl) {
  CLI::App* settings = ctl.app().add_subcommand(
      "settings", "Show the site's settings; 'settings set KEY VALUE' changes one");
  auto as_json = Ctl::AddJsonFlag(settings);

  struct Change {
    std::string key;
    std::string value;
  };
  auto change = std::make_shared<Change>();
  CLI::App* set = settings->add_subcommand("set", "Change one setting");
  set->add_option("key", change->key, "Setting name")->required();
  set->add_option("value", change->value, "New value")->required();
  set->callback([&ctl, change] {
    auto print = [change](const json& result, std::ostream& out) -> Status {
      out << Text(result, "key", change->key) << " = " << Text(result, "value", change->value)
          << '\n';
      return {};
    };
    ctl.Run("settings-set", {{"key", change->key}, {"value", change->value}}, false, print);
  });

  settings->callback([&ctl, as_json, set] {
    if (set->parsed()) return;
    ctl.Run("settings", json::object(), *as_json, PrintSettings);
  });
}

}  // namespace sluice::ctl
