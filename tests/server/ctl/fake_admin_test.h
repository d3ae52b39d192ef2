#pragma once
// A fixture that runs the built sluicectl binary against an AdminServer in this process, which
// answers with canned results and remembers what it was sent.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/base/file_util.h"
#include "server/admin/admin_server.h"
#include "tests/server/admin/admin_test_util.h"
#include "tests/server/pkg/pkg_test_util.h"

namespace sluice::ctl::testing {

inline constexpr const char* kCtl = SLUICE_BIN_DIR "/sluicectl";

using Outcome = server::testing::CtlOutcome;

class FakeAdminTest : public admin::testing::AdminServerFixture {
 protected:
  using json = nlohmann::json;
  using Reply = admin::Reply;

  // Starts the admin server; a derived SetUp registers its commands after this, on the loop
  // thread (loop_.Sync), and returns early if HasFatalFailure().
  void SetUp() override {
    struct stat st {};
    ASSERT_EQ(::stat(kCtl, &st), 0) << kCtl << " is missing: build the sluicectl target first";
    AdminServerFixture::SetUp();
  }

  // Answers `cmd` with `result`, remembering the args it was sent. Loop thread.
  void Serve(const std::string& cmd, json result) {
    server_->Register(cmd, [this, cmd, result](const json& args, Reply reply) {
      received_[cmd] = args;
      reply(result);
    });
  }
  // The args of the last `cmd` received, without the actor the server adds; TakeReceived also
  // forgets them.
  std::optional<json> Received(const std::string& cmd) { return Find(cmd, false); }
  std::optional<json> TakeReceived(const std::string& cmd) { return Find(cmd, true); }

  // Runs sluicectl with `args` (after "--data-dir <dir_>" unless `with_data_dir` is false).
  Outcome Run(std::vector<std::string> args, bool with_data_dir = true) {
    if (with_data_dir) args.insert(args.begin(), {"--data-dir", dir_});
    return server::testing::RunCtl(std::move(args), dir_);
  }

  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  std::map<std::string, json> received_;  // loop thread only

 private:
  std::optional<json> Find(const std::string& cmd, bool forget) {
    std::optional<json> args;
    loop_.Sync([&] {
      if (auto it = received_.find(cmd); it != received_.end()) {
        args = it->second;
        args->erase(admin::kActorKey);  // what sluicectl sent: the server adds the actor
        if (forget) received_.erase(it);
      }
    });
    return args;
  }
};

}  // namespace sluice::ctl::testing
