#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <unordered_map>

namespace qorgau::store {
namespace {

// The schema, one entry per version; never edit a published entry, append
// a new one.
const char* const kMigrations[] = {
    // 1: subjects, sealed personal data, consents, the ledger, editions.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;
CREATE TABLE editions (
  number       INTEGER PRIMARY KEY,
  main_file    TEXT NOT NULL,
  hash         BLOB NOT NULL,
  published_at INTEGER NOT NULL
) STRICT;
CREATE TABLE edition_files (
  edition INTEGER NOT NULL REFERENCES editions(number),
  path    TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (edition, path)
) STRICT;
CREATE TABLE subjects (
  id          INTEGER PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  wrapped_key BLOB,
  iin_index   BLOB NOT NULL UNIQUE,
  phone_index BLOB NOT NULL UNIQUE
) STRICT;
CREATE TABLE personal_data (
  subject_id  INTEGER NOT NULL REFERENCES subjects(id),
  category    TEXT NOT NULL,
  sealed      BLOB NOT NULL,
  provenance  TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (subject_id, category)
) STRICT;
CREATE TABLE consents (
  subject_id INTEGER NOT NULL REFERENCES subjects(id),
  purpose    TEXT NOT NULL,
  state      INTEGER NOT NULL,
  edition    INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  evidence   TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  event_seq  INTEGER NOT NULL,
  PRIMARY KEY (subject_id, purpose)
) STRICT;
CREATE TABLE events (
  seq       INTEGER PRIMARY KEY,
  body      TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash      BLOB NOT NULL
) STRICT;
)sql",
    // 2: contracts, service subscriptions, obligations, receipts, destruction.
    R"sql(
ALTER TABLE subjects ADD COLUMN destroyed_at INTEGER;
CREATE TABLE contracts (
  id         INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL REFERENCES subjects(id),
  method     TEXT NOT NULL,
  evidence   TEXT NOT NULL,
  joined_at  INTEGER NOT NULL,
  event_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX contracts_by_subject ON contracts (subject_id);
CREATE TABLE subscriptions (
  subject_id  INTEGER NOT NULL REFERENCES subjects(id),
  service     TEXT NOT NULL,
  active      INTEGER NOT NULL,
  contract_id INTEGER NOT NULL,
  changed_at  INTEGER NOT NULL,
  event_seq   INTEGER NOT NULL,
  PRIMARY KEY (subject_id, service)
) STRICT;
CREATE TABLE obligations (
  ref          TEXT PRIMARY KEY,
  subject_id   INTEGER NOT NULL REFERENCES subjects(id),
  kind         INTEGER NOT NULL,
  amount_minor INTEGER,
  opened_at    INTEGER NOT NULL,
  closed_at    INTEGER,
  event_seq    INTEGER NOT NULL
) STRICT;
CREATE INDEX obligations_by_subject ON obligations (subject_id);
CREATE TABLE receipts (
  event_seq  INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL REFERENCES subjects(id),
  body       TEXT NOT NULL
) STRICT;
)sql",
    // 3: actors, duties, API keys, idempotency, events by subject.
    R"sql(
ALTER TABLE events ADD COLUMN subject_id INTEGER;
CREATE INDEX events_by_subject ON events (subject_id) WHERE subject_id IS NOT NULL;
CREATE TABLE actors (
  id                     TEXT PRIMARY KEY,
  role                   INTEGER NOT NULL,
  name                   TEXT NOT NULL,
  nda_signed             TEXT NOT NULL,
  liability_acknowledged TEXT NOT NULL,
  purposes               TEXT NOT NULL,
  created_at             INTEGER NOT NULL
) STRICT;
CREATE TABLE duties (
  actor_id   TEXT NOT NULL REFERENCES actors(id),
  purpose    TEXT NOT NULL,
  categories TEXT NOT NULL,
  full_view  INTEGER NOT NULL,
  PRIMARY KEY (actor_id, purpose)
) STRICT;
CREATE TABLE api_keys (
  key_hash   BLOB PRIMARY KEY,
  actor_id   TEXT NOT NULL REFERENCES actors(id),
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE idempotency (
  actor_id     TEXT NOT NULL,
  key          TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  status       INTEGER NOT NULL,
  body         TEXT NOT NULL,
  at           INTEGER NOT NULL,
  PRIMARY KEY (actor_id, key)
) STRICT;
)sql",
    // 4: the decision log, sealed in batches by ledger events.
    R"sql(
CREATE TABLE decision_log (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  subject_id INTEGER NOT NULL,
  purpose    TEXT NOT NULL,
  categories TEXT NOT NULL,
  reason     TEXT NOT NULL,
  revision   INTEGER NOT NULL
) STRICT;
CREATE INDEX decision_log_by_subject ON decision_log (subject_id);
)sql",
    // 5: what each duty allows (docs/access.md); duties before it allowed reading.
    R"sql(
ALTER TABLE duties ADD COLUMN actions TEXT NOT NULL DEFAULT 'read';
)sql",
    // 6: the ledger as a Merkle tree, its signed heads (ledger format 2);
    //    key lifecycle: disabled actors, expiring and revoked keys, enrolments.
    R"sql(
CREATE TABLE merkle_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
ALTER TABLE actors ADD COLUMN disabled_at INTEGER;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
CREATE TABLE enrolments (
  token_hash  BLOB PRIMARY KEY,
  actor_id    TEXT NOT NULL REFERENCES actors(id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  redeemed_at INTEGER
) STRICT;
CREATE TABLE tree_heads (
  size      INTEGER PRIMARY KEY,
  root      BLOB NOT NULL,
  at        INTEGER NOT NULL,
  key_id    TEXT NOT NULL,
  signature BLOB NOT NULL
) STRICT;
)sql",
    // 7: idempotency records expire: found by age.
    R"sql(
CREATE INDEX idempotency_at ON idempotency (at);
)sql",
    // 8: the decision log as one record per request, by seal, and the
    // subjects each seal names (decision_log is kept, read only).
    R"sql(
CREATE TABLE decision_requests (
  seal       INTEGER NOT NULL,
  n          INTEGER NOT NULL,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  categories TEXT NOT NULL,
  revision   INTEGER NOT NULL,
  subjects   BLOB NOT NULL,
  reasons    BLOB NOT NULL,
  PRIMARY KEY (seal, n)
) STRICT, WITHOUT ROWID;
CREATE TABLE decision_subjects (
  subject_id INTEGER NOT NULL,
  seal       INTEGER NOT NULL,
  PRIMARY KEY (subject_id, seal)
) STRICT, WITHOUT ROWID;
)sql",
    // 9: working-day calendars; subjects' applications and their documents.
    R"sql(
CREATE TABLE calendar_years (
  country     TEXT NOT NULL,
  year        INTEGER NOT NULL,
  content     TEXT NOT NULL,
  imported_at INTEGER NOT NULL,
  event_seq   INTEGER NOT NULL,
  PRIMARY KEY (country, year)
) STRICT, WITHOUT ROWID;
CREATE TABLE applications (
  id                INTEGER PRIMARY KEY,
  subject_id        INTEGER NOT NULL REFERENCES subjects(id),
  kind              TEXT NOT NULL,
  channel           TEXT NOT NULL,
  reference         TEXT NOT NULL,
  requester         TEXT NOT NULL,
  representative    BLOB,
  proof_kind        TEXT NOT NULL,
  proof_reference   TEXT NOT NULL,
  proof_valid_until TEXT NOT NULL,
  purposes          TEXT NOT NULL,
  state             TEXT NOT NULL,
  handler           TEXT NOT NULL,
  received_at       INTEGER NOT NULL,
  due_at            INTEGER NOT NULL,
  working_days      INTEGER NOT NULL,
  closed_at         INTEGER,
  outcome           TEXT NOT NULL,
  event_seq         INTEGER NOT NULL
) STRICT;
CREATE INDEX applications_by_subject ON applications (subject_id);
CREATE INDEX applications_open ON applications (due_at) WHERE closed_at IS NULL;
CREATE TABLE application_documents (
  application_id INTEGER NOT NULL REFERENCES applications(id),
  reference      TEXT NOT NULL,
  sha256         TEXT NOT NULL,
  added_at       INTEGER NOT NULL,
  event_seq      INTEGER NOT NULL,
  PRIMARY KEY (application_id, reference)
) STRICT, WITHOUT ROWID;
CREATE TABLE breaches (
  id               INTEGER PRIMARY KEY,
  detected_at      INTEGER NOT NULL,
  how              TEXT NOT NULL,
  categories       TEXT NOT NULL,
  measures         TEXT NOT NULL,
  notify_due_at    INTEGER NOT NULL,
  notified_at      INTEGER,
  notice_reference TEXT NOT NULL,
  event_seq        INTEGER NOT NULL
) STRICT;
CREATE TABLE breach_subjects (
  breach_id  INTEGER NOT NULL REFERENCES breaches(id),
  subject_id INTEGER NOT NULL,
  PRIMARY KEY (breach_id, subject_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE subject_blocks (
  subject_id     INTEGER PRIMARY KEY REFERENCES subjects(id),
  application_id INTEGER NOT NULL,
  blocked_at     INTEGER NOT NULL,
  event_seq      INTEGER NOT NULL
) STRICT;
)sql",
    // 10: legal representatives of changes other than applications.
    R"sql(
CREATE TABLE representations (
  event_seq         INTEGER PRIMARY KEY,
  subject_id        INTEGER NOT NULL REFERENCES subjects(id),
  requester         TEXT NOT NULL,
  proof_kind        TEXT NOT NULL,
  proof_valid_until TEXT NOT NULL,
  sealed            BLOB NOT NULL
) STRICT;
)sql",
    // 11: retention's clocks: a contract's end; what an obligation covers.
    R"sql(
ALTER TABLE contracts ADD COLUMN ended_at INTEGER;
ALTER TABLE obligations ADD COLUMN categories TEXT NOT NULL DEFAULT '';
)sql",
    // 12: destruction runs and their acts.
    R"sql(
CREATE TABLE retention_runs (
  run         INTEGER PRIMARY KEY,
  started_at  INTEGER NOT NULL,
  as_of       INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  edition     INTEGER NOT NULL,
  finished_at INTEGER,
  act         TEXT NOT NULL,
  act_seq     INTEGER NOT NULL
) STRICT;
-- A subject's destruction deletes by subject: without these, each would
-- read the whole table.
CREATE INDEX receipts_by_subject ON receipts (subject_id);
CREATE INDEX representations_by_subject ON representations (subject_id);
)sql",
    // 13: consent to cross-border transfer; transfers to recipients.
    R"sql(
ALTER TABLE consents ADD COLUMN cross_border INTEGER NOT NULL DEFAULT 0;
CREATE TABLE transfers (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  recipient  TEXT NOT NULL,
  country    TEXT NOT NULL,
  agreement  TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  categories TEXT NOT NULL,
  edition    INTEGER NOT NULL,
  format     TEXT NOT NULL,
  sent       INTEGER NOT NULL,
  refused    TEXT NOT NULL
) STRICT;
CREATE TABLE transfer_subjects (
  transfer_id  INTEGER NOT NULL REFERENCES transfers(id),
  subject_id   INTEGER NOT NULL,
  basis        TEXT NOT NULL,
  cross_border TEXT NOT NULL,
  PRIMARY KEY (transfer_id, subject_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX transfer_subjects_by_subject ON transfer_subjects (subject_id);
)sql",
    // 14: anonymised aggregates released.
    R"sql(
CREATE TABLE aggregate_releases (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  purpose   TEXT NOT NULL,
  recipient TEXT NOT NULL,
  epsilon   REAL NOT NULL,
  body      TEXT NOT NULL
) STRICT;
)sql",
    // 15: editions published with their moment and reason; acceptances;
    // the outbox.
    R"sql(
ALTER TABLE editions ADD COLUMN effective_at INTEGER;
ALTER TABLE editions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN renewal TEXT NOT NULL DEFAULT '';
CREATE TABLE acceptances (
  subject_id INTEGER NOT NULL,
  edition    INTEGER NOT NULL,
  how        TEXT NOT NULL,
  channel    TEXT NOT NULL,
  evidence   TEXT NOT NULL,
  at         INTEGER NOT NULL,
  event_seq  INTEGER NOT NULL,
  PRIMARY KEY (subject_id, edition)
) STRICT, WITHOUT ROWID;
CREATE TABLE outbox (
  event_seq    INTEGER NOT NULL,
  subject_id   INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  delivered_at INTEGER,
  attempts     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_seq, subject_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_pending ON outbox (event_seq, subject_id) WHERE delivered_at IS NULL;
)sql",
    // 16: webhooks; the outbox takes every event other systems must act
    // on (ledger::GoesToOutbox), those recorded before included.
    R"sql(
CREATE TABLE webhooks (
  name              TEXT PRIMARY KEY,
  url               TEXT NOT NULL,
  secret_file       TEXT NOT NULL,
  added_at          INTEGER NOT NULL,
  event_seq         INTEGER NOT NULL,
  cursor_seq        INTEGER NOT NULL,
  cursor_subject    INTEGER NOT NULL,
  delivered         INTEGER NOT NULL DEFAULT 0,
  failures          INTEGER NOT NULL DEFAULT 0,
  next_at           INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT NOT NULL DEFAULT '',
  last_delivered_at INTEGER
) STRICT;
INSERT OR IGNORE INTO outbox (event_seq, subject_id, kind, created_at)
  SELECT seq, COALESCE(subject_id, 0), json_extract(body, '$.type'),
         CAST(ROUND((julianday(json_extract(body, '$.at')) - 2440587.5) * 86400000.0) AS INTEGER)
  FROM events
  WHERE json_extract(body, '$.type') IN ('consent.withdrawn', 'service.disabled', 'subject.blocked',
                                         'subject.unblocked', 'retention.destroyed', 'transfer.made');
)sql",
    // 17: enrichment and profiling (R-X).
    R"sql(
CREATE TABLE enrichments (
  subject_id INTEGER NOT NULL,
  category   TEXT NOT NULL,
  kind       TEXT NOT NULL,
  source     TEXT NOT NULL,
  agreement  TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  inputs     TEXT NOT NULL,
  at         INTEGER NOT NULL,
  event_seq  INTEGER NOT NULL,
  PRIMARY KEY (subject_id, category)
) STRICT, WITHOUT ROWID;
CREATE TABLE profiling_objections (
  subject_id     INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL,
  at             INTEGER NOT NULL,
  event_seq      INTEGER NOT NULL
) STRICT;
)sql",
    // 18: the web console's passwords (Argon2id), set through enrolment tokens.
    R"sql(
CREATE TABLE passwords (
  actor_id TEXT PRIMARY KEY,
  hash     TEXT NOT NULL,
  set_at   INTEGER NOT NULL
) STRICT;
)sql",
    // 19: the reads of personal data by whom, for the access trail by actor
    // or time; filled from the events already there (the types are
    // ledger::IsRead's).
    R"sql(
ALTER TABLE events ADD COLUMN reader TEXT;
UPDATE events SET reader = json_extract(body, '$.actor')
 WHERE json_valid(body) AND json_extract(body, '$.type') IN ('access.read', 'access.lookup', 'transfer.sent');
CREATE INDEX events_reads_by_reader ON events (reader, seq) WHERE reader IS NOT NULL;
CREATE INDEX events_reads ON events (seq) WHERE reader IS NOT NULL;
)sql",
    // 20: a subject's receipts are found through its events. Every receipt
    // row is keyed by the seq of an event of its subject (receipt.issued,
    // or in format 1 the change it signed; `audit verify` checks it), so
    // events_by_subject finds them for a destruction, and each change no
    // longer writes an entry at a random place of a second index by
    // subject (by estimate a quarter of the pages a batch of consent
    // changes wrote; docs/benchmarks.md, Run D).
    // Events written before schema 3 gave the column no subject: it is
    // filled from their bodies first, or their receipts would outlive the
    // subject's destruction.
    R"sql(
UPDATE events SET subject_id = json_extract(body, '$.subject')
 WHERE subject_id IS NULL AND json_valid(body) AND json_type(body, '$.subject') = 'integer';
DROP INDEX IF EXISTS receipts_by_subject;
)sql",
};

constexpr int kLatest = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

// What a failure of SQLite is: the disk or the file cannot be used now (a
// full or failing disk, a lock; kIo, answered 503 and retried), the file
// is damaged (kCorruption), or anything else, a bug (kInternal).
tl::unexpected<Error> DbError(sqlite3* db, std::string_view what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (sqlite3_errcode(db) & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL: code = ErrorCode::kIo; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = ErrorCode::kCorruption; break;
    default: break;
  }
  return Fail(code, "", std::string(what) + ": " + sqlite3_errmsg(db));
}

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt* get() { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  void Bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, const Bytes& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int Step() { return sqlite3_step(s_); }
  sqlite3_stmt* raw() { return s_; }

  std::int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  Bytes Blob(int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
    return p ? Bytes(p, p + sqlite3_column_bytes(s_, col)) : Bytes();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};


std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

SubjectRecord ReadSubject(Stmt& s) {
  SubjectRecord r{s.Int(0), s.Int(1), s.Blob(2)};
  if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL) r.destroyed_at = s.Int(3);
  return r;
}

ConsentRecord ReadConsent(Stmt& s) {
  return {s.Int(0), s.Text(1), static_cast<ConsentState>(s.Int(2) == 1 ? 1 : 0),
          static_cast<int>(s.Int(3)), s.Text(4), s.Text(5), s.Int(6), s.Int(7), s.Int(8) != 0};
}

SubscriptionRecord ReadSubscription(Stmt& s) {
  return {s.Int(0), s.Text(1), s.Int(2) != 0, s.Int(3), s.Int(4), s.Int(5)};
}

ObligationRecord ReadObligation(Stmt& s) {
  ObligationRecord r;
  r.ref = s.Text(0);
  r.subject_id = s.Int(1);
  r.kind = static_cast<ObligationKind>(s.Int(2));
  if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL) r.amount_minor = s.Int(3);
  r.opened_at = s.Int(4);
  if (sqlite3_column_type(s.get(), 5) != SQLITE_NULL) r.closed_at = s.Int(5);
  r.event_seq = s.Int(6);
  r.categories = SplitList(s.Text(7));
  return r;
}

ContractRecord ReadContract(Stmt& s) {
  ContractRecord r{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)};
  if (sqlite3_column_type(s.get(), 6) != SQLITE_NULL) r.ended_at = s.Int(6);
  return r;
}


// An actor row; a role outside the enum is corruption, never a guess.
Result<ActorRecord> ReadActor(Stmt& s) {
  ActorRecord a;
  a.id = s.Text(0);
  const std::int64_t role = s.Int(1);
  if (role < 0 || role > static_cast<std::int64_t>(ActorRole::kDpo)) {
    return Fail(ErrorCode::kCorruption, "actors", "actor '" + a.id + "' has an unknown role");
  }
  a.role = static_cast<ActorRole>(role);
  a.name = s.Text(2);
  a.nda_signed = s.Text(3);
  a.liability_acknowledged = s.Text(4);
  a.purposes = SplitList(s.Text(5));
  a.created_at = s.Int(6);
  if (sqlite3_column_type(s.get(), 7) != SQLITE_NULL) a.disabled_at = s.Int(7);
  return a;
}

class SqliteStore;

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore& store, std::unique_lock<std::mutex> lock);
  ~SqliteTransaction() override;

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override;
  Result<void> PutMeta(std::string_view key, const Bytes& value) override;
  Result<void> PutEdition(const EditionRecord& edition) override;
  Result<std::optional<EditionRecord>> LatestEdition() override;
  Result<std::vector<EditionRecord>> ListEditions() override;
  Result<void> InsertAcceptance(const AcceptanceRecord& record) override;
  Result<std::optional<AcceptanceRecord>> GetAcceptance(SubjectId subject, int edition) override;
  Result<void> ScanAcceptances(const std::function<void(const AcceptanceRecord&)>& each) override;
  Result<void> InsertOutbox(const OutboxRecord& record) override;
  Result<void> ScanOutbox(bool pending_only, const std::function<void(const OutboxRecord&)>& each) override;
  Result<std::vector<OutboxRecord>> OutboxAfter(std::int64_t seq, SubjectId subject, bool pending_only,
                                                std::size_t limit) override;
  Result<void> MarkOutboxDelivered(std::int64_t seq, SubjectId subject, UnixMillis at) override;
  Result<void> CountOutboxAttempt(std::pair<std::int64_t, SubjectId> from,
                                  std::pair<std::int64_t, SubjectId> to) override;
  Result<void> PutEnrichment(const EnrichmentRecord& record) override;
  Result<void> DeleteEnrichment(SubjectId subject, std::string_view category) override;
  Result<std::vector<EnrichmentRecord>> GetEnrichments(SubjectId subject) override;
  Result<void> ScanEnrichments(const std::function<void(const EnrichmentRecord&)>& each) override;
  Result<void> InsertProfilingObjection(const ProfilingObjectionRecord& record) override;
  Result<std::optional<ProfilingObjectionRecord>> GetProfilingObjection(SubjectId subject) override;
  Result<void> ScanProfilingObjections(const std::function<void(const ProfilingObjectionRecord&)>& each) override;
  Result<void> InsertWebhook(const WebhookRecord& record) override;
  Result<bool> DeleteWebhook(std::string_view name) override;
  Result<std::vector<WebhookRecord>> ListWebhooks() override;
  Result<bool> UpdateWebhookDelivery(const WebhookRecord& record) override;
  Result<SubjectId> InsertSubject(UnixMillis created_at, const Bytes& iin_index,
                                  const Bytes& phone_index) override;
  Result<void> SetSubjectKey(SubjectId id, const Bytes& wrapped_key) override;
  Result<void> SetSubjectIndexes(SubjectId id, const Bytes& iin_index,
                                 const Bytes& phone_index) override;
  Result<std::optional<SubjectId>> FindSubject(IndexKind kind, const Bytes& index) override;
  Result<std::optional<SubjectRecord>> GetSubject(SubjectId id) override;
  Result<std::vector<SubjectRecord>> ListSubjects(SubjectId after, size_t limit) override;
  Result<void> PutPersonalData(const PersonalDataRecord& record) override;
  Result<std::vector<PersonalDataRecord>> GetPersonalData(SubjectId subject) override;
  Result<void> PutConsent(const ConsentRecord& record) override;
  Result<std::vector<ConsentRecord>> GetConsents(SubjectId subject) override;
  Result<std::int64_t> InsertContract(const ContractRecord& record) override;
  Result<std::vector<ContractRecord>> GetContracts(SubjectId subject) override;
  Result<void> EndContract(std::int64_t id, UnixMillis at) override;
  Result<void> PutSubscription(const SubscriptionRecord& record) override;
  Result<std::vector<SubscriptionRecord>> GetSubscriptions(SubjectId subject) override;
  Result<void> InsertObligation(const ObligationRecord& record) override;
  Result<void> CloseObligation(std::string_view ref, UnixMillis at) override;
  Result<std::optional<ObligationRecord>> GetObligation(std::string_view ref) override;
  Result<std::vector<ObligationRecord>> GetObligations(SubjectId subject, bool open_only) override;
  Result<void> PutActor(const ActorRecord& record) override;
  Result<std::optional<ActorRecord>> GetActor(std::string_view id) override;
  Result<std::vector<ActorRecord>> ListActors() override;
  Result<void> PutDuty(const DutyRecord& record) override;
  Result<std::vector<DutyRecord>> GetDuties(std::string_view actor_id) override;
  Result<void> InsertApiKey(const ApiKeyRecord& key) override;
  Result<std::optional<ApiKeyRecord>> FindApiKey(const Bytes& key_hash) override;
  Result<void> RevokeApiKey(const Bytes& key_hash, UnixMillis at) override;
  Result<void> DeleteDuty(std::string_view actor_id, std::string_view purpose) override;
  Result<void> PutEnrolment(const EnrolmentRecord& enrolment) override;
  Result<std::optional<EnrolmentRecord>> FindEnrolment(const Bytes& token_hash) override;
  Result<void> PutPassword(const PasswordRecord& password) override;
  Result<std::optional<PasswordRecord>> GetPassword(std::string_view actor_id) override;
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view actor_id,
                                                          std::string_view key) override;
  Result<bool> PutIdempotency(const IdempotencyRecord& record, UnixMillis expired_before) override;
  Result<void> CompleteIdempotency(std::string_view actor_id, std::string_view key, int status,
                                   std::string_view body) override;
  Result<void> DeleteIdempotencyBefore(UnixMillis before, int limit) override;
  Result<void> ScanSubjectEvents(SubjectId subject,
                                 const std::function<void(const EventRecord&)>& each) override;
  Result<void> ScanReads(std::string_view reader, std::int64_t before,
                         const std::function<bool(const EventRecord&)>& each) override;
  Result<void> InsertDecisionRequests(const std::vector<DecisionRequestRecord>& records) override;
  Result<void> ScanDecisionRequests(
      std::int64_t seal, const std::function<void(const DecisionRequestRecord&)>& each) override;
  Result<std::int64_t> CountDecisionRequests() override;
  Result<void> ScanSubjectDecisionRequests(
      SubjectId subject, const std::function<void(const DecisionRequestRecord&)>& each) override;
  Result<void> ScanDecisionSubjects(
      const std::function<void(SubjectId, std::int64_t)>& each) override;
  Result<void> ScanDecisions(std::int64_t first, std::int64_t last,
                             const std::function<void(const DecisionRecord&)>& each) override;
  Result<void> ScanSubjectDecisions(SubjectId subject,
                                    const std::function<void(const DecisionRecord&)>& each) override;
  Result<void> PutCalendarYear(const CalendarYearRecord& record) override;
  Result<void> ScanCalendarYears(const std::function<void(const CalendarYearRecord&)>& each) override;
  Result<void> InsertBreach(const BreachRecord& record) override;
  Result<void> UpdateBreach(const BreachRecord& record) override;
  Result<std::optional<BreachRecord>> GetBreach(std::int64_t id) override;
  Result<void> ScanBreaches(const std::function<void(const BreachRecord&)>& each) override;
  Result<void> InsertTransfer(const TransferRecord& record,
                              const std::vector<TransferSubjectRecord>& subjects) override;
  Result<std::optional<TransferRecord>> GetTransfer(std::int64_t id) override;
  Result<void> ScanTransfers(const std::function<void(const TransferRecord&)>& each) override;
  Result<std::vector<TransferSubjectRecord>> GetTransferSubjects(SubjectId subject) override;
  Result<void> ScanTransferSubjects(const std::function<void(const TransferSubjectRecord&)>& each) override;
  Result<void> InsertAggregateRelease(const AggregateReleaseRecord& record) override;
  Result<void> ScanAggregateReleases(const std::function<void(const AggregateReleaseRecord&)>& each) override;
  Result<void> InsertRepresentation(const RepresentationRecord& record) override;
  Result<void> ScanRepresentations(const std::function<void(const RepresentationRecord&)>& each) override;
  Result<void> PutSubjectBlock(const SubjectBlockRecord& record) override;
  Result<void> DeleteSubjectBlock(SubjectId subject) override;
  Result<std::optional<SubjectBlockRecord>> GetSubjectBlock(SubjectId subject) override;
  Result<void> ScanSubjectBlocks(const std::function<void(const SubjectBlockRecord&)>& each) override;
  Result<void> InsertApplication(const ApplicationRecord& record) override;
  Result<void> UpdateApplication(const ApplicationRecord& record) override;
  Result<std::optional<ApplicationRecord>> GetApplication(std::int64_t id) override;
  Result<std::vector<ApplicationRecord>> GetSubjectApplications(SubjectId subject) override;
  Result<void> ScanOpenApplications(const std::function<void(const ApplicationRecord&)>& each) override;
  Result<void> ScanAllApplications(const std::function<void(const ApplicationRecord&)>& each) override;
  Result<void> InsertApplicationDocument(const ApplicationDocumentRecord& record) override;
  Result<std::vector<ApplicationDocumentRecord>> GetApplicationDocuments(std::int64_t application) override;
  Result<void> ScanAllApplicationDocuments(
      const std::function<void(const ApplicationDocumentRecord&)>& each) override;
  Result<void> DeletePersonalData(SubjectId subject, std::string_view category, UnixMillis at) override;
  Result<void> DeleteConsent(SubjectId subject, std::string_view purpose, UnixMillis at) override;
  Result<void> DeleteContract(std::int64_t id, UnixMillis at) override;
  Result<void> DeleteObligation(std::string_view ref, UnixMillis at) override;
  Result<void> DeleteApplication(std::int64_t id, UnixMillis at) override;
  Result<void> DestroySubject(SubjectId subject, UnixMillis at) override;
  Result<void> ForgetSubjectIndex(SubjectId subject, IndexKind kind) override;
  Result<void> ScanCategoryValues(
      std::string_view category,
      const std::function<void(SubjectId, std::span<const std::uint8_t>)>& each) override;
  Result<void> SetSubjectDemographics(SubjectId id, const Bytes& sealed) override;
  Result<void> ScanSubjectDemographics(
      const std::function<void(SubjectId, UnixMillis, std::span<const std::uint8_t>)>& each) override;
  Result<void> PutRetentionRun(const RetentionRunRecord& record) override;
  Result<std::optional<RetentionRunRecord>> GetRetentionRun(std::int64_t run) override;
  Result<void> ScanRetentionRuns(const std::function<void(const RetentionRunRecord&)>& each) override;
  Result<void> PutReceipt(const ReceiptRecord& record) override;
  Result<std::optional<ReceiptRecord>> GetReceipt(std::int64_t event_seq) override;
  Result<void> ScanSubjectIds(const std::function<void(SubjectId, bool)>& each) override;
  Result<void> ScanConsents(const std::function<void(const ConsentRecord&)>& each) override;
  Result<void> ScanSubscriptions(
      const std::function<void(const SubscriptionRecord&)>& each) override;
  Result<void> PutMerkleNode(int level, std::int64_t index, const Bytes& hash) override;
  Result<std::optional<Bytes>> GetMerkleNode(int level, std::int64_t index) override;
  Result<void> PutTreeHead(const TreeHeadRecord& head) override;
  Result<std::optional<TreeHeadRecord>> LatestTreeHead() override;
  Result<void> ScanTreeHeads(const std::function<void(const TreeHeadRecord&)>& each) override;
  Result<void> ScanAllSubscriptions(
      const std::function<void(const SubscriptionRecord&)>& each) override;
  Result<void> ScanAllObligations(const std::function<void(const ObligationRecord&)>& each) override;
  Result<void> ScanContracts(const std::function<void(const ContractRecord&)>& each) override;
  Result<void> ScanDuties(const std::function<void(const DutyRecord&)>& each) override;
  Result<void> ScanApiKeys(const std::function<void(const ApiKeyRecord&)>& each) override;
  Result<void> ScanEnrolments(const std::function<void(const EnrolmentRecord&)>& each) override;
  Result<void> ScanPasswords(const std::function<void(const PasswordRecord&)>& each) override;
  Result<void> ScanReceipts(const std::function<void(const ReceiptRecord&)>& each) override;
  Result<void> ScanPersonalData(const std::function<void(const PersonalDataRecord&)>& each) override;
  Result<void> ScanOpenObligations(
      const std::function<void(const ObligationRecord&)>& each) override;
  Result<void> Savepoint() override;
  Result<void> RollbackToSavepoint() override;
  Result<void> ReleaseSavepoint() override;
  Result<std::optional<EventRecord>> LastEvent() override;
  Result<void> AppendEvent(const EventRecord& event) override;
  Result<void> ScanEvents(std::int64_t from,
                          const std::function<bool(const EventRecord&)>& each) override;
  Result<void> Commit() override;
  Result<void> ScanForgotten(const std::function<void(const ForgottenRecord&)>& each) override;

 private:
  // Runs a statement that returns no rows.
  Result<void> Exec(Stmt& s, std::string_view what);
  Stmt& S(const char* sql);
  // The subject's wrapped data key: this transaction's pending change, or
  // the key store's; empty when destroyed or never made.
  Result<Bytes> KeyOf(SubjectId subject);
  // Remembered in the key store for a restore to forget again.
  void Forget(SubjectId subject, std::string what, std::string key, UnixMillis at);
  // Writes the pending key changes and tombstones to the key store and
  // commits it: before the main database, so that no committed subject
  // lacks its key (docs/architecture.md, "Backups that forget").
  Result<void> CommitKeys(std::int64_t seq);
  void SettleKeys(std::int64_t seq, bool committed);

  SqliteStore& store_;
  std::unique_lock<std::mutex> lock_;
  bool open_ = true;
  // Data keys live in their own file (keys.db), which backups do not
  // carry; changes wait here until the commit. nullopt: destroyed.
  std::vector<std::pair<SubjectId, std::optional<Bytes>>> key_ops_;
  std::vector<ForgottenRecord> forgotten_;
  // Sealed demographics kept beside the keys (empty: cleared), and what
  // each replaced once written, to put back when the database's commit fails.
  std::vector<std::pair<SubjectId, Bytes>> demographics_ops_;
  std::vector<std::pair<SubjectId, std::optional<Bytes>>> demographics_before_;
  std::size_t key_mark_ = 0, forgotten_mark_ = 0, demographics_mark_ = 0;  // at the savepoint
  // The last event, once read or appended in this transaction: every
  // append needs it, and only this transaction writes while it is open.
  // Forgotten on a rollback to the savepoint.
  std::optional<std::optional<EventRecord>> last_event_;
  bool scanning_ = false;  // ScanEvents holds the cached statement
  // The key store's keys read in this transaction (a change reads its
  // subject's key three or four times: resolving, the minors' check, the
  // retention check), all in one read transaction on the key store, begun
  // at the first read and ended before the key store's own commit: a read
  // outside a transaction takes and drops its locks (two fcntl calls) each
  // time. Pending changes (key_ops_) are looked at first.
  std::unordered_map<SubjectId, Bytes> key_cache_;
  static constexpr std::size_t kKeyCacheLimit = 4096;
  bool keys_read_open_ = false;
  Result<void> BeginKeyRead();
  void EndKeyRead();
};

// The key store's schema (keys.db): the subjects' wrapped data keys, and
// what was destroyed, for a restore of an older backup to destroy again.
constexpr const char* kKeySchema = R"sql(
CREATE TABLE IF NOT EXISTS data_keys (
  subject_id INTEGER PRIMARY KEY,
  wrapped    BLOB NOT NULL,
  doomed     INTEGER, -- destroyed by the main transaction ending with this event seq, once it commits
  demographics BLOB   -- sealed birth date and sex, for aggregates (rules/demographics.h)
) STRICT;
CREATE TABLE IF NOT EXISTS forgotten (
  id         INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL,
  what       TEXT NOT NULL,
  key        TEXT NOT NULL,
  at         INTEGER NOT NULL,
  seq        INTEGER NOT NULL,  -- the main transaction's last event
  pending    INTEGER NOT NULL   -- 1 until that transaction is known to have committed
) STRICT;
)sql";

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    stmts_.clear();
    key_stmts_.clear();
    sqlite3_close(db_);
    if (keys_) sqlite3_close(keys_);
  }

  // Opens (creating it unless read-only) the key store beside the
  // database, and moves into it the keys an older schema kept in
  // subjects.wrapped_key. Read-only and missing: no keys (every subject
  // reads as without its key).
  Result<void> OpenKeys(const std::filesystem::path& file, bool read_only) {
    std::error_code ec;
    if (read_only && !std::filesystem::exists(file, ec)) return {};
    const int flags = read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(file.c_str(), &keys_, flags, nullptr) != SQLITE_OK) {
      auto err = Fail(ErrorCode::kIo, file.string(), std::string("cannot open the key store: ") + sqlite3_errmsg(keys_));
      sqlite3_close(keys_);
      keys_ = nullptr;
      return err;
    }
    sqlite3_busy_timeout(keys_, 10000);
    if (read_only) {
      if (sqlite3_exec(keys_, "PRAGMA query_only = ON;", nullptr, nullptr, nullptr) != SQLITE_OK) {
        return DbError(keys_, "configuring the key store");
      }
      return {};
    }
    const std::string setup = std::string("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                                          "PRAGMA secure_delete = ON;") + kKeySchema;
    if (sqlite3_exec(keys_, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return DbError(keys_, "creating the key store");
    }
    // Schema 18 keeps the demographics aggregates read beside the keys.
    if (sqlite3_stmt* probe = nullptr;
        sqlite3_prepare_v2(keys_, "SELECT demographics FROM data_keys", -1, &probe, nullptr) != SQLITE_OK) {
      if (sqlite3_exec(keys_, "ALTER TABLE data_keys ADD COLUMN demographics BLOB", nullptr, nullptr, nullptr) !=
          SQLITE_OK) {
        return DbError(keys_, "adding demographics to the key store");
      }
    } else {
      sqlite3_finalize(probe);
    }
    ::chmod(file.c_str(), 0600);
    QORGAU_TRY(Reconcile());
    // Keys an older schema kept with the data: copied and committed to the
    // key store first, then cleared from the database (a crash between
    // the two copies them again).
    std::vector<std::pair<SubjectId, Bytes>> old;
    {
      Stmt q(db_, "SELECT id, wrapped_key FROM subjects WHERE wrapped_key IS NOT NULL");
      if (!q.ok()) return DbError(db_, "reading the keys to move");
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) old.emplace_back(q.Int(0), q.Blob(1));
      if (rc != SQLITE_DONE) return DbError(db_, "reading the keys to move");
    }
    if (old.empty()) return {};
    if (sqlite3_exec(keys_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return DbError(keys_, "moving the keys");
    }
    {
      Stmt put(keys_, "INSERT OR REPLACE INTO data_keys (subject_id, wrapped) VALUES (?1, ?2)");
      for (const auto& [id, wrapped] : old) {
        put.Reset();
        put.Bind(1, id);
        put.Bind(2, wrapped);
        if (put.Step() != SQLITE_DONE) {
          auto err = DbError(keys_, "moving the keys");
          put.Reset();
          sqlite3_exec(keys_, "ROLLBACK", nullptr, nullptr, nullptr);
          return err;
        }
      }
    }
    if (sqlite3_exec(keys_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return DbError(keys_, "moving the keys");
    if (sqlite3_exec(db_, "UPDATE subjects SET wrapped_key = NULL WHERE wrapped_key IS NOT NULL", nullptr, nullptr,
                     nullptr) != SQLITE_OK) {
      return DbError(db_, "clearing the moved keys");
    }
    return {};
  }

  // A crash between the key store's two commits and the database's: what
  // the database committed (its last event seq) decides. Keys doomed by a
  // committed transaction go; others come back. Journal entries of a
  // transaction that never committed go.
  Result<void> Reconcile() {
    std::int64_t last = 0;
    {
      Stmt q(db_, "SELECT coalesce(max(seq), 0) FROM events");
      if (!q.ok() || q.Step() != SQLITE_ROW) return DbError(db_, "reading the ledger's size");
      last = q.Int(0);
    }
    const std::string sql = "BEGIN IMMEDIATE; DELETE FROM data_keys WHERE doomed IS NOT NULL AND doomed <= " +
                            std::to_string(last) + "; UPDATE data_keys SET doomed = NULL WHERE doomed > " +
                            std::to_string(last) + "; UPDATE forgotten SET pending = 0 WHERE pending = 1 AND seq <= " +
                            std::to_string(last) + "; DELETE FROM forgotten WHERE pending = 1 AND seq > " +
                            std::to_string(last) + "; COMMIT;";
    if (sqlite3_exec(keys_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto err = DbError(keys_, "reconciling the key store with the database");
      sqlite3_exec(keys_, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
    return {};
  }

  sqlite3* keys() { return keys_; }
  Stmt& KeyStatement(const char* sql) {
    auto it = key_stmts_.find(sql);
    if (it == key_stmts_.end()) it = key_stmts_.emplace(sql, std::make_unique<Stmt>(keys_, sql)).first;
    it->second->Reset();
    return *it->second;
  }

  // For a read-only store: the schema must be this binary's.
  Result<void> CheckVersion() {
    Stmt v(db_, "PRAGMA user_version");
    if (!v.ok() || v.Step() != SQLITE_ROW) return DbError(db_, "reading the schema version");
    version_ = static_cast<int>(v.Int(0));
    if (version_ != kLatest) {
      return Fail(ErrorCode::kFailedPrecondition, "database",
                  "schema version " + std::to_string(version_) + ", this qorgau reads " +
                      std::to_string(kLatest) + "; open it once with this qorgau to migrate it");
    }
    return {};
  }

  Result<void> Migrate() {
    Stmt v(db_, "PRAGMA user_version");
    if (!v.ok() || v.Step() != SQLITE_ROW) return DbError(db_, "reading the schema version");
    version_ = static_cast<int>(v.Int(0));
    v.Reset();  // a statement left running would lock the tables a migration drops
    if (version_ > kLatest) {
      return Fail(ErrorCode::kFailedPrecondition, "database",
                  "schema version " + std::to_string(version_) +
                      " is newer than this qorgau knows (" + std::to_string(kLatest) +
                      "); use a newer qorgau");
    }
    if (version_ == kLatest) return {};
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return DbError(db_, "starting the migration");
    }
    for (int v2 = version_; v2 < kLatest; ++v2) {
      if (sqlite3_exec(db_, kMigrations[v2], nullptr, nullptr, nullptr) != SQLITE_OK) {
        auto err = DbError(db_, "migration " + std::to_string(v2 + 1));
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return err;
      }
    }
    const std::string set = "PRAGMA user_version = " + std::to_string(kLatest);
    if (sqlite3_exec(db_, set.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto err = DbError(db_, "finishing the migration");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
    version_ = kLatest;
    return {};
  }

  Result<std::unique_ptr<Transaction>> Begin(Mode mode) override {
    std::unique_lock<std::mutex> lock(mu_);
    const char* sql = mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return DbError(db_, "starting a transaction");
    }
    return std::make_unique<SqliteTransaction>(*this, std::move(lock));
  }

  int SchemaVersion() const override { return version_; }

  Result<void> ForgetDeleted() override {
    std::unique_lock<std::mutex> lock(mu_);
    for (sqlite3* db : {db_, keys_}) {
      if (!db) continue;
      int log = 0, done = 0;
      if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) != SQLITE_OK) {
        return DbError(db, "checkpointing the log after a destruction");
      }
    }
    return {};
  }

  Result<void> BackupTo(const std::filesystem::path& file) override {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      return Fail(ErrorCode::kAlreadyExists, file.string(), "exists already; a backup never overwrites one");
    }
    // Made 0600 before a byte is copied into it.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrorCode::kIo, file.string(), "cannot create the backup file");
    ::close(fd);
    sqlite3* to = nullptr;
    if (sqlite3_open_v2(file.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      auto err = Fail(ErrorCode::kIo, file.string(), std::string("cannot create the backup: ") + sqlite3_errmsg(to));
      sqlite3_close(to);
      return err;
    }
    std::unique_lock<std::mutex> lock(mu_);
    // One step for the whole database: a consistent snapshot, however the
    // server writes meanwhile (the source is read in one read transaction).
    sqlite3_backup* b = sqlite3_backup_init(to, "main", db_, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b) sqlite3_backup_finish(b);
    Result<void> out;
    if (rc != SQLITE_DONE) out = DbError(to, "copying the database");
    if (out && sqlite3_exec(to, "PRAGMA journal_mode = DELETE;", nullptr, nullptr, nullptr) != SQLITE_OK) {
      out = DbError(to, "finishing the backup");
    }
    sqlite3_close(to);
    if (!out) std::filesystem::remove(file, ec);
    return out;
  }

  sqlite3* db() { return db_; }

  // Before COMMIT or ROLLBACK: no statement may stay mid-result.
  void ResetAll() {
    for (auto& [sql, stmt] : stmts_) stmt->Reset();
    for (auto& [sql, stmt] : key_stmts_) stmt->Reset();
  }

  Stmt& Statement(const char* sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) it = stmts_.emplace(sql, std::make_unique<Stmt>(db_, sql)).first;
    it->second->Reset();
    return *it->second;
  }

 private:
  sqlite3* db_;
  std::mutex mu_;
  int version_ = 0;
  // Keyed by the address of the SQL literal: each call site's text is a
  // distinct static string.
  std::unordered_map<const char*, std::unique_ptr<Stmt>> stmts_;
  sqlite3* keys_ = nullptr;  // keys.db: the data keys, apart from the data
  std::unordered_map<const char*, std::unique_ptr<Stmt>> key_stmts_;
};

SqliteTransaction::SqliteTransaction(SqliteStore& store, std::unique_lock<std::mutex> lock)
    : store_(store), lock_(std::move(lock)) {}

SqliteTransaction::~SqliteTransaction() {
  EndKeyRead();
  if (open_) {
    store_.ResetAll();
    sqlite3_exec(store_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Stmt& SqliteTransaction::S(const char* sql) { return store_.Statement(sql); }

Result<void> SqliteTransaction::Exec(Stmt& s, std::string_view what) {
  if (!s.ok()) return DbError(store_.db(), what);
  const int rc = s.Step();
  if (rc != SQLITE_DONE) return DbError(store_.db(), what);
  return {};
}

Result<std::optional<Bytes>> SqliteTransaction::GetMeta(std::string_view key) {
  Stmt& s = S("SELECT value FROM meta WHERE key = ?1");
  s.Bind(1, key);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<Bytes>(s.Blob(0));
  if (rc == SQLITE_DONE) return std::optional<Bytes>();
  return DbError(store_.db(), "reading meta");
}

Result<void> SqliteTransaction::PutMeta(std::string_view key, const Bytes& value) {
  Stmt& s = S("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
  s.Bind(1, key);
  s.Bind(2, value);
  return Exec(s, "writing meta");
}

namespace {

// Runs `sql` and calls `row` for each result row; `what` names it in errors.
template <typename F>
Result<void> ScanRows(sqlite3* db, const char* sql, const char* what, F row) {
  Stmt s(db, sql);
  if (!s.ok()) return DbError(db, what);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (auto r = row(s); !r) return r;
  }
  if (rc != SQLITE_DONE) return DbError(db, what);
  return {};
}

}  // namespace

Result<void> SqliteTransaction::PutEdition(const EditionRecord& e) {
  Stmt& s = S("INSERT INTO editions (number, main_file, hash, published_at, effective_at, reason, renewal) "
              "VALUES (?1,?2,?3,?4,?5,?6,?7)");
  s.Bind(1, e.number);
  s.Bind(2, e.main_file);
  s.Bind(3, e.hash);
  s.Bind(4, e.published_at);
  if (e.effective_at) s.Bind(5, *e.effective_at);
  s.Bind(6, e.reason);
  s.Bind(7, JoinList(e.renewal));
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "edition",
                  "edition " + std::to_string(e.number) + " is already published");
    }
    return DbError(store_.db(), "writing the edition");
  }
  for (const auto& [path, content] : e.files) {
    Stmt& f = S("INSERT INTO edition_files (edition, path, content) VALUES (?1, ?2, ?3)");
    f.Bind(1, e.number);
    f.Bind(2, path);
    f.Bind(3, content);
    if (auto r = Exec(f, "writing an edition file"); !r) return r;
  }
  return {};
}

Result<std::optional<EditionRecord>> SqliteTransaction::LatestEdition() {
  QORGAU_ASSIGN_OR_RETURN(auto all, ListEditions());
  if (all.empty()) return std::optional<EditionRecord>();
  return std::optional<EditionRecord>(std::move(all.back()));
}

Result<std::vector<EditionRecord>> SqliteTransaction::ListEditions() {
  std::vector<EditionRecord> out;
  {
    Stmt& s = S("SELECT number, main_file, hash, published_at, effective_at, reason, renewal FROM editions "
                "ORDER BY number");
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      EditionRecord e;
      e.number = static_cast<int>(s.Int(0));
      e.main_file = s.Text(1);
      e.hash = s.Blob(2);
      e.published_at = s.Int(3);
      if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) e.effective_at = s.Int(4);
      e.reason = s.Text(5);
      e.renewal = SplitList(s.Text(6));
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return DbError(store_.db(), "reading the editions");
  }
  for (auto& e : out) {
    Stmt& f = S("SELECT path, content FROM edition_files WHERE edition = ?1");
    f.Bind(1, e.number);
    int rc;
    while ((rc = f.Step()) == SQLITE_ROW) e.files[f.Text(0)] = f.Text(1);
    if (rc != SQLITE_DONE) return DbError(store_.db(), "reading the edition files");
  }
  return out;
}

Result<void> SqliteTransaction::InsertAcceptance(const AcceptanceRecord& r) {
  Stmt& s = S("INSERT INTO acceptances (subject_id, edition, how, channel, evidence, at, event_seq) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.Bind(1, r.subject_id);
  s.Bind(2, static_cast<std::int64_t>(r.edition));
  s.Bind(3, r.how);
  s.Bind(4, r.channel);
  s.Bind(5, r.evidence);
  s.Bind(6, r.at);
  s.Bind(7, r.event_seq);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "edition", "the subject accepted this edition already");
    }
    return DbError(store_.db(), "writing an acceptance");
  }
  return {};
}

Result<std::optional<AcceptanceRecord>> SqliteTransaction::GetAcceptance(SubjectId subject, int edition) {
  Stmt& s = S("SELECT subject_id, edition, how, channel, evidence, at, event_seq FROM acceptances "
              "WHERE subject_id = ?1 AND edition = ?2");
  s.Bind(1, subject);
  s.Bind(2, static_cast<std::int64_t>(edition));
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<AcceptanceRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an acceptance");
  return std::optional<AcceptanceRecord>(
      AcceptanceRecord{s.Int(0), static_cast<int>(s.Int(1)), s.Text(2), s.Text(3), s.Text(4), s.Int(5), s.Int(6)});
}

Result<void> SqliteTransaction::ScanAcceptances(const std::function<void(const AcceptanceRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT subject_id, edition, how, channel, evidence, at, event_seq FROM acceptances "
                  "ORDER BY subject_id, edition",
                  "scanning acceptances", [&](Stmt& s) -> Result<void> {
                    each({s.Int(0), static_cast<int>(s.Int(1)), s.Text(2), s.Text(3), s.Text(4), s.Int(5), s.Int(6)});
                    return {};
                  });
}

Result<void> SqliteTransaction::InsertOutbox(const OutboxRecord& r) {
  Stmt& s = S("INSERT INTO outbox (event_seq, subject_id, kind, created_at, delivered_at, attempts) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.Bind(1, r.event_seq);
  s.Bind(2, r.subject_id);
  s.Bind(3, r.kind);
  s.Bind(4, r.created_at);
  if (r.delivered_at) s.Bind(5, *r.delivered_at);
  s.Bind(6, static_cast<std::int64_t>(r.attempts));
  return Exec(s, "writing to the outbox");
}

namespace {

OutboxRecord ReadOutbox(Stmt& s) {
  OutboxRecord r{s.Int(0), s.Int(1), s.Text(2), s.Int(3), {}, static_cast<int>(s.Int(5))};
  if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) r.delivered_at = s.Int(4);
  return r;
}

}  // namespace

Result<std::vector<OutboxRecord>> SqliteTransaction::OutboxAfter(std::int64_t seq, SubjectId subject,
                                                                 bool pending_only, std::size_t limit) {
  Stmt& s = pending_only
                ? S("SELECT event_seq, subject_id, kind, created_at, delivered_at, attempts FROM outbox "
                    "WHERE (event_seq, subject_id) > (?1, ?2) AND delivered_at IS NULL "
                    "ORDER BY event_seq, subject_id LIMIT ?3")
                : S("SELECT event_seq, subject_id, kind, created_at, delivered_at, attempts FROM outbox "
                    "WHERE (event_seq, subject_id) > (?1, ?2) ORDER BY event_seq, subject_id LIMIT ?3");
  s.Bind(1, seq);
  s.Bind(2, subject);
  s.Bind(3, static_cast<std::int64_t>(limit));
  std::vector<OutboxRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadOutbox(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading the outbox");
  return out;
}

Result<void> SqliteTransaction::MarkOutboxDelivered(std::int64_t seq, SubjectId subject, UnixMillis at) {
  Stmt& s = S("UPDATE outbox SET delivered_at = ?3 WHERE delivered_at IS NULL AND (event_seq, subject_id) <= (?1, ?2)");
  s.Bind(1, seq);
  s.Bind(2, subject);
  s.Bind(3, at);
  return Exec(s, "marking the outbox delivered");
}

Result<void> SqliteTransaction::CountOutboxAttempt(std::pair<std::int64_t, SubjectId> from,
                                                   std::pair<std::int64_t, SubjectId> to) {
  Stmt& s = S("UPDATE outbox SET attempts = attempts + 1 "
              "WHERE (event_seq, subject_id) > (?1, ?2) AND (event_seq, subject_id) <= (?3, ?4)");
  s.Bind(1, from.first);
  s.Bind(2, from.second);
  s.Bind(3, to.first);
  s.Bind(4, to.second);
  return Exec(s, "counting an attempt in the outbox");
}

namespace {

EnrichmentRecord ReadEnrichment(Stmt& s) {
  return {s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), SplitList(s.Text(6)), s.Int(7), s.Int(8)};
}

#define QORGAU_ENRICHMENT_COLUMNS \
  "SELECT subject_id, category, kind, source, agreement, purpose, inputs, at, event_seq FROM enrichments "

}  // namespace

Result<void> SqliteTransaction::PutEnrichment(const EnrichmentRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO enrichments (subject_id, category, kind, source, agreement, purpose, inputs, at, "
              "event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.category);
  s.Bind(3, r.kind);
  s.Bind(4, r.source);
  s.Bind(5, r.agreement);
  s.Bind(6, r.purpose);
  s.Bind(7, JoinList(r.inputs));
  s.Bind(8, r.at);
  s.Bind(9, r.event_seq);
  return Exec(s, "writing an enrichment");
}

Result<void> SqliteTransaction::DeleteEnrichment(SubjectId subject, std::string_view category) {
  Stmt& s = S("DELETE FROM enrichments WHERE subject_id = ?1 AND category = ?2");
  s.Bind(1, subject);
  s.Bind(2, category);
  return Exec(s, "deleting an enrichment");
}

Result<std::vector<EnrichmentRecord>> SqliteTransaction::GetEnrichments(SubjectId subject) {
  Stmt& s = S(QORGAU_ENRICHMENT_COLUMNS "WHERE subject_id = ?1 ORDER BY category");
  s.Bind(1, subject);
  std::vector<EnrichmentRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadEnrichment(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading enrichments");
  return out;
}

Result<void> SqliteTransaction::ScanEnrichments(const std::function<void(const EnrichmentRecord&)>& each) {
  return ScanRows(store_.db(), QORGAU_ENRICHMENT_COLUMNS "ORDER BY subject_id, category", "scanning enrichments",
                  [&](Stmt& s) -> Result<void> {
    each(ReadEnrichment(s));
    return {};
  });
}

Result<void> SqliteTransaction::InsertProfilingObjection(const ProfilingObjectionRecord& r) {
  Stmt& s = S("INSERT INTO profiling_objections (subject_id, application_id, at, event_seq) VALUES (?1, ?2, ?3, ?4)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.application_id);
  s.Bind(3, r.at);
  s.Bind(4, r.event_seq);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "subject", "the subject objected to profiling already");
    }
    return DbError(store_.db(), "writing an objection to profiling");
  }
  return {};
}

Result<std::optional<ProfilingObjectionRecord>> SqliteTransaction::GetProfilingObjection(SubjectId subject) {
  Stmt& s = S("SELECT subject_id, application_id, at, event_seq FROM profiling_objections WHERE subject_id = ?1");
  s.Bind(1, subject);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ProfilingObjectionRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an objection to profiling");
  return std::optional<ProfilingObjectionRecord>(ProfilingObjectionRecord{s.Int(0), s.Int(1), s.Int(2), s.Int(3)});
}

Result<void> SqliteTransaction::ScanProfilingObjections(
    const std::function<void(const ProfilingObjectionRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT subject_id, application_id, at, event_seq FROM profiling_objections ORDER BY subject_id",
                  "scanning objections to profiling", [&](Stmt& s) -> Result<void> {
                    each({s.Int(0), s.Int(1), s.Int(2), s.Int(3)});
                    return {};
                  });
}

Result<void> SqliteTransaction::InsertWebhook(const WebhookRecord& w) {
  Stmt& s = S("INSERT INTO webhooks (name, url, secret_file, added_at, event_seq, cursor_seq, cursor_subject) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.Bind(1, w.name);
  s.Bind(2, w.url);
  s.Bind(3, w.secret_file);
  s.Bind(4, w.added_at);
  s.Bind(5, w.event_seq);
  s.Bind(6, w.cursor_seq);
  s.Bind(7, w.cursor_subject);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "name", "a webhook named '" + w.name + "' exists");
    }
    return DbError(store_.db(), "writing a webhook");
  }
  return {};
}

Result<bool> SqliteTransaction::DeleteWebhook(std::string_view name) {
  Stmt& s = S("DELETE FROM webhooks WHERE name = ?1");
  s.Bind(1, name);
  QORGAU_TRY(Exec(s, "deleting a webhook"));
  return sqlite3_changes(store_.db()) > 0;
}

Result<std::vector<WebhookRecord>> SqliteTransaction::ListWebhooks() {
  std::vector<WebhookRecord> out;
  QORGAU_TRY(ScanRows(store_.db(),
                      "SELECT name, url, secret_file, added_at, event_seq, cursor_seq, cursor_subject, delivered, "
                      "failures, next_at, last_error, last_delivered_at FROM webhooks ORDER BY name",
                      "reading webhooks", [&](Stmt& s) -> Result<void> {
                        WebhookRecord w{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Int(5), s.Int(6),
                                        s.Int(7), static_cast<int>(s.Int(8)), s.Int(9), s.Text(10), {}};
                        if (sqlite3_column_type(s.get(), 11) != SQLITE_NULL) w.last_delivered_at = s.Int(11);
                        out.push_back(std::move(w));
                        return {};
                      }));
  return out;
}

Result<bool> SqliteTransaction::UpdateWebhookDelivery(const WebhookRecord& w) {
  Stmt& s = S("UPDATE webhooks SET cursor_seq = ?2, cursor_subject = ?3, delivered = ?4, failures = ?5, "
              "next_at = ?6, last_error = ?7, last_delivered_at = ?8 "
              "WHERE name = ?1 AND event_seq = ?9 AND (cursor_seq, cursor_subject) <= (?2, ?3)");
  s.Bind(1, w.name);
  s.Bind(2, w.cursor_seq);
  s.Bind(3, w.cursor_subject);
  s.Bind(4, w.delivered);
  s.Bind(5, static_cast<std::int64_t>(w.failures));
  s.Bind(6, w.next_at);
  s.Bind(7, w.last_error);
  if (w.last_delivered_at) s.Bind(8, *w.last_delivered_at);
  s.Bind(9, w.event_seq);
  QORGAU_TRY(Exec(s, "updating a webhook's delivery"));
  return sqlite3_changes(store_.db()) > 0;
}

Result<void> SqliteTransaction::ScanOutbox(bool pending_only, const std::function<void(const OutboxRecord&)>& each) {
  auto row = [&](Stmt& s) -> Result<void> {
    each(ReadOutbox(s));
    return {};
  };
  if (pending_only) {
    return ScanRows(store_.db(),
                    "SELECT event_seq, subject_id, kind, created_at, delivered_at, attempts FROM outbox "
                    "WHERE delivered_at IS NULL ORDER BY event_seq, subject_id",
                    "scanning the outbox", row);
  }
  return ScanRows(store_.db(),
                  "SELECT event_seq, subject_id, kind, created_at, delivered_at, attempts FROM outbox "
                  "ORDER BY event_seq, subject_id",
                  "scanning the outbox", row);
}

Result<SubjectId> SqliteTransaction::InsertSubject(UnixMillis created_at, const Bytes& iin_index,
                                                   const Bytes& phone_index) {
  Stmt& s = S("INSERT INTO subjects (created_at, iin_index, phone_index) VALUES (?1, ?2, ?3)");
  s.Bind(1, created_at);
  s.Bind(2, iin_index);
  s.Bind(3, phone_index);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_UNIQUE) {
      const std::string msg = sqlite3_errmsg(store_.db());
      const bool phone = msg.find("phone_index") != std::string::npos;
      return Fail(ErrorCode::kAlreadyExists, phone ? "phone" : "iin",
                  phone ? "a subject with this phone number is already registered"
                        : "a subject with this IIN is already registered");
    }
    return DbError(store_.db(), "inserting a subject");
  }
  return sqlite3_last_insert_rowid(store_.db());
}

Result<void> SqliteTransaction::SetSubjectKey(SubjectId id, const Bytes& wrapped_key) {
  if (!store_.keys()) return Fail(ErrorCode::kFailedPrecondition, "keys", "the key store is not open for writing");
  key_ops_.emplace_back(id, wrapped_key);
  return {};
}

Result<Bytes> SqliteTransaction::KeyOf(SubjectId subject) {
  for (auto it = key_ops_.rbegin(); it != key_ops_.rend(); ++it) {
    if (it->first == subject) return it->second.value_or(Bytes());
  }
  if (!store_.keys()) return Bytes();
  if (auto it = key_cache_.find(subject); it != key_cache_.end()) return it->second;
  QORGAU_TRY(BeginKeyRead());
  Stmt& s = store_.KeyStatement("SELECT wrapped FROM data_keys WHERE subject_id = ?1 AND doomed IS NULL");
  s.Bind(1, subject);
  const int rc = s.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return DbError(store_.keys(), "reading a data key");
  Bytes out = rc == SQLITE_ROW ? s.Blob(0) : Bytes();
  s.Reset();
  // Bounded: a transaction that walks every subject (a rotation of the
  // master key, a backfill) keeps no more than this many keys at once.
  if (key_cache_.size() >= kKeyCacheLimit) key_cache_.clear();
  key_cache_.emplace(subject, out);
  return out;
}

Result<void> SqliteTransaction::BeginKeyRead() {
  if (keys_read_open_) return {};
  if (sqlite3_exec(store_.keys(), "BEGIN DEFERRED", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return DbError(store_.keys(), "starting a read of the key store");
  }
  keys_read_open_ = true;
  return {};
}

void SqliteTransaction::EndKeyRead() {
  if (!keys_read_open_) return;
  store_.ResetAll();
  // A read transaction: ending it cannot lose anything, and it must end,
  // or the key store's next write could not begin.
  if (sqlite3_exec(store_.keys(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    (void)sqlite3_exec(store_.keys(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  keys_read_open_ = false;
}

void SqliteTransaction::Forget(SubjectId subject, std::string what, std::string key, UnixMillis at) {
  ForgottenRecord r;
  r.subject_id = subject;
  r.what = std::move(what);
  r.key = std::move(key);
  r.at = at;
  forgotten_.push_back(std::move(r));
}

Result<void> SqliteTransaction::CommitKeys(std::int64_t seq) {
  if (key_ops_.empty() && forgotten_.empty() && demographics_ops_.empty()) return {};
  sqlite3* keys = store_.keys();
  if (!keys) return Fail(ErrorCode::kFailedPrecondition, "keys", "the key store is not open for writing");
  if (sqlite3_exec(keys, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return DbError(keys, "starting the key store's transaction");
  }
  auto fail = [&](const char* what) {
    auto err = DbError(keys, what);
    store_.ResetAll();
    sqlite3_exec(keys, "ROLLBACK", nullptr, nullptr, nullptr);
    return err;
  };
  // What each demographics change replaces, read before anything is
  // written (a new key clears them), to put back if the database's commit fails.
  demographics_before_.clear();
  for (const auto& [subject, sealed] : demographics_ops_) {
    Stmt& was = store_.KeyStatement("SELECT demographics FROM data_keys WHERE subject_id = ?1");
    was.Bind(1, subject);
    const int rc = was.Step();
    if (rc == SQLITE_ROW) {
      demographics_before_.emplace_back(
          subject, sqlite3_column_type(was.raw(), 0) == SQLITE_NULL ? std::nullopt : std::optional<Bytes>(was.Blob(0)));
    } else if (rc != SQLITE_DONE) {
      return fail("reading a subject's demographics");
    }
    was.Reset();
  }
  for (const auto& [subject, wrapped] : key_ops_) {
    // A destroyed key is doomed, not deleted, until the database commits.
    Stmt& st = wrapped ? store_.KeyStatement(
                             "INSERT OR REPLACE INTO data_keys (subject_id, wrapped, doomed) VALUES (?1, ?2, NULL)")
                       : store_.KeyStatement("UPDATE data_keys SET doomed = ?2 WHERE subject_id = ?1");
    st.Bind(1, subject);
    if (wrapped) st.Bind(2, *wrapped);
    else st.Bind(2, seq);
    if (st.Step() != SQLITE_DONE) return fail("writing a data key");
  }
  for (const auto& f : forgotten_) {
    Stmt& st = store_.KeyStatement(
        "INSERT INTO forgotten (subject_id, what, key, at, seq, pending) VALUES (?1, ?2, ?3, ?4, ?5, 1)");
    st.Bind(1, f.subject_id);
    st.Bind(2, f.what);
    st.Bind(3, f.key);
    st.Bind(4, f.at);
    st.Bind(5, seq);
    if (st.Step() != SQLITE_DONE) return fail("remembering a destruction");
  }
  for (const auto& [subject, sealed] : demographics_ops_) {
    Stmt& st = store_.KeyStatement("UPDATE data_keys SET demographics = ?2 WHERE subject_id = ?1");
    st.Bind(1, subject);
    if (!sealed.empty()) st.Bind(2, sealed);
    if (st.Step() != SQLITE_DONE) return fail("writing a subject's demographics");
  }
  store_.ResetAll();
  if (sqlite3_exec(keys, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("committing the key store");
  return {};
}

void SqliteTransaction::SettleKeys(std::int64_t seq, bool committed) {
  sqlite3* keys = store_.keys();
  if (!keys || (key_ops_.empty() && forgotten_.empty() && demographics_ops_.empty())) return;
  // Best effort: when this fails, Reconcile settles it at the next open.
  if (sqlite3_exec(keys, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return;
  for (const auto& [subject, wrapped] : key_ops_) {
    if (wrapped) continue;
    Stmt& st = committed ? store_.KeyStatement("DELETE FROM data_keys WHERE subject_id = ?1 AND doomed = ?2")
                         : store_.KeyStatement("UPDATE data_keys SET doomed = NULL WHERE subject_id = ?1 AND doomed = ?2");
    st.Bind(1, subject);
    st.Bind(2, seq);
    st.Step();
  }
  Stmt& f = committed ? store_.KeyStatement("UPDATE forgotten SET pending = 0 WHERE pending = 1 AND seq = ?1")
                      : store_.KeyStatement("DELETE FROM forgotten WHERE pending = 1 AND seq = ?1");
  f.Bind(1, seq);
  f.Step();
  if (!committed) {  // the demographics the database's state goes with
    for (auto it = demographics_before_.rbegin(); it != demographics_before_.rend(); ++it) {
      Stmt& st = store_.KeyStatement("UPDATE data_keys SET demographics = ?2 WHERE subject_id = ?1");
      st.Bind(1, it->first);
      if (it->second) st.Bind(2, *it->second);
      st.Step();
      st.Reset();
    }
  }
  store_.ResetAll();
  if (sqlite3_exec(keys, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(keys, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Result<void> SqliteTransaction::ScanForgotten(const std::function<void(const ForgottenRecord&)>& each) {
  if (!store_.keys()) return {};
  Stmt s(store_.keys(), "SELECT subject_id, what, key, at FROM forgotten WHERE pending = 0 ORDER BY id");
  if (!s.ok()) return DbError(store_.keys(), "reading what was destroyed");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ForgottenRecord r;
    r.subject_id = s.Int(0);
    r.what = s.Text(1);
    r.key = s.Text(2);
    r.at = s.Int(3);
    each(r);
  }
  if (rc != SQLITE_DONE) return DbError(store_.keys(), "reading what was destroyed");
  return {};
}

Result<void> SqliteTransaction::SetSubjectIndexes(SubjectId id, const Bytes& iin_index,
                                                  const Bytes& phone_index) {
  Stmt& s = S("UPDATE subjects SET iin_index = ?2, phone_index = ?3 WHERE id = ?1");
  s.Bind(1, id);
  s.Bind(2, iin_index);
  s.Bind(3, phone_index);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_UNIQUE) {
      return Fail(ErrorCode::kAlreadyExists, "subject " + std::to_string(id),
                  "its new blind index is another subject's");
    }
    return DbError(store_.db(), "writing the subject's blind indexes");
  }
  if (sqlite3_changes(store_.db()) != 1) {
    return Fail(ErrorCode::kNotFound, "subject", "no subject " + std::to_string(id));
  }
  return {};
}

Result<std::optional<SubjectId>> SqliteTransaction::FindSubject(IndexKind kind,
                                                                const Bytes& index) {
  Stmt& s = kind == IndexKind::kIin ? S("SELECT id FROM subjects WHERE iin_index = ?1")
                                    : S("SELECT id FROM subjects WHERE phone_index = ?1");
  s.Bind(1, index);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<SubjectId>(s.Int(0));
  if (rc == SQLITE_DONE) return std::optional<SubjectId>();
  return DbError(store_.db(), "finding a subject");
}

Result<std::optional<SubjectRecord>> SqliteTransaction::GetSubject(SubjectId id) {
  Stmt& s = S("SELECT id, created_at, wrapped_key, destroyed_at FROM subjects WHERE id = ?1");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<SubjectRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a subject");
  SubjectRecord r = ReadSubject(s);
  s.Reset();
  QORGAU_ASSIGN_OR_RETURN(r.wrapped_key, KeyOf(id));
  return std::optional<SubjectRecord>(std::move(r));
}

Result<std::vector<SubjectRecord>> SqliteTransaction::ListSubjects(SubjectId after, size_t limit) {
  Stmt& s = S("SELECT id, created_at, wrapped_key, destroyed_at FROM subjects WHERE id > ?1 ORDER BY id LIMIT ?2");
  s.Bind(1, after);
  s.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<SubjectRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadSubject(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "listing subjects");
  s.Reset();
  for (auto& r : out) {
    QORGAU_ASSIGN_OR_RETURN(r.wrapped_key, KeyOf(r.id));
  }
  return out;
}

Result<void> SqliteTransaction::PutPersonalData(const PersonalDataRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO personal_data "
              "(subject_id, category, sealed, provenance, recorded_at) VALUES (?1,?2,?3,?4,?5)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.category);
  s.Bind(3, r.sealed);
  s.Bind(4, r.provenance);
  s.Bind(5, r.recorded_at);
  return Exec(s, "writing personal data");
}

Result<std::vector<PersonalDataRecord>> SqliteTransaction::GetPersonalData(SubjectId subject) {
  Stmt& s = S("SELECT subject_id, category, sealed, provenance, recorded_at FROM personal_data "
              "WHERE subject_id = ?1 ORDER BY category");
  s.Bind(1, subject);
  std::vector<PersonalDataRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({s.Int(0), s.Text(1), s.Blob(2), s.Text(3), s.Int(4)});
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading personal data");
  return out;
}

Result<void> SqliteTransaction::PutConsent(const ConsentRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO consents (subject_id, purpose, state, edition, channel, "
              "evidence, changed_at, event_seq, cross_border) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.purpose);
  s.Bind(3, static_cast<std::int64_t>(r.state));
  s.Bind(4, r.edition);
  s.Bind(5, r.channel);
  s.Bind(6, r.evidence);
  s.Bind(7, r.changed_at);
  s.Bind(8, r.event_seq);
  s.Bind(9, static_cast<std::int64_t>(r.cross_border ? 1 : 0));
  return Exec(s, "writing a consent");
}

Result<std::vector<ConsentRecord>> SqliteTransaction::GetConsents(SubjectId subject) {
  Stmt& s = S("SELECT subject_id, purpose, state, edition, channel, evidence, changed_at, "
              "event_seq, cross_border FROM consents WHERE subject_id = ?1 ORDER BY purpose");
  s.Bind(1, subject);
  std::vector<ConsentRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const std::int64_t state = s.Int(2);
    if (state != 0 && state != 1) {
      return Fail(ErrorCode::kCorruption, "consents", "unknown consent state in the store");
    }
    out.push_back(ReadConsent(s));
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading consents");
  return out;
}

Result<std::int64_t> SqliteTransaction::InsertContract(const ContractRecord& r) {
  Stmt& s = S("INSERT INTO contracts (subject_id, method, evidence, joined_at, event_seq) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.method);
  s.Bind(3, r.evidence);
  s.Bind(4, r.joined_at);
  s.Bind(5, r.event_seq);
  QORGAU_TRY(Exec(s, "writing a contract"));
  return sqlite3_last_insert_rowid(store_.db());
}

Result<void> SqliteTransaction::EndContract(std::int64_t id, UnixMillis at) {
  Stmt& s = S("UPDATE contracts SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL");
  s.Bind(1, id);
  s.Bind(2, at);
  return Exec(s, "ending a contract");
}

Result<std::vector<ContractRecord>> SqliteTransaction::GetContracts(SubjectId subject) {
  Stmt& s = S("SELECT id, subject_id, method, evidence, joined_at, event_seq, ended_at FROM contracts "
              "WHERE subject_id = ?1 ORDER BY id");
  s.Bind(1, subject);
  std::vector<ContractRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadContract(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading contracts");
  return out;
}

Result<void> SqliteTransaction::PutSubscription(const SubscriptionRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO subscriptions (subject_id, service, active, contract_id, "
              "changed_at, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.service);
  s.Bind(3, static_cast<std::int64_t>(r.active ? 1 : 0));
  s.Bind(4, r.contract_id);
  s.Bind(5, r.changed_at);
  s.Bind(6, r.event_seq);
  return Exec(s, "writing a subscription");
}

Result<std::vector<SubscriptionRecord>> SqliteTransaction::GetSubscriptions(SubjectId subject) {
  Stmt& s = S("SELECT subject_id, service, active, contract_id, changed_at, event_seq "
              "FROM subscriptions WHERE subject_id = ?1 ORDER BY service");
  s.Bind(1, subject);
  std::vector<SubscriptionRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadSubscription(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading subscriptions");
  return out;
}

Result<void> SqliteTransaction::InsertObligation(const ObligationRecord& r) {
  Stmt& s = S("INSERT INTO obligations (ref, subject_id, kind, amount_minor, opened_at, "
              "closed_at, event_seq, categories) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7)");
  s.Bind(1, r.ref);
  s.Bind(2, r.subject_id);
  s.Bind(3, static_cast<std::int64_t>(r.kind));
  if (r.amount_minor) s.Bind(4, *r.amount_minor);
  s.Bind(5, r.opened_at);
  s.Bind(6, r.event_seq);
  s.Bind(7, JoinList(r.categories));
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "ref", "an obligation with this reference exists");
    }
    return DbError(store_.db(), "writing an obligation");
  }
  return {};
}

Result<void> SqliteTransaction::CloseObligation(std::string_view ref, UnixMillis at) {
  Stmt& s = S("UPDATE obligations SET closed_at = ?2 WHERE ref = ?1 AND closed_at IS NULL");
  s.Bind(1, ref);
  s.Bind(2, at);
  return Exec(s, "closing an obligation");
}

Result<std::optional<ObligationRecord>> SqliteTransaction::GetObligation(std::string_view ref) {
  Stmt& s = S("SELECT ref, subject_id, kind, amount_minor, opened_at, closed_at, event_seq, categories "
              "FROM obligations WHERE ref = ?1");
  s.Bind(1, ref);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ObligationRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an obligation");
  return std::optional<ObligationRecord>(ReadObligation(s));
}

Result<std::vector<ObligationRecord>> SqliteTransaction::GetObligations(SubjectId subject,
                                                                        bool open_only) {
  Stmt& s = open_only
                ? S("SELECT ref, subject_id, kind, amount_minor, opened_at, closed_at, event_seq, categories "
                    "FROM obligations WHERE subject_id = ?1 AND closed_at IS NULL ORDER BY ref")
                : S("SELECT ref, subject_id, kind, amount_minor, opened_at, closed_at, event_seq, categories "
                    "FROM obligations WHERE subject_id = ?1 ORDER BY ref");
  s.Bind(1, subject);
  std::vector<ObligationRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadObligation(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading obligations");
  return out;
}

Result<void> SqliteTransaction::PutActor(const ActorRecord& a) {
  Stmt& s = S("INSERT OR REPLACE INTO actors (id, role, name, nda_signed, liability_acknowledged, "
              "purposes, created_at, disabled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  s.Bind(1, a.id);
  s.Bind(2, static_cast<std::int64_t>(a.role));
  s.Bind(3, a.name);
  s.Bind(4, a.nda_signed);
  s.Bind(5, a.liability_acknowledged);
  s.Bind(6, JoinList(a.purposes));
  s.Bind(7, a.created_at);
  if (a.disabled_at) s.Bind(8, *a.disabled_at);
  return Exec(s, "writing an actor");
}

Result<std::optional<ActorRecord>> SqliteTransaction::GetActor(std::string_view id) {
  Stmt& s = S("SELECT id, role, name, nda_signed, liability_acknowledged, purposes, created_at, disabled_at "
              "FROM actors WHERE id = ?1");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ActorRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an actor");
  QORGAU_ASSIGN_OR_RETURN(ActorRecord a, ReadActor(s));
  return std::optional<ActorRecord>(std::move(a));
}

Result<std::vector<ActorRecord>> SqliteTransaction::ListActors() {
  Stmt& s = S("SELECT id, role, name, nda_signed, liability_acknowledged, purposes, created_at, disabled_at "
              "FROM actors ORDER BY id");
  std::vector<ActorRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    QORGAU_ASSIGN_OR_RETURN(ActorRecord a, ReadActor(s));
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "listing actors");
  return out;
}

Result<void> SqliteTransaction::PutDuty(const DutyRecord& d) {
  Stmt& s = S("INSERT OR REPLACE INTO duties (actor_id, purpose, categories, full_view, actions) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, d.actor_id);
  s.Bind(2, d.purpose);
  s.Bind(3, JoinList(d.categories));
  s.Bind(4, static_cast<std::int64_t>(d.full_view ? 1 : 0));
  s.Bind(5, DutyActionsText(d.actions));
  return Exec(s, "writing a duty");
}

Result<std::vector<DutyRecord>> SqliteTransaction::GetDuties(std::string_view actor_id) {
  Stmt& s = S("SELECT actor_id, purpose, categories, full_view, actions FROM duties "
              "WHERE actor_id = ?1 ORDER BY purpose");
  s.Bind(1, actor_id);
  std::vector<DutyRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    DutyRecord d{s.Text(0), s.Text(1), SplitList(s.Text(2)), s.Int(3) != 0};
    std::string bad;
    if (!ParseDutyActions(SplitList(s.Text(4)), &d.actions, &bad) || d.actions == 0) {
      return Fail(ErrorCode::kCorruption, "duties", "a duty of '" + d.actor_id +
                                                        "' allows an unknown action");
    }
    out.push_back(std::move(d));
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading duties");
  return out;
}

namespace {

ApiKeyRecord ReadApiKey(Stmt& s) {
  ApiKeyRecord k{s.Blob(0), s.Text(1), s.Int(2)};
  if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL) k.expires_at = s.Int(3);
  if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) k.revoked_at = s.Int(4);
  return k;
}

}  // namespace

Result<void> SqliteTransaction::InsertApiKey(const ApiKeyRecord& k) {
  Stmt& s = S("INSERT INTO api_keys (key_hash, actor_id, created_at, expires_at, revoked_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, k.key_hash);
  s.Bind(2, k.actor_id);
  s.Bind(3, k.created_at);
  if (k.expires_at) s.Bind(4, *k.expires_at);
  if (k.revoked_at) s.Bind(5, *k.revoked_at);
  return Exec(s, "writing an API key");
}

Result<std::optional<ApiKeyRecord>> SqliteTransaction::FindApiKey(const Bytes& key_hash) {
  Stmt& s = S("SELECT key_hash, actor_id, created_at, expires_at, revoked_at FROM api_keys "
              "WHERE key_hash = ?1");
  s.Bind(1, key_hash);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ApiKeyRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an API key");
  return std::optional<ApiKeyRecord>(ReadApiKey(s));
}

Result<void> SqliteTransaction::RevokeApiKey(const Bytes& key_hash, UnixMillis at) {
  Stmt& s = S("UPDATE api_keys SET revoked_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL");
  s.Bind(1, key_hash);
  s.Bind(2, at);
  return Exec(s, "revoking an API key");
}

Result<void> SqliteTransaction::DeleteDuty(std::string_view actor_id, std::string_view purpose) {
  Stmt& s = S("DELETE FROM duties WHERE actor_id = ?1 AND purpose = ?2");
  s.Bind(1, actor_id);
  s.Bind(2, purpose);
  return Exec(s, "removing a duty");
}

Result<void> SqliteTransaction::PutEnrolment(const EnrolmentRecord& e) {
  Stmt& s = S("INSERT OR REPLACE INTO enrolments (token_hash, actor_id, created_at, expires_at, "
              "redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, e.token_hash);
  s.Bind(2, e.actor_id);
  s.Bind(3, e.created_at);
  s.Bind(4, e.expires_at);
  if (e.redeemed_at) s.Bind(5, *e.redeemed_at);
  return Exec(s, "writing an enrolment");
}

Result<std::optional<EnrolmentRecord>> SqliteTransaction::FindEnrolment(const Bytes& token_hash) {
  Stmt& s = S("SELECT token_hash, actor_id, created_at, expires_at, redeemed_at FROM enrolments "
              "WHERE token_hash = ?1");
  s.Bind(1, token_hash);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<EnrolmentRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an enrolment");
  EnrolmentRecord e{s.Blob(0), s.Text(1), s.Int(2), s.Int(3)};
  if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) e.redeemed_at = s.Int(4);
  return std::optional<EnrolmentRecord>(std::move(e));
}

Result<void> SqliteTransaction::PutPassword(const PasswordRecord& p) {
  Stmt& s = S("INSERT OR REPLACE INTO passwords (actor_id, hash, set_at) VALUES (?1, ?2, ?3)");
  s.Bind(1, p.actor_id);
  s.Bind(2, p.hash);
  s.Bind(3, p.set_at);
  return Exec(s, "writing a password");
}

Result<std::optional<PasswordRecord>> SqliteTransaction::GetPassword(std::string_view actor_id) {
  Stmt& s = S("SELECT actor_id, hash, set_at FROM passwords WHERE actor_id = ?1");
  s.Bind(1, actor_id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<PasswordRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a password");
  return std::optional<PasswordRecord>(PasswordRecord{s.Text(0), s.Text(1), s.Int(2)});
}

Result<std::optional<IdempotencyRecord>> SqliteTransaction::GetIdempotency(
    std::string_view actor_id, std::string_view key) {
  Stmt& s = S("SELECT actor_id, key, request_hash, status, body, at FROM idempotency "
              "WHERE actor_id = ?1 AND key = ?2");
  s.Bind(1, actor_id);
  s.Bind(2, key);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<IdempotencyRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an idempotency record");
  return std::optional<IdempotencyRecord>(IdempotencyRecord{
      s.Text(0), s.Text(1), s.Blob(2), static_cast<int>(s.Int(3)), s.Text(4), s.Int(5)});
}

Result<void> SqliteTransaction::CompleteIdempotency(std::string_view actor_id, std::string_view key,
                                                    int status, std::string_view body) {
  Stmt& s = S("UPDATE idempotency SET status = ?3, body = ?4 WHERE actor_id = ?1 AND key = ?2");
  s.Bind(1, actor_id);
  s.Bind(2, key);
  s.Bind(3, static_cast<std::int64_t>(status));
  s.Bind(4, body);
  return Exec(s, "completing an idempotency record");
}

Result<void> SqliteTransaction::DeleteIdempotencyBefore(UnixMillis before, int limit) {
  Stmt& s = S("DELETE FROM idempotency WHERE rowid IN "
              "(SELECT rowid FROM idempotency WHERE at < ?1 LIMIT ?2)");
  s.Bind(1, before);
  s.Bind(2, static_cast<std::int64_t>(limit));
  return Exec(s, "deleting expired idempotency records");
}

Result<bool> SqliteTransaction::PutIdempotency(const IdempotencyRecord& r, UnixMillis expired_before) {
  Stmt& s = S("INSERT INTO idempotency (actor_id, key, request_hash, status, body, at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (actor_id, key) DO UPDATE SET "
              "request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, "
              "at = excluded.at WHERE idempotency.at < ?7");
  s.Bind(1, r.actor_id);
  s.Bind(2, r.key);
  s.Bind(3, r.request_hash);
  s.Bind(4, static_cast<std::int64_t>(r.status));
  s.Bind(5, r.body);
  s.Bind(6, r.at);
  s.Bind(7, expired_before);
  QORGAU_TRY(Exec(s, "writing an idempotency record"));
  return sqlite3_changes(store_.db()) == 1;
}

Result<void> SqliteTransaction::ScanSubjectEvents(
    SubjectId subject, const std::function<void(const EventRecord&)>& each) {
  Stmt s(store_.db(), "SELECT seq, body, prev_hash, hash, subject_id FROM events "
                      "WHERE subject_id = ?1 ORDER BY seq");
  if (!s.ok()) return DbError(store_.db(), "scanning events");
  s.Bind(1, subject);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    each(EventRecord{s.Int(0), s.Text(1), s.Blob(2), s.Blob(3), s.Int(4)});
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning events");
  return {};
}

Result<void> SqliteTransaction::ScanReads(std::string_view reader, std::int64_t before,
                                         const std::function<bool(const EventRecord&)>& each) {
  // Each query walks its own partial index backwards.
  Stmt s(store_.db(), reader.empty()
                          ? "SELECT seq, body, prev_hash, hash, subject_id, reader FROM events "
                            "WHERE reader IS NOT NULL AND seq < ?1 ORDER BY seq DESC"
                          : "SELECT seq, body, prev_hash, hash, subject_id, reader FROM events "
                            "WHERE reader = ?2 AND seq < ?1 ORDER BY seq DESC");
  if (!s.ok()) return DbError(store_.db(), "scanning reads");
  s.Bind(1, before);
  if (!reader.empty()) s.Bind(2, std::string(reader));
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    EventRecord e{s.Int(0), s.Text(1), s.Blob(2), s.Blob(3), std::nullopt, s.Text(5)};
    if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) e.subject = s.Int(4);
    if (!each(e)) return {};
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning reads");
  return {};
}

namespace {

// Subject ids packed as unsigned LEB128 varints: a batch's ids take 3-4
// bytes each instead of a row each.
std::string PackSubjects(const std::vector<SubjectId>& ids) {
  std::string out;
  out.reserve(ids.size() * 4);
  for (SubjectId id : ids) {
    auto v = static_cast<std::uint64_t>(id);
    do {
      const auto byte = static_cast<unsigned char>(v & 0x7f);
      v >>= 7;
      out.push_back(static_cast<char>(v ? byte | 0x80 : byte));
    } while (v);
  }
  return out;
}

Result<std::vector<SubjectId>> UnpackSubjects(std::string_view packed) {
  std::vector<SubjectId> ids;
  std::uint64_t v = 0;
  int shift = 0;
  for (const char c : packed) {
    const auto byte = static_cast<unsigned char>(c);
    if (shift > 63) return Fail(ErrorCode::kCorruption, "decision_requests", "a subject id is too long");
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte & 0x80) {
      shift += 7;
      continue;
    }
    ids.push_back(static_cast<SubjectId>(v));
    v = 0;
    shift = 0;
  }
  if (shift) return Fail(ErrorCode::kCorruption, "decision_requests", "the subject ids end mid-number");
  return ids;
}

std::string_view BlobView(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string_view();
}

}  // namespace

Result<void> SqliteTransaction::InsertDecisionRequests(const std::vector<DecisionRequestRecord>& records) {
  std::vector<std::pair<SubjectId, std::int64_t>> named;
  for (const auto& r : records) {
    if (r.reasons.size() != r.subjects.size()) {
      return Fail(ErrorCode::kInternal, "reasons", "one reason per subject");
    }
    Stmt& s = S("INSERT INTO decision_requests (seal, n, at, actor, purpose, categories, revision, "
                "subjects, reasons) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    s.Bind(1, r.seal);
    s.Bind(2, r.n);
    s.Bind(3, r.at);
    s.Bind(4, r.actor);
    s.Bind(5, r.purpose);
    s.Bind(6, r.categories);
    s.Bind(7, r.revision);
    const std::string packed = PackSubjects(r.subjects);
    s.BindBlob(8, packed);
    s.BindBlob(9, r.reasons);
    QORGAU_TRY(Exec(s, "writing the decision log"));
    for (SubjectId id : r.subjects) named.emplace_back(id, r.seal);
  }
  // Each subject once per seal, in key order (one pass down the index).
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  static constexpr std::size_t kRowsPerStatement = 64;
  static const std::string kMulti = [] {
    std::string sql = "INSERT OR IGNORE INTO decision_subjects (subject_id, seal) VALUES ";
    for (std::size_t i = 0; i < kRowsPerStatement; ++i) sql += i ? ",(?,?)" : "(?,?)";
    return sql;
  }();
  std::size_t i = 0;
  for (; i + kRowsPerStatement <= named.size(); i += kRowsPerStatement) {
    Stmt& s = S(kMulti.c_str());
    for (std::size_t k = 0; k < kRowsPerStatement; ++k) {
      s.Bind(static_cast<int>(2 * k + 1), named[i + k].first);
      s.Bind(static_cast<int>(2 * k + 2), named[i + k].second);
    }
    QORGAU_TRY(Exec(s, "writing the decision log's subject index"));
  }
  for (; i < named.size(); ++i) {
    Stmt& s = S("INSERT OR IGNORE INTO decision_subjects (subject_id, seal) VALUES (?1, ?2)");
    s.Bind(1, named[i].first);
    s.Bind(2, named[i].second);
    QORGAU_TRY(Exec(s, "writing the decision log's subject index"));
  }
  return {};
}

namespace {

constexpr const char* kRequestColumns =
    "seal, n, at, actor, purpose, categories, revision, subjects, reasons";

Result<void> ReadRequests(sqlite3* db, Stmt& s,
                          const std::function<void(const DecisionRequestRecord&)>& each) {
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    DecisionRequestRecord r{s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Text(4), s.Text(5), s.Int(6),
                            {}, std::string(BlobView(s.raw(), 8))};
    QORGAU_ASSIGN_OR_RETURN(r.subjects, UnpackSubjects(BlobView(s.raw(), 7)));
    each(r);
  }
  if (rc != SQLITE_DONE) return DbError(db, "scanning the decision log");
  return {};
}

}  // namespace

Result<void> SqliteTransaction::ScanDecisionRequests(
    std::int64_t seal, const std::function<void(const DecisionRequestRecord&)>& each) {
  static const std::string sql = std::string("SELECT ") + kRequestColumns +
                                 " FROM decision_requests WHERE seal = ?1 ORDER BY n";
  Stmt s(store_.db(), sql.c_str());
  if (!s.ok()) return DbError(store_.db(), "scanning the decision log");
  s.Bind(1, seal);
  return ReadRequests(store_.db(), s, each);
}

Result<std::int64_t> SqliteTransaction::CountDecisionRequests() {
  Stmt s(store_.db(), "SELECT count(*) FROM decision_requests");
  if (!s.ok() || s.Step() != SQLITE_ROW) return DbError(store_.db(), "counting the decision log");
  return s.Int(0);
}

Result<void> SqliteTransaction::ScanSubjectDecisionRequests(
    SubjectId subject, const std::function<void(const DecisionRequestRecord&)>& each) {
  static const std::string sql =
      std::string("SELECT ") + kRequestColumns +
      " FROM decision_requests WHERE seal IN (SELECT seal FROM decision_subjects WHERE subject_id = ?1)"
      " ORDER BY seal, n";
  Stmt s(store_.db(), sql.c_str());
  if (!s.ok()) return DbError(store_.db(), "scanning the decision log");
  s.Bind(1, subject);
  return ReadRequests(store_.db(), s, each);
}

Result<void> SqliteTransaction::ScanDecisionSubjects(
    const std::function<void(SubjectId, std::int64_t)>& each) {
  Stmt s(store_.db(), "SELECT subject_id, seal FROM decision_subjects ORDER BY subject_id, seal");
  if (!s.ok()) return DbError(store_.db(), "scanning the decision log's subject index");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(s.Int(0), s.Int(1));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning the decision log's subject index");
  return {};
}

namespace {

DecisionRecord ReadDecision(Stmt& s) {
  return {s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Text(4), s.Text(5), s.Text(6), s.Int(7)};
}

}  // namespace

Result<void> SqliteTransaction::ScanDecisions(
    std::int64_t first, std::int64_t last, const std::function<void(const DecisionRecord&)>& each) {
  Stmt s(store_.db(), "SELECT id, at, actor, subject_id, purpose, categories, reason, revision "
                      "FROM decision_log WHERE id BETWEEN ?1 AND ?2 ORDER BY id");
  if (!s.ok()) return DbError(store_.db(), "scanning the decision log");
  s.Bind(1, first);
  s.Bind(2, last);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(ReadDecision(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning the decision log");
  return {};
}

Result<void> SqliteTransaction::ScanSubjectDecisions(
    SubjectId subject, const std::function<void(const DecisionRecord&)>& each) {
  Stmt s(store_.db(), "SELECT id, at, actor, subject_id, purpose, categories, reason, revision "
                      "FROM decision_log WHERE subject_id = ?1 ORDER BY id");
  if (!s.ok()) return DbError(store_.db(), "scanning the decision log");
  s.Bind(1, subject);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(ReadDecision(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning the decision log");
  return {};
}

Result<void> SqliteTransaction::PutReceipt(const ReceiptRecord& r) {
  Stmt& s = S("INSERT INTO receipts (event_seq, subject_id, body) VALUES (?1, ?2, ?3)");
  s.Bind(1, r.event_seq);
  s.Bind(2, r.subject_id);
  s.Bind(3, r.body);
  return Exec(s, "writing a receipt");
}

Result<std::optional<ReceiptRecord>> SqliteTransaction::GetReceipt(std::int64_t event_seq) {
  Stmt& s = S("SELECT event_seq, subject_id, body FROM receipts WHERE event_seq = ?1");
  s.Bind(1, event_seq);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ReceiptRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a receipt");
  return std::optional<ReceiptRecord>(ReceiptRecord{s.Int(0), s.Int(1), s.Text(2)});
}

Result<void> SqliteTransaction::SetSubjectDemographics(SubjectId id, const Bytes& sealed) {
  if (!store_.keys()) return Fail(ErrorCode::kFailedPrecondition, "keys", "the key store is not open for writing");
  demographics_ops_.emplace_back(id, sealed);
  return {};
}

Result<void> SqliteTransaction::ScanSubjectDemographics(
    const std::function<void(SubjectId, UnixMillis, std::span<const std::uint8_t>)>& each) {
  // Two ordered scans, merged: the living subjects here, their demographics
  // in the key store.
  Stmt s(store_.db(), "SELECT id, created_at FROM subjects WHERE destroyed_at IS NULL ORDER BY id");
  if (!s.ok()) return DbError(store_.db(), "scanning subjects");
  std::optional<Stmt> k;
  int krc = SQLITE_DONE;
  if (store_.keys()) {
    k.emplace(store_.keys(), "SELECT subject_id, demographics FROM data_keys "
                             "WHERE demographics IS NOT NULL AND doomed IS NULL ORDER BY subject_id");
    if (!k->ok()) return DbError(store_.keys(), "scanning demographics");
    krc = k->Step();
  }
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const SubjectId id = s.Int(0);
    while (krc == SQLITE_ROW && k->Int(0) < id) krc = k->Step();
    std::span<const std::uint8_t> sealed;
    if (krc == SQLITE_ROW && k->Int(0) == id) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(k->raw(), 1));
      sealed = {p, static_cast<std::size_t>(sqlite3_column_bytes(k->raw(), 1))};
    }
    each(id, s.Int(1), sealed);
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning subjects");
  if (krc != SQLITE_ROW && krc != SQLITE_DONE) return DbError(store_.keys(), "scanning demographics");
  return {};
}

Result<void> SqliteTransaction::ScanSubjectIds(const std::function<void(SubjectId, bool)>& each) {
  Stmt s(store_.db(), "SELECT id, destroyed_at IS NOT NULL FROM subjects ORDER BY id");
  if (!s.ok()) return DbError(store_.db(), "scanning subjects");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(s.Int(0), s.Int(1) != 0);
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning subjects");
  return {};
}

Result<void> SqliteTransaction::ScanConsents(const std::function<void(const ConsentRecord&)>& each) {
  Stmt s(store_.db(), "SELECT subject_id, purpose, state, edition, channel, evidence, changed_at, "
                      "event_seq, cross_border FROM consents ORDER BY subject_id");
  if (!s.ok()) return DbError(store_.db(), "scanning consents");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(ReadConsent(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning consents");
  return {};
}

Result<void> SqliteTransaction::ScanSubscriptions(
    const std::function<void(const SubscriptionRecord&)>& each) {
  Stmt s(store_.db(), "SELECT subject_id, service, active, contract_id, changed_at, event_seq "
                      "FROM subscriptions WHERE active = 1 ORDER BY subject_id");
  if (!s.ok()) return DbError(store_.db(), "scanning subscriptions");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(ReadSubscription(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning subscriptions");
  return {};
}

Result<void> SqliteTransaction::ScanOpenObligations(
    const std::function<void(const ObligationRecord&)>& each) {
  Stmt s(store_.db(), "SELECT ref, subject_id, kind, amount_minor, opened_at, closed_at, "
                      "event_seq, categories FROM obligations WHERE closed_at IS NULL ORDER BY subject_id");
  if (!s.ok()) return DbError(store_.db(), "scanning obligations");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each(ReadObligation(s));
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning obligations");
  return {};
}

namespace {


}  // namespace

Result<void> SqliteTransaction::PutMerkleNode(int level, std::int64_t index, const Bytes& hash) {
  Stmt& s = S("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)");
  s.Bind(1, static_cast<std::int64_t>(level));
  s.Bind(2, index);
  s.Bind(3, hash);
  return Exec(s, "writing a Merkle node");
}

Result<std::optional<Bytes>> SqliteTransaction::GetMerkleNode(int level, std::int64_t index) {
  Stmt& s = S("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2");
  s.Bind(1, static_cast<std::int64_t>(level));
  s.Bind(2, index);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<Bytes>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a Merkle node");
  return std::optional<Bytes>(s.Blob(0));
}

Result<void> SqliteTransaction::PutTreeHead(const TreeHeadRecord& h) {
  Stmt& s = S("INSERT INTO tree_heads (size, root, at, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, h.size);
  s.Bind(2, h.root);
  s.Bind(3, h.at);
  s.Bind(4, h.key_id);
  s.Bind(5, h.signature);
  return Exec(s, "writing a tree head");
}

Result<std::optional<TreeHeadRecord>> SqliteTransaction::LatestTreeHead() {
  Stmt& s = S("SELECT size, root, at, key_id, signature FROM tree_heads ORDER BY size DESC LIMIT 1");
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<TreeHeadRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading the last tree head");
  return std::optional<TreeHeadRecord>(
      TreeHeadRecord{s.Int(0), s.Blob(1), s.Int(2), s.Text(3), s.Blob(4)});
}

Result<void> SqliteTransaction::ScanTreeHeads(const std::function<void(const TreeHeadRecord&)>& each) {
  return ScanRows(store_.db(), "SELECT size, root, at, key_id, signature FROM tree_heads ORDER BY size",
                  "scanning tree heads", [&](Stmt& s) -> Result<void> {
                    each(TreeHeadRecord{s.Int(0), s.Blob(1), s.Int(2), s.Text(3), s.Blob(4)});
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanAllSubscriptions(
    const std::function<void(const SubscriptionRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT subject_id, service, active, contract_id, changed_at, event_seq "
                  "FROM subscriptions",
                  "scanning subscriptions", [&](Stmt& s) -> Result<void> {
                    each(ReadSubscription(s));
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanAllObligations(
    const std::function<void(const ObligationRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT ref, subject_id, kind, amount_minor, opened_at, closed_at, event_seq, categories "
                  "FROM obligations",
                  "scanning obligations", [&](Stmt& s) -> Result<void> {
                    const std::int64_t kind = s.Int(2);
                    if (kind < 0 || kind > static_cast<std::int64_t>(ObligationKind::kLegalHold)) {
                      return Fail(ErrorCode::kCorruption, "obligations",
                                  "obligation '" + s.Text(0) + "' has an unknown kind");
                    }
                    each(ReadObligation(s));
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanContracts(const std::function<void(const ContractRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT id, subject_id, method, evidence, joined_at, event_seq, ended_at FROM contracts",
                  "scanning contracts", [&](Stmt& s) -> Result<void> {
                    each(ReadContract(s));
                    return {};
                  });
}

Result<void> SqliteTransaction::DeletePersonalData(SubjectId subject, std::string_view category, UnixMillis at) {
  QORGAU_TRY(DeleteEnrichment(subject, category));
  Stmt& s = S("DELETE FROM personal_data WHERE subject_id = ?1 AND category = ?2");
  s.Bind(1, subject);
  s.Bind(2, category);
  Forget(subject, std::string(category), "", at);
  return Exec(s, "destroying a value");
}

Result<void> SqliteTransaction::DeleteConsent(SubjectId subject, std::string_view purpose, UnixMillis at) {
  Stmt& s = S("DELETE FROM consents WHERE subject_id = ?1 AND purpose = ?2");
  s.Bind(1, subject);
  s.Bind(2, purpose);
  Forget(subject, "record:consents", std::string(purpose), at);
  return Exec(s, "destroying a consent record");
}

Result<void> SqliteTransaction::DeleteContract(std::int64_t id, UnixMillis at) {
  {
    Stmt& who = S("SELECT subject_id FROM contracts WHERE id = ?1");
    who.Bind(1, id);
    if (who.Step() == SQLITE_ROW) Forget(who.Int(0), "record:contracts", std::to_string(id), at);
    who.Reset();
  }
  // By the subject's key (subscriptions are keyed by subject, service).
  Stmt& subs = S("DELETE FROM subscriptions WHERE subject_id = (SELECT subject_id FROM contracts WHERE id = ?1) "
                 "AND contract_id = ?1");
  subs.Bind(1, id);
  QORGAU_TRY(Exec(subs, "destroying a contract's services"));
  Stmt& s = S("DELETE FROM contracts WHERE id = ?1");
  s.Bind(1, id);
  return Exec(s, "destroying a contract");
}

Result<void> SqliteTransaction::DeleteObligation(std::string_view ref, UnixMillis at) {
  {
    Stmt& who = S("SELECT subject_id FROM obligations WHERE ref = ?1");
    who.Bind(1, ref);
    if (who.Step() == SQLITE_ROW) Forget(who.Int(0), "record:obligations", std::string(ref), at);
    who.Reset();
  }
  Stmt& s = S("DELETE FROM obligations WHERE ref = ?1");
  s.Bind(1, ref);
  return Exec(s, "destroying an obligation");
}

Result<void> SqliteTransaction::DeleteApplication(std::int64_t id, UnixMillis at) {
  {
    Stmt& who = S("SELECT subject_id FROM applications WHERE id = ?1");
    who.Bind(1, id);
    if (who.Step() == SQLITE_ROW) Forget(who.Int(0), "record:applications", std::to_string(id), at);
    who.Reset();
  }
  Stmt& docs = S("DELETE FROM application_documents WHERE application_id = ?1");
  docs.Bind(1, id);
  QORGAU_TRY(Exec(docs, "destroying an application's documents"));
  Stmt& s = S("DELETE FROM applications WHERE id = ?1");
  s.Bind(1, id);
  return Exec(s, "destroying an application");
}

Result<void> SqliteTransaction::DestroySubject(SubjectId subject, UnixMillis at) {
  // The blind indexes are UNIQUE and NOT NULL: each becomes a value no
  // HMAC of an IIN or phone can equal (a different length).
  Stmt& s = S("UPDATE subjects SET wrapped_key = NULL, destroyed_at = ?2, iin_index = ?3, phone_index = ?4 "
              "WHERE id = ?1 AND destroyed_at IS NULL");
  s.Bind(1, subject);
  s.Bind(2, at);
  s.Bind(3, DestroyedIndex(subject, IndexKind::kIin));
  s.Bind(4, DestroyedIndex(subject, IndexKind::kPhone));
  QORGAU_TRY(Exec(s, "destroying a subject's key"));
  key_ops_.emplace_back(subject, std::nullopt);
  Forget(subject, "subject", "", at);
  // The receipts through the subject's events (schema 20).
  for (const char* sql : {"DELETE FROM receipts WHERE event_seq IN (SELECT seq FROM events WHERE subject_id = ?1)",
                          "DELETE FROM representations WHERE subject_id = ?1",
                          "DELETE FROM personal_data WHERE subject_id = ?1", "DELETE FROM subscriptions WHERE subject_id = ?1",
                          "DELETE FROM enrichments WHERE subject_id = ?1"}) {
    Stmt& d = S(sql);
    d.Bind(1, subject);
    QORGAU_TRY(Exec(d, "destroying a subject's records"));
  }
  return {};
}

Result<void> SqliteTransaction::ForgetSubjectIndex(SubjectId subject, IndexKind kind) {
  if (kind == IndexKind::kIin) demographics_ops_.emplace_back(subject, Bytes());  // what the IIN told goes with it
  Stmt& s = kind == IndexKind::kIin ? S("UPDATE subjects SET iin_index = ?2 WHERE id = ?1")
                                    : S("UPDATE subjects SET phone_index = ?2 WHERE id = ?1");
  s.Bind(1, subject);
  s.Bind(2, DestroyedIndex(subject, kind));
  return Exec(s, "forgetting a blind index");
}

Result<void> SqliteTransaction::PutRetentionRun(const RetentionRunRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO retention_runs (run, started_at, as_of, actor, edition, finished_at, act, act_seq) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  s.Bind(1, r.run);
  s.Bind(2, r.started_at);
  s.Bind(3, r.as_of);
  s.Bind(4, r.actor);
  s.Bind(5, static_cast<std::int64_t>(r.edition));
  if (r.finished_at) s.Bind(6, *r.finished_at);
  s.Bind(7, r.act);
  s.Bind(8, r.act_seq);
  return Exec(s, "writing a destruction run");
}

namespace {
RetentionRunRecord ReadRun(Stmt& s) {
  RetentionRunRecord r;
  r.run = s.Int(0);
  r.started_at = s.Int(1);
  r.as_of = s.Int(2);
  r.actor = s.Text(3);
  r.edition = static_cast<int>(s.Int(4));
  if (sqlite3_column_type(s.get(), 5) != SQLITE_NULL) r.finished_at = s.Int(5);
  r.act = s.Text(6);
  r.act_seq = s.Int(7);
  return r;
}
}  // namespace

Result<std::optional<RetentionRunRecord>> SqliteTransaction::GetRetentionRun(std::int64_t run) {
  Stmt& s = S("SELECT run, started_at, as_of, actor, edition, finished_at, act, act_seq FROM retention_runs "
              "WHERE run = ?1");
  s.Bind(1, run);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<RetentionRunRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a destruction run");
  return std::optional<RetentionRunRecord>(ReadRun(s));
}

Result<void> SqliteTransaction::ScanRetentionRuns(const std::function<void(const RetentionRunRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT run, started_at, as_of, actor, edition, finished_at, act, act_seq FROM retention_runs "
                  "ORDER BY run DESC",
                  "scanning destruction runs", [&](Stmt& s) -> Result<void> {
                    each(ReadRun(s));
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanDuties(const std::function<void(const DutyRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT actor_id, purpose, categories, full_view, actions FROM duties",
                  "scanning duties", [&](Stmt& s) -> Result<void> {
                    DutyRecord d{s.Text(0), s.Text(1), SplitList(s.Text(2)), s.Int(3) != 0};
                    std::string bad;
                    if (!ParseDutyActions(SplitList(s.Text(4)), &d.actions, &bad) || d.actions == 0) {
                      return Fail(ErrorCode::kCorruption, "duties",
                                  "a duty of '" + d.actor_id + "' allows an unknown action");
                    }
                    each(d);
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanApiKeys(const std::function<void(const ApiKeyRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT key_hash, actor_id, created_at, expires_at, revoked_at FROM api_keys",
                  "scanning API keys", [&](Stmt& s) -> Result<void> {
                    each(ReadApiKey(s));
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanEnrolments(const std::function<void(const EnrolmentRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT token_hash, actor_id, created_at, expires_at, redeemed_at FROM enrolments",
                  "scanning enrolments", [&](Stmt& s) -> Result<void> {
                    EnrolmentRecord e{s.Blob(0), s.Text(1), s.Int(2), s.Int(3)};
                    if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) e.redeemed_at = s.Int(4);
                    each(e);
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanPasswords(const std::function<void(const PasswordRecord&)>& each) {
  return ScanRows(store_.db(), "SELECT actor_id, hash, set_at FROM passwords ORDER BY actor_id",
                  "scanning passwords", [&](Stmt& s) -> Result<void> {
                    each(PasswordRecord{s.Text(0), s.Text(1), s.Int(2)});
                    return {};
                  });
}

Result<void> SqliteTransaction::PutCalendarYear(const CalendarYearRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO calendar_years (country, year, content, imported_at, event_seq) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, r.country);
  s.Bind(2, static_cast<std::int64_t>(r.year));
  s.Bind(3, r.content);
  s.Bind(4, r.imported_at);
  s.Bind(5, r.event_seq);
  return Exec(s, "writing a calendar year");
}

Result<void> SqliteTransaction::ScanCalendarYears(
    const std::function<void(const CalendarYearRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT country, year, content, imported_at, event_seq FROM calendar_years "
                  "ORDER BY country, year",
                  "scanning calendars", [&](Stmt& s) -> Result<void> {
                    each(CalendarYearRecord{s.Text(0), static_cast<int>(s.Int(1)), s.Text(2), s.Int(3),
                                            s.Int(4)});
                    return {};
                  });
}

Result<void> SqliteTransaction::InsertBreach(const BreachRecord& r) {
  Stmt& s = S("INSERT INTO breaches (id, detected_at, how, categories, measures, notify_due_at, notified_at, "
              "notice_reference, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  s.Bind(1, r.id);
  s.Bind(2, r.detected_at);
  s.Bind(3, r.how);
  s.Bind(4, JoinList(r.categories));
  s.Bind(5, JoinList(r.measures));
  s.Bind(6, r.notify_due_at);
  if (r.notified_at) s.Bind(7, *r.notified_at);
  s.Bind(8, r.notice_reference);
  s.Bind(9, r.event_seq);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "breach", "a breach with this id exists");
    }
    return DbError(store_.db(), "writing a breach");
  }
  for (SubjectId subject : r.subjects) {
    Stmt& b = S("INSERT OR IGNORE INTO breach_subjects (breach_id, subject_id) VALUES (?1, ?2)");
    b.Bind(1, r.id);
    b.Bind(2, subject);
    QORGAU_TRY(Exec(b, "writing a breach's subjects"));
  }
  return {};
}

Result<void> SqliteTransaction::UpdateBreach(const BreachRecord& r) {
  Stmt& s = S("UPDATE breaches SET notified_at = ?2, notice_reference = ?3, event_seq = ?4 WHERE id = ?1");
  s.Bind(1, r.id);
  if (r.notified_at) s.Bind(2, *r.notified_at);
  s.Bind(3, r.notice_reference);
  s.Bind(4, r.event_seq);
  QORGAU_TRY(Exec(s, "updating a breach"));
  if (sqlite3_changes(store_.db()) != 1) return Fail(ErrorCode::kNotFound, "breach", "no breach with this id");
  return {};
}

namespace {

Result<BreachRecord> ReadBreach(Stmt& s) {
  BreachRecord r;
  r.id = s.Int(0);
  r.detected_at = s.Int(1);
  r.how = s.Text(2);
  r.categories = SplitList(s.Text(3));
  r.measures = SplitList(s.Text(4));
  r.notify_due_at = s.Int(5);
  if (sqlite3_column_type(s.get(), 6) != SQLITE_NULL) r.notified_at = s.Int(6);
  r.notice_reference = s.Text(7);
  r.event_seq = s.Int(8);
  return r;
}

}  // namespace

Result<std::optional<BreachRecord>> SqliteTransaction::GetBreach(std::int64_t id) {
  Stmt& s = S("SELECT id, detected_at, how, categories, measures, notify_due_at, notified_at, notice_reference, "
              "event_seq FROM breaches WHERE id = ?1");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<BreachRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a breach");
  QORGAU_ASSIGN_OR_RETURN(BreachRecord r, ReadBreach(s));
  s.Reset();
  Stmt& b = S("SELECT subject_id FROM breach_subjects WHERE breach_id = ?1 ORDER BY subject_id");
  b.Bind(1, id);
  int brc;
  while ((brc = b.Step()) == SQLITE_ROW) r.subjects.push_back(b.Int(0));
  if (brc != SQLITE_DONE) return DbError(store_.db(), "reading a breach's subjects");
  return std::optional<BreachRecord>(std::move(r));
}

Result<void> SqliteTransaction::ScanBreaches(const std::function<void(const BreachRecord&)>& each) {
  std::vector<std::int64_t> ids;
  QORGAU_TRY(ScanRows(store_.db(), "SELECT id FROM breaches ORDER BY id DESC", "scanning breaches",
                      [&](Stmt& s) -> Result<void> {
                        ids.push_back(s.Int(0));
                        return {};
                      }));
  for (std::int64_t id : ids) {
    QORGAU_ASSIGN_OR_RETURN(const auto r, GetBreach(id));
    if (r) each(*r);
  }
  return {};
}

namespace {

// A transfer's refusals as stored: "reason=count,reason=count".
std::string RefusedText(const std::map<std::string, std::int64_t>& refused) {
  std::string out;
  for (const auto& [reason, n] : refused) {
    out += (out.empty() ? "" : ",") + reason + "=" + std::to_string(n);
  }
  return out;
}

Result<std::map<std::string, std::int64_t>> ParseRefused(const std::string& text) {
  std::map<std::string, std::int64_t> out;
  for (const std::string& item : SplitList(text)) {
    const auto eq = item.find('=');
    std::int64_t n = 0;
    if (eq == std::string::npos ||
        std::from_chars(item.data() + eq + 1, item.data() + item.size(), n).ec != std::errc()) {
      return Fail(ErrorCode::kCorruption, "transfers", "a transfer's refusals are not reason=count");
    }
    out[item.substr(0, eq)] = n;
  }
  return out;
}

Result<TransferRecord> ReadTransfer(Stmt& s) {
  TransferRecord r;
  r.id = s.Int(0);
  r.at = s.Int(1);
  r.actor = s.Text(2);
  r.recipient = s.Text(3);
  r.country = s.Text(4);
  r.agreement = s.Text(5);
  r.purpose = s.Text(6);
  r.categories = SplitList(s.Text(7));
  r.edition = static_cast<int>(s.Int(8));
  r.format = s.Text(9);
  r.sent = s.Int(10);
  QORGAU_ASSIGN_OR_RETURN(r.refused, ParseRefused(s.Text(11)));
  return r;
}

#define QORGAU_TRANSFER_COLUMNS \
  "SELECT id, at, actor, recipient, country, agreement, purpose, categories, edition, format, sent, refused FROM transfers "

}  // namespace

Result<void> SqliteTransaction::InsertTransfer(const TransferRecord& r,
                                               const std::vector<TransferSubjectRecord>& subjects) {
  Stmt& s = S("INSERT INTO transfers (id, at, actor, recipient, country, agreement, purpose, categories, edition, "
              "format, sent, refused) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  s.Bind(1, r.id);
  s.Bind(2, r.at);
  s.Bind(3, r.actor);
  s.Bind(4, r.recipient);
  s.Bind(5, r.country);
  s.Bind(6, r.agreement);
  s.Bind(7, r.purpose);
  s.Bind(8, JoinList(r.categories));
  s.Bind(9, static_cast<std::int64_t>(r.edition));
  s.Bind(10, r.format);
  s.Bind(11, r.sent);
  s.Bind(12, RefusedText(r.refused));
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "transfer", "a transfer with this id exists");
    }
    return DbError(store_.db(), "writing a transfer");
  }
  for (const TransferSubjectRecord& t : subjects) {
    Stmt& b = S("INSERT INTO transfer_subjects (transfer_id, subject_id, basis, cross_border) "
                "VALUES (?1, ?2, ?3, ?4)");
    b.Bind(1, r.id);
    b.Bind(2, t.subject_id);
    b.Bind(3, t.basis);
    b.Bind(4, t.cross_border);
    QORGAU_TRY(Exec(b, "writing a transfer's subjects"));
  }
  return {};
}

Result<std::optional<TransferRecord>> SqliteTransaction::GetTransfer(std::int64_t id) {
  Stmt& s = S(QORGAU_TRANSFER_COLUMNS "WHERE id = ?1");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<TransferRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a transfer");
  QORGAU_ASSIGN_OR_RETURN(TransferRecord r, ReadTransfer(s));
  return std::optional<TransferRecord>(std::move(r));
}

Result<void> SqliteTransaction::ScanTransfers(const std::function<void(const TransferRecord&)>& each) {
  return ScanRows(store_.db(), QORGAU_TRANSFER_COLUMNS "ORDER BY id DESC", "scanning transfers",
                  [&](Stmt& s) -> Result<void> {
                    QORGAU_ASSIGN_OR_RETURN(const TransferRecord r, ReadTransfer(s));
                    each(r);
                    return {};
                  });
}

Result<std::vector<TransferSubjectRecord>> SqliteTransaction::GetTransferSubjects(SubjectId subject) {
  Stmt& s = S("SELECT transfer_id, subject_id, basis, cross_border FROM transfer_subjects "
              "WHERE subject_id = ?1 ORDER BY transfer_id");
  s.Bind(1, subject);
  std::vector<TransferSubjectRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Int(0), s.Int(1), s.Text(2), s.Text(3)});
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading a subject's transfers");
  return out;
}

Result<void> SqliteTransaction::ScanTransferSubjects(
    const std::function<void(const TransferSubjectRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT transfer_id, subject_id, basis, cross_border FROM transfer_subjects "
                  "ORDER BY transfer_id, subject_id",
                  "scanning transfers' subjects", [&](Stmt& s) -> Result<void> {
                    each({s.Int(0), s.Int(1), s.Text(2), s.Text(3)});
                    return {};
                  });
}

Result<void> SqliteTransaction::InsertAggregateRelease(const AggregateReleaseRecord& r) {
  Stmt& s = S("INSERT INTO aggregate_releases (id, at, actor, purpose, recipient, epsilon, body) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.Bind(1, r.id);
  s.Bind(2, r.at);
  s.Bind(3, r.actor);
  s.Bind(4, r.purpose);
  s.Bind(5, r.recipient);
  sqlite3_bind_double(s.get(), 6, r.epsilon);
  s.Bind(7, r.body);
  return Exec(s, "writing an aggregate release");
}

Result<void> SqliteTransaction::ScanAggregateReleases(
    const std::function<void(const AggregateReleaseRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT id, at, actor, purpose, recipient, epsilon, body FROM aggregate_releases ORDER BY id DESC",
                  "scanning aggregate releases", [&](Stmt& s) -> Result<void> {
                    each({s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), sqlite3_column_double(s.get(), 5),
                          s.Text(6)});
                    return {};
                  });
}

Result<void> SqliteTransaction::InsertRepresentation(const RepresentationRecord& r) {
  Stmt& s = S("INSERT INTO representations (event_seq, subject_id, requester, proof_kind, proof_valid_until, "
              "sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.Bind(1, r.event_seq);
  s.Bind(2, r.subject_id);
  s.Bind(3, r.requester);
  s.Bind(4, r.proof_kind);
  s.Bind(5, r.proof_valid_until);
  s.Bind(6, r.sealed);
  return Exec(s, "recording a representative");
}

Result<void> SqliteTransaction::ScanRepresentations(const std::function<void(const RepresentationRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT event_seq, subject_id, requester, proof_kind, proof_valid_until, sealed "
                  "FROM representations ORDER BY event_seq",
                  "scanning representatives", [&](Stmt& s) -> Result<void> {
                    each(RepresentationRecord{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Blob(5)});
                    return {};
                  });
}

Result<void> SqliteTransaction::PutSubjectBlock(const SubjectBlockRecord& r) {
  Stmt& s = S("INSERT OR REPLACE INTO subject_blocks (subject_id, application_id, blocked_at, event_seq) "
              "VALUES (?1, ?2, ?3, ?4)");
  s.Bind(1, r.subject_id);
  s.Bind(2, r.application_id);
  s.Bind(3, r.blocked_at);
  s.Bind(4, r.event_seq);
  return Exec(s, "blocking a subject");
}

Result<void> SqliteTransaction::DeleteSubjectBlock(SubjectId subject) {
  Stmt& s = S("DELETE FROM subject_blocks WHERE subject_id = ?1");
  s.Bind(1, subject);
  return Exec(s, "lifting a block");
}

Result<std::optional<SubjectBlockRecord>> SqliteTransaction::GetSubjectBlock(SubjectId subject) {
  Stmt& s = S("SELECT subject_id, application_id, blocked_at, event_seq FROM subject_blocks WHERE subject_id = ?1");
  s.Bind(1, subject);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<SubjectBlockRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading a block");
  return std::optional<SubjectBlockRecord>(SubjectBlockRecord{s.Int(0), s.Int(1), s.Int(2), s.Int(3)});
}

Result<void> SqliteTransaction::ScanSubjectBlocks(const std::function<void(const SubjectBlockRecord&)>& each) {
  return ScanRows(store_.db(), "SELECT subject_id, application_id, blocked_at, event_seq FROM subject_blocks",
                  "scanning blocks", [&](Stmt& s) -> Result<void> {
                    each(SubjectBlockRecord{s.Int(0), s.Int(1), s.Int(2), s.Int(3)});
                    return {};
                  });
}

namespace {

constexpr const char* kApplicationColumns =
    "id, subject_id, kind, channel, reference, requester, representative, proof_kind, "
    "proof_reference, proof_valid_until, purposes, state, handler, received_at, due_at, "
    "working_days, closed_at, outcome, event_seq";

Result<ApplicationRecord> ReadApplication(Stmt& s) {
  ApplicationRecord r;
  r.id = s.Int(0);
  r.subject_id = s.Int(1);
  if (!ParseApplicationKind(s.Text(2), &r.kind)) {
    return Fail(ErrorCode::kCorruption, "applications.kind", "unknown kind in application " + std::to_string(r.id));
  }
  r.channel = s.Text(3);
  r.reference = s.Text(4);
  r.requester = s.Text(5);
  r.representative = s.Blob(6);
  r.proof_kind = s.Text(7);
  r.proof_reference = s.Text(8);
  r.proof_valid_until = s.Text(9);
  r.purposes = SplitList(s.Text(10));
  if (!ParseApplicationState(s.Text(11), &r.state)) {
    return Fail(ErrorCode::kCorruption, "applications.state", "unknown state in application " + std::to_string(r.id));
  }
  r.handler = s.Text(12);
  r.received_at = s.Int(13);
  r.due_at = s.Int(14);
  r.working_days = static_cast<int>(s.Int(15));
  if (sqlite3_column_type(s.get(), 16) != SQLITE_NULL) r.closed_at = s.Int(16);
  r.outcome = s.Text(17);
  r.event_seq = s.Int(18);
  return r;
}

// Binds every column of `r` in kApplicationColumns' order.
void BindApplication(Stmt& s, const ApplicationRecord& r) {
  s.Bind(1, r.id);
  s.Bind(2, r.subject_id);
  s.Bind(3, std::string_view(ApplicationKindName(r.kind)));
  s.Bind(4, r.channel);
  s.Bind(5, r.reference);
  s.Bind(6, r.requester);
  if (!r.representative.empty()) s.Bind(7, r.representative);
  s.Bind(8, r.proof_kind);
  s.Bind(9, r.proof_reference);
  s.Bind(10, r.proof_valid_until);
  s.Bind(11, JoinList(r.purposes));
  s.Bind(12, std::string_view(ApplicationStateName(r.state)));
  s.Bind(13, r.handler);
  s.Bind(14, r.received_at);
  s.Bind(15, r.due_at);
  s.Bind(16, static_cast<std::int64_t>(r.working_days));
  if (r.closed_at) s.Bind(17, *r.closed_at);
  s.Bind(18, r.outcome);
  s.Bind(19, r.event_seq);
}

}  // namespace

Result<void> SqliteTransaction::InsertApplication(const ApplicationRecord& r) {
  Stmt& s = S("INSERT INTO applications (id, subject_id, kind, channel, reference, requester, "
              "representative, proof_kind, proof_reference, proof_valid_until, purposes, state, "
              "handler, received_at, due_at, working_days, closed_at, outcome, event_seq) VALUES "
              "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
  BindApplication(s, r);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "application", "an application with this id exists");
    }
    return DbError(store_.db(), "writing an application");
  }
  return {};
}

Result<void> SqliteTransaction::UpdateApplication(const ApplicationRecord& r) {
  Stmt& s = S("UPDATE applications SET subject_id = ?2, kind = ?3, channel = ?4, reference = ?5, "
              "requester = ?6, representative = ?7, proof_kind = ?8, proof_reference = ?9, "
              "proof_valid_until = ?10, purposes = ?11, state = ?12, handler = ?13, received_at = ?14, "
              "due_at = ?15, working_days = ?16, closed_at = ?17, outcome = ?18, event_seq = ?19 "
              "WHERE id = ?1");
  BindApplication(s, r);
  QORGAU_TRY(Exec(s, "updating an application"));
  if (sqlite3_changes(store_.db()) != 1) {
    return Fail(ErrorCode::kNotFound, "application", "no application with this id");
  }
  return {};
}

Result<std::optional<ApplicationRecord>> SqliteTransaction::GetApplication(std::int64_t id) {
  static const std::string sql = std::string("SELECT ") + kApplicationColumns + " FROM applications WHERE id = ?1";
  Stmt& s = S(sql.c_str());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ApplicationRecord>();
  if (rc != SQLITE_ROW) return DbError(store_.db(), "reading an application");
  QORGAU_ASSIGN_OR_RETURN(ApplicationRecord r, ReadApplication(s));
  return std::optional<ApplicationRecord>(std::move(r));
}

Result<std::vector<ApplicationRecord>> SqliteTransaction::GetSubjectApplications(SubjectId subject) {
  static const std::string sql = std::string("SELECT ") + kApplicationColumns +
                                 " FROM applications WHERE subject_id = ?1 ORDER BY received_at DESC, id DESC";
  Stmt& s = S(sql.c_str());
  s.Bind(1, subject);
  std::vector<ApplicationRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    QORGAU_ASSIGN_OR_RETURN(ApplicationRecord r, ReadApplication(s));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading applications");
  return out;
}

Result<void> SqliteTransaction::ScanOpenApplications(
    const std::function<void(const ApplicationRecord&)>& each) {
  static const std::string sql = std::string("SELECT ") + kApplicationColumns +
                                 " FROM applications WHERE closed_at IS NULL ORDER BY due_at, id";
  return ScanRows(store_.db(), sql.c_str(), "scanning open applications", [&](Stmt& s) -> Result<void> {
    QORGAU_ASSIGN_OR_RETURN(const ApplicationRecord r, ReadApplication(s));
    each(r);
    return {};
  });
}

Result<void> SqliteTransaction::ScanAllApplications(
    const std::function<void(const ApplicationRecord&)>& each) {
  static const std::string sql = std::string("SELECT ") + kApplicationColumns + " FROM applications ORDER BY id";
  return ScanRows(store_.db(), sql.c_str(), "scanning applications", [&](Stmt& s) -> Result<void> {
    QORGAU_ASSIGN_OR_RETURN(const ApplicationRecord r, ReadApplication(s));
    each(r);
    return {};
  });
}

Result<void> SqliteTransaction::InsertApplicationDocument(const ApplicationDocumentRecord& r) {
  Stmt& s = S("INSERT INTO application_documents (application_id, reference, sha256, added_at, event_seq) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, r.application_id);
  s.Bind(2, r.reference);
  s.Bind(3, r.sha256);
  s.Bind(4, r.added_at);
  s.Bind(5, r.event_seq);
  if (s.Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(store_.db()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Fail(ErrorCode::kAlreadyExists, "document", "the application has a document with this reference");
    }
    return DbError(store_.db(), "writing an application's document");
  }
  return {};
}

Result<std::vector<ApplicationDocumentRecord>> SqliteTransaction::GetApplicationDocuments(
    std::int64_t application) {
  Stmt& s = S("SELECT application_id, reference, sha256, added_at, event_seq FROM application_documents "
              "WHERE application_id = ?1 ORDER BY added_at, reference");
  s.Bind(1, application);
  std::vector<ApplicationDocumentRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4)});
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "reading an application's documents");
  return out;
}

Result<void> SqliteTransaction::ScanAllApplicationDocuments(
    const std::function<void(const ApplicationDocumentRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT application_id, reference, sha256, added_at, event_seq FROM application_documents",
                  "scanning application documents", [&](Stmt& s) -> Result<void> {
                    each(ApplicationDocumentRecord{s.Int(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4)});
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanReceipts(const std::function<void(const ReceiptRecord&)>& each) {
  return ScanRows(store_.db(), "SELECT event_seq, subject_id, body FROM receipts",
                  "scanning receipts", [&](Stmt& s) -> Result<void> {
                    each(ReceiptRecord{s.Int(0), s.Int(1), s.Text(2)});
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanPersonalData(
    const std::function<void(const PersonalDataRecord&)>& each) {
  return ScanRows(store_.db(),
                  "SELECT subject_id, category, sealed, provenance, recorded_at FROM personal_data",
                  "scanning personal data", [&](Stmt& s) -> Result<void> {
                    each(PersonalDataRecord{s.Int(0), s.Text(1), s.Blob(2), s.Text(3), s.Int(4)});
                    return {};
                  });
}

Result<void> SqliteTransaction::ScanCategoryValues(
    std::string_view category, const std::function<void(SubjectId, std::span<const std::uint8_t>)>& each) {
  Stmt s(store_.db(), "SELECT subject_id, sealed FROM personal_data WHERE category = ?1 ORDER BY subject_id");
  if (!s.ok()) return DbError(store_.db(), "scanning a category's values");
  s.Bind(1, category);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.raw(), 1));
    each(s.Int(0), {p, static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), 1))});
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning a category's values");
  return {};
}

// Savepoints run once per command of a group-commit batch: prepared once,
// like every other statement, rather than parsed by sqlite3_exec each time.
Result<void> SqliteTransaction::Savepoint() {
  key_mark_ = key_ops_.size();
  forgotten_mark_ = forgotten_.size();
  demographics_mark_ = demographics_ops_.size();
  return Exec(S("SAVEPOINT cmd"), "setting a savepoint");
}

Result<void> SqliteTransaction::RollbackToSavepoint() {
  last_event_.reset();
  key_ops_.resize(key_mark_);
  forgotten_.resize(forgotten_mark_);
  demographics_ops_.resize(demographics_mark_);
  store_.ResetAll();
  QORGAU_TRY(Exec(S("ROLLBACK TO cmd"), "rolling back to the savepoint"));
  return Exec(S("RELEASE cmd"), "releasing the savepoint");
}

Result<void> SqliteTransaction::ReleaseSavepoint() {
  return Exec(S("RELEASE cmd"), "releasing the savepoint");
}

Result<std::optional<EventRecord>> SqliteTransaction::LastEvent() {
  if (last_event_) return *last_event_;
  Stmt& s = S("SELECT seq, body, prev_hash, hash FROM events ORDER BY seq DESC LIMIT 1");
  const int rc = s.Step();
  if (rc == SQLITE_DONE) {
    last_event_.emplace();
  } else if (rc == SQLITE_ROW) {
    last_event_.emplace(EventRecord{s.Int(0), s.Text(1), s.Blob(2), s.Blob(3)});
  } else {
    return DbError(store_.db(), "reading the last event");
  }
  return *last_event_;
}

Result<void> SqliteTransaction::AppendEvent(const EventRecord& e) {
  Stmt& s = S("INSERT INTO events (seq, body, prev_hash, hash, subject_id, reader) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.Bind(1, e.seq);
  s.Bind(2, e.body);
  s.Bind(3, e.prev_hash);
  s.Bind(4, e.hash);
  if (e.subject) s.Bind(5, *e.subject);
  if (!e.reader.empty()) s.Bind(6, e.reader);
  QORGAU_TRY(Exec(s, "appending an event"));
  last_event_.emplace(e);
  return {};
}

Result<void> SqliteTransaction::ScanEvents(std::int64_t from,
                                           const std::function<bool(const EventRecord&)>& each) {
  static constexpr const char* kSql =
      "SELECT seq, body, prev_hash, hash, subject_id FROM events WHERE seq >= ?1 ORDER BY seq";
  // The cached statement (every batch's seal scans its new events), or a
  // dedicated one when `each` scans again from inside a scan.
  std::optional<Stmt> own;
  if (scanning_) own.emplace(store_.db(), kSql);
  Stmt& s = own ? *own : S(kSql);
  if (!s.ok()) return DbError(store_.db(), "scanning events");
  const bool outer = !own;
  if (outer) scanning_ = true;
  struct Done {
    SqliteTransaction& txn;
    Stmt& s;
    bool outer;
    ~Done() {
      if (outer) {
        txn.scanning_ = false;
        s.Reset();
      }
    }
  } done{*this, s, outer};
  s.Bind(1, from);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    EventRecord e{s.Int(0), s.Text(1), s.Blob(2), s.Blob(3)};
    if (sqlite3_column_type(s.get(), 4) != SQLITE_NULL) e.subject = s.Int(4);
    if (!each(e)) return {};
  }
  if (rc != SQLITE_DONE) return DbError(store_.db(), "scanning events");
  return {};
}

Result<void> SqliteTransaction::Commit() {
  // The key store in two steps around the database's commit: new keys are
  // durable before it (no committed subject lacks its key); destroyed keys
  // and the journal are marked with this transaction's last event and
  // settled after it (kept, or undone, as the database decided; Reconcile
  // settles what a crash left marked).
  std::int64_t seq = 0;
  if (!key_ops_.empty() || !forgotten_.empty() || !demographics_ops_.empty()) {
    QORGAU_ASSIGN_OR_RETURN(const auto last, LastEvent());
    seq = last ? last->seq : 0;
  }
  EndKeyRead();  // before the key store's write transaction
  store_.ResetAll();
  QORGAU_TRY(CommitKeys(seq));
  if (sqlite3_exec(store_.db(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto err = DbError(store_.db(), "committing");
    SettleKeys(seq, /*committed=*/false);
    return err;
  }
  open_ = false;
  SettleKeys(seq, /*committed=*/true);
  lock_.unlock();  // the next transaction may start even while this object lives
  return {};
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& file, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(file, ec)) {
    return Fail(ErrorCode::kNotFound, file.string(), "no database (run 'qorgau init' first)");
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    auto err = Fail(ErrorCode::kIo, file.string(),
                    std::string("cannot open the database: ") + sqlite3_errmsg(db));
    sqlite3_close(db);
    return err;
  }
  auto store = std::make_unique<SqliteStore>(db);
  sqlite3_busy_timeout(db, 10000);
  const char* pragmas =
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
      // Destruction (R-VII.2): a deleted row's bytes are overwritten, not
      // left in the page or the free list.
      "PRAGMA secure_delete = ON;";
  if (sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return DbError(db, "configuring the database");
  }
  QORGAU_TRY(store->Migrate());
  QORGAU_TRY(store->OpenKeys(file.parent_path() / "keys.db", /*read_only=*/false));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStoreReadOnly(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return Fail(ErrorCode::kNotFound, file.string(), "no database (run 'qorgau init' first)");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    auto err = Fail(ErrorCode::kIo, file.string(),
                    std::string("cannot open the database: ") + sqlite3_errmsg(db));
    sqlite3_close(db);
    return err;
  }
  auto store = std::make_unique<SqliteStore>(db);
  sqlite3_busy_timeout(db, 10000);
  if (sqlite3_exec(db, "PRAGMA query_only = ON;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return DbError(db, "configuring the database");
  }
  QORGAU_TRY(store->CheckVersion());
  QORGAU_TRY(store->OpenKeys(file.parent_path() / "keys.db", /*read_only=*/true));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace qorgau::store
