// Package manifests (common/pkg/manifest.h): parsed before anything trusts them.

#include <cstddef>
#include <cstdint>

#include "common/pkg/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)sluice::pkg::ParseManifest(sluice::ByteView(data, size));
  return 0;
}
