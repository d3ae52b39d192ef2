#include "server/web/web_sessions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::web {
namespace {

TEST(WebSessionsTest, ASessionLivesUntilIdleOrAbsoluteExpiry) {
  FakeClock clock;
  WebSessions sessions(clock, /*idle_ms=*/1000, /*absolute_ms=*/5000);
  std::string token = sessions.Create("alice");
  EXPECT_EQ(token.size(), 64u);
  auto session = sessions.Use(token);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->admin, "alice");
  EXPECT_EQ(session->csrf.size(), 64u);
  EXPECT_NE(session->csrf, token);
  // Used every 900 ms it survives idling, but not its absolute lifetime.
  for (int i = 0; i < 6; ++i) {
    clock.Advance(900);
    EXPECT_EQ(sessions.Use(token).has_value(), (i + 1) * 900 < 5000) << i;
  }
  EXPECT_FALSE(sessions.Use(token));
  std::string idle = sessions.Create("bob");
  clock.Advance(1000);
  EXPECT_FALSE(sessions.Use(idle));
  EXPECT_EQ(sessions.size(), 0u);  // expired sessions are forgotten
}

TEST(WebSessionsTest, LogoutAndRevocationEndSessions) {
  FakeClock clock;
  WebSessions sessions(clock);
  std::string a1 = sessions.Create("alice"), a2 = sessions.Create("alice");
  std::string b = sessions.Create("bob");
  EXPECT_NE(a1, a2);
  sessions.End(a1);
  EXPECT_FALSE(sessions.Use(a1));
  EXPECT_TRUE(sessions.Use(a2));
  sessions.Revoke("alice");
  EXPECT_FALSE(sessions.Use(a2));
  EXPECT_TRUE(sessions.Use(b));
  EXPECT_FALSE(sessions.Use("not-a-token"));
}

// The live feed checks its session without keeping it alive; a revocation (any spelling of
// the name) moves the account's generation, which a login in progress compares.
TEST(WebSessionsTest, PeekDoesNotRenewAndRevocationMovesTheGeneration) {
  FakeClock clock;
  WebSessions sessions(clock, /*idle_ms=*/1000, /*absolute_ms=*/5000);
  std::string token = sessions.Create("alice");
  clock.Advance(900);
  EXPECT_TRUE(sessions.Peek(token));
  clock.Advance(100);
  EXPECT_FALSE(sessions.Peek(token));
  EXPECT_FALSE(sessions.Use(token));
  const uint64_t before = sessions.Generation("alice");
  sessions.Revoke("ALICE");
  EXPECT_NE(sessions.Generation("Alice"), before);
  EXPECT_EQ(sessions.Generation("bob"), 0u);
}

TEST(WebSessionsTest, TheOldestSessionGoesWhenTheTableIsFull) {
  FakeClock clock;
  WebSessions sessions(clock);
  std::string first = sessions.Create("first");
  for (size_t i = 1; i < WebSessions::kMaxSessions; ++i) {
    clock.Advance(1);
    sessions.Create("admin");
  }
  EXPECT_TRUE(sessions.Use(first));
  clock.Advance(1);
  std::string newest = sessions.Create("newest");
  EXPECT_EQ(sessions.size(), WebSessions::kMaxSessions);
  EXPECT_FALSE(sessions.Use(first));
  EXPECT_TRUE(sessions.Use(newest));
}

// How long an attempt must wait; 0 after starting and ending one (no verdict recorded).
int64_t WaitMs(LoginThrottle& throttle, std::string_view account, std::string_view address) {
  const int64_t wait = throttle.Begin(account, address);
  if (wait == 0) throttle.Release(account, address);
  return wait;
}

TEST(LoginThrottleTest, FailuresBeyondTheFreeOnesWaitLongerEachTime) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) {
    EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5000"), 0) << i;
    throttle.RecordFailure("alice", "10.0.0.1:5000");
  }
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5001"), 1000);  // the port does not matter
  clock.Advance(1000);
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5000"), 0);
  throttle.RecordFailure("alice", "10.0.0.1:5000");
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5000"), 2000);
  // The account is throttled from any address, and the address for any account.
  EXPECT_EQ(WaitMs(throttle, "alice", "10.9.9.9:1"), 2000);
  EXPECT_EQ(WaitMs(throttle, "bob", "10.0.0.1:1"), 2000);
  EXPECT_EQ(WaitMs(throttle, "bob", "10.9.9.9:1"), 0);
  // The account counts whatever its spelling, as the store finds it.
  EXPECT_EQ(WaitMs(throttle, "ALICE", "10.9.9.9:1"), 2000);
  // The delay is capped.
  for (int i = 0; i < 30; ++i) throttle.RecordFailure("Alice", "10.0.0.1:5000");
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5000"), LoginThrottle::kMaxDelayMs);
  // A success clears both counts.
  throttle.RecordSuccess("aLiCe", "10.0.0.1:5000");
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.1:5000"), 0);
}

// Parallel guesses: while one attempt for an account, or from an address, is being checked,
// another waits; so does any beyond kMaxInFlight in all.
TEST(LoginThrottleTest, OneAttemptPerAccountAndAddressIsCheckedAtATime) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  ASSERT_EQ(throttle.Begin("alice", "10.0.0.1:1"), 0);
  EXPECT_EQ(throttle.Begin("Alice", "10.0.0.2:1"), LoginThrottle::kBusyRetryMs);
  EXPECT_EQ(throttle.Begin("bob", "10.0.0.1:2"), LoginThrottle::kBusyRetryMs);
  EXPECT_EQ(throttle.Begin("", "10.0.0.1:3"), LoginThrottle::kBusyRetryMs);
  throttle.Release("alice", "10.0.0.1:1");
  throttle.RecordFailure("alice", "10.0.0.1:1");
  EXPECT_EQ(WaitMs(throttle, "alice", "10.0.0.2:1"), 0);
  // Five guesses at once get one check; the other four are told to come back.
  int checked = 0;
  for (int i = 0; i < 5; ++i)
    checked += throttle.Begin("carol", "10.0.1." + std::to_string(i)) == 0;
  EXPECT_EQ(checked, 1);
  throttle.Release("carol", "10.0.1.0");
  std::vector<std::string> hosts;
  for (size_t i = 0; i < LoginThrottle::kMaxInFlight; ++i) {
    hosts.push_back("10.0.2." + std::to_string(i));
    ASSERT_EQ(throttle.Begin("user" + std::to_string(i), hosts.back()), 0) << i;
  }
  EXPECT_EQ(throttle.Begin("dave", "10.0.3.1"), LoginThrottle::kBusyRetryMs);
  throttle.Release("user0", hosts[0]);
  EXPECT_EQ(WaitMs(throttle, "dave", "10.0.3.1"), 0);
}

TEST(LoginThrottleTest, IPv6AddressesCountPerSlash64) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) {
    throttle.RecordFailure("", "[2001:db8:1:2::" + std::to_string(i + 1) + "]:443");
  }
  EXPECT_EQ(WaitMs(throttle, "x", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:9"), 1000);
  EXPECT_EQ(WaitMs(throttle, "x", "[2001:db8:1:3::1]:9"), 0);
  EXPECT_EQ(ThrottleKeyOf("[2001:db8:1:2:a:b:c:d]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(ThrottleKeyOf("10.1.2.3:443"), "10.1.2.3");
  EXPECT_EQ(ThrottleKeyOf("[::ffff:10.1.2.3]:443"), "::ffff:10.1.2.3");
}

TEST(LoginThrottleTest, CountsAreBoundedAndIdleOnesForgotten) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < 8; ++i) throttle.RecordFailure("alice", "[::1]:7");
  EXPECT_GT(WaitMs(throttle, "alice", "[::1]:8"), 0);
  clock.Advance(LoginThrottle::kForgetAfterMs);
  EXPECT_EQ(WaitMs(throttle, "alice", "[::1]:8"), 0);
  throttle.RecordFailure("alice", "[::1]:7");
  EXPECT_EQ(WaitMs(throttle, "alice", "[::1]:8"), 0);  // counting starts over
  // Beyond kMaxTracked names the stalest count goes: memory stays bounded.
  for (size_t i = 0; i <= LoginThrottle::kMaxTracked; ++i) {
    clock.Advance(1);
    throttle.RecordFailure("name" + std::to_string(i), "10.0.0.1:1");
  }
  EXPECT_EQ(throttle.tracked_accounts(), LoginThrottle::kMaxTracked);
}

TEST(HostOfTest, StripsThePort) {
  EXPECT_EQ(HostOf("127.0.0.1:443"), "127.0.0.1");
  EXPECT_EQ(HostOf("[::1]:443"), "::1");
  EXPECT_EQ(HostOf("localhost"), "localhost");
  EXPECT_EQ(HostOf("::1"), "::1");
}

}  // namespace
}  // namespace sluice::web
