#pragma once
// A real AdminServer on its real Unix socket in a data dir, with a real Store (SQLite file) and
// a fake clock: the fixture of the command tests that read and write the database.

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/file_util.h"
#include "server/site/data_dir.h"
#include "server/store/audit_repo.h"
#include "server/store/store.h"
#include "tests/server/admin/admin_test_util.h"
#include "tests/server/test_times.h"

namespace sluice::server::testing {

class AdminStoreFixture : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  void SetUp() override {
    auto root = MakeTempDir("sluice-admin-store-");
    ASSERT_TRUE(root) << root.error().ToString();
    root_ = *root;
    dir_ = DataDir::Layout(root_);
    ASSERT_TRUE(EnsureDir(root_ + "/db"));
    auto store = store::Store::Open(
        {.path = dir_.db_path, .post_to_loop = [loop = &loop_.loop()](std::function<void()> task) {
           loop->Post(std::move(task));
         }});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    loop_.Sync([this] {
      auto admin = admin::AdminServer::Start(loop_.loop(), dir_.admin_socket_path);
      ASSERT_TRUE(admin) << admin.error().ToString();
      admin_ = std::move(*admin);
    });
    ASSERT_TRUE(admin_);
  }
  void TearDown() override {
    loop_.Sync([this] { admin_.reset(); });
    if (store_) store_->Close();
    if (!root_.empty()) {
      EXPECT_TRUE(RemoveAll(root_));
    }
  }

  // One request over a fresh connection to the socket; the parsed response line.
  json Call(const std::string& cmd, const json& args = json::object()) {
    admin::testing::RawClient client(dir_.admin_socket_path);
    EXPECT_TRUE(client.connected());
    EXPECT_TRUE(client.Send(json{{"cmd", cmd}, {"args", args}}.dump() + "\n"));
    auto line = client.ReadLine();
    if (!line) {
      ADD_FAILURE() << "no response to " << cmd;
      return json();
    }
    return json::parse(*line);
  }
  // The result of a command that must succeed.
  json Ok(const std::string& cmd, const json& args = json::object()) {
    json response = Call(cmd, args);
    EXPECT_EQ(response.value("ok", false), true) << cmd << " " << response.dump();
    return response.value("result", json());
  }
  // The error code of a command that must fail.
  std::string ErrorCode(const std::string& cmd, const json& args = json::object()) {
    json response = Call(cmd, args);
    EXPECT_EQ(response.value("ok", true), false) << cmd << " " << response.dump();
    return response.contains("error") ? response["error"].value("code", "") : "";
  }

  std::vector<store::AuditRow> AuditRows() {
    auto rows = store_->Call<std::vector<store::AuditRow>>(
        [](db::Database& db) { return store::ListAudit(db, 0, 0); });
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows.value_or(std::vector<store::AuditRow>{});
  }

  // What the admin socket calls this process: "local:<user>".
  static std::string LocalActor() {
    const passwd* entry = ::getpwuid(::getuid());
    return entry != nullptr ? std::string("local:") + entry->pw_name
                            : "local:" + std::to_string(::getuid());
  }

  admin::testing::LoopThread loop_;
  std::string root_;
  DataDir dir_;
  FakeClock clock_{sluice::testing::kNow};  // loop thread only once the server runs
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<admin::AdminServer> admin_;  // loop thread only
};

}  // namespace sluice::server::testing
