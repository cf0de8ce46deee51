#include "store/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/store_helpers.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

TEST(StoreRegistryTest, EverySpellingOfOnePathSharesOneStore) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("sub"));
  std::filesystem::create_directory_symlink(dir.path(), dir.File("link"));
  StoreRegistry registry;
  StoreOptions a;
  a.path = dir.File("events.db");
  auto first = registry.Open(a);
  ASSERT_TRUE(first.ok()) << first.status().message();
  for (std::string spelling :
       {dir.File("sub/../events.db"), dir.File("link/events.db"), dir.path() + "//events.db"}) {
    StoreOptions o;
    o.path = spelling;
    auto again = registry.Open(o);
    ASSERT_TRUE(again.ok()) << spelling << ": " << again.status().message();
    EXPECT_EQ(again.value().get(), first.value().get()) << spelling;
  }
  StoreOptions other;
  other.path = dir.File("other.db");
  auto different = registry.Open(other);
  ASSERT_TRUE(different.ok());
  EXPECT_NE(different.value().get(), first.value().get());
}

TEST(StoreRegistryTest, AStoreNobodyHoldsIsClosedAndCanBeReopened) {
  TempDir dir;
  StoreRegistry registry;
  StoreOptions o;
  o.path = dir.File("events.db");
  {
    auto s = registry.Open(o);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(AppendAndWait(**s, MakeBatch(2)).status.ok());
  }
  // The last holder is gone: the lock is released, so even a plain Store::Open succeeds.
  auto direct = Store::Open(o);
  ASSERT_TRUE(direct.ok()) << direct.status().message();
  EXPECT_EQ(direct.value()->Stats().events_written, 2);
}

TEST(StoreRegistryTest, AskingForTheIndexOnAStoreOpenWithoutItIsAnError) {
  TempDir dir;
  StoreRegistry registry;
  StoreOptions o;
  o.path = dir.File("events.db");
  auto s = registry.Open(o);
  ASSERT_TRUE(s.ok());
  o.indexed = true;
  auto again = registry.Open(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace cistern::testing
