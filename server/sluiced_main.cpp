// sluiced: the Sluice site server.

#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "common/base/fd_limit.h"
#include "common/base/log.h"
#include "common/uv/loop.h"
#include "common/uv/signal.h"
#include "server/server.h"

int main(int argc, char** argv) {
  sluice::server::ServerOptions options;
  std::string log_level = "info";
  CLI::App app{"sluiced - the Sluice site server"};
  app.add_option("--data-dir", options.data_dir,
                 "data directory (created on first start: certificate, keys, database)")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "HOST:PORT to serve clients on (port 0: any free)")
      ->capture_default_str();
  app.add_option("--advertise", options.advertise,
                 "HOST:PORT written into client configurations (default: the listen address)");
  app.add_option("--max-frame-bytes", options.max_frame_bytes, "largest protocol frame accepted")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{64} << 20));
  app.add_option("--handshake-timeout-ms", options.handshake_timeout_ms,
                 "close connections whose TLS handshake takes longer")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{100}, uint64_t{600'000}));
  int64_t lease_ttl_s = options.upgrade.lease_ttl_ms / 1000;
  app.add_option("--lease-ttl-s", lease_ttl_s,
                 "an upgrade slot lapses after this long without download progress")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24 * 3600}));
  int64_t initial_estimate_s = options.upgrade.initial_estimate_ms / 1000;
  app.add_option("--initial-upgrade-estimate-s", initial_estimate_s,
                 "how long an upgrade is assumed to take, besides the package transfer, until one "
                 "has finished")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24 * 3600}));
  int64_t max_hold_s = options.upgrade.max_passive_hold_ms / 1000;
  app.add_option("--max-passive-hold-s", max_hold_s,
                 "a queued passive client whose slot is expected within this long waits "
                 "connected (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600}));
  app.add_option("--max-held-passive", options.upgrade.max_held_passive,
                 "most queued passive clients held connected at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1'000'000}));
  app.add_option("--min-retry-ms", options.upgrade.min_retry_ms,
                 "shortest wait a queued passive client is told before it returns")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{24 * 3600 * 1000}));
  app.add_option("--code-signing-cert", options.code_signing_cert,
                 "Authenticode certificate (PEM, or PKCS#12 without --code-signing-key) to sign "
                 "generated installers with");
  app.add_option("--code-signing-key", options.code_signing_key,
                 "PEM private key of --code-signing-cert");
  app.add_option("--min-installer-validity-s", options.min_installer_validity_s,
                 "shortest installer validity accepted (test hook; keep the default)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{600}));
  app.add_option("--update-source", options.updates.source_dir,
                 "folder (mirror) of update bundles that `sluicectl update check` lists");
  app.add_option("--update-trust-key", options.updates.trust_key_path,
                 "the vendor's update-signing public key (base64 file; default "
                 "DATA_DIR/keys/update-trust.pub if present)");
  app.add_option("--test-pause-install", options.updates.pause_install_at,
                 "test hook: stop an update install at after_backup or after_import")
      ->check(CLI::IsMember({"after_backup", "after_import"}))
      ->group("");  // hidden from --help: tests only
  int64_t pair_first_sync_s = 60;
  app.add_option("--pair-first-sync-s", pair_first_sync_s,
                 "test hook: a failover pair's first sync this long after establishing")
      ->check(CLI::Range(int64_t{0}, int64_t{3600}))
      ->group("");
  int64_t pair_probe_s = 30;
  app.add_option("--pair-probe-s", pair_probe_s,
                 "test hook: how often a pair's primary looks at its peer")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}))
      ->group("");
  uint64_t http_timeout_ms = 0;
  app.add_option("--http-request-timeout-ms", http_timeout_ms,
                 "test hook: a dashboard request's headers, and then its body, must each arrive "
                 "within this long")
      ->check(CLI::Range(uint64_t{100}, uint64_t{600'000}))
      ->group("");
  app.add_flag("--new-database", options.new_database,
               "start a new, empty database in a data dir whose database is missing or empty "
               "(keys and certificate are kept; every client must enroll again)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.upgrade.lease_ttl_ms = lease_ttl_s * 1000;
  options.upgrade.initial_estimate_ms = initial_estimate_s * 1000;
  options.upgrade.max_passive_hold_ms = max_hold_s * 1000;
  options.pair.first_sync_delay_ms = pair_first_sync_s * 1000;
  options.pair.probe_ms = pair_probe_s * 1000;
  if (http_timeout_ms != 0) {
    options.http.header_timeout_ms = options.http.body_timeout_ms = http_timeout_ms;
  }
  sluice::SetLogLevel(log_level);
  ::signal(SIGPIPE, SIG_IGN);
  // Everything sluiced creates (database, keys, installers) is for its own user only.
  ::umask(077);
  // A file size limit (RLIMIT_FSIZE) is then an EFBIG error, handled like a full disk, not a crash.
  ::signal(SIGXFSZ, SIG_IGN);

  if (auto limit = sluice::RaiseOpenFileLimit(); !limit) {
    sluice::Log("server")->warn("{}", limit.error().message());
  }

  sluice::uv::Loop loop;
  std::unique_ptr<sluice::server::Server> server;
  // Watched before the server starts: Start writes run/endpoint, the mark that it is ready, so
  // a SIGTERM at any moment after that mark must be a clean shutdown, not the default death.
  // A signal that arrives during Start is handled once the loop runs.
  auto shutdown = [&server, &loop] {
    if (server) {
      server->Shutdown();
    } else {
      loop.Stop();
    }
  };
  auto on_int = sluice::uv::Signal::Create(loop, SIGINT, shutdown);
  auto on_term = sluice::uv::Signal::Create(loop, SIGTERM, shutdown);
  // A failover pair's role change or applied sync restarts the server on the same loop
  // (server.h, restart_requested).
  for (;;) {
    auto started = sluice::server::Server::Start(loop, options);
    if (!started) {
      std::fprintf(stderr, "sluiced: %s\n", started.error().message().c_str());
      return 1;
    }
    server = std::move(*started);
    // A restart binds the port this start got (port 0 picks one only once).
    options.listen = server->endpoint();
    loop.Run();
    const bool again = server->restart_requested();
    const auto failed = server->restart_error();
    server.reset();
    if (failed) {
      std::fprintf(stderr, "sluiced: %s\n", failed->message().c_str());
      return 1;
    }
    if (!again) break;
    sluice::Log("server")->info("starting again");
  }
  sluice::Log("server")->info("stopped");
  return 0;
}
