// sluicectl installer create|list|extend|delete: installer packages (MSIs) for Jump Clients
// and access consoles (docs/admin.md, "Installers").

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "msi/installer_builder.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/installer/installer_params.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

CLI::Validator DurationCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto parsed = server::ParseDuration(value);
        return parsed ? std::string() : parsed.error().message();
      },
      "", "DURATION");
}

std::string LocalUser() {
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  const char* user = std::getenv("USER");
  return user != nullptr ? user : "unknown";
}

std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> names;
  for (const std::string& value : values) {
    std::stringstream in(value);
    std::string name;
    while (std::getline(in, name, ',')) {
      if (!name.empty()) names.push_back(name);
    }
  }
  return names;
}

std::string Overrides(const json& installer) {
  const json& list = Field(installer, "overrides");
  std::string text;
  if (list.is_array()) {
    for (const json& name : list) text += (text.empty() ? "" : ",") + name.get<std::string>();
  }
  return text.empty() ? "-" : text;
}

// Copies the server's MSI to `out` (0600: the file enrolls clients), replacing it.
Status CopyOut(const std::string& from, const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path tmp = fs::path(out).string() + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (!ec) fs::rename(tmp, out, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Fail(Errc::kIo, "cannot write " + out + " from " + from + ": " + ec.message());
  }
  return {};
}

void PrintInstaller(const json& installer, std::ostream& out) {
  PrintFields(out, {{"id", Text(installer, "id")},
                    {"kind", Text(installer, "kind") + " " + Text(installer, "mode")},
                    {"jump group", Text(installer, "jump_group")},
                    {"tag", Text(installer, "tag")},
                    {"overrides", Overrides(installer)},
                    {"site version", Text(installer, "site_version")},
                    {"product version", Text(installer, "product_version")},
                    {"product code", Text(installer, "product_code")},
                    {"upgrade code", Text(installer, "upgrade_code")},
                    {"expires", Text(installer, "expires")},
                    {"file", Text(installer, "file")},
                    {"key", Text(installer, "key_info")}});
}

void AddCreate(Ctl& ctl, CLI::App* installer) {
  struct Options {
    std::string kind;
    std::string mode = "active";
    std::string jump_group;
    std::string tag;
    std::string comments;
    std::string valid_for = "1d";
    std::vector<std::string> overrides;
    std::string site_version;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  CLI::App* create =
      installer->add_subcommand("create", "Build an installer (MSI) for new clients");
  create->add_option("--kind", options->kind, "Client kind the installer makes")
      ->required()
      ->check(CLI::IsMember({std::string(msi::kJumpClientKind),
                              std::string(msi::kAccessConsoleKind)}));
  create->add_option("--mode", options->mode, "Check-in mode of the clients")
      ->check(CLI::IsMember({"active", "passive"}))
      ->capture_default_str();
  create->add_option("--jump-group", options->jump_group, "Jump group the clients join");
  create->add_option("--tag", options->tag, "Tag given to the clients");
  create->add_option("--comments", options->comments, "Free text kept with the installer");
  create
      ->add_option("--valid-for", options->valid_for,
                   "How long the installer may enroll clients (10m to 365d, e.g. 12h, 7d)")
      ->check(DurationCheck())
      ->capture_default_str();
  create
      ->add_option("--allow-override", options->overrides,
                   "Parameters the installing admin may change: mode, jump-group, tag "
                   "(comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"mode", "jump-group", "tag"}));
  create->add_option("--site-version", options->site_version,
                     "Make it for this site version (default: the current one); an installer "
                     "for a later version enrolls clients once the site reaches it");
  create->add_option("--out", options->out, "Where to write the MSI")->required();
  auto as_json = Ctl::AddJsonFlag(create);
  create->callback([&ctl, options, as_json] {
    json args = {{"kind", options->kind},
                 {"mode", options->mode},
                 {"jump_group", options->jump_group},
                 {"tag", options->tag},
                 {"comments", options->comments},
                 {"valid_for_ms", *server::ParseDuration(options->valid_for)},
                 {"overrides", SplitCommas(options->overrides)},
                 {"creator", LocalUser()}};
    if (!options->site_version.empty()) args["site_version"] = options->site_version;
    auto render = [options, as_json](const json& result, std::ostream& out) -> Status {
      const json& installer = Field(result, "installer");
      if (auto copied = CopyOut(Text(installer, "file"), options->out); !copied) return copied;
      if (*as_json) {
        out << result.dump(2) << '\n';
        return {};
      }
      PrintInstaller(installer, out);
      out << "written to " << options->out << '\n';
      return {};
    };
    ctl.Run("installer-create", args, false, render);
  });
}

Status PrintList(const json& result, std::ostream& out) {
  const json& installers = Field(result, "installers");
  if (!installers.is_array() || installers.empty()) {
    out << "(no installers)\n";
  } else {
    Table table({"ID", "KIND", "MODE", "GROUP", "TAG", "SITE", "PRODUCT", "PRODUCT CODE", "EXPIRES",
                 "CLIENTS", "OVERRIDES"});
    for (const json& i : installers) {
      table.AddRow({Text(i, "id"), Text(i, "kind"), Text(i, "mode"), Text(i, "jump_group"),
                    Text(i, "tag"), Text(i, "site_version"), Text(i, "product_version"),
                    Text(i, "product_code"),
                    Text(i, "expires") + (Field(i, "expired") == true ? " (expired)" : ""),
                    Text(i, "enrolled_clients"), Overrides(i)});
    }
    table.Print(out);
  }
  const json& archive = Field(result, "archive");
  if (archive.is_array() && !archive.empty()) {
    out << "\narchived (only these MSIs can uninstall what they installed):\n";
    Table table({"ID", "SITE", "PRODUCT", "PRODUCT CODE", "ARCHIVED", "REASON", "FILE"});
    for (const json& a : archive) {
      table.AddRow({Text(a, "id"), Text(a, "site_version"), Text(a, "product_version"),
                    Text(a, "product_code"), Text(a, "archived"), Text(a, "reason"),
                    Text(a, "file")});
    }
    table.Print(out);
  }
  return {};
}

}  // namespace

void AddInstallerCommands(Ctl& ctl) {
  CLI::App* installer =
      ctl.app().add_subcommand("installer", "Installer packages (MSI) for new clients");
  installer->require_subcommand(1);
  AddCreate(ctl, installer);

  CLI::App* list = installer->add_subcommand("list", "List installers and archived MSIs");
  auto list_json = Ctl::AddJsonFlag(list);
  list->callback(
      [&ctl, list_json] { ctl.Run("installers", json::object(), *list_json, PrintList); });

  auto extend_id = std::make_shared<std::string>();
  auto extend_for = std::make_shared<std::string>();
  CLI::App* extend = installer->add_subcommand(
      "extend", "Give an installer a new expiry (now + DURATION) and rebuild its MSI");
  extend->add_option("id", *extend_id, "Installer id")->required();
  extend->add_option("--valid-for", *extend_for, "New validity from now (10m to 365d)")
      ->required()
      ->check(DurationCheck());
  auto extend_json = Ctl::AddJsonFlag(extend);
  extend->callback([&ctl, extend_id, extend_for, extend_json] {
    ctl.Run("installer-extend",
            {{"id", *extend_id}, {"valid_for_ms", *server::ParseDuration(*extend_for)}},
            *extend_json, [](const json& result, std::ostream& out) -> Status {
              const json& installer = Field(result, "installer");
              out << Text(installer, "id") << " now expires " << Text(installer, "expires")
                  << "; new MSI " << Text(installer, "file") << '\n';
              return {};
            });
  });

  auto delete_id = std::make_shared<std::string>();
  CLI::App* remove = installer->add_subcommand(
      "delete", "Delete an installer: its MSIs stop enrolling clients (installed ones stay)");
  remove->add_option("id", *delete_id, "Installer id")->required();
  remove->callback([&ctl, delete_id] {
    ctl.Run("installer-delete", {{"id", *delete_id}}, false,
            [](const json& result, std::ostream& out) -> Status {
              out << "deleted installer " << Text(Field(result, "installer"), "id") << '\n';
              return {};
            });
  });
}

}  // namespace sluice::ctl
