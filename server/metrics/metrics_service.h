#pragma once
// The server's metrics (docs/admin.md, "Metrics"): the instruments the server's parts update
// (metrics.h), the families computed at each render from the throttle, the pair, the store and
// the connections, a census of the clients by kind, version and state, and the scrape token.
//
// The census is one grouped query on the reader store every census_interval_ms (and once at
// Watch), cached on the loop: a scrape never reads the database, and shows the counts as of the
// last census.
//
// Loop thread only, like everything it reads.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "server/metrics/metrics.h"
#include "server/metrics/scrape_token.h"
#include "server/store/client_repo.h"
#include "server/store/store.h"

namespace sluice::sched {
class Scheduler;
}  // namespace sluice::sched
namespace sluice::pair {
class PairService;
}  // namespace sluice::pair

namespace sluice::server::metrics {

struct MetricsOptions {
  uv::Loop* loop = nullptr;
  store::Store* store = nullptr;  // the writer: its failed jobs are counted
  // Where the census reads (a read-only Store beside the writer, so the grouped scan never queues
  // ahead of check-ins); null: `store`.
  store::Store* reader = nullptr;
  std::string token_path{};  // DATA_DIR/keys/metrics-token
  int64_t started_ms = 0;    // the server's start (wall clock)
  uint64_t census_interval_ms = 15'000;
};

class MetricsService {
 public:
  // Reads the scrape token file (ScrapeToken::Load's errors).
  [[nodiscard]] static Result<std::unique_ptr<MetricsService>> Open(MetricsOptions options);
  MetricsService(const MetricsService&) = delete;
  MetricsService& operator=(const MetricsService&) = delete;

  // The instruments, for the parts that count (they must not outlive this service).
  Metrics& metrics() { return metrics_; }
  const ScrapeToken& scrape_token() const { return token_; }
  ScrapeToken& scrape_token() { return token_; }

  // What the computed families read at render time; everything must outlive this service.
  struct Sources {
    const sched::Scheduler* scheduler = nullptr;  // slots in use, limit, queue per kind
    const pair::PairService* pair = nullptr;      // role, last sync
    std::function<size_t()> open_connections{};
  };
  // Registers the computed families and starts the census. Once, after the server's parts are
  // built.
  void Watch(Sources sources);
  // Stops the census (the server is shutting down). Rendering still works.
  void Stop();

  // Every metric in the Prometheus text format 0.0.4 (registry.h).
  std::string Render() const { return metrics_.registry().Render(); }

 private:
  MetricsService(MetricsOptions options, ScrapeToken token);
  void TakeCensus();

  MetricsOptions options_;
  Metrics metrics_;
  ScrapeToken token_;
  Sources sources_;
  std::vector<store::ClientCensusRow> census_;
  bool census_pending_ = false;
  uv::HandlePtr<uv::Timer> census_timer_;
  uv::Lifetime lifetime_;  // guards census completions that outlive this object
};

}  // namespace sluice::server::metrics
