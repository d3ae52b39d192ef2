#include "common/crypto/secret.h"

#include "common/base/bytes.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/crypto/random.h"

namespace sluice::crypto {

std::string NewClientSecret() { return RandomHex(32); }

std::string HashSecret(std::string_view secret) { return HexEncode(Sha256(AsBytes(secret))); }

}  // namespace sluice::crypto
