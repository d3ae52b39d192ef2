#include "common/net/dial.h"

#include <cstring>
#include <memory>

namespace sluice::net {
namespace {

void ConnectTo(uv::Loop& loop, const sockaddr_storage& address,
               const std::optional<sockaddr_storage>& local, const std::string& label,
               DialCallback done) {
  auto stream = uv::Stream::NewTcp(loop);
  uv::Stream* raw = stream.get();
  // The stream travels with the callback so it stays owned while the connect is pending.
  auto pending = std::make_shared<uv::HandlePtr<uv::Stream>>(std::move(stream));
  raw->Connect(address, local, [pending, label, done = std::move(done)](Status connected) {
    if (!connected) {
      done(Context(connected.error(), "connecting to " + label));
      return;
    }
    done(std::move(*pending));
  });
}

struct Resolution {
  uv_getaddrinfo_t request;
  uv::Loop* loop;
  std::optional<sockaddr_storage> local;
  std::string label;
  DialCallback done;
};

void OnResolved(uv_getaddrinfo_t* request, int status, addrinfo* result) {
  std::unique_ptr<Resolution> resolution(static_cast<Resolution*>(request->data));
  if (status != 0 || result == nullptr) {
    if (result != nullptr) uv_freeaddrinfo(result);
    resolution->done(Fail(Errc::kIo, "cannot resolve " + resolution->label + ": " +
                                         uv_strerror(status)));
    return;
  }
  sockaddr_storage address{};
  std::memcpy(&address, result->ai_addr, result->ai_addrlen);
  uv_freeaddrinfo(result);
  ConnectTo(*resolution->loop, address, resolution->local, resolution->label,
            std::move(resolution->done));
}

}  // namespace

void DialTcp(uv::Loop& loop, const std::string& host, int port,
             const std::optional<sockaddr_storage>& local, DialCallback done) {
  const std::string label = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                            ":" + std::to_string(port);
  if (auto literal = uv::ParseAddress(host, port)) {
    ConnectTo(loop, *literal, local, label, std::move(done));
    return;
  }
  auto resolution = std::make_unique<Resolution>();
  resolution->loop = &loop;
  resolution->local = local;
  resolution->label = label;
  resolution->done = std::move(done);
  resolution->request.data = resolution.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  int rc = uv_getaddrinfo(loop.native(), &resolution->request, &OnResolved, host.c_str(),
                          service.c_str(), &hints);
  if (rc != 0) {
    resolution->done(Fail(Errc::kIo, "cannot resolve " + label + ": " + uv_strerror(rc)));
    return;
  }
  resolution.release();  // owned by OnResolved now
}

}  // namespace sluice::net
