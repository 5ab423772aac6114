#include "crypto/signer.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>

namespace qorgau::crypto {

void internal::PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

using internal::PkeyPtr;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

tl::unexpected<Error> CryptoError(std::string what) {
  return Fail(ErrorCode::kCrypto, "", std::move(what));
}

tl::unexpected<Error> MovedFrom() {
  return Fail(ErrorCode::kInternal, "", "use of a moved-from key");
}

// Refuses every passphrase request, so an encrypted PEM fails to load instead
// of OpenSSL's default callback prompting on the terminal.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

// A read-only memory BIO over `pem`; null when it is too large for OpenSSL.
BioPtr ReadBio(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The key id of an Ed25519 key: hex of SHA-256(raw public key), first 16.
Result<std::string> KeyIdOf(EVP_PKEY* key) {
  Bytes raw(kEd25519PublicKeySize);
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 || len != raw.size()) {
    return CryptoError("cannot read the Ed25519 public key");
  }
  return ToHex(Sha256(raw)).substr(0, 16);
}

// The contents written to a fresh memory BIO by `write`.
template <typename WriteFn>
Result<std::string> WritePem(WriteFn write, const char* what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return CryptoError(std::string("cannot write the ") + what);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return CryptoError(std::string("cannot write the ") + what);
  return std::string(data, static_cast<size_t>(len));
}

// The 6-bit value of a standard-alphabet character, or -1.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// EVP_EncodeBlock / EVP_DecodeBlock take int lengths; larger inputs go in
// chunks that end on a whole group (3 bytes in, 4 characters out).
constexpr size_t kEncodeChunk = 3 * (size_t{1} << 20);
constexpr size_t kDecodeChunk = 4 * (size_t{1} << 20);

}  // namespace

// ---------------------------------------------------------------------------
// Signer

Result<Signer> Signer::Generate() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return CryptoError("Ed25519 key generation failed");
  }
  PkeyPtr key(raw);
  auto id = KeyIdOf(key.get());
  if (!id) return tl::unexpected(id.error());
  return Signer(std::move(key), std::move(*id));
}

Result<Signer> Signer::FromPem(std::string_view pem) {
  BioPtr bio = ReadBio(pem);
  if (!bio) return Fail(ErrorCode::kInvalidArgument, "private_key", "PEM text is too large");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "private_key", "not an unencrypted PEM private key");
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return Fail(ErrorCode::kInvalidArgument, "private_key", "not an Ed25519 key");
  }
  auto id = KeyIdOf(key.get());
  if (!id) return tl::unexpected(id.error());
  return Signer(std::move(key), std::move(*id));
}

Result<std::string> Signer::PrivatePem() const {
  if (!key_) return MovedFrom();
  return WritePem(
      [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
      },
      "private key PEM");
}

Result<std::string> Signer::PublicPem() const {
  if (!key_) return MovedFrom();
  return WritePem([&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key_.get()); },
                  "public key PEM");
}

Result<Bytes> Signer::Sign(std::string_view message) const {
  if (!key_) return MovedFrom();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Bytes sig(kEd25519SignatureSize);
  size_t len = sig.size();
  // Ed25519 hashes internally: the digest argument must be null.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != sig.size()) {
    return CryptoError("Ed25519 signing failed");
  }
  return sig;
}

// ---------------------------------------------------------------------------
// Verifier

Result<Verifier> Verifier::FromPem(std::string_view pem) {
  BioPtr bio = ReadBio(pem);
  if (!bio) return Fail(ErrorCode::kInvalidArgument, "public_key", "PEM text is too large");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "public_key", "not a PEM public key");
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return Fail(ErrorCode::kInvalidArgument, "public_key", "not an Ed25519 key");
  }
  auto id = KeyIdOf(key.get());
  if (!id) return tl::unexpected(id.error());
  return Verifier(std::move(key), std::move(*id));
}

bool Verifier::Verify(std::string_view message, const Bytes& signature) const {
  if (!key_ || signature.size() != kEd25519SignatureSize) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  // A bad signature is an expected outcome, not an error to leave queued.
  if (!ok) ERR_clear_error();
  return ok;
}

// ---------------------------------------------------------------------------
// Base64

std::string Base64Encode(const Bytes& data) {
  const size_t groups = (data.size() + 2) / 3;
  std::string out(groups * 4 + 1, '\0');  // + 1: EVP_EncodeBlock writes a NUL
  size_t written = 0;
  for (size_t pos = 0; pos < data.size(); pos += kEncodeChunk) {
    const size_t n = std::min(kEncodeChunk, data.size() - pos);
    auto* dst = reinterpret_cast<unsigned char*>(out.data()) + written;
    written += static_cast<size_t>(EVP_EncodeBlock(dst, data.data() + pos, static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

Result<Bytes> Base64Decode(std::string_view text, std::string_view field) {
  auto invalid = [&](const char* why) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field),
                std::string("not valid base64: ") + why);
  };
  if (text.size() % 4 != 0) return invalid("length is not a multiple of 4");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  const size_t body = text.size() - pad;
  for (size_t i = 0; i < body; ++i) {
    if (Base64Value(text[i]) < 0) {
      return invalid(text[i] == '=' ? "'=' padding before the end"
                                    : "character outside the standard alphabet");
    }
  }
  // Padding leaves bits of the last character unused; they must be zero, or
  // several texts would decode to the same bytes.
  const int last = body > 0 ? Base64Value(text[body - 1]) : 0;
  if ((pad == 2 && (last & 0x0f) != 0) || (pad == 1 && (last & 0x03) != 0)) {
    return invalid("non-zero padding bits");
  }

  Bytes out(text.size() / 4 * 3);
  size_t written = 0;
  for (size_t pos = 0; pos < text.size(); pos += kDecodeChunk) {
    const size_t n = std::min(kDecodeChunk, text.size() - pos);
    const int got = EVP_DecodeBlock(out.data() + written,
                                    reinterpret_cast<const unsigned char*>(text.data()) + pos,
                                    static_cast<int>(n));
    if (got < 0 || static_cast<size_t>(got) != n / 4 * 3) {
      ERR_clear_error();
      return CryptoError("base64 decoding failed");
    }
    written += static_cast<size_t>(got);
  }
  // EVP_DecodeBlock decodes '=' as zero bits and counts the padded group as
  // three bytes; drop one byte per '='.
  out.resize(written - pad);
  return out;
}

}  // namespace qorgau::crypto
