#include "client/config/installer_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/base/time_format.h"
#include "common/crypto/encoding.h"

namespace sluice::client {

Result<InstallerConfig> ConfigFromInstallerKey(const std::string& key_text,
                                               const InstallOverrides& overrides, int64_t now_ms) {
  auto key = installer::OpenInstallerKey(key_text);
  if (!key) return Context(key.error(), "--key-info");
  if (now_ms > key->expires_ms) {
    return Fail(Errc::kTimeout, "installer " + key->id + " expired at " +
                                    FormatIsoUtc(key->expires_ms) + "; ask for a new installer");
  }
  if (!overrides.mode.empty() && overrides.mode != "active" && overrides.mode != "passive") {
    return Fail(Errc::kInvalidArgument, "--mode must be active or passive");
  }
  nlohmann::json config = {
      {"server", key->endpoint},
      {"pin", key->pin},
      {"signing_key", crypto::Base64Encode(key->signing_key)},
      {"kind", key->kind},
      {"mode", overrides.mode.empty() ? key->mode : overrides.mode},
      {"version", key->site_version},
      {"installer_key", key_text},
  };
  if (!overrides.jump_group.empty()) config["jump_group"] = overrides.jump_group;
  if (!overrides.tag.empty()) config["tag"] = overrides.tag;
  return InstallerConfig{.key = std::move(*key), .config_json = config.dump(2) + "\n"};
}

std::string RemoveClientFiles(const std::string& config_path, const std::string& state_dir) {
  std::string failed;
  std::error_code ec;
  std::filesystem::remove(config_path, ec);
  if (ec) failed += config_path + " (" + ec.message() + ") ";
  // Only a directory that is empty or holds an agent identity is the agent's to delete: a
  // mistyped --state-dir (a home directory, say) must never be wiped.
  if (!std::filesystem::exists(state_dir, ec)) return failed;
  const bool ours = std::filesystem::exists(state_dir + "/identity.json", ec) ||
                    std::filesystem::is_empty(state_dir, ec);
  if (!ours) return failed + state_dir + " (not an agent state directory) ";
  std::filesystem::remove_all(state_dir, ec);
  if (ec) failed += state_dir + " (" + ec.message() + ")";
  return failed;
}

}  // namespace sluice::client
