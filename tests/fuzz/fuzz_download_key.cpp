// Appliance download keys (common/update/download_key.h), as pasted by an admin.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/update/download_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)sluice::update::VerifyDownloadKey(
      std::string_view(reinterpret_cast<const char*>(data), size), 1'800'000'000'000);
  return 0;
}
