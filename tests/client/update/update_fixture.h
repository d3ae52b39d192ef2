#pragma once
// Shared by the client/update tests: a temp state dir, a real Ed25519 site key, shell-script
// payloads (healthy, unhealthy, hanging) and helpers that sign grants and feed chunks.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "client/update/updater.h"
#include "common/base/file_util.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/pkg/manifest.h"

namespace sluice::client::testing {

// A payload whose --self-test passes (exit 0); anything else exits 3.
inline Bytes HealthyPayload(const std::string& version) {
  std::string text =
      "#!/bin/sh\n# sluice-client " + version + "\n[ \"$1\" = --self-test ] && exit 0\nexit 3\n";
  return Bytes(text.begin(), text.end());
}
// A payload whose --self-test fails (exit 1).
inline Bytes UnhealthyPayload(const std::string& version) {
  std::string text = "#!/bin/sh\n# sluice-client " + version +
                     "\necho self-test failed: no database\n[ \"$1\" = --self-test ] && exit 1\n"
                     "exit 0\n";
  return Bytes(text.begin(), text.end());
}
// A payload whose --self-test never returns.
inline Bytes HangingPayload(const std::string& version) {
  std::string text = "#!/bin/sh\n# sluice-client " + version + "\nsleep 60\nexit 0\n";
  return Bytes(text.begin(), text.end());
}

struct Package {
  proto::UpgradeGrant grant;
  Bytes payload;
};

class UpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-update-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
    auto key = crypto::SigningKey::Generate();
    ASSERT_TRUE(key) << key.error().ToString();
    key_.emplace(std::move(*key));
  }
  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_));
    }
  }

  std::string StateDir() const { return dir_ + "/state"; }

  UpdaterOptions Options() const {
    UpdaterOptions options{.state_dir = StateDir(),
                           .installed_version = "1.0.0",
                           .site_public_key = key_->PublicKey()};
    options.health_timeout = std::chrono::milliseconds(10'000);
    return options;
  }

  std::unique_ptr<Updater> OpenUpdater(UpdaterOptions options) {
    auto updater = Updater::Open(std::move(options));
    EXPECT_TRUE(updater) << updater.error().ToString();
    return updater ? std::move(*updater) : nullptr;
  }
  std::unique_ptr<Updater> OpenUpdater() { return OpenUpdater(Options()); }

  // A grant for `payload` signed with `key` (the site key by default).
  Package MakePackage(const std::string& version, Bytes payload, uint64_t lease_id,
                      bool allow_downgrade = false, const crypto::SigningKey* key = nullptr) {
    pkg::Manifest manifest{.kind = "jump-client",
                           .platform = "linux-x86_64",
                           .version = version,
                           .size = payload.size(),
                           .sha256 = crypto::HexEncode(crypto::Sha256(payload)),
                           .allow_downgrade = allow_downgrade,
                           .created_ms = 1764057600000};
    auto signed_manifest = pkg::SignManifest(manifest, key ? *key : *key_);
    return Package{.grant = proto::UpgradeGrant{.lease_id = lease_id,
                                                .version = version,
                                                .manifest = signed_manifest.manifest,
                                                .signature = signed_manifest.signature,
                                                .lease_ttl_s = 300},
                   .payload = std::move(payload)};
  }

  // Sends payload[from, to) in chunks of `chunk_size`; expects each to be accepted and returns
  // what the last AddChunk said about completeness.
  static bool Feed(Updater& updater, const Package& package, uint64_t from, uint64_t to,
                   size_t chunk_size) {
    bool complete = false;
    for (uint64_t at = from; at < to; at += chunk_size) {
      const uint64_t end = std::min<uint64_t>(to, at + chunk_size);
      proto::Chunk chunk{.lease_id = package.grant.lease_id,
                         .offset = at,
                         .data = Bytes(package.payload.begin() + static_cast<ptrdiff_t>(at),
                                       package.payload.begin() + static_cast<ptrdiff_t>(end))};
      auto added = updater.AddChunk(chunk);
      EXPECT_TRUE(added) << added.error().ToString();
      if (!added) return false;
      complete = *added;
    }
    return complete;
  }

  // Grant, download everything, apply.
  proto::UpgradeResult Install(Updater& updater, const Package& package, size_t chunk = 4096) {
    auto offset = updater.BeginDownload(package.grant);
    EXPECT_TRUE(offset) << offset.error().ToString();
    if (!offset) return {};
    EXPECT_TRUE(Feed(updater, package, *offset, package.payload.size(), chunk));
    return updater.Apply();
  }

  // Installs `version` (healthy) and acknowledges the report, leaving an upgraded client.
  void InstallAcknowledged(const std::string& version, uint64_t lease_id) {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    auto result = Install(*updater, MakePackage(version, HealthyPayload(version), lease_id));
    ASSERT_EQ(result.outcome, proto::UpgradeOutcome::kApplied) << result.detail;
    updater->ReportDelivered(lease_id);
  }

  // The folder `current` points to, or nullopt without a link.
  std::optional<std::string> CurrentLink() const {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(StateDir() + "/current", ec);
    if (ec) return std::nullopt;
    return target.string();
  }
  // Names under versions/.
  std::set<std::string> Versions() const {
    std::set<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(StateDir() + "/versions", ec), end;
         !ec && it != end; it.increment(ec)) {
      names.insert(it->path().filename().string());
    }
    return names;
  }
  std::set<std::string> Downloads() const {
    std::set<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(StateDir() + "/downloads", ec), end;
         !ec && it != end; it.increment(ec)) {
      names.insert(it->path().filename().string());
    }
    return names;
  }
  Bytes ReadPayload(const std::string& version) const {
    auto text = ReadFile(StateDir() + "/versions/" + version + "/sluice-client");
    return text ? Bytes(text->begin(), text->end()) : Bytes();
  }
  // `current` is absent, or names an installed version folder holding its payload.
  void ExpectCurrentConsistent() const {
    auto link = CurrentLink();
    if (!link) return;
    struct stat st {};
    EXPECT_EQ(::stat((StateDir() + "/current/sluice-client").c_str(), &st), 0)
        << "dangling current -> " << *link;
  }

  std::string dir_;
  std::optional<crypto::SigningKey> key_;
};

}  // namespace sluice::client::testing
