// The decision log's back-pressure (issue 8 part 7): batch checks wait
// while half the buffer is full, single checks only when all of it is, and
// a log that cannot be written fails the check instead of hanging.
#include "rules/decision_recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "../test_util.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau::rules {
namespace {

store::DecisionRequestRecord Request(std::size_t subjects) {
  store::DecisionRequestRecord r;
  r.actor = "crm";
  r.purpose = "marketing";
  r.subjects.assign(subjects, 7);
  r.reasons.assign(subjects, '\0');
  return r;
}

class DecisionRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::OpenSqliteStore(dir_.path() / "q.db", true).value();
    writer_ = std::make_unique<store::GroupCommitter>(*store_);
    // The writer is held by a job until release_ is set: nothing the
    // recorder hands it is committed meanwhile (a stalled disk).
    held_ = std::thread([this] {
      (void)writer_->Submit([this](store::Transaction&) -> Result<store::GroupCommitter::OnCommit> {
        writer_holding_.set_value();
        release_.get_future().wait();
        return store::GroupCommitter::OnCommit{};
      });
    });
    writer_holding_.get_future().wait();
    recorder_ = std::make_unique<DecisionRecorder>(*writer_, clock_);
  }
  void TearDown() override {
    Release();
    held_.join();
    recorder_.reset();
    writer_.reset();
  }
  void Release() {
    if (!released_) release_.set_value();
    released_ = true;
  }
  // Fills the buffer to kBulkPending while the writer is held: the first
  // half goes to the (held) writer, the second stays buffered.
  void FillHalf() {
    ASSERT_TRUE(recorder_->Record(Request(DecisionRecorder::kBulkPending), /*bulk=*/true));
    for (int i = 0; i < 1000 && recorder_->Pending() != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(recorder_->Pending(), 0u) << "the flusher did not take the first half";
    ASSERT_TRUE(recorder_->Record(Request(DecisionRecorder::kBulkPending), /*bulk=*/true));
    ASSERT_EQ(recorder_->Pending(), DecisionRecorder::kBulkPending);
  }

  testing::TempDir dir_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::GroupCommitter> writer_;
  std::unique_ptr<DecisionRecorder> recorder_;
  std::promise<void> writer_holding_, release_;
  bool released_ = false;
  std::thread held_;
};

TEST_F(DecisionRecorderTest, Issue8_7_a_batch_check_waits_while_half_the_log_is_buffered_a_single_check_does_not) {
  FillHalf();
  std::atomic<bool> batch_returned{false};
  std::thread batch([&] {
    EXPECT_TRUE(recorder_->Record(Request(100), /*bulk=*/true));
    batch_returned = true;
  });
  // A single check beside it is recorded at once.
  EXPECT_TRUE(recorder_->Record(Request(1), /*bulk=*/false));
  EXPECT_EQ(recorder_->Pending(), DecisionRecorder::kBulkPending + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(batch_returned.load()) << "a batch check was buffered beyond half the log";
  Release();  // the disk comes back: the batch is taken in turn
  batch.join();
  EXPECT_TRUE(batch_returned.load());
  EXPECT_TRUE(recorder_->Flush());
  EXPECT_EQ(recorder_->Pending(), 0u);
}

TEST_F(DecisionRecorderTest, Issue8_7_a_log_that_cannot_be_written_fails_the_check_rather_than_hang) {
  FillHalf();
  const auto r = recorder_->Record(Request(100), /*bulk=*/true);  // waits kMaxWait, then gives up
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ(r.error().field, "decision_log");
  EXPECT_EQ(recorder_->Pending(), DecisionRecorder::kBulkPending);  // nothing added, nothing lost
}

}  // namespace
}  // namespace qorgau::rules
