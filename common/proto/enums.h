#pragma once
// String enums of the wire protocol (docs/protocol.md): each value travels as its wire string.
// ToString gives the wire string; Parse* turns a wire string back into the value or fails with
// kInvalidArgument. All functions are pure and thread-safe.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/error.h"

namespace sluice::proto {

enum class ClientKind {
  kJumpClient,         // "jump-client"
  kJumpoint,           // "jumpoint"
  kAccessConsole,      // "access-console"
  kConnectionAgent,    // "connection-agent"
  kIntegrationClient,  // "integration-client"
};

enum class Mode {
  kActive,   // "active": keeps the connection open and sends heartbeats
  kPassive,  // "passive": checks in, then disconnects
};

// Codes carried by the `error` message. docs/protocol.md says when each one is sent.
enum class ErrorCode {
  kMalformedFrame,            // "malformed_frame"
  kFrameTooLarge,             // "frame_too_large"
  kUnsupportedVersion,        // "unsupported_version"
  kUnknownType,               // "unknown_type"
  kInvalidField,              // "invalid_field"
  kUnexpectedMessage,         // "unexpected_message"
  kAuthFailed,                // "auth_failed"
  kEnrollmentRefused,         // "enrollment_refused"
  kNotEnrolled,               // "not_enrolled"
  kTimeout,                   // "timeout"
  kServerBusy,                // "server_busy"
  kInternal,                  // "internal"
  kLeaseUnknown,              // "lease_unknown": the lease expired or was never granted
  kInstallerExpired,          // "installer_expired": the installer's validity has ended
  kInstallerRevoked,          // "installer_revoked": the installer was deleted
  kInstallerOutdated,         // "installer_outdated": made for another site version
  kInstallerOverrideRefused,  // "installer_override_refused": override not allowed
  kReconnect,                 // "reconnect": the site was updated; reconnect and check in now
  kNotPrimary,  // "not_primary": a failover pair's backup serves no clients; retry later
};

// Why the server will not upgrade a client now (upgrade_refused).
enum class RefusalReason {
  kReinstallRequired,  // "reinstall_required": integration clients are never auto-updated
  kPolicyDisabled,     // "policy_disabled": auto-upgrade is off for this kind
  kNoPackage,          // "no_package": nothing published for this kind, platform and version
};

// How an upgrade ended on the client (upgrade_result).
enum class UpgradeOutcome {
  kApplied,       // "applied": switched to the new version and its health check passed
  kVerifyFailed,  // "verify_failed": bad signature, size or SHA-256; nothing applied
  kApplyFailed,   // "apply_failed": could not stage or switch; old version kept
  kRolledBack,    // "rolled_back": the new version failed its health check; old one restored
};

// The value <-> wire string table of each enum, in declaration order. Specialized below.
template <typename E>
struct EnumTraits;

template <>
struct EnumTraits<ClientKind> {
  static constexpr std::string_view kWhat = "client kind";
  static constexpr std::array<std::pair<ClientKind, std::string_view>, 5> kNames = {{
      {ClientKind::kJumpClient, "jump-client"},
      {ClientKind::kJumpoint, "jumpoint"},
      {ClientKind::kAccessConsole, "access-console"},
      {ClientKind::kConnectionAgent, "connection-agent"},
      {ClientKind::kIntegrationClient, "integration-client"},
  }};
};

template <>
struct EnumTraits<Mode> {
  static constexpr std::string_view kWhat = "mode";
  static constexpr std::array<std::pair<Mode, std::string_view>, 2> kNames = {{
      {Mode::kActive, "active"},
      {Mode::kPassive, "passive"},
  }};
};

template <>
struct EnumTraits<ErrorCode> {
  static constexpr std::string_view kWhat = "error code";
  static constexpr std::array<std::pair<ErrorCode, std::string_view>, 19> kNames = {{
      {ErrorCode::kMalformedFrame, "malformed_frame"},
      {ErrorCode::kFrameTooLarge, "frame_too_large"},
      {ErrorCode::kUnsupportedVersion, "unsupported_version"},
      {ErrorCode::kUnknownType, "unknown_type"},
      {ErrorCode::kInvalidField, "invalid_field"},
      {ErrorCode::kUnexpectedMessage, "unexpected_message"},
      {ErrorCode::kAuthFailed, "auth_failed"},
      {ErrorCode::kEnrollmentRefused, "enrollment_refused"},
      {ErrorCode::kNotEnrolled, "not_enrolled"},
      {ErrorCode::kTimeout, "timeout"},
      {ErrorCode::kServerBusy, "server_busy"},
      {ErrorCode::kInternal, "internal"},
      {ErrorCode::kLeaseUnknown, "lease_unknown"},
      {ErrorCode::kInstallerExpired, "installer_expired"},
      {ErrorCode::kInstallerRevoked, "installer_revoked"},
      {ErrorCode::kInstallerOutdated, "installer_outdated"},
      {ErrorCode::kInstallerOverrideRefused, "installer_override_refused"},
      {ErrorCode::kReconnect, "reconnect"},
      {ErrorCode::kNotPrimary, "not_primary"},
  }};
};

template <>
struct EnumTraits<RefusalReason> {
  static constexpr std::string_view kWhat = "refusal reason";
  static constexpr std::array<std::pair<RefusalReason, std::string_view>, 3> kNames = {{
      {RefusalReason::kReinstallRequired, "reinstall_required"},
      {RefusalReason::kPolicyDisabled, "policy_disabled"},
      {RefusalReason::kNoPackage, "no_package"},
  }};
};

template <>
struct EnumTraits<UpgradeOutcome> {
  static constexpr std::string_view kWhat = "upgrade outcome";
  static constexpr std::array<std::pair<UpgradeOutcome, std::string_view>, 4> kNames = {{
      {UpgradeOutcome::kApplied, "applied"},
      {UpgradeOutcome::kVerifyFailed, "verify_failed"},
      {UpgradeOutcome::kApplyFailed, "apply_failed"},
      {UpgradeOutcome::kRolledBack, "rolled_back"},
  }};
};

// Wire string of `value`; "?" for a value outside the enum.
template <typename E>
constexpr std::string_view ToString(E value) {
  for (const auto& [v, name] : EnumTraits<E>::kNames) {
    if (v == value) return name;
  }
  return "?";
}

// The value whose wire string is exactly `text` (case-sensitive), or nullopt.
template <typename E>
constexpr std::optional<E> ParseEnum(std::string_view text) {
  for (const auto& [v, name] : EnumTraits<E>::kNames) {
    if (name == text) return v;
  }
  return std::nullopt;
}

// "one of 'a', 'b', 'c'" for messages that tell the reader which strings are allowed.
template <typename E>
std::string EnumChoices() {
  std::string out = "one of ";
  bool first = true;
  for (const auto& entry : EnumTraits<E>::kNames) {
    if (!first) out += ", ";
    first = false;
    out += '\'';
    out += entry.second;
    out += '\'';
  }
  return out;
}

// Every wire string of E, in table order (for command-line choices).
template <typename E>
std::vector<std::string> EnumNames() {
  std::vector<std::string> names;
  for (const auto& entry : EnumTraits<E>::kNames) names.emplace_back(entry.second);
  return names;
}

// The kinds the throttle upgrades (every kind but integration clients, which reinstall), in
// table order: the limit scopes.
inline std::vector<std::string_view> UpgradableKinds() {
  std::vector<std::string_view> kinds;
  for (const auto& [kind, name] : EnumTraits<ClientKind>::kNames) {
    if (kind != ClientKind::kIntegrationClient) kinds.push_back(name);
  }
  return kinds;
}

// Parse helpers for callers outside the codec (config files, command lines). Errors:
// kInvalidArgument "unknown client kind 'x' (expected one of ...)".
[[nodiscard]] Result<ClientKind> ParseClientKind(std::string_view text);
[[nodiscard]] Result<Mode> ParseMode(std::string_view text);
[[nodiscard]] Result<ErrorCode> ParseErrorCode(std::string_view text);
[[nodiscard]] Result<UpgradeOutcome> ParseUpgradeOutcome(std::string_view text);

// The local error class matching an `error` message received from the peer, so a client can
// return Error(ErrcFor(code), message) from the call that got it.
Errc ErrcFor(ErrorCode code);

}  // namespace sluice::proto
