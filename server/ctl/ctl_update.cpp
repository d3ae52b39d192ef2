// sluicectl update ...: site updates. build, keygen and fetch-offline run locally (no server);
// check, install, list, download-key and install-file ask sluiced.

#include <filesystem>
#include <system_error>

#include "common/base/clock.h"
#include "common/base/file_util.h"
#include "common/base/time_format.h"
#include "common/crypto/encoding.h"
#include "common/update/download_key.h"
#include "common/update/offline_file.h"
#include "common/update/update_bundle.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/update/update_source.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

std::string Absolute(const std::string& path) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

std::string JoinList(const json& list) {
  std::string out;
  if (!list.is_array()) return "-";
  for (const auto& item : list) {
    if (!out.empty()) out += ",";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out.empty() ? "-" : out;
}

// A version for display: "-" when empty (no base update installed yet).
std::string VersionText(const json& result, std::string_view key) {
  const std::string text = Text(result, key, "");
  return text.empty() ? "-" : text;
}

Result<update::PackageInput> ParsePackageArg(const std::string& text) {
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? first : text.find(':', first + 1);
  if (second == std::string::npos || second + 1 >= text.size()) {
    return Fail(Errc::kInvalidArgument, "--package '" + text +
                                            "' must be KIND:PLATFORM:FILE, e.g. "
                                            "jump-client:linux-x86_64:./jc-2.0.0.bin");
  }
  return update::PackageInput{.kind = text.substr(0, first),
                              .platform = text.substr(first + 1, second - first - 1),
                              .path = text.substr(second + 1)};
}

Result<Bytes> ReadTrustKey(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Fail(text.error());
  std::string trimmed = *text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.pop_back();
  }
  auto key = crypto::Base64Decode(trimmed);
  if (!key || key->size() != crypto::kEd25519PublicKeySize) {
    return Fail(Errc::kInvalidArgument, path + " is not an update trust key (base64 of 32 bytes)");
  }
  return *key;
}

void AddKeygen(Ctl& ctl, CLI::App* update) {
  auto out = std::make_shared<std::string>();
  CLI::App* keygen = update->add_subcommand(
      "keygen", "Create an update signing key (KEY, PEM, 0600) and its public key (KEY.pub)");
  keygen->add_option("--out", *out, "Where to write the private key")->required();
  keygen->callback([&ctl, out] {
    if (std::filesystem::exists(*out)) {
      return ctl.ReportFailure(
          Error(Errc::kAlreadyExists, *out + " already exists; remove it or choose another path"));
    }
    auto key = crypto::SigningKey::Generate();
    if (!key) return ctl.ReportFailure(key.error());
    if (auto saved = key->SavePem(*out); !saved) return ctl.ReportFailure(saved.error());
    const std::string pub = *out + ".pub";
    if (auto saved = WriteFileAtomic(pub, crypto::Base64Encode(key->PublicKey()) + "\n", 0644);
        !saved) {
      return ctl.ReportFailure(saved.error());
    }
    ctl.out() << "wrote " << *out << " (private: keep it secret) and " << pub
              << " (give it to sites: sluiced --update-trust-key)\n";
  });
}

void AddBuild(Ctl& ctl, CLI::App* update) {
  struct Options {
    std::string kind, version, signing_key, out;
    std::vector<std::string> depends_on, packages;
  };
  auto options = std::make_shared<Options>();
  CLI::App* build = update->add_subcommand("build", "Build a signed update bundle (no server)");
  build->add_option("--kind", options->kind, "base or site")
      ->required()
      ->check(CLI::IsMember({"base", "site"}));
  build->add_option("--version", options->version, "The version the update installs")->required();
  build->add_option("--depends-on", options->depends_on,
                    "An update that must be installed first (repeatable), e.g. base-5.0.0");
  build->add_option("--package", options->packages,
                    "KIND:PLATFORM:FILE, a client package of a site update (repeatable)");
  build->add_option("--signing-key", options->signing_key, "The update signing key (PEM)")
      ->required();
  build->add_option("--out", options->out, "The bundle file to write")->required();
  build->callback([&ctl, options] {
    std::vector<update::PackageInput> packages;
    for (const auto& text : options->packages) {
      auto package = ParsePackageArg(text);
      if (!package) return ctl.ReportFailure(package.error());
      packages.push_back(std::move(*package));
    }
    auto key = crypto::SigningKey::LoadPem(options->signing_key);
    if (!key) return ctl.ReportFailure(key.error());
    update::BundleHeader header{.id = {},
                                .kind = options->kind,
                                .version = options->version,
                                .depends_on = options->depends_on,
                                .created_ms = SystemClock::Instance().WallMs(),
                                .packages = {}};
    auto built = update::WriteBundle(options->out, std::move(header), packages, *key);
    if (!built) return ctl.ReportFailure(built.error());
    ctl.out() << "built " << built->id << " (" << built->packages.size() << " packages, depends on "
              << JoinList(json(built->depends_on)) << ") -> " << options->out << '\n';
  });
}

Status PrintCheck(const json& result, std::ostream& out) {
  out << "site version " << Text(result, "site_version") << ", base version "
      << VersionText(result, "base_version") << ", source " << Text(result, "source")
      << '\n';
  const json& updates = Field(result, "updates");
  if (!updates.is_array() || updates.empty()) {
    out << "(no updates available)\n";
  } else {
    Table table({"ID", "KIND", "VERSION", "DEPENDS ON", "MISSING", "PACKAGES"});
    for (const json& entry : updates) {
      table.AddRow({Text(entry, "id"), Text(entry, "kind"), Text(entry, "version"),
                    JoinList(Field(entry, "depends_on")), JoinList(Field(entry, "missing")),
                    std::to_string(Field(entry, "packages").size())});
    }
    table.Print(out);
  }
  for (const json& problem : Field(result, "problems")) {
    out << "skipped " << problem.get<std::string>() << '\n';
  }
  return {};
}

Status PrintInstalled(const json& entry, std::ostream& out) {
  out << "installed " << Text(entry, "id") << "; site version " << Text(entry, "site_version")
      << ", base version " << VersionText(entry, "base_version") << "; backup "
      << Text(entry, "backup") << '\n';
  return {};
}

void AddServerCommands(Ctl& ctl, CLI::App* update) {
  CLI::App* check = update->add_subcommand("check", "List updates in the source not installed");
  auto check_json = Ctl::AddJsonFlag(check);
  check->callback(
      [&ctl, check_json] { ctl.Run("update-check", json::object(), *check_json, PrintCheck); });

  CLI::App* list = update->add_subcommand("list", "List the installed updates");
  auto list_json = Ctl::AddJsonFlag(list);
  list->callback([&ctl, list_json] {
    ctl.Run("updates", json::object(), *list_json, [](const json& result, std::ostream& out) {
      Table table({"ID", "KIND", "VERSION", "INSTALLED", "BACKUP"});
      for (const json& row : Field(result, "updates")) {
        table.AddRow({Text(row, "id"), Text(row, "kind"), Text(row, "version"),
                      Text(row, "installed"), Text(row, "backup")});
      }
      if (table.size() == 0)
        out << "(no updates installed)\n";
      else
        table.Print(out);
      return Status{};
    });
  });

  auto id = std::make_shared<std::string>();
  CLI::App* install = update->add_subcommand("install", "Install an update from the source");
  install->add_option("id", *id, "The update id, e.g. site-2.0.0")->required();
  auto install_json = Ctl::AddJsonFlag(install);
  install->callback([&ctl, id, install_json] {
    ctl.Run("update-install", {{"id", *id}}, *install_json, PrintInstalled);
  });

  auto file = std::make_shared<std::string>();
  CLI::App* install_file =
      update->add_subcommand("install-file", "Install the updates of an offline update file");
  install_file->add_option("file", *file, "The file `update fetch-offline` wrote")->required();
  auto file_json = Ctl::AddJsonFlag(install_file);
  install_file->callback([&ctl, file, file_json] {
    ctl.Run("update-install-file", {{"path", Absolute(*file)}}, *file_json,
            [](const json& result, std::ostream& out) {
              for (const json& entry : Field(result, "installed")) (void)PrintInstalled(entry, out);
              for (const json& id : Field(result, "skipped")) {
                out << "already installed " << id.get<std::string>() << '\n';
              }
              out << "site version " << Text(result, "site_version") << ", base version "
                  << VersionText(result, "base_version") << '\n';
              return Status{};
            });
  });

  auto minutes = std::make_shared<int64_t>(2400);
  CLI::App* key = update->add_subcommand(
      "download-key", "Print an appliance download key for fetching updates offline");
  key->add_option("--valid-for", *minutes, "Minutes the key stays valid")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{366 * 24 * 60}));
  auto key_json = Ctl::AddJsonFlag(key);
  key->callback([&ctl, minutes, key_json] {
    ctl.Run("update-download-key", {{"valid_for_minutes", *minutes}}, *key_json,
            [](const json& result, std::ostream& out) {
              out << Text(result, "key") << '\n';
              return Status{};
            });
  });
}

void AddFetchOffline(Ctl& ctl, CLI::App* update) {
  struct Options {
    std::string key, source, out, trust_key;
  };
  auto options = std::make_shared<Options>();
  CLI::App* fetch = update->add_subcommand(
      "fetch-offline", "Write the updates a site needs (from its download key) into one file");
  fetch->add_option("--key", options->key, "The appliance download key, or a file holding it")
      ->required();
  fetch->add_option("--source", options->source, "The update source (mirror) directory")
      ->required();
  fetch->add_option("--out", options->out, "The offline update file to write")->required();
  fetch->add_option("--trust-key", options->trust_key,
                    "Also check each bundle's signature against this update trust key");
  fetch->callback([&ctl, options] {
    std::string text = options->key;
    if (!text.starts_with(update::kDownloadKeyPrefix) && std::filesystem::exists(text)) {
      auto read = ReadFile(text);
      if (!read) return ctl.ReportFailure(read.error());
      text = *read;
    }
    auto key = update::VerifyDownloadKey(text, SystemClock::Instance().WallMs());
    if (!key) return ctl.ReportFailure(key.error());
    Bytes trust;
    if (!options->trust_key.empty()) {
      auto read = ReadTrustKey(options->trust_key);
      if (!read) return ctl.ReportFailure(read.error());
      trust = std::move(*read);
    }
    auto scan = server::ScanSource(options->source, trust);
    if (!scan) return ctl.ReportFailure(scan.error());
    server::SiteState site{.installed = {key->installed.begin(), key->installed.end()},
                           .base_version = key->base_version,
                           .site_version = key->site_version};
    std::vector<std::string> skipped;
    auto plan = server::InstallPlan(scan->entries, site, &skipped);
    std::vector<std::pair<std::string, update::BundleLocation>> bundles;
    for (const auto& entry : plan) bundles.emplace_back(entry.header.id, entry.where);
    if (auto written = update::WriteOfflineFile(options->out, key->site_id,
                                                SystemClock::Instance().WallMs(), bundles);
        !written) {
      return ctl.ReportFailure(written.error());
    }
    for (const auto& problem : scan->problems) ctl.out() << "skipped file " << problem << '\n';
    for (const auto& reason : skipped) ctl.out() << "left out " << reason << '\n';
    std::string ids;
    for (const auto& [id, where] : bundles) ids += (ids.empty() ? "" : ", ") + id;
    ctl.out() << "wrote " << bundles.size() << " updates for site " << key->site_id << " to "
              << options->out << (ids.empty() ? std::string(" (it is up to date)") : ": " + ids)
              << '\n';
  });
}

}  // namespace

void AddUpdateCommands(Ctl& ctl) {
  CLI::App* update =
      ctl.app().add_subcommand("update", "Site updates: build, check, install, offline path");
  update->require_subcommand(1);
  AddBuild(ctl, update);
  AddKeygen(ctl, update);
  AddServerCommands(ctl, update);
  AddFetchOffline(ctl, update);
}

}  // namespace sluice::ctl
