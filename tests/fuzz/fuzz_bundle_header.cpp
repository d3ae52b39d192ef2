// Site update bundle headers (common/update/update_bundle.h).

#include <cstddef>
#include <cstdint>

#include "common/update/update_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)sluice::update::ParseBundleHeader(sluice::ByteView(data, size));
  return 0;
}
