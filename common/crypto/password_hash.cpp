#include "common/crypto/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <vector>

#include "common/crypto/compare.h"
#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"
#include "common/crypto/random.h"

namespace sluice::crypto {
namespace {

constexpr std::string_view kPrefix = "$scrypt$";
constexpr size_t kHashSaltSize = 16;
constexpr size_t kHashSize = 32;
constexpr uint64_t kHashMaxMem = 512ull << 20;  // above anything HashParamsSupported allows

bool HashParamsSupported(const PasswordHashParams& p) {
  return p.log2_n >= 10 && p.log2_n <= 20 && p.r >= 1 && p.r <= 16 && p.p >= 1 && p.p <= 4 &&
         (uint64_t{128} << p.log2_n) * p.r <= (uint64_t{256} << 20);
}

// The hash bytes, wiped when they go out of scope.
struct Derived {
  std::array<uint8_t, kHashSize> bytes{};
  ~Derived() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

Status Derive(std::string_view password, ByteView salt, const PasswordHashParams& params,
              Derived& out) {
  static const char kEmpty[1] = {0};
  if (EVP_PBE_scrypt(password.empty() ? kEmpty : password.data(), password.size(), salt.data(),
                     salt.size(), uint64_t{1} << params.log2_n, params.r, params.p, kHashMaxMem,
                     out.bytes.data(), out.bytes.size()) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "scrypt password hash"));
  }
  return {};
}

// "<key>=<decimal>" exactly, no sign, no leading zeros beyond "0".
bool ReadField(std::string_view part, std::string_view key, uint32_t* out) {
  if (!part.starts_with(key) || part.size() <= key.size() + 1 || part[key.size()] != '=') {
    return false;
  }
  std::string_view digits = part.substr(key.size() + 1);
  if (digits.size() > 1 && digits[0] == '0') return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  return ec == std::errc() && end == digits.data() + digits.size();
}

struct Parsed {
  PasswordHashParams params;
  Bytes salt;
  Bytes hash;
};

std::vector<std::string_view> SplitOn(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t next = text.find(sep, at);
    parts.push_back(text.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

Result<Parsed> Parse(std::string_view encoded) {
  if (!encoded.starts_with(kPrefix)) return Fail(Errc::kCorrupt, "not a $scrypt$ password hash");
  const auto fields = SplitOn(encoded.substr(kPrefix.size()), '$');
  if (fields.size() != 3)
    return Fail(Errc::kCorrupt, "a password hash has 3 fields after $scrypt$");
  const auto params = SplitOn(fields[0], ',');
  Parsed parsed;
  if (params.size() != 3 || !ReadField(params[0], "ln", &parsed.params.log2_n) ||
      !ReadField(params[1], "r", &parsed.params.r) ||
      !ReadField(params[2], "p", &parsed.params.p)) {
    return Fail(Errc::kCorrupt, "password hash parameters are not ln=N,r=N,p=N");
  }
  if (!HashParamsSupported(parsed.params)) {
    return Fail(Errc::kCorrupt, "password hash parameters are out of range");
  }
  auto salt = Base64UrlDecode(fields[1]);
  auto hash = Base64UrlDecode(fields[2]);
  if (!salt || salt->size() != kHashSaltSize || !hash || hash->size() != kHashSize) {
    return Fail(Errc::kCorrupt, "password hash salt or hash is malformed");
  }
  parsed.salt = std::move(*salt);
  parsed.hash = std::move(*hash);
  return parsed;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params) {
  if (password.empty()) return Fail(Errc::kInvalidArgument, "empty password");
  if (!HashParamsSupported(params)) {
    return Fail(Errc::kInvalidArgument, "unsupported password hash parameters");
  }
  const Bytes salt = RandomBytes(kHashSaltSize);
  Derived derived;
  if (auto made = Derive(password, salt, params, derived); !made) return Fail(made.error());
  return std::string(kPrefix) + "ln=" + std::to_string(params.log2_n) +
         ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) + "$" +
         Base64UrlEncode(salt) + "$" + Base64UrlEncode(derived.bytes);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  auto parsed = Parse(encoded);
  if (!parsed) return false;
  Derived derived;
  if (!Derive(password, parsed->salt, parsed->params, derived)) return false;
  return ConstantTimeEquals(derived.view(), AsChars(parsed->hash));
}

Result<PasswordHashParams> ParsePasswordHashParams(std::string_view encoded) {
  auto parsed = Parse(encoded);
  if (!parsed) return Fail(parsed.error());
  return parsed->params;
}

bool NeedsRehash(std::string_view encoded, const PasswordHashParams& current) {
  auto params = ParsePasswordHashParams(encoded);
  return !params || !(*params == current);
}

std::string UnmatchablePasswordHash() {
  const PasswordHashParams cost;
  return "$scrypt$ln=" + std::to_string(cost.log2_n) + ",r=" + std::to_string(cost.r) +
         ",p=" + std::to_string(cost.p) + "$" + Base64UrlEncode(RandomBytes(16)) + "$" +
         Base64UrlEncode(RandomBytes(32));
}

}  // namespace sluice::crypto
