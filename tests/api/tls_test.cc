// TLS served natively: a self-signed certificate made in the test, the
// server over TLS on loopback, a verifying TLS client; plain HTTP refused
// on the TLS port and, without --insecure, off loopback.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "../test_util.h"
#include "api/server.h"
#include "http_client.h"
#include "test_certificate.h"

namespace qorgau::api {
namespace {

using testing::HttpCall;
using testing::HttpsCall;

using testing::MakeCertificate;
using testing::Pem;

HttpResponse Echo(const HttpRequest& r) { return HttpResponse{200, "text/plain", r.method + " " + r.path, {}}; }

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pem_ = MakeCertificate(dir_.path(), "server");
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.tls_cert_file = pem_.cert;
    o.tls_key_file = pem_.key;
    server_ = std::make_unique<Server>(o, Echo);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
  }

  testing::TempDir dir_;
  Pem pem_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(TlsTest, RequestsAreServedOverTls) {
  auto r = HttpsCall(port_, pem_.cert, "GET", "/over/tls");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /over/tls");
  // Keep-alive works over TLS too, and the certificate is checked: a client
  // that trusts another one fails.
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "POST", "/again", "{}").status, 200);
  const Pem other = MakeCertificate(dir_.path(), "other");
  EXPECT_EQ(HttpsCall(port_, other.cert, "GET", "/").status, 0);
}

TEST_F(TlsTest, PlainHttpToTheTlsPortIsAnswered400InPlainHttp) {
  auto r = HttpCall(port_, "GET", "/healthz");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":\"tls_required\""), std::string::npos) << r.body;
  EXPECT_EQ(r.headers["connection"], "close");
  // The server is none the worse.
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "GET", "/").status, 200);
}

TEST_F(TlsTest, OnlyTls12AndLaterAreSpoken) {
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "GET", "/", "", "", TLS1_1_VERSION).status, 0);
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "GET", "/", "", "", TLS1_VERSION).status, 0);
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "GET", "/", "", "", TLS1_2_VERSION).status, 200);
  EXPECT_EQ(HttpsCall(port_, pem_.cert, "GET", "/", "", "", TLS1_3_VERSION).status, 200);
}

TEST(TlsSetup, UnusableCertificateOrKeyFilesAreRefusedAtStart) {
  testing::TempDir dir;
  const Pem a = MakeCertificate(dir.path(), "a");
  const Pem b = MakeCertificate(dir.path(), "b");
  auto start = [](std::string cert, std::string key) {
    ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.tls_cert_file = std::move(cert);
    o.tls_key_file = std::move(key);
    return Server(o, Echo).Start();
  };
  auto missing = start((dir.path() / "none.crt").string(), a.key);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().field, "tls-cert");
  auto mismatched = start(a.cert, b.key);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().field, "tls-key");
  auto half = start(a.cert, "");
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().field, "tls-key");
  EXPECT_TRUE(start(a.cert, a.key));
}

TEST(TlsSetup, PlainHttpOffLoopbackNeedsInsecure) {
  ServerOptions o;
  o.address = "0.0.0.0";
  o.port = 0;
  o.threads = 1;
  auto refused = Server(o, Echo).Start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("--insecure"), std::string::npos) << refused.error().ToString();
  o.insecure = true;
  EXPECT_TRUE(Server(o, Echo).Start());
  o.address = "::1";
  o.insecure = false;
  Server v6(o, Echo);
  // Loopback needs nothing (where the machine has IPv6 at all).
  auto loopback = v6.Start();
  if (!loopback) {
    EXPECT_NE(loopback.error().code, ErrorCode::kFailedPrecondition) << loopback.error().ToString();
  }
}

TEST(TlsSetup, ServeTakesTheTlsFilesAndInsecureFromFlagsAndTheConfigFile) {
  testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  auto init = testing::RunQorgau({"--data", data, "init", "--policy", testing::KemPolicy().string()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto open = testing::RunQorgau({"--data", data, "serve", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(open.exit_code, 1);
  EXPECT_NE(open.err.find("--insecure"), std::string::npos) << open.err;
  auto missing = testing::RunQorgau({"--data", data, "serve", "--listen", "0.0.0.0:0", "--tls-cert",
                                     (dir.path() / "none.crt").string(), "--tls-key",
                                     (dir.path() / "none.key").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("tls-cert"), std::string::npos) << missing.err;
  const std::string config = (dir.path() / "qorgau.toml").string();
  testing::WriteFile(config, "data = \"" + data + "\"\n[serve]\nlisten = \"0.0.0.0:0\"\ntls-cert = \"" +
                                 (dir.path() / "from-config.crt").string() + "\"\ntls-key = \"x.key\"\n");
  auto configured = testing::RunQorgau({"--config", config, "serve"});
  EXPECT_EQ(configured.exit_code, 1);
  EXPECT_NE(configured.err.find("from-config.crt"), std::string::npos) << configured.err;
}

}  // namespace
}  // namespace qorgau::api
