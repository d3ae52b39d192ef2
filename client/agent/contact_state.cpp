#include "client/agent/contact_state.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace sluice::client {
namespace {

using S = ContactState;
using E = ContactEvent;

struct Row {
  ContactState from;
  ContactEvent event;
  ContactState to;
};

// The whole contact lifecycle. Anything not listed is refused by Transition().
constexpr std::array kTable = {
    // Dial and set up TLS.
    Row{S::kIdle, E::kDial, S::kDialing},
    Row{S::kDialing, E::kDialed, S::kHandshaking},
    Row{S::kDialing, E::kDialFailed, S::kIdle},
    Row{S::kHandshaking, E::kHandshake, S::kCheckingIn},
    // Enroll (first contact) and check in.
    Row{S::kCheckingIn, E::kEnrolled, S::kCheckingIn},
    Row{S::kCheckingIn, E::kCheckedIn, S::kOnline},
    // The site's answer about an upgrade.
    Row{S::kOnline, E::kHold, S::kHeld},
    Row{S::kOnline, E::kGrant, S::kDownloading},
    Row{S::kHeld, E::kGrant, S::kDownloading},
    Row{S::kDownloading, E::kChunk, S::kDownloading},
    Row{S::kDownloading, E::kUpgradeDone, S::kOnline},
    // A contact with nothing left to do hangs up; a download in progress finishes first (an
    // acknowledgement of the previous report may arrive while the next package does).
    Row{S::kOnline, E::kHangUp, S::kHangingUp},
    Row{S::kHeld, E::kHangUp, S::kHangingUp},
    Row{S::kDownloading, E::kHangUp, S::kDownloading},
    // The contact ends early: an error, or the site asks for a reconnect after its update.
    Row{S::kCheckingIn, E::kAbort, S::kAborting},
    Row{S::kOnline, E::kAbort, S::kAborting},
    Row{S::kHeld, E::kAbort, S::kAborting},
    Row{S::kDownloading, E::kAbort, S::kAborting},
    Row{S::kCheckingIn, E::kReconnect, S::kReconnecting},
    Row{S::kOnline, E::kReconnect, S::kReconnecting},
    Row{S::kHeld, E::kReconnect, S::kReconnecting},
    Row{S::kDownloading, E::kReconnect, S::kReconnecting},
    // The connection closed: idle again (ComebackAfter says when to dial).
    Row{S::kHandshaking, E::kClosed, S::kIdle},
    Row{S::kCheckingIn, E::kClosed, S::kIdle},
    Row{S::kOnline, E::kClosed, S::kIdle},
    Row{S::kHeld, E::kClosed, S::kIdle},
    Row{S::kDownloading, E::kClosed, S::kIdle},
    Row{S::kHangingUp, E::kClosed, S::kIdle},
    Row{S::kAborting, E::kClosed, S::kIdle},
    Row{S::kReconnecting, E::kClosed, S::kIdle},
    Row{S::kStopping, E::kClosed, S::kStopped},
    // Stop: at once without a connection, after the close with one. Idempotent.
    Row{S::kIdle, E::kStop, S::kStopped},
    Row{S::kDialing, E::kStop, S::kStopped},
    Row{S::kHandshaking, E::kStop, S::kStopping},
    Row{S::kCheckingIn, E::kStop, S::kStopping},
    Row{S::kOnline, E::kStop, S::kStopping},
    Row{S::kHeld, E::kStop, S::kStopping},
    Row{S::kDownloading, E::kStop, S::kStopping},
    Row{S::kHangingUp, E::kStop, S::kStopping},
    Row{S::kAborting, E::kStop, S::kStopping},
    Row{S::kReconnecting, E::kStop, S::kStopping},
    Row{S::kStopping, E::kStop, S::kStopping},
    Row{S::kStopped, E::kStop, S::kStopped},
};

constexpr std::array<std::pair<ContactState, std::string_view>, 12> kStateNames = {{
    {S::kIdle, "idle"},
    {S::kDialing, "dialing"},
    {S::kHandshaking, "handshaking"},
    {S::kCheckingIn, "checking_in"},
    {S::kOnline, "online"},
    {S::kHeld, "held"},
    {S::kDownloading, "downloading"},
    {S::kHangingUp, "hanging_up"},
    {S::kAborting, "aborting"},
    {S::kReconnecting, "reconnecting"},
    {S::kStopping, "stopping"},
    {S::kStopped, "stopped"},
}};

constexpr std::array<std::pair<ContactEvent, std::string_view>, 15> kEventNames = {{
    {E::kDial, "dial"},
    {E::kDialed, "dialed"},
    {E::kDialFailed, "dial_failed"},
    {E::kHandshake, "handshake"},
    {E::kEnrolled, "enrolled"},
    {E::kCheckedIn, "checked_in"},
    {E::kHold, "hold"},
    {E::kGrant, "grant"},
    {E::kChunk, "chunk"},
    {E::kUpgradeDone, "upgrade_done"},
    {E::kHangUp, "hang_up"},
    {E::kAbort, "abort"},
    {E::kReconnect, "reconnect"},
    {E::kClosed, "closed"},
    {E::kStop, "stop"},
}};

}  // namespace

std::string_view ToString(ContactState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "?";
}

std::string_view ToString(ContactEvent event) {
  for (const auto& [value, name] : kEventNames) {
    if (value == event) return name;
  }
  return "?";
}

Result<ContactState> Transition(ContactState state, ContactEvent event) {
  for (const Row& row : kTable) {
    if (row.from == state && row.event == event) return row.to;
  }
  return Fail(Errc::kInternal, "contact state machine: no transition from '" +
                                   std::string(ToString(state)) + "' on '" +
                                   std::string(ToString(event)) + "'");
}

bool IsAttempt(ContactState state) {
  return state == S::kDialing || state == S::kHandshaking || state == S::kCheckingIn;
}

bool HasConnection(ContactState state) {
  return state != S::kIdle && state != S::kDialing && state != S::kStopped;
}

Comeback ComebackAfter(ContactState closed_in) {
  switch (closed_in) {
    case S::kReconnecting:
      return Comeback::kSoon;
    case S::kOnline:
    case S::kHeld:
    case S::kHangingUp:
    case S::kAborting:
      return Comeback::kPlanned;
    default:
      // A failed attempt or a download cut off (it resumes from the partial file).
      return Comeback::kBackoff;
  }
}

uint64_t ReconnectBackoffMs(uint64_t min_ms, uint64_t max_ms, int consecutive_failures,
                            Jitter& jitter) {
  const int exponent = std::clamp(consecutive_failures - 1, 0, 16);
  return jitter.SpreadMs(std::min(min_ms << exponent, max_ms), 0.2);
}

}  // namespace sluice::client
