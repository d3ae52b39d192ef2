#pragma once
// The canary wave and the automatic halt of one limit scope's rollout (one site version).
//
// Rules (docs/admin.md, "Canary wave and automatic halt"):
//  - Wave: the first `wave_size` upgrades of the rollout. Once that many grants are made, no
//    more are made until every one of them has ended; a lease that expires gives its grant back
//    (its client is back in line, and the wave still needs `wave_size` outcomes).
//  - Ended upgrade: a result `finish`, `fail` or `rollback` from the client holding the live
//    lease. Failure: `fail` or `rollback`. A lease `expire` is neither (the client retries); a
//    result after its lease expired is not counted (it cannot be told from a forged one).
//  - Halt rule, over every upgrade ended since the version change (or the last resume):
//      count N:   halt when failures >= N;
//      percent P: halt when failures * 100 >= P * ended, once ended >= the wave size (10 when
//                 there is no wave).
//    It is checked after every ended upgrade, during the wave and after it.
//  - Halted: no grants until Resume(), which clears the counts and the wave.
// Pure state; persisted by the caller after every change (Encode / Decode). Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::sched {

// "N" (a count) or "P%" (a percentage, 0 < P <= 100). Count 0 means "none".
struct GateAmount {
  int64_t value = 0;
  bool percent = false;
  bool operator==(const GateAmount&) const = default;
  bool none() const { return value == 0; }
  std::string ToString() const;  // "5", "20%", "" for none
};

// Errors: kInvalidArgument naming the accepted forms. "" and "0" are none.
[[nodiscard]] Result<GateAmount> ParseGateAmount(std::string_view text);

struct GateConfig {
  GateAmount wave;       // N clients or P % of the scope's outdated clients
  GateAmount threshold;  // failures that halt: N, or P % of ended upgrades
  bool operator==(const GateConfig&) const = default;
};

// The wave size for `outdated` clients: N itself, or ceil(P * outdated / 100), at least 1 when
// anything is outdated; 0 for no wave.
int64_t WaveSize(const GateAmount& wave, int64_t outdated);

class RolloutGate {
 public:
  enum class Phase { kWave, kOpen, kHalted };

  struct State {
    std::string version = {};  // the site version this rollout is about
    Phase phase = Phase::kOpen;
    int64_t wave_size = 0;
    int64_t wave_granted = 0;  // grants of the wave still counting (expiries give them back)
    int64_t ended = 0;         // since the version change or the last resume
    int64_t failures = 0;
    std::string halt_reason = {};  // set while halted
    bool operator==(const State&) const = default;
  };

  RolloutGate() = default;
  explicit RolloutGate(State state) : state_(std::move(state)) {}

  // A new rollout: counts cleared, a wave of `wave_size` (0: none).
  void Start(std::string version, int64_t wave_size);
  // How many more grants may be made now: nullopt = no limit from the gate.
  std::optional<int64_t> GrantBudget() const;
  void OnGranted();
  void OnExpired();
  // One upgrade ended; returns true if this made the rollout halt (the reason is then set).
  bool OnEnded(bool failed, const GateAmount& threshold);
  void Resume();

  const State& state() const { return state_; }
  bool halted() const { return state_.phase == Phase::kHalted; }

  // Persistence: one line of text. Decode errors: kCorrupt.
  std::string Encode() const;
  [[nodiscard]] static Result<RolloutGate> Decode(std::string_view text);

 private:
  State state_;
};

std::string_view PhaseName(RolloutGate::Phase phase);  // "wave", "open", "halted"

}  // namespace sluice::sched
