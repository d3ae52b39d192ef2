#pragma once
// Dashboard logins: server-side sessions and the failed-login throttle (docs/admin.md,
// "Dashboard"). Sessions live in memory: a restart of sluiced logs every admin out.
//
// A session is named by a random 256-bit token sent only as an HttpOnly, Secure, SameSite=Strict
// cookie, and carries its own random CSRF token, which every state-changing request must echo
// in X-CSRF-Token. It ends at logout, after `idle_ms` without a request, after `absolute_ms` in
// any case, and when its admin account is removed or its password changed (Revoke).
//
// The throttle: after kFreeFailures consecutive failed logins for one account, or from one
// address, each further attempt for it is refused without checking the password until
// 2^(failures - kFreeFailures) seconds (at most 15 minutes) after the last failure. A success
// clears the account's and the address's count; a count idle for an hour is forgotten.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/clock.h"

namespace sluice::web {

struct WebSession {
  std::string admin;
  std::string csrf;
  int64_t created_ms = 0;
  int64_t last_used_ms = 0;
};

class WebSessions {
 public:
  static constexpr int64_t kDefaultIdleMs = 30LL * 60 * 1000;
  static constexpr int64_t kDefaultAbsoluteMs = 12LL * 3600 * 1000;
  static constexpr size_t kMaxSessions = 1000;  // the oldest goes first beyond this

  explicit WebSessions(const Clock& clock, int64_t idle_ms = kDefaultIdleMs,
                       int64_t absolute_ms = kDefaultAbsoluteMs)
      : clock_(clock), idle_ms_(idle_ms), absolute_ms_(absolute_ms) {}

  // Starts a session for `admin`; returns its token.
  std::string Create(const std::string& admin);
  // The live session named by `token`, its idle time renewed; nullopt if unknown or expired
  // (an expired one is forgotten).
  std::optional<WebSession> Use(std::string_view token);
  void End(std::string_view token);
  // Ends every session of `admin` (account removed or password changed).
  void Revoke(std::string_view admin);
  size_t size() const { return sessions_.size(); }
  int64_t absolute_ms() const { return absolute_ms_; }

 private:
  const Clock& clock_;
  int64_t idle_ms_;
  int64_t absolute_ms_;
  std::map<std::string, WebSession, std::less<>> sessions_;
};

class LoginThrottle {
 public:
  static constexpr int kFreeFailures = 5;
  static constexpr int64_t kMaxDelayMs = 15LL * 60 * 1000;
  static constexpr int64_t kForgetAfterMs = 3600LL * 1000;

  explicit LoginThrottle(const Clock& clock) : clock_(clock) {}

  // How long an attempt for `account` from `address` must still wait (ms); 0: may try now.
  int64_t WaitMs(std::string_view account, std::string_view address);
  void RecordFailure(std::string_view account, std::string_view address);
  void RecordSuccess(std::string_view account, std::string_view address);

 private:
  struct Count {
    int failures = 0;
    int64_t last_failure_ms = 0;
  };
  int64_t WaitFor(const Count& count, int64_t now) const;
  void Forget(int64_t now);

  const Clock& clock_;
  std::map<std::string, Count, std::less<>> accounts_;
  std::map<std::string, Count, std::less<>> addresses_;
};

// The host part of "HOST:PORT" or "[V6]:PORT" (the throttle counts per host, not per port).
std::string_view HostOf(std::string_view peer_address);

}  // namespace sluice::web
