// The Store: where qorgau keeps its state and its ledger.
//
// Contract:
// - All reads and writes go through a Transaction. A write transaction is
//   atomic: either Commit() succeeds and every change in it is durable, or
//   nothing of it is visible. Destroying an uncommitted Transaction rolls it
//   back, so an error path never leaves a partial write.
// - Personal-data values reach the Store only sealed (AES-256-GCM) and IIN /
//   phone only as blind indexes; the Store never sees plain values.
// - Thread safety: a Store may be shared; Begin() serialises transactions
//   (one at a time per Store object). A Transaction belongs to one thread.
// - Errors are values: kAlreadyExists for a duplicate unique index, kIo for
//   the backend's failures, kCorruption for unreadable rows.
//
// The SQLite implementation is store/sqlite/; PostgreSQL will follow behind
// the same interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/crypto.h"

namespace qorgau::store {

using crypto::Bytes;
using SubjectId = std::int64_t;

struct SubjectRecord {
  SubjectId id = 0;
  UnixMillis created_at = 0;
  Bytes wrapped_key;  // the subject's data key, wrapped by the KEK
};

// One stored value of a data category for a subject.
struct PersonalDataRecord {
  SubjectId subject_id = 0;
  std::string category;    // "user.contact.phone"
  Bytes sealed;            // AES-256-GCM under the subject's data key
  std::string provenance;  // subject | service | public_source | third_party | derived
  UnixMillis recorded_at = 0;
};

enum class ConsentState : std::uint8_t {
  kGranted = 0,    // in force
  kWithdrawn = 1,  // withdrawn by the subject
};

// The current consent of a subject for a purpose; the history is in the
// ledger (every change is an event).
struct ConsentRecord {
  SubjectId subject_id = 0;
  std::string purpose;
  ConsentState state = ConsentState::kGranted;
  int edition = 0;
  std::string channel;
  std::string evidence;
  UnixMillis changed_at = 0;
  std::int64_t event_seq = 0;  // the ledger event that set this state
};

// A ledger event as stored: canonical body and its chain hashes.
struct EventRecord {
  std::int64_t seq = 0;
  std::string body;
  Bytes prev_hash;
  Bytes hash;
};

// A published policy edition: its files, verbatim, and their hash.
struct EditionRecord {
  int number = 0;
  std::string main_file;
  Bytes hash;
  UnixMillis published_at = 0;
  std::map<std::string, std::string> files;
};

enum class IndexKind : std::uint8_t { kIin = 0, kPhone = 1 };

class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual Result<std::optional<Bytes>> GetMeta(std::string_view key) = 0;
  virtual Result<void> PutMeta(std::string_view key, const Bytes& value) = 0;

  virtual Result<void> PutEdition(const EditionRecord& edition) = 0;
  virtual Result<std::optional<EditionRecord>> LatestEdition() = 0;

  // Fails with kAlreadyExists, field "iin" or "phone", when either index is
  // already registered.
  virtual Result<SubjectId> InsertSubject(UnixMillis created_at, const Bytes& iin_index,
                                          const Bytes& phone_index) = 0;
  virtual Result<void> SetSubjectKey(SubjectId id, const Bytes& wrapped_key) = 0;
  virtual Result<std::optional<SubjectId>> FindSubject(IndexKind kind, const Bytes& index) = 0;
  virtual Result<std::optional<SubjectRecord>> GetSubject(SubjectId id) = 0;
  // Subjects with id > after, in id order, at most `limit`.
  virtual Result<std::vector<SubjectRecord>> ListSubjects(SubjectId after, size_t limit) = 0;

  // Inserts or replaces the value of (subject, category).
  virtual Result<void> PutPersonalData(const PersonalDataRecord& record) = 0;
  virtual Result<std::vector<PersonalDataRecord>> GetPersonalData(SubjectId subject) = 0;

  virtual Result<void> PutConsent(const ConsentRecord& record) = 0;
  virtual Result<std::vector<ConsentRecord>> GetConsents(SubjectId subject) = 0;

  virtual Result<std::optional<EventRecord>> LastEvent() = 0;
  virtual Result<void> AppendEvent(const EventRecord& event) = 0;
  // Calls `each` for events with seq >= from in order; stops when it
  // returns false.
  virtual Result<void> ScanEvents(std::int64_t from,
                                  const std::function<bool(const EventRecord&)>& each) = 0;

  // Makes every change durable; afterwards the Transaction may only be
  // destroyed.
  virtual Result<void> Commit() = 0;
};

class Store {
 public:
  enum class Mode { kRead, kWrite };
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> Begin(Mode mode) = 0;
  // The schema version of the open database.
  virtual int SchemaVersion() const = 0;
};

}  // namespace qorgau::store
