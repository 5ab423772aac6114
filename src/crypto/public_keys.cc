#include "crypto/public_keys.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace qorgau::crypto {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, file.string(), "cannot read the public key");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file's key, its error naming the file rather than "public_key".
Result<Verifier> ReadKey(const fs::path& file) {
  QORGAU_ASSIGN_OR_RETURN(const std::string pem, ReadText(file));
  auto key = Verifier::FromPem(pem);
  if (!key) return Fail(ErrorCode::kInvalidArgument, file.string(), key.error().message);
  return key;
}

}  // namespace

Result<PublicKeys> PublicKeys::FromDirectory(const fs::path& dir) {
  PublicKeys keys;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, dir.string(), "cannot read the directory of public keys");
  for (const auto& entry : it) {
    if (entry.path().extension() != ".pub" || !entry.is_regular_file(ec)) continue;
    QORGAU_ASSIGN_OR_RETURN(Verifier key, ReadKey(entry.path()));
    // The name is the id, so that a reader finds a key by the id a head
    // names; a file renamed to another id is an error, not a silent alias.
    if (entry.path().stem().string() != key.KeyId()) {
      return Fail(ErrorCode::kInvalidArgument, entry.path().string(),
                  "holds the key " + key.KeyId() + ", not the one its name says");
    }
    keys.Add(std::move(key));
  }
  return keys;
}

Result<PublicKeys> PublicKeys::FromPath(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return FromDirectory(path);
  PublicKeys keys;
  QORGAU_ASSIGN_OR_RETURN(Verifier key, ReadKey(path));
  keys.Add(std::move(key));
  return keys;
}

void PublicKeys::Add(Verifier key) {
  std::string id = key.KeyId();
  keys_.emplace(std::move(id), std::move(key));
}

Result<void> PublicKeys::AddPem(std::string_view pem) {
  QORGAU_ASSIGN_OR_RETURN(Verifier key, Verifier::FromPem(pem));
  Add(std::move(key));
  return {};
}

const Verifier* PublicKeys::Find(std::string_view key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> PublicKeys::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, key] : keys_) ids.push_back(id);
  return ids;
}

}  // namespace qorgau::crypto
