#include "app/key_rotation.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "app/instance.h"
#include "ledger/ledger.h"
#include "ledger/tree_head.h"
#include "core/iin.h"
#include "rules/demographics.h"
#include "rules/permissions.h"

namespace qorgau::app {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kPage = 512;

fs::path WithSuffix(const fs::path& file, const char* suffix) { return file.string() + suffix; }

// Writes `content` to the new file `file` with `mode` and fsyncs it.
Result<void> WriteNew(const fs::path& file, const std::string& content, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Fail(ErrorCode::kIo, file.string(),
                errno == EEXIST ? "already exists (left by an interrupted rotation? open the data "
                                  "directory once, which finishes or removes it)"
                                : "cannot create");
  }
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    return Fail(ErrorCode::kIo, file.string(), "cannot write");
  }
  return {};
}

Result<void> Rename(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Fail(ErrorCode::kIo, to.string(), "cannot rename " + from.string() + " over it: " + ec.message());
  return crypto::SyncDirectory(to.parent_path());
}

Result<std::string> ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, file.string(), "cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Opens the directory for a rotation: the lock, then the caller authorized
// for `action`. A held lock gets the rotation's own explanation.
Result<std::unique_ptr<Instance>> OpenFor(const fs::path& data_dir, const std::string& actor,
                                          rules::Action action, const Clock& clock) {
  auto inst = Instance::Open(data_dir, clock);
  if (!inst) {
    if (inst.error().code == ErrorCode::kFailedPrecondition && inst.error().field == data_dir.string()) {
      return Fail(ErrorCode::kFailedPrecondition, data_dir.string(),
                  "is in use by another qorgau process (a running 'qorgau serve'?); a key rotation "
                  "needs the data directory to itself: stop it, rotate, start it again");
    }
    return inst;
  }
  QORGAU_ASSIGN_OR_RETURN(const auto caller, (*inst)->engine().CallerFor(actor));
  QORGAU_TRY(rules::Authorize((*inst)->policy(), *caller, action));
  return inst;
}

// The value of `category` for subject `id`, opened with `data_key`; ""
// when the subject has none.
Result<std::string> OpenValue(const std::vector<store::PersonalDataRecord>& records, store::SubjectId id,
                              const std::string& category, const crypto::Bytes& data_key) {
  for (const auto& r : records) {
    if (r.category != category) continue;
    auto value = crypto::Open(data_key, r.sealed, crypto::PersonalDataAad(id, category));
    if (!value) {
      return Fail(ErrorCode::kCorruption, "subject " + std::to_string(id),
                  "its " + category + " value does not open with its data key");
    }
    return value;
  }
  return std::string();
}

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

}  // namespace

Result<std::pair<std::int64_t, std::int64_t>> RewrapSubjects(store::Transaction& txn,
                                                             const crypto::KeyRing& from,
                                                             const crypto::KeyRing& to,
                                                             const policy::Policy& policy,
                                                             const MasterRotationOptions& options) {
  const policy::Category* iin_cat = policy.FindCategoryByValue(ValueType::kIin);
  const policy::Category* phone_cat = policy.FindCategoryByValue(ValueType::kPhone);
  if (!iin_cat || !phone_cat) {
    return Fail(ErrorCode::kFailedPrecondition, "policy",
                "the policy has no category with value 'iin' or 'phone'");
  }
  std::int64_t rewrapped = 0, without_key = 0;
  // The IIN and phone values destroyed while their subject lives (the key
  // store's journal).
  std::set<std::pair<store::SubjectId, store::IndexKind>> destroyed;
  QORGAU_TRY(txn.ScanForgotten([&](const store::ForgottenRecord& f) {
    if (f.what == iin_cat->id) destroyed.insert({f.subject_id, store::IndexKind::kIin});
    if (f.what == phone_cat->id) destroyed.insert({f.subject_id, store::IndexKind::kPhone});
  }));
  auto destroyed_categories = [&](store::SubjectId id, store::IndexKind k) { return destroyed.count({id, k}) > 0; };
  store::SubjectId after = std::numeric_limits<store::SubjectId>::min();
  for (;;) {
    QORGAU_ASSIGN_OR_RETURN(const auto page, txn.ListSubjects(after, kPage));
    if (page.empty()) break;
    for (const auto& s : page) {
      after = s.id;
      if (s.wrapped_key.empty()) {  // destroyed: its values are unreadable by design
        ++without_key;
        continue;
      }
      auto data_key = from.UnwrapDataKey(s.id, s.wrapped_key);
      if (!data_key) {
        return Fail(ErrorCode::kCrypto, "subject " + std::to_string(s.id),
                    "its data key does not open with the current master key");
      }
      auto rewrapped_key = to.WrapDataKey(s.id, *data_key);
      QORGAU_ASSIGN_OR_RETURN(const auto records, txn.GetPersonalData(s.id));
      auto iin = OpenValue(records, s.id, iin_cat->id, *data_key);
      auto phone = OpenValue(records, s.id, phone_cat->id, *data_key);
      crypto::Wipe(*data_key);
      // A destroyed IIN or phone (R-VII.2) keeps the index that stands
      // for it; a missing one that was never destroyed is corruption.
      auto index_of = [&](const Result<std::string>& value, const char* kind,
                          store::IndexKind k) -> Result<crypto::Bytes> {
        if (value && !value->empty()) return to.BlindIndex(kind, *value);
        if (value && destroyed_categories(s.id, k)) return store::DestroyedIndex(s.id, k);
        return Fail(ErrorCode::kCorruption, "", "");
      };
      Result<crypto::Bytes> iin_index = index_of(iin, "iin", store::IndexKind::kIin);
      Result<crypto::Bytes> phone_index = index_of(phone, "phone", store::IndexKind::kPhone);
      // The demographics follow the IIN, sealed under the new ring's key
      // (SetSubjectKey below clears the old ones).
      std::optional<crypto::Bytes> demographics;
      if (iin && !iin->empty()) {
        if (auto parsed = Iin::Parse(*iin)) {
          auto sealed = to.SealDemographics(s.id, rules::EncodeDemographics(rules::Demographics::Of(*parsed)));
          if (!sealed) return tl::unexpected(sealed.error());
          demographics = std::move(*sealed);
        }
      }
      if (iin) WipeString(*iin);
      if (phone) WipeString(*phone);
      if (!rewrapped_key) return tl::unexpected(rewrapped_key.error());
      if (!iin) return tl::unexpected(iin.error());
      if (!phone) return tl::unexpected(phone.error());
      if (!iin_index || !phone_index) {
        return Fail(ErrorCode::kCorruption, "subject " + std::to_string(s.id),
                    "has no " + iin_cat->id + " or " + phone_cat->id +
                        " value to recompute its blind index from");
      }
      QORGAU_TRY(txn.SetSubjectKey(s.id, *rewrapped_key));
      QORGAU_TRY(txn.SetSubjectIndexes(s.id, *iin_index, *phone_index));
      if (demographics) QORGAU_TRY(txn.SetSubjectDemographics(s.id, *demographics));
      ++rewrapped;
      if (options.progress && options.progress_every > 0 && rewrapped % options.progress_every == 0) {
        options.progress(rewrapped);
      }
    }
  }
  return std::make_pair(rewrapped, without_key);
}

Result<MasterRotationReport> RotateMasterKey(const fs::path& data_dir, const MasterRotationOptions& options,
                                             const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto inst, OpenFor(data_dir, options.actor, rules::Action::kKeysRotateMaster, clock));
  MasterRotationReport report;
  report.old_source = inst->master_key_source();
  fs::path target;
  if (inst->master_key_replaceable()) {
    if (!options.new_key_file.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "new-key-file",
                  "the master key is the file " + report.old_source +
                      ", which the rotation replaces in place; --new-key-file is only for a key "
                      "from QORGAU_MASTER_KEY or systemd's credential");
    }
    target = WithSuffix(report.old_source, ".new");
  } else {
    if (options.new_key_file.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "new-key-file",
                  "the master key comes from " + report.old_source +
                      ", which qorgau does not own: give --new-key-file PATH, a new file for the "
                      "new key");
    }
    target = options.new_key_file;
  }

  QORGAU_ASSIGN_OR_RETURN(crypto::Bytes master, crypto::RandomBytes(crypto::kKeySize));
  auto ring = crypto::KeyRing::FromMasterKey(master);
  auto written = ring ? crypto::WriteMasterKeyFile(target, master) : Result<void>();
  crypto::Wipe(master);
  if (!ring) return tl::unexpected(ring.error());
  QORGAU_TRY(written);

  const crypto::KeyRing& old_keys = inst->keys();
  const policy::Policy& policy = inst->policy();
  std::pair<std::int64_t, std::int64_t> counts;
  auto committed = inst->writer().Submit([&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
    QORGAU_ASSIGN_OR_RETURN(counts, RewrapSubjects(txn, old_keys, *ring, policy, options));
    QORGAU_TRY(txn.PutMeta(crypto::kKeyCheckMeta, ring->check_value()));
    ledger::EventDraft ev{"master_key.rotated", std::nullopt, options.actor, {}};
    ev.data["subjects"] = counts.first;
    ev.data["without_key"] = counts.second;
    // The digest of the new check value: audit verify compares it with the
    // stored one; neither reveals the key.
    ev.data["check_hash"] = crypto::ToHex(crypto::Sha256(ring->check_value()));
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, clock.Now(), ev));
    report.event_seq = event.seq;
    return store::GroupCommitter::OnCommit();
  });
  if (!committed) {
    ::unlink(target.c_str());  // never used: the database still needs the old key
    return tl::unexpected(committed.error());
  }
  report.subjects = counts.first;
  report.without_key = counts.second;
  report.new_key = target;
  if (inst->master_key_replaceable()) {
    auto renamed = Rename(target, report.old_source);
    if (!renamed) {
      return Fail(ErrorCode::kIo, report.old_source,
                  "the rotation committed, but the new key could not replace the old one (" +
                      renamed.error().message + "): the database now needs " + target.string() +
                      "; opening the data directory finishes the rename, or run: mv " +
                      target.string() + " " + report.old_source);
    }
    report.new_key = report.old_source;
    report.replaced = true;
  }
  return report;
}

Result<SigningRotationReport> RotateSigningKey(const fs::path& data_dir, const std::string& actor,
                                               const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto inst, OpenFor(data_dir, actor, rules::Action::kKeysRotateSigning, clock));
  const crypto::Signer& old_signer = inst->signer();
  QORGAU_ASSIGN_OR_RETURN(const crypto::Signer next, crypto::Signer::Generate());
  SigningRotationReport report{old_signer.KeyId(), next.KeyId(), 0};
  QORGAU_ASSIGN_OR_RETURN(const std::string old_pub, old_signer.PublicPem());
  QORGAU_ASSIGN_OR_RETURN(const std::string new_pub, next.PublicPem());
  QORGAU_ASSIGN_OR_RETURN(std::string new_priv, next.PrivatePem());
  const fs::path key_new = data_dir / "receipt.key.new";
  const fs::path pub_new = data_dir / "receipt.pub.new";
  auto cleanup = [&] {
    ::unlink(key_new.c_str());
    ::unlink(pub_new.c_str());
  };
  auto wrote = WriteNew(key_new, new_priv, 0600);
  WipeString(new_priv);
  QORGAU_TRY(wrote);
  if (auto pub = WriteNew(pub_new, new_pub, 0644); !pub) {
    cleanup();
    return tl::unexpected(pub.error());
  }
  if (auto archived = ArchivePublicKey(data_dir, next); !archived) {
    cleanup();
    return tl::unexpected(archived.error());
  }
  QORGAU_TRY(crypto::SyncDirectory(data_dir));

  auto committed = inst->writer().Submit([&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
    QORGAU_TRY(txn.PutMeta(ledger::kSigningKeyMeta, crypto::ToBytes(report.new_key_id)));
    ledger::EventDraft ev{"signing_key.rotated", std::nullopt, actor, {}};
    ev.data["old_key_id"] = report.old_key_id;
    ev.data["new_key_id"] = report.new_key_id;
    ev.data["old_public_key"] = old_pub;
    ev.data["new_public_key"] = new_pub;
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, clock.Now(), ev));
    report.event_seq = event.seq;
    return store::GroupCommitter::OnCommit();
  });
  if (!committed) {
    cleanup();
    std::error_code ec;
    fs::remove(ReceiptKeysDirectory(data_dir) / (report.new_key_id + ".pub"), ec);  // never signed anything
    return tl::unexpected(committed.error());
  }
  QORGAU_TRY(Rename(pub_new, data_dir / "receipt.pub"));
  QORGAU_TRY(Rename(key_new, data_dir / "receipt.key"));
  return report;
}

Result<crypto::KeyRing> ResumeMasterKeyRotation(const crypto::MasterKey& master,
                                                const crypto::Bytes& stored_check) {
  QORGAU_ASSIGN_OR_RETURN(crypto::KeyRing keys, crypto::KeyRing::FromMasterKey(master.key));
  const fs::path pending = master.replaceable ? WithSuffix(master.source, ".new") : fs::path();
  std::error_code ec;
  const bool has_pending = !pending.empty() && fs::exists(pending, ec);
  if (keys.check_value() == stored_check) {
    if (has_pending) {
      // A rotation that failed before its commit: the key never protected
      // anything.
      fs::remove(pending, ec);
      std::fprintf(stderr, "qorgau: removed %s, left by a master key rotation that did not commit\n",
                   pending.c_str());
    }
    return keys;
  }
  if (has_pending) {
    QORGAU_ASSIGN_OR_RETURN(crypto::Bytes next, crypto::ReadMasterKeyFile(pending));
    auto ring = crypto::KeyRing::FromMasterKey(next);
    crypto::Wipe(next);
    if (ring && ring->check_value() == stored_check) {
      QORGAU_TRY(Rename(pending, master.source));
      std::fprintf(stderr,
                   "qorgau: finished an interrupted master key rotation: %s now holds the new key\n",
                   master.source.c_str());
      return ring;
    }
  }
  std::string hint;
  if (!master.replaceable) {
    hint = " (after 'qorgau key rotate-master', the database needs the new key it wrote to its "
           "--new-key-file: put that key in " + master.source + ")";
  }
  return Fail(ErrorCode::kCrypto, "master_key", "the key from " + master.source + " does not match this database" + hint);
}

Result<void> ArchivePublicKey(const fs::path& data_dir, const crypto::Signer& signer) {
  const fs::path dir = ReceiptKeysDirectory(data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, dir.string(), "cannot create: " + ec.message());
  const fs::path file = dir / (signer.KeyId() + ".pub");
  if (fs::exists(file, ec)) return {};
  QORGAU_ASSIGN_OR_RETURN(const std::string pem, signer.PublicPem());
  const fs::path tmp = WithSuffix(file, ".tmp");
  fs::remove(tmp, ec);
  QORGAU_TRY(WriteNew(tmp, pem, 0644));
  return Rename(tmp, file);
}

Result<void> ResumeSigningKeyRotation(const fs::path& data_dir,
                                      const std::optional<std::string>& ledger_key_id) {
  const fs::path key = data_dir / "receipt.key";
  const fs::path key_new = data_dir / "receipt.key.new";
  const fs::path pub_new = data_dir / "receipt.pub.new";
  std::error_code ec;
  if (fs::exists(key_new, ec)) {
    QORGAU_TRY(crypto::CheckPrivateFile(key_new));
    QORGAU_ASSIGN_OR_RETURN(const std::string pem, ReadText(key_new));
    auto next = crypto::Signer::FromPem(pem);
    if (next && ledger_key_id && next->KeyId() == *ledger_key_id) {
      QORGAU_TRY(Rename(key_new, key));
      std::fprintf(stderr, "qorgau: finished an interrupted signing key rotation: receipt.key is key %s\n",
                   ledger_key_id->c_str());
    } else {
      fs::remove(key_new, ec);
      std::fprintf(stderr, "qorgau: removed %s, left by a signing key rotation that did not commit\n",
                   key_new.c_str());
    }
  }
  fs::remove(pub_new, ec);
  if (!fs::exists(key, ec)) return {};  // LoadSigner says what is missing
  QORGAU_TRY(crypto::CheckPrivateFile(key));
  QORGAU_ASSIGN_OR_RETURN(const std::string pem, ReadText(key));
  QORGAU_ASSIGN_OR_RETURN(const crypto::Signer signer, crypto::Signer::FromPem(pem));
  if (ledger_key_id && signer.KeyId() != *ledger_key_id) {
    return Fail(ErrorCode::kFailedPrecondition, key.string(),
                "holds key " + signer.KeyId() + ", but the ledger's signing key is " + *ledger_key_id +
                    " (since its last signing_key.rotated event): restore that key's receipt.key");
  }
  // receipt.pub is receipt.key's public half; a crash between the two
  // renames of a rotation, or a lost file, leaves it behind.
  QORGAU_ASSIGN_OR_RETURN(const std::string pub, signer.PublicPem());
  auto current = ReadText(data_dir / "receipt.pub");
  if (!current || *current != pub) {
    const fs::path tmp = data_dir / "receipt.pub.tmp";
    fs::remove(tmp, ec);
    QORGAU_TRY(WriteNew(tmp, pub, 0644));
    QORGAU_TRY(Rename(tmp, data_dir / "receipt.pub"));
  }
  return ArchivePublicKey(data_dir, signer);
}

}  // namespace qorgau::app
