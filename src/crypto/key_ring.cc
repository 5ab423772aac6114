#include "crypto/key_ring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace qorgau::crypto {
namespace {

std::string SubjectAad(std::string_view what, std::int64_t subject_id) {
  return "qorgau:" + std::string(what) + ":v1:" + std::to_string(subject_id);
}

}  // namespace

Result<KeyRing> KeyRing::FromMasterKey(const Bytes& master) {
  if (master.size() != kKeySize) {
    return Fail(ErrorCode::kCrypto, "master_key", "must be 32 bytes (64 hex digits)");
  }
  auto kek = Hkdf(master, "qorgau kek v1", kKeySize);
  auto bidx = Hkdf(master, "qorgau blind-index v1", kKeySize);
  auto check = Hkdf(master, "qorgau key-check v1", 16);
  if (!kek) return tl::unexpected(kek.error());
  if (!bidx) return tl::unexpected(bidx.error());
  if (!check) return tl::unexpected(check.error());
  return KeyRing(std::move(*kek), std::move(*bidx), std::move(*check));
}

Result<std::pair<Bytes, Bytes>> KeyRing::NewDataKey(std::int64_t subject_id) const {
  auto key = RandomBytes(kKeySize);
  if (!key) return tl::unexpected(key.error());
  auto wrapped = Seal(kek_, std::string_view(reinterpret_cast<const char*>(key->data()), key->size()),
                      SubjectAad("dk", subject_id));
  if (!wrapped) return tl::unexpected(wrapped.error());
  return std::make_pair(std::move(*key), std::move(*wrapped));
}

Result<Bytes> KeyRing::UnwrapDataKey(std::int64_t subject_id, const Bytes& wrapped) const {
  auto key = Open(kek_, wrapped, SubjectAad("dk", subject_id));
  if (!key) return tl::unexpected(key.error());
  return ToBytes(*key);
}

Result<Bytes> KeyRing::BlindIndex(std::string_view kind, std::string_view normalized) const {
  std::string msg(kind);
  msg += '\0';
  msg += normalized;
  auto mac = HmacSha256(bidx_, msg);
  if (!mac) return tl::unexpected(mac.error());
  return Bytes(mac->begin(), mac->end());
}

Result<Bytes> LoadMasterKey(const std::filesystem::path& data_dir, bool create) {
  if (const char* env = std::getenv("QORGAU_MASTER_KEY"); env != nullptr && *env != '\0') {
    auto key = FromHex(env, "QORGAU_MASTER_KEY");
    if (!key || key->size() != kKeySize) {
      return Fail(ErrorCode::kInvalidArgument, "QORGAU_MASTER_KEY", "must be 64 hex digits");
    }
    return key;
  }
  const std::filesystem::path file = data_dir / "master.key";
  std::ifstream in(file);
  if (in) {
    std::string hex;
    in >> hex;
    auto key = FromHex(hex, file.string());
    if (!key || key->size() != kKeySize) {
      return Fail(ErrorCode::kInvalidArgument, file.string(), "must hold 64 hex digits");
    }
    return key;
  }
  if (!create) {
    return Fail(ErrorCode::kNotFound, file.string(),
                "no master key (run 'qorgau init' or set QORGAU_MASTER_KEY)");
  }
  auto key = RandomBytes(kKeySize);
  if (!key) return key;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Fail(ErrorCode::kIo, file.string(), "cannot create the master key file");
  const std::string hex = ToHex(*key) + "\n";
  const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kIo, file.string(), "cannot write the master key file");
  return key;
}

}  // namespace qorgau::crypto
