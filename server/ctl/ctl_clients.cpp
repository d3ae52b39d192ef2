// sluicectl clients / client-config: the client inventory, and enrollment files for new clients.

#include <chrono>

#include "common/base/file_util.h"
#include "common/proto/enums.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_values.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

Status PrintClients(const json& result, std::ostream& out) {
  PrintFields(out, ClientCountFields(Field(result, "counts")));
  const json& clients = Field(result, "clients");
  if (!clients.is_array() || clients.empty()) {
    out << "\n(no clients)\n";
    return {};
  }
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  Table table({"ID", "KIND", "MODE", "VERSION", "ONLINE", "STATE", "LAST SEEN", "PEER"});
  for (const json& client : clients) {
    const json& last_seen = Field(client, "last_seen");
    table.AddRow({Text(client, "id"), Text(client, "kind"), Text(client, "mode"),
                  Text(client, "version"), Text(client, "online"), Text(client, "state"),
                  last_seen.is_string() ? FormatAge(last_seen.get<std::string>(), now_s) : "-",
                  Text(client, "peer_address")});
  }
  out << '\n';
  table.Print(out);
  return {};
}

void AddClients(Ctl& ctl) {
  CLI::App* clients = ctl.app().add_subcommand("clients", "List the clients the site knows");
  auto as_json = Ctl::AddJsonFlag(clients);
  clients->callback(
      [&ctl, as_json] { ctl.Run("clients", json::object(), *as_json, PrintClients); });
}

void AddClientConfig(Ctl& ctl) {
  struct Options {
    std::string kind;
    std::string mode;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = ctl.app().add_subcommand(
      "client-config", "Write the configuration file a new client enrolls with");
  command->add_option("--kind", options->kind, "Client kind")
      ->required()
      ->check(CLI::IsMember(ClientKindNames()));
  command->add_option("--mode", options->mode, "Check-in mode")
      ->required()
      ->check(CLI::IsMember({"active", "passive"}));
  command->add_option("--out", options->out, "File to write (mode 0600: holds the enrollment key)")
      ->required();
  command->callback([&ctl, options] {
    auto write = [options](const json& result, std::ostream& out) -> Status {
      const json& config = Field(result, "config");
      if (!config.is_object()) {
        return Fail(Errc::kProtocol, "the server's answer has no \"config\" object");
      }
      std::string text = config.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
      if (auto written = WriteFileAtomic(options->out, text, 0600); !written) return written;
      out << "wrote " << options->out << '\n';
      return {};
    };
    ctl.Run("client-config", {{"kind", options->kind}, {"mode", options->mode}}, false, write);
  });
}

}  // namespace

void AddClientCommands(Ctl& ctl) {
  AddClients(ctl);
  AddClientConfig(ctl);
}

}  // namespace sluice::ctl
