// Durable first, then in effect: an admin change the database refuses (a full disk) changes
// nothing, not even until the next restart. The disk fills "for real": the running sluiced's
// file size limit (RLIMIT_FSIZE, set with prlimit(2)) drops to one byte, so every write to its
// database and WAL fails with EFBIG, exactly like ENOSPC.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;

void SetFileSizeLimit(pid_t pid, rlim_t bytes) {
  rlimit current{};
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, nullptr, &current), 0);
  rlimit wanted{.rlim_cur = std::min(bytes, current.rlim_max), .rlim_max = current.rlim_max};
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &wanted, nullptr), 0) << "prlimit: " << errno;
}

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  json Limits() { return server_.Admin("limits")["result"]; }
  json Refused(const std::string& cmd, const json& args) {
    json answer = server_.Admin(cmd, args);
    EXPECT_FALSE(answer["ok"].get<bool>()) << cmd << " " << args.dump() << " -> " << answer.dump();
    return answer;
  }

  ServerProcess server_;
};

TEST_F(DurabilityTest, ChangesTheDatabaseRefusesNeverTakeEffect) {
  ASSERT_TRUE(server_.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 5}})["ok"]);
  // The installer below is refused for the full disk, not for a missing Windows client.
  const std::string client = server_.data_dir() + "/../windows-client.exe";
  std::ofstream(client) << "MZ stand-in for the Windows jump client";
  ASSERT_TRUE(server_.Admin("package-add", {{"kind", "jump-client"},
                                            {"platform", "windows-x86_64"},
                                            {"version", "1.0.0"},
                                            {"path", std::filesystem::absolute(client).string()}})["ok"]);
  const json before = Limits();
  const size_t audit_before = ReadAudit(server_).size();

  SetFileSizeLimit(server_.pid(), 1);
  Refused("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 3}});
  Refused("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 9}});
  Refused("limits-set",
          {{"kind", "jump-client"}, {"max_concurrent", "auto"}, {"min", 2}, {"max", 8}});
  Refused("limits-set", {{"bandwidth_bytes_per_s", 1 << 20}, {"connection_rate_per_s", 7}});
  // An installer that cannot be written leaves no folder behind.
  Refused("installer-create", {{"kind", "jump-client"}});
  std::error_code ec;
  EXPECT_TRUE(!std::filesystem::exists(server_.data_dir() + "/installers", ec) ||
              std::filesystem::is_empty(server_.data_dir() + "/installers", ec));
  const json settings_before = server_.Admin("settings")["result"];
  Refused("settings-set", {{"key", "heartbeat_s"}, {"value", "45"}});
  EXPECT_EQ(server_.Admin("settings")["result"], settings_before);
  json refused = Refused("policy-set", {{"kind", "jump-client"}, {"mode", "disabled"}});
  EXPECT_NE(refused.dump().find("disk"), std::string::npos) << refused.dump();
  // Nothing changed in memory either; every failed job was counted.
  EXPECT_EQ(Limits(), before);
  EXPECT_GE(server_.Admin("status")["result"]["store_failed_jobs"].get<int64_t>(), 5);

  SetFileSizeLimit(server_.pid(), RLIM_INFINITY);
  ASSERT_TRUE(server_.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 3}})["ok"]);
  EXPECT_EQ(Limits()["limits"]["jump-client"]["max_concurrent"], 3);
  // Only the change that was saved is in the audit log, and it survives a restart.
  auto rows = ReadAudit(server_);
  ASSERT_EQ(rows.size(), audit_before + 1);
  EXPECT_EQ(rows.back().event, "limit_change");
  EXPECT_EQ(rows.back().limit_value, 3);
  server_.Kill();
  ASSERT_TRUE(server_.Start());
  EXPECT_EQ(Limits()["limits"]["jump-client"]["max_concurrent"], 3);
  EXPECT_EQ(Limits()["policy"]["jump-client"]["mode"], "always");
  EXPECT_EQ(Limits()["connection_rate_per_s"], 50);
}

// A data dir that holds a site's keys but lost its database is refused, naming the file and the
// way out; --new-database starts an empty site with the same keys.
// A clean stop leaves the whole database in its one file: the write-ahead log is checkpointed
// and removed, so copying db/sluice.db alone (an admin's manual copy) misses nothing.
TEST_F(DurabilityTest, ACleanStopLeavesNoWriteAheadLog) {
  ASSERT_TRUE(server_.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 7}})["ok"]);
  ASSERT_TRUE(server_.Admin("clients-page", json::object())["ok"]);  // the reader has read
  ASSERT_EQ(server_.Stop(), 0);
  const std::string db = server_.data_dir() + "/db/sluice.db";
  EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
  EXPECT_GT(std::filesystem::file_size(db), 4096u);
}

TEST_F(DurabilityTest, AMissingOrEmptyDatabaseIsRefusedUnlessANewOneIsAskedFor) {
  ASSERT_TRUE(server_.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 5}})["ok"]);
  ASSERT_EQ(server_.Stop(), 0);
  const std::string db = server_.data_dir() + "/db/sluice.db";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinaryPath("sluiced"), "--data-dir", server_.data_dir(),
                                     "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string log = server_.data_dir() + "/../refused.log";
    Process process(argv, log);
    auto code = process.Wait(std::chrono::seconds(30));
    return std::pair{code.value_or(-1), FileText(log)};
  };
  for (const char* damage : {"truncate", "delete"}) {
    if (std::string(damage) == "truncate") {
      ASSERT_EQ(::truncate(db.c_str(), 0), 0);
    } else {
      ASSERT_EQ(::unlink(db.c_str()), 0);
    }
    for (const char* suffix : {"-wal", "-shm"}) ::unlink((db + suffix).c_str());
    auto [code, log] = run({});
    EXPECT_NE(code, 0) << damage;
    EXPECT_NE(log.find(db), std::string::npos) << log;
    EXPECT_NE(log.find(std::string(damage) == "truncate" ? "is empty" : "is missing"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("--new-database"), std::string::npos) << log;
  }
  // Explicitly starting over works, with the same keys.
  const std::string pin_file = server_.data_dir() + "/tls/cert.pem";
  const std::string cert_before = FileText(pin_file);
  ::unlink((server_.data_dir() + "/run/endpoint").c_str());
  std::vector<std::string> argv = {BinaryPath("sluiced"), "--data-dir",
                                   server_.data_dir(),    "--listen",
                                   "127.0.0.1:0",         "--new-database"};
  Process started(argv, server_.data_dir() + "/../new.log");
  ASSERT_TRUE(WaitUntil([&] { return !FileText(server_.data_dir() + "/run/endpoint").empty(); },
                        std::chrono::seconds(30)))
      << FileText(server_.data_dir() + "/../new.log");
  EXPECT_EQ(FileText(pin_file), cert_before);
  started.Signal(SIGTERM);
  EXPECT_EQ(started.Wait(std::chrono::seconds(30)), 0);
}

// A data dir made with a plain mkdir (0755), database file included, is tightened at start.
TEST(DataDirPermissions, LooseModesAreTightenedAtStart) {
  ServerProcess server;
  const std::string root = server.data_dir();
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(root.c_str(), 0755), 0);  // whatever the umask
  ASSERT_TRUE(server.Start());
  ASSERT_EQ(server.Stop(), 0);
  for (const std::string sub : {"", "/db", "/keys", "/run"}) {
    ASSERT_EQ(::chmod((root + sub).c_str(), 0755), 0) << sub;
  }
  ASSERT_EQ(::chmod((root + "/db/sluice.db").c_str(), 0644), 0);
  ASSERT_TRUE(server.Start());
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  };
  for (const std::string sub : {"", "/db", "/keys", "/run", "/tls"}) {
    EXPECT_EQ(mode(root + sub), 0700u) << root + sub;
  }
  EXPECT_EQ(mode(root + "/db/sluice.db"), 0600u);
  EXPECT_EQ(mode(root + "/keys/enrollment.key"), 0600u);
  EXPECT_NE(server.log().find("tightened permissions"), std::string::npos);
}

}  // namespace
}  // namespace sluice::testing
