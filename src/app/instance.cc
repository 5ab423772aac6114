#include "app/instance.h"

#include "app/key_rotation.h"
#include "rules/demographics.h"
#include "ledger/tree_head.h"
#include "report/receipt.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <cstdio>
#include <cstdlib>

#include "store/sqlite/sqlite_store.h"

namespace qorgau::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabase = "qorgau.db";

// Writes `content` to a new file with `mode`; fails if it exists.
// The data directory's exclusive lock (an open descriptor holding a flock),
// or kFailedPrecondition when another process holds it.
Result<int> LockDataDirectory(const fs::path& data_dir) {
  const fs::path lock_path = data_dir / "qorgau.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Fail(ErrorCode::kIo, lock_path.string(), "cannot open the lock file");
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return Fail(ErrorCode::kFailedPrecondition, data_dir.string(),
                "is in use by another qorgau process (a running server?); use the API, or stop it");
  }
  return lock_fd;
}

Result<void> WriteNewFile(const fs::path& file, const std::string& content, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) return Fail(ErrorCode::kIo, file.string(), "cannot create");
  const bool ok = ::write(fd, content.data(), content.size()) ==
                      static_cast<ssize_t>(content.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kIo, file.string(), "cannot write");
  return {};
}

Result<crypto::Signer> LoadSigner(const fs::path& dir) {
  if (fs::exists(dir / "receipt.key")) QORGAU_TRY(crypto::CheckPrivateFile(dir / "receipt.key"));
  std::ifstream in(dir / "receipt.key");
  if (!in) {
    return Fail(ErrorCode::kNotFound, (dir / "receipt.key").string(),
                "no receipt signing key (run 'qorgau init')");
  }
  std::ostringstream pem;
  pem << in.rdbuf();
  return crypto::Signer::FromPem(pem.str());
}

Result<crypto::MasterKey> Master(const fs::path& dir, bool create) {
  QORGAU_ASSIGN_OR_RETURN(crypto::MasterKey master, crypto::LoadMasterKey(dir, create));
  if (master.inside_data_dir) {
    std::fprintf(stderr,
                 "qorgau: warning: the master key is inside the data directory (%s); move it to "
                 "%s.master.key, or to QORGAU_MASTER_KEY_FILE, so that copies of the directory "
                 "carry no key\n",
                 master.source.c_str(), dir.string().c_str());
  }
  return master;
}

// Keys must not reach a core file: none is written by this process.
void NoCoreDumps() {
  struct rlimit none {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

}  // namespace

Error PolicyError(const std::vector<policy::Diagnostic>& problems) {
  std::string msg = "the policy is invalid:";
  for (const auto& d : problems) msg += "\n  " + d.ToString();
  return Error{ErrorCode::kPolicyInvalid, "policy", msg};
}

Instance::Instance(std::unique_ptr<store::Store> store, crypto::KeyRing keys,
                   crypto::Signer signer, std::shared_ptr<const policy::Policy> policy,
                   std::unique_ptr<index::DecisionIndex> index, const Clock& clock)
    : store_(std::move(store)),
      keys_(std::move(keys)),
      signer_(std::move(signer)),
      policy_(std::move(policy)),
      index_(std::move(index)),
      // Every batch ends with a signed tree head (ledger/tree_head.h).
      writer_(std::make_unique<store::GroupCommitter>(
          *store_, [this, &clock](store::Transaction& txn) -> Result<void> {
            QORGAU_TRY(ledger::SealTreeHead(txn, signer_, clock.Now(), &proofs_));
            return {};
          })) {
  engine_ = std::make_unique<rules::Engine>(
      rules::EngineDeps{*store_, *writer_, *index_, clock, keys_, signer_, policy_, &proofs_});
}

namespace {

Result<void> SealLedger(store::Store& store, const crypto::Signer& signer, const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, store.Begin(store::Store::Mode::kWrite));
  QORGAU_ASSIGN_OR_RETURN(const auto head, ledger::SealTreeHead(*txn, signer, clock.Now()));
  if (!head) return {};
  return txn->Commit();
}

}  // namespace

namespace {

// The calendar years of `dir` (every *.yaml, in name order), checked
// together for `country`; each with its file.
Result<std::vector<std::pair<CalendarYear, std::string>>> ReadCalendars(const fs::path& dir,
                                                                        const std::string& country) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  if (ec) return Fail(ErrorCode::kIo, dir.string(), "cannot list the calendars: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<CalendarYear, std::string>> out;
  std::vector<CalendarYear> years;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) return Fail(ErrorCode::kIo, f.string(), "cannot read the calendar");
    auto loaded = policy::LoadCalendarYear(text.str(), f.string());
    if (!loaded.year) {
      std::string msg;
      for (const auto& p : loaded.problems) msg += (msg.empty() ? "" : "; ") + p.ToString();
      return Fail(ErrorCode::kInvalidArgument, "calendar", msg);
    }
    years.push_back(*loaded.year);
    out.emplace_back(std::move(*loaded.year), text.str());
  }
  QORGAU_TRY(WorkingCalendar::Make(country, std::move(years)));
  return out;
}

}  // namespace

Result<InitReport> Instance::Init(const fs::path& data_dir, const fs::path& policy_file,
                                  const Clock& clock, std::optional<fs::path> calendars) {
  policy::LoadResult loaded = policy::LoadPolicyFile(policy_file);
  if (!loaded.policy) return tl::unexpected(PolicyError(loaded.problems));
  const std::string& country = loaded.policy->controller.country;
  if (!calendars) calendars = FindCalendars(policy_file, country);
  std::vector<std::pair<CalendarYear, std::string>> years;
  if (calendars) {
    QORGAU_ASSIGN_OR_RETURN(years, ReadCalendars(*calendars, country));
  }

  std::error_code ec;
  const fs::path db = data_dir / kDatabase;
  if (fs::exists(db, ec)) {
    return Fail(ErrorCode::kAlreadyExists, data_dir.string(),
                "already holds a qorgau database; choose another --data directory");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, data_dir.string(), "cannot create: " + ec.message());
  ::chmod(data_dir.c_str(), 0700);

  InitReport report;
  NoCoreDumps();
  QORGAU_ASSIGN_OR_RETURN(const crypto::MasterKey master, Master(data_dir, /*create=*/true));
  report.master_key_source = master.source;
  auto keys = crypto::KeyRing::FromMasterKey(master.key);
  if (!keys) return tl::unexpected(keys.error());

  auto signer = crypto::Signer::Generate();
  if (!signer) return tl::unexpected(signer.error());
  {
    auto priv = signer->PrivatePem();
    auto pub = signer->PublicPem();
    if (!priv) return tl::unexpected(priv.error());
    if (!pub) return tl::unexpected(pub.error());
    QORGAU_TRY(WriteNewFile(data_dir / "receipt.key", *priv, 0600));
    QORGAU_TRY(WriteNewFile(data_dir / "receipt.pub", *pub, 0644));
    QORGAU_TRY(ArchivePublicKey(data_dir, *signer));
  }
  auto store = store::OpenSqliteStore(db, /*create=*/true);
  if (!store) return tl::unexpected(store.error());
  ::chmod(db.c_str(), 0600);
  {
    auto txn = (*store)->Begin(store::Store::Mode::kWrite);
    if (!txn) return tl::unexpected(txn.error());
    QORGAU_TRY((*txn)->PutMeta(crypto::kKeyCheckMeta, keys->check_value()));
    QORGAU_TRY((*txn)->Commit());
  }
  auto edition = rules::PublishEdition(**store, clock, *loaded.policy, loaded.files,
                                       policy_file.filename().string(), "init");
  if (!edition) return tl::unexpected(edition.error());
  QORGAU_TRY(rules::CreateConsoleActor(**store, clock));
  if (!years.empty()) {
    QORGAU_ASSIGN_OR_RETURN(auto txn, (*store)->Begin(store::Store::Mode::kWrite));
    for (const auto& [year, content] : years) {
      QORGAU_TRY(rules::RecordCalendarYear(*txn, clock.Now(), "init", year, content));
      report.calendar_years.push_back(year.year);
    }
    QORGAU_TRY(txn->Commit());
    report.calendars = *calendars;
  }
  QORGAU_TRY(SealLedger(**store, *signer, clock));
  report.database = db;
  report.edition = *edition;
  return report;
}

Instance::~Instance() {
  engine_.reset();
  writer_.reset();
  index_.reset();
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<Instance>> Instance::Open(const fs::path& data_dir, const Clock& clock) {
  std::error_code exists_ec;
  if (!fs::exists(data_dir / kDatabase, exists_ec)) {
    return Fail(ErrorCode::kNotFound, (data_dir / kDatabase).string(),
                "no database (run 'qorgau init' first)");
  }
  QORGAU_ASSIGN_OR_RETURN(const int lock_fd, LockDataDirectory(data_dir));
  auto opened = OpenLocked(data_dir, clock);
  if (!opened) {
    ::close(lock_fd);
    return opened;
  }
  (*opened)->lock_fd_ = lock_fd;
  return opened;
}

Result<std::unique_ptr<Instance>> Instance::OpenLocked(const fs::path& data_dir,
                                                      const Clock& clock) {
  NoCoreDumps();
  auto store = store::OpenSqliteStore(data_dir / kDatabase, /*create=*/false);
  if (!store) return tl::unexpected(store.error());
  QORGAU_ASSIGN_OR_RETURN(const crypto::MasterKey master, Master(data_dir, /*create=*/false));
  std::optional<store::EditionRecord> edition;
  crypto::Bytes stored_check;
  std::optional<std::string> ledger_key_id;
  {
    auto txn = (*store)->Begin(store::Store::Mode::kRead);
    if (!txn) return tl::unexpected(txn.error());
    auto check = (*txn)->GetMeta(crypto::kKeyCheckMeta);
    if (!check) return tl::unexpected(check.error());
    if (!*check) return Fail(ErrorCode::kCorruption, "key_check", "the database holds no key check value");
    stored_check = std::move(**check);
    QORGAU_ASSIGN_OR_RETURN(const auto key_id, (*txn)->GetMeta(ledger::kSigningKeyMeta));
    if (key_id) ledger_key_id = std::string(key_id->begin(), key_id->end());
    // The edition in force: the latest whose moment has come (R-XI.1); one
    // published for a later day waits for it, and for a restart.
    QORGAU_ASSIGN_OR_RETURN(auto editions, (*txn)->ListEditions());
    const UnixMillis now = clock.Now();
    for (auto& e : editions) {
      if (!edition || e.InForceFrom() <= now) edition = std::move(e);
    }
  }
  // A rotation a crash interrupted is finished (or undone) here, under the
  // lock, before any key is used (app/key_rotation.h).
  auto keys = ResumeMasterKeyRotation(master, stored_check);
  if (!keys) return tl::unexpected(keys.error());
  QORGAU_TRY(ResumeSigningKeyRotation(data_dir, ledger_key_id));
  auto signer = LoadSigner(data_dir);
  if (!signer) return tl::unexpected(signer.error());
  if (!edition) return Fail(ErrorCode::kFailedPrecondition, "policy", "no edition is published");
  // A ledger of format 1, or events written outside the group committer,
  // are signed now: from here on every event is under a signed tree head.
  QORGAU_TRY(SealLedger(**store, *signer, clock));
  policy::LoadResult loaded = policy::LoadPolicyBundle(edition->files, edition->main_file);
  if (!loaded.policy) return tl::unexpected(PolicyError(loaded.problems));
  auto policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
  // A database from before aggregates read demographics gets them, once.
  if (auto filled = rules::FillDemographics(**store, *keys, *policy); !filled) return tl::unexpected(filled.error());
  auto index = index::DecisionIndex::Load(**store, policy);
  if (!index) return tl::unexpected(index.error());
  std::unique_ptr<Instance> inst(new Instance(std::move(*store), std::move(*keys), std::move(*signer),
                                              std::move(policy), std::move(*index), clock));
  inst->master_source_ = master.source;
  inst->master_replaceable_ = master.replaceable;
  return inst;
}

namespace {

// A read-only store of `data_dir` and the caller `actor` authorized for
// `action` under the published edition.
Result<std::unique_ptr<store::Store>> OpenForAudit(const fs::path& data_dir, const std::string& actor,
                                                  rules::Action action) {
  QORGAU_ASSIGN_OR_RETURN(auto store, store::OpenSqliteStoreReadOnly(data_dir / kDatabase));
  QORGAU_ASSIGN_OR_RETURN(auto txn, store->Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto edition, txn->LatestEdition());
  if (!edition) return Fail(ErrorCode::kFailedPrecondition, "policy", "no edition is published");
  policy::LoadResult loaded = policy::LoadPolicyBundle(edition->files, edition->main_file);
  if (!loaded.policy) return tl::unexpected(PolicyError(loaded.problems));
  QORGAU_ASSIGN_OR_RETURN(auto record, txn->GetActor(actor));
  if (!record) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "as",
                                "no actor '" + actor + "' (see 'qorgau actor list')", "unauthenticated"});
  }
  QORGAU_ASSIGN_OR_RETURN(auto duties, txn->GetDuties(actor));
  const rules::Caller caller{std::move(*record), std::move(duties)};
  QORGAU_TRY(rules::Authorize(*loaded.policy, caller, action));
  txn.reset();
  return store;
}

}  // namespace

Result<BackupReport> BackupDataDirectory(const fs::path& data_dir, const fs::path& to_dir, const std::string& actor,
                                         const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto store, OpenForAudit(data_dir, actor, rules::Action::kStoreBackup));
  std::error_code ec;
  fs::create_directories(to_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, to_dir.string(), "cannot create the directory: " + ec.message());
  BackupReport report;
  report.file = to_dir / kDatabase;
  report.made_at = clock.Now();
  QORGAU_TRY(store->BackupTo(report.file));
  // What the copy holds, read from the copy itself.
  QORGAU_ASSIGN_OR_RETURN(auto copy, store::OpenSqliteStoreReadOnly(report.file));
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, copy->Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto last, txn->LastEvent());
    if (last) {
      report.events = last->seq;
      report.head = crypto::ToHex(last->hash);
    }
  }
  const std::string manifest = "{\"format\":\"qorgau-backup/1\",\"made_at\":\"" + FormatUtc(report.made_at) +
                               "\",\"events\":" + std::to_string(report.events) + ",\"head\":\"" + report.head +
                               "\",\"schema\":" + std::to_string(copy->SchemaVersion()) +
                               ",\"keys\":\"not included: the data keys stay with the live key store\"}\n";
  QORGAU_TRY(WriteNewFile(to_dir / "backup.json", manifest, 0600));
  return report;
}

Result<RestoreReport> RestoreDataDirectory(const fs::path& data_dir, const fs::path& from_dir, const std::string& actor,
                                           const Clock& clock) {
  const fs::path backup = from_dir / kDatabase;
  std::error_code ec;
  if (!fs::exists(backup, ec)) return Fail(ErrorCode::kNotFound, backup.string(), "no backup here ('qorgau backup' makes one)");
  if (!fs::exists(data_dir / kDatabase, ec)) {
    return Fail(ErrorCode::kNotFound, (data_dir / kDatabase).string(),
                "no data directory to restore into: its keys (keys.db, the master key) are needed");
  }
  // Authorized by the backup's own actors: the live database may be what
  // failed.
  RestoreReport report;
  {
    QORGAU_ASSIGN_OR_RETURN(auto copy, OpenForAudit(from_dir, actor, rules::Action::kStoreRestore));
    QORGAU_ASSIGN_OR_RETURN(auto txn, copy->Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto last, txn->LastEvent());
    report.backup_events = last ? last->seq : 0;
  }
  {
    // The directory to ourselves while the files change.
    QORGAU_ASSIGN_OR_RETURN(const int lock_fd, LockDataDirectory(data_dir));
    report.replaced = data_dir / (std::string(kDatabase) + ".before-restore-" + std::to_string(clock.Now()));
    // The database it replaces is set aside whole, with its log.
    fs::rename(data_dir / kDatabase, report.replaced, ec);
    if (!ec) {
      for (const char* side : {"-wal", "-shm"}) {
        std::error_code side_ec;
        const fs::path from = data_dir / (std::string(kDatabase) + side);
        if (fs::exists(from, side_ec)) fs::rename(from, report.replaced.string() + side, side_ec);
      }
      fs::copy_file(backup, data_dir / kDatabase, ec);
      if (!ec) ::chmod((data_dir / kDatabase).c_str(), 0600);
    }
    ::close(lock_fd);
    if (ec) return Fail(ErrorCode::kIo, data_dir.string(), "cannot put the backup in place: " + ec.message());
  }
  // Opened and forgotten again, or put back as it was: a restore that cannot
  // finish (a backup made under another master key, say) leaves the live
  // database in place.
  auto put_back = [&](const Error& why) -> Error {
    std::error_code back_ec;
    fs::remove(data_dir / kDatabase, back_ec);
    for (const char* side : {"-wal", "-shm"}) fs::remove(data_dir / (std::string(kDatabase) + side), back_ec);
    fs::rename(report.replaced, data_dir / kDatabase, back_ec);
    for (const char* side : {"-wal", "-shm"}) {
      if (fs::exists(report.replaced.string() + side, back_ec)) {
        fs::rename(report.replaced.string() + side, data_dir / (std::string(kDatabase) + side), back_ec);
      }
    }
    Error e = why;
    e.message += back_ec ? "; putting the replaced database back failed too: it is " + report.replaced.string()
                         : "; the database in use before was put back";
    return e;
  };
  auto opened = Instance::Open(data_dir, clock);
  if (!opened) return tl::unexpected(put_back(opened.error()));
  auto inst = std::move(*opened);
  auto restorer = inst->engine().CallerFor(actor);
  if (!restorer) {
    inst.reset();
    return tl::unexpected(put_back(restorer.error()));
  }
  auto again = inst->engine().ForgetAgain(report.backup_events, **restorer);
  if (!again) {
    inst.reset();
    return tl::unexpected(put_back(again.error()));
  }
  report.subjects_forgotten_again = *again;
  return report;
}

fs::path ReceiptKeysDirectory(const fs::path& data_dir) { return data_dir / "receipt-keys"; }

Result<crypto::PublicKeys> DataDirectoryPublicKeys(const fs::path& data_dir) {
  crypto::PublicKeys keys;
  std::error_code ec;
  if (fs::is_directory(ReceiptKeysDirectory(data_dir), ec)) {
    QORGAU_ASSIGN_OR_RETURN(keys, crypto::PublicKeys::FromDirectory(ReceiptKeysDirectory(data_dir)));
  }
  // receipt.pub too: a directory not yet opened by this version has no
  // archive.
  if (fs::exists(data_dir / "receipt.pub", ec)) {
    std::ifstream in(data_dir / "receipt.pub");
    std::stringstream pem;
    pem << in.rdbuf();
    auto added = keys.AddPem(pem.str());
    if (!added) return Fail(ErrorCode::kInvalidArgument, (data_dir / "receipt.pub").string(), added.error().message);
  }
  if (keys.empty()) {
    return Fail(ErrorCode::kNotFound, (data_dir / "receipt.pub").string(),
                "no public key (neither it nor " + ReceiptKeysDirectory(data_dir).string() + ")");
  }
  return keys;
}

Result<ledger::VerifyReport> AuditDataDirectory(const fs::path& data_dir, const AuditRequest& request) {
  QORGAU_ASSIGN_OR_RETURN(auto store, OpenForAudit(data_dir, request.actor, rules::Action::kAuditVerify));
  QORGAU_ASSIGN_OR_RETURN(const crypto::PublicKeys keys,
                          request.public_key.empty() ? DataDirectoryPublicKeys(data_dir)
                                                     : crypto::PublicKeys::FromPath(request.public_key));
  QORGAU_ASSIGN_OR_RETURN(auto txn, store->Begin(store::Store::Mode::kRead));
  ledger::AuditOptions options;
  options.ledger_keys = &keys;
  options.check_receipt = report::ReceiptChecker(keys);
  options.checkpoint = request.checkpoint;
  return ledger::Audit(*txn, options);
}

Result<ledger::TreeHead> LatestCheckpoint(const fs::path& data_dir, const std::string& actor) {
  QORGAU_ASSIGN_OR_RETURN(auto store, OpenForAudit(data_dir, actor, rules::Action::kAuditCheckpoint));
  QORGAU_ASSIGN_OR_RETURN(auto txn, store->Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto head, txn->LatestTreeHead());
  if (!head) {
    return Fail(ErrorCode::kFailedPrecondition, "ledger",
                "no signed tree head yet (open the data directory once to sign the ledger)");
  }
  return ledger::TreeHeadFromRecord(*head);
}

Result<ledger::WitnessStatement> WitnessStatementFor(const fs::path& data_dir, const std::string& actor,
                                                     std::int64_t from, std::optional<std::int64_t> to) {
  QORGAU_ASSIGN_OR_RETURN(auto store, OpenForAudit(data_dir, actor, rules::Action::kAuditCheckpoint));
  QORGAU_ASSIGN_OR_RETURN(auto txn, store->Begin(store::Store::Mode::kRead));
  return ledger::MakeWitnessStatement(*txn, from, to);
}

std::optional<fs::path> FindCalendars(const fs::path& policy_file, const std::string& country) {
  std::string cc = country;
  std::transform(cc.begin(), cc.end(), cc.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  fs::path dir = fs::absolute(policy_file).parent_path();
  for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path()) {
    std::error_code ec;
    const fs::path candidate = dir / "calendars" / cc;
    if (fs::is_directory(candidate, ec)) return candidate;
    if (dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

}  // namespace qorgau::app
