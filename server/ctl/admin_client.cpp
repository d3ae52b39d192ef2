#include "server/ctl/admin_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace sluice::ctl {
namespace {

std::string ErrnoText(int err) { return std::generic_category().message(err); }

}  // namespace

Result<AdminClient> AdminClient::Connect(const std::string& socket_path, int timeout_s) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return Fail(Errc::kInvalidArgument, "socket path " + socket_path + " is too long");
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  AdminClient client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (client.fd_ < 0) return Fail(Errc::kIo, "socket: " + ErrnoText(errno));
  if (timeout_s > 0) {
    timeval timeout{.tv_sec = timeout_s, .tv_usec = 0};
    ::setsockopt(client.fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(client.fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  }
  int rc;
  do {
    rc = ::connect(client.fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    std::string message = "connect " + socket_path + ": " + ErrnoText(err);
    if (err == ENOENT) return Fail(Errc::kNotFound, std::move(message));
    if (err == ECONNREFUSED) return Fail(Errc::kClosed, std::move(message));
    return Fail(Errc::kIo, std::move(message));
  }
  return client;
}

AdminClient::AdminClient(AdminClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), reader_(std::move(other.reader_)) {}

AdminClient& AdminClient::operator=(AdminClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    reader_ = std::move(other.reader_);
  }
  return *this;
}

AdminClient::~AdminClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<nlohmann::json> AdminClient::Call(std::string_view cmd, const nlohmann::json& args) {
  admin::Request request{.cmd = std::string(cmd), .args = args};
  if (auto sent = SendAll(admin::EncodeRequest(request)); !sent) return Fail(sent.error());
  auto line = ReadLine();
  if (!line) return Fail(line.error());
  return admin::ParseResponse(*line);
}

Status AdminClient::SendAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Fail(Errc::kTimeout, "sluiced did not accept the request in time");
      }
      if (errno == EPIPE || errno == ECONNRESET) {
        return Fail(Errc::kClosed, "sluiced closed the connection");
      }
      return Fail(Errc::kIo, "sending request: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> AdminClient::ReadLine() {
  for (;;) {
    auto line = reader_.Next();
    if (!line) return Fail(Errc::kProtocol, "response " + line.error().message());
    if (*line) return std::move(**line);
    char buffer[64 * 1024];
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Fail(Errc::kTimeout, "no response from sluiced in time");
      }
      if (errno == ECONNRESET) return Fail(Errc::kClosed, "sluiced closed the connection");
      return Fail(Errc::kIo, "reading response: " + ErrnoText(errno));
    }
    if (n == 0) return Fail(Errc::kClosed, "sluiced closed the connection before responding");
    reader_.Append(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

}  // namespace sluice::ctl
