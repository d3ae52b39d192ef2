#include "common/crypto/password_box.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>

#include "common/crypto/openssl_util.h"
#include "common/crypto/random.h"

namespace sluice::crypto {
namespace {

constexpr std::string_view kMagic = "SLB1";
constexpr size_t kParamsSize = 12;
constexpr size_t kSaltSize = 16;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kSaltOffset = kMagic.size() + kParamsSize;
constexpr size_t kNonceOffset = kSaltOffset + kSaltSize;
constexpr size_t kHeaderSize = kNonceOffset + kNonceSize;
constexpr uint64_t kScryptMaxMem = 512ull << 20;  // above anything ParamsSupported allows
constexpr size_t kMaxUpdate = size_t{1} << 30;    // EVP_*Update lengths are ints

// An AES-256 key that wipes itself when it goes out of scope.
struct Key {
  std::array<uint8_t, 32> bytes{};
  ~Key() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

bool ParamsSupported(const ScryptParams& p) {
  const bool n_ok = p.n >= (1u << 10) && p.n <= (1u << 20) && (p.n & (p.n - 1)) == 0;
  return n_ok && p.r >= 1 && p.r <= 16 && p.p >= 1 && p.p <= 4 &&
         uint64_t{128} * p.n * p.r <= (uint64_t{256} << 20);
}

void PutU32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

uint32_t GetU32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | in[3];
}

Result<std::unique_ptr<Key>> DeriveKey(std::string_view password, ByteView salt,
                                       const ScryptParams& params) {
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr));
  EvpKdfCtxPtr ctx(kdf == nullptr ? nullptr : EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) return Fail(OpensslError(Errc::kCrypto, "scrypt unavailable"));
  static const char kEmpty[1] = {0};
  uint64_t n = params.n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  uint64_t maxmem = kScryptMaxMem;
  const OSSL_PARAM kdf_params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.empty() ? kEmpty : password.data()),
          password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  auto key = std::make_unique<Key>();
  if (EVP_KDF_derive(ctx.get(), key->bytes.data(), key->bytes.size(), kdf_params) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "scrypt key derivation"));
  }
  return key;
}

// Starts AES-256-GCM in direction `encrypt` and feeds `aad`.
Result<EvpCipherCtxPtr> StartGcm(bool encrypt, const Key& key, ByteView nonce, ByteView aad) {
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int ignored = 0;
  if (cipher == nullptr || ctx == nullptr ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.bytes.data(), nonce.data(), encrypt ? 1 : 0,
                         nullptr) != 1 ||
      EVP_CipherUpdate(ctx.get(), nullptr, &ignored, aad.data(), static_cast<int>(aad.size())) !=
          1) {
    return Fail(OpensslError(Errc::kCrypto, "AES-256-GCM setup"));
  }
  return ctx;
}

// Runs `in` through the cipher into `out` (same length; GCM is a stream mode).
Status CipherAll(EVP_CIPHER_CTX* ctx, ByteView in, uint8_t* out) {
  for (size_t done = 0; done < in.size();) {
    const int chunk = static_cast<int>(std::min(in.size() - done, kMaxUpdate));
    int written = 0;
    if (EVP_CipherUpdate(ctx, out + done, &written, in.data() + done, chunk) != 1 ||
        written != chunk) {
      return Fail(OpensslError(Errc::kCrypto, "AES-256-GCM"));
    }
    done += static_cast<size_t>(chunk);
  }
  return {};
}

// AES-256-GCM of `plaintext` under `key`: the ciphertext followed by the 16-byte tag.
Result<Bytes> GcmSeal(const Key& key, ByteView nonce, ByteView aad, ByteView plaintext) {
  auto ctx = StartGcm(true, key, nonce, aad);
  if (!ctx) return Fail(ctx.error());
  Bytes out(plaintext.size() + kTagSize);
  if (auto s = CipherAll(ctx->get(), plaintext, out.data()); !s) return Fail(s.error());
  OSSL_PARAM get_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + plaintext.size(),
                                        kTagSize),
      OSSL_PARAM_construct_end(),
  };
  std::array<uint8_t, 16> final_block{};  // GCM writes nothing here
  int ignored = 0;
  if (EVP_EncryptFinal_ex(ctx->get(), final_block.data(), &ignored) != 1 ||
      EVP_CIPHER_CTX_get_params(ctx->get(), get_tag) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "AES-256-GCM finish"));
  }
  return out;
}

// Opens what GcmSeal made (`sealed` = ciphertext | tag, at least the tag long). Errc::kAuth if
// it does not authenticate; no plaintext is returned then.
Result<Bytes> GcmOpen(const Key& key, ByteView nonce, ByteView aad, ByteView sealed) {
  const ByteView ciphertext = sealed.first(sealed.size() - kTagSize);
  std::array<uint8_t, kTagSize> tag{};
  std::copy(sealed.end() - kTagSize, sealed.end(), tag.begin());
  auto ctx = StartGcm(false, key, nonce, aad);
  if (!ctx) return Fail(ctx.error());
  Bytes plaintext(ciphertext.size());
  if (auto s = CipherAll(ctx->get(), ciphertext, plaintext.data()); !s) return Fail(s.error());
  OSSL_PARAM set_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx->get(), set_tag) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "AES-256-GCM tag"));
  }
  std::array<uint8_t, 16> final_block{};  // GCM writes nothing here
  int ignored = 0;
  if (EVP_DecryptFinal_ex(ctx->get(), final_block.data(), &ignored) != 1) {
    ClearOpensslErrors();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Fail(Errc::kAuth, "wrong password or corrupted data");
  }
  return plaintext;
}

// The scrypt params of a header (after its 4-byte magic), if they are supported.
std::optional<ScryptParams> ReadParams(ByteView header) {
  const ScryptParams params{GetU32(&header[4]), GetU32(&header[8]), GetU32(&header[12])};
  if (!ParamsSupported(params)) return std::nullopt;
  return params;
}

constexpr std::string_view kStreamMagic = "SLS1";
constexpr size_t kPrefixSize = 8;
constexpr size_t kPrefixOffset = kSaltOffset + kSaltSize;
constexpr size_t kSegmentSizeOffset = kPrefixOffset + kPrefixSize;
static_assert(kSegmentSizeOffset + 4 == kStreamHeaderSize);
constexpr uint32_t kMinSegment = 1u << 10;
constexpr uint32_t kMaxSegment = 16u << 20;

// The nonce of segment `index`: the stream's prefix, then the index.
std::array<uint8_t, kNonceSize> SegmentNonce(ByteView header, uint32_t index) {
  std::array<uint8_t, kNonceSize> nonce{};
  std::copy_n(header.begin() + kPrefixOffset, kPrefixSize, nonce.begin());
  PutU32(&nonce[kPrefixSize], index);
  return nonce;
}

// The AAD of a segment: the header and whether it is the last one.
Bytes SegmentAad(ByteView header, bool last) {
  Bytes aad(header.begin(), header.end());
  aad.push_back(last ? 1 : 0);
  return aad;
}

Key KeyFrom(const std::array<uint8_t, 32>& bytes) {
  Key key;
  key.bytes = bytes;
  return key;
}

}  // namespace

Result<PasswordStreamSealer> PasswordStreamSealer::Start(std::string_view password,
                                                         uint32_t segment_size,
                                                         const ScryptParams& params) {
  if (password.empty()) return Fail(Errc::kInvalidArgument, "empty password");
  if (!ParamsSupported(params)) return Fail(Errc::kInvalidArgument, "unsupported scrypt params");
  if (segment_size < kMinSegment || segment_size > kMaxSegment) {
    return Fail(Errc::kInvalidArgument, "segment size must be from 1 KiB to 16 MiB");
  }
  PasswordStreamSealer sealer;
  sealer.header_.resize(kStreamHeaderSize);
  std::memcpy(sealer.header_.data(), kStreamMagic.data(), kStreamMagic.size());
  PutU32(&sealer.header_[4], params.n);
  PutU32(&sealer.header_[8], params.r);
  PutU32(&sealer.header_[12], params.p);
  const Bytes random = RandomBytes(kSaltSize + kPrefixSize);
  std::copy(random.begin(), random.end(), sealer.header_.begin() + kSaltOffset);
  PutU32(&sealer.header_[kSegmentSizeOffset], segment_size);
  sealer.segment_size_ = segment_size;
  auto key = DeriveKey(password, ByteView(sealer.header_).subspan(kSaltOffset, kSaltSize), params);
  if (!key) return Fail(key.error());
  sealer.key_ = (*key)->bytes;
  return sealer;
}

PasswordStreamSealer::PasswordStreamSealer(PasswordStreamSealer&& other) noexcept
    : key_(other.key_),
      header_(std::move(other.header_)),
      segment_size_(other.segment_size_),
      next_(other.next_),
      finished_(other.finished_) {
  OPENSSL_cleanse(other.key_.data(), other.key_.size());
}

PasswordStreamSealer::~PasswordStreamSealer() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<Bytes> PasswordStreamSealer::Seal(ByteView plaintext, bool last) {
  if (finished_) return Fail(Errc::kInvalidArgument, "the stream's last segment was sealed");
  if (plaintext.size() > segment_size_ || (!last && plaintext.size() != segment_size_)) {
    return Fail(Errc::kInvalidArgument, "a segment but the last must be exactly the segment size");
  }
  if (next_ == UINT32_MAX) return Fail(Errc::kInvalidArgument, "too many segments");
  auto out =
      GcmSeal(KeyFrom(key_), SegmentNonce(header_, next_), SegmentAad(header_, last), plaintext);
  if (!out) return Fail(out.error());
  ++next_;
  finished_ = last;
  return out;
}

Result<PasswordStreamOpener> PasswordStreamOpener::Start(ByteView header,
                                                         std::string_view password) {
  if (header.size() < kStreamHeaderSize) {
    return Fail(Errc::kCorrupt, "not a password stream: too short");
  }
  if (std::memcmp(header.data(), kStreamMagic.data(), kStreamMagic.size()) != 0) {
    return Fail(Errc::kCorrupt, "not a password stream: bad magic");
  }
  const std::optional<ScryptParams> params = ReadParams(header);
  if (!params) return Fail(Errc::kCorrupt, "not a password stream: unsupported scrypt params");
  const uint32_t segment_size = GetU32(&header[kSegmentSizeOffset]);
  if (segment_size < kMinSegment || segment_size > kMaxSegment) {
    return Fail(Errc::kCorrupt, "not a password stream: unsupported segment size");
  }
  PasswordStreamOpener opener;
  opener.header_.assign(header.begin(), header.begin() + kStreamHeaderSize);
  opener.segment_size_ = segment_size;
  auto key = DeriveKey(password, header.subspan(kSaltOffset, kSaltSize), *params);
  if (!key) return Fail(key.error());
  opener.key_ = (*key)->bytes;
  return opener;
}

PasswordStreamOpener::PasswordStreamOpener(PasswordStreamOpener&& other) noexcept
    : key_(other.key_),
      header_(std::move(other.header_)),
      segment_size_(other.segment_size_),
      next_(other.next_),
      finished_(other.finished_) {
  OPENSSL_cleanse(other.key_.data(), other.key_.size());
}

PasswordStreamOpener::~PasswordStreamOpener() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<Bytes> PasswordStreamOpener::Open(ByteView sealed, bool last) {
  if (finished_) return Fail(Errc::kCorrupt, "data after the stream's last segment");
  if (sealed.size() < kTagSize || sealed.size() > segment_size_ + kTagSize ||
      (!last && sealed.size() != segment_size_ + kTagSize)) {
    return Fail(Errc::kCorrupt, "a sealed segment of impossible size (truncated?)");
  }
  auto plaintext =
      GcmOpen(KeyFrom(key_), SegmentNonce(header_, next_), SegmentAad(header_, last), sealed);
  if (!plaintext) return Fail(plaintext.error());
  ++next_;
  finished_ = last;
  return plaintext;
}

Result<Bytes> SealWithPassword(ByteView plaintext, std::string_view password,
                               const ScryptParams& params) {
  if (password.empty()) return Fail(Errc::kInvalidArgument, "empty password");
  if (!ParamsSupported(params)) return Fail(Errc::kInvalidArgument, "unsupported scrypt params");
  Bytes header(kHeaderSize);
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  PutU32(&header[4], params.n);
  PutU32(&header[8], params.r);
  PutU32(&header[12], params.p);
  const Bytes salt_and_nonce = RandomBytes(kSaltSize + kNonceSize);
  std::copy(salt_and_nonce.begin(), salt_and_nonce.end(), header.begin() + kSaltOffset);

  auto key = DeriveKey(password, ByteView(header).subspan(kSaltOffset, kSaltSize), params);
  if (!key) return Fail(key.error());
  auto sealed =
      GcmSeal(**key, ByteView(header).subspan(kNonceOffset, kNonceSize), header, plaintext);
  if (!sealed) return Fail(sealed.error());
  header.insert(header.end(), sealed->begin(), sealed->end());
  return header;
}

Result<Bytes> OpenWithPassword(ByteView sealed, std::string_view password) {
  if (sealed.size() < kHeaderSize + kTagSize) {
    return Fail(Errc::kCorrupt, "not a password box: too short");
  }
  if (std::memcmp(sealed.data(), kMagic.data(), kMagic.size()) != 0) {
    return Fail(Errc::kCorrupt, "not a password box: bad magic");
  }
  const std::optional<ScryptParams> params = ReadParams(sealed);
  if (!params) return Fail(Errc::kCorrupt, "not a password box: unsupported scrypt params");
  const ByteView header = sealed.first(kHeaderSize);
  auto key = DeriveKey(password, header.subspan(kSaltOffset, kSaltSize), *params);
  if (!key) return Fail(key.error());
  return GcmOpen(**key, header.subspan(kNonceOffset, kNonceSize), header,
                 sealed.subspan(kHeaderSize));
}

}  // namespace sluice::crypto
