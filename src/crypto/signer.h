// Ed25519 signatures (RFC 8032) on OpenSSL 3 EVP, and standard base64.
//
// A Signer holds a private key and signs; a Verifier holds a public key and
// checks signatures. Keys travel as unencrypted PEM: PKCS#8 "PRIVATE KEY"
// for a Signer, SubjectPublicKeyInfo "PUBLIC KEY" for a Verifier. KeyId()
// names a key pair without revealing it: the first 16 hex digits of SHA-256
// of the raw 32-byte public key, so a Signer and the Verifier made from its
// public key report the same id.
//
// Errors: kInvalidArgument for malformed PEM or base64 (field "private_key",
// "public_key", or the caller's field), kCrypto when OpenSSL fails. Messages
// never contain key material or the rejected input.
// Thread safety: both classes are immutable after construction; their const
// methods may run concurrently on one object.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/crypto.h"

namespace qorgau::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

namespace internal {
struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
}  // namespace internal

class Signer {
 public:
  // A fresh key pair from the OpenSSL CSPRNG.
  static Result<Signer> Generate();
  // An Ed25519 private key in unencrypted PKCS#8 PEM. Encrypted PEM, other
  // key types and anything else fail with kInvalidArgument; no passphrase is
  // ever asked for.
  static Result<Signer> FromPem(std::string_view pem);

  Signer(Signer&&) noexcept = default;
  Signer& operator=(Signer&&) noexcept = default;
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;
  ~Signer() = default;

  // "-----BEGIN PRIVATE KEY-----" (PKCS#8, unencrypted). Secret: the caller
  // stores it with file mode 0600 or better.
  Result<std::string> PrivatePem() const;
  // "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo).
  Result<std::string> PublicPem() const;

  // The 64-byte Ed25519 signature of `message` (deterministic: the same key
  // and message always give the same signature).
  Result<Bytes> Sign(std::string_view message) const;

  // 16 lower-case hex digits; see the file comment. On a moved-from Signer
  // the id is unspecified and the methods above fail with kInternal.
  std::string KeyId() const { return key_id_; }

 private:
  Signer(internal::PkeyPtr key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  internal::PkeyPtr key_;
  std::string key_id_;
};

class Verifier {
 public:
  // An Ed25519 public key in SubjectPublicKeyInfo PEM. A private-key PEM is
  // refused (kInvalidArgument): verifiers never hold secrets.
  static Result<Verifier> FromPem(std::string_view pem);

  Verifier(Verifier&&) noexcept = default;
  Verifier& operator=(Verifier&&) noexcept = default;
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  ~Verifier() = default;

  // True only when `signature` is a valid Ed25519 signature of exactly
  // `message` under this key. Any failure, including a signature of the wrong
  // length or a moved-from Verifier, is false.
  bool Verify(std::string_view message, const Bytes& signature) const;

  // Same definition as Signer::KeyId().
  std::string KeyId() const { return key_id_; }

 private:
  Verifier(internal::PkeyPtr key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  internal::PkeyPtr key_;
  std::string key_id_;
};

// Standard base64 (RFC 4648 section 4: "A-Za-z0-9+/", '=' padding), no line
// breaks.
std::string Base64Encode(const Bytes& data);
// Strict inverse of Base64Encode: the length must be a multiple of 4, only
// the standard alphabet, '=' only as the last one or two characters, unused
// bits of the last group zero (so every byte string has one encoding), no
// whitespace. The empty string decodes to no bytes. Otherwise
// kInvalidArgument naming `field`.
Result<Bytes> Base64Decode(std::string_view text, std::string_view field);

}  // namespace qorgau::crypto
