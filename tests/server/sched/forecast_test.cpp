#include "server/sched/forecast.h"

#include <gtest/gtest.h>

namespace sluice::sched {
namespace {

TEST(Forecast, FullSlotsFinishInWavesOfTheEstimate) {
  // 2 slots, 10 s per upgrade, 6 clients in line and none running: 3 waves.
  auto done = ForecastScope({.limit = 2, .estimate_ms = 10'000, .in_line = 6});
  EXPECT_EQ(done, (std::vector<int64_t>{10'000, 10'000, 20'000, 20'000, 30'000, 30'000}));
  Forecast f = CombineForecasts(done, 6);
  EXPECT_EQ(f.to_90_ms, 30'000);  // ceil(0.9 * 6) = 6th client
  EXPECT_EQ(f.to_100_ms, 30'000);
}

TEST(Forecast, RunningLeasesFreeTheirSlotsWhenTheEstimateSaysTheyEnd) {
  // One lease 7 s into a 10 s upgrade, one already overdue: slots free at 3 s and now.
  auto done = ForecastScope({.limit = 2,
                             .estimate_ms = 10'000,
                             .running_elapsed_ms = {7'000, 12'000},
                             .in_line = 2});
  EXPECT_EQ(done, (std::vector<int64_t>{0, 3'000, 10'000, 13'000}));
}

TEST(Forecast, BandwidthFloorAndArrivalsThroughTheConnectionGate) {
  // The cap makes an upgrade take 20 s, not the 5 s estimate; unseen active clients come one
  // every 100 ms (10/s), so with 4 slots the 4th unseen client starts at 400 ms.
  auto done = ForecastScope({.limit = 4,
                             .estimate_ms = 5'000,
                             .transfer_floor_ms = 20'000,
                             .unseen_active = 5,
                             .connection_rate_per_s = 10});
  EXPECT_EQ(done, (std::vector<int64_t>{20'100, 20'200, 20'300, 20'400, 40'100}));
}

TEST(Forecast, MarksNeedingUnknownClientsStayUnknown) {
  std::vector<int64_t> done = {1'000, 2'000, 3'000, 4'000, 5'000, 6'000, 7'000, 8'000, 9'000};
  // 10 outdated, 9 placed: 90 % (9 clients) is known, 100 % is not.
  Forecast f = CombineForecasts(done, 10);
  EXPECT_EQ(f.to_90_ms, 9'000);
  EXPECT_FALSE(f.to_100_ms);
  // 11 outdated: 90 % needs 10 clients (ceil 9.9), one more than placed.
  Forecast g = CombineForecasts(done, 11);
  EXPECT_FALSE(g.to_90_ms);
  EXPECT_FALSE(g.to_100_ms);
  // The 90 % mark is computed in integers: ceil(0.9 * 30) is 27, not 28.
  std::vector<int64_t> thirty;
  for (int i = 1; i <= 30; ++i) thirty.push_back(i);
  EXPECT_EQ(CombineForecasts(thirty, 30).to_90_ms, 27);
  Forecast none = CombineForecasts({}, 0);
  EXPECT_EQ(none.to_90_ms, 0);
  EXPECT_EQ(none.to_100_ms, 0);
}

}  // namespace
}  // namespace sluice::sched
