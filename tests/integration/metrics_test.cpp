// The metrics of a real server, as the web layer will serve them: sluiced's Server in this
// process (on its own loop thread, as sluiced_main runs it), a real sluice-client process that
// checks in and upgrades over real TLS, and the rendered text checked by Prometheus' own
// promtool (Debian's prometheus package; scripts/setup.sh installs it).

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/stats/system_stats.h"
#include "common/base/subprocess.h"
#include "common/uv/loop.h"
#include "server/server.h"
#include "tests/support/process.h"
#include "tests/support/raw_tls_client.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kPromtool[] = "/usr/bin/promtool";

// A Server on its own loop thread. Everything touching it goes through OnLoop.
class InProcessServer {
 public:
  explicit InProcessServer(server::ServerOptions options) {
    // As sluiced does at start: a write to a connection its peer already closed (a turned-away
    // client that hung up) must fail with EPIPE, not kill the process with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, options = std::move(options), &ready]() mutable {
      auto server = server::Server::Start(loop_, std::move(options));
      if (!server) {
        error_ = server.error().ToString();
        ready.set_value();
        return;
      }
      server_ = std::move(*server);
      ready.set_value();
      loop_.Run();
      server_.reset();
    });
    if (started.wait_for(seconds(30)) != std::future_status::ready) std::abort();
  }
  ~InProcessServer() {
    if (server_) loop_.Post([this] { server_->Shutdown(); });
    thread_.join();
  }

  bool running() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }

  // Runs `task` on the loop thread and waits (bounded) for it.
  template <class F>
  auto OnLoop(F task) {
    std::packaged_task<decltype(task(*server_))()> packaged([&] { return task(*server_); });
    auto result = packaged.get_future();
    loop_.Post([&packaged] { packaged(); });
    if (result.wait_for(seconds(10)) != std::future_status::ready) std::abort();
    return result.get();
  }

 private:
  uv::Loop loop_;
  std::unique_ptr<server::Server> server_;
  std::string error_;
  std::thread thread_;
};

// The samples of an exposition text: "name{labels}" (as rendered) -> value.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with('#')) continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

class MetricsTest : public ::testing::Test {
 protected:
  json Admin(const std::string& cmd, const json& args = json::object()) {
    return AdminRequest(dir_ / "data/run/admin.sock", cmd, args);
  }
  std::string Render() {
    return server_->OnLoop([](server::Server& server) { return server.RenderMetrics(); });
  }
  double Value(const std::string& series) {
    auto samples = Samples(Render());
    auto it = samples.find(series);
    return it == samples.end() ? -1 : it->second;
  }

  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(MetricsTest, ARealServersMetricsPassPromtoolAndShowACheckInAndAnUpgrade) {
  ASSERT_TRUE(std::filesystem::exists(kPromtool))
      << kPromtool << " is missing: run scripts/setup.sh (Debian's prometheus package)";
  const int64_t before_start_s =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  server::ServerOptions options;
  options.data_dir = dir_ / "data";
  options.listen = "127.0.0.1:0";
  options.upgrade.initial_estimate_ms = 1'000;
  options.metrics_census_ms = 100;
  server_ = std::make_unique<InProcessServer>(std::move(options));
  ASSERT_TRUE(server_->running()) << server_->error();
  const int port = server_->OnLoop([](server::Server& server) {
    return std::stoi(server.endpoint().substr(server.endpoint().rfind(':') + 1));
  });

  // A package for 2.0.0 and one active client at 1.0.0, online.
  const size_t package_size = 256 * 1024;
  const std::string payload = MakePayload(dir_.path(), "v2", 0, 0.1, package_size);
  auto added = Admin("package-add", {{"kind", "jump-client"},
                                     {"platform", client::PlatformName()},
                                     {"version", "2.0.0"},
                                     {"path", payload}});
  ASSERT_TRUE(added["ok"].get<bool>()) << added.dump();
  auto config = Admin("client-config", {{"kind", "jump-client"}, {"mode", "active"}});
  ASSERT_TRUE(config["ok"].get<bool>()) << config.dump();
  const std::string config_path = dir_ / "client.json";
  std::ofstream(config_path) << config["result"]["config"].dump();
  Process agent({BinaryPath("sluice-client"), "--config", config_path, "--state-dir",
                 dir_ / "agent", "--log-level", "debug"},
                dir_ / "agent.log");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Value("sluice_clients{kind=\"jump-client\",version=\"1.0.0\",state=\"online\"}") ==
               1;
      },
      seconds(60)))
      << Render() << FileText(dir_ / "agent.log");

  // The upgrade: the site moves to 2.0.0, the connected client is granted a slot at once.
  auto moved = Admin("site-set-version", {{"version", "2.0.0"}});
  ASSERT_TRUE(moved["ok"].get<bool>()) << moved.dump();
  const std::string finished =
      "sluice_upgrades_finished_total{kind=\"jump-client\",outcome=\"finish\"}";
  ASSERT_TRUE(WaitUntil([&] { return Value(finished) == 1; }, seconds(120)))
      << Render() << FileText(dir_ / "agent.log");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Value("sluice_clients{kind=\"jump-client\",version=\"2.0.0\",state=\"online\"}") ==
               1;
      },
      seconds(60)))
      << Render();

  // Turned away: a connection without ALPN, and one that is no TLS at all.
  ASSERT_NE(RawTlsClient::Connect(port, true, ""), nullptr);
  {
    auto plain = RawTlsClient::Connect(port, false);
    ASSERT_NE(plain, nullptr);
    ASSERT_TRUE(plain->WritePlain("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(plain->WaitClosed());
  }
  ASSERT_TRUE(WaitUntil([&] {
    return Value("sluice_connections_refused_total{reason=\"alpn\"}") >= 1 &&
           Value("sluice_connections_refused_total{reason=\"tls_handshake\"}") >= 1;
  })) << Render();

  const std::string text = Render();
  const std::string path = dir_ / "metrics.txt";
  std::ofstream(path) << text;
  auto checked = RunProcess(
      {.argv = {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < '" + path + "'"}},
      seconds(60), {.merge_stderr = true});
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_EQ(checked->exit_code, 0) << checked->out << "\n" << text;

  auto samples = Samples(text);
  auto at = [&samples](const std::string& series) {
    auto it = samples.find(series);
    EXPECT_NE(it, samples.end()) << series << " is missing";
    return it == samples.end() ? -1.0 : it->second;
  };
  // Check-ins: at least the agent's first, each timed.
  EXPECT_GE(at("sluice_checkins_total"), 1);
  EXPECT_EQ(at("sluice_checkin_duration_seconds_count"), at("sluice_checkins_total"));
  EXPECT_EQ(at("sluice_checkin_duration_seconds_bucket{le=\"+Inf\"}"), at("sluice_checkins_total"));
  EXPECT_GT(at("sluice_checkin_duration_seconds_sum"), 0);
  // Connections: the agent's, the two turned away; every completed handshake counted.
  EXPECT_GE(at("sluice_connections_accepted_total"), 3);
  EXPECT_GE(at("sluice_tls_handshakes_total{mode=\"full\"}") +
                at("sluice_tls_handshakes_total{mode=\"resumed\"}"),
            2);
  EXPECT_EQ(at("sluice_connections_refused_total{reason=\"connection_rate\"}"), 0);
  // The upgrade: one finished, timed, and the whole package sent.
  EXPECT_EQ(at("sluice_upgrades_finished_total{kind=\"jump-client\",outcome=\"fail\"}"), 0);
  EXPECT_EQ(at("sluice_upgrades_finished_total{kind=\"jump-client\",outcome=\"expire\"}"), 0);
  EXPECT_EQ(at("sluice_upgrade_duration_seconds_count{kind=\"jump-client\"}"), 1);
  EXPECT_GT(at("sluice_upgrade_duration_seconds_sum{kind=\"jump-client\"}"), 0);
  EXPECT_GE(at("sluice_upgrade_sent_bytes_total{kind=\"jump-client\"}"), package_size);
  // The throttle, now idle; the default limit.
  EXPECT_EQ(at("sluice_upgrade_slots_in_use{kind=\"jump-client\"}"), 0);
  EXPECT_EQ(at("sluice_upgrade_slots_limit{kind=\"jump-client\"}"), 20);
  EXPECT_EQ(at("sluice_upgrade_queue_length{kind=\"jump-client\"}"), 0);
  // The client census: the one client, upgraded and online; nothing left at 1.0.0.
  EXPECT_EQ(
      samples.count("sluice_clients{kind=\"jump-client\",version=\"1.0.0\",state=\"online\"}"), 0u);
  EXPECT_GE(at("sluice_connections_open"), 1);
  EXPECT_EQ(at("sluice_store_failed_jobs_total"), 0);
  EXPECT_EQ(at("sluice_pair_role{role=\"none\"}"), 1);
  EXPECT_EQ(at("sluice_pair_role{role=\"primary\"}"), 0);
  EXPECT_EQ(samples.count("sluice_pair_last_sync_time_seconds"), 0u);  // no pair, no sync
  EXPECT_GE(at("sluice_server_start_time_seconds"), static_cast<double>(before_start_s));
  EXPECT_LE(at("sluice_server_start_time_seconds"), static_cast<double>(before_start_s) + 3600);
  for (std::string_view family : {"sluice_upgrade_duration_seconds histogram",
                                  "sluice_checkins_total counter", "sluice_clients gauge"}) {
    EXPECT_NE(text.find("# TYPE " + std::string(family) + "\n"), std::string::npos) << family;
  }
}

}  // namespace
}  // namespace sluice::testing
