#include "client/update/self_test.h"

#include <cstdio>
#include <string>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"

namespace sluice::client {
namespace {

// OpenSSL (libcrypto) is loaded and computes a known SHA-256 ("abc", FIPS 180-2 B.1).
bool CryptoWorks() {
  static constexpr std::string_view kAbcDigest =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  return crypto::HexEncode(crypto::Sha256(AsBytes("abc"))) == kAbcDigest;
}

// A temp file can be created, read back and removed.
Status TempFileWorks() {
  auto dir = MakeTempDir("sluice-self-test-");
  if (!dir) return Fail(dir.error());
  const std::string file = *dir + "/probe";
  Status result = WriteFileAtomic(file, "sluice self-test\n", 0600);
  if (result) {
    auto back = ReadFile(file);
    if (!back) {
      result = Fail(back.error());
    } else if (*back != "sluice self-test\n") {
      result = Fail(Errc::kIo, "temp file " + file + " read back differently");
    }
  }
  if (auto removed = RemoveAll(*dir); !removed && result) result = removed;
  return result;
}

}  // namespace

int RunSelfTest() {
  int failures = 0;
  if (!CryptoWorks()) {
    std::fprintf(stderr, "self-test: SHA-256 of a known input is wrong (libcrypto broken)\n");
    ++failures;
  }
  if (auto temp = TempFileWorks(); !temp) {
    std::fprintf(stderr, "self-test: temp file: %s\n", temp.error().ToString().c_str());
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace sluice::client
