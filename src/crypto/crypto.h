// Cryptographic primitives on OpenSSL 3 EVP: SHA-256, HMAC-SHA-256, HKDF,
// AES-256-GCM and a CSPRNG. Thin, stateless and thread-safe; every failure
// of OpenSSL is an Error (code kCrypto), never an exception.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

// OpenSSL's EVP_CIPHER_CTX, without its headers.
struct evp_cipher_ctx_st;

namespace qorgau::crypto {

using Bytes = std::vector<std::uint8_t>;
using Digest = std::array<std::uint8_t, 32>;

inline constexpr size_t kKeySize = 32;    // AES-256, HMAC keys
inline constexpr size_t kNonceSize = 12;  // GCM nonce
inline constexpr size_t kTagSize = 16;    // GCM tag

Bytes ToBytes(std::string_view s);
std::string ToHex(const std::uint8_t* data, size_t n);
inline std::string ToHex(const Bytes& b) { return ToHex(b.data(), b.size()); }
inline std::string ToHex(const Digest& d) { return ToHex(d.data(), d.size()); }
Result<Bytes> FromHex(std::string_view hex, std::string_view field);

Digest Sha256(std::string_view data);
Digest Sha256(const Bytes& data);
// SHA-256 of the parts concatenated, without copying them together.
Digest Sha256(std::initializer_list<std::string_view> parts);
Result<Digest> HmacSha256(const Bytes& key, std::string_view data);
// HKDF-SHA-256 (RFC 5869) of `length` bytes, empty salt.
Result<Bytes> Hkdf(const Bytes& key, std::string_view info, size_t length);
Result<Bytes> RandomBytes(size_t n);

// AES-256-GCM. Sealed layout: version byte 0x01 | nonce (12) | ciphertext |
// tag (16); `aad` binds the ciphertext to its context (subject, category) so
// a value copied to another row fails to open.
Result<Bytes> Seal(const Bytes& key, std::string_view plaintext, std::string_view aad);
Result<std::string> Open(const Bytes& key, const Bytes& sealed, std::string_view aad);

// Opens many values sealed under one key, the key schedule done once (a
// bulk read: an aggregate over every subject). Not thread-safe.
class Opener {
 public:
  static Result<Opener> ForKey(const Bytes& key);
  Result<std::string> Open(std::span<const std::uint8_t> sealed, std::string_view aad);

  Opener(Opener&& o) noexcept;
  Opener& operator=(Opener&&) = delete;
  Opener(const Opener&) = delete;
  Opener& operator=(const Opener&) = delete;
  ~Opener();

 private:
  explicit Opener(evp_cipher_ctx_st* ctx) : ctx_(ctx) {}
  evp_cipher_ctx_st* ctx_;
};

// Constant-time comparison.
bool Equal(const std::uint8_t* a, const std::uint8_t* b, size_t n);

}  // namespace qorgau::crypto
