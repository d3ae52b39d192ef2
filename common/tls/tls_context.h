#pragma once
// TlsContext: the immutable OpenSSL configuration (SSL_CTX) shared by every TlsSession of one
// role. Servers load a certificate and key and pick the ALPN protocol; clients authenticate the
// server by public-key pin instead of a CA chain.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/base/bytes.h"
#include "common/crypto/openssl_ptr.h"
#include "common/base/error.h"

namespace sluice::tls {

// The client protocol's ALPN name (docs/protocol.md section 1); `http/1.1` is the web's.
inline constexpr char kSluiceAlpn[] = "sluice/1";
inline constexpr char kHttpAlpn[] = "http/1.1";
// Server to server in a failover pair (docs/protocol.md, "Pair protocol").
inline constexpr char kPairAlpn[] = "sluice-pair/1";

struct ServerContextOptions {
  std::string cert_path;  // PEM certificate, optionally followed by its chain
  std::string key_path;   // PEM private key matching the certificate
  // In order of preference; the first one the client also offers is selected. A client that
  // offers ALPN but none of these is refused with a no_application_protocol alert; a client
  // that offers no ALPN is accepted with an empty alpn(). Empty list: ALPN is not negotiated.
  // The server routes by the selected protocol (server/net/client_session.h).
  std::vector<std::string> alpn = {kSluiceAlpn, kPairAlpn, kHttpAlpn};
};

struct ClientContextOptions {
  // Pin of the server's public key ("sha256/<base64>", see certificate.h). Required unless
  // verify_pin is false.
  std::string pin;
  std::vector<std::string> alpn = {kSluiceAlpn};  // offered in this order; may be empty
  // false accepts any server certificate: only for talking to third-party servers (the load
  // tool's raw mode), never for talking to a Sluice server.
  bool verify_pin = true;
};

// Immutable after creation and shared by many sessions through shared_ptr; safe to use from
// several threads at once (OpenSSL locks what it mutates internally, e.g. reference counts).
// TLS 1.2 is the minimum, TLS 1.3 is preferred; renegotiation is disabled.
class TlsContext {
 public:
  // Server: loads the certificate chain and key, enables stateless session tickets (resumption
  // for TLS 1.3 and 1.2 without a server-side cache) and the ALPN selection above.
  // Errors: kTls naming the file that failed to load (missing, unreadable, not PEM, encrypted
  // key) or the key that does not match the certificate; kInvalidArgument for an empty or
  // over-long ALPN protocol name.
  [[nodiscard]] static Result<std::shared_ptr<TlsContext>> CreateServer(
      const ServerContextOptions& options);

  // Client: verifies the server's leaf certificate against options.pin and ignores CA-chain
  // errors (self-signed certificates are the norm). Sessions record the latest session ticket
  // for resumption (TlsSession::resumption_session()).
  // Errors: kInvalidArgument if the pin is missing or malformed, or an ALPN name is invalid.
  [[nodiscard]] static Result<std::shared_ptr<TlsContext>> CreateClient(
      const ClientContextOptions& options);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  // The underlying SSL_CTX, owned by this object. Callers may tune it only before the first
  // session is created (tests use this to cap the protocol version).
  SSL_CTX* native() const { return ctx_.get(); }
  bool is_server() const { return is_server_; }
  // Client: whether the server's pin is checked, and the expected pin ("" when not checked).
  bool verify_pin() const { return verify_pin_; }
  const std::string& pin() const { return pin_; }

  // For TlsSession: makes the context's new-session callback store tickets received on `ssl`
  // into `*slot`. `slot` must outlive `ssl`'s use. Client contexts only.
  static void AttachResumptionSlot(SSL* ssl, std::shared_ptr<SSL_SESSION>* slot);

 private:
  TlsContext(crypto::SslCtxPtr ctx, bool is_server);

  crypto::SslCtxPtr ctx_;
  bool is_server_;
  bool verify_pin_ = false;
  std::string pin_;
  Bytes alpn_wire_;  // server: preference list in ALPN wire format, read by the select callback
};

}  // namespace sluice::tls
