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
// clears the account's and the address's count; a count idle for an hour is forgotten. Accounts
// count case-insensitively (as the store finds them) and IPv6 addresses per /64 (what one host
// is usually given). Only one attempt per account and per address is checked at a time, and at
// most kMaxInFlight in all: a burst of parallel guesses cannot all pass before the first fails.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
  // The live session named by `token`, without renewing it (the live feed's check).
  std::optional<WebSession> Peek(std::string_view token) const;
  // Ends every session of `admin` (account removed or password changed).
  void Revoke(std::string_view admin);
  // Changes whenever `admin`'s sessions are revoked: a login whose password check began before
  // a revocation must not start a session after it.
  uint64_t Generation(std::string_view admin) const;
  size_t size() const { return sessions_.size(); }
  int64_t absolute_ms() const { return absolute_ms_; }

 private:
  const Clock& clock_;
  int64_t idle_ms_;
  int64_t absolute_ms_;
  bool Live(const WebSession& session, int64_t now) const;

  std::map<std::string, WebSession, std::less<>> sessions_;   // by the token's SHA-256
  std::map<std::string, uint64_t, std::less<>> generations_;  // by lower-case account name
};

class LoginThrottle {
 public:
  static constexpr int kFreeFailures = 5;
  static constexpr int64_t kMaxDelayMs = 15LL * 60 * 1000;
  static constexpr int64_t kForgetAfterMs = 3600LL * 1000;
  static constexpr int64_t kBusyRetryMs = 1000;  // the wait told to an attempt refused as busy
  static constexpr size_t kMaxInFlight = 8;
  static constexpr size_t kMaxTracked = 10'000;  // counts per map; the stalest goes beyond

  explicit LoginThrottle(const Clock& clock) : clock_(clock) {}

  // Starts an attempt for `account` from `address`: 0 when it may be checked now (then Release
  // must follow), else how long it must wait (ms). An empty `account` counts the address only.
  int64_t Begin(std::string_view account, std::string_view address);
  // Ends a begun attempt; then RecordFailure or RecordSuccess, when there was a verdict.
  void Release(std::string_view account, std::string_view address);
  void RecordFailure(std::string_view account, std::string_view address);
  void RecordSuccess(std::string_view account, std::string_view address);
  size_t tracked_accounts() const { return accounts_.size(); }

 private:
  struct Count {
    int failures = 0;
    int64_t last_failure_ms = 0;
  };
  using Counts = std::map<std::string, Count, std::less<>>;
  int64_t WaitFor(const Counts& counts, const std::string& key, int64_t now) const;
  void Fail(Counts& counts, std::string key, int64_t now);
  void Forget(int64_t now);

  const Clock& clock_;
  Counts accounts_;   // by lower-case name
  Counts addresses_;  // by ThrottleKeyOf(address)
  std::set<std::string, std::less<>> accounts_in_flight_;
  std::set<std::string, std::less<>> addresses_in_flight_;
  int64_t forgotten_at_ms_ = 0;
};

// The key an address is throttled by: the host of "HOST:PORT" or "[V6]:PORT", and for IPv6 its
// /64 prefix ("2001:db8:1:2::/64").
std::string ThrottleKeyOf(std::string_view peer_address);

// The host part of "HOST:PORT" or "[V6]:PORT" (the throttle counts per host, not per port).
std::string_view HostOf(std::string_view peer_address);

}  // namespace sluice::web
