// Disk full: on a small tmpfs made by the test, POSTs get 507 with a clear error once space
// runs out, data acknowledged before stays intact, the process stays up, and ingest resumes
// without a restart once space is freed. Skipped (with the reason) where mounting is not
// permitted.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class DiskFullTest : public ServerTest {
 protected:
  void TearDown() override {
    ServerTest::TearDown();  // stop the server before its file system goes away
    if (mounted_) umount2(mount_.c_str(), MNT_DETACH);
  }
  // Mounts a `bytes`-sized tmpfs; false (and the reason) when that is not permitted here.
  bool MountSmallFs(size_t bytes, std::string* why) {
    mount_ = dir_.File("small");
    std::filesystem::create_directory(mount_);
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    if (mount("tmpfs", mount_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      *why = std::string("mount tmpfs: ") + std::strerror(errno);
      return false;
    }
    mounted_ = true;
    return true;
  }
  std::string mount_;
  bool mounted_ = false;
};

TEST_F(DiskFullTest, FullDiskAnswers507KeepsDataAndRecoversWithoutRestart) {
  std::string why;
  if (!MountSmallFs(3 << 20, &why)) GTEST_SKIP() << "disk-full test needs a tmpfs: " << why;
  // Ballast we can delete later to give the collector space back.
  {
    std::ofstream ballast(mount_ + "/ballast", std::ios::binary);
    std::string mb(1 << 20, 'b');
    ballast << mb;
  }
  std::string db = mount_ + "/events.db";
  server_ = std::make_unique<CisternProcess>(
      dir_.path(), db, std::vector<std::string>{"--sink", "none", "--max-backlog", "0"});
  ASSERT_TRUE(server_->started()) << server_->Log();
  client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());

  std::string payload(900, 'x');
  std::string batch = "[";
  for (int i = 0; i < 20; ++i) {
    batch += std::string(i ? "," : "") + R"({"device_id":"d","kind":"t","payload":")" + payload +
             R"("})";
  }
  batch += "]";
  std::set<int64_t> acked;
  HttpResult full;
  for (int i = 0; i < 2000; ++i) {
    auto r = client_->Post("/events", batch);
    if (r.status == 200) {
      for (int64_t id : ParseIds(r.body)) acked.insert(id);
      continue;
    }
    full = r;
    break;
  }
  ASSERT_EQ(full.status, 507) << full.status << " " << full.body << full.error;
  EXPECT_NE(full.body.find("\"error\""), std::string::npos) << full.body;
  ASSERT_GT(acked.size(), 0u);

  // Still up, still answering, and what was acknowledged is all there.
  EXPECT_NE(client_->Get("/healthz").status, 0);
  EXPECT_EQ(client_->Post("/events", batch).status, 507);
  std::set<int64_t> on_disk;
  for (const auto& row : QueryRows(db, "SELECT id FROM events")) on_disk.insert(std::stoll(row[0]));
  EXPECT_EQ(on_disk, acked);
  EXPECT_EQ(QueryRows(db, "PRAGMA quick_check")[0][0], "ok");

  // Space comes back: ingest resumes by itself.
  std::filesystem::remove(mount_ + "/ballast");
  auto r = client_->Post("/events", batch);
  EXPECT_EQ(r.status, 200) << r.body;
  auto stats = client_->Get("/stats");
  EXPECT_GE(JsonInt(stats.body, "/http/responses/507"), 2);
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"),
            static_cast<int64_t>(acked.size() + ParseIds(r.body).size()));
}

}  // namespace
}  // namespace cistern::testing
