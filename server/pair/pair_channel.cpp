#include "server/pair/pair_channel.h"

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "common/base/json_depth.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "common/net/dial.h"
#include "common/tls/tls_context.h"
#include "server/admin/admin_protocol.h"
#include "server/pair/pair_auth.h"

namespace sluice::pair {
namespace {

using json = nlohmann::json;

constexpr uint64_t kAuthTimeoutMs = 10'000;
constexpr size_t kChunkBytes = proto::kMaxPairBodyBytes;
constexpr size_t kMaxQueuedBytes = 1 << 20;
constexpr int64_t kRefusalLogEveryMs = 60'000;

Bytes ToBody(const json& body) {
  const std::string text = body.dump();
  return Bytes(text.begin(), text.end());
}

// Refused pair connections are logged once a minute per peer host with how many there were,
// so a scan or a misconfigured peer cannot flood the log.
void LogRefusal(const std::string& peer, const std::string& why) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::pair<int64_t, uint64_t>> seen;  // host -> (at, n)
  const std::string host = peer.substr(0, peer.rfind(':'));
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  std::lock_guard lock(mutex);
  auto& [at, suppressed] = seen[host];
  if (at != 0 && now - at < kRefusalLogEveryMs) {
    ++suppressed;
    return;
  }
  Log("pair")->warn("pair connection refused peer={} reason=\"{}\"{}", peer, why,
                    suppressed > 0 ? " (" + std::to_string(suppressed) +
                                         " more from this host "
                                         "since the last report)"
                                   : std::string());
  at = now;
  suppressed = 0;
}

}  // namespace

PairChannel::PairChannel(uv::Loop& loop, std::optional<ChannelIdentity> identity,
                         RequestHandler* handler, bool dialer)
    : loop_(loop), identity_(std::move(identity)), handler_(handler), dialer_(dialer) {}

PairChannel::~PairChannel() = default;

void PairChannel::Dial(uv::Loop& loop, const std::string& address, ChannelIdentity identity,
                       RequestHandler* handler,
                       std::function<void(Result<std::shared_ptr<PairChannel>>)> ready) {
  auto host_port = uv::SplitHostPort(address);
  if (!host_port) {
    ready(Context(host_port.error(), "peer address " + address));
    return;
  }
  std::shared_ptr<PairChannel> channel(new PairChannel(loop, std::move(identity), handler, true));
  channel->ready_ = std::move(ready);
  net::DialTcp(loop, host_port->first, host_port->second, std::nullopt,
               [channel, address](Result<uv::HandlePtr<uv::Stream>> stream) {
                 auto fail = [&channel](Error why) {
                   if (auto ready = std::exchange(channel->ready_, nullptr))
                     ready(Fail(std::move(why)));
                 };
                 if (!stream) return fail(stream.error());
                 auto context = tls::TlsContext::CreateClient(
                     {.pin = "", .alpn = {tls::kPairAlpn}, .verify_pin = false});
                 if (!context) return fail(context.error());
                 auto session = tls::TlsSession::Create(*context);
                 if (!session) return fail(session.error());
                 (void)(*stream)->SetNoDelay(true);
                 channel->owned_ = std::make_unique<net::TlsConnection>(
                     channel->loop_, std::move(*stream), std::move(*session),
                     net::ConnectionOptions{.handshake_timeout_ms = kAuthTimeoutMs}, channel.get());
                 channel->connection_ = channel->owned_.get();
                 channel->self_ = channel;
                 channel->owned_->Start();
               });
}

std::shared_ptr<PairChannel> PairChannel::Accept(uv::Loop& loop, net::TlsConnection& connection,
                                                 std::optional<ChannelIdentity> identity,
                                                 RequestHandler* handler) {
  std::shared_ptr<PairChannel> channel(new PairChannel(loop, std::move(identity), handler, false));
  channel->connection_ = &connection;
  channel->self_ = channel;
  connection.SetIdleDeadline(kAuthTimeoutMs);
  return channel;
}

void PairChannel::OnHandshake(net::TlsConnection& connection) {
  if (!dialer_) return;
  if (connection.tls().alpn() != tls::kPairAlpn) {
    FailAll(Error(Errc::kProtocol, "the peer does not speak " + std::string(tls::kPairAlpn) +
                                       " (is it a Sluice server?)"));
    connection.Close();
    return;
  }
  dialer_nonce_ = crypto::RandomBytes(proto::kPairNonceBytes);
  connection.SetIdleDeadline(kAuthTimeoutMs);
  connection.Send(proto::PairHello{.nonce = dialer_nonce_, .server_id = identity_->server_id});
}

void PairChannel::OnMessage(net::TlsConnection&, proto::Message message) {
  if (auto* error = std::get_if<proto::ErrorMessage>(&message)) {
    // Never answered (two peers must not trade errors): the calls fail with it.
    FailAll(Error(proto::ErrcFor(error->code),
                  "the peer at " + connection_->peer_address() + " refused: " + error->message));
    connection_->Close();
    return;
  }
  if (auto* reply = std::get_if<proto::PairReply>(&message); reply && (authenticated_ || dialer_)) {
    OnReply(*reply);
  } else if (!authenticated_) {
    if (auto* hello = std::get_if<proto::PairHello>(&message);
        hello && !dialer_ && dialer_nonce_.empty()) {
      OnHello(*hello);
    } else if (auto* challenge = std::get_if<proto::PairChallenge>(&message);
               challenge && dialer_ && listener_nonce_.empty()) {
      OnChallenge(*challenge);
    } else if (auto* proof = std::get_if<proto::PairProof>(&message);
               proof && !dialer_ && !listener_nonce_.empty()) {
      OnProof(*proof);
    } else {
      Refuse("'" + std::string(proto::MessageType(message)) + "' before the key was proved");
    }
  } else if (auto* request = std::get_if<proto::PairRequest>(&message)) {
    if (JsonNestedDeeperThan(AsChars(request->body))) {
      Reply(request->id, Fail(Errc::kProtocol, "the request body nests JSON too deeply"));
      return;
    }
    json body;
    try {
      body = json::parse(AsChars(request->body));
    } catch (const json::exception&) {
      Reply(request->id, Fail(Errc::kProtocol, "the request body is not JSON"));
      return;
    }
    if (handler_ != nullptr) {
      handler_->OnPairRequest(shared_from_this(), request->id, request->op, body);
    }
  } else if (auto* data = std::get_if<proto::PairData>(&message)) {
    OnData(*data);
  } else {
    connection_->SendErrorAndClose(
        proto::ErrorCode::kUnexpectedMessage,
        "'" + std::string(proto::MessageType(message)) + "' is not part of the pair protocol");
  }
}

void PairChannel::Refuse(const std::string& why) {
  LogRefusal(connection_->peer_address(), why);
  connection_->SendErrorAndClose(proto::ErrorCode::kAuthFailed, why);
}

void PairChannel::OnHello(const proto::PairHello& hello) {
  if (!identity_) {
    Refuse("no pair key is set on this server (sluicectl pair set-key)");
    return;
  }
  if (hello.nonce.size() != proto::kPairNonceBytes) {
    Refuse("a pair_hello nonce must be " + std::to_string(proto::kPairNonceBytes) + " bytes");
    return;
  }
  dialer_nonce_ = hello.nonce;
  peer_server_id_ = hello.server_id;
  listener_nonce_ = crypto::RandomBytes(proto::kPairNonceBytes);
  auto proof = MakeProof(identity_->key, Side::kListener, dialer_nonce_, listener_nonce_,
                         connection_->tls());
  if (!proof) {
    Refuse(proof.error().message());
    return;
  }
  connection_->Send(proto::PairChallenge{
      .nonce = listener_nonce_, .proof = std::move(*proof), .server_id = identity_->server_id});
}

void PairChannel::OnChallenge(const proto::PairChallenge& challenge) {
  listener_nonce_ = challenge.nonce;
  if (challenge.nonce.size() != proto::kPairNonceBytes ||
      !CheckProof(identity_->key, Side::kListener, dialer_nonce_, listener_nonce_,
                  connection_->tls(), challenge.proof)) {
    FailAll(Error(Errc::kAuth, "the peer at " + connection_->peer_address() +
                                   " does not hold the same pair key"));
    connection_->Close();
    return;
  }
  peer_server_id_ = challenge.server_id;
  auto proof =
      MakeProof(identity_->key, Side::kDialer, dialer_nonce_, listener_nonce_, connection_->tls());
  if (!proof) {
    FailAll(proof.error());
    connection_->Close();
    return;
  }
  connection_->Send(proto::PairProof{.proof = std::move(*proof)});
  // The listener's pair_reply with id 0 says whether it accepted this side's proof.
  pending_[0] = Pending{.done =
                            [this](Result<json> accepted) {
                              if (!accepted) {
                                FailAll(accepted.error());
                                connection_->Close();
                                return;
                              }
                              Authenticated();
                            },
                        .sink = nullptr};
}

void PairChannel::OnProof(const proto::PairProof& proof) {
  if (!CheckProof(identity_->key, Side::kDialer, dialer_nonce_, listener_nonce_, connection_->tls(),
                  proof.proof)) {
    LogRefusal(connection_->peer_address(), "wrong pair key");
    connection_->Send(proto::PairReply{
        .id = 0, .error = "auth", .message = "this server holds another pair key", .body = {}});
    connection_->Close();
    return;
  }
  connection_->Send(
      proto::PairReply{.id = 0, .error = "", .message = "", .body = ToBody(json::object())});
  Authenticated();
}

void PairChannel::Authenticated() {
  authenticated_ = true;
  connection_->SetIdleDeadline(0);
  Log("pair")->debug("pair connection authenticated peer={} peer_server={}",
                     connection_->peer_address(), peer_server_id_);
  if (auto ready = std::exchange(ready_, nullptr)) ready(shared_from_this());
}

void PairChannel::Call(const std::string& op, const json& body, ReplyDone done) {
  Fetch(op, body, nullptr, std::move(done));
}

void PairChannel::Fetch(const std::string& op, const json& body, DataSink sink, ReplyDone done) {
  if (closed_ || !authenticated_) {
    done(Fail(Errc::kClosed, "the pair connection is closed"));
    return;
  }
  const uint64_t id = next_id_++;
  pending_[id] = Pending{.done = std::move(done), .sink = std::move(sink)};
  connection_->Send(proto::PairRequest{.id = id, .op = op, .body = ToBody(body)});
}

void PairChannel::Reply(uint64_t id, const Result<json>& result) {
  if (closed_) return;
  if (result) {
    connection_->Send(
        proto::PairReply{.id = id, .error = "", .message = "", .body = ToBody(*result)});
  } else {
    connection_->Send(
        proto::PairReply{.id = id,
                         .error = std::string(ErrcName(result.error().code())),
                         .message = result.error().message().substr(0, proto::kMaxStringBytes),
                         .body = ToBody(json::object())});
  }
}

void PairChannel::OnReply(const proto::PairReply& reply) {
  auto it = pending_.find(reply.id);
  if (it == pending_.end()) {
    connection_->SendErrorAndClose(proto::ErrorCode::kUnexpectedMessage,
                                   "a pair_reply to no request (" + std::to_string(reply.id) + ")");
    return;
  }
  ReplyDone done = std::move(it->second.done);
  pending_.erase(it);
  if (!reply.error.empty()) {
    done(Fail(admin::ErrcFromName(reply.error).value_or(Errc::kInternal), reply.message));
    return;
  }
  try {
    done(json::parse(AsChars(reply.body)));
  } catch (const json::exception&) {
    done(Fail(Errc::kProtocol, "the reply body is not JSON"));
  }
}

void PairChannel::OnData(const proto::PairData& data) {
  auto it = pending_.find(data.id);
  if (it == pending_.end() || !it->second.sink) {
    connection_->SendErrorAndClose(proto::ErrorCode::kUnexpectedMessage,
                                   "pair_data for no fetch (" + std::to_string(data.id) + ")");
    return;
  }
  if (auto taken = it->second.sink(data.offset, data.data); !taken) {
    ReplyDone done = std::move(it->second.done);
    pending_.erase(it);
    done(Fail(taken.error()));
    Close();
  }
}

void PairChannel::SendFile(uint64_t id, const std::string& path, uint64_t offset, json body) {
  auto upload = std::make_unique<Upload>();
  upload->id = id;
  upload->offset = offset;
  upload->body = std::move(body);
  Upload* raw = upload.get();
  uploads_.push_back(std::move(upload));
  uv::FileReader::Open(
      loop_, path,
      [this, alive = lifetime_.Token(), raw, path](Result<std::unique_ptr<uv::FileReader>> reader) {
        if (alive.expired() || closed_) return;
        if (!reader) {
          const uint64_t failed = raw->id;
          std::erase_if(uploads_, [raw](const auto& u) { return u.get() == raw; });
          Reply(failed, Fail(reader.error()));
          return;
        }
        raw->reader = std::move(*reader);
        PumpUpload();
      });
}

void PairChannel::PumpUpload() {
  if (closed_) return;
  if (!upload_) {
    auto next = std::find_if(uploads_.begin(), uploads_.end(),
                             [](const auto& u) { return u->reader != nullptr; });
    if (next == uploads_.end()) return;
    upload_ = std::move(*next);
    uploads_.erase(next);
  }
  if (upload_->reading || connection_->pending_write_bytes() >= kMaxQueuedBytes) return;
  upload_->reading = true;
  upload_->reader->Read(
      upload_->offset, kChunkBytes, [this, alive = lifetime_.Token()](Result<Bytes> chunk) {
        if (alive.expired() || closed_ || !upload_) return;
        upload_->reading = false;
        if (!chunk || chunk->empty()) {
          const uint64_t id = upload_->id;
          json body = std::move(upload_->body);
          upload_.reset();
          if (!chunk) {
            Reply(id, Fail(chunk.error()));
          } else {
            Reply(id, body);
          }
          PumpUpload();
          return;
        }
        const uint64_t offset = upload_->offset;
        upload_->offset += chunk->size();
        connection_->Send(
            proto::PairData{.id = upload_->id, .offset = offset, .data = std::move(*chunk)});
        PumpUpload();
      });
}

void PairChannel::OnDrain(net::TlsConnection&) { PumpUpload(); }

void PairChannel::Detach() {
  handler_ = nullptr;
  on_closed = nullptr;
  ready_ = nullptr;
  pending_.clear();
  Close();
}

void PairChannel::Close() {
  if (connection_ != nullptr && !closed_) connection_->Close();
}

void PairChannel::FailAll(const Error& why) {
  if (auto ready = std::exchange(ready_, nullptr)) ready(Fail(why));
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, call] : pending) {
    if (call.done) call.done(Fail(why));
  }
}

void PairChannel::OnClosed(net::TlsConnection&, std::optional<Error> why) {
  closed_ = true;
  FailAll(why ? Error(why->code() == Errc::kClosed ? Errc::kClosed : why->code(),
                      "the pair connection to " + connection_->peer_address() +
                          " ended: " + why->message())
              : Error(Errc::kClosed,
                      "the pair connection to " + connection_->peer_address() + " ended"));
  upload_.reset();
  uploads_.clear();
  if (on_closed) std::exchange(on_closed, nullptr)();
  // The connection is still running this call: let go of it (and of this) afterwards.
  loop_.Defer([self = std::move(self_)]() mutable { self.reset(); });
}

}  // namespace sluice::pair
