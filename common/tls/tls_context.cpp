#include "common/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstring>
#include <string_view>

#include "common/crypto/openssl_util.h"
#include "common/tls/certificate.h"

namespace sluice::tls {
namespace {

using crypto::SslCtxPtr;

constexpr std::string_view kPinPrefix = "sha256/";
constexpr size_t kPinBase64Size = 44;  // base64 of 32 bytes, with one '=' of padding
constexpr unsigned char kSessionIdContext[] = "sluice";

std::unexpected<Error> TlsFailure(std::string what) {
  if (std::string reasons = crypto::DrainOpensslErrors(); !reasons.empty()) what += ": " + reasons;
  return Fail(Errc::kTls, std::move(what));
}

// Encodes `protocols` as ALPN wire format: each name prefixed by its one-byte length.
Result<Bytes> AlpnWire(const std::vector<std::string>& protocols) {
  Bytes wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      return Fail(Errc::kInvalidArgument,
                  "ALPN protocol names must be 1 to 255 bytes: '" + protocol + "'");
    }
    wire.push_back(static_cast<uint8_t>(protocol.size()));
    wire.insert(wire.end(), protocol.begin(), protocol.end());
  }
  return wire;
}

Status ValidatePin(const std::string& pin) {
  const bool well_formed =
      pin.size() == kPinPrefix.size() + kPinBase64Size && pin.starts_with(kPinPrefix) &&
      pin.back() == '=' &&
      pin.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                            kPinPrefix.size()) == pin.size() - 1;
  if (!well_formed) {
    return Fail(Errc::kInvalidArgument,
                "server pin must look like 'sha256/<44 base64 characters>', got '" + pin + "'");
  }
  return {};
}

// Server ALPN callback: picks the first protocol of the server's list (`arg`, wire format) that
// the client offered; otherwise the handshake fails with no_application_protocol.
int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_size,
               const unsigned char* offered, unsigned int offered_size, void* arg) {
  const Bytes& preferred = *static_cast<const Bytes*>(arg);
  for (size_t i = 0; i < preferred.size(); i += 1 + preferred[i]) {
    const uint8_t size = preferred[i];
    const uint8_t* name = preferred.data() + i + 1;
    for (unsigned int j = 0; j < offered_size && j + 1 + offered[j] <= offered_size;
         j += 1 + offered[j]) {
      if (offered[j] == size && std::memcmp(offered + j + 1, name, size) == 0) {
        *out = offered + j + 1;  // OpenSSL copies the selection before `offered` goes away
        *out_size = size;
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Client verify callback: CA-chain errors are ignored, but the leaf (depth 0) must carry the
// context's pin. A mismatch fails the handshake with X509_V_ERR_APPLICATION_VERIFICATION, which
// TlsSession reports as Errc::kPinMismatch.
int VerifyPin(int /*preverify_ok*/, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* context =
      ssl == nullptr ? nullptr
                     : static_cast<const TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (context != nullptr && PinOfCertificate(X509_STORE_CTX_get0_cert(store)) == context->pin()) {
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

int ResumptionSlotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Client new-session callback (TLS 1.2: end of handshake; TLS 1.3: each NewSessionTicket).
int OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot =
      static_cast<std::shared_ptr<SSL_SESSION>*>(SSL_get_ex_data(ssl, ResumptionSlotIndex()));
  if (slot == nullptr) return 0;
  // Take our own reference and return 0 so OpenSSL keeps its own: exception-safe either way.
  SSL_SESSION_up_ref(session);
  try {
    *slot = std::shared_ptr<SSL_SESSION>(session, SSL_SESSION_free);
  } catch (...) {  // bad_alloc: the shared_ptr constructor already released our reference
  }
  return 0;
}

// Encrypted private keys are not supported; never prompt on the terminal for a passphrase.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

Result<SslCtxPtr> NewContext(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return TlsFailure("creating SSL_CTX");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1) {
    return TlsFailure("setting protocol versions");
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  // TLS 1.2: ECDHE with AEAD ciphers only (docs/protocol.md section 1); TLS 1.3's suites all are.
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) return TlsFailure("setting ciphers");
  // An idle connection then holds no 16 KiB+ read/write record buffers: measured with
  // `sluice-load idle` (docs/benchmarks.md), the largest per-connection cost of an idle fleet.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

Status LoadCertificateAndKey(SSL_CTX* ctx, const ServerContextOptions& options) {
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_path.c_str()) != 1) {
    return TlsFailure("loading certificate '" + options.cert_path + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL also refuses here a key that does not match the certificate.
    return TlsFailure("loading private key '" + options.key_path + "' for certificate '" +
                      options.cert_path + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return TlsFailure("private key '" + options.key_path + "' does not match certificate '" +
                      options.cert_path + "'");
  }
  return {};
}

}  // namespace

TlsContext::TlsContext(SslCtxPtr ctx, bool is_server)
    : ctx_(std::move(ctx)), is_server_(is_server) {
  SSL_CTX_set_app_data(ctx_.get(), this);
}

TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::CreateServer(const ServerContextOptions& options) {
  ERR_clear_error();
  auto alpn = AlpnWire(options.alpn);
  if (!alpn) return std::unexpected(alpn.error());
  auto ctx = NewContext(TLS_server_method());
  if (!ctx) return std::unexpected(ctx.error());
  if (auto loaded = LoadCertificateAndKey(ctx->get(), options); !loaded) {
    return std::unexpected(loaded.error());
  }
  SSL_CTX* raw = ctx->get();
  SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption is by stateless tickets only (encrypted with keys this SSL_CTX generated), so
  // tens of thousands of clients cost no server-side cache; one TLS 1.3 ticket per connection
  // is enough since a client keeps only the latest.
  SSL_CTX_clear_options(raw, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(raw, 1);
  if (SSL_CTX_set_session_id_context(raw, kSessionIdContext, sizeof(kSessionIdContext) - 1) != 1) {
    return TlsFailure("setting session id context");
  }

  std::shared_ptr<TlsContext> context(new TlsContext(std::move(*ctx), /*is_server=*/true));
  context->alpn_wire_ = std::move(*alpn);
  if (!context->alpn_wire_.empty()) {
    SSL_CTX_set_alpn_select_cb(raw, SelectAlpn, &context->alpn_wire_);
  }
  return context;
}

Result<std::shared_ptr<TlsContext>> TlsContext::CreateClient(const ClientContextOptions& options) {
  ERR_clear_error();
  if (options.verify_pin) {
    if (auto valid = ValidatePin(options.pin); !valid) return std::unexpected(valid.error());
  }
  auto alpn = AlpnWire(options.alpn);
  if (!alpn) return std::unexpected(alpn.error());
  auto ctx = NewContext(TLS_client_method());
  if (!ctx) return std::unexpected(ctx.error());
  SSL_CTX* raw = ctx->get();
  // Unlike most OpenSSL calls, set_alpn_protos returns 0 on success.
  if (!alpn->empty() &&
      SSL_CTX_set_alpn_protos(raw, alpn->data(), static_cast<unsigned int>(alpn->size())) != 0) {
    return TlsFailure("setting ALPN protocols");
  }
  SSL_CTX_set_verify(raw, options.verify_pin ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                     options.verify_pin ? VerifyPin : nullptr);
  // Sessions are handed to the caller (resumption_session()), not kept in an internal cache.
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(raw, OnNewSession);

  std::shared_ptr<TlsContext> context(new TlsContext(std::move(*ctx), /*is_server=*/false));
  context->verify_pin_ = options.verify_pin;
  if (options.verify_pin) context->pin_ = options.pin;
  return context;
}

void TlsContext::AttachResumptionSlot(SSL* ssl, std::shared_ptr<SSL_SESSION>* slot) {
  SSL_set_ex_data(ssl, ResumptionSlotIndex(), slot);
}

}  // namespace sluice::tls
