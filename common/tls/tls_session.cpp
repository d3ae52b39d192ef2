#include "common/tls/tls_session.h"

#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <string_view>

#include "common/crypto/openssl_util.h"
#include "common/tls/certificate.h"

namespace sluice::tls {
namespace {

// Decrypted records are at most 16 KiB; reading in record-sized steps keeps each resize small.
constexpr size_t kReadChunk = 16 * 1024;
// A memory BIO keeps its peak capacity; once drained, a larger buffer is given back so a
// connection that once moved a big burst does not hold it while idle.
constexpr size_t kMaxIdleBuffer = 64 * 1024;

// A fatal decode_error alert as a plaintext TLS record (type 21, record version TLS 1.0,
// length 2, level fatal, description 50), for the one case OpenSSL sends none: the first record
// is not TLS at all (e.g. an HTTP request sent to the TLS port).
constexpr uint8_t kPlaintextDecodeErrorAlert[] = {21, 0x03, 0x01, 0x00, 0x02, 2, 50};

// Builds the Error for a failed SSL call from SSL_get_error's result and the error queue
// (which it empties).
Error SslError(int ssl_error, std::string_view what) {
  std::string reasons = crypto::DrainOpensslErrors();
  if (reasons.empty()) {
    reasons = ssl_error == SSL_ERROR_SYSCALL ? "unexpected end of stream"
                                             : "SSL error " + std::to_string(ssl_error);
  }
  return Error(Errc::kTls, std::string(what) + ": " + reasons);
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {}

TlsSession::~TlsSession() = default;

Result<std::unique_ptr<TlsSession>> TlsSession::Create(std::shared_ptr<TlsContext> ctx,
                                                       std::shared_ptr<SSL_SESSION> resume) {
  if (!ctx) return Fail(Errc::kInvalidArgument, "TlsSession needs a TlsContext");
  const bool is_server = ctx->is_server();
  if (resume && is_server) {
    return Fail(Errc::kInvalidArgument, "only client sessions can resume a saved session");
  }
  ERR_clear_error();
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(ctx)));
  session->ssl_.reset(SSL_new(session->ctx_->native()));
  if (!session->ssl_) return Fail(SslError(SSL_ERROR_SSL, "creating SSL"));
  SSL* ssl = session->ssl_.get();

  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return Fail(SslError(SSL_ERROR_SSL, "creating memory BIOs"));
  }
  // An empty memory BIO means "wait for more" (retry), not end of stream.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);  // ssl now owns both
  session->network_in_ = in;
  session->network_out_ = out;

  if (is_server) {
    SSL_set_accept_state(ssl);
    return session;
  }
  SSL_set_connect_state(ssl);
  TlsContext::AttachResumptionSlot(ssl, &session->resumption_session_);
  const TlsContext& context = *session->ctx_;
  // A session saved from a server with another key would skip the pin check; never offer it.
  const bool pin_ok =
      resume && (!context.verify_pin() ||
                 PinOfCertificate(SSL_SESSION_get0_peer(resume.get())) == context.pin());
  if (pin_ok) {
    if (SSL_set_session(ssl, resume.get()) != 1) {
      return Fail(SslError(SSL_ERROR_SSL, "offering the saved session"));
    }
    session->offered_session_ = std::move(resume);
  }
  return session;
}

Status TlsSession::Start() {
  if (fatal_) return Fail(*fatal_);
  if (ctx_->is_server() || handshake_complete_) return {};
  return DriveHandshake();
}

Status TlsSession::Receive(ByteView ciphertext, Bytes* plaintext) {
  if (fatal_) return Fail(*fatal_);
  if (plaintext == nullptr) return Fail(Errc::kInvalidArgument, "Receive needs an output buffer");
  if (peer_closed_) return {};
  if (!ciphertext.empty()) {
    size_t buffered = 0;
    if (BIO_write_ex(network_in_, ciphertext.data(), ciphertext.size(), &buffered) != 1 ||
        buffered != ciphertext.size()) {
      return Fatal(SslError(SSL_ERROR_SSL, "buffering received ciphertext"));
    }
  }
  if (!handshake_complete_) {
    if (auto handshake = DriveHandshake(); !handshake) return handshake;
    if (!handshake_complete_) return {};
  }
  auto read = ReadPlaintext(plaintext);
  if (read) ShrinkIfDrained(network_in_);
  return read;
}

Status TlsSession::Send(ByteView plaintext) {
  if (fatal_) return Fail(*fatal_);
  if (close_requested_) return Fail(Errc::kClosed, "TLS session was closed for sending");
  if (!handshake_complete_) {
    pending_plaintext_.insert(pending_plaintext_.end(), plaintext.begin(), plaintext.end());
    return {};
  }
  return WritePlaintext(plaintext);
}

Bytes TlsSession::TakeCiphertext() {
  Bytes out;
  TakeCiphertext(&out);
  return out;
}

void TlsSession::TakeCiphertext(Bytes* out) {
  const size_t pending = BIO_ctrl_pending(network_out_);
  if (pending == 0) return;
  const size_t old_size = out->size();
  out->resize(old_size + pending);
  size_t taken = 0;
  if (BIO_read_ex(network_out_, out->data() + old_size, pending, &taken) != 1) taken = 0;
  out->resize(old_size + taken);
  ShrinkIfDrained(network_out_);
}

void TlsSession::ShrinkIfDrained(BIO*& bio) {
  BUF_MEM* buffer = nullptr;
  if (BIO_ctrl_pending(bio) != 0 || BIO_get_mem_ptr(bio, &buffer) != 1 || buffer == nullptr ||
      buffer->max <= kMaxIdleBuffer) {
    return;
  }
  BIO* fresh = BIO_new(BIO_s_mem());
  if (fresh == nullptr) return;  // keep the big one; nothing is lost
  BIO_set_mem_eof_return(fresh, -1);
  // Each setter frees the BIO it replaces.
  if (bio == network_in_) {
    SSL_set0_rbio(ssl_.get(), fresh);
  } else {
    SSL_set0_wbio(ssl_.get(), fresh);
  }
  bio = fresh;
}

bool TlsSession::HasCiphertext() const { return BIO_ctrl_pending(network_out_) > 0; }

void TlsSession::Close() {
  if (fatal_ || close_requested_) return;
  close_requested_ = true;
  if (handshake_complete_) SendCloseNotify();
}

bool TlsSession::resumed() const { return SSL_session_reused(ssl_.get()) == 1; }

std::string TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &size);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), size);
}

Result<Bytes> TlsSession::ExportKeyingMaterial(std::string_view label, size_t size) const {
  Bytes out(size);
  if (!handshake_complete_ ||
      SSL_export_keying_material(ssl_.get(), out.data(), out.size(), label.data(), label.size(),
                                 nullptr, 0, 0) != 1) {
    return Fail(Errc::kTls, "cannot export keying material from the TLS session");
  }
  return out;
}

std::string TlsSession::protocol_version() const {
  return handshake_complete_ ? SSL_get_version(ssl_.get()) : "";
}

std::shared_ptr<SSL_SESSION> TlsSession::resumption_session() const {
  if (resumption_session_) return resumption_session_;
  return resumed() ? offered_session_ : nullptr;
}

Status TlsSession::DriveHandshake() {
  ERR_clear_error();
  const uint64_t written_before = BIO_number_written(network_out_);
  const int result = SSL_do_handshake(ssl_.get());
  const int ssl_error = SSL_get_error(ssl_.get(), result);
  if (result == 1) return OnHandshakeComplete();
  if (ssl_error == SSL_ERROR_WANT_READ) return {};
  Error error = HandshakeError(ssl_error);
  QueueAlertIfNoneSent(written_before);
  return Fatal(std::move(error));
}

Status TlsSession::OnHandshakeComplete() {
  handshake_complete_ = true;
  if (!ctx_->is_server()) {
    peer_pin_ = PinOfCertificate(SSL_get0_peer_certificate(ssl_.get()));
    // The verify callback already refused a wrong key; this guards the resumption path too.
    if (ctx_->verify_pin() && peer_pin_ != ctx_->pin()) {
      Error error(Errc::kPinMismatch, "server certificate pin mismatch: expected " + ctx_->pin() +
                                          ", received " + peer_pin_);
      SendCloseNotify();
      return Fatal(std::move(error));
    }
  }
  if (!pending_plaintext_.empty()) {
    Bytes pending = std::exchange(pending_plaintext_, Bytes());
    if (auto written = WritePlaintext(pending); !written) return written;
  }
  if (close_requested_) SendCloseNotify();
  return {};
}

Status TlsSession::ReadPlaintext(Bytes* plaintext) {
  while (true) {
    const size_t old_size = plaintext->size();
    plaintext->resize(old_size + kReadChunk);
    size_t read = 0;
    ERR_clear_error();
    const int result = SSL_read_ex(ssl_.get(), plaintext->data() + old_size, kReadChunk, &read);
    const int ssl_error = SSL_get_error(ssl_.get(), result);
    plaintext->resize(old_size + (result == 1 ? read : 0));
    if (result == 1) continue;
    switch (ssl_error) {
      case SSL_ERROR_WANT_READ:
        return {};
      case SSL_ERROR_ZERO_RETURN:
        peer_closed_ = true;
        return {};
      default:
        return Fatal(SslError(ssl_error, "TLS read failed"));
    }
  }
}

Status TlsSession::WritePlaintext(ByteView plaintext) {
  if (plaintext.empty()) return {};
  ERR_clear_error();
  size_t written = 0;
  const int result = SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written);
  const int ssl_error = SSL_get_error(ssl_.get(), result);
  if (result == 1 && written == plaintext.size()) return {};
  return Fatal(SslError(ssl_error, "TLS write failed"));
}

void TlsSession::SendCloseNotify() {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());  // queues close_notify; we never wait here for the peer's reply
  ERR_clear_error();
}

Error TlsSession::HandshakeError(int ssl_error) {
  if (!ctx_->is_server() &&
      SSL_get_verify_result(ssl_.get()) == X509_V_ERR_APPLICATION_VERIFICATION) {
    ERR_clear_error();
    std::string received = "(none)";
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_.get());
        chain != nullptr && sk_X509_num(chain) > 0) {
      received = PinOfCertificate(sk_X509_value(chain, 0));
    }
    return Error(Errc::kPinMismatch, "server certificate pin mismatch: expected " + ctx_->pin() +
                                         ", received " + received);
  }
  return SslError(ssl_error, "TLS handshake failed");
}

void TlsSession::QueueAlertIfNoneSent(uint64_t written_before) {
  if (BIO_number_written(network_out_) != written_before) return;  // OpenSSL sent its alert
  // Only while neither side has switched to encrypted records can a plaintext alert be sent.
  const OSSL_HANDSHAKE_STATE state = SSL_get_state(ssl_.get());
  if (state != TLS_ST_BEFORE && state != TLS_ST_CW_CLNT_HELLO) return;
  size_t written = 0;
  BIO_write_ex(network_out_, kPlaintextDecodeErrorAlert, sizeof(kPlaintextDecodeErrorAlert),
               &written);
}

Status TlsSession::Fatal(Error error) {
  fatal_ = error;
  return Fail(std::move(error));
}

}  // namespace sluice::tls
