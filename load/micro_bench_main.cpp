// Microbenchmarks of the server's per-client hot path, with Google Benchmark: what one
// check-in costs in TLS (full and resumed handshakes over memory BIOs, no sockets), in framing
// and decoding, and what the scheduler costs per upgrade as the fleet grows. Figures and method:
// docs/benchmarks.md. Run: build/bin/sluice-microbench [--benchmark_filter=...]

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/base/clock.h"
#include "common/proto/frame_codec.h"
#include "common/proto/messages.h"
#include "common/tls/certificate.h"
#include "common/tls/tls_context.h"
#include "common/tls/tls_session.h"
#include "server/sched/scheduler.h"

namespace sluice {
namespace {

// A server certificate in a temp dir, and both TLS contexts, made once per process.
struct TlsFixture {
  std::shared_ptr<tls::TlsContext> server;
  std::shared_ptr<tls::TlsContext> client;

  static TlsFixture& Get() {
    static TlsFixture fixture = Make();
    return fixture;
  }

 private:
  static TlsFixture Make() {
    std::string dir = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) std::abort();
    const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
    if (!tls::GenerateSelfSigned(cert, key, "sluice-bench")) std::abort();
    auto pin = tls::PinOfCertificateFile(cert);
    auto server = tls::TlsContext::CreateServer({.cert_path = cert, .key_path = key});
    auto client = pin ? tls::TlsContext::CreateClient({.pin = *pin}) : std::move(server);
    if (!server || !client) std::abort();
    std::filesystem::remove_all(dir);
    return {*server, *client};
  }
};

// Pumps ciphertext between two sessions until neither has any; returns false on an error.
bool Pump(tls::TlsSession& a, tls::TlsSession& b) {
  Bytes plaintext;
  for (int rounds = 0; rounds < 16 && (a.HasCiphertext() || b.HasCiphertext()); ++rounds) {
    if (!b.Receive(a.TakeCiphertext(), &plaintext)) return false;
    if (!a.Receive(b.TakeCiphertext(), &plaintext)) return false;
  }
  return true;
}

// One check-in's TLS: a handshake, one small record each way (so the client gets its tickets).
std::shared_ptr<SSL_SESSION> Handshake(benchmark::State& state,
                                       std::shared_ptr<SSL_SESSION> resume,
                                       int* resumed = nullptr) {
  auto& fixture = TlsFixture::Get();
  auto client = tls::TlsSession::Create(fixture.client, std::move(resume));
  auto server = tls::TlsSession::Create(fixture.server);
  if (!client || !server || !(*client)->Start()) {
    state.SkipWithError("cannot create sessions");
    return nullptr;
  }
  const uint8_t hello[] = {1, 2, 3, 4};
  (void)(*client)->Send(hello);
  if (!Pump(**client, **server)) state.SkipWithError("handshake failed");
  (void)(*server)->Send(hello);
  if (!Pump(**server, **client)) state.SkipWithError("record failed");
  if (resumed != nullptr && (*client)->resumed()) ++*resumed;
  // An orderly close, as every real client does: OpenSSL will not resume a session whose
  // connection was dropped without close_notify.
  (*client)->Close();
  (*server)->Close();
  if (!Pump(**client, **server)) state.SkipWithError("close failed");
  return (*client)->resumption_session();
}

void BM_TlsHandshakeFull(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Handshake(state, nullptr));
}
BENCHMARK(BM_TlsHandshakeFull);

void BM_TlsHandshakeResumed(benchmark::State& state) {
  auto session = Handshake(state, nullptr);
  int resumed = 0;
  for (auto _ : state) session = Handshake(state, session, &resumed);
  // Share of handshakes that really resumed (1.0 expected): a benchmark that silently fell back
  // to full handshakes would measure the wrong thing.
  state.counters["resumed"] = static_cast<double>(resumed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TlsHandshakeResumed);

// Encode a check-in into a frame, then split and decode it as the server does.
void BM_CheckinFrameRoundTrip(benchmark::State& state) {
  const proto::Message checkin = proto::Checkin{.client_id = "6f1c5d2e-8a0b-4c3d-9e7f-102030405060",
                                                .client_secret = std::string(64, 'a'),
                                                .version = "1.0.0",
                                                .platform = "windows-x86_64"};
  proto::FrameDecoder decoder;
  Bytes frame;
  for (auto _ : state) {
    frame.clear();
    proto::AppendMessageFrame(checkin, &frame);
    decoder.Append(frame);
    auto payload = decoder.Next();
    if (!payload || !*payload) return state.SkipWithError("no frame");
    auto decoded = proto::DecodeMessage(**payload);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_CheckinFrameRoundTrip);

// A whole rollout in the scheduler alone: N connected clients request a slot under limit 50,
// then slots are finished and re-granted until everyone is done. Per-upgrade cost should stay
// flat as N grows.
void BM_SchedulerRollout(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  std::vector<std::string> ids;
  for (int i = 0; i < clients; ++i) ids.push_back("client-" + std::to_string(i));
  for (auto _ : state) {
    FakeClock clock;
    sched::Scheduler scheduler(clock, {});
    scheduler.SetLimit("jump-client", 50);
    std::vector<uint64_t> running;
    for (const auto& id : ids) {
      auto decision = scheduler.Request(id, "jump-client", "2.0.0", true);
      if (auto* granted = std::get_if<sched::Granted>(&decision)) running.push_back(granted->lease.id);
    }
    while (!running.empty()) {
      const uint64_t lease = running.back();
      running.pop_back();
      clock.Advance(1);
      scheduler.Finish(lease);
      for (const auto& next : scheduler.TakeGrants()) running.push_back(next.id);
    }
  }
  state.SetItemsProcessed(state.iterations() * clients);
}
BENCHMARK(BM_SchedulerRollout)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
