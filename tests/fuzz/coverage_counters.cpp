// Coverage feedback for GCC-instrumented code under libFuzzer: GCC's trace-pc callback (renamed
// by the linker's --wrap) marks a counter per call site in a table libFuzzer reads as inline
// 8-bit counters. Collisions between call sites only blur the signal; they cannot break a run.

#include <cstddef>
#include <cstdint>

extern "C" void __sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);

namespace {
uint8_t counters[1 << 16];
}  // namespace

extern "C" void __wrap___sanitizer_cov_trace_pc() {
  const auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  ++counters[(pc ^ (pc >> 16)) & (sizeof(counters) - 1)];
}

__attribute__((constructor)) static void RegisterCounters() {
  __sanitizer_cov_8bit_counters_init(counters, counters + sizeof(counters));
}

// GCC's trace-cmp also reports floating-point comparisons, which libFuzzer does not trace.
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
