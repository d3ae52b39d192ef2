#pragma once
// Samples of a run over time and their chart: in-flight upgrades and queue length against the
// limit, as a standalone SVG. Not thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace sluice::load {

struct Sample {
  double t_s = 0;  // since the scenario's start
  int in_flight = 0;
  int queued = 0;
  int limit = 0;
  int done = 0;  // clients finished (upgraded / reconnected)
};

class Timeline {
 public:
  void Add(const Sample& sample) { samples_.push_back(sample); }
  const std::vector<Sample>& samples() const { return samples_; }

  // Writes the chart to `path`: time on x; in flight, queued and the limit on y (queue on its
  // own right-hand scale). Errors: kIo.
  [[nodiscard]] Status WriteSvg(const std::string& path, const std::string& title) const;

 private:
  std::vector<Sample> samples_;
};

}  // namespace sluice::load
