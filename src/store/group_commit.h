// Group commit: concurrent writers share one durable transaction.
//
// Each caller submits a job, which writes through a Transaction and, if it
// succeeds, returns what to do once its writes are durable (update the
// decision index, say). One writer thread takes every job that is waiting,
// up to kMaxBatch, and runs them in one transaction, each inside its own
// savepoint: a job that fails is rolled back alone and gets its own error.
// Then the writer commits once (one fsync for the batch), runs the
// on-commit actions in submission order, and only then acknowledges the
// callers. When the commit itself fails, every job of the batch gets that
// error and no on-commit action runs.
//
// Thread safety: Submit may be called from any number of threads. It blocks
// until the job's batch is committed or refused.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace qorgau::store {

class GroupCommitter {
 public:
  // What runs after the commit; may be empty.
  using OnCommit = std::function<void()>;
  using Job = std::function<Result<OnCommit>(Transaction&)>;

  // Runs last in every batch's transaction, after the jobs and before the
  // commit (the ledger's signed tree head); when it fails, nothing of the
  // batch commits and every job gets its error.
  using Seal = std::function<Result<void>(Transaction&)>;

  static constexpr size_t kMaxBatch = 1024;

  explicit GroupCommitter(Store& store, Seal seal = {});
  ~GroupCommitter();  // finishes the queued jobs, then stops the writer
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  Result<void> Submit(Job job);


  // Batches committed so far; for benchmarks and tests.
  std::uint64_t batches() const;

 private:
  struct Pending;
  void Run();
  void RunBatch(std::deque<std::shared_ptr<Pending>>& batch);

  Store& store_;
  Seal seal_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  std::thread writer_;
};

}  // namespace qorgau::store
