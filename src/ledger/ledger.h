// The ledger: every state change of qorgau is an event appended to a hash
// chain, in the same store transaction as the change itself, so the audit
// trail and the state can never disagree (docs/ledger-format.md).
//
//   hash(n) = SHA-256("qorgau-ledger/1\n" || hash(n-1) || body(n))
//   hash(0) = 32 zero bytes; body = canonical JSON of the event.
//
// Events carry ids, codes and category names, never personal-data values;
// Append refuses a string that contains a valid IIN or a Kazakhstan phone
// number (keys ending in "hash" or "key_id", hex digests, are exempt).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace qorgau::ledger {

inline constexpr std::string_view kFormat = "qorgau-ledger/1";

struct EventDraft {
  std::string type;                        // "consent.granted", "subject.added", ...
  std::optional<store::SubjectId> subject; // the data subject concerned, if any
  std::string actor;                       // who caused it: "cli", "system", an actor id
  boost::json::object data;                // ids and names only
};

// Appends `draft` at time `at` inside `txn`; returns the stored event. An
// event other systems must act on (GoesToOutbox) is written to the outbox
// in the same transaction, keyed by its seq and subject (0: none).
Result<store::EventRecord> Append(store::Transaction& txn, UnixMillis at, const EventDraft& draft);

// The events other systems must act on, that Append puts in the outbox:
// consent.withdrawn, service.disabled, subject.blocked, subject.unblocked,
// retention.destroyed, transfer.made. policy.published goes there too, once
// per subject it concerns, written by rules/editions.cc.
bool GoesToOutbox(std::string_view type);
// Whether an event of `type` records a read of personal data (access.read,
// access.lookup, transfer.sent): its actor is indexed as the reader
// (store::EventRecord::reader), for the trail by actor or time.
bool IsRead(std::string_view type);

struct VerifyReport {
  bool ok = true;
  std::int64_t events = 0;     // events checked
  std::string head_hash;       // hex hash of the last good event
  std::int64_t broken_seq = 0; // the first broken event, when !ok
  std::string reason;          // why it is broken, when !ok
  // The state check (ledger/replay.h), when it ran.
  std::int64_t rows = 0;       // table rows compared with the replay
  std::int64_t unproven = 0;   // fields whose events predate them
};

// Walks the whole chain; a broken link is a report, not an error (errors
// are for a store that cannot be read).
Result<VerifyReport> Verify(store::Transaction& txn);

// The ledger revision: the seq of the last event, 0 when empty.
Result<std::int64_t> Revision(store::Transaction& txn);

}  // namespace qorgau::ledger
