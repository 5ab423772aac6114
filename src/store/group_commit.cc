#include "store/group_commit.h"

#include <future>

namespace qorgau::store {

struct GroupCommitter::Pending {
  Job job;
  std::promise<Result<void>> done;
  OnCommit on_commit;
  std::optional<Error> failed;
};

GroupCommitter::GroupCommitter(Store& store, Seal seal)
    : store_(store), seal_(std::move(seal)), writer_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

std::uint64_t GroupCommitter::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

Result<void> GroupCommitter::Submit(Job job) {
  auto pending = std::make_shared<Pending>(Pending{std::move(job), {}, {}, {}});
  std::future<Result<void>> result = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Fail(ErrorCode::kFailedPrecondition, "", "the store is shutting down");
    queue_.push_back(std::move(pending));
  }
  wake_.notify_one();
  return result.get();
}

void GroupCommitter::Run() {
  for (;;) {
    std::deque<std::shared_ptr<Pending>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void GroupCommitter::RunBatch(std::deque<std::shared_ptr<Pending>>& batch) {
  auto fail_all = [&](const Error& e) {
    for (const auto& p : batch) p->done.set_value(tl::unexpected(p->failed.value_or(e)));
  };
  auto txn = store_.Begin(Store::Mode::kWrite);
  if (!txn) return fail_all(txn.error());
  for (const auto& p : batch) {
    if (auto r = (*txn)->Savepoint(); !r) return fail_all(r.error());
    Result<OnCommit> r = Fail(ErrorCode::kInternal, "", "the command failed unexpectedly");
    try {
      r = p->job(**txn);
    } catch (const std::exception&) {
      // A throwing job fails alone, like one that returns an error.
    }
    if (r) {
      p->on_commit = std::move(*r);
      if (auto rel = (*txn)->ReleaseSavepoint(); !rel) return fail_all(rel.error());
    } else {
      p->failed = r.error();
      if (auto rb = (*txn)->RollbackToSavepoint(); !rb) return fail_all(rb.error());
    }
  }
  if (seal_) {
    if (auto sealed = seal_(**txn); !sealed) return fail_all(sealed.error());
  }
  if (auto c = (*txn)->Commit(); !c) {
    // Nothing of the batch is durable: a job that had succeeded gets the
    // commit's error, a job that had failed keeps its own.
    return fail_all(c.error());
  }
  txn->reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++batches_;
  }
  for (const auto& p : batch) {
    if (p->failed) {
      p->done.set_value(tl::unexpected(*p->failed));
      continue;
    }
    if (p->on_commit) p->on_commit();
    p->done.set_value({});
  }
}

}  // namespace qorgau::store
