#pragma once
// Pure arithmetic behind the reports. Thread-safe.

#include <utility>
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

// How much later than first come, first served each client of one limit scope was granted:
// the client that asked k-th (by first answer) should have had the k-th grant of the scope.
// Input pairs (first_answer, grant) in any unit; output, in input order, max(0, grant - k-th
// grant time) in that unit.
std::vector<double> FcfsExcess(const std::vector<std::pair<double, double>>& asked_granted);

}  // namespace sluice::load
