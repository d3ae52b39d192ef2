#include "load/fleet.h"

#include <map>

#include "client/stats/system_stats.h"
#include "common/uv/timer.h"

namespace sluice::load {
namespace {

// Position of client `i` in [0, 1), scattered so that every prefix of the fleet has about the
// configured mix (golden-ratio sequence).
double Spread(int i, double offset) {
  const double x = offset + static_cast<double>(i) * 0.6180339887498949;
  return x - static_cast<double>(static_cast<int64_t>(x));
}

double Now() { return static_cast<double>(uv_hrtime()) / 1e9; }

}  // namespace

Result<std::unique_ptr<Fleet>> Fleet::Create(uv::Loop& loop, client::ClientConfig config,
                                             const FleetOptions& options) {
  if (options.clients <= 0) return Fail(Errc::kInvalidArgument, "the fleet needs clients");
  double total_share = 0;
  for (const auto& kind : options.kinds) total_share += std::max(kind.share, 0.0);
  if (total_share <= 0) return Fail(Errc::kInvalidArgument, "no client kind has a share");
  auto tls = tls::TlsContext::CreateClient({.pin = config.pin});
  if (!tls) return Fail(tls.error());
  std::unique_ptr<Fleet> fleet(new Fleet(loop));
  fleet->options_ = options;
  FleetContext& context = fleet->context_;
  context.loop = &loop;
  context.tls = std::move(*tls);
  context.host = config.host;
  context.port = config.port;
  context.config = std::move(config);
  context.platform = client::PlatformName();
  context.source_addresses = options.source_addresses;
  context.resume_sessions = options.resume_sessions;
  context.apply_ms = options.apply_ms;
  context.apply_spread = options.apply_spread;
  context.rate_bytes_per_s = options.rate_bytes_per_s;
  context.checkin_pause_ms = options.checkin_pause_ms;
  context.counters.checkin_ms.reserve(static_cast<size_t>(options.clients) * 2);
  for (int i = 0; i < options.clients; ++i) {
    double position = Spread(i, 0.0) * total_share;
    proto::ClientKind kind = options.kinds.back().kind;
    for (const auto& share : options.kinds) {
      if (position < share.share) {
        kind = share.kind;
        break;
      }
      position -= std::max(share.share, 0.0);
    }
    const bool active = Spread(i, 0.5) < options.active_share;
    fleet->active_ += active ? 1 : 0;
    fleet->kinds_.push_back(kind);
    fleet->clients_.push_back(std::make_unique<SimClient>(context, i, kind, active));
  }
  return fleet;
}

Fleet::~Fleet() {
  context_.stop = true;
  DisconnectAll();
  RunUntil([this] { return context_.counters.dials == 0 && context_.counters.open_connections == 0; },
           30.0);
  clients_.clear();
}

void Fleet::Start(Goal goal) {
  context_.goal = goal;
  context_.stop = false;
  for (int i = 0; i < size(); ++i) {
    const double delay_ms = options_.starts_per_s > 0 ? i * 1000.0 / options_.starts_per_s : 0;
    clients_[i]->Start(static_cast<uint64_t>(delay_ms));
  }
}

void Fleet::DisconnectAll() {
  for (auto& client : clients_) client->Disconnect();
}

bool Fleet::RunUntil(const std::function<bool()>& done, double timeout_s,
                     const std::function<void()>& tick, uint64_t tick_ms) {
  if (done()) return true;
  const double deadline = Now() + timeout_s;
  bool finished = false;
  auto timer = uv::Timer::Create(loop_);
  timer->Start(tick_ms, tick_ms, [&] {
    if (tick) tick();
    if (done()) {
      finished = true;
      loop_.Stop();
    } else if (Now() > deadline) {
      loop_.Stop();
    }
  });
  loop_.Run();
  timer->Stop();
  return finished;
}

std::vector<std::pair<proto::ClientKind, int>> Fleet::KindCounts() const {
  std::map<proto::ClientKind, int> counts;
  for (auto kind : kinds_) ++counts[kind];
  return {counts.begin(), counts.end()};
}

}  // namespace sluice::load
