#include "tests/support/raw_tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/proto/frame_codec.h"

namespace sluice::testing {

std::unique_ptr<RawTlsClient> RawTlsClient::Connect(int port, bool handshake,
                                                   const std::string& alpn) {
  std::unique_ptr<RawTlsClient> client(new RawTlsClient());
  client->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(client->fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(client->fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (::connect(client->fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return nullptr;
  }
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  ::getsockname(client->fd_, reinterpret_cast<sockaddr*>(&local), &len);
  client->local_port_ = ntohs(local.sin_port);
  if (!handshake) return client;
  client->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client->ctx_, SSL_VERIFY_NONE, nullptr);
  if (!alpn.empty()) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire += alpn;
    SSL_CTX_set_alpn_protos(client->ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  client->ssl_ = SSL_new(client->ctx_);
  SSL_set_fd(client->ssl_, client->fd_);
  if (SSL_connect(client->ssl_) != 1) return nullptr;
  return client;
}

RawTlsClient::~RawTlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool RawTlsClient::WritePlain(std::string_view bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

bool RawTlsClient::Write(ByteView bytes) {
  if (ssl_ == nullptr) return false;
  return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
         static_cast<int>(bytes.size());
}

bool RawTlsClient::WriteFrame(ByteView payload) {
  Bytes frame;
  proto::AppendFrame(payload, &frame);
  return Write(frame);
}

bool RawTlsClient::WriteMessage(const proto::Message& message) {
  Bytes frame;
  proto::AppendMessageFrame(message, &frame);
  return Write(frame);
}

int RawTlsClient::ReadSome(uint8_t* out, int size, int timeout_ms) {
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return SSL_read(ssl_, out, size);
  pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
  if (::poll(&waiting, 1, timeout_ms) <= 0) return -1;
  if (ssl_ == nullptr) return static_cast<int>(::recv(fd_, out, size, 0));
  return SSL_read(ssl_, out, size);
}

std::optional<proto::Message> RawTlsClient::ReadMessage(int timeout_ms) {
  while (true) {
    auto frame = decoder_.Next();
    if (!frame) return std::nullopt;
    if (frame->has_value()) {
      auto message = proto::DecodeMessage(**frame);
      if (!message) return std::nullopt;
      return *message;
    }
    uint8_t chunk[16384];
    int n = ReadSome(chunk, sizeof(chunk), timeout_ms);
    if (n <= 0) return std::nullopt;
    decoder_.Append(ByteView(chunk, static_cast<size_t>(n)));
  }
}

std::optional<std::string> RawTlsClient::ReadBytes(int timeout_ms) {
  uint8_t chunk[16384];
  int n = ReadSome(chunk, sizeof(chunk), timeout_ms);
  if (n <= 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(chunk), static_cast<size_t>(n));
}

bool RawTlsClient::WaitClosed(int timeout_ms) {
  uint8_t chunk[16384];
  const int rounds = timeout_ms / 100;
  for (int i = 0; i < rounds; ++i) {
    pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&waiting, 1, 100) <= 0) continue;
    int n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof(chunk))
                            : static_cast<int>(::recv(fd_, chunk, sizeof(chunk), 0));
    if (n <= 0) return true;
  }
  return false;
}

void RawTlsClient::Abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace sluice::testing
