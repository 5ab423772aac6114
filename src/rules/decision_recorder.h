// The decision log: every decision made for a caller is recorded (who,
// which subject, which purpose and categories, the answer and why) without
// making the caller wait for an fsync. A request's decisions (one check, or
// a batch check of many subjects) are one record. Records are buffered in
// memory and written every 20 ms, or every kFlushAt decisions. Each batch
// is sealed by one ledger event, `decisions.recorded`, that carries the
// SHA-256 of the batch's records, so altering one breaks `audit verify`
// like altering an event does (docs/ledger-format.md).
//
// What this trades: decisions of the last ~20 ms are lost if the process
// crashes. State changes and reads of personal data are never buffered.
// Thread safety: Record and Flush may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/group_commit.h"

namespace qorgau::rules {

class DecisionRecorder {
 public:
  DecisionRecorder(store::GroupCommitter& writer, const Clock& clock);
  ~DecisionRecorder();  // writes what is buffered, then stops
  DecisionRecorder(const DecisionRecorder&) = delete;
  DecisionRecorder& operator=(const DecisionRecorder&) = delete;

  // A decision of one check (`bulk` false) waits only when kMaxPending are
  // buffered; the decisions of a batch check wait while kBulkPending are.
  // So a client flooding batch checks is slowed down to the log's pace, and
  // single checks beside it are not. When the log cannot be written for
  // kMaxWait (a full or failing disk), the check fails (kIo, answered 503)
  // rather than hang.
  // `request`'s seal and n are set when it is written.
  Result<void> Record(store::DecisionRequestRecord request, bool bulk = false);
  // Writes what is buffered and waits for its commit.
  Result<void> Flush();
  // Decisions buffered and not yet taken by the writer.
  std::size_t Pending() const;

  static constexpr std::size_t kFlushAt = 16384;
  // Above this many buffered decisions Record waits for the writer: records
  // are slowed down, never dropped.
  static constexpr std::size_t kMaxPending = 1 << 18;
  static constexpr std::size_t kBulkPending = kMaxPending / 2;
  static constexpr std::chrono::seconds kMaxWait{5};

 private:
  void Run();
  using Batch = std::vector<store::DecisionRequestRecord>;
  // Writes `requests`; on failure puts them back in front of pending_, so a
  // failed batch is retried, never lost while the process lives.
  Result<void> WriteBatch(Batch requests);
  static std::size_t Decisions(const Batch& requests);

  store::GroupCommitter& writer_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  Batch pending_;
  std::size_t pending_decisions_ = 0;  // the subjects of pending_
  std::size_t inflight_ = 0;  // batches taken from pending_ and not yet committed
  std::condition_variable settled_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace qorgau::rules
