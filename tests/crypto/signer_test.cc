#include "crypto/signer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace qorgau::crypto {
namespace {

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
constexpr char kRfcSeed1[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfcPublic1[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfcSignature1[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
    "1cf9b46bd25bf5f0595bbe24655141438e7a100b";
constexpr char kRfcSeed2[] = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr char kRfcSignature2[] =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
    "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

// DER prefixes of PKCS#8 private keys and SubjectPublicKeyInfo for Ed25519
// (OID 1.3.101.112) and X25519 (OID 1.3.101.110); the 32 key bytes follow.
constexpr char kEd25519PrivatePrefix[] = "302e020100300506032b657004220420";
constexpr char kEd25519PublicPrefix[] = "302a300506032b6570032100";
constexpr char kX25519PrivatePrefix[] = "302e020100300506032b656e04220420";
constexpr char kX25519PublicPrefix[] = "302a300506032b656e032100";

// An Ed25519 key encrypted with the passphrase "secret" (openssl genpkey
// -aes-256-cbc); loading it must fail, not prompt.
constexpr char kEncryptedPem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgtHR8yVN8iqQICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEM7HGyQ28RkwVY0NUrks6CIEQLXw\n"
    "+QxU/oERcULsmfS8JIHo1zepQaAFITzh++BzgH8uRyX8gsRMEMaKBrDtyFmY0iLj\n"
    "XleM8wgELOk0J5o9LTU=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

std::string Pem(const char* label, const char* der_prefix_hex, const char* key_hex) {
  const std::string body =
      Base64Encode(FromHex(std::string(der_prefix_hex) + key_hex, "der").value());
  return std::string("-----BEGIN ") + label + "-----\n" + body + "\n-----END " + label + "-----\n";
}

std::string Hex(const Result<Bytes>& b) { return b ? ToHex(*b) : "<error>"; }

TEST(Signer, SignatureVerifiesWithThePublicKey) {
  auto signer = Signer::Generate();
  ASSERT_TRUE(signer) << signer.error().ToString();
  auto verifier = Verifier::FromPem(signer->PublicPem().value());
  ASSERT_TRUE(verifier) << verifier.error().ToString();
  for (std::string_view message :
       {std::string_view(), std::string_view("ledger head 42"), std::string_view("\0bin\xff", 5)}) {
    auto sig = signer->Sign(message);
    ASSERT_TRUE(sig) << sig.error().ToString();
    EXPECT_EQ(sig->size(), kEd25519SignatureSize);
    EXPECT_TRUE(verifier->Verify(message, *sig));
  }
}

TEST(Signer, ChangedByteFailsVerification) {
  auto signer = Signer::Generate().value();
  auto verifier = Verifier::FromPem(signer.PublicPem().value()).value();
  const std::string message = "export of subject 17, 3 records";
  const Bytes sig = signer.Sign(message).value();
  ASSERT_TRUE(verifier.Verify(message, sig));
  for (size_t i = 0; i < message.size(); ++i) {
    std::string changed = message;
    changed[i] ^= 0x01;
    EXPECT_FALSE(verifier.Verify(changed, sig)) << "message byte " << i;
  }
  for (size_t i = 0; i < sig.size(); ++i) {
    Bytes changed = sig;
    changed[i] ^= 0x80;
    EXPECT_FALSE(verifier.Verify(message, changed)) << "signature byte " << i;
  }
  EXPECT_FALSE(verifier.Verify(message + " ", sig));
  EXPECT_FALSE(verifier.Verify(message.substr(1), sig));
}

TEST(Signer, SignatureOfAnotherKeyFailsVerification) {
  auto a = Signer::Generate().value();
  auto b = Signer::Generate().value();
  auto verifier_b = Verifier::FromPem(b.PublicPem().value()).value();
  EXPECT_FALSE(verifier_b.Verify("m", a.Sign("m").value()));
  EXPECT_TRUE(verifier_b.Verify("m", b.Sign("m").value()));
}

TEST(Signer, SignatureOfWrongLengthFailsVerification) {
  auto signer = Signer::Generate().value();
  auto verifier = Verifier::FromPem(signer.PublicPem().value()).value();
  Bytes sig = signer.Sign("m").value();
  EXPECT_FALSE(verifier.Verify("m", Bytes{}));
  Bytes longer = sig;
  longer.push_back(0);
  EXPECT_FALSE(verifier.Verify("m", longer));
  sig.pop_back();
  EXPECT_FALSE(verifier.Verify("m", sig));
}

TEST(Signer, MatchesRfc8032TestVectors) {
  auto one = Signer::FromPem(Pem("PRIVATE KEY", kEd25519PrivatePrefix, kRfcSeed1));
  ASSERT_TRUE(one) << one.error().ToString();
  EXPECT_EQ(Hex(one->Sign("")), kRfcSignature1);
  EXPECT_EQ(one->PublicPem().value(), Pem("PUBLIC KEY", kEd25519PublicPrefix, kRfcPublic1));

  auto two = Signer::FromPem(Pem("PRIVATE KEY", kEd25519PrivatePrefix, kRfcSeed2));
  ASSERT_TRUE(two) << two.error().ToString();
  EXPECT_EQ(Hex(two->Sign("\x72")), kRfcSignature2);
}

TEST(Signer, VerifierAcceptsTheRfc8032Signature) {
  auto verifier = Verifier::FromPem(Pem("PUBLIC KEY", kEd25519PublicPrefix, kRfcPublic1));
  ASSERT_TRUE(verifier) << verifier.error().ToString();
  EXPECT_TRUE(verifier->Verify("", FromHex(kRfcSignature1, "sig").value()));
  EXPECT_FALSE(verifier->Verify("x", FromHex(kRfcSignature1, "sig").value()));
}

TEST(Signer, PemRoundTrip) {
  auto signer = Signer::Generate().value();
  const std::string private_pem = signer.PrivatePem().value();
  const std::string public_pem = signer.PublicPem().value();
  EXPECT_EQ(private_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << "PKCS#8 expected";
  EXPECT_EQ(public_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);

  auto loaded = Signer::FromPem(private_pem);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->PrivatePem().value(), private_pem);
  EXPECT_EQ(loaded->PublicPem().value(), public_pem);
  EXPECT_EQ(loaded->KeyId(), signer.KeyId());
  // Ed25519 is deterministic: the reloaded key signs identically.
  EXPECT_EQ(loaded->Sign("m").value(), signer.Sign("m").value());
}

TEST(Signer, KeyIdsMatch) {
  auto signer = Signer::Generate().value();
  auto verifier = Verifier::FromPem(signer.PublicPem().value()).value();
  EXPECT_EQ(signer.KeyId(), verifier.KeyId());
  EXPECT_EQ(signer.KeyId().size(), 16u);
  EXPECT_EQ(signer.KeyId().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(Signer::Generate().value().KeyId(), signer.KeyId());
}

TEST(Signer, KeyIdIsSha256OfTheRawPublicKey) {
  // First 16 hex digits of SHA-256 of the 32 raw public-key bytes of RFC 8032
  // TEST 1, computed independently (Python hashlib).
  auto signer = Signer::FromPem(Pem("PRIVATE KEY", kEd25519PrivatePrefix, kRfcSeed1)).value();
  auto verifier = Verifier::FromPem(Pem("PUBLIC KEY", kEd25519PublicPrefix, kRfcPublic1)).value();
  EXPECT_EQ(signer.KeyId(), "21fe31dfa154a261");
  EXPECT_EQ(verifier.KeyId(), "21fe31dfa154a261");
}

TEST(Signer, MalformedPemIsInvalidArgument) {
  const std::string public_pem = Signer::Generate().value().PublicPem().value();
  const std::string private_pem = Signer::Generate().value().PrivatePem().value();
  for (const std::string& pem : {std::string(), std::string("not a key"), public_pem,
                                 private_pem.substr(0, private_pem.size() / 2)}) {
    auto s = Signer::FromPem(pem);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().field, "private_key");
  }
  // A verifier never accepts a private key.
  for (const std::string& pem : {std::string(), std::string("junk"), private_pem}) {
    auto v = Verifier::FromPem(pem);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(v.error().field, "public_key");
  }
}

TEST(Signer, EncryptedPemIsRefusedWithoutAPrompt) {
  auto s = Signer::FromPem(kEncryptedPem);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST(Signer, OtherKeyTypesAreRefused) {
  const char* x25519_key = "98897fff187bb1e1565dfd899c4b33721e422081e4cc96cc60b27a20b0be717c";
  auto s = Signer::FromPem(Pem("PRIVATE KEY", kX25519PrivatePrefix, x25519_key));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("Ed25519"), std::string::npos) << s.error().message;
  auto v = Verifier::FromPem(Pem("PUBLIC KEY", kX25519PublicPrefix, x25519_key));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("Ed25519"), std::string::npos) << v.error().message;
}

TEST(Signer, ErrorsDoNotContainKeyMaterial) {
  const std::string pem = Signer::Generate().value().PrivatePem().value();
  const std::string body = pem.substr(28, 20);  // part of the base64 key
  auto as_public = Verifier::FromPem(pem);
  ASSERT_FALSE(as_public);
  EXPECT_EQ(as_public.error().ToString().find(body), std::string::npos);
  std::string damaged = pem;
  damaged[40] = '!';
  auto s = Signer::FromPem(damaged);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().ToString().find(body.substr(0, 10)), std::string::npos);
}

TEST(Signer, MovedFromObjectsFailSafely) {
  auto signer = Signer::Generate().value();
  auto verifier = Verifier::FromPem(signer.PublicPem().value()).value();
  const Bytes sig = signer.Sign("m").value();
  Signer moved_signer = std::move(signer);
  Verifier moved_verifier = std::move(verifier);
  EXPECT_TRUE(moved_verifier.Verify("m", moved_signer.Sign("m").value()));
  auto from_moved = signer.Sign("m");  // NOLINT(bugprone-use-after-move): tested on purpose
  ASSERT_FALSE(from_moved);
  EXPECT_EQ(from_moved.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(signer.PrivatePem());        // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(verifier.Verify("m", sig));  // NOLINT(bugprone-use-after-move)
}

TEST(Base64, MatchesRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(ToBytes(plain)), encoded) << plain;
    auto decoded = Base64Decode(encoded, "value");
    ASSERT_TRUE(decoded) << encoded << ": " << decoded.error().ToString();
    EXPECT_EQ(*decoded, ToBytes(plain)) << encoded;  // exact length: padding removed
  }
}

TEST(Base64, UsesTheStandardAlphabet) {
  EXPECT_EQ(Base64Encode(Bytes{0xfb, 0xff, 0xbf}), "+/+/");
  EXPECT_EQ(Base64Decode("+/+/", "v").value(), (Bytes{0xfb, 0xff, 0xbf}));
}

TEST(Base64, EveryByteValueAndLengthRoundTrips) {
  for (size_t len = 0; len <= 70; ++len) {
    Bytes data(len);
    for (size_t i = 0; i < len; ++i) data[i] = static_cast<std::uint8_t>(255 - i * 37);
    const std::string text = Base64Encode(data);
    EXPECT_EQ(text.size(), (len + 2) / 3 * 4);
    EXPECT_EQ(Base64Decode(text, "v").value(), data) << "length " << len;
  }
  Bytes all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(Base64Decode(Base64Encode(all), "v").value(), all);
}

TEST(Base64, MalformedInputIsRejectedNamingTheField) {
  // Wrong length; '=' misplaced; outside the alphabet (URL-safe, space,
  // newline, non-ASCII); non-zero unused bits ("Zh==" and "Zm9=").
  for (const char* bad :
       {"Zg", "Zg=", "Zm9vY", "Zm9v\n", "Zg=A", "Z===", "====", "=Zg=", "Zm9v====", "Zm9-", "Zm9_",
        "Zm 9", "Zm9\n", " Zm9", "Zm\xc3\xa9", "Zh==", "Zm9="}) {
    auto r = Base64Decode(bad, "signature");
    ASSERT_FALSE(r) << "accepted: " << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.error().field, "signature") << bad;
  }
}

TEST(Base64, EmbeddedNulIsRejected) {
  auto r = Base64Decode(std::string_view("Zm\0v", 4), "signature");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(Base64, ErrorMessageDoesNotEchoTheInput) {
  auto r = Base64Decode("secretIIN87041230!==", "iin_b64");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString().find("secretIIN"), std::string::npos) << r.error().ToString();
}

}  // namespace
}  // namespace qorgau::crypto
