#include "load/scenario.h"

#include <uv.h>

#include <cstdio>
#include <sstream>

#include "common/base/fd_limit.h"

namespace sluice::load {

void Progress(const ScenarioOptions& options, const std::string& line) {
  if (options.progress) std::fprintf(stderr, "%s\n", line.c_str());
}

Result<std::vector<KindShare>> ParseKinds(const std::string& text) {
  std::vector<KindShare> kinds;
  std::istringstream entries(text);
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    const size_t equals = entry.find('=');
    const std::string name = entry.substr(0, equals);
    auto kind = proto::ParseEnum<proto::ClientKind>(name);
    if (!kind) return Fail(Errc::kInvalidArgument, "--kinds: unknown client kind '" + name + "'");
    double share = 1.0;
    if (equals != std::string::npos) {
      try {
        share = std::stod(entry.substr(equals + 1));
      } catch (const std::exception&) {
        share = -1;
      }
      if (share <= 0) return Fail(Errc::kInvalidArgument, "--kinds: bad share in '" + entry + "'");
    }
    kinds.push_back({.kind = *kind, .share = share});
  }
  if (kinds.empty()) return Fail(Errc::kInvalidArgument, "--kinds: no client kind given");
  return kinds;
}

Result<ScenarioSetup> Prepare(const ScenarioOptions& options, int fds, int64_t connection_rate) {
  if (options.clients <= 0) return Fail(Errc::kInvalidArgument, "--clients must be positive");
  auto limit = RaiseOpenFileLimit();
  if (!limit) return Fail(limit.error());
  const auto needed = static_cast<uint64_t>(fds) + 256;
  if (*limit < needed) {
    return Fail(Errc::kInvalidArgument,
                std::to_string(options.clients) + " clients need about " +
                    std::to_string(needed) + " open files but this process may only have " +
                    std::to_string(*limit) + " (the hard limit); raise it (ulimit -Hn " +
                    std::to_string(needed) + " as root, or LimitNOFILE= / limits.conf) or use " +
                    "fewer clients");
  }
  ScenarioSetup setup;
  auto server = options.attach_data_dir.empty()
                    ? ServerHarness::Start({.server_bin = options.server_bin,
                                            .extra_args = options.server_args,
                                            .cpu = options.server_cpu,
                                            .start_timeout_ms = 30'000})
                    : ServerHarness::Attach(options.attach_data_dir);
  if (!server) return Context(server.error(), "starting sluiced");
  setup.server = std::move(*server);
  auto set = setup.server->Admin("limits-set", {{"connection_rate_per_s", connection_rate}});
  if (!set) return Context(set.error(), "setting the connection rate");
  auto config_json = setup.server->Admin("client-config", {{"kind", "jump-client"}, {"mode", "active"}});
  if (!config_json) return Context(config_json.error(), "client-config");
  auto config = client::ClientConfig::Parse((*config_json)["config"].dump());
  if (!config) return Context(config.error(), "client-config");
  setup.config = std::move(*config);
  setup.config.version = "1.0.0";
  return setup;
}

Result<std::unique_ptr<Fleet>> EnrollFleet(uv::Loop& loop, const ScenarioSetup& setup,
                                           const ScenarioOptions& options, FleetOptions fleet) {
  auto kinds = ParseKinds(options.kinds);
  if (!kinds) return Fail(kinds.error());
  fleet.clients = options.clients;
  fleet.active_share = options.active_share;
  fleet.kinds = *kinds;
  fleet.starts_per_s = options.starts_per_s;
  fleet.source_addresses = options.source_addresses;
  auto created = Fleet::Create(loop, setup.config, fleet);
  if (!created) return Fail(created.error());
  Fleet& f = **created;
  f.Start(Goal::kEnroll);
  const double start = NowS();
  double last_print = start;
  const bool done = f.RunUntil(
      [&] { return f.counters().enrolled == f.size(); }, static_cast<double>(options.timeout_s),
      [&] {
        if (NowS() - last_print < 1.0) return;
        last_print = NowS();
        Progress(options, "enrolling " + std::to_string(f.counters().enrolled) + "/" +
                              std::to_string(f.size()));
      });
  if (!done) {
    return Fail(Errc::kTimeout, "only " + std::to_string(f.counters().enrolled) + " of " +
                                    std::to_string(f.size()) + " clients enrolled in " +
                                    std::to_string(options.timeout_s) + " s");
  }
  Progress(options, "enrolled " + std::to_string(f.size()) + " clients in " +
                        std::to_string(static_cast<int>(NowS() - start)) + " s");
  return created;
}

}  // namespace sluice::load
