#include "common/net/tls_connection.h"

#include <atomic>


namespace sluice::net {
namespace {

std::atomic<uint64_t> next_connection_id{1};

}  // namespace

TlsConnection::TlsConnection(uv::Loop& loop, uv::HandlePtr<uv::Stream> stream,
                             std::unique_ptr<tls::TlsSession> tls, ConnectionOptions options,
                             ConnectionHandler* handler)
    : loop_(loop),
      stream_(std::move(stream)),
      tls_(std::move(tls)),
      options_(options),
      handler_(handler),
      decoder_(options.max_frame_bytes),
      deadline_(uv::Timer::Create(loop)),
      peer_address_(stream_->peer_address()),
      id_(next_connection_id.fetch_add(1, std::memory_order_relaxed)) {}

TlsConnection::~TlsConnection() = default;

void TlsConnection::Start() {
  stream_->Start({
      .on_data = [this](ByteView data) { OnData(data); },
      .on_end = [this](std::optional<Error> why) { OnEnd(std::move(why)); },
      .on_drain =
          [this] {
            if (state_ == State::kClosing) {
              FinishClose();
            } else if (state_ == State::kOpen) {
              handler_->OnDrain(*this);
            }
          },
  });
  ArmDeadline(options_.handshake_timeout_ms, Errc::kTimeout, "TLS handshake timed out");
  if (auto started = tls_->Start(); !started) {
    Fail(started.error());
    return;
  }
  FlushCiphertext();
}

namespace {

// Scratch buffers shared by every connection of the loop thread: each use is consumed before
// the call returns, and an idle connection must not keep 16 KiB of decrypted or encoded bytes
// (measured with `sluice-load idle`, docs/benchmarks.md).
Bytes& PlaintextScratch() {
  thread_local Bytes buffer;
  return buffer;
}

Bytes& FrameScratch() {
  thread_local Bytes buffer;
  return buffer;
}

}  // namespace

void TlsConnection::OnData(ByteView ciphertext) {
  if (state_ != State::kOpen) return;
  Bytes& plaintext = PlaintextScratch();
  plaintext.clear();
  auto received = tls_->Receive(ciphertext, &plaintext);
  FlushCiphertext();  // handshake records, or the alert that goes with a failure
  if (!received) {
    plaintext.clear();
    Fail(received.error());
    return;
  }
  if (!handshake_reported_ && tls_->handshake_complete()) {
    handshake_reported_ = true;
    ArmDeadline(idle_timeout_ms_, Errc::kTimeout, "peer idle too long");
    // The handler picks frames or a byte stream here, before the first bytes are routed. It
    // never reads from a connection, so the shared buffer still holds this one's bytes after.
    handler_->OnHandshake(*this);
  }
  if (byte_stream_) {
    if (!plaintext.empty() && state_ == State::kOpen) handler_->OnBytes(*this, plaintext);
    PlaintextScratch().clear();
  } else {
    // The decoder copies what it needs, so the shared buffer is free again before any handler
    // (which may send, or touch other connections) runs.
    if (!plaintext.empty()) decoder_.Append(plaintext);
    plaintext.clear();
    DeliverFrames();
  }
  if (state_ == State::kOpen && tls_->peer_closed()) BeginClose(std::nullopt);
}

void TlsConnection::DeliverFrames() {
  while (state_ == State::kOpen) {
    auto frame = decoder_.Next();
    if (!frame) {
      SendErrorAndClose(proto::FrameErrorCode(frame.error()), frame.error().message());
      return;
    }
    if (!frame->has_value()) return;
    auto message = proto::DecodeMessageForReply(**frame);
    if (!message) {
      SendErrorAndClose(message.error().code, message.error().error.message());
      return;
    }
    if (idle_timeout_ms_ != 0) {
      ArmDeadline(idle_timeout_ms_, Errc::kTimeout, "peer idle too long");
    }
    handler_->OnMessage(*this, std::move(*message));
  }
}

void TlsConnection::OnEnd(std::optional<Error> why) {
  if (state_ == State::kClosed) return;
  if (!why && !tls_->peer_closed() && state_ == State::kOpen) {
    why = Error(Errc::kClosed, tls_->handshake_complete()
                                   ? "peer closed the connection without close_notify"
                                   : "peer closed the connection during the TLS handshake");
  }
  if (why && decoder_.buffered_bytes() > 0) {
    *why = why->WithContext("truncated frame (" + std::to_string(decoder_.buffered_bytes()) +
                            " bytes buffered)");
  }
  if (!close_reason_) close_reason_ = std::move(why);
  FinishClose();
}

void TlsConnection::Send(const proto::Message& message) {
  if (state_ != State::kOpen) return;
  Bytes& frame = FrameScratch();
  frame.clear();
  proto::AppendMessageFrame(message, &frame);
  if (auto sent = tls_->Send(frame); !sent) {
    Fail(sent.error());
    return;
  }
  FlushCiphertext();
}

void TlsConnection::UseByteStream() { byte_stream_ = true; }

void TlsConnection::SendBytes(ByteView bytes) {
  if (state_ != State::kOpen) return;
  if (auto sent = tls_->Send(bytes); !sent) {
    Fail(sent.error());
    return;
  }
  FlushCiphertext();
}

void TlsConnection::SendErrorAndClose(proto::ErrorCode code, std::string message) {
  if (state_ != State::kOpen) return;
  Error why = code == proto::ErrorCode::kTimeout
                  ? Error(Errc::kTimeout, message)
                  : Error(Errc::kProtocol, "sent " + std::string(proto::ToString(code)) + ": " +
                                               message);
  Send(proto::MakeErrorMessage(code, message));
  BeginClose(std::move(why));
}

void TlsConnection::Close() { BeginClose(std::nullopt); }

void TlsConnection::SetIdleDeadline(uint64_t timeout_ms) {
  idle_timeout_ms_ = timeout_ms;
  if (tls_->handshake_complete()) ArmDeadline(timeout_ms, Errc::kTimeout, "peer idle too long");
}

size_t TlsConnection::pending_write_bytes() const { return stream_->pending_write_bytes(); }

void TlsConnection::FlushCiphertext() {
  if (!tls_->HasCiphertext()) return;
  Bytes out = tls_->TakeCiphertext();
  stream_->Write(out);
}

void TlsConnection::Fail(Error why) {
  // Any alert the engine queued has been flushed by the caller; close without close_notify.
  if (state_ == State::kClosed) return;
  if (!close_reason_) close_reason_ = std::move(why);
  state_ = State::kClosing;
  if (stream_->pending_write_bytes() == 0) {
    FinishClose();
  } else {
    stream_->StopReading();
    ArmDeadline(options_.close_linger_ms, Errc::kTimeout, "close linger expired");
  }
}

void TlsConnection::BeginClose(std::optional<Error> why) {
  if (state_ != State::kOpen) return;
  if (!close_reason_) close_reason_ = std::move(why);
  state_ = State::kClosing;
  tls_->Close();
  FlushCiphertext();
  stream_->StopReading();
  if (stream_->pending_write_bytes() == 0) {
    FinishClose();
    return;
  }
  ArmDeadline(options_.close_linger_ms, Errc::kTimeout, "close linger expired");
}

void TlsConnection::FinishClose() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  deadline_.reset();
  stream_.reset();
  handler_->OnClosed(*this, std::move(close_reason_));
}

void TlsConnection::ArmDeadline(uint64_t timeout_ms, Errc code, std::string what) {
  if (!deadline_) return;
  if (timeout_ms == 0) {
    deadline_->Stop();
    return;
  }
  deadline_->Start(timeout_ms, 0, [this, code, what = std::move(what)] {
    if (state_ == State::kOpen) {
      if (byte_stream_) {
        BeginClose(Error(code, what));
        return;
      }
      if (code == Errc::kTimeout && tls_->handshake_complete()) {
        SendErrorAndClose(proto::ErrorCode::kTimeout, what);
        return;
      }
      Fail(Error(code, what));
    } else {
      FinishClose();
    }
  });
}

}  // namespace sluice::net
