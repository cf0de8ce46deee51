// NatsSink against real nats-server processes started by the tests (JetStream, loopback).
#include "sinks/nats/nats_sink.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "support/nats_server.h"

namespace cistern {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::JsReader;
using testing::NatsCluster;
using testing::NatsServer;

constexpr char kNode[] = "node7";

// Events first_id .. first_id+n-1; device ids cycle through three, one with a '.' (which the
// subject template must not turn into an extra token).
UploadBatch MakeBatch(int64_t first_id, size_t n) {
  static const char* kDevices[] = {"dev-a", "dev.b", "dev-c"};
  UploadBatch b;
  b.node_id = kNode;
  for (size_t i = 0; i < n; ++i) {
    int64_t id = first_id + static_cast<int64_t>(i);
    b.ids.push_back(id);
    std::string payload = "{\"seq\":" + std::to_string(id) + ",\"ok\":true}";
    b.events.Add(kDevices[id % 3], id % 2 ? "temp" : "door", payload, id % 5 != 0,
                 1700000000000 + id);
  }
  return b;
}

std::unique_ptr<Sink> MakeSink(const std::string& url, milliseconds timeout = milliseconds(5000),
                               int replicas = 1) {
  NatsOptions o;
  o.url = url;
  o.timeout = timeout;
  o.replicas = replicas;
  auto sink = MakeNatsSink(o);
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  return sink.ok() ? std::move(sink).value() : nullptr;
}

// Sends `batch` again and again, as the uploader would after kRetry, until it is acknowledged
// or `limit` passes. Returns the final result; counts the retries.
SendResult SendWithRetry(Sink& sink, const UploadBatch& batch, milliseconds limit,
                         std::vector<std::string>* retried = nullptr) {
  auto deadline = steady_clock::now() + limit;
  for (;;) {
    SendResult r = sink.Send(batch);
    if (r.ok() || r.outcome == SendResult::Outcome::kPermanent || steady_clock::now() >= deadline) {
      return r;
    }
    if (retried != nullptr) retried->push_back(r.error);
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// The stream holds exactly the events first..last, each once, in id order.
void ExpectExactlyOnce(JsReader& reader, int64_t first, int64_t last) {
  std::vector<testing::StoredMessage> msgs = reader.Messages("CISTERN");
  ASSERT_EQ(msgs.size(), static_cast<size_t>(last - first + 1)) << reader.error();
  std::set<std::string> ids;
  for (size_t i = 0; i < msgs.size(); ++i) {
    std::string want = std::string(kNode) + "-" + std::to_string(first + int64_t(i));
    ASSERT_EQ(msgs[i].msg_id, want) << "at stream position " << i;
    ids.insert(msgs[i].msg_id);
  }
  EXPECT_EQ(ids.size(), msgs.size());
}

TEST(NatsSinkOptionsTest, ValidatesAndDerivesTheStreamSubject) {
  NatsOptions o;
  EXPECT_EQ(*NatsStreamSubject(o), "cistern.events.>");
  o.subject = "plant.<node_id>.<device_id>.<kind>";
  EXPECT_EQ(*NatsStreamSubject(o), "plant.>");
  o.subject = "fixed.subject";
  EXPECT_EQ(*NatsStreamSubject(o), "fixed.subject");
  o.stream_subject = "custom.>";
  EXPECT_EQ(*NatsStreamSubject(o), "custom.>");

  auto invalid = [](NatsOptions o) {
    auto r = MakeNatsSink(o);
    return !r.ok() && r.status().code() == Status::Code::kInvalidArgument;
  };
  NatsOptions bad;
  bad.url = " , ";
  EXPECT_TRUE(invalid(bad));
  bad.url = "nats://127.0.0.1:4222,http://127.0.0.1:4222";  // a pasted HTTP URL: not an outage
  EXPECT_TRUE(invalid(bad));
  auto r = MakeNatsSink(bad);
  EXPECT_NE(r.status().message().find("'http://127.0.0.1:4222' is not a NATS URL"),
            std::string::npos)
      << r.status().message();
  bad.url = "tls://127.0.0.1:4222,127.0.0.1:4223";
  EXPECT_FALSE(invalid(bad));
  bad = {};
  bad.subject = "<device_id>.events";  // nothing to derive a stream subject from
  EXPECT_TRUE(invalid(bad));
  bad.subject = "cistern.<serial>";  // unknown placeholder
  EXPECT_TRUE(invalid(bad));
  bad.subject = "cistern.*";
  EXPECT_TRUE(invalid(bad));
  bad = {};
  bad.stream = "A.B";
  EXPECT_TRUE(invalid(bad));
  bad = {};
  bad.timeout = milliseconds(0);
  EXPECT_TRUE(invalid(bad));
  bad = {};
  bad.replicas = 0;
  EXPECT_TRUE(invalid(bad));
  auto ok = MakeNatsSink(NatsOptions{});  // nothing is listening: still fine
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->name(), "nats");
}

TEST(NatsSinkTest, EveryEventLandsInOrderWithItsMsgIdAndJsonBody) {
  NatsServer server;
  ASSERT_TRUE(server.started()) << server.Log();
  auto sink = MakeSink(server.Url());
  UploadBatch batch = MakeBatch(1, 300);
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.duplicates, 0);

  JsReader reader(server.Url());
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader.MessageCount("CISTERN"), 300);
  std::vector<testing::StoredMessage> msgs = reader.Messages("CISTERN");
  ASSERT_EQ(msgs.size(), 300u) << reader.error();
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].msg_id, "node7-" + std::to_string(batch.ids[i]));
    EXPECT_EQ(msgs[i].subject, FillTemplate("cistern.events.<device_id>", batch, i, true));
    std::string body;
    AppendEventJson(batch, i, &body);
    EXPECT_EQ(msgs[i].data, body);
  }
  // Spot-check the JSON fields themselves, and the subject sanitising of "dev.b".
  EXPECT_EQ(msgs[0].subject, "cistern.events.dev_b");
  EXPECT_EQ(msgs[0].data,
            "{\"id\":1,\"node_id\":\"node7\",\"device_id\":\"dev.b\",\"kind\":\"temp\","
            "\"payload\":{\"seq\":1,\"ok\":true},\"ts\":1700000000001}");
  EXPECT_NE(msgs[4].data.find("\"payload\":null"), std::string::npos);  // id 5: no payload
}

TEST(NatsSinkTest, ReshippedBatchIsReportedAsDuplicatesAndStoredOnce) {
  NatsServer server;
  ASSERT_TRUE(server.started()) << server.Log();
  auto sink = MakeSink(server.Url());
  UploadBatch batch = MakeBatch(1, 500);
  SendResult first = sink->Send(batch);
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.duplicates, 0);

  // The collector crashed between ship and checkpoint: the same batch comes again, possibly
  // from a new process (a new sink, a new connection).
  SendResult again = sink->Send(batch);
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.duplicates, 500);
  auto restarted = MakeSink(server.Url());
  SendResult third = restarted->Send(batch);
  ASSERT_TRUE(third.ok()) << third.error;
  EXPECT_EQ(third.duplicates, 500);

  // A batch that overlaps the shipped one by half.
  SendResult overlap = restarted->Send(MakeBatch(251, 500));
  ASSERT_TRUE(overlap.ok()) << overlap.error;
  EXPECT_EQ(overlap.duplicates, 250);

  JsReader reader(server.Url());
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader.MessageCount("CISTERN"), 750);
  ExpectExactlyOnce(reader, 1, 750);
}

TEST(NatsSinkTest, AnEventOverMaxPayloadIsPermanent) {
  NatsServer server;  // max_payload: the default 1 MB
  ASSERT_TRUE(server.started()) << server.Log();
  auto sink = MakeSink(server.Url());
  UploadBatch batch = MakeBatch(1, 3);
  batch.events.Add("dev-a", "blob", "\"" + std::string(1100 * 1024, 'x') + "\"", true, 1);
  batch.ids.push_back(4);
  SendResult r = sink->Send(batch);
  EXPECT_EQ(r.outcome, SendResult::Outcome::kPermanent) << r.error;
  EXPECT_NE(r.error.find("publishing id 4"), std::string::npos) << r.error;
  EXPECT_TRUE(sink->Send(MakeBatch(5, 10)).ok());  // the sink is still usable
}

TEST(NatsSinkTest, ServerDownIsRetryThenRecovers) {
  NatsServer server;
  ASSERT_TRUE(server.started()) << server.Log();
  server.Stop();  // the collector starts during an outage

  auto sink = MakeSink(server.Url(), milliseconds(2000));
  ASSERT_NE(sink, nullptr);
  auto t0 = steady_clock::now();
  SendResult down = sink->Send(MakeBatch(1, 100));
  EXPECT_LT(steady_clock::now() - t0, milliseconds(3000));
  EXPECT_EQ(down.outcome, SendResult::Outcome::kRetry) << down.error;
  EXPECT_NE(down.error.find("nats: "), std::string::npos) << down.error;
  std::cout << "[ down     ] " << down.error << "\n";

  ASSERT_TRUE(server.Start()) << server.Log();
  SendResult up = SendWithRetry(*sink, MakeBatch(1, 100), milliseconds(15000));
  ASSERT_TRUE(up.ok()) << up.error;

  // Down again while connected: a Retry within the timeout, not a hang.
  server.Stop();
  t0 = steady_clock::now();
  SendResult lost = sink->Send(MakeBatch(101, 100));
  EXPECT_LT(steady_clock::now() - t0, milliseconds(3000));
  EXPECT_EQ(lost.outcome, SendResult::Outcome::kRetry) << lost.error;
  std::cout << "[ down     ] " << lost.error << "\n";

  ASSERT_TRUE(server.Start()) << server.Log();  // same store: the stream is still there
  SendResult back = SendWithRetry(*sink, MakeBatch(101, 100), milliseconds(15000));
  ASSERT_TRUE(back.ok()) << back.error;

  JsReader reader(server.Url());
  ASSERT_TRUE(reader.ok()) << reader.error();
  ExpectExactlyOnce(reader, 1, 200);
}

TEST(NatsSinkTest, MissingPubAcksAreRetryAndTheLateOnesAreNotCounted) {
  NatsServer server;
  ASSERT_TRUE(server.started()) << server.Log();
  auto sink = MakeSink(server.Url(), milliseconds(1000));
  ASSERT_TRUE(sink->Send(MakeBatch(1, 100)).ok());

  server.Pause();  // connected, but no PubAck comes back
  auto t0 = steady_clock::now();
  SendResult frozen = sink->Send(MakeBatch(101, 400));
  EXPECT_LT(steady_clock::now() - t0, milliseconds(2500));
  EXPECT_EQ(frozen.outcome, SendResult::Outcome::kRetry);
  EXPECT_NE(frozen.error.find("nats: 400 of 400 publishes not acknowledged: no PubAck within"),
            std::string::npos)
      << frozen.error;

  // Thawed, the server stores what it had buffered and acknowledges it to nobody; the re-ship
  // is then all duplicates, and a fresh batch counts only its own acks.
  server.Resume();
  SendResult again = SendWithRetry(*sink, MakeBatch(101, 400), milliseconds(10000));
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.duplicates, 400);
  SendResult next = sink->Send(MakeBatch(501, 100));
  ASSERT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(next.duplicates, 0);

  JsReader reader(server.Url());
  ASSERT_TRUE(reader.ok()) << reader.error();
  ExpectExactlyOnce(reader, 1, 600);
}

// An R3 stream on a 3-node cluster, batches sent all along (each retried as the uploader
// would): the stream leader is SIGKILLed (a new leader is elected), later restarted (it catches
// up), then the node the sink is connected to is SIGKILLed (the client fails over to another
// URL of its list). Every event is in the stream exactly once at the end.
TEST(NatsSinkTest, ClusterKeepsReceivingWhenNodesAreKilled) {
  NatsCluster cluster(3);
  ASSERT_TRUE(cluster.started()) << cluster.node(0).Log();
  auto sink = MakeSink(cluster.Urls(), milliseconds(3000), /*replicas=*/3);
  ASSERT_NE(sink, nullptr);

  constexpr int kBatches = 30;
  constexpr size_t kBatchSize = 200;
  constexpr int kKillLeaderAfter = 10, kRestartAfter = 15, kKillConnectedAfter = 20;
  std::vector<std::string> retried;
  int leader = -1, connected = -1;
  std::string leader_name;
  for (int b = 0; b < kBatches; ++b) {
    UploadBatch batch = MakeBatch(1 + b * int64_t(kBatchSize), kBatchSize);
    SendResult r = SendWithRetry(*sink, batch, milliseconds(20000), &retried);
    ASSERT_TRUE(r.ok()) << "batch " << b << ": " << r.error;
    if (b == 0) {
      JsReader reader(cluster.Urls());
      ASSERT_TRUE(reader.ok()) << reader.error();
      EXPECT_EQ(reader.StreamReplicas("CISTERN"), 3);
    }
    if (b + 1 == kKillLeaderAfter) {
      JsReader reader(cluster.Urls());
      leader_name = reader.StreamLeader("CISTERN");
      leader = std::max(0, cluster.IndexOf(leader_name));  // node 0 if the leader is unknown
      cluster.Kill(leader);
    }
    if (b + 1 == kRestartAfter) {
      ASSERT_TRUE(cluster.node(leader).Start()) << cluster.node(leader).Log();
    }
    if (b + 1 == kKillConnectedAfter) {
      connected = cluster.NodeWithClient("cistern");
      ASSERT_GE(connected, 0);
      cluster.Kill(connected);
    }
  }
  std::cout << "[ cluster  ] stream leader " << leader_name << " killed after batch "
            << kKillLeaderAfter << " and restarted after batch " << kRestartAfter << "; n"
            << connected << " (the sink's server) killed after batch " << kKillConnectedAfter
            << "; " << retried.size() << " Send()s retried\n";
  std::map<std::string, int> reasons;
  for (const auto& e : retried) ++reasons[e];
  for (const auto& [e, n] : reasons) std::cout << "[ cluster  ]   " << n << "x " << e << "\n";

  std::string survivors;
  for (int i = 0; i < cluster.size(); ++i) {
    if (i != connected) survivors += (survivors.empty() ? "" : ",") + cluster.Url(i);
  }
  JsReader reader(survivors);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader.MessageCount("CISTERN"), kBatches * int64_t(kBatchSize)) << reader.error();
  ExpectExactlyOnce(reader, 1, kBatches * int64_t(kBatchSize));
}

TEST(NatsSinkTest, ThroughputToLocalJetStream) {
  NatsServer server;
  ASSERT_TRUE(server.started()) << server.Log();
  auto sink = MakeSink(server.Url());
  constexpr int kBatches = 200;
  constexpr size_t kBatchSize = 500;  // the uploader's default --upload-batch
  std::vector<UploadBatch> batches;
  for (int b = 0; b < kBatches; ++b)
    batches.push_back(MakeBatch(1 + b * int64_t(kBatchSize), kBatchSize));
  ASSERT_TRUE(sink->Send(batches[0]).ok());  // connect and create the stream outside the clock
  auto t0 = steady_clock::now();
  for (int b = 1; b < kBatches; ++b) {
    SendResult r = sink->Send(batches[b]);
    ASSERT_TRUE(r.ok()) << r.error;
  }
  double secs = std::chrono::duration<double>(steady_clock::now() - t0).count();
  double rate = (kBatches - 1) * double(kBatchSize) / secs;
  std::cout << "[ measured ] " << (kBatches - 1) * kBatchSize << " events in batches of "
            << kBatchSize << " to local JetStream (file storage, R1): " << int64_t(rate)
            << " events/s\n";
  RecordProperty("events_per_second", std::to_string(int64_t(rate)));
  JsReader reader(server.Url());
  EXPECT_EQ(reader.MessageCount("CISTERN"), kBatches * int64_t(kBatchSize));
}

}  // namespace
}  // namespace cistern
