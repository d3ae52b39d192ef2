// sluicectl package add / package list: the package store; site set-version: the version every
// client is moved to.

#include <filesystem>
#include <system_error>

#include "common/proto/enums.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_values.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

Status PrintPackages(const json& result, std::ostream& out) {
  const json& packages = Field(result, "packages");
  if (!packages.is_array() || packages.empty()) {
    out << "(no packages)\n";
    return {};
  }
  Table table({"KIND", "PLATFORM", "VERSION", "SIZE", "SHA256", "DOWNGRADE", "CREATED", "FILE"});
  for (const json& package : packages) {
    table.AddRow({Text(package, "kind"), Text(package, "platform"), Text(package, "version"),
                  Text(package, "size"), Text(package, "sha256"), Text(package, "allow_downgrade"),
                  Text(package, "created"), Text(package, "file", "ok")});
  }
  table.Print(out);
  return {};
}

void AddPackageAdd(Ctl& ctl, CLI::App* package) {
  struct Options {
    std::string kind;
    std::string platform = "linux-x86_64";
    std::string version;
    bool allow_downgrade = false;
    std::string file;
  };
  auto options = std::make_shared<Options>();
  CLI::App* add = package->add_subcommand(
      "add", "Copy a package file into the store and sign its manifest with the site key");
  add->add_option("--kind", options->kind, "Client kind the package updates")
      ->required()
      ->check(CLI::IsMember(ClientKindNames()));
  add->add_option("--platform", options->platform, "Platform the package runs on")
      ->capture_default_str();
  add->add_option("--version", options->version, "Version the package installs")->required();
  add->add_flag("--allow-downgrade", options->allow_downgrade,
                "Sign the manifest so clients on a newer version accept it");
  add->add_option("file", options->file, "The package file (read by sluiced itself)")->required();
  add->callback([&ctl, options] {
    // sluiced reads the file, from its own working directory: send an absolute path.
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(options->file, ec);
    const json args = {{"kind", options->kind},
                       {"platform", options->platform},
                       {"version", options->version},
                       {"path", ec ? options->file : absolute.lexically_normal().string()},
                       {"allow_downgrade", options->allow_downgrade}};
    auto print = [](const json& result, std::ostream& out) -> Status {
      const json& added = Field(result, "package");
      out << "added " << Text(added, "kind") << ' ' << Text(added, "platform") << ' '
          << Text(added, "version") << " sha256=" << Text(added, "sha256")
          << " size=" << Text(added, "size") << '\n';
      return {};
    };
    ctl.Run("package-add", args, false, print);
  });
}

void AddSiteCommands(Ctl& ctl) {
  CLI::App* site = ctl.app().add_subcommand("site", "The site's own version");
  site->require_subcommand(1);
  auto version = std::make_shared<std::string>();
  CLI::App* set = site->add_subcommand("set-version", "Set the version clients are upgraded to");
  set->add_option("version", *version, "The new site version, e.g. 2.0.0")->required();
  set->callback([&ctl, version] {
    auto print = [version](const json& result, std::ostream& out) -> Status {
      out << "site version is now " << Text(result, "version", *version) << '\n';
      return {};
    };
    ctl.Run("site-set-version", {{"version", *version}}, false, print);
  });
}

}  // namespace

void AddPackageCommands(Ctl& ctl) {
  CLI::App* package = ctl.app().add_subcommand("package", "Add and list client packages");
  package->require_subcommand(1);
  AddPackageAdd(ctl, package);
  CLI::App* list = package->add_subcommand("list", "List the stored packages");
  auto as_json = Ctl::AddJsonFlag(list);
  list->callback([&ctl, as_json] { ctl.Run("packages", json::object(), *as_json, PrintPackages); });
  AddSiteCommands(ctl);
}

}  // namespace sluice::ctl
