#include "server/web/http_session.h"

#include "common/base/log.h"
#include "common/net/tls_connection.h"

namespace sluice::web {

void HttpResponder::Send(HttpResponse response) const {
  if (auto session = session_.lock()) session->Answer(request_, std::move(response));
}

bool HttpResponder::OpenEventStream() const {
  auto session = session_.lock();
  return session && session->OpenStream(request_);
}

bool HttpResponder::SendEvent(std::string_view event, std::string_view data) const {
  auto session = session_.lock();
  return session && session->SendEvent(request_, event, data);
}

size_t HttpResponder::pending_write_bytes() const {
  auto session = session_.lock();
  return session && session->connection_ ? session->connection_->pending_write_bytes() : 0;
}

void HttpResponder::Close() const {
  if (auto session = session_.lock()) session->Close(request_);
}

bool HttpResponder::alive() const {
  auto session = session_.lock();
  return session && session->connection_ != nullptr && !session->connection_->closing();
}

HttpSession::HttpSession(net::TlsConnection& connection, HttpHandler& handler,
                         HttpSessionOptions options)
    : connection_(&connection), handler_(handler), options_(options), parser_(options.limits) {}

void HttpSession::Start() {
  phase_ = Phase::kHandling;  // so that the next line arms the idle deadline
  EnterPhase(Phase::kIdle);
}

void HttpSession::OnBytes(ByteView bytes) {
  if (phase_ == Phase::kStreaming || phase_ == Phase::kClosed) return;  // nothing more is read
  // A client pipelining faster than it is answered waits in the kernel, not in our memory: past
  // one largest request of backlog it is cut off.
  const size_t most = options_.limits.max_target_bytes + options_.limits.max_header_bytes +
                      options_.limits.max_body_bytes + 4096;
  if (input_.size() - input_start_ + bytes.size() > most) {
    if (phase_ == Phase::kHandling) {
      // An answer now would read as the one to the request being handled: just hang up.
      phase_ = Phase::kClosed;
      connection_->Close();
      return;
    }
    Refuse({.status = 413, .message = "too many bytes sent ahead of the answers"});
    return;
  }
  input_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  Process();
}

void HttpSession::OnClosed() {
  phase_ = Phase::kClosed;
  connection_ = nullptr;
}

void HttpSession::Process() {
  if (processing_) return;  // an answer given synchronously: the loop below goes on
  processing_ = true;
  auto self = shared_from_this();  // a handler may close the connection under us
  while (phase_ != Phase::kHandling && phase_ != Phase::kStreaming && phase_ != Phase::kClosed) {
    std::string_view pending = std::string_view(input_).substr(input_start_);
    input_start_ += parser_.Feed(pending);
    if (auto request = parser_.TakeRequest()) {
      EnterPhase(Phase::kHandling);
      keep_alive_ = request->keep_alive;
      head_ = request->method == "HEAD";
      request->peer_address = connection_->peer_address();
      HttpResponder responder(weak_from_this(), ++request_, request->peer_address);
      handler_.Handle(std::move(*request), std::move(responder));
      continue;
    }
    if (const auto& error = parser_.error()) {
      Refuse(*error);
      break;
    }
    EnterPhase(parser_.headers_complete() ? Phase::kBody
               : parser_.mid_request()    ? Phase::kHeaders
                                          : Phase::kIdle);
    break;
  }
  if (input_start_ == input_.size()) {
    input_.clear();
    input_start_ = 0;
  } else if (input_start_ > 64 << 10) {
    input_.erase(0, input_start_);
    input_start_ = 0;
  }
  processing_ = false;
}

void HttpSession::EnterPhase(Phase phase) {
  if (phase == phase_) return;  // deadlines run per phase, not per byte
  phase_ = phase;
  if (connection_ == nullptr) return;
  switch (phase) {
    case Phase::kIdle:
      connection_->SetIdleDeadline(options_.idle_timeout_ms);
      break;
    case Phase::kHeaders:
      connection_->SetIdleDeadline(options_.header_timeout_ms);
      break;
    case Phase::kBody:
      connection_->SetIdleDeadline(options_.body_timeout_ms);
      break;
    case Phase::kHandling:
    case Phase::kStreaming:
    case Phase::kClosed:
      connection_->SetIdleDeadline(0);
      break;
  }
}

void HttpSession::Answer(uint64_t request, HttpResponse response) {
  if (request != request_ || phase_ != Phase::kHandling || connection_ == nullptr) return;
  std::string out = SerializeHead(response, response.body.size(), keep_alive_);
  if (!head_) out += response.body;
  connection_->SendBytes(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
  if (!keep_alive_) {
    phase_ = Phase::kClosed;
    connection_->Close();
    return;
  }
  EnterPhase(Phase::kIdle);
  Process();  // the next pipelined request, if one is buffered
}

bool HttpSession::OpenStream(uint64_t request) {
  if (request != request_ || phase_ != Phase::kHandling || connection_ == nullptr) return false;
  HttpResponse head{.status = 200, .content_type = "text/event-stream"};
  std::string out = SerializeHead(head, std::nullopt, false);
  connection_->SendBytes(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
  EnterPhase(Phase::kStreaming);
  return true;
}

void HttpSession::Close(uint64_t request) {
  if (request != request_ || connection_ == nullptr) return;
  phase_ = Phase::kClosed;
  connection_->Close();
}

bool HttpSession::SendEvent(uint64_t request, std::string_view event, std::string_view data) {
  if (request != request_ || phase_ != Phase::kStreaming || connection_ == nullptr) return false;
  std::string out;
  if (event.empty()) {
    out = ": keep-alive\n\n";  // a comment: keeps proxies and the browser from timing out
  } else {
    out = "event: " + std::string(event) + "\ndata: " + std::string(data) + "\n\n";
  }
  connection_->SendBytes(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
  return connection_ != nullptr && !connection_->closing();
}

void HttpSession::Refuse(const HttpParseError& error) {
  if (connection_ == nullptr) return;
  Log("web")->info("http request refused conn={} peer={} status={} reason=\"{}\"",
                   connection_->id(), connection_->peer_address(), error.status, error.message);
  HttpResponse response = HttpResponse::Error(error.status, "bad_request", error.message);
  std::string out = SerializeHead(response, response.body.size(), false) + response.body;
  connection_->SendBytes(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
  phase_ = Phase::kClosed;
  connection_->Close();
}

}  // namespace sluice::web
