#include "load/raw_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/net/dial.h"
#include "common/tls/tls_session.h"
#include "common/uv/loop.h"
#include "common/uv/stream.h"
#include "common/uv/timer.h"
#include "load/figures.h"
#include "load/now.h"

namespace sluice::load {
namespace {

struct Shared {
  uv::Loop* loop = nullptr;
  std::shared_ptr<tls::TlsContext> tls;
  const RawTlsOptions* options = nullptr;
  std::string request;
  bool stop = false;
  uint64_t responses = 0;
  uint64_t resumed = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
  std::string last_error;
  int open = 0;
  std::vector<double> latency_ms;
};

// One request loop. Lives until the run ends; the stream is closed before it is destroyed.
class RawLoop {
 public:
  RawLoop(Shared& shared, int index) : shared_(shared), index_(index) {}

  void Connect() {
    if (shared_.stop) return;
    ++shared_.open;
    started_ns_ = uv_hrtime();
    sockaddr_storage local{};
    auto* address = reinterpret_cast<sockaddr_in*>(&local);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr =
        htonl((127u << 24) | static_cast<uint32_t>(index_ % shared_.options->source_addresses + 1));
    net::DialTcp(*shared_.loop, shared_.options->host, shared_.options->port, local,
                 [this](Result<uv::HandlePtr<uv::Stream>> stream) { OnConnected(std::move(stream)); });
  }

 private:
  void OnConnected(Result<uv::HandlePtr<uv::Stream>> stream) {
    if (!stream) return Done(stream.error().message());
    auto session = tls::TlsSession::Create(shared_.tls, shared_.options->resume ? resume_ : nullptr);
    if (!session) return Done(session.error().message());
    stream_ = std::move(*stream);
    tls_ = std::move(*session);
    sent_ = false;
    stream_->Start({.on_data = [this](ByteView data) { OnData(data); },
                    .on_end = [this](std::optional<Error> why) {
                      Done(why ? why->message() : std::string());
                    },
                    .on_drain = {}});
    if (auto started = tls_->Start(); !started) return Done(started.error().message());
    Flush();
  }

  void OnData(ByteView data) {
    plaintext_.clear();
    if (auto received = tls_->Receive(data, &plaintext_); !received) {
      return Done(received.error().message());
    }
    if (tls_->handshake_complete() && !sent_) {
      sent_ = true;
      if (tls_->resumed()) ++shared_.resumed;
      const auto* request = reinterpret_cast<const uint8_t*>(shared_.request.data());
      (void)tls_->Send({request, shared_.request.size()});
    }
    if (body_bytes_ == 0 && !plaintext_.empty()) {
      // Only a 200 counts: an error page is small and fast and would flatter the server.
      const std::string head(plaintext_.begin(),
                             plaintext_.begin() + std::min<size_t>(plaintext_.size(), 64));
      status_ = head.substr(0, head.find('\r'));
      ok_ = head.rfind("HTTP/1.1 200", 0) == 0 || head.rfind("HTTP/1.0 200", 0) == 0;
    }
    body_bytes_ += plaintext_.size();
    resume_ = tls_->resumption_session();
    Flush();
    if (tls_->peer_closed()) Done("");
  }

  void Flush() {
    if (tls_->HasCiphertext()) stream_->Write(tls_->TakeCiphertext());
  }

  // The response ended (peer close) or the attempt failed (`error` not empty).
  void Done(std::string error) {
    if (error.empty() && body_bytes_ > 0 && !ok_) error = "server answered " + status_;
    if (stream_) {
      // An orderly close_notify, as a browser sends: OpenSSL does not resume a session whose
      // connection was dropped without one.
      if (error.empty()) {
        tls_->Close();
        Flush();
      }
      stream_.reset();
      tls_.reset();
    }
    --shared_.open;
    if (error.empty() && body_bytes_ > 0) {
      ++shared_.responses;
      shared_.bytes += body_bytes_;
      shared_.latency_ms.push_back(static_cast<double>(uv_hrtime() - started_ns_) / 1e6);
    } else {
      ++shared_.errors;
      shared_.last_error = error.empty() ? "connection closed before any response" : error;
    }
    body_bytes_ = 0;
    ok_ = false;
    const int limit = shared_.options->requests;
    if (limit > 0 && shared_.responses + static_cast<uint64_t>(shared_.open) >=
                         static_cast<uint64_t>(limit)) {
      return;
    }
    // Defer: this runs inside the stream's callback.
    shared_.loop->Defer([this] { Connect(); });
  }

  Shared& shared_;
  int index_;
  uv::HandlePtr<uv::Stream> stream_;
  std::unique_ptr<tls::TlsSession> tls_;
  std::shared_ptr<SSL_SESSION> resume_;
  Bytes plaintext_;
  uint64_t body_bytes_ = 0;
  uint64_t started_ns_ = 0;
  std::string status_;  // the response's status line
  bool ok_ = false;     // it was a 200
  bool sent_ = false;
};

}  // namespace

Result<nlohmann::json> RunRawTls(const RawTlsOptions& options) {
  if (options.concurrency <= 0 || options.port <= 0) {
    return Fail(Errc::kInvalidArgument, "raw-tls needs --target HOST:PORT and --concurrency > 0");
  }
  auto tls = tls::TlsContext::CreateClient(
      {.pin = options.pin, .alpn = {"http/1.1"}, .verify_pin = !options.pin.empty()});
  if (!tls) return Fail(tls.error());
  uv::Loop loop;
  Shared shared;
  shared.loop = &loop;
  shared.tls = std::move(*tls);
  shared.options = &options;
  shared.request = "GET " + options.path + " HTTP/1.1\r\nHost: " + options.host +
                   "\r\nConnection: close\r\n\r\n";
  std::vector<std::unique_ptr<RawLoop>> loops;
  for (int i = 0; i < options.concurrency; ++i) {
    loops.push_back(std::make_unique<RawLoop>(shared, i));
    loops.back()->Connect();
  }
  uint64_t responses_before = 0, bytes_before = 0;
  double measure_start = NowS();
  const double warmup_end = NowS() + (options.requests > 0 ? 0 : options.warmup_s);
  const double end = warmup_end + options.duration_s;
  bool measuring = options.requests > 0;
  auto timer = uv::Timer::Create(loop);
  timer->Start(10, 10, [&] {
    const double now = NowS();
    if (!measuring && now >= warmup_end) {
      measuring = true;
      responses_before = shared.responses;
      bytes_before = shared.bytes;
      shared.latency_ms.clear();
      measure_start = now;
    }
    const bool finished = options.requests > 0
                              ? shared.responses + shared.errors >= uint64_t(options.requests) ||
                                    now >= end + 600
                              : now >= end;
    if (finished && !shared.stop) {
      shared.stop = true;
      measure_start = now - measure_start;  // becomes the measured duration
    }
    if (shared.stop && shared.open == 0) loop.Stop();
  });
  loop.Run();
  timer->Stop();
  const double elapsed = measure_start;
  const auto responses = static_cast<double>(shared.responses - responses_before);
  if (shared.responses == 0) {
    return Fail(Errc::kTimeout, "no response from " + options.host + ":" +
                                    std::to_string(options.port) + ": " + shared.last_error);
  }
  return nlohmann::json{
      {"scenario", "raw-tls"},
      {"target", options.host + ":" + std::to_string(options.port)},
      {"path", options.path},
      {"concurrency", options.concurrency},
      {"resume", options.resume},
      {"responses", responses},
      {"errors", shared.errors},
      {"duration_s", elapsed},
      {"requests_per_s", responses / elapsed},
      {"resumed_share", shared.responses > 0 ? double(shared.resumed) / double(shared.responses) : 0.0},
      {"throughput_mib_s", static_cast<double>(shared.bytes - bytes_before) / 1048576.0 / elapsed},
      {"latency_p50_ms", Percentile(shared.latency_ms, 50)},
      {"latency_p99_ms", Percentile(shared.latency_ms, 99)}};
}

}  // namespace sluice::load
