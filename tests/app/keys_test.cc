// Where keys live and how they are guarded (crypto/key_ring.h): the master
// key outside the data directory, key files private to their owner, the
// environment variable gone once read.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "../test_util.h"
#include "app/instance.h"
#include "crypto/key_ring.h"

namespace qorgau {
namespace {

class Keys : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    auto init = app::Instance::Init(data_, testing::KemPolicy(), clock_);
    ASSERT_TRUE(init) << init.error().ToString();
    source_ = init->master_key_source;
  }
  testing::TempDir dir_;
  std::filesystem::path data_;
  std::string source_;
  FixedClock clock_{1764150000000};
};

TEST_F(Keys, R_VIII_3_the_master_key_lives_outside_the_data_directory) {
  EXPECT_EQ(source_, data_.string() + ".master.key");
  EXPECT_FALSE(std::filesystem::exists(data_ / "master.key"));
  struct stat st {};
  ASSERT_EQ(::stat((data_.string() + ".master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_TRUE(app::Instance::Open(data_, clock_));
}

TEST_F(Keys, R_VIII_3_a_group_readable_master_key_is_refused) {
  ASSERT_EQ(::chmod((data_.string() + ".master.key").c_str(), 0640), 0);
  auto inst = app::Instance::Open(data_, clock_);
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(inst.error().message.find("chmod 600"), std::string::npos) << inst.error().ToString();
}

TEST_F(Keys, R_VIII_3_a_world_readable_signing_key_is_refused) {
  ASSERT_EQ(::chmod((data_ / "receipt.key").c_str(), 0604), 0);
  auto inst = app::Instance::Open(data_, clock_);
  ASSERT_FALSE(inst);
  EXPECT_NE(inst.error().field.find("receipt.key"), std::string::npos) << inst.error().ToString();
}

TEST_F(Keys, TheMasterKeyFileCanBeNamedAndALegacyKeyInsideStillOpens) {
  const auto elsewhere = dir_.path() / "secrets-master.key";
  std::filesystem::rename(data_.string() + ".master.key", elsewhere);
  EXPECT_FALSE(app::Instance::Open(data_, clock_));
  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY_FILE", elsewhere.c_str(), 1), 0);
  EXPECT_TRUE(app::Instance::Open(data_, clock_));
  ::unsetenv("QORGAU_MASTER_KEY_FILE");
  // Where versions before 0.2 kept it: read, with a warning.
  std::filesystem::rename(elsewhere, data_ / "master.key");
  auto legacy = crypto::LoadMasterKey(data_, /*create=*/false);
  ASSERT_TRUE(legacy) << legacy.error().ToString();
  EXPECT_TRUE(legacy->inside_data_dir);
  EXPECT_TRUE(app::Instance::Open(data_, clock_));
}

TEST(MasterKey, R_VIII_3_the_environment_variable_is_removed_once_read) {
  testing::TempDir dir;
  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY", std::string(64, '7').c_str(), 1), 0);
  auto key = crypto::LoadMasterKey(dir.path() / "d", /*create=*/false);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->source, "QORGAU_MASTER_KEY");
  EXPECT_EQ(key->key, crypto::Bytes(32, 0x77));
  EXPECT_EQ(std::getenv("QORGAU_MASTER_KEY"), nullptr);
}

TEST(MasterKey, WipeLeavesZeros) {
  crypto::Bytes secret(32, 0xab);
  crypto::Wipe(secret);
  EXPECT_EQ(secret, crypto::Bytes(32, 0));
}

}  // namespace
}  // namespace qorgau
