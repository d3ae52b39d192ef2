#include "common/uv/stream.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace sluice::uv {
namespace {

Error UvError(int status, std::string_view what) {
  return Error(status == UV_EOF ? Errc::kClosed : Errc::kIo,
               std::string(what) + ": " + uv_strerror(status));
}

}  // namespace

HandlePtr<Stream> Stream::NewTcp(Loop& loop) { return HandlePtr<Stream>(new Stream(loop, false)); }
HandlePtr<Stream> Stream::NewPipe(Loop& loop) { return HandlePtr<Stream>(new Stream(loop, true)); }

Stream::Stream(Loop& loop, bool pipe) : is_pipe_(pipe) {
  if (pipe) {
    uv_pipe_init(loop.native(), &socket_.pipe, 0);
  } else {
    uv_tcp_init(loop.native(), &socket_.tcp);
  }
  raw()->data = this;
}

void Stream::Connect(const sockaddr_storage& address, const std::optional<sockaddr_storage>& local,
                     std::function<void(Status)> done) {
  connect_done_ = std::move(done);
  connect_req_.data = this;
  int rc = 0;
  if (local) rc = uv_tcp_bind(&socket_.tcp, reinterpret_cast<const sockaddr*>(&*local), 0);
  if (rc == 0) {
    rc = uv_tcp_connect(&connect_req_, &socket_.tcp, reinterpret_cast<const sockaddr*>(&address),
                        &Stream::OnConnect);
  }
  if (rc != 0) {
    connect_done_(Fail(UvError(rc, "connect to " + FormatAddress(address))));
  }
}

void Stream::ConnectPipe(const std::string& path, std::function<void(Status)> done) {
  connect_done_ = std::move(done);
  connect_req_.data = this;
  uv_pipe_connect(&connect_req_, &socket_.pipe, path.c_str(), &Stream::OnConnect);
}

void Stream::OnConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  if (self->closing()) return;
  auto done = std::move(self->connect_done_);
  if (status != 0) {
    done(Fail(UvError(status, "connect")));
    return;
  }
  self->RememberPeer();
  done({});
}

void Stream::RememberPeer() {
  if (is_pipe_) {
    peer_address_ = "unix";
    return;
  }
  sockaddr_storage address{};
  int len = sizeof(address);
  if (uv_tcp_getpeername(&socket_.tcp, reinterpret_cast<sockaddr*>(&address), &len) == 0) {
    peer_address_ = FormatAddress(address);
  }
}

void Stream::Start(Events events) {
  events_ = std::move(events);
  if (peer_address_.empty()) RememberPeer();
  ResumeReading();
}

void Stream::StopReading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(native());
}

void Stream::ResumeReading() {
  if (reading_ || ended_ || closing()) return;
  reading_ = true;
  if (int rc = uv_read_start(native(), &Stream::OnAlloc, &Stream::OnRead); rc != 0) {
    End(UvError(rc, "read"));
  }
}

void Stream::OnAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  // Data is consumed synchronously in OnRead, so one buffer serves every stream of a thread.
  thread_local std::array<char, 64 * 1024> buffer;
  *buf = uv_buf_init(buffer.data(), buffer.size());
}

void Stream::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(stream->data);
  if (self->closing()) return;
  if (nread > 0) {
    if (self->events_.on_data) {
      self->events_.on_data(ByteView(reinterpret_cast<const uint8_t*>(buf->base), nread));
    }
  } else if (nread == UV_EOF) {
    self->End(std::nullopt);
  } else if (nread < 0) {
    self->End(UvError(static_cast<int>(nread), "read"));
  }
}

void Stream::Write(ByteView data) {
  if (ended_ || closing() || data.empty()) return;
  queued_.insert(queued_.end(), data.begin(), data.end());
  if (in_flight_.empty()) FlushQueued();
}

void Stream::FlushQueued() {
  if (queued_.empty()) return;
  in_flight_.swap(queued_);
  queued_.clear();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(in_flight_.data()), in_flight_.size());
  write_req_.data = this;
  if (int rc = uv_write(&write_req_, native(), &buf, 1, &Stream::OnWrite); rc != 0) {
    in_flight_.clear();
    End(UvError(rc, "write"));
  }
}

void Stream::OnWrite(uv_write_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  self->in_flight_.clear();
  if (self->closing()) return;
  if (status != 0) {
    self->queued_.clear();
    self->End(UvError(status, "write"));
    return;
  }
  self->FlushQueued();
  if (self->in_flight_.empty()) {
    if (self->shutdown_requested_) {
      self->shutdown_requested_ = false;
      self->shutdown_req_.data = self;
      uv_shutdown(&self->shutdown_req_, self->native(), &Stream::OnShutdown);
    }
    if (self->events_.on_drain) self->events_.on_drain();
  }
}

void Stream::ShutdownAfterWrites() {
  if (closing() || ended_) return;
  if (!in_flight_.empty()) {
    shutdown_requested_ = true;
    return;
  }
  shutdown_req_.data = this;
  uv_shutdown(&shutdown_req_, native(), &Stream::OnShutdown);
}

void Stream::OnShutdown(uv_shutdown_t*, int) {}

void Stream::End(std::optional<Error> why) {
  if (ended_) return;
  ended_ = true;
  StopReading();
  if (events_.on_end) events_.on_end(std::move(why));
}

Status Stream::SetNoDelay(bool enable) {
  if (is_pipe_) return {};
  if (int rc = uv_tcp_nodelay(&socket_.tcp, enable ? 1 : 0); rc != 0) {
    return Fail(UvError(rc, "nodelay"));
  }
  return {};
}

std::string FormatAddress(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    uv_ip4_name(v4, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(v6, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "";
}

Result<sockaddr_storage> ParseAddress(const std::string& host, int port) {
  sockaddr_storage address{};
  if (port < 0 || port > 65535) {
    return Fail(Errc::kInvalidArgument, "port " + std::to_string(port) + " is out of range");
  }
  const std::string ip = host == "localhost" ? "127.0.0.1" : host;
  if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&address)) == 0) return address;
  if (uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address)) == 0) return address;
  return Fail(Errc::kInvalidArgument, "'" + host + "' is not an IP address");
}

Result<std::pair<std::string, int>> SplitHostPort(const std::string& text) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Fail(Errc::kInvalidArgument, "expected [IPV6]:PORT, got '" + text + "'");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      return Fail(Errc::kInvalidArgument, "expected HOST:PORT, got '" + text + "'");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    // "::1:80" is ambiguous (it is also a valid IPv6 address): IPv6 needs brackets.
    if (host.find(':') != std::string::npos) {
      return Fail(Errc::kInvalidArgument, "an IPv6 address needs brackets: [IPV6]:PORT, got '" +
                                              text + "'");
    }
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 ||
      port > 65535 || host.empty()) {
    return Fail(Errc::kInvalidArgument, "bad port in '" + text + "'");
  }
  return std::pair{host, port};
}

}  // namespace sluice::uv
