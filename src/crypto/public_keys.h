// A set of Ed25519 public keys by key id: the ledger key in force and the
// ones it replaced (`key rotate-signing`), so that a tree head or a receipt
// signed before a rotation still verifies.
//
// A data directory archives every signing key's public half as
// `<dir>/receipt-keys/<key_id>.pub`; an auditor may be given that directory,
// a copy of it, or a single public key file.
//
// Errors: kIo for a file or directory that cannot be read, kInvalidArgument
// for a file that is not an Ed25519 public key (naming the file), or whose
// name (`<key_id>.pub`) is not its key's id. Never key material.
// Thread safety: immutable once loaded; const methods may run concurrently.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/signer.h"

namespace qorgau::crypto {

class PublicKeys {
 public:
  PublicKeys() = default;
  // Every `*.pub` file of `dir`; other files are ignored.
  static Result<PublicKeys> FromDirectory(const std::filesystem::path& dir);
  // `path` as a directory (FromDirectory) or one PEM file.
  static Result<PublicKeys> FromPath(const std::filesystem::path& path);

  // Adds `key`; a key already present is kept once.
  void Add(Verifier key);
  Result<void> AddPem(std::string_view pem);

  // The key with this id, or nullptr.
  const Verifier* Find(std::string_view key_id) const;
  std::vector<std::string> Ids() const;
  bool empty() const { return keys_.empty(); }

  PublicKeys(PublicKeys&&) noexcept = default;
  PublicKeys& operator=(PublicKeys&&) noexcept = default;
  PublicKeys(const PublicKeys&) = delete;
  PublicKeys& operator=(const PublicKeys&) = delete;

 private:
  std::map<std::string, Verifier, std::less<>> keys_;
};

}  // namespace qorgau::crypto
