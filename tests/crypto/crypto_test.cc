#include "crypto/crypto.h"

#include <gtest/gtest.h>

#include "crypto/key_ring.h"

namespace qorgau::crypto {
namespace {

Bytes Key(std::uint8_t fill) { return Bytes(kKeySize, fill); }

TEST(Crypto, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(ToHex(Sha256(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  auto mac = HmacSha256(ToBytes("Jefe"), "what do ya want for nothing?");
  ASSERT_TRUE(mac);
  EXPECT_EQ(ToHex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, SealedValueOpensWithTheSameKeyAndContext) {
  auto sealed = Seal(Key(1), "secret value", "ctx");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(Open(Key(1), *sealed, "ctx").value(), "secret value");
  const std::string raw(sealed->begin(), sealed->end());
  EXPECT_EQ(raw.find("secret"), std::string::npos);
}

TEST(Crypto, SealingTwiceGivesDifferentCiphertexts) {
  EXPECT_NE(Seal(Key(1), "v", "c").value(), Seal(Key(1), "v", "c").value());
}

TEST(Crypto, AlteredCiphertextWrongKeyOrWrongContextFail) {
  Bytes sealed = Seal(Key(1), "secret value", "ctx").value();
  EXPECT_FALSE(Open(Key(2), sealed, "ctx"));
  EXPECT_FALSE(Open(Key(1), sealed, "other"));
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_FALSE(Open(Key(1), sealed, "ctx"));
}

// The bulk opener (one key schedule, many values) opens what Seal sealed,
// and refuses what Open refuses.
TEST(Crypto, OpenerOpensManyValuesUnderOneKeyAndRefusesAlteredOnes) {
  auto opener = Opener::ForKey(Key(1)).value();
  for (int i = 0; i < 3; ++i) {
    const std::string value = "value " + std::to_string(i);
    const Bytes sealed = Seal(Key(1), value, "ctx" + std::to_string(i)).value();
    EXPECT_EQ(opener.Open(sealed, "ctx" + std::to_string(i)).value(), value);
    EXPECT_FALSE(opener.Open(sealed, "other"));
    Bytes altered = sealed;
    altered[altered.size() / 2] ^= 1;
    EXPECT_FALSE(opener.Open(altered, "ctx" + std::to_string(i)));
    EXPECT_EQ(opener.Open(sealed, "ctx" + std::to_string(i)).value(), value) << "still usable after a refusal";
  }
  EXPECT_FALSE(Opener::ForKey(Key(2)).value().Open(Seal(Key(1), "v", "c").value(), "c"));
  EXPECT_FALSE(Opener::ForKey(Bytes(16, 1)));
}

TEST(KeyRing, DemographicsAreSealedForTheirSubjectUnderTheRingsOwnKey) {
  auto ring = KeyRing::FromMasterKey(Key(7)).value();
  const Bytes sealed = ring.SealDemographics(42, "plain").value();
  auto opener = ring.DemographicsOpener().value();
  EXPECT_EQ(opener.Open(sealed, DemographicsAad(42)).value(), "plain");
  EXPECT_FALSE(opener.Open(sealed, DemographicsAad(43))) << "copied to another subject";
  auto other = KeyRing::FromMasterKey(Key(8)).value();
  EXPECT_FALSE(other.DemographicsOpener().value().Open(sealed, DemographicsAad(42)));
}

TEST(KeyRing, DataKeysUnwrapOnlyForTheirSubject) {
  auto ring = KeyRing::FromMasterKey(Key(7)).value();
  auto [key, wrapped] = ring.NewDataKey(42).value();
  EXPECT_EQ(ring.UnwrapDataKey(42, wrapped).value(), key);
  EXPECT_FALSE(ring.UnwrapDataKey(43, wrapped));
  auto other = KeyRing::FromMasterKey(Key(8)).value();
  EXPECT_FALSE(other.UnwrapDataKey(42, wrapped));
}

TEST(KeyRing, BlindIndexIsKeyedAndSeparatesKinds) {
  auto a = KeyRing::FromMasterKey(Key(7)).value();
  auto b = KeyRing::FromMasterKey(Key(8)).value();
  EXPECT_EQ(a.BlindIndex("iin", "x").value(), a.BlindIndex("iin", "x").value());
  EXPECT_NE(a.BlindIndex("iin", "x").value(), b.BlindIndex("iin", "x").value());
  EXPECT_NE(a.BlindIndex("iin", "x").value(), a.BlindIndex("phone", "x").value());
  EXPECT_NE(a.check_value(), b.check_value());
}

TEST(KeyRing, MasterKeyMustBe32Bytes) { EXPECT_FALSE(KeyRing::FromMasterKey(Bytes(16, 1))); }

}  // namespace
}  // namespace qorgau::crypto
