#pragma once
// One connection between the two servers of a failover pair (ALPN sluice-pair/1, the site's
// TLS port; docs/protocol.md, "Pair protocol"), on the loop thread. Both sides first prove the
// pre-shared key (pair_auth.h); nothing else is read before that, and any other frame, a wrong
// key or a bad proof closes the connection. Afterwards either side may send requests: an
// operation name with a JSON object, answered by one reply, optionally preceded by data chunks
// (a fetch).
//
// The dialer owns its TLS connection; on the listening side the client port's session owns it
// and forwards its events here (server/net/client_session.h).

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/base/error.h"
#include "common/net/tls_connection.h"
#include "common/uv/file_reader.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"

namespace sluice::pair {

class PairChannel;

// Serves what the peer asks (pair_service.h). Answer each request once with Reply or SendFile,
// now or later; a channel that closed first ignores the answer.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnPairRequest(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                             const std::string& op, const nlohmann::json& body) = 0;
};

struct ChannelIdentity {
  std::string key;        // the pre-shared key
  std::string server_id;  // this server's (pair_state.h)
};

class PairChannel final : public net::ConnectionHandler,
                          public std::enable_shared_from_this<PairChannel> {
 public:
  using ReplyDone = std::function<void(Result<nlohmann::json>)>;
  // Each chunk of a fetch in order; an error stops the fetch (the channel closes).
  using DataSink = std::function<Status(uint64_t offset, ByteView data)>;

  // Connects to `address` (HOST:PORT) and authenticates. `ready` runs once: with the channel,
  // or with why not (kAuth: the peer holds another key; kIo/kTls/kTimeout: not reachable).
  static void Dial(uv::Loop& loop, const std::string& address, ChannelIdentity identity,
                   RequestHandler* handler,
                   std::function<void(Result<std::shared_ptr<PairChannel>>)> ready);

  // The listening side, for a connection that negotiated sluice-pair/1. `key` is nullopt when
  // this server has none set (the dialer is told so).
  static std::shared_ptr<PairChannel> Accept(uv::Loop& loop, net::TlsConnection& connection,
                                             std::optional<ChannelIdentity> identity,
                                             RequestHandler* handler);
  ~PairChannel() override;

  void Call(const std::string& op, const nlohmann::json& body, ReplyDone done);
  void Fetch(const std::string& op, const nlohmann::json& body, DataSink sink, ReplyDone done);
  void Reply(uint64_t id, const Result<nlohmann::json>& result);
  // Streams `path` from `offset` as the data of request `id`, then replies `body` (or the read
  // error). Paced by the connection's drain, read off the loop thread.
  void SendFile(uint64_t id, const std::string& path, uint64_t offset, nlohmann::json body);

  void Close();
  // Closes the channel and stops delivering requests (its service is going away).
  void Detach();
  bool authenticated() const { return authenticated_; }
  bool closed() const { return closed_; }
  const std::string& peer_server_id() const { return peer_server_id_; }
  const std::string& peer_address() const { return connection_->peer_address(); }
  // Called once the connection is over (after every pending call failed with kClosed).
  std::function<void()> on_closed;

  // net::ConnectionHandler (the listening side's session forwards these).
  void OnHandshake(net::TlsConnection& connection) override;
  void OnMessage(net::TlsConnection& connection, proto::Message message) override;
  void OnDrain(net::TlsConnection& connection) override;
  void OnClosed(net::TlsConnection& connection, std::optional<Error> why) override;

 private:
  struct Pending {
    ReplyDone done;
    DataSink sink;  // set for a fetch
  };
  struct Upload {
    uint64_t id = 0;
    uint64_t offset = 0;
    std::unique_ptr<uv::FileReader> reader;
    nlohmann::json body;
    bool reading = false;
  };

  PairChannel(uv::Loop& loop, std::optional<ChannelIdentity> identity, RequestHandler* handler,
              bool dialer);
  void Authenticated();
  void Refuse(const std::string& why);
  void OnChallenge(const proto::PairChallenge& challenge);
  void OnHello(const proto::PairHello& hello);
  void OnProof(const proto::PairProof& proof);
  void OnReply(const proto::PairReply& reply);
  void OnData(const proto::PairData& data);
  void PumpUpload();
  void FailAll(const Error& why);

  uv::Loop& loop_;
  std::optional<ChannelIdentity> identity_;
  RequestHandler* handler_;
  bool dialer_;
  std::unique_ptr<net::TlsConnection> owned_;  // the dialer's
  net::TlsConnection* connection_ = nullptr;
  std::function<void(Result<std::shared_ptr<PairChannel>>)> ready_;  // the dialer's
  Bytes dialer_nonce_;
  Bytes listener_nonce_;
  std::string peer_server_id_;
  bool authenticated_ = false;
  bool closed_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
  std::unique_ptr<Upload> upload_;  // one at a time: further ones wait in uploads_
  std::vector<std::unique_ptr<Upload>> uploads_;
  std::shared_ptr<PairChannel> self_;  // keeps an open channel alive until it closes
  uv::Lifetime lifetime_;
};

}  // namespace sluice::pair
