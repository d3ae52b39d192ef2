// sluicectl metrics token [--rotate]: the Prometheus scrape token (docs/admin.md, "Metrics").
// The token alone goes to stdout, so `TOKEN=$(sluicectl metrics token)` works; what happened to
// it (made, replaced) goes to stderr.

#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"

namespace sluice::ctl {

using nlohmann::json;

void AddMetricsCommands(Ctl& ctl) {
  CLI::App* metrics = ctl.app().add_subcommand("metrics", "Prometheus metrics");
  metrics->require_subcommand(1);
  auto rotate = std::make_shared<bool>(false);
  CLI::App* token = metrics->add_subcommand(
      "token", "Print the scrape token GET /metrics needs (made on first use)");
  token->add_flag("--rotate", *rotate,
                  "Replace the token; the old one stops working at once (update Prometheus)");
  auto as_json = Ctl::AddJsonFlag(token);
  token->callback([&ctl, rotate, as_json] {
    ctl.Run("metrics-token", {{"rotate", *rotate}}, *as_json,
            [&ctl](const json& result, std::ostream& out) -> Status {
              if (result.value("created", false)) {
                ctl.err() << "made a new scrape token (DATA_DIR/keys/metrics-token)\n";
              } else if (result.value("rotated", false)) {
                ctl.err() << "replaced the scrape token; the old one no longer works\n";
              }
              out << Text(result, "token") << '\n';
              return {};
            });
  });
}

}  // namespace sluice::ctl
