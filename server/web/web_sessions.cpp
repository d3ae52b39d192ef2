#include "server/web/web_sessions.h"

#include <algorithm>
#include <cctype>

#include "common/crypto/random.h"

namespace sluice::web {

std::string WebSessions::Create(const std::string& admin) {
  const int64_t now = clock_.MonotonicMs();
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::ranges::min_element(
        sessions_, {}, [](const auto& entry) { return entry.second.created_ms; });
    sessions_.erase(oldest);
  }
  std::string token = crypto::RandomHex(32);
  sessions_[token] = WebSession{
      .admin = admin, .csrf = crypto::RandomHex(32), .created_ms = now, .last_used_ms = now};
  return token;
}

std::optional<WebSession> WebSessions::Use(std::string_view token) {
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  const int64_t now = clock_.MonotonicMs();
  WebSession& session = it->second;
  if (now - session.last_used_ms >= idle_ms_ || now - session.created_ms >= absolute_ms_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  session.last_used_ms = now;
  return session;
}

void WebSessions::End(std::string_view token) {
  if (auto it = sessions_.find(token); it != sessions_.end()) sessions_.erase(it);
}

void WebSessions::Revoke(std::string_view admin) {
  // Account names compare case-insensitively, as the store compares them.
  auto same = [](std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) ==
             std::tolower(static_cast<unsigned char>(y));
    });
  };
  std::erase_if(sessions_, [&](const auto& entry) { return same(entry.second.admin, admin); });
}

int64_t LoginThrottle::WaitFor(const Count& count, int64_t now) const {
  if (count.failures < kFreeFailures) return 0;
  const int doublings = std::min(count.failures - kFreeFailures, 20);
  const int64_t delay = std::min<int64_t>(1000LL << doublings, kMaxDelayMs);
  return std::max<int64_t>(0, count.last_failure_ms + delay - now);
}

void LoginThrottle::Forget(int64_t now) {
  auto stale = [now](const auto& entry) {
    return now - entry.second.last_failure_ms >= kForgetAfterMs;
  };
  std::erase_if(accounts_, stale);
  std::erase_if(addresses_, stale);
}

int64_t LoginThrottle::WaitMs(std::string_view account, std::string_view address) {
  const int64_t now = clock_.MonotonicMs();
  Forget(now);
  int64_t wait = 0;
  if (auto it = accounts_.find(account); it != accounts_.end()) wait = WaitFor(it->second, now);
  if (auto it = addresses_.find(HostOf(address)); it != addresses_.end()) {
    wait = std::max(wait, WaitFor(it->second, now));
  }
  return wait;
}

void LoginThrottle::RecordFailure(std::string_view account, std::string_view address) {
  const int64_t now = clock_.MonotonicMs();
  for (auto* counts : {&accounts_, &addresses_}) {
    std::string key(counts == &accounts_ ? account : HostOf(address));
    Count& count = (*counts)[key];
    ++count.failures;
    count.last_failure_ms = now;
  }
}

void LoginThrottle::RecordSuccess(std::string_view account, std::string_view address) {
  if (auto it = accounts_.find(account); it != accounts_.end()) accounts_.erase(it);
  if (auto it = addresses_.find(HostOf(address)); it != addresses_.end()) addresses_.erase(it);
}

std::string_view HostOf(std::string_view peer_address) {
  if (peer_address.starts_with('[')) {
    size_t close = peer_address.find(']');
    return close == std::string_view::npos ? peer_address : peer_address.substr(1, close - 1);
  }
  size_t colon = peer_address.rfind(':');
  if (colon == std::string_view::npos || peer_address.find(':') != colon) return peer_address;
  return peer_address.substr(0, colon);
}

}  // namespace sluice::web
