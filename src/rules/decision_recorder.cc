#include "rules/decision_recorder.h"

#include "ledger/audit.h"

#include "crypto/crypto.h"
#include "ledger/ledger.h"

namespace qorgau::rules {

DecisionRecorder::DecisionRecorder(store::GroupCommitter& writer, const Clock& clock)
    : writer_(writer), clock_(clock), flusher_([this] { Run(); }) {}

DecisionRecorder::~DecisionRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  drained_.notify_all();
  flusher_.join();
  (void)Flush();
}

Result<void> DecisionRecorder::Record(std::vector<store::DecisionRecord> records, bool bulk) {
  bool full = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // A batch may take the buffer beyond kBulkPending by its own size.
    auto room = [&] { return stopping_ || pending_.size() < (bulk ? kBulkPending : kMaxPending); };
    if (!room()) {
      wake_.notify_one();
      if (!drained_.wait_for(lock, kMaxWait, room)) {
        return Fail(ErrorCode::kIo, "decision_log",
                    "the decision log cannot be written fast enough (a full or failing disk?)");
      }
    }
    for (auto& r : records) pending_.push_back(std::move(r));
    full = pending_.size() >= kFlushAt;
  }
  if (full) wake_.notify_one();
  return {};
}

std::string DecisionRecorder::Digest(const std::vector<store::DecisionRecord>& rows) {
  return ledger::DecisionDigest(rows);
}

store::GroupCommitter::Job DecisionRecorder::JobFor(std::vector<store::DecisionRecord> rows) {
  return [this, rows = std::move(rows)](store::Transaction& txn) mutable
         -> Result<store::GroupCommitter::OnCommit> {
    auto ids = txn.InsertDecisions(rows);
    if (!ids) return tl::unexpected(ids.error());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].id = ids->first + static_cast<std::int64_t>(i);
    ledger::EventDraft ev{"decisions.recorded", std::nullopt, "system", {}};
    ev.data["first"] = ids->first;
    ev.data["last"] = ids->second;
    ev.data["count"] = static_cast<std::int64_t>(rows.size());
    ev.data["digest_hash"] = Digest(rows);
    QORGAU_TRY(ledger::Append(txn, clock_.Now(), ev));
    return store::GroupCommitter::OnCommit{};
  };
}

Result<void> DecisionRecorder::WriteBatch(std::vector<store::DecisionRecord> rows) {
  std::vector<store::DecisionRecord> copy = rows;
  auto r = writer_.Submit(JobFor(std::move(copy)));
  std::lock_guard<std::mutex> lock(mu_);
  if (!r) pending_.insert(pending_.begin(), rows.begin(), rows.end());
  --inflight_;
  settled_.notify_all();
  return r;
}

void DecisionRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(20),
                   [this] { return stopping_ || pending_.size() >= kFlushAt; });
    if (pending_.empty()) continue;
    std::vector<store::DecisionRecord> rows;
    rows.swap(pending_);
    ++inflight_;
    lock.unlock();
    drained_.notify_all();
    // Waiting for this batch's commit paces the flusher to the writer, so
    // the backlog is bounded by kMaxPending plus one batch.
    if (!WriteBatch(std::move(rows))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // then retry
    }
    lock.lock();
  }
}

Result<void> DecisionRecorder::Flush() {
  std::vector<store::DecisionRecord> rows;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Batches the flusher took are committed first, so nothing recorded
    // before this call is missing after it.
    settled_.wait(lock, [this] { return inflight_ == 0; });
    rows.swap(pending_);
    if (!rows.empty()) ++inflight_;
  }
  drained_.notify_all();
  if (rows.empty()) return {};
  return WriteBatch(std::move(rows));
}

}  // namespace qorgau::rules
