#include "client/agent/contact_state.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

namespace sluice::client {
namespace {

using State = ContactState;
using Event = ContactEvent;

const std::vector<State> kAllStates = {
    State::kIdle,     State::kDialing,      State::kHandshaking, State::kCheckingIn,
    State::kOnline,   State::kHeld,         State::kDownloading, State::kHangingUp,
    State::kAborting, State::kReconnecting, State::kStopping,    State::kStopped,
};
const std::vector<Event> kAllEvents = {
    Event::kDial,      Event::kDialed, Event::kDialFailed, Event::kHandshake, Event::kEnrolled,
    Event::kCheckedIn, Event::kHold,   Event::kGrant,      Event::kChunk,     Event::kUpgradeDone,
    Event::kHangUp,    Event::kAbort,  Event::kReconnect,  Event::kClosed,    Event::kStop,
};

// Every row of the table, written out once more: a row added, dropped or changed in
// contact_state.cpp fails here until this list agrees.
const std::vector<std::tuple<State, Event, State>> kExpectedRows = {
    {State::kIdle, Event::kDial, State::kDialing},
    {State::kDialing, Event::kDialed, State::kHandshaking},
    {State::kDialing, Event::kDialFailed, State::kIdle},
    {State::kHandshaking, Event::kHandshake, State::kCheckingIn},
    {State::kCheckingIn, Event::kEnrolled, State::kCheckingIn},
    {State::kCheckingIn, Event::kCheckedIn, State::kOnline},
    {State::kOnline, Event::kHold, State::kHeld},
    {State::kOnline, Event::kGrant, State::kDownloading},
    {State::kHeld, Event::kGrant, State::kDownloading},
    {State::kDownloading, Event::kChunk, State::kDownloading},
    {State::kDownloading, Event::kUpgradeDone, State::kOnline},
    {State::kOnline, Event::kHangUp, State::kHangingUp},
    {State::kHeld, Event::kHangUp, State::kHangingUp},
    {State::kDownloading, Event::kHangUp, State::kDownloading},
    {State::kCheckingIn, Event::kAbort, State::kAborting},
    {State::kOnline, Event::kAbort, State::kAborting},
    {State::kHeld, Event::kAbort, State::kAborting},
    {State::kDownloading, Event::kAbort, State::kAborting},
    {State::kCheckingIn, Event::kReconnect, State::kReconnecting},
    {State::kOnline, Event::kReconnect, State::kReconnecting},
    {State::kHeld, Event::kReconnect, State::kReconnecting},
    {State::kDownloading, Event::kReconnect, State::kReconnecting},
    {State::kHandshaking, Event::kClosed, State::kIdle},
    {State::kCheckingIn, Event::kClosed, State::kIdle},
    {State::kOnline, Event::kClosed, State::kIdle},
    {State::kHeld, Event::kClosed, State::kIdle},
    {State::kDownloading, Event::kClosed, State::kIdle},
    {State::kHangingUp, Event::kClosed, State::kIdle},
    {State::kAborting, Event::kClosed, State::kIdle},
    {State::kReconnecting, Event::kClosed, State::kIdle},
    {State::kStopping, Event::kClosed, State::kStopped},
    {State::kIdle, Event::kStop, State::kStopped},
    {State::kDialing, Event::kStop, State::kStopped},
    {State::kHandshaking, Event::kStop, State::kStopping},
    {State::kCheckingIn, Event::kStop, State::kStopping},
    {State::kOnline, Event::kStop, State::kStopping},
    {State::kHeld, Event::kStop, State::kStopping},
    {State::kDownloading, Event::kStop, State::kStopping},
    {State::kHangingUp, Event::kStop, State::kStopping},
    {State::kAborting, Event::kStop, State::kStopping},
    {State::kReconnecting, Event::kStop, State::kStopping},
    {State::kStopping, Event::kStop, State::kStopping},
    {State::kStopped, Event::kStop, State::kStopped},
};

TEST(ContactStateTest, EveryTransitionIsTheExpectedOneAndNoOtherExists) {
  std::set<std::pair<State, Event>> listed;
  for (const auto& [from, event, to] : kExpectedRows) {
    listed.insert({from, event});
    auto next = Transition(from, event);
    ASSERT_TRUE(next) << ToString(from) << " on " << ToString(event);
    EXPECT_EQ(*next, to) << ToString(from) << " on " << ToString(event);
  }
  for (State from : kAllStates) {
    for (Event event : kAllEvents) {
      if (listed.contains({from, event})) continue;
      auto next = Transition(from, event);
      ASSERT_FALSE(next) << ToString(from) << " on " << ToString(event) << " -> "
                         << ToString(*next);
      EXPECT_EQ(next.error().code(), Errc::kInternal);
      EXPECT_NE(next.error().message().find(std::string(ToString(from))), std::string::npos);
      EXPECT_NE(next.error().message().find(std::string(ToString(event))), std::string::npos);
    }
  }
}

State Drive(State state, std::initializer_list<Event> events) {
  for (Event event : events) {
    auto next = Transition(state, event);
    EXPECT_TRUE(next) << next.error().ToString();
    if (!next) return state;
    state = *next;
  }
  return state;
}

TEST(ContactStateTest, AnActiveClientChecksInAndStaysOnline) {
  EXPECT_EQ(
      Drive(State::kIdle, {Event::kDial, Event::kDialed, Event::kHandshake, Event::kCheckedIn}),
      State::kOnline);
  // First contact: enroll, then check in on the same connection.
  EXPECT_EQ(Drive(State::kIdle, {Event::kDial, Event::kDialed, Event::kHandshake, Event::kEnrolled,
                                 Event::kCheckedIn}),
            State::kOnline);
}

TEST(ContactStateTest, AnUpgradeRunsAndTheContactEnds) {
  EXPECT_EQ(Drive(State::kOnline, {Event::kGrant, Event::kChunk, Event::kChunk, Event::kUpgradeDone,
                                   Event::kHangUp, Event::kClosed}),
            State::kIdle);
  // A passive client held in the queue gets its grant pushed.
  EXPECT_EQ(Drive(State::kOnline, {Event::kHold, Event::kGrant, Event::kUpgradeDone}),
            State::kOnline);
}

TEST(ContactStateTest, AHangUpWaitsForADownloadInProgress) {
  EXPECT_EQ(Transition(State::kDownloading, Event::kHangUp), State::kDownloading);
  EXPECT_EQ(Transition(State::kDownloading, Event::kAbort), State::kAborting);
}

TEST(ContactStateTest, MessagesOutOfOrderHaveNoRow) {
  // What the agent answers with unexpected_message: a site that skips or repeats steps.
  EXPECT_FALSE(Transition(State::kCheckingIn, Event::kGrant));
  EXPECT_FALSE(Transition(State::kOnline, Event::kChunk));
  EXPECT_FALSE(Transition(State::kOnline, Event::kCheckedIn));
  EXPECT_FALSE(Transition(State::kOnline, Event::kEnrolled));
  EXPECT_FALSE(Transition(State::kDownloading, Event::kGrant));
  EXPECT_FALSE(Transition(State::kHeld, Event::kHold));
}

TEST(ContactStateTest, StopIsImmediateWithoutAConnectionAndIdempotent) {
  for (State state : kAllStates) {
    auto next = Transition(state, Event::kStop);
    ASSERT_TRUE(next) << ToString(state);
    EXPECT_EQ(*next, HasConnection(state) ? State::kStopping : State::kStopped) << ToString(state);
  }
  EXPECT_EQ(Transition(State::kStopping, Event::kClosed), State::kStopped);
}

TEST(ContactStateTest, AttemptsAndConnections) {
  for (State state : kAllStates) {
    const bool attempt =
        state == State::kDialing || state == State::kHandshaking || state == State::kCheckingIn;
    EXPECT_EQ(IsAttempt(state), attempt) << ToString(state);
    const bool connection =
        state != State::kIdle && state != State::kDialing && state != State::kStopped;
    EXPECT_EQ(HasConnection(state), connection) << ToString(state);
    // Exactly the states with a connection can see it close.
    EXPECT_EQ(static_cast<bool>(Transition(state, Event::kClosed)), connection) << ToString(state);
  }
}

TEST(ContactStateTest, ComebackAfterEachEnding) {
  EXPECT_EQ(ComebackAfter(State::kReconnecting), Comeback::kSoon);
  for (State state : {State::kOnline, State::kHeld, State::kHangingUp, State::kAborting}) {
    EXPECT_EQ(ComebackAfter(state), Comeback::kPlanned) << ToString(state);
  }
  for (State state :
       {State::kDialing, State::kHandshaking, State::kCheckingIn, State::kDownloading}) {
    EXPECT_EQ(ComebackAfter(state), Comeback::kBackoff) << ToString(state);
  }
}

TEST(ContactStateTest, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (State state : kAllStates) names.insert(ToString(state));
  EXPECT_EQ(names.size(), kAllStates.size());
  EXPECT_FALSE(names.contains("?"));
  std::set<std::string_view> event_names;
  for (Event event : kAllEvents) event_names.insert(ToString(event));
  EXPECT_EQ(event_names.size(), kAllEvents.size());
  EXPECT_FALSE(event_names.contains("?"));
  EXPECT_EQ(ToString(State::kCheckingIn), "checking_in");
  EXPECT_EQ(ToString(Event::kDialFailed), "dial_failed");
}

TEST(ReconnectBackoffTest, DoublesPerFailureUpToTheCapWithTwentyPercentSpread) {
  Jitter jitter(42);
  const uint64_t min_ms = 1'000;
  const uint64_t max_ms = 60'000;
  for (int failures = 0; failures <= 40; ++failures) {
    const int exponent = failures <= 1 ? 0 : failures - 1;
    const uint64_t base = exponent >= 6 ? max_ms : std::min(min_ms << exponent, max_ms);
    for (int draw = 0; draw < 200; ++draw) {
      const uint64_t delay = ReconnectBackoffMs(min_ms, max_ms, failures, jitter);
      EXPECT_GE(delay, base * 8 / 10) << failures;
      EXPECT_LT(delay, base * 12 / 10) << failures;
    }
  }
}

TEST(ReconnectBackoffTest, TheSpreadCoversTheWholeBand) {
  // A fleet that failed together must not come back together: the draws fill ±20 %.
  Jitter jitter(7);
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  for (int draw = 0; draw < 2'000; ++draw) {
    const uint64_t delay = ReconnectBackoffMs(10'000, 60'000, 1, jitter);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_LT(low, 8'200u);
  EXPECT_GT(high, 11'800u);
}

}  // namespace
}  // namespace sluice::client
