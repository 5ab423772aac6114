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

Result<void> DecisionRecorder::Record(store::DecisionRequestRecord request, bool bulk) {
  bool full = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // A batch may take the buffer beyond kBulkPending by its own size.
    auto room = [&] { return stopping_ || pending_decisions_ < (bulk ? kBulkPending : kMaxPending); };
    if (!room()) {
      wake_.notify_one();
      if (!drained_.wait_for(lock, kMaxWait, room)) {
        return Fail(ErrorCode::kIo, "decision_log",
                    "the decision log cannot be written fast enough (a full or failing disk?)");
      }
    }
    pending_decisions_ += request.subjects.size();
    pending_.push_back(std::move(request));
    full = pending_decisions_ >= kFlushAt;
  }
  if (full) wake_.notify_one();
  return {};
}

std::size_t DecisionRecorder::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_decisions_;
}

std::size_t DecisionRecorder::Decisions(const Batch& requests) {
  std::size_t n = 0;
  for (const auto& r : requests) n += r.subjects.size();
  return n;
}

Result<void> DecisionRecorder::WriteBatch(Batch requests) {
  // The digest is made here, on the flusher's thread, not on the writer's.
  for (std::size_t i = 0; i < requests.size(); ++i) requests[i].n = static_cast<std::int64_t>(i);
  ledger::EventDraft ev{"decisions.recorded", std::nullopt, "system", {}};
  ev.data["requests"] = static_cast<std::int64_t>(requests.size());
  ev.data["count"] = static_cast<std::int64_t>(Decisions(requests));
  ev.data["digest_hash"] = ledger::DecisionRequestsDigest(requests);
  // Submit returns once the job ran and its batch committed or failed, so
  // the job may use `requests` in place.
  auto r = writer_.Submit([&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
    // The seal first: the requests carry its seq (no reliance on row ids).
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord seal, ledger::Append(txn, clock_.Now(), ev));
    for (auto& request : requests) request.seal = seal.seq;
    QORGAU_TRY(txn.InsertDecisionRequests(requests));
    return store::GroupCommitter::OnCommit{};
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (!r) {
    pending_decisions_ += Decisions(requests);
    pending_.insert(pending_.begin(), std::make_move_iterator(requests.begin()),
                    std::make_move_iterator(requests.end()));
  }
  --inflight_;
  settled_.notify_all();
  return r;
}

void DecisionRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(20),
                   [this] { return stopping_ || pending_decisions_ >= kFlushAt; });
    if (pending_.empty()) continue;
    Batch rows;
    rows.swap(pending_);
    pending_decisions_ = 0;
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
  Batch rows;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Batches the flusher took are committed first, so nothing recorded
    // before this call is missing after it.
    settled_.wait(lock, [this] { return inflight_ == 0; });
    rows.swap(pending_);
    pending_decisions_ = 0;
    if (!rows.empty()) ++inflight_;
  }
  drained_.notify_all();
  if (rows.empty()) return {};
  return WriteBatch(std::move(rows));
}

}  // namespace qorgau::rules
