#pragma once
// Pure arithmetic behind the reports. Thread-safe.

#include <vector>

namespace sluice::load {

// The p-th percentile (0..100, nearest rank) of `values`; 0 when empty.
double Percentile(std::vector<double> values, double p);

// The rollout's lower bound (docs/load.md): every slot busy all the time, each upgrade taking
// its transfer plus its apply:
//   waves    = ceil(clients / limit)
//   rate     = min(per_client_rate, bandwidth_cap / min(limit, clients))   (0 = unlimited)
//   ideal    = waves * (package_bytes / rate + apply_s)
// A rate of 0 means unlimited; both unlimited makes the transfer term 0. Rates in bytes/s.
double IdealMakespanS(int clients, int limit, double package_bytes, double per_client_rate,
                      double bandwidth_cap, double apply_s);

}  // namespace sluice::load
