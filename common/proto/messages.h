#pragma once
// Messages of the Sluice wire protocol (docs/protocol.md). Each message is a plain struct; on the
// wire it is one msgpack map with "v" (protocol version) and "t" (its kType) plus its fields.
//
// Adding a message type: declare its struct here and add it to Message; in messages.cpp write
// its EncodeFields/Decode<Name> pair and add one line to the codec table.
//
// All functions are pure and thread-safe. No function throws.
// Every member has an initializer, so designated initializers may leave any field out without
// tripping -Wmissing-field-initializers.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <variant>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/enums.h"

namespace sluice::proto {

inline constexpr uint64_t kProtocolVersion = 1;
// Longest string field accepted by the decoder, in bytes.
inline constexpr size_t kMaxStringBytes = 4096;

// client -> server: first contact; asks the site to enroll this client.
struct Enroll {
  static constexpr std::string_view kType = "enroll";
  std::string enrollment_key{};  // the site enrollment key from the installer
  std::string client_id{};       // a new random UUID (v4), lowercase canonical text
  ClientKind kind = ClientKind::kJumpClient;
  Mode mode = Mode::kActive;
  std::string platform{};  // e.g. "windows-x86_64"
  std::string version{};   // client software version
  // Optional: a signed installer key (common/installer/installer_key.h). When present it
  // replaces enrollment_key, and the server checks it (installer_* error codes). jump_group and
  // tag, when non-empty, ask to override the installer's values.
  std::string installer_key{};
  std::string jump_group{};
  std::string tag{};
  bool operator==(const Enroll&) const = default;
};

// server -> client: enrollment accepted; the client stores both values.
struct Enrolled {
  static constexpr std::string_view kType = "enrolled";
  std::string client_id{};
  std::string client_secret{};  // 256-bit secret, 64 lowercase hex digits
  bool operator==(const Enrolled&) const = default;
};

// Optional health figures carried by `checkin`; each one defaults to 0 / empty when absent.
struct CheckinStats {
  double cpu_load = 0;
  double disk_used_pct = 0;
  uint64_t uptime_s = 0;
  std::string console_user{};
  bool operator==(const CheckinStats&) const = default;
};

// client -> server: authenticates an enrolled client and reports its state.
struct Checkin {
  static constexpr std::string_view kType = "checkin";
  std::string client_id{};
  std::string client_secret{};
  ClientKind kind = ClientKind::kJumpClient;
  Mode mode = Mode::kActive;
  std::string version{};
  std::string platform{};
  CheckinStats stats{};
  bool operator==(const Checkin&) const = default;
};

// server -> client: check-in accepted.
struct CheckinOk {
  static constexpr std::string_view kType = "checkin_ok";
  std::string site_version{};
  bool up_to_date = false;
  uint64_t heartbeat_s = 0;     // active: heartbeat interval; 0 for passive
  uint64_t next_checkin_s = 0;  // passive: seconds until the next check-in; 0 for active
  uint64_t server_time_ms = 0;  // server wall clock, ms since the Unix epoch
  bool operator==(const CheckinOk&) const = default;
};

// client -> server (active clients): liveness.
struct Heartbeat {
  static constexpr std::string_view kType = "heartbeat";
  uint64_t seq = 0;
  bool operator==(const Heartbeat&) const = default;
};

// server -> client: answers the heartbeat with the same seq.
struct HeartbeatAck {
  static constexpr std::string_view kType = "heartbeat_ack";
  uint64_t seq = 0;
  bool operator==(const HeartbeatAck&) const = default;
};

// either way: the sender is about to close the connection because of `code`.
struct ErrorMessage {
  static constexpr std::string_view kType = "error";
  ErrorCode code = ErrorCode::kInternal;
  std::string message{};  // human-readable, at most kMaxStringBytes
  bool operator==(const ErrorMessage&) const = default;
};

// Largest signed manifest and signature a grant may carry, and largest chunk of package data.
inline constexpr size_t kMaxManifestBytes = 16 * 1024;
inline constexpr size_t kMaxSignatureBytes = 128;
inline constexpr size_t kMaxChunkBytes = 256 * 1024;

// server -> client: a slot (lease) is yours; download and apply `version`.
struct UpgradeGrant {
  static constexpr std::string_view kType = "upgrade_grant";
  uint64_t lease_id = 0;
  std::string version;
  Bytes manifest;   // the signed manifest bytes (JSON, docs/protocol.md)
  Bytes signature;  // Ed25519 over `manifest` by the site signing key
  uint64_t lease_ttl_s = 0;  // the lease lapses after this long without download progress
  bool operator==(const UpgradeGrant&) const = default;
};

// server -> client: no slot yet. Active clients stay connected and are sent a grant when a
// slot frees (retry_after_s = 0). Passive clients with hold_s > 0 stay connected up to hold_s
// for a pushed grant, then close and come back after retry_after_s; with hold_s = 0 they close
// at once and come back after retry_after_s.
struct UpgradeWait {
  static constexpr std::string_view kType = "upgrade_wait";
  uint64_t position = 0;  // 0 = next in line
  uint64_t retry_after_s = 0;
  uint64_t hold_s = 0;  // optional on the wire (absent = 0)
  bool operator==(const UpgradeWait&) const = default;
};

// server -> client: this client will not be upgraded automatically now.
struct UpgradeRefused {
  static constexpr std::string_view kType = "upgrade_refused";
  RefusalReason reason = RefusalReason::kNoPackage;
  std::string message;
  bool operator==(const UpgradeRefused&) const = default;
};

// client -> server: stream the granted package from `offset` (resume after a reconnect).
struct Download {
  static constexpr std::string_view kType = "download";
  uint64_t lease_id = 0;
  uint64_t offset = 0;
  bool operator==(const Download&) const = default;
};

// server -> client: package bytes [offset, offset + data.size()). Paced by the bandwidth cap.
struct Chunk {
  static constexpr std::string_view kType = "chunk";
  uint64_t lease_id = 0;
  uint64_t offset = 0;
  Bytes data;
  bool operator==(const Chunk&) const = default;
};

// client -> server: how the upgrade ended. Frees the slot.
struct UpgradeResult {
  static constexpr std::string_view kType = "upgrade_result";
  uint64_t lease_id = 0;
  std::string version;
  UpgradeOutcome outcome = UpgradeOutcome::kApplied;
  std::string detail;
  bool operator==(const UpgradeResult&) const = default;
};

// server -> client: the result is recorded.
struct UpgradeResultAck {
  static constexpr std::string_view kType = "upgrade_result_ack";
  uint64_t lease_id = 0;
  bool operator==(const UpgradeResultAck&) const = default;
};

// ---- The pair protocol: two servers of a failover pair, on ALPN sluice-pair/1 ----------------
// (docs/protocol.md, "Pair protocol"). A client connection never reaches these: the server
// routes by ALPN, and a pair connection is served only after both sides proved the key.

inline constexpr size_t kPairNonceBytes = 32;
inline constexpr size_t kPairProofBytes = 32;
// Largest request or reply body (JSON) and data chunk on a pair connection.
inline constexpr size_t kMaxPairBodyBytes = 256 * 1024;

// dialer -> listener: first frame; a fresh random nonce.
struct PairHello {
  static constexpr std::string_view kType = "pair_hello";
  Bytes nonce{};
  std::string server_id{};
  bool operator==(const PairHello&) const = default;
};

// listener -> dialer: the listener's nonce and its proof of the key (see server/pair/pair_auth.h).
struct PairChallenge {
  static constexpr std::string_view kType = "pair_challenge";
  Bytes nonce{};
  Bytes proof{};
  std::string server_id{};
  bool operator==(const PairChallenge&) const = default;
};

// dialer -> listener: the dialer's proof. The listener answers with a pair_reply of id 0.
struct PairProof {
  static constexpr std::string_view kType = "pair_proof";
  Bytes proof{};
  bool operator==(const PairProof&) const = default;
};

// Either way once authenticated: one operation, its arguments as a JSON object.
struct PairRequest {
  static constexpr std::string_view kType = "pair_request";
  uint64_t id = 0;
  std::string op{};
  Bytes body{};
  bool operator==(const PairRequest&) const = default;
};

// The answer to request `id`: `error` is "" on success, else an error name (errc) with
// `message`; `body` a JSON object.
struct PairReply {
  static constexpr std::string_view kType = "pair_reply";
  uint64_t id = 0;
  std::string error{};
  std::string message{};
  Bytes body{};
  bool operator==(const PairReply&) const = default;
};

// Bytes [offset, offset + data.size()) of what request `id` fetches; its pair_reply follows the
// last chunk.
struct PairData {
  static constexpr std::string_view kType = "pair_data";
  uint64_t id = 0;
  uint64_t offset = 0;
  Bytes data{};
  bool operator==(const PairData&) const = default;
};

using Message = std::variant<Enroll, Enrolled, Checkin, CheckinOk, Heartbeat, HeartbeatAck,
                             ErrorMessage, UpgradeGrant, UpgradeWait, UpgradeRefused, Download,
                             Chunk, UpgradeResult, UpgradeResultAck, PairHello, PairChallenge,
                             PairProof, PairRequest, PairReply, PairData>;

// The msgpack payload of `m` (no frame header). String fields longer than kMaxStringBytes are
// encoded as given and will be refused by the receiver; use MakeErrorMessage for error texts.
Bytes EncodeMessage(const Message& m);

// Appends the frame header and the payload of `m` to `*out`.
void AppendMessageFrame(const Message& m, Bytes* out);

// Parses one payload. Errors (checked in this order):
//  kProtocol "malformed msgpack: ..." - not exactly one msgpack object, trailing bytes, not a map;
//  kProtocol - "v" missing or not a uint;
//  kUnsupportedVersion "protocol version N not supported (this peer speaks 1)";
//  kProtocol "unknown message type 'x'" - "t" missing, not a string, or unknown;
//  kProtocol "field 'x' of 'type' must be <type>" - a required field missing or invalid.
// Unknown extra fields are ignored.
[[nodiscard]] Result<Message> DecodeMessage(ByteView payload);

// What DecodeMessage failed with, plus the code to put in the `error` message sent back.
struct DecodeFailure {
  ErrorCode code;
  Error error;
};
// DecodeMessage for the side that must answer a bad payload with an `error` message:
// malformed_frame, unsupported_version, unknown_type or invalid_field.
[[nodiscard]] std::expected<Message, DecodeFailure> DecodeMessageForReply(ByteView payload);

// The "t" of `m`, e.g. "checkin".
std::string_view MessageType(const Message& m);

// An `error` message whose text is cut (at a UTF-8 boundary) to kMaxStringBytes.
ErrorMessage MakeErrorMessage(ErrorCode code, std::string_view text);

}  // namespace sluice::proto
