#include "common/uv/listener.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/base/log.h"

namespace sluice::uv {

Listener::Listener(Loop& loop, bool pipe, OnAccept on_accept)
    : loop_(loop), is_pipe_(pipe), on_accept_(std::move(on_accept)) {
  if (pipe) {
    uv_pipe_init(loop.native(), &socket_.pipe, 0);
  } else {
    uv_tcp_init(loop.native(), &socket_.tcp);
  }
  raw()->data = this;
}

Result<HandlePtr<Listener>> Listener::ListenTcp(Loop& loop, const std::string& host, int port,
                                                int backlog, OnAccept on_accept) {
  auto address = ParseAddress(host, port);
  if (!address) return Fail(address.error());
  HandlePtr<Listener> listener(new Listener(loop, false, std::move(on_accept)));
  const std::string where = FormatAddress(*address);
  int rc = uv_tcp_bind(&listener->socket_.tcp, reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener->socket_.tcp), backlog,
                   &Listener::OnConnection);
  }
  if (rc != 0) {
    std::string hint;
    if (rc == UV_EACCES) hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    if (rc == UV_EADDRINUSE) hint = " (another process is listening there)";
    return Fail(Errc::kIo, "cannot listen on " + where + ": " + uv_strerror(rc) + hint);
  }
  return listener;
}

Result<HandlePtr<Listener>> Listener::ListenPipe(Loop& loop, const std::string& path, int mode,
                                                 OnAccept on_accept) {
  // libuv 1.44 silently truncates a path longer than sun_path and binds the truncated one.
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Fail(Errc::kInvalidArgument,
                "cannot listen on " + path + ": path longer than " +
                    std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
  }
  // Only a stale socket is replaced: any other file at `path` makes the bind fail instead.
  if (struct stat st {}; ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());
  }
  HandlePtr<Listener> listener(new Listener(loop, true, std::move(on_accept)));
  int rc = uv_pipe_bind(&listener->socket_.pipe, path.c_str());
  if (rc == 0 && ::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) rc = -errno;
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener->socket_.pipe), 64,
                   &Listener::OnConnection);
  }
  if (rc != 0) {
    return Fail(Errc::kIo, "cannot listen on " + path + ": " + uv_strerror(rc));
  }
  return listener;
}

std::string Listener::LocalAddress() const {
  if (is_pipe_) return "unix";
  sockaddr_storage address{};
  int len = sizeof(address);
  uv_tcp_getsockname(&socket_.tcp, reinterpret_cast<sockaddr*>(&address), &len);
  return FormatAddress(address);
}

int Listener::LocalPort() const {
  sockaddr_storage address{};
  int len = sizeof(address);
  uv_tcp_getsockname(&socket_.tcp, reinterpret_cast<sockaddr*>(&address), &len);
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

void Listener::OnConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (self->closing()) return;
  if (status != 0) {
    Log("net")->warn("accept failed: {}", uv_strerror(status));
    return;
  }
  if (self->paused_) {
    ++self->backlog_waiting_;
    return;
  }
  self->AcceptOne();
}

void Listener::AcceptOne() {
  HandlePtr<Stream> stream(new Stream(loop_, is_pipe_));
  if (int rc = uv_accept(reinterpret_cast<uv_stream_t*>(raw()), stream->native()); rc != 0) {
    Log("net")->warn("accept failed: {}", uv_strerror(rc));
    return;
  }
  stream->RememberPeer();
  on_accept_(std::move(stream));
}

void Listener::Pause() { paused_ = true; }

void Listener::Resume() {
  paused_ = false;
  // libuv signals each pending connection once; accept those that arrived while paused.
  while (backlog_waiting_ > 0 && !paused_ && !closing()) {
    --backlog_waiting_;
    AcceptOne();
  }
}

}  // namespace sluice::uv
