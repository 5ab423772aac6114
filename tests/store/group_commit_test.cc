#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <thread>

#include "../test_util.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau::store {
namespace {

TEST(GroupCommit, AFailingJobIsRolledBackAloneAndTheOthersCommit) {
  testing::TempDir dir;
  auto store = OpenSqliteStore(dir.path() / "q.db", true).value();
  std::atomic<int> applied{0};
  {
    GroupCommitter writer(*store);
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        auto r = writer.Submit([t, &applied](Transaction& txn) -> Result<GroupCommitter::OnCommit> {
          Bytes iin(4, static_cast<std::uint8_t>(t)), phone(4, static_cast<std::uint8_t>(100 + t));
          if (auto id = txn.InsertSubject(t, iin, phone); !id) return tl::unexpected(id.error());
          if (t % 4 == 0) return Fail(ErrorCode::kInvalidArgument, "x", "refused on purpose");
          return [&applied] { ++applied; };
        });
        if (!r) ++failed;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failed.load(), 4);
    EXPECT_EQ(applied.load(), 12);
    EXPECT_LE(writer.batches(), 16u);
  }
  auto txn = store->Begin(Store::Mode::kRead).value();
  EXPECT_EQ(txn->ListSubjects(0, 100)->size(), 12u);
}

TEST(GroupCommit, OnCommitRunsBeforeTheCallerIsAnswered) {
  testing::TempDir dir;
  auto store = OpenSqliteStore(dir.path() / "q.db", true).value();
  GroupCommitter writer(*store);
  bool ran = false;
  ASSERT_TRUE(writer.Submit([&ran](Transaction&) -> Result<GroupCommitter::OnCommit> {
    return [&ran] { ran = true; };
  }));
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace qorgau::store
