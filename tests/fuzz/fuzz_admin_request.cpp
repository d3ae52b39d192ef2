// One line on the admin socket (server/admin/admin_protocol.h), and a response line as
// sluicectl reads it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/admin/admin_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)sluice::admin::ParseRequest(line);
  (void)sluice::admin::ParseResponse(line);
  return 0;
}
