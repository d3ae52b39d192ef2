#pragma once
// One dashboard connection: HTTP/1.1 over a TlsConnection switched to a byte stream (the site's
// port routes ALPN http/1.1 here). Requests are parsed and answered one at a time, in order
// (keep-alive and pipelining); each phase has its own deadline, so a client that trickles
// headers or a body (slowloris) or idles between requests is closed:
//
//   idle --first byte--> headers --complete--> body --complete--> handling --answer--> idle
//                                                                          --stream--> streaming
//
// A bad request gets its status (400, 413, 414, 431, 505) and the connection closes.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "server/web/http_message.h"
#include "server/web/http_request_parser.h"

namespace sluice::net {
class TlsConnection;
}

namespace sluice::web {

class HttpSession;

struct HttpSessionOptions {
  HttpLimits limits;
  uint64_t header_timeout_ms = 10'000;  // from a request's first byte to its last header
  uint64_t body_timeout_ms = 30'000;    // from the last header to the body's last byte
  uint64_t idle_timeout_ms = 60'000;    // between requests on a kept-alive connection
};

// Answers one request. Copyable; every call after the first answer, or after the connection
// closed, is ignored, so it may be kept by asynchronous work of any lifetime. Loop thread.
class HttpResponder {
 public:
  HttpResponder() = default;
  void Send(HttpResponse response) const;
  // Answers with an event stream (text/event-stream) that lasts until the client goes away or
  // the server closes it; then events go out with SendEvent. False if the connection is gone.
  bool OpenEventStream() const;
  // One server-sent event (`data` must hold no newline). False once the connection is gone:
  // stop sending.
  bool SendEvent(std::string_view event, std::string_view data) const;
  // Bytes queued on the connection and not yet written: a slow reader's backlog.
  size_t pending_write_bytes() const;
  // False once the connection is gone: nothing sent through this responder arrives any more.
  bool alive() const;
  // Closes the connection (an event stream the server ends: its reader fell behind, or its
  // session ended). No-op once it is gone.
  void Close() const;
  const std::string& peer_address() const { return peer_address_; }

 private:
  friend class HttpSession;
  HttpResponder(std::weak_ptr<HttpSession> session, uint64_t request, std::string peer_address)
      : session_(std::move(session)), request_(request), peer_address_(std::move(peer_address)) {}

  std::weak_ptr<HttpSession> session_;
  uint64_t request_ = 0;
  std::string peer_address_;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Answers `request` through `responder`, now or later.
  virtual void Handle(HttpRequest request, HttpResponder responder) = 0;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `connection` must have been switched to a byte stream; `handler` must outlive the session.
  HttpSession(net::TlsConnection& connection, HttpHandler& handler, HttpSessionOptions options);
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Arms the deadline for the first request. Call once, right after construction.
  void Start();
  void OnBytes(ByteView bytes);
  // The connection is gone: every responder goes quiet.
  void OnClosed();

 private:
  friend class HttpResponder;
  enum class Phase { kIdle, kHeaders, kBody, kHandling, kStreaming, kClosed };

  // Parses and dispatches buffered requests while none is being handled.
  void Process();
  void EnterPhase(Phase phase);
  void Answer(uint64_t request, HttpResponse response);
  bool OpenStream(uint64_t request);
  bool SendEvent(uint64_t request, std::string_view event, std::string_view data);
  void Close(uint64_t request);
  void Refuse(const HttpParseError& error);

  net::TlsConnection* connection_;  // null once closed
  HttpHandler& handler_;
  HttpSessionOptions options_;
  HttpRequestParser parser_;
  std::string input_;       // received, not yet parsed
  size_t input_start_ = 0;  // first unparsed byte of input_
  Phase phase_ = Phase::kIdle;
  uint64_t request_ = 0;  // the request being handled (responders name theirs)
  bool keep_alive_ = true;
  bool head_ = false;        // the request being handled is a HEAD: its answer has no body
  bool processing_ = false;  // Process is on the stack
};

}  // namespace sluice::web
