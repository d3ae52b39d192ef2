#include "server/installer/installer_build.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <utility>
#include <vector>
#include <system_error>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "msi/installer_builder.h"
#include "msi/installer_template.h"

namespace sluice::server {
namespace {

namespace fs = std::filesystem;

// Keeps the kCachedTemplates most recently used templates (by modification time, which a use
// refreshes) and removes the rest, and any staging folder a crash left behind (builds run one at
// a time, so none is in use here). Best effort: a template removed here is rebuilt when needed.
void PruneTemplates(const std::string& templates_dir) {
  std::vector<std::pair<fs::file_time_type, fs::path>> templates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(templates_dir, ec)) {
    if (entry.path().filename().string().starts_with(".staging-")) {
      fs::remove_all(entry.path(), ec);
      continue;
    }
    if (entry.path().extension() != ".msi") continue;
    templates.emplace_back(entry.last_write_time(ec), entry.path());
  }
  if (templates.size() <= kCachedTemplates) return;
  std::sort(templates.begin(), templates.end(), std::greater<>());
  for (size_t i = kCachedTemplates; i < templates.size(); ++i) {
    fs::remove(templates[i].second, ec);
  }
}

// The template for the request's kind around its client: the cached one, or one built now.
Result<std::string> TemplateFor(const BuildRequest& request) {
  const PackageRecord& client = request.client;
  if (auto made = EnsureDir(request.templates_dir, 0700); !made) return Fail(made.error());
  const std::string path =
      (fs::path(request.templates_dir) / msi::TemplateFileName(request.key.kind, client.sha256))
          .string();
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
    return path;
  }
  if (auto built = msi::BuildTemplate(request.key.kind, client.path, client.sha256, path);
      !built) {
    return Context(built.error(), "embedding " + client.kind + " " + client.platform + " " +
                                      client.version + " (sha256 " + client.sha256 + ")");
  }
  PruneTemplates(request.templates_dir);
  return path;
}

}  // namespace

Result<BuildOutcome> BuildInstallerFile(const BuildRequest& request) {
  if (request.signing_key == nullptr) {
    return Fail(Errc::kInternal, "the site signing key is not loaded");
  }
  auto template_path = TemplateFor(request);
  if (!template_path) {
    return Context(template_path.error(), "building the " + request.key.kind + " installer");
  }
  const fs::path folder = fs::path(request.installers_dir) / request.key.id;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return Fail(Errc::kIo, "cannot create " + folder.string() + ": " + ec.message());
  ::chmod(request.installers_dir.c_str(), 0700);
  ::chmod(folder.c_str(), 0700);
  const std::string file =
      (folder / ("sluice-" + request.key.kind + "-" + request.key.site_version + "-" +
                 crypto::RandomHex(4) + ".msi"))
          .string();
  // A failed build leaves nothing behind: not its file, and not its folder if that is now empty
  // (a new installer's; a rebuilt one's folder still holds the previous build).
  auto discard = [&] {
    fs::remove(file, ec);
    fs::remove(folder, ec);  // only removes an empty directory
  };
  const std::string key_info = installer::SignInstallerKey(request.key, *request.signing_key);
  auto built = msi::BuildInstaller(*template_path,
                                   {.kind = request.key.kind,
                                    .site_version = request.key.site_version,
                                    .properties = {{"KEY_INFO", key_info}}},
                                   file);
  if (!built) {
    discard();
    if (built.error().code() == Errc::kCorrupt) fs::remove(*template_path, ec);  // rebuilt next
    return Context(built.error(), "building the " + request.key.kind + " installer");
  }
  if (request.code_signing) {
    if (auto signed_ok = msi::SignInstaller(file, *request.code_signing); !signed_ok) {
      discard();
      return Context(signed_ok.error(), "signing the installer");
    }
  }
  return BuildOutcome{.build = {.site_version = request.key.site_version,
                                .product_code = built->product_code,
                                .product_version = built->product_version,
                                .file = file,
                                .key_info = key_info,
                                .built_ms = request.now_ms,
                                .expires_ms = request.key.expires_ms},
                      .upgrade_code = built->upgrade_code};
}

}  // namespace sluice::server
