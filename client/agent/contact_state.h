#pragma once
// The agent's contact lifecycle as one table: (state, event) -> state, beside the update
// machine (client/update/update_state.h) and in its style.
//
// One contact: dial, TLS, enroll or check in, then what the site answers. Active clients stay
// online and heartbeat; passive and one-shot clients hang up when the contact has nothing left
// to do. When the connection closes the agent is idle again and the contact timer says when it
// dials next (ComebackAfter); only an idle agent has the timer armed.
//
//   idle --dial--> dialing --dialed--> handshaking --handshake--> checking_in
//   checking_in --enrolled--> checking_in --checked_in--> online
//   online --hold--> held;  online/held --grant--> downloading --chunk--> downloading
//   downloading --upgrade_done--> online
//   online/held --hang_up--> hanging_up;  any connected state --abort--> aborting
//   any connected state --reconnect--> reconnecting;  any connected state --closed--> idle
//   dialing --dial_failed--> idle;  any state --stop--> stopping (connected) or stopped
//
// All functions are pure and thread-safe.

#include <cstdint>
#include <string_view>

#include "common/base/error.h"
#include "common/base/jitter.h"

namespace sluice::client {

enum class ContactState {
  kIdle,          // not connected; the contact timer (if armed) says when to dial
  kDialing,       // TCP connect in flight; no connection object yet
  kHandshaking,   // connected; the TLS handshake is in flight
  kCheckingIn,    // enroll or checkin sent; awaiting checkin_ok
  kOnline,        // checked in: active clients heartbeat; passive ones await the site's answer
  kHeld,          // passive and queued: stays connected for a pushed grant until the hold ends
  kDownloading,   // a granted package is arriving chunk by chunk
  kHangingUp,     // the contact is done; closing, then come back as planned
  kAborting,      // the contact cannot go on (a site error); closing, then come back
  kReconnecting,  // the site asked for a reconnect (it was updated); closing, then come back soon
  kStopping,      // Stop() with a connection open: closing, then stopped
  kStopped,       // for good: Stop(), a finished one-shot run, or an installer key refused
};

enum class ContactEvent {
  kDial,         // the contact timer fired
  kDialed,       // TCP connected and a TLS session exists: the handshake starts
  kDialFailed,   // TCP connect or TLS setup failed before a connection existed
  kHandshake,    // TLS is up: enroll (first contact) or check in
  kEnrolled,     // `enrolled`: the identity is saved; check in next
  kCheckedIn,    // `checkin_ok`
  kHold,         // `upgrade_wait` with hold_s > 0 for a passive client
  kGrant,        // `upgrade_grant`
  kChunk,        // `chunk` of the granted package
  kUpgradeDone,  // the upgrade was applied (or refused locally) and its report sent
  kHangUp,       // the contact has nothing left to do (passive and one-shot clients)
  kAbort,        // the contact cannot go on: the site sent `error`, or the identity was not saved
  kReconnect,    // the site sent `error` code `reconnect`
  kClosed,       // the connection closed, whoever closed it
  kStop,         // Stop()
};

std::string_view ToString(ContactState state);
std::string_view ToString(ContactEvent event);

// The state `event` leads to from `state`. Errc::kInternal naming both if the table has no such
// row. For an event caused by a site message, no row means the site broke the protocol.
[[nodiscard]] Result<ContactState> Transition(ContactState state, ContactEvent event);

// dialing, handshaking and checking_in: an attempt that has not checked in yet. Leaving one for
// anything but online is a failed attempt, which lengthens the backoff.
bool IsAttempt(ContactState state);
// The states in which a connection object exists (handshaking .. stopping).
bool HasConnection(ContactState state);

// When the agent dials again after a contact that closed in `state`.
enum class Comeback {
  kSoon,     // within 200 ms (jittered): the site asked for it
  kPlanned,  // at the time the site gave this contact (next check-in, queue retry); after the
             // reconnect backoff if it gave none (active clients, a failed check-in)
  kBackoff,  // after the reconnect backoff: a failed attempt or a download cut off
};
Comeback ComebackAfter(ContactState closed_in);

// The one reconnect backoff: min_ms doubled per consecutive failure (the first failure waits
// min_ms), at most max_ms, spread by ±20 % so a fleet does not come back in step.
uint64_t ReconnectBackoffMs(uint64_t min_ms, uint64_t max_ms, int consecutive_failures,
                            Jitter& jitter);

}  // namespace sluice::client
