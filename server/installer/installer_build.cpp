#include "server/installer/installer_build.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "common/crypto/random.h"
#include "msi/installer_builder.h"

namespace sluice::server {

Result<BuildOutcome> BuildInstallerFile(const BuildRequest& request) {
  namespace fs = std::filesystem;
  if (request.signing_key == nullptr) {
    return Fail(Errc::kInternal, "the site signing key is not loaded");
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
  auto built = msi::BuildInstaller(request.template_dir,
                                   {.kind = request.key.kind,
                                    .site_version = request.key.site_version,
                                    .properties = {{"KEY_INFO", key_info}}},
                                   file);
  if (!built) {
    discard();
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
