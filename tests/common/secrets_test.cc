#include "common/secrets.h"

#include <gtest/gtest.h>

namespace cistern {
namespace {

TEST(SecretsTest, ConstantTimeEqualsIsPlainEquality) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
}

TEST(SecretsTest, BearerMatchesTheSchemeCaseInsensitivelyAndTheTokenExactly) {
  std::vector<std::string> tokens = {"t1", "t2"};
  EXPECT_TRUE(BearerMatches("Bearer t1", tokens));
  EXPECT_TRUE(BearerMatches("Bearer t2", tokens));
  EXPECT_FALSE(BearerMatches("Bearer t3", tokens));
  EXPECT_FALSE(BearerMatches("Bearer ", tokens));
  EXPECT_TRUE(BearerMatches("bearer t1", tokens));  // RFC 9110: scheme case-insensitive
  EXPECT_TRUE(BearerMatches("BEARER t1", tokens));
  EXPECT_FALSE(BearerMatches("Bearer T1", tokens));
  EXPECT_FALSE(BearerMatches("Bearerx t1", tokens));
  EXPECT_FALSE(BearerMatches("t1", tokens));
  EXPECT_FALSE(BearerMatches("", tokens));
  EXPECT_FALSE(BearerMatches("Bearer t1", {}));
}

}  // namespace
}  // namespace cistern
