#include "server/web/web_sessions.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

#include "common/crypto/hash.h"
#include "common/crypto/random.h"

namespace sluice::web {
namespace {

// Account names compare case-insensitively (ASCII), as the store compares them.
std::string AccountKey(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Sessions are filed under the SHA-256 of their token: looking one up compares digests, whose
// timing says nothing useful about a token, and no token is kept in memory.
std::string SessionKey(std::string_view token) {
  const crypto::Sha256Digest digest = crypto::Sha256(AsBytes(token));
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace

std::string WebSessions::Create(const std::string& admin) {
  const int64_t now = clock_.MonotonicMs();
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::ranges::min_element(
        sessions_, {}, [](const auto& entry) { return entry.second.created_ms; });
    sessions_.erase(oldest);
  }
  std::string token = crypto::RandomHex(32);
  sessions_[SessionKey(token)] = WebSession{
      .admin = admin, .csrf = crypto::RandomHex(32), .created_ms = now, .last_used_ms = now};
  return token;
}

bool WebSessions::Live(const WebSession& session, int64_t now) const {
  return now - session.last_used_ms < idle_ms_ && now - session.created_ms < absolute_ms_;
}

std::optional<WebSession> WebSessions::Use(std::string_view token) {
  auto it = sessions_.find(SessionKey(token));
  if (it == sessions_.end()) return std::nullopt;
  const int64_t now = clock_.MonotonicMs();
  WebSession& session = it->second;
  if (!Live(session, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  session.last_used_ms = now;
  return session;
}

std::optional<WebSession> WebSessions::Peek(std::string_view token) const {
  auto it = sessions_.find(SessionKey(token));
  if (it == sessions_.end() || !Live(it->second, clock_.MonotonicMs())) return std::nullopt;
  return it->second;
}

void WebSessions::End(std::string_view token) {
  if (auto it = sessions_.find(SessionKey(token)); it != sessions_.end()) sessions_.erase(it);
}

void WebSessions::Revoke(std::string_view admin) {
  const std::string key = AccountKey(admin);
  std::erase_if(sessions_,
                [&](const auto& entry) { return AccountKey(entry.second.admin) == key; });
  ++generations_[key];
}

uint64_t WebSessions::Generation(std::string_view admin) const {
  auto it = generations_.find(AccountKey(admin));
  return it == generations_.end() ? 0 : it->second;
}

int64_t LoginThrottle::WaitFor(const Counts& counts, const std::string& key, int64_t now) const {
  auto it = counts.find(key);
  if (it == counts.end() || it->second.failures < kFreeFailures) return 0;
  const int doublings = std::min(it->second.failures - kFreeFailures, 20);
  const int64_t delay = std::min<int64_t>(1000LL << doublings, kMaxDelayMs);
  return std::max<int64_t>(0, it->second.last_failure_ms + delay - now);
}

void LoginThrottle::Forget(int64_t now) {
  // At most once a minute: every attempt, refused ones included, passes here.
  if (forgotten_at_ms_ != 0 && now - forgotten_at_ms_ < 60'000) return;
  forgotten_at_ms_ = now;
  auto stale = [now](const auto& entry) {
    return now - entry.second.last_failure_ms >= kForgetAfterMs;
  };
  std::erase_if(accounts_, stale);
  std::erase_if(addresses_, stale);
}

int64_t LoginThrottle::Begin(std::string_view account, std::string_view address) {
  const int64_t now = clock_.MonotonicMs();
  Forget(now);
  const std::string account_key = AccountKey(account);
  const std::string address_key = ThrottleKeyOf(address);
  int64_t wait = WaitFor(addresses_, address_key, now);
  if (!account_key.empty()) wait = std::max(wait, WaitFor(accounts_, account_key, now));
  if (wait > 0) return wait;
  if (addresses_in_flight_.contains(address_key) ||
      (!account_key.empty() && accounts_in_flight_.contains(account_key)) ||
      addresses_in_flight_.size() >= kMaxInFlight) {
    return kBusyRetryMs;
  }
  addresses_in_flight_.insert(address_key);
  if (!account_key.empty()) accounts_in_flight_.insert(account_key);
  return 0;
}

void LoginThrottle::Release(std::string_view account, std::string_view address) {
  if (auto it = accounts_in_flight_.find(AccountKey(account)); it != accounts_in_flight_.end()) {
    accounts_in_flight_.erase(it);
  }
  if (auto it = addresses_in_flight_.find(ThrottleKeyOf(address));
      it != addresses_in_flight_.end()) {
    addresses_in_flight_.erase(it);
  }
}

void LoginThrottle::Fail(Counts& counts, std::string key, int64_t now) {
  if (counts.size() >= kMaxTracked && !counts.contains(key)) {
    counts.erase(std::ranges::min_element(
        counts, {}, [](const auto& entry) { return entry.second.last_failure_ms; }));
  }
  Count& count = counts[std::move(key)];
  ++count.failures;
  count.last_failure_ms = now;
}

void LoginThrottle::RecordFailure(std::string_view account, std::string_view address) {
  const int64_t now = clock_.MonotonicMs();
  if (!account.empty()) Fail(accounts_, AccountKey(account), now);
  Fail(addresses_, ThrottleKeyOf(address), now);
}

void LoginThrottle::RecordSuccess(std::string_view account, std::string_view address) {
  if (auto it = accounts_.find(AccountKey(account)); it != accounts_.end()) accounts_.erase(it);
  if (auto it = addresses_.find(ThrottleKeyOf(address)); it != addresses_.end()) {
    addresses_.erase(it);
  }
}

std::string ThrottleKeyOf(std::string_view peer_address) {
  const std::string host(HostOf(peer_address));
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1 || IN6_IS_ADDR_V4MAPPED(&v6)) return host;
  std::fill(std::begin(v6.s6_addr) + 8, std::end(v6.s6_addr), uint8_t{0});
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(AF_INET6, &v6, text, sizeof(text)) == nullptr) return host;
  return std::string(text) + "/64";
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
