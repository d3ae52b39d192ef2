#include "common/crypto/hash.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"

namespace sluice::crypto {
namespace {

constexpr size_t kFileBlockSize = 64 * 1024;

// The SHA-256 implementation, fetched once per process instead of once per call.
const EVP_MD* Sha256Md() {
  static const EvpMdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (md == nullptr) DieOnCryptoFailure("EVP_MD_fetch(SHA256)");
  return md.get();
}

}  // namespace

Sha256Digest Sha256(ByteView data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, Sha256Md(), nullptr) != 1 ||
      length != digest.size()) {
    DieOnCryptoFailure("EVP_Digest(SHA256)");
  }
  return digest;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_.get(), Sha256Md(), nullptr) != 1) {
    DieOnCryptoFailure("EVP_DigestInit_ex2(SHA256)");
  }
}

void Sha256Hasher::Update(ByteView data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
    DieOnCryptoFailure("EVP_DigestUpdate(SHA256)");
  }
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &length) != 1 || length != digest.size() ||
      EVP_DigestInit_ex2(ctx_.get(), Sha256Md(), nullptr) != 1) {
    DieOnCryptoFailure("EVP_DigestFinal_ex(SHA256)");
  }
  return digest;
}

Sha256Digest HmacSha256(ByteView key, ByteView data) {
  Sha256Digest mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           mac.data(), &size) == nullptr ||
      size != mac.size()) {
    std::abort();  // only a broken OpenSSL fails here
  }
  return mac;
}

Result<Sha256Digest> Sha256File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrnoError("opening", path, errno));
  Sha256Hasher hasher;
  std::vector<uint8_t> block(kFileBlockSize);
  for (;;) {
    ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Fail(ErrnoError("reading", path, err));
    }
    if (n == 0) break;
    hasher.Update(ByteView(block.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return hasher.Finish();
}

Result<std::string> Sha256FileHex(const std::string& path) {
  auto digest = Sha256File(path);
  if (!digest) return Fail(digest.error());
  return HexEncode(*digest);
}

}  // namespace sluice::crypto
