#include "server/web/web_sessions.h"

#include <gtest/gtest.h>

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

TEST(LoginThrottleTest, FailuresBeyondTheFreeOnesWaitLongerEachTime) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) {
    EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5000"), 0) << i;
    throttle.RecordFailure("alice", "10.0.0.1:5000");
  }
  EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5001"), 1000);  // the port does not matter
  clock.Advance(1000);
  EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5000"), 0);
  throttle.RecordFailure("alice", "10.0.0.1:5000");
  EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5000"), 2000);
  // The account is throttled from any address, and the address for any account.
  EXPECT_EQ(throttle.WaitMs("alice", "10.9.9.9:1"), 2000);
  EXPECT_EQ(throttle.WaitMs("bob", "10.0.0.1:1"), 2000);
  EXPECT_EQ(throttle.WaitMs("bob", "10.9.9.9:1"), 0);
  // The delay is capped.
  for (int i = 0; i < 30; ++i) throttle.RecordFailure("alice", "10.0.0.1:5000");
  EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5000"), LoginThrottle::kMaxDelayMs);
  // A success clears both counts.
  throttle.RecordSuccess("alice", "10.0.0.1:5000");
  EXPECT_EQ(throttle.WaitMs("alice", "10.0.0.1:5000"), 0);
}

TEST(LoginThrottleTest, IdleCountsAreForgotten) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < 8; ++i) throttle.RecordFailure("alice", "[::1]:7");
  EXPECT_GT(throttle.WaitMs("alice", "[::1]:8"), 0);
  clock.Advance(LoginThrottle::kForgetAfterMs);
  EXPECT_EQ(throttle.WaitMs("alice", "[::1]:8"), 0);
  throttle.RecordFailure("alice", "[::1]:7");
  EXPECT_EQ(throttle.WaitMs("alice", "[::1]:8"), 0);  // counting starts over
}

TEST(HostOfTest, StripsThePort) {
  EXPECT_EQ(HostOf("127.0.0.1:443"), "127.0.0.1");
  EXPECT_EQ(HostOf("[::1]:443"), "::1");
  EXPECT_EQ(HostOf("localhost"), "localhost");
  EXPECT_EQ(HostOf("::1"), "::1");
}

}  // namespace
}  // namespace sluice::web
