#include "load/figures.h"

#include <algorithm>
#include <cmath>

namespace sluice::load {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const auto last = static_cast<double>(values.size());
  return values[static_cast<size_t>(std::clamp(rank, 1.0, last)) - 1];
}

double IdealMakespanS(int clients, int limit, double package_bytes, double per_client_rate,
                      double bandwidth_cap, double apply_s) {
  if (clients <= 0 || limit <= 0) return 0;
  double rate = 0;
  if (bandwidth_cap > 0) rate = bandwidth_cap / std::min(limit, clients);
  if (per_client_rate > 0) rate = rate > 0 ? std::min(rate, per_client_rate) : per_client_rate;
  const double transfer_s = rate > 0 ? package_bytes / rate : 0;
  const double waves = std::ceil(static_cast<double>(clients) / static_cast<double>(limit));
  return waves * (transfer_s + apply_s);
}

}  // namespace sluice::load
