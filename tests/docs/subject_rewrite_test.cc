// The README's rule for subjects and topics ("Shipping upstream", "Subjects and topics"), checked
// against the code that applies it (FillTemplate), so the documented examples cannot drift.
#include <gtest/gtest.h>

#include "sinks/api/upload_batch.h"

namespace cistern {
namespace {

UploadBatch OneEvent(std::string_view device_id, std::string_view kind) {
  UploadBatch batch;
  batch.node_id = "node.1";
  batch.ids = {1};
  batch.events.Add(device_id, kind, "", false, 1);
  return batch;
}

TEST(DocumentedSubjectRewriting, NatsSubjects) {
  EXPECT_EQ(FillTemplate("cistern.events.<device_id>", OneEvent("room.1", "t"), 0, true),
            "cistern.events.room_1");
  EXPECT_EQ(FillTemplate("cistern.events.<device_id>", OneEvent("a*b>c d\te", "t"), 0, true),
            "cistern.events.a_b_c_d_e");
  // Only substituted values change; the template's own text and unknown names stay.
  EXPECT_EQ(FillTemplate("x.<node_id>.<kind>.<other>", OneEvent("d", "k/1+#"), 0, true),
            "x.node_1.k/1+#.<other>");
}

TEST(DocumentedSubjectRewriting, MqttTopics) {
  EXPECT_EQ(FillTemplate("cistern/<device_id>/<kind>", OneEvent("plant/a+b", "temp"), 0, false),
            "cistern/plant_a_b/temp");
  EXPECT_EQ(FillTemplate("cistern/<device_id>/<kind>", OneEvent("room.1", "a#"), 0, false),
            "cistern/room.1/a_");
}

}  // namespace
}  // namespace cistern
