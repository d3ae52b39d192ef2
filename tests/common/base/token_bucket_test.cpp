#include "common/base/token_bucket.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TokenBucketTest, StartsFullAndAllowsOneBurst) {
  TokenBucket bucket(/*rate_per_s=*/10, /*burst=*/5, /*now_ms=*/1000);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.TryTake(1, 1000)) << i;
  EXPECT_FALSE(bucket.TryTake(1, 1000));
}

TEST(TokenBucketTest, RefillsAtTheRateUpToTheBurst) {
  TokenBucket bucket(10, 5, 0);
  ASSERT_TRUE(bucket.TryTake(5, 0));
  EXPECT_FALSE(bucket.TryTake(1, 50));  // half a token earned
  EXPECT_TRUE(bucket.TryTake(1, 100));
  EXPECT_FALSE(bucket.TryTake(1, 100));
  // A long idle period refills only up to the burst.
  EXPECT_TRUE(bucket.TryTake(5, 100'000));
  EXPECT_FALSE(bucket.TryTake(1, 100'000));
}

TEST(TokenBucketTest, WaitMsSaysWhenTokensWillBeThere) {
  TokenBucket bucket(10, 5, 0);
  EXPECT_EQ(bucket.WaitMs(5, 0), 0);
  ASSERT_TRUE(bucket.TryTake(5, 0));
  const int64_t wait = bucket.WaitMs(2, 0);
  EXPECT_GE(wait, 200);
  EXPECT_LE(wait, 201);
  EXPECT_FALSE(bucket.TryTake(2, wait - 2));
  EXPECT_TRUE(bucket.TryTake(2, wait));
  // More than the burst is capped at the burst, so the wait is finite.
  EXPECT_LE(bucket.WaitMs(1000, wait), 501);
}

TEST(TokenBucketTest, SetRateKeepsEarnedTokensUpToTheNewBurst) {
  TokenBucket bucket(10, 5, 0);
  ASSERT_TRUE(bucket.TryTake(2, 0));  // 3 left
  bucket.SetRate(100, 10, 0);         // bigger burst: the 3 stay, no free refill
  EXPECT_TRUE(bucket.TryTake(3, 0));
  EXPECT_FALSE(bucket.TryTake(1, 0));
  EXPECT_TRUE(bucket.TryTake(10, 100));  // new rate: 10 tokens in 100 ms
  TokenBucket small(10, 5, 0);
  small.SetRate(10, 2, 0);  // smaller burst clamps the 5 earned tokens to 2
  EXPECT_TRUE(small.TryTake(2, 0));
  EXPECT_FALSE(small.TryTake(1, 0));
}

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, 1, 0);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.TryTake(1e9, 0));
  EXPECT_EQ(bucket.WaitMs(1e9, 0), 0);
  bucket.SetRate(1, 1, 0);
  EXPECT_FALSE(bucket.unlimited());
}

TEST(TokenBucketTest, ClockGoingBackwardsEarnsNothing) {
  TokenBucket bucket(10, 5, 1000);
  ASSERT_TRUE(bucket.TryTake(5, 1000));
  EXPECT_FALSE(bucket.TryTake(1, 500));
  EXPECT_FALSE(bucket.TryTake(1, 1050));
  EXPECT_TRUE(bucket.TryTake(1, 1100));
}

}  // namespace
}  // namespace sluice
