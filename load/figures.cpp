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

std::vector<double> FcfsExcess(const std::vector<std::pair<double, double>>& asked_granted) {
  std::vector<size_t> by_ask(asked_granted.size());
  for (size_t i = 0; i < by_ask.size(); ++i) by_ask[i] = i;
  std::stable_sort(by_ask.begin(), by_ask.end(), [&](size_t a, size_t b) {
    return asked_granted[a].first < asked_granted[b].first;
  });
  std::vector<double> grants;
  grants.reserve(asked_granted.size());
  for (const auto& [asked, granted] : asked_granted) grants.push_back(granted);
  std::sort(grants.begin(), grants.end());
  std::vector<double> excess(asked_granted.size(), 0.0);
  for (size_t rank = 0; rank < by_ask.size(); ++rank) {
    const size_t i = by_ask[rank];
    excess[i] = std::max(0.0, asked_granted[i].second - grants[rank]);
  }
  return excess;
}

}  // namespace sluice::load
