// package-add / packages over a real admin socket, with a real store, real files and real
// signatures; and the built sluicectl binary against the same server.

#include "server/admin/package_commands.h"

#include <gtest/gtest.h>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/pkg/manifest.h"
#include "server/pkg/package_repo.h"
#include "tests/server/admin/admin_store_fixture.h"
#include "tests/server/admin/admin_test_util.h"
#include "tests/server/pkg/pkg_test_util.h"
#include "tests/server/test_times.h"

namespace sluice::server {
namespace {

using admin::testing::RawClient;
using testing::ListTree;
using testing::PackageBytes;
using testing::RunCtl;
using testing::WriteTestFile;

class PackageCommandsTest : public testing::AdminStoreFixture {
 protected:
  void SetUp() override {
    AdminStoreFixture::SetUp();
    if (HasFatalFailure()) return;
    auto key = crypto::SigningKey::Generate();
    ASSERT_TRUE(key);
    dir_.signing_key.emplace(std::move(*key));
    loop_.Sync([this] {
      RegisterPackageCommands(*admin_, loop_.loop(), *store_, dir_, clock_);
      admin_->Register("site-set-version", [this](const json& args, admin::Reply reply) {
        site_version_args_ = args;
        site_version_args_.erase(admin::kActorKey);
        reply(json{{"version", args.at("version")}});
      });
    });
  }

  using AdminStoreFixture::Call;
  // Sends one request line and returns the parsed response (null on failure).
  json Call(RawClient& client, const std::string& cmd, const json& args) {
    EXPECT_TRUE(client.Send(json{{"cmd", cmd}, {"args", args}}.dump() + "\n"));
    return ReadJson(client);
  }
  static json ReadJson(RawClient& client) {
    auto line = client.ReadLine();
    if (!line) {
      ADD_FAILURE() << "no response line";
      return json();
    }
    return json::parse(*line);
  }
  static json AddArgs(const std::string& path, const std::string& version = "2.0.0") {
    return {{"kind", "jump-client"},
            {"platform", "linux-x86_64"},
            {"version", version},
            {"path", path}};
  }
  static void ExpectError(const json& response, const std::string& code, const std::string& named) {
    EXPECT_EQ(response.value("ok", true), false) << response.dump();
    EXPECT_EQ(response["error"]["code"], code) << response.dump();
    EXPECT_NE(response["error"]["message"].get<std::string>().find(named), std::string::npos)
        << response.dump();
  }
  static std::string Sha256Hex(const std::string& content) {
    return crypto::HexEncode(crypto::Sha256(AsBytes(content)));
  }

  json site_version_args_;  // loop thread only
};

TEST_F(PackageCommandsTest, AddThenListOverTheAdminSocket) {
  const std::string content = PackageBytes(200'000, 1);
  const std::string sha = Sha256Hex(content);
  const std::string source = WriteTestFile(root_ + "/client.bin", content);
  RawClient client(dir_.admin_socket_path);
  ASSERT_TRUE(client.connected());

  json args = AddArgs(source);
  args["allow_downgrade"] = true;
  json added = Call(client, "package-add", args);
  ASSERT_EQ(added.value("ok", false), true) << added.dump();
  const json expected = {{"kind", "jump-client"},
                         {"platform", "linux-x86_64"},
                         {"version", "2.0.0"},
                         {"sha256", sha},
                         {"size", content.size()},
                         {"allow_downgrade", true},
                         {"created", "2025-11-25T08:00:00Z"}};
  EXPECT_EQ(added["result"], json({{"package", expected}}));

  json listed = Call(client, "packages", json::object());
  ASSERT_EQ(listed.value("ok", false), true) << listed.dump();
  json listed_expected = expected;
  listed_expected["file"] = "ok";  // the list also says whether the file is there
  EXPECT_EQ(listed["result"], json({{"packages", json::array({listed_expected})}}));

  // The content sits under its digest and the stored manifest verifies with the site key.
  EXPECT_EQ(ReadFile(dir_.packages_dir + "/" + sha).value_or(""), content);
  auto stored = store_->Call<std::optional<PackageRecord>>(
      [](db::Database& db) { return FindPackage(db, "jump-client", "linux-x86_64", "2.0.0"); });
  ASSERT_TRUE(stored && stored->has_value());
  auto manifest =
      pkg::VerifyManifest((*stored)->manifest, (*stored)->signature, dir_.signing_key->PublicKey());
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->sha256, sha);
  EXPECT_TRUE(manifest->allow_downgrade);
}

TEST_F(PackageCommandsTest, ReAddIsIdempotentAndAnotherFileIsRefused) {
  const std::string first = WriteTestFile(root_ + "/a.bin", PackageBytes(5000, 2));
  const std::string second = WriteTestFile(root_ + "/b.bin", PackageBytes(5000, 3));
  RawClient client(dir_.admin_socket_path);
  ASSERT_TRUE(client.connected());
  // Pipelined: the answers come back in request order. (Pipelined commands run concurrently,
  // so the listing is asked for only once the adds have answered.)
  ASSERT_TRUE(client.Send(json{{"cmd", "package-add"}, {"args", AddArgs(first)}}.dump() + "\n" +
                          json{{"cmd", "package-add"}, {"args", AddArgs(first)}}.dump() + "\n" +
                          json{{"cmd", "package-add"}, {"args", AddArgs(second)}}.dump() + "\n"));
  json one = ReadJson(client);
  json again = ReadJson(client);
  json other = ReadJson(client);
  json listed = Call(client, "packages", json::object());
  ASSERT_EQ(one.value("ok", false), true) << one.dump();
  ASSERT_EQ(again.value("ok", false), true) << again.dump();
  EXPECT_EQ(again["result"], one["result"]);
  ExpectError(other, "already_exists", "jump-client linux-x86_64 2.0.0");
  ASSERT_EQ(listed["result"]["packages"].size(), 1u) << listed.dump();
  json first_listed = one["result"]["package"];
  first_listed["file"] = "ok";
  EXPECT_EQ(listed["result"]["packages"][0], first_listed);
}

TEST_F(PackageCommandsTest, BadRequestsAreRefusedWithClearErrors) {
  const std::string source = WriteTestFile(root_ + "/pkg.bin", "payload");
  RawClient client(dir_.admin_socket_path);
  ASSERT_TRUE(client.connected());

  ExpectError(Call(client, "package-add", AddArgs("pkg.bin")), "invalid_argument", "absolute");
  ExpectError(Call(client, "package-add", AddArgs(source, "two")), "invalid_argument", "two");
  json bad_kind = AddArgs(source);
  bad_kind["kind"] = "toaster";
  ExpectError(Call(client, "package-add", bad_kind), "invalid_argument", "toaster");
  json no_platform = AddArgs(source);
  no_platform.erase("platform");
  ExpectError(Call(client, "package-add", no_platform), "invalid_argument", "platform");
  json bad_flag = AddArgs(source);
  bad_flag["allow_downgrade"] = "yes";
  ExpectError(Call(client, "package-add", bad_flag), "invalid_argument", "allow_downgrade");
  ExpectError(Call(client, "package-add", AddArgs(root_ + "/missing.bin")), "not_found",
              root_ + "/missing.bin");

  json listed = Call(client, "packages", json::object());
  EXPECT_EQ(listed["result"], json({{"packages", json::array()}}));
}

// Shutting the admin server down while a package is being copied cancels the import (it stops
// within one chunk), drops its reply and leaves no temp file behind.
TEST_F(PackageCommandsTest, ShutdownDuringAnImportLeavesNoTempFile) {
  const std::string big = WriteTestFile(root_ + "/big.bin", PackageBytes(64 << 20, 5));
  RawClient client(dir_.admin_socket_path);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(json{{"cmd", "package-add"}, {"args", AddArgs(big)}}.dump() + "\n"));
  auto has_temp = [this] {
    for (const auto& name : ListTree(dir_.packages_dir)) {
      if (name.find(".import-") != std::string::npos) return true;
    }
    return false;
  };
  // Wait (bounded) for the copy to be seen in progress: without that, the test would prove
  // nothing about cancelling, so it fails rather than carry on.
  const auto deadline = std::chrono::steady_clock::now() + admin::testing::kWait;
  while (!has_temp() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(has_temp()) << "the import was never seen copying; nothing to cancel";
  ASSERT_TRUE(loop_.Sync([this] { admin_.reset(); }));
  // Anything the worker posted before it was joined has run (and been dropped) by now.
  ASSERT_TRUE(loop_.Sync([] {}));
  EXPECT_FALSE(has_temp());
}

TEST_F(PackageCommandsTest, SluicectlAddsAndListsPackages) {
  const std::string content = PackageBytes(12'345, 4);
  const std::string sha = Sha256Hex(content);
  WriteTestFile(root_ + "/client-2.0.0.bin", content);
  const std::vector<std::string> data_dir = {"--data-dir", root_};
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), data_dir.begin(), data_dir.end());
    return RunCtl(std::move(args), root_);
  };

  // A relative FILE: sluicectl resolves it against its own working directory.
  auto added =
      ctl({"package", "add", "--kind", "jump-client", "--version", "2.0.0", "client-2.0.0.bin"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "added jump-client linux-x86_64 2.0.0 sha256=" + sha + " size=12345\n");
  EXPECT_EQ(added.err, "");

  auto listed = ctl({"package", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  for (const std::string part :
       {"KIND", "PLATFORM", "VERSION", "SHA256", "jump-client", "linux-x86_64", "2.0.0", "12345",
        sha.c_str(), "2025-11-25T08:00:00Z"}) {
    EXPECT_NE(listed.out.find(part), std::string::npos) << part << " in\n" << listed.out;
  }

  auto as_json = ctl({"package", "list", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  json packages = json::parse(as_json.out)["packages"];
  ASSERT_EQ(packages.size(), 1u);
  EXPECT_EQ(packages[0]["sha256"], sha);
  EXPECT_EQ(packages[0]["allow_downgrade"], false);

  auto downgrade = ctl({"package", "add", "--kind", "jumpoint", "--platform", "windows-x86_64",
                        "--version", "1.5", "--allow-downgrade", root_ + "/client-2.0.0.bin"});
  ASSERT_EQ(downgrade.exit_code, 0) << downgrade.err;
  EXPECT_EQ(downgrade.out, "added jumpoint windows-x86_64 1.5 sha256=" + sha + " size=12345\n");
}

TEST_F(PackageCommandsTest, SluicectlReportsRefusalsAndBadUsage) {
  WriteTestFile(root_ + "/pkg.bin", "payload");
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", root_});
    return RunCtl(std::move(args), root_);
  };
  auto bad_version =
      ctl({"package", "add", "--kind", "jump-client", "--version", "2.x", "pkg.bin"});
  EXPECT_EQ(bad_version.exit_code, 1);
  EXPECT_EQ(bad_version.out, "");
  EXPECT_NE(bad_version.err.find("sluicectl: invalid_argument: "), std::string::npos)
      << bad_version.err;
  EXPECT_NE(bad_version.err.find("2.x"), std::string::npos) << bad_version.err;

  auto missing = ctl({"package", "add", "--kind", "jump-client", "--version", "2.0", "nope.bin"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("sluicectl: not_found: "), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find(root_ + "/nope.bin"), std::string::npos) << missing.err;

  EXPECT_EQ(ctl({"package", "add", "--kind", "toaster", "--version", "1", "pkg.bin"}).exit_code,
            64);
  EXPECT_EQ(ctl({"package", "add", "--kind", "jump-client", "pkg.bin"}).exit_code, 64);
  EXPECT_EQ(ctl({"package"}).exit_code, 64);

  auto empty = ctl({"package", "list"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "(no packages)\n");
}

TEST_F(PackageCommandsTest, SluicectlSetsTheSiteVersion) {
  auto set = RunCtl({"--data-dir", root_, "site", "set-version", "2.0.0"}, root_);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "site version is now 2.0.0\n");
  json args;
  loop_.Sync([&] { args = site_version_args_; });
  EXPECT_EQ(args, json({{"version", "2.0.0"}}));
}

}  // namespace
}  // namespace sluice::server
