#include "crypto/key_ring.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace qorgau::crypto {
namespace {

std::string SubjectAad(std::string_view what, std::int64_t subject_id) {
  return "qorgau:" + std::string(what) + ":v1:" + std::to_string(subject_id);
}

}  // namespace

std::string DemographicsAad(std::int64_t subject_id) { return SubjectAad("demographics", subject_id); }

std::string PersonalDataAad(std::int64_t subject_id, std::string_view category) {
  return "qorgau:pd:v1:" + std::to_string(subject_id) + ":" + std::string(category);
}

Result<KeyRing> KeyRing::FromMasterKey(const Bytes& master) {
  if (master.size() != kKeySize) {
    return Fail(ErrorCode::kCrypto, "master_key", "must be 32 bytes (64 hex digits)");
  }
  auto kek = Hkdf(master, "qorgau kek v1", kKeySize);
  auto bidx = Hkdf(master, "qorgau blind-index v1", kKeySize);
  auto check = Hkdf(master, "qorgau key-check v1", 16);
  auto demographics = Hkdf(master, "qorgau demographics v1", kKeySize);
  if (!kek) return tl::unexpected(kek.error());
  if (!bidx) return tl::unexpected(bidx.error());
  if (!check) return tl::unexpected(check.error());
  if (!demographics) return tl::unexpected(demographics.error());
  return KeyRing(std::move(*kek), std::move(*bidx), std::move(*check), std::move(*demographics));
}

Result<std::pair<Bytes, Bytes>> KeyRing::NewDataKey(std::int64_t subject_id) const {
  auto key = RandomBytes(kKeySize);
  if (!key) return tl::unexpected(key.error());
  auto wrapped = Seal(kek_, std::string_view(reinterpret_cast<const char*>(key->data()), key->size()),
                      SubjectAad("dk", subject_id));
  if (!wrapped) return tl::unexpected(wrapped.error());
  return std::make_pair(std::move(*key), std::move(*wrapped));
}

Result<Bytes> KeyRing::WrapDataKey(std::int64_t subject_id, const Bytes& key) const {
  if (key.size() != kKeySize) return Fail(ErrorCode::kCrypto, "data_key", "must be 32 bytes");
  return Seal(kek_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
              SubjectAad("dk", subject_id));
}

Result<Bytes> KeyRing::UnwrapDataKey(std::int64_t subject_id, const Bytes& wrapped) const {
  auto key = Open(kek_, wrapped, SubjectAad("dk", subject_id));
  if (!key) return tl::unexpected(key.error());
  return ToBytes(*key);
}

Result<Bytes> KeyRing::SealDemographics(std::int64_t subject_id, std::string_view plain) const {
  return Seal(demographics_, plain, DemographicsAad(subject_id));
}

Result<Bytes> KeyRing::BlindIndex(std::string_view kind, std::string_view normalized) const {
  std::string msg(kind);
  msg += '\0';
  msg += normalized;
  auto mac = HmacSha256(bidx_, msg);
  if (!mac) return tl::unexpected(mac.error());
  return Bytes(mac->begin(), mac->end());
}

void Wipe(Bytes& bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

KeyRing::~KeyRing() {
  Wipe(kek_);
  Wipe(bidx_);
  Wipe(demographics_);
}

MasterKey::~MasterKey() { Wipe(key); }

Result<void> CheckPrivateFile(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return Fail(ErrorCode::kIo, file.string(), "cannot read");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(ErrorCode::kFailedPrecondition, file.string(),
                std::string("a key file must be readable by its owner only (mode ") + mode +
                    "); run: chmod 600 " + file.string());
  }
  return {};
}

Result<Bytes> ReadMasterKeyFile(const std::filesystem::path& file) {
  QORGAU_TRY(CheckPrivateFile(file));
  std::ifstream in(file);
  std::string hex;
  in >> hex;
  auto key = FromHex(hex, file.string());
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!key || key->size() != kKeySize) {
    return Fail(ErrorCode::kInvalidArgument, file.string(), "must hold 64 hex digits");
  }
  return key;
}

Result<void> SyncDirectory(const std::filesystem::path& dir) {
  const std::filesystem::path d = dir.empty() ? "." : dir;
  const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kIo, d.string(), "cannot open the directory to sync it");
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kIo, d.string(), "cannot sync the directory");
  return {};
}

Result<void> WriteMasterKeyFile(const std::filesystem::path& file, const Bytes& key) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kIo, file.string(),
                errno == EEXIST ? "already exists; a key file is never overwritten"
                                : "cannot create the master key file");
  }
  std::string hex = ToHex(key) + "\n";
  const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!ok) {
    ::unlink(file.c_str());
    return Fail(ErrorCode::kIo, file.string(), "cannot write the master key file");
  }
  return SyncDirectory(file.parent_path());
}

namespace {

std::filesystem::path DefaultKeyFile(const std::filesystem::path& data_dir) {
  std::filesystem::path dir = data_dir;
  if (!dir.has_filename()) dir = dir.parent_path();  // "var/demo/"
  return dir.string() + ".master.key";
}

}  // namespace

Result<MasterKey> LoadMasterKey(const std::filesystem::path& data_dir, bool create) {
  MasterKey out;
  if (char* env = std::getenv("QORGAU_MASTER_KEY"); env != nullptr && *env != '\0') {
    auto key = FromHex(env, "QORGAU_MASTER_KEY");
    // Read once: wiped and removed, so no child process or /proc/self/environ
    // reader sees it later.
    OPENSSL_cleanse(env, std::strlen(env));
    ::unsetenv("QORGAU_MASTER_KEY");
    if (!key || key->size() != kKeySize) {
      return Fail(ErrorCode::kInvalidArgument, "QORGAU_MASTER_KEY", "must be 64 hex digits");
    }
    out.key = std::move(*key);
    out.source = "QORGAU_MASTER_KEY";
    return out;
  }
  std::filesystem::path file;
  bool from_credentials = false;
  if (const char* named = std::getenv("QORGAU_MASTER_KEY_FILE"); named != nullptr && *named != '\0') {
    file = named;
  } else if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds != nullptr && *creds != '\0' &&
             std::filesystem::exists(std::filesystem::path(creds) / "qorgau-master-key")) {
    file = std::filesystem::path(creds) / "qorgau-master-key";
    from_credentials = true;
  } else {
    file = DefaultKeyFile(data_dir);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec) && std::filesystem::exists(data_dir / "master.key", ec)) {
      file = data_dir / "master.key";
      out.inside_data_dir = true;
    }
  }
  out.source = file.string();
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    QORGAU_ASSIGN_OR_RETURN(out.key, ReadMasterKeyFile(file));
    out.replaceable = !from_credentials;
    return out;
  }
  if (!create) {
    return Fail(ErrorCode::kNotFound, file.string(),
                "no master key (run 'qorgau init', or set QORGAU_MASTER_KEY_FILE or QORGAU_MASTER_KEY)");
  }
  auto key = RandomBytes(kKeySize);
  if (!key) return tl::unexpected(key.error());
  QORGAU_TRY(WriteMasterKeyFile(file, *key));
  out.key = std::move(*key);
  out.replaceable = !from_credentials;
  return out;
}

}  // namespace qorgau::crypto
