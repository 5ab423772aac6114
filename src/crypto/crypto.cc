#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace qorgau::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct MdFree {
  void operator()(EVP_MD* m) const { EVP_MD_free(m); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

tl::unexpected<Error> CryptoError(std::string what) {
  return Fail(ErrorCode::kCrypto, "", std::move(what));
}

constexpr std::uint8_t kSealVersion = 0x01;

}  // namespace

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string ToHex(const std::uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

Result<Bytes> FromHex(std::string_view hex, std::string_view field) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field), "hex string of odd length");
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument, std::string(field), "not a hex string");
    }
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

Digest Sha256(std::initializer_list<std::string_view> parts) {
  // Fetched once: an implicit fetch (EVP_sha256()) is a locked table
  // lookup on every call in OpenSSL 3. The fetched EVP_MD is immutable and
  // safe to share; each thread keeps its own context.
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Digest d{};
  unsigned int len = 0;
  // These cannot fail for SHA-256 short of memory exhaustion; an all-zero
  // digest would then fail every later comparison.
  if (md && ctx && EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr) == 1) {
    for (const std::string_view part : parts) EVP_DigestUpdate(ctx.get(), part.data(), part.size());
    EVP_DigestFinal_ex(ctx.get(), d.data(), &len);
  }
  return d;
}

Digest Sha256(std::string_view data) { return Sha256({data}); }

Digest Sha256(const Bytes& data) {
  return Sha256(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

Result<Digest> HmacSha256(const Bytes& key, std::string_view data) {
  // Fetching the algorithm is a locked table lookup in OpenSSL 3: do it
  // once. The fetched EVP_MAC is immutable and safe to share.
  static const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return CryptoError("HMAC unavailable");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  Digest out{};
  size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return CryptoError("HMAC-SHA-256 failed");
  }
  return out;
}

Result<Bytes> Hkdf(const Bytes& key, std::string_view info, size_t length) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return CryptoError("HKDF unavailable");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  char digest_name[] = "SHA256";
  std::string info_copy(info);
  Bytes key_copy = key;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key_copy.data(), key_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return CryptoError("HKDF failed");
  }
  OPENSSL_cleanse(key_copy.data(), key_copy.size());
  return out;
}

Result<Bytes> RandomBytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return CryptoError("no randomness");
  return out;
}

Result<Bytes> Seal(const Bytes& key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != kKeySize) return CryptoError("AES-256-GCM needs a 32-byte key");
  auto nonce = RandomBytes(kNonceSize);
  if (!nonce) return tl::unexpected(nonce.error());
  Bytes out;
  out.reserve(1 + kNonceSize + plaintext.size() + kTagSize);
  out.push_back(kSealVersion);
  out.insert(out.end(), nonce->begin(), nonce->end());
  out.resize(1 + kNonceSize + plaintext.size());
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce->data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + 1 + kNonceSize, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + 1 + kNonceSize + len, &len) != 1) {
    return CryptoError("AES-256-GCM encryption failed");
  }
  out.resize(out.size() + kTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          out.data() + out.size() - kTagSize) != 1) {
    return CryptoError("AES-256-GCM tag failed");
  }
  return out;
}

namespace {

// Opens `sealed` with `ctx`; `key` null when the context holds it already.
Result<std::string> OpenWith(EVP_CIPHER_CTX* ctx, const std::uint8_t* key, std::span<const std::uint8_t> sealed,
                             std::string_view aad) {
  if (sealed.size() < 1 + kNonceSize + kTagSize || sealed[0] != kSealVersion) {
    return Fail(ErrorCode::kCorruption, "", "sealed value has an unknown layout");
  }
  const size_t ct_len = sealed.size() - 1 - kNonceSize - kTagSize;
  std::string out(ct_len, '\0');
  std::uint8_t tag[kTagSize];
  std::copy(sealed.end() - kTagSize, sealed.end(), tag);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, key ? EVP_aes_256_gcm() : nullptr, nullptr, key, sealed.data() + 1) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, sealed.data() + 1 + kNonceSize,
                        static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1) {
    return CryptoError("AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    return CryptoError("sealed value failed authentication (wrong key or altered data)");
  }
  return out;
}

}  // namespace

Result<std::string> Open(const Bytes& key, const Bytes& sealed, std::string_view aad) {
  if (key.size() != kKeySize) return CryptoError("AES-256-GCM needs a 32-byte key");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return CryptoError("AES-256-GCM decryption failed");
  return OpenWith(ctx.get(), key.data(), sealed, aad);
}

Result<Opener> Opener::ForKey(const Bytes& key) {
  if (key.size() != kKeySize) return CryptoError("AES-256-GCM needs a 32-byte key");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return CryptoError("AES-256-GCM context failed");
  Opener o(ctx);
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr) != 1) {
    return CryptoError("AES-256-GCM key schedule failed");
  }
  return o;
}

Result<std::string> Opener::Open(std::span<const std::uint8_t> sealed, std::string_view aad) {
  return OpenWith(ctx_, nullptr, sealed, aad);
}

Opener::Opener(Opener&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

Opener::~Opener() { EVP_CIPHER_CTX_free(ctx_); }

bool Equal(const std::uint8_t* a, const std::uint8_t* b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}

}  // namespace qorgau::crypto
