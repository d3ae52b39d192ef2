#include "server/metrics/metrics_service.h"

#include "common/base/log.h"
#include "common/proto/enums.h"
#include "server/pair/pair_service.h"
#include "server/sched/scheduler.h"

namespace sluice::server::metrics {
namespace {

using store::ClientCensusRow;

// One gauge sample per upgradable kind.
std::vector<Sample> PerKind(const std::function<double(std::string_view)>& value) {
  std::vector<Sample> samples;
  for (std::string_view kind : proto::UpgradableKinds()) {
    samples.push_back({.label_values = {std::string(kind)}, .value = value(kind)});
  }
  return samples;
}

}  // namespace

Result<std::unique_ptr<MetricsService>> MetricsService::Open(MetricsOptions options) {
  auto token = ScrapeToken::Load(options.token_path);
  if (!token) return Context(token.error(), "metrics scrape token");
  return std::unique_ptr<MetricsService>(new MetricsService(std::move(options), std::move(*token)));
}

MetricsService::MetricsService(MetricsOptions options, ScrapeToken token)
    : options_(std::move(options)), token_(std::move(token)) {}

void MetricsService::Watch(Sources sources) {
  sources_ = std::move(sources);
  Registry& registry = metrics_.registry();
  registry.AddComputed(ComputedType::kGauge, "sluice_server_start_time_seconds",
                       "When this server started, in seconds since the Unix epoch.", {},
                       [started = options_.started_ms] {
                         return std::vector<Sample>{{.value = static_cast<double>(started) / 1e3}};
                       });
  registry.AddComputed(
      ComputedType::kGauge, "sluice_connections_open",
      "Connections open on the client port now (clients, handshakes, pair peers).", {}, [this] {
        return std::vector<Sample>{{.value = static_cast<double>(sources_.open_connections())}};
      });
  registry.AddComputed(ComputedType::kGauge, "sluice_upgrade_slots_in_use",
                       "Upgrade slots held by running leases, per kind.", {"kind"}, [this] {
                         return PerKind([this](std::string_view kind) {
                           return static_cast<double>(sources_.scheduler->Running(kind));
                         });
                       });
  registry.AddComputed(ComputedType::kGauge, "sluice_upgrade_slots_limit",
                       "The most concurrent upgrades allowed, per kind.", {"kind"}, [this] {
                         return PerKind([this](std::string_view kind) {
                           return static_cast<double>(sources_.scheduler->Limit(kind));
                         });
                       });
  registry.AddComputed(ComputedType::kGauge, "sluice_upgrade_queue_length",
                       "Clients waiting for an upgrade slot (connected or not), per kind.",
                       {"kind"}, [this] {
                         return PerKind([this](std::string_view kind) {
                           return static_cast<double>(sources_.scheduler->Waiting(kind));
                         });
                       });
  registry.AddComputed(
      ComputedType::kGauge, "sluice_clients",
      "Enrolled clients by kind, version and state (online, offline, lost), as of the last "
      "census (every 15 s).",
      {"kind", "version", "state"}, [this] {
        std::vector<Sample> samples;
        for (const ClientCensusRow& row : census_) {
          samples.push_back({.label_values = {row.kind, row.version, row.state},
                             .value = static_cast<double>(row.count)});
        }
        return samples;
      });
  registry.AddComputed(
      ComputedType::kCounter, "sluice_store_failed_jobs_total",
      "Database jobs that failed since start (each is logged).", {}, [this] {
        return std::vector<Sample>{{.value = static_cast<double>(options_.store->failed_jobs())}};
      });
  registry.AddComputed(
      ComputedType::kGauge, "sluice_pair_role",
      "This server's failover-pair role: 1 for the current one (none, primary, backup).", {"role"},
      [this] {
        std::vector<Sample> samples;
        for (pair::Role role : {pair::Role::kNone, pair::Role::kPrimary, pair::Role::kBackup}) {
          samples.push_back({.label_values = {std::string(pair::ToString(role))},
                             .value = sources_.pair->role() == role ? 1.0 : 0.0});
        }
        return samples;
      });
  registry.AddComputed(
      ComputedType::kGauge, "sluice_pair_last_sync_time_seconds",
      "When a failover pair's backup last finished a sync, in seconds since the Unix epoch "
      "(absent until it has).",
      {}, [this] {
        const auto& last = sources_.pair->state().last_sync;
        if (!last) return std::vector<Sample>{};
        return std::vector<Sample>{{.value = static_cast<double>(last->finished_ms) / 1e3}};
      });
  census_timer_ = uv::Timer::Create(*options_.loop);
  census_timer_->Start(0, options_.census_interval_ms, [this] { TakeCensus(); });
}

void MetricsService::Stop() { census_timer_.reset(); }

void MetricsService::TakeCensus() {
  if (census_pending_) return;  // a slow store: one census in flight at most
  census_pending_ = true;
  store::Store& census_store = options_.reader != nullptr ? *options_.reader : *options_.store;
  census_store.Submit<std::vector<ClientCensusRow>>(
      [](db::Database& db) { return store::ClientCensus(db); },
      lifetime_.Guard([this](Result<std::vector<ClientCensusRow>> census) {
        census_pending_ = false;
        if (!census) {
          Log("metrics")->warn("client census failed (the metrics keep the previous one): {}",
                               census.error().ToString());
          return;
        }
        census_ = std::move(*census);
      }));
}

}  // namespace sluice::server::metrics
