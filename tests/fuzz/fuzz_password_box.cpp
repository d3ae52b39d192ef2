// Password-protected blobs (common/crypto/password_box.h): a forged header must not make
// opening burn unbounded memory or time, and a damaged blob must fail cleanly.

#include <cstddef>
#include <cstdint>

#include "common/crypto/password_box.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)sluice::crypto::OpenWithPassword(sluice::ByteView(data, size), "fuzz");
  return 0;
}
