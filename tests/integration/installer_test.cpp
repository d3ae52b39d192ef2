// Installers end to end: a real sluiced builds real MSIs (checked with msiinfo, msiextract and
// libmsi), real sluice-client processes enroll with their keys, and the site refuses expired,
// deleted, outdated and over-ridden keys; a site version change regenerates every installer.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/crypto/random.h"
#include "common/db/database.h"
#include "msi/installer_builder.h"
#include "tests/msi/msi_test_util.h"
#include "tests/support/process.h"
#include "tests/support/raw_tls_client.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
namespace msit = sluice::msi::testing;

class InstallerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra = {}) {
    server_ = std::make_unique<ServerProcess>(std::move(extra));
    ASSERT_TRUE(server_->Start());
  }
  RunResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("sluicectl"), "--data-dir", server_->data_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, std::chrono::seconds(60));
  }
  // `installer create ARGS --out <dir>/<name>.msi --json`; returns the installer object.
  json Create(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"installer", "create"});
    const std::string out = dir_ / (name + ".msi");
    args.insert(args.end(), {"--out", out, "--json"});
    RunResult run = Ctl(args);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    json result = json::parse(run.output, nullptr, false);
    EXPECT_TRUE(result.is_object()) << run.output;
    if (!result.is_object()) return json::object();
    json installer = result["installer"];
    installer["out"] = out;
    return installer;
  }
  json List() {
    json reply = server_->Admin("installers");
    EXPECT_TRUE(reply["ok"].get<bool>()) << reply.dump();
    return reply["result"];
  }
  json Find(const std::string& id) {
    const json list = List();  // kept alive: the loop below iterates into it
    for (const json& installer : list["installers"]) {
      if (installer["id"] == id) return installer;
    }
    return json();
  }
  // `sluice-client enroll --key-info KEY [extra]` into a fresh config and state dir.
  RunResult Enroll(const std::string& key, std::vector<std::string> extra = {}) {
    const std::string name = "client-" + std::to_string(++clients_);
    last_config_ = dir_ / (name + ".json");
    last_state_ = dir_ / name;
    std::vector<std::string> argv = {BinaryPath("sluice-client"),
                                     "enroll",
                                     "--key-info",
                                     key,
                                     "--config",
                                     last_config_,
                                     "--state-dir",
                                     last_state_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, std::chrono::seconds(30));
  }
  // Adds a stand-in Windows client of `kind` at `version` (what an installer of that version
  // carries) and returns its bytes.
  std::string AddWindowsClient(const std::string& kind, const std::string& version) {
    const std::string bytes = msit::FakeClient(200 * 1024, ++windows_clients_);
    const std::string path = dir_ / ("windows-" + kind + "-" + version + ".exe");
    msit::WriteFile(path, bytes);
    auto added = server_->Admin("package-add", {{"kind", kind},
                                                {"platform", "windows-x86_64"},
                                                {"version", version},
                                                {"path", path}});
    EXPECT_TRUE(added["ok"].get<bool>()) << added.dump();
    return bytes;
  }
  // The client inside `msi`, as msiextract gets it out.
  std::string EmbeddedClient(const std::string& msi, const std::string& kind) {
    const std::filesystem::path out = dir_ / ("extract-" + std::to_string(++extracts_));
    std::filesystem::create_directories(out);
    auto extracted = msit::Tool({"msiextract", "-C", out, msi});
    EXPECT_EQ(extracted.exit_code, 0) << extracted.err;
    // msiextract puts ProgramFiles64Folder at the top of its output directory.
    return msit::ReadFile(out / "Sluice" / kind / ("sluice-" + kind + ".exe"));
  }
  void SetSiteVersion(const std::string& version) {
    auto set = server_->Admin("site-set-version", {{"version", version}});
    ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string last_config_;
  std::string last_state_;
  int clients_ = 0;
  unsigned windows_clients_ = 0;
  int extracts_ = 0;
};

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST_F(InstallerTest, CreateBuildsARealMsiWhoseKeyEnrollsAClient) {
  StartServer();
  // Without the site's Windows client there is nothing to install: refused, with the fix.
  RunResult no_client =
      Ctl({"installer", "create", "--kind", "jump-client", "--out", dir_ / "none.msi"});
  EXPECT_NE(no_client.exit_code, 0);
  EXPECT_TRUE(Contains(no_client.output,
                       "sluicectl package add --kind jump-client --platform windows-x86_64 "
                       "--version 1.0.0 FILE"))
      << no_client.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.msi"));
  const std::string client = AddWindowsClient("jump-client", "1.0.0");

  json made = Create(
      "jc", {"--kind", "jump-client", "--jump-group", "Servers", "--tag", "rack-4", "--valid-for",
             "2h", "--allow-override", "jump-group,tag", "--comments", "lab machines"});
  ASSERT_TRUE(made.contains("key_info")) << made.dump();
  const std::string msi = made["out"];
  // The copy handed to the admin is the server's MSI, byte for byte.
  EXPECT_EQ(msit::Sha256Hex(msit::ReadFile(msi)),
            msit::Sha256Hex(msit::ReadFile(made["file"].get<std::string>())));

  // msiinfo sees the key, fresh GUIDs and the site version.
  auto properties = msit::ExportProperties(msi);
  EXPECT_EQ(properties["KEY_INFO"], made["key_info"].get<std::string>());
  EXPECT_TRUE(properties["KEY_INFO"].starts_with("SLK1."));
  EXPECT_EQ(properties["ProductVersion"], "1.0.0");
  EXPECT_EQ(properties["ProductCode"], made["product_code"].get<std::string>());
  EXPECT_TRUE(msit::IsUpperGuid(properties["ProductCode"])) << properties["ProductCode"];
  EXPECT_EQ(properties["UpgradeCode"], made["upgrade_code"].get<std::string>());
  const std::string template_msi =
      server_->data_dir() + "/cache/templates/" +
      msi::TemplateFileName("jump-client", msit::Sha256Hex(client));
  auto template_properties = msit::ExportProperties(template_msi);
  EXPECT_NE(properties["ProductCode"], template_properties["ProductCode"]);
  EXPECT_EQ(template_properties["KEY_INFO"], "unset");  // the template is untouched
  const std::string package_code = msit::SuminfoPackageCode(msi);
  EXPECT_TRUE(msit::IsUpperGuid(package_code)) << package_code;
  EXPECT_NE(package_code, msit::SuminfoPackageCode(template_msi));
  // libmsi reads the same Property table.
  auto read = msi::ReadProperties(msi);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ((*read)["KEY_INFO"], properties["KEY_INFO"]);
  // The site's Windows client is inside, byte for byte.
  EXPECT_EQ(msit::Sha256Hex(EmbeddedClient(msi, "jump-client")), msit::Sha256Hex(client));

  // The key enrolls a client, with an allowed override.
  RunResult enrolled = Enroll(properties["KEY_INFO"], {"--tag", "rack-5"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.output;
  EXPECT_TRUE(Contains(enrolled.output, "enrolled client=")) << enrolled.output;
  json config = json::parse(FileText(last_config_));
  EXPECT_EQ(config["server"], "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(config["kind"], "jump-client");
  EXPECT_EQ(config["tag"], "rack-5");
  json clients = server_->Admin("clients")["result"]["clients"];
  ASSERT_EQ(clients.size(), 1u) << clients.dump();
  EXPECT_EQ(clients[0]["kind"], "jump-client");
  EXPECT_EQ(Find(made["id"])["enrolled_clients"], 1);
  const std::string first_config = last_config_;
  const std::string first_state = last_state_;

  // An override the installer does not allow is refused by the site.
  RunResult refused = Enroll(properties["KEY_INFO"], {"--mode", "passive"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.output, "installer_override_refused")) << refused.output;

  // A key edited by hand is refused before anything is written.
  std::string tampered = properties["KEY_INFO"];
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  RunResult forged = Enroll(tampered);
  EXPECT_NE(forged.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(last_config_));

  // Bad input gets a clear message and exit 64 before anything is sent.
  RunResult bad = Ctl({"installer", "create", "--kind", "jump-client", "--valid-for", "5 days",
                       "--out", dir_ / "x.msi"});
  EXPECT_EQ(bad.exit_code, 64) << bad.output;
  RunResult too_short = Ctl({"installer", "create", "--kind", "jump-client", "--valid-for", "5m",
                             "--out", dir_ / "x.msi"});
  EXPECT_EQ(too_short.exit_code, 1) << too_short.output;
  EXPECT_TRUE(Contains(too_short.output, "out of range")) << too_short.output;

  // Deleting the installer does not affect the client it installed.
  ASSERT_EQ(Ctl({"installer", "delete", made["id"]}).exit_code, 0);
  RunResult again = RunCommand(
      {BinaryPath("sluice-client"), "--config", first_config, "--state-dir", first_state, "--once"},
      std::chrono::seconds(30));
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(InstallerTest, ForgedKeysAndKindChangesAreRefusedOnTheWire) {
  StartServer();
  AddWindowsClient("jump-client", "1.0.0");
  json made = Create("jc", {"--kind", "jump-client", "--allow-override", "mode"});
  ASSERT_TRUE(made.contains("key_info"));
  auto enroll = [&](const std::string& key, proto::ClientKind kind) {
    auto client = RawTlsClient::Connect(server_->port());
    EXPECT_TRUE(client);
    if (!client) return proto::ErrorCode::kInternal;
    EXPECT_TRUE(client->WriteMessage(proto::Enroll{.enrollment_key = "",
                                                   .client_id = crypto::NewUuid(),
                                                   .kind = kind,
                                                   .mode = proto::Mode::kPassive,
                                                   .platform = "linux-x86_64",
                                                   .version = "1.0.0",
                                                   .installer_key = key,
                                                   .jump_group = "",
                                                   .tag = ""}));
    auto reply = client->ReadMessage();
    EXPECT_TRUE(reply.has_value());
    if (!reply) return proto::ErrorCode::kInternal;
    if (std::holds_alternative<proto::Enrolled>(*reply)) return proto::ErrorCode::kInternal;
    auto* error = std::get_if<proto::ErrorMessage>(&*reply);
    EXPECT_NE(error, nullptr);
    return error != nullptr ? error->code : proto::ErrorCode::kInternal;
  };
  // Garbage and a key signed by someone else are refused like a wrong enrollment key.
  EXPECT_EQ(enroll("SLK1.garbage", proto::ClientKind::kJumpClient),
            proto::ErrorCode::kEnrollmentRefused);
  std::string forged = made["key_info"];
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(enroll(forged, proto::ClientKind::kJumpClient), proto::ErrorCode::kEnrollmentRefused);
  // The kind is never an override; the allowed mode override is accepted.
  EXPECT_EQ(enroll(made["key_info"], proto::ClientKind::kAccessConsole),
            proto::ErrorCode::kInstallerOverrideRefused);
  auto client = RawTlsClient::Connect(server_->port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteMessage(proto::Enroll{.enrollment_key = "",
                                                 .client_id = crypto::NewUuid(),
                                                 .kind = proto::ClientKind::kJumpClient,
                                                 .mode = proto::Mode::kPassive,
                                                 .platform = "linux-x86_64",
                                                 .version = "1.0.0",
                                                 .installer_key = made["key_info"],
                                                 .jump_group = "",
                                                 .tag = ""}));
  auto reply = client->ReadMessage();
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(std::holds_alternative<proto::Enrolled>(*reply)) << proto::MessageType(*reply);
  EXPECT_EQ(server_->Admin("clients")["result"]["clients"].size(), 1u);
}

TEST_F(InstallerTest, DeletedAndOutdatedKeysAreRefusedAndSiteUpdatesRegenerate) {
  StartServer();
  AddWindowsClient("jump-client", "1.0.0");
  AddWindowsClient("access-console", "2.0.0");
  json jump = Create("jc", {"--kind", "jump-client", "--mode", "passive"});
  json staged = Create("console-2", {"--kind", "access-console", "--site-version", "2.0.0"});
  json revoked = Create("revoked", {"--kind", "jump-client"});
  ASSERT_TRUE(jump.contains("key_info") && staged.contains("key_info") &&
              revoked.contains("key_info"));
  EXPECT_EQ(msit::ExportProperties(staged["out"])["ProductVersion"], "2.0.0");

  // Deleted: its key is revoked, and it is no longer listed.
  RunResult deleted = Ctl({"installer", "delete", revoked["id"]});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_TRUE(Find(revoked["id"]).is_null());
  EXPECT_FALSE(std::filesystem::exists(revoked["file"].get<std::string>()));
  RunResult by_revoked = Enroll(revoked["key_info"]);
  EXPECT_NE(by_revoked.exit_code, 0);
  EXPECT_TRUE(Contains(by_revoked.output, "installer_revoked")) << by_revoked.output;

  // Pre-staged for 2.0.0: refused until the site gets there.
  RunResult early = Enroll(staged["key_info"]);
  EXPECT_NE(early.exit_code, 0);
  EXPECT_TRUE(Contains(early.output, "installer_outdated")) << early.output;

  // The site moves to 2.0.0 before its Windows jump client is there: the installer cannot be
  // regenerated yet, says why in the log, and keeps its 1.0.0 MSI.
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Contains(server_->log(), "installer regeneration failed id=" +
                                            jump["id"].get<std::string>() + " version=2.0.0");
      },
      std::chrono::seconds(60)))
      << server_->log();
  EXPECT_TRUE(Contains(server_->log(), "--platform windows-x86_64 --version 2.0.0"));
  EXPECT_EQ(Find(jump["id"])["product_code"], jump["product_code"]);
  // Adding that client regenerates it, around the new client; a staging folder a crashed
  // template build left behind is swept when the new template is built.
  const std::string crashed = server_->data_dir() + "/cache/templates/.staging-crashed";
  std::filesystem::create_directories(crashed);
  msit::WriteFile(crashed + "/sluice-jump-client.exe", "partial");
  const std::string client_2 = AddWindowsClient("jump-client", "2.0.0");
  ASSERT_TRUE(WaitUntil([&] { return Find(jump["id"])["site_version"] == "2.0.0"; },
                        std::chrono::seconds(60)))
      << server_->log();
  json rebuilt = Find(jump["id"]);
  EXPECT_EQ(msit::Sha256Hex(EmbeddedClient(rebuilt["file"], "jump-client")),
            msit::Sha256Hex(client_2));
  EXPECT_FALSE(std::filesystem::exists(crashed));
  EXPECT_EQ(rebuilt["upgrade_code"], jump["upgrade_code"]);
  EXPECT_NE(rebuilt["product_code"], jump["product_code"]);
  EXPECT_NE(rebuilt["key_info"], jump["key_info"]);
  EXPECT_EQ(rebuilt["product_version"], "2.0.0");
  auto old_parts = msit::VersionParts(jump["product_version"]);
  auto new_parts = msit::VersionParts(rebuilt["product_version"]);
  EXPECT_LT(old_parts, new_parts);
  // The regenerated MSI carries the new key; the old MSI is archived, still on disk, unchanged.
  const std::string new_file = rebuilt["file"];
  auto new_properties = msit::ExportProperties(new_file);
  EXPECT_EQ(new_properties["KEY_INFO"], rebuilt["key_info"].get<std::string>());
  EXPECT_EQ(new_properties["ProductCode"], rebuilt["product_code"].get<std::string>());
  EXPECT_EQ(new_properties["UpgradeCode"], jump["upgrade_code"].get<std::string>());
  json archive = List()["archive"];
  ASSERT_EQ(archive.size(), 1u) << archive.dump();
  EXPECT_EQ(archive[0]["id"], jump["id"]);
  EXPECT_EQ(archive[0]["product_code"], jump["product_code"]);
  EXPECT_EQ(archive[0]["reason"], "site-version");
  EXPECT_EQ(msit::ExportProperties(archive[0]["file"])["ProductVersion"], "1.0.0");
  RunResult listed = Ctl({"installer", "list"});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_TRUE(Contains(listed.output, "archived")) << listed.output;
  EXPECT_TRUE(Contains(listed.output, jump["product_code"])) << listed.output;

  // The pre-staged installer was already for 2.0.0: kept as it was, and now accepted.
  EXPECT_EQ(Find(staged["id"])["product_code"], staged["product_code"]);
  RunResult console = Enroll(staged["key_info"]);
  EXPECT_EQ(console.exit_code, 0) << console.output;

  // The old key is outdated; the regenerated one enrolls.
  RunResult old_key = Enroll(jump["key_info"]);
  EXPECT_NE(old_key.exit_code, 0);
  EXPECT_TRUE(Contains(old_key.output, "installer_outdated")) << old_key.output;
  EXPECT_TRUE(std::filesystem::exists(last_config_));  // only an expired installer gives up
  RunResult new_key = Enroll(rebuilt["key_info"]);
  EXPECT_EQ(new_key.exit_code, 0) << new_key.output;
  EXPECT_EQ(json::parse(FileText(last_config_))["mode"], "passive");
}

TEST_F(InstallerTest, ExpiredInstallersMakeClientsGiveUpUntilExtended) {
  // Test hook (docs/admin.md): installers valid for seconds, so expiry is reached in a test.
  StartServer({"--min-installer-validity-s", "1"});
  AddWindowsClient("jump-client", "1.0.0");
  json made = Create("short", {"--kind", "jump-client", "--valid-for", "1s"});
  ASSERT_TRUE(made.contains("key_info"));
  const int64_t expires_ms = made["expires_ms"];
  ASSERT_TRUE(WaitUntil(
      [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() > expires_ms + 10;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(Find(made["id"])["expired"], true);

  // Already expired here: the client gives up without contacting the site.
  std::filesystem::create_directories(dir_ / "client-1");
  RunResult local = Enroll(made["key_info"]);
  EXPECT_NE(local.exit_code, 0);
  EXPECT_TRUE(Contains(local.output, "expired")) << local.output;
  EXPECT_FALSE(std::filesystem::exists(last_config_));
  EXPECT_FALSE(std::filesystem::exists(last_state_));

  // A client configured from the key (its clock disagreeing) is refused by the site as
  // installer_expired, and removes itself.
  json config = json::parse(FileText(server_->WriteClientConfig("jump-client", "active")));
  config.erase("enrollment_key");
  config["installer_key"] = made["key_info"];
  const std::string config_path = dir_ / "configured.json";
  const std::string state = dir_ / "configured";
  std::ofstream(config_path) << config.dump();
  RunResult remote = RunCommand(
      {BinaryPath("sluice-client"), "--config", config_path, "--state-dir", state, "--once"},
      std::chrono::seconds(30));
  EXPECT_NE(remote.exit_code, 0);
  EXPECT_TRUE(Contains(remote.output, "installer_expired")) << remote.output;
  EXPECT_TRUE(Contains(remote.output, "giving up")) << remote.output;
  EXPECT_FALSE(std::filesystem::exists(config_path));
  EXPECT_FALSE(std::filesystem::exists(state));
  EXPECT_EQ(server_->Admin("clients")["result"]["clients"].size(), 0u);

  // Extending rebuilds the MSI with a key that says so; the new key enrolls.
  RunResult extended = Ctl({"installer", "extend", made["id"], "--valid-for", "1h"});
  ASSERT_EQ(extended.exit_code, 0) << extended.output;
  json now = Find(made["id"]);
  EXPECT_EQ(now["expired"], false);
  EXPECT_NE(now["product_code"], made["product_code"]);
  EXPECT_EQ(msit::ExportProperties(now["file"])["KEY_INFO"], now["key_info"].get<std::string>());
  EXPECT_EQ(List()["archive"][0]["reason"], "extended");
  RunResult enrolled = Enroll(now["key_info"]);
  EXPECT_EQ(enrolled.exit_code, 0) << enrolled.output;
}

TEST_F(InstallerTest, SignedInstallersVerifyAndSurviveARestart) {
  // A throwaway self-signed code-signing certificate; `osslsigncode verify` trusts exactly it.
  const std::string key = dir_ / "sign-key.pem";
  const std::string cert = dir_ / "sign-cert.pem";
  auto made_cert =
      msit::Tool({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                  "-out", cert, "-days", "2", "-subj", "/CN=Sluice Test Signing", "-addext",
                  "extendedKeyUsage=codeSigning", "-addext", "keyUsage=digitalSignature"});
  ASSERT_EQ(made_cert.exit_code, 0) << made_cert.err;
  StartServer({"--code-signing-cert", cert, "--code-signing-key", key});
  AddWindowsClient("access-console", "1.0.0");
  json made = Create("signed", {"--kind", "access-console", "--mode", "passive"});
  ASSERT_TRUE(made.contains("key_info"));
  const std::string msi = made["out"];
  auto verified = msit::Tool({"osslsigncode", "verify", "-in", msi, "-CAfile", cert});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(msit::ExportProperties(msi)["KEY_INFO"], made["key_info"].get<std::string>());
  // One flipped byte in the middle of the file breaks the signature.
  std::string bytes = msit::ReadFile(msi);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  const std::string tampered = dir_ / "tampered.msi";
  msit::WriteFile(tampered, bytes);
  EXPECT_NE(msit::Tool({"osslsigncode", "verify", "-in", tampered, "-CAfile", cert}).exit_code, 0);

  // Installers are in the database: after a restart they are listed and their keys enroll.
  ASSERT_EQ(server_->Stop(), 0);
  ASSERT_TRUE(server_->Start());
  json listed = Find(made["id"]);
  ASSERT_FALSE(listed.is_null());
  EXPECT_EQ(listed["product_code"], made["product_code"]);
  RunResult enrolled = Enroll(made["key_info"]);
  EXPECT_EQ(enrolled.exit_code, 0) << enrolled.output;
  EXPECT_EQ(json::parse(FileText(last_config_))["kind"], "access-console");
}

TEST_F(InstallerTest, AnInterruptedRegenerationCatchesUpAtTheNextStart) {
  StartServer();
  AddWindowsClient("jump-client", "1.0.0");
  AddWindowsClient("jump-client", "3.1.0");
  json made = Create("jc", {"--kind", "jump-client"});
  ASSERT_TRUE(made.contains("key_info"));
  // As if the server died between recording a new site version and rebuilding installers:
  // move the version in the stopped server's database by hand.
  ASSERT_EQ(server_->Stop(), 0);
  {
    auto db = db::Database::Open(server_->data_dir() + "/db/sluice.db");
    ASSERT_TRUE(db.has_value()) << db.error().ToString();
    ASSERT_TRUE((*db)->Run("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
                           std::string("site_version"), std::string("3.1.0")));
  }
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(WaitUntil([&] { return Find(made["id"])["site_version"] == "3.1.0"; },
                        std::chrono::seconds(60)))
      << server_->log();
  json rebuilt = Find(made["id"]);
  EXPECT_EQ(rebuilt["product_version"], "3.1.0");
  EXPECT_EQ(msit::ExportProperties(rebuilt["file"])["ProductVersion"], "3.1.0");
  EXPECT_EQ(List()["archive"].size(), 1u);
  RunResult enrolled = Enroll(rebuilt["key_info"]);
  EXPECT_EQ(enrolled.exit_code, 0) << enrolled.output;
}

}  // namespace
}  // namespace sluice::testing
