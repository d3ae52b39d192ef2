// Durable first, then in effect: an admin change the database refuses (a full disk) changes
// nothing, not even until the next restart. The disk fills "for real": the running sluiced's
// file size limit (RLIMIT_FSIZE, set with prlimit(2)) drops to one byte, so every write to its
// database and WAL fails with EFBIG, exactly like ENOSPC.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"

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
  const json before = Limits();
  const size_t audit_before = ReadAudit(server_).size();

  SetFileSizeLimit(server_.pid(), 1);
  Refused("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 3}});
  Refused("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 9}});
  Refused("limits-set",
          {{"kind", "jump-client"}, {"max_concurrent", "auto"}, {"min", 2}, {"max", 8}});
  Refused("limits-set", {{"bandwidth_bytes_per_s", 1 << 20}, {"connection_rate_per_s", 7}});
  json refused = Refused("policy-set", {{"kind", "jump-client"}, {"mode", "disabled"}});
  EXPECT_NE(refused.dump().find("disk"), std::string::npos) << refused.dump();
  // Nothing changed in memory either.
  EXPECT_EQ(Limits(), before);

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

}  // namespace
}  // namespace sluice::testing
