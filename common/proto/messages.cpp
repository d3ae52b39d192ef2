#include "common/proto/messages.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <msgpack.hpp>
#include <string>
#include <type_traits>
#include <utility>

#include "common/proto/field_reader.h"
#include "common/proto/field_writer.h"
#include "common/proto/frame_codec.h"

namespace sluice::proto {
namespace {

// ---- One EncodeFields / Decode<Name> pair per message type -------------------------------------

void EncodeFields(const Enroll& m, FieldWriter& w) {
  w.Str("enrollment_key", m.enrollment_key);
  w.Str("client_id", m.client_id);
  w.Enum("kind", m.kind);
  w.Enum("mode", m.mode);
  w.Str("platform", m.platform);
  w.Str("version", m.version);
  // Optional fields are sent only when set, so older servers see the message they know.
  if (!m.installer_key.empty()) w.Str("installer_key", m.installer_key);
  if (!m.jump_group.empty()) w.Str("jump_group", m.jump_group);
  if (!m.tag.empty()) w.Str("tag", m.tag);
}
Result<Enroll> DecodeEnroll(FieldReader& r) {
  return r.Finish(Enroll{.enrollment_key = r.Str("enrollment_key"),
                         .client_id = r.Uuid("client_id"),
                         .kind = r.Enum<ClientKind>("kind"),
                         .mode = r.Enum<Mode>("mode"),
                         .platform = r.Str("platform"),
                         .version = r.Str("version"),
                         .installer_key = r.StrOr("installer_key", ""),
                         .jump_group = r.StrOr("jump_group", ""),
                         .tag = r.StrOr("tag", "")});
}

void EncodeFields(const Enrolled& m, FieldWriter& w) {
  w.Str("client_id", m.client_id);
  w.Str("client_secret", m.client_secret);
}
Result<Enrolled> DecodeEnrolled(FieldReader& r) {
  return r.Finish(
      Enrolled{.client_id = r.Uuid("client_id"), .client_secret = r.Str("client_secret")});
}

void EncodeFields(const Checkin& m, FieldWriter& w) {
  w.Str("client_id", m.client_id);
  w.Str("client_secret", m.client_secret);
  w.Enum("kind", m.kind);
  w.Enum("mode", m.mode);
  w.Str("version", m.version);
  w.Str("platform", m.platform);
  w.Map("stats", [&m](FieldWriter& s) {
    s.Float("cpu_load", m.stats.cpu_load);
    s.Float("disk_used_pct", m.stats.disk_used_pct);
    s.Uint("uptime_s", m.stats.uptime_s);
    s.Str("console_user", m.stats.console_user);
  });
}
Result<Checkin> DecodeCheckin(FieldReader& r) {
  return r.Finish(Checkin{.client_id = r.Uuid("client_id"),
                          .client_secret = r.Str("client_secret"),
                          .kind = r.Enum<ClientKind>("kind"),
                          .mode = r.Enum<Mode>("mode"),
                          .version = r.Str("version"),
                          .platform = r.Str("platform"),
                          .stats = r.OptionalMap<CheckinStats>("stats", [](FieldReader& s) {
                            return CheckinStats{.cpu_load = s.FloatOr("cpu_load", 0),
                                                .disk_used_pct = s.FloatOr("disk_used_pct", 0),
                                                .uptime_s = s.UintOr("uptime_s", 0),
                                                .console_user = s.StrOr("console_user", "")};
                          })});
}

void EncodeFields(const CheckinOk& m, FieldWriter& w) {
  w.Str("site_version", m.site_version);
  w.Bool("up_to_date", m.up_to_date);
  w.Uint("heartbeat_s", m.heartbeat_s);
  w.Uint("next_checkin_s", m.next_checkin_s);
  w.Uint("server_time_ms", m.server_time_ms);
}
Result<CheckinOk> DecodeCheckinOk(FieldReader& r) {
  return r.Finish(CheckinOk{.site_version = r.Str("site_version"),
                            .up_to_date = r.Bool("up_to_date"),
                            .heartbeat_s = r.Uint("heartbeat_s"),
                            .next_checkin_s = r.Uint("next_checkin_s"),
                            .server_time_ms = r.Uint("server_time_ms")});
}

void EncodeFields(const Heartbeat& m, FieldWriter& w) { w.Uint("seq", m.seq); }
Result<Heartbeat> DecodeHeartbeat(FieldReader& r) {
  return r.Finish(Heartbeat{.seq = r.Uint("seq")});
}

void EncodeFields(const HeartbeatAck& m, FieldWriter& w) { w.Uint("seq", m.seq); }
Result<HeartbeatAck> DecodeHeartbeatAck(FieldReader& r) {
  return r.Finish(HeartbeatAck{.seq = r.Uint("seq")});
}

void EncodeFields(const ErrorMessage& m, FieldWriter& w) {
  w.Enum("code", m.code);
  w.Str("message", m.message);
}
Result<ErrorMessage> DecodeErrorMessage(FieldReader& r) {
  return r.Finish(ErrorMessage{.code = r.Enum<ErrorCode>("code"), .message = r.Str("message")});
}

void EncodeFields(const UpgradeGrant& m, FieldWriter& w) {
  w.Uint("lease_id", m.lease_id);
  w.Str("version", m.version);
  w.Bin("manifest", m.manifest);
  w.Bin("signature", m.signature);
  w.Uint("lease_ttl_s", m.lease_ttl_s);
}
Result<UpgradeGrant> DecodeUpgradeGrant(FieldReader& r) {
  return r.Finish(UpgradeGrant{.lease_id = r.Uint("lease_id"),
                               .version = r.Str("version"),
                               .manifest = r.Bin("manifest", kMaxManifestBytes),
                               .signature = r.Bin("signature", kMaxSignatureBytes),
                               .lease_ttl_s = r.Uint("lease_ttl_s")});
}

void EncodeFields(const UpgradeWait& m, FieldWriter& w) {
  w.Uint("position", m.position);
  w.Uint("retry_after_s", m.retry_after_s);
  if (m.hold_s > 0) w.Uint("hold_s", m.hold_s);
}
Result<UpgradeWait> DecodeUpgradeWait(FieldReader& r) {
  return r.Finish(UpgradeWait{.position = r.Uint("position"),
                              .retry_after_s = r.Uint("retry_after_s"),
                              .hold_s = r.UintOr("hold_s", 0)});
}

void EncodeFields(const UpgradeRefused& m, FieldWriter& w) {
  w.Enum("reason", m.reason);
  w.Str("message", m.message);
}
Result<UpgradeRefused> DecodeUpgradeRefused(FieldReader& r) {
  return r.Finish(UpgradeRefused{.reason = r.Enum<RefusalReason>("reason"),
                                 .message = r.Str("message")});
}

void EncodeFields(const Download& m, FieldWriter& w) {
  w.Uint("lease_id", m.lease_id);
  w.Uint("offset", m.offset);
}
Result<Download> DecodeDownload(FieldReader& r) {
  return r.Finish(Download{.lease_id = r.Uint("lease_id"), .offset = r.Uint("offset")});
}

void EncodeFields(const Chunk& m, FieldWriter& w) {
  w.Uint("lease_id", m.lease_id);
  w.Uint("offset", m.offset);
  w.Bin("data", m.data);
}
Result<Chunk> DecodeChunk(FieldReader& r) {
  return r.Finish(Chunk{.lease_id = r.Uint("lease_id"),
                        .offset = r.Uint("offset"),
                        .data = r.Bin("data", kMaxChunkBytes)});
}

void EncodeFields(const UpgradeResult& m, FieldWriter& w) {
  w.Uint("lease_id", m.lease_id);
  w.Str("version", m.version);
  w.Enum("outcome", m.outcome);
  w.Str("detail", m.detail);
}
Result<UpgradeResult> DecodeUpgradeResult(FieldReader& r) {
  return r.Finish(UpgradeResult{.lease_id = r.Uint("lease_id"),
                                .version = r.Str("version"),
                                .outcome = r.Enum<UpgradeOutcome>("outcome"),
                                .detail = r.Str("detail")});
}

void EncodeFields(const UpgradeResultAck& m, FieldWriter& w) { w.Uint("lease_id", m.lease_id); }
Result<UpgradeResultAck> DecodeUpgradeResultAck(FieldReader& r) {
  return r.Finish(UpgradeResultAck{.lease_id = r.Uint("lease_id")});
}

void EncodeFields(const PairHello& m, FieldWriter& w) {
  w.Bin("nonce", m.nonce);
  w.Str("server_id", m.server_id);
}
Result<PairHello> DecodePairHello(FieldReader& r) {
  return r.Finish(
      PairHello{.nonce = r.Bin("nonce", kPairNonceBytes), .server_id = r.Str("server_id")});
}

void EncodeFields(const PairChallenge& m, FieldWriter& w) {
  w.Bin("nonce", m.nonce);
  w.Bin("proof", m.proof);
  w.Str("server_id", m.server_id);
}
Result<PairChallenge> DecodePairChallenge(FieldReader& r) {
  return r.Finish(PairChallenge{.nonce = r.Bin("nonce", kPairNonceBytes),
                                .proof = r.Bin("proof", kPairProofBytes),
                                .server_id = r.Str("server_id")});
}

void EncodeFields(const PairProof& m, FieldWriter& w) { w.Bin("proof", m.proof); }
Result<PairProof> DecodePairProof(FieldReader& r) {
  return r.Finish(PairProof{.proof = r.Bin("proof", kPairProofBytes)});
}

void EncodeFields(const PairRequest& m, FieldWriter& w) {
  w.Uint("id", m.id);
  w.Str("op", m.op);
  w.Bin("body", m.body);
}
Result<PairRequest> DecodePairRequest(FieldReader& r) {
  return r.Finish(
      PairRequest{.id = r.Uint("id"), .op = r.Str("op"), .body = r.Bin("body", kMaxPairBodyBytes)});
}

void EncodeFields(const PairReply& m, FieldWriter& w) {
  w.Uint("id", m.id);
  w.Str("error", m.error);
  w.Str("message", m.message);
  w.Bin("body", m.body);
}
Result<PairReply> DecodePairReply(FieldReader& r) {
  return r.Finish(PairReply{.id = r.Uint("id"),
                            .error = r.Str("error"),
                            .message = r.Str("message"),
                            .body = r.Bin("body", kMaxPairBodyBytes)});
}

void EncodeFields(const PairData& m, FieldWriter& w) {
  w.Uint("id", m.id);
  w.Uint("offset", m.offset);
  w.Bin("data", m.data);
}
Result<PairData> DecodePairData(FieldReader& r) {
  return r.Finish(PairData{
      .id = r.Uint("id"), .offset = r.Uint("offset"), .data = r.Bin("data", kMaxPairBodyBytes)});
}

// ---- The codec table: one line per message type -------------------------------------------------

struct Codec {
  std::string_view type;
  Result<Message> (*decode)(FieldReader&);
};

template <typename T, Result<T> (*kDecode)(FieldReader&)>
Result<Message> DecodeAs(FieldReader& r) {
  Result<T> m = kDecode(r);
  if (!m) return Fail(std::move(m.error()));
  return Message(std::move(*m));
}

template <typename T, Result<T> (*kDecode)(FieldReader&)>
constexpr Codec MakeCodec() {
  return Codec{T::kType, &DecodeAs<T, kDecode>};
}

constexpr Codec kCodecs[] = {
    MakeCodec<Enroll, DecodeEnroll>(),
    MakeCodec<Enrolled, DecodeEnrolled>(),
    MakeCodec<Checkin, DecodeCheckin>(),
    MakeCodec<CheckinOk, DecodeCheckinOk>(),
    MakeCodec<Heartbeat, DecodeHeartbeat>(),
    MakeCodec<HeartbeatAck, DecodeHeartbeatAck>(),
    MakeCodec<ErrorMessage, DecodeErrorMessage>(),
    MakeCodec<UpgradeGrant, DecodeUpgradeGrant>(),
    MakeCodec<UpgradeWait, DecodeUpgradeWait>(),
    MakeCodec<UpgradeRefused, DecodeUpgradeRefused>(),
    MakeCodec<Download, DecodeDownload>(),
    MakeCodec<Chunk, DecodeChunk>(),
    MakeCodec<UpgradeResult, DecodeUpgradeResult>(),
    MakeCodec<UpgradeResultAck, DecodeUpgradeResultAck>(),
    MakeCodec<PairHello, DecodePairHello>(),
    MakeCodec<PairChallenge, DecodePairChallenge>(),
    MakeCodec<PairProof, DecodePairProof>(),
    MakeCodec<PairRequest, DecodePairRequest>(),
    MakeCodec<PairReply, DecodePairReply>(),
    MakeCodec<PairData, DecodePairData>(),
};
static_assert(std::size(kCodecs) == std::variant_size_v<Message>,
              "every Message alternative needs a line in kCodecs");

// ---- Generic envelope -------------------------------------------------------------------------

void AppendPayload(const Message& m, Bytes* out) {
  std::visit(
      [out](const auto& msg) {
        FieldWriter w;
        w.Uint("v", kProtocolVersion);
        w.Str("t", std::decay_t<decltype(msg)>::kType);
        EncodeFields(msg, w);
        w.AppendMapTo(out);
      },
      m);
}

std::unexpected<DecodeFailure> Failure(ErrorCode code, Errc errc, std::string message) {
  return std::unexpected<DecodeFailure>(DecodeFailure{code, Error(errc, std::move(message))});
}

// Bounds what msgpack may allocate for a payload of `size` bytes: every element takes at least
// one byte, so a header announcing more elements than bytes is refused before any allocation.
msgpack::unpack_limit LimitsFor(size_t size) {
  constexpr size_t kMaxArray = 1 << 16, kMaxMap = 1 << 12, kMaxDepth = 16;
  return msgpack::unpack_limit(std::min(size, kMaxArray), std::min(size / 2, kMaxMap), size, size,
                               size, kMaxDepth);
}

// Strings and binaries point into the payload instead of being copied; the payload outlives
// the unpacked object within DecodeMessageForReply.
bool ReferenceAll(msgpack::type::object_type, size_t, void*) { return true; }

const msgpack::object* Lookup(const msgpack::object_map& map, std::string_view key) {
  for (uint32_t i = 0; i < map.size; ++i) {
    const msgpack::object_kv& kv = map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return kv.val.type == msgpack::type::NIL ? nullptr : &kv.val;
    }
  }
  return nullptr;
}

// Peer-controlled text made safe for error messages and logs: at most 64 bytes, printable ASCII.
std::string Printable(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out;
  for (char c : text.substr(0, kMax)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > kMax) out += "...";
  return out;
}

}  // namespace

Bytes EncodeMessage(const Message& m) {
  Bytes out;
  AppendPayload(m, &out);
  return out;
}

void AppendMessageFrame(const Message& m, Bytes* out) {
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes);
  AppendPayload(m, out);
  PutFrameLength(out->size() - start - kFrameHeaderBytes, out->data() + start);
}

std::expected<Message, DecodeFailure> DecodeMessageForReply(ByteView payload) {
  msgpack::object_handle handle;
  size_t offset = 0;
  try {
    handle = msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size(), offset,
                             &ReferenceAll, nullptr, LimitsFor(payload.size()));
  } catch (const std::exception& e) {
    return Failure(ErrorCode::kMalformedFrame, Errc::kProtocol,
                   std::string("malformed msgpack: ") + e.what());
  }
  if (offset != payload.size()) {
    return Failure(ErrorCode::kMalformedFrame, Errc::kProtocol,
                   "malformed msgpack: " + std::to_string(payload.size() - offset) +
                       " trailing bytes after the message");
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) {
    return Failure(ErrorCode::kMalformedFrame, Errc::kProtocol,
                   "malformed msgpack: payload is not a map");
  }
  const msgpack::object_map& map = root.via.map;

  const msgpack::object* v = Lookup(map, "v");
  if (v == nullptr || v->type != msgpack::type::POSITIVE_INTEGER) {
    return Failure(ErrorCode::kInvalidField, Errc::kProtocol,
                   "field 'v' (protocol version) must be uint");
  }
  if (v->via.u64 != kProtocolVersion) {
    return Failure(ErrorCode::kUnsupportedVersion, Errc::kUnsupportedVersion,
                   "protocol version " + std::to_string(v->via.u64) +
                       " not supported (this peer speaks " + std::to_string(kProtocolVersion) +
                       ")");
  }

  const msgpack::object* t = Lookup(map, "t");
  if (t == nullptr || t->type != msgpack::type::STR) {
    return Failure(ErrorCode::kUnknownType, Errc::kProtocol,
                   "unknown message type '' (field 't' must be str)");
  }
  const std::string_view type(t->via.str.ptr, t->via.str.size);
  const auto codec = std::find_if(std::begin(kCodecs), std::end(kCodecs),
                                  [type](const Codec& c) { return c.type == type; });
  if (codec == std::end(kCodecs)) {
    return Failure(ErrorCode::kUnknownType, Errc::kProtocol,
                   "unknown message type '" + Printable(type) + "'");
  }

  FieldReader reader(map, codec->type);
  Result<Message> message = codec->decode(reader);
  if (!message) {
    return std::unexpected<DecodeFailure>(
        DecodeFailure{ErrorCode::kInvalidField, std::move(message.error())});
  }
  return std::move(*message);
}

Result<Message> DecodeMessage(ByteView payload) {
  auto message = DecodeMessageForReply(payload);
  if (!message) return Fail(std::move(message.error().error));
  return std::move(*message);
}

std::string_view MessageType(const Message& m) {
  return std::visit([](const auto& msg) { return std::decay_t<decltype(msg)>::kType; }, m);
}

ErrorMessage MakeErrorMessage(ErrorCode code, std::string_view text) {
  if (text.size() > kMaxStringBytes) {
    size_t cut = kMaxStringBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  return ErrorMessage{.code = code, .message = std::string(text)};
}

}  // namespace sluice::proto
