// BufferPolicy's refusals (src/store/buffer_policy.h): a "buffer full" says how many events
// of the request would fit now, and why (issue 16: it said "buffer full" with a backlog under
// the limit, the rest being requests in flight, and nothing of what would fit by bytes).
#include "store/buffer_policy.h"

#include <gtest/gtest.h>

#include "store/counters.h"

namespace cistern {
namespace {

TEST(BufferPolicyTest, ABacklogRefusalCountsWhatFitsAndWhatIsInFlight) {
  BufferLimits limits;
  limits.max_backlog = 10;
  BufferPolicy policy(limits);
  StoreCounters c;
  c.backlog = 6;
  c.admitted = 8;  // 2 events of other requests are being stored
  Status s = policy.Admit(5, 500, c);
  ASSERT_EQ(s.code(), Status::Code::kBufferFull) << s.message();
  EXPECT_EQ(s.message(),
            "buffer full: 2 of the 5 events in this request would fit now (6 stored and waiting "
            "for upload, 2 more being stored; --max-backlog 10); retry later");
  EXPECT_EQ(c.admitted.load(), 8) << "a refusal admits nothing";
  // What fits is admitted.
  EXPECT_TRUE(policy.Admit(2, 200, c).ok());
  EXPECT_EQ(c.admitted.load(), 10);
}

TEST(BufferPolicyTest, AByteRefusalEstimatesHowManyEventsWouldFit) {
  BufferLimits limits;
  limits.max_db_bytes = 1 << 20;  // headroom: 16 KiB
  limits.schema_bytes = 64 << 10;
  BufferPolicy policy(limits);
  StoreCounters c;
  c.used_bytes = (1 << 20) - (16 << 10) - 10'000;  // 10000 bytes free below the headroom
  Status s = policy.Admit(20, 20'000, c);          // 1000 bytes an event
  ASSERT_EQ(s.code(), Status::Code::kBufferFull) << s.message();
  EXPECT_NE(s.message().find("buffer full: about 10 of the 20 events in this request would fit "
                             "now"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("--max-db-bytes 1.0 MiB"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("retry later"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace cistern
