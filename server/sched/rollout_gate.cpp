#include "server/sched/rollout_gate.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <vector>

namespace sluice::sched {
namespace {

constexpr int64_t kPercentSampleWithoutWave = 10;

bool ParseInt(std::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string GateAmount::ToString() const {
  if (none()) return "";
  return std::to_string(value) + (percent ? "%" : "");
}

Result<GateAmount> ParseGateAmount(std::string_view text) {
  GateAmount amount;
  if (text.empty()) return amount;
  if (text.back() == '%') {
    amount.percent = true;
    text.remove_suffix(1);
  }
  if (!ParseInt(text, &amount.value) || amount.value < 0 ||
      (amount.percent && (amount.value == 0 || amount.value > 100))) {
    return Fail(Errc::kInvalidArgument,
                "expected a whole number of clients (0: none) or a percentage from 1% to 100%");
  }
  if (amount.value == 0) amount.percent = false;
  return amount;
}

int64_t WaveSize(const GateAmount& wave, int64_t outdated) {
  if (wave.none() || outdated <= 0) return 0;
  if (!wave.percent) return wave.value;
  return std::max<int64_t>((wave.value * outdated + 99) / 100, 1);  // ceil, at least 1
}

std::string_view PhaseName(RolloutGate::Phase phase) {
  switch (phase) {
    case RolloutGate::Phase::kWave: return "wave";
    case RolloutGate::Phase::kOpen: return "open";
    case RolloutGate::Phase::kHalted: return "halted";
  }
  return "open";
}

void RolloutGate::Start(std::string version, int64_t wave_size) {
  state_ = State{.version = std::move(version),
                 .phase = wave_size > 0 ? Phase::kWave : Phase::kOpen,
                 .wave_size = std::max<int64_t>(wave_size, 0)};
}

std::optional<int64_t> RolloutGate::GrantBudget() const {
  switch (state_.phase) {
    case Phase::kOpen: return std::nullopt;
    case Phase::kHalted: return 0;
    case Phase::kWave: return std::max<int64_t>(state_.wave_size - state_.wave_granted, 0);
  }
  return 0;
}

void RolloutGate::OnGranted() {
  if (state_.phase == Phase::kWave) ++state_.wave_granted;
}

void RolloutGate::OnExpired() {
  if (state_.phase == Phase::kWave && state_.wave_granted > 0) --state_.wave_granted;
}

bool RolloutGate::OnEnded(bool failed, const GateAmount& threshold) {
  if (state_.phase == Phase::kHalted) return false;  // running upgrades finish; nothing changes
  ++state_.ended;
  if (failed) ++state_.failures;
  bool halt = false;
  if (!threshold.none()) {
    if (threshold.percent) {
      const int64_t sample = state_.wave_size > 0 ? state_.wave_size : kPercentSampleWithoutWave;
      halt = state_.ended >= sample && state_.failures * 100 >= threshold.value * state_.ended;
    } else {
      halt = state_.failures >= threshold.value;
    }
  }
  if (halt) {
    state_.phase = Phase::kHalted;
    state_.halt_reason = std::to_string(state_.failures) + " of " + std::to_string(state_.ended) +
                         " ended upgrades failed (threshold " + threshold.ToString() + ")";
    return true;
  }
  // The wave's outcome is in once every one of its upgrades has ended.
  if (state_.phase == Phase::kWave && state_.ended >= state_.wave_size) state_.phase = Phase::kOpen;
  return false;
}

void RolloutGate::Resume() {
  state_.phase = Phase::kOpen;
  state_.ended = 0;
  state_.failures = 0;
  state_.wave_granted = 0;
  state_.halt_reason.clear();
}

std::string RolloutGate::Encode() const {
  return state_.version + " " + std::string(PhaseName(state_.phase)) + " " +
         std::to_string(state_.wave_size) + " " + std::to_string(state_.wave_granted) + " " +
         std::to_string(state_.ended) + " " + std::to_string(state_.failures) + " " +
         state_.halt_reason;
}

Result<RolloutGate> RolloutGate::Decode(std::string_view text) {
  std::vector<std::string_view> parts;
  for (int i = 0; i < 6; ++i) {
    const size_t space = text.find(' ');
    if (space == std::string_view::npos) return Fail(Errc::kCorrupt, "rollout gate: too few fields");
    parts.push_back(text.substr(0, space));
    text.remove_prefix(space + 1);
  }
  State state{.version = std::string(parts[0]), .halt_reason = std::string(text)};
  if (parts[1] == "wave") {
    state.phase = Phase::kWave;
  } else if (parts[1] == "open") {
    state.phase = Phase::kOpen;
  } else if (parts[1] == "halted") {
    state.phase = Phase::kHalted;
  } else {
    return Fail(Errc::kCorrupt, "rollout gate: unknown phase '" + std::string(parts[1]) + "'");
  }
  if (!ParseInt(parts[2], &state.wave_size) || !ParseInt(parts[3], &state.wave_granted) ||
      !ParseInt(parts[4], &state.ended) || !ParseInt(parts[5], &state.failures)) {
    return Fail(Errc::kCorrupt, "rollout gate: a count is not a number");
  }
  return RolloutGate(std::move(state));
}

}  // namespace sluice::sched
