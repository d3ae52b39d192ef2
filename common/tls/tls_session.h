#pragma once
// TlsSession: one TLS connection as a pure memory-BIO engine. It owns no socket: the caller
// feeds it the bytes read from the network (Receive), gets plaintext back, and writes whatever
// TakeCiphertext() returns to the network. Two sessions can therefore be pumped into each other
// in memory, which is how the tests drive it.

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

#include "common/base/bytes.h"
#include "common/crypto/openssl_ptr.h"
#include "common/base/error.h"
#include "common/tls/tls_context.h"

namespace sluice::tls {

// Thread-confined: every call on one session must come from the same thread (the loop thread).
// Errors are Errc::kTls with OpenSSL's reason, or Errc::kPinMismatch when the server's key does
// not match the client's pin. A fatal error is sticky: every later Receive/Send returns it. When
// an error is returned, any alert for the peer is already queued in the ciphertext, so callers
// should flush TakeCiphertext() before closing the socket.
class TlsSession {
 public:
  // Creates a session in the role of `ctx` (which it keeps alive). `resume` (client only, may be
  // null) is a resumption_session() saved from an earlier connection to the same server; if the
  // server no longer accepts it the handshake simply runs in full.
  // Errors: kInvalidArgument if `ctx` is null or `resume` is given to a server; kTls if OpenSSL
  // cannot allocate the session.
  [[nodiscard]] static Result<std::unique_ptr<TlsSession>> Create(
      std::shared_ptr<TlsContext> ctx, std::shared_ptr<SSL_SESSION> resume = nullptr);

  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  // Client: queues the ClientHello in the ciphertext. Server: nothing to do (it waits for the
  // ClientHello). Errors as above.
  [[nodiscard]] Status Start();

  // Feeds bytes read from the network (any split, down to one byte at a time), drives the
  // handshake and appends every complete decrypted record to `*plaintext` (must not be null).
  // Handshake replies, tickets and alerts become available through TakeCiphertext(). Once the
  // peer's close_notify has arrived (peer_closed()), further input is ignored.
  [[nodiscard]] Status Receive(ByteView ciphertext, Bytes* plaintext);

  // Encrypts `plaintext` into the ciphertext. Before the handshake completes it is buffered and
  // encrypted as soon as the handshake finishes. Errors: kClosed after Close(); fatal errors.
  [[nodiscard]] Status Send(ByteView plaintext);

  // Moves out the encrypted bytes ready for the socket (empty if none).
  Bytes TakeCiphertext();
  // Same, appending to `*out` so the caller can reuse one buffer.
  void TakeCiphertext(Bytes* out);
  bool HasCiphertext() const;

  // Queues close_notify (after any buffered Send data; deferred until the handshake completes
  // if it has not yet). Later Sends fail with kClosed. Idempotent; no-op after a fatal error.
  void Close();

  bool handshake_complete() const { return handshake_complete_; }
  bool peer_closed() const { return peer_closed_; }  // the peer's close_notify arrived
  bool resumed() const;                              // the handshake resumed a previous session
  std::string alpn() const;                          // negotiated protocol, "" if none
  std::string protocol_version() const;
  // RFC 5705/8446 keying material exported from this session under `label` (handshake complete):
  // binds a proof made over it to this one TLS connection. Errors: kTls.
  [[nodiscard]] Result<Bytes> ExportKeyingMaterial(std::string_view label, size_t size)
      const;  // e.g. "TLSv1.3"; "" before the handshake completes
  // Client: pin of the server's leaf certificate once the handshake completed; "" otherwise.
  std::string peer_pin() const { return peer_pin_; }
  // Client: the latest session/ticket the server sent, to pass to Create() for the next
  // connection; null if none yet. TLS 1.3 tickets arrive just after the handshake, so keep
  // calling Receive until they have been read. A resumed connection whose server sent no new
  // ticket returns the session it resumed.
  std::shared_ptr<SSL_SESSION> resumption_session() const;

 private:
  explicit TlsSession(std::shared_ptr<TlsContext> ctx);

  [[nodiscard]] Status DriveHandshake();
  [[nodiscard]] Status OnHandshakeComplete();
  [[nodiscard]] Status ReadPlaintext(Bytes* plaintext);
  [[nodiscard]] Status WritePlaintext(ByteView plaintext);
  void SendCloseNotify();
  void ShrinkIfDrained(BIO*& bio);  // `bio` is network_in_ or network_out_
  Error HandshakeError(int ssl_error);
  void QueueAlertIfNoneSent(uint64_t written_before);
  [[nodiscard]] Status Fatal(Error error);

  std::shared_ptr<TlsContext> ctx_;
  BIO* network_in_ = nullptr;   // owned by ssl_: ciphertext received from the peer
  BIO* network_out_ = nullptr;  // owned by ssl_: ciphertext to send to the peer
  Bytes pending_plaintext_;     // Send() data waiting for the handshake
  std::optional<Error> fatal_;
  std::shared_ptr<SSL_SESSION> resumption_session_;  // written by the context's callback
  std::shared_ptr<SSL_SESSION> offered_session_;     // the `resume` given to Create()
  std::string peer_pin_;
  bool handshake_complete_ = false;
  bool peer_closed_ = false;
  bool close_requested_ = false;
  crypto::SslPtr ssl_;  // last: freed first, while everything it may point to still lives
};

}  // namespace sluice::tls
