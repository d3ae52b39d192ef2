#pragma once
// How the two servers of a failover pair prove to each other that they hold the same
// pre-shared key (docs/protocol.md, "Pair protocol"). Each side sends a fresh random nonce;
// each proof is HMAC-SHA-256 under the key over a side label, both nonces and keying material
// exported from this TLS connection. A proof is therefore good for one connection only: a
// replayed or relayed one fails, and the key itself never crosses the wire.

#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/tls/tls_session.h"

namespace sluice::pair {

enum class Side { kDialer, kListener };

// The proof `side` sends. Errors: kTls when the session cannot export keying material.
[[nodiscard]] Result<Bytes> MakeProof(std::string_view key, Side side, ByteView dialer_nonce,
                                      ByteView listener_nonce, const tls::TlsSession& tls);

// Whether `proof` is what `side` would send (compared in constant time).
[[nodiscard]] bool CheckProof(std::string_view key, Side side, ByteView dialer_nonce,
                              ByteView listener_nonce, const tls::TlsSession& tls, ByteView proof);

}  // namespace sluice::pair
