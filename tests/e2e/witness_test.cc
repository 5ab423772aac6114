// Issue 8, part 5: an outside witness. The real `qorgau` binary posts
// witness statements to a real witness on loopback (the project's HTTP
// server with a witness's handler: it keeps the last head it accepted and
// checks each statement with the public key alone); the witness's offline
// check (`audit check-consistency`); the pull export, on the CLI and over
// HTTP.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <mutex>
#include <optional>

#include "../api/api_fixture.h"
#include "../api/test_certificate.h"
#include "../test_util.h"
#include "api/server.h"
#include "app/instance.h"
#include "ledger/witness.h"

namespace qorgau {
namespace {

using testing::RunQorgau;
using testing::TempDir;

// A witness: accepts a statement whose head is signed by the ledger key
// and extends the head it kept (200, and keeps the new head); refuses any
// other (409, the reason kept for the test). `status`, when set, is the
// answer to everything (a witness that fails).
class TestWitness {
 public:
  TestWitness(const std::filesystem::path& public_key, const testing::Pem* tls = nullptr)
      : keys_(crypto::PublicKeys::FromPath(public_key).value()) {
    api::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    if (tls) {
      o.tls_cert_file = tls->cert;
      o.tls_key_file = tls->key;
    }
    server_ = std::make_unique<api::Server>(o, [this](const api::HttpRequest& r) { return Handle(r); });
    port_ = server_->Start().value();
  }
  std::uint16_t port() const { return port_; }
  std::string Url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + "/witness?token=SECRET-TOKEN";
  }
  void Keep(const ledger::TreeHead& head) {
    std::lock_guard lock(mu_);
    kept_ = head;
  }
  void AnswerAlways(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
  }
  struct Received {
    std::string method, path, content_type, body;
  };
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::string refusal() {
    std::lock_guard lock(mu_);
    return refusal_;
  }
  std::optional<ledger::TreeHead> kept() {
    std::lock_guard lock(mu_);
    return kept_;
  }
  void Stop() { server_.reset(); }

 private:
  api::HttpResponse Handle(const api::HttpRequest& r) {
    std::lock_guard lock(mu_);
    received_.push_back({r.method, r.path, r.content_type, r.body});
    if (status_) return {status_, "text/plain", "failing\n", {}};
    auto statement = ledger::ParseWitnessJson(r.body);
    Result<void> checked = statement ? ledger::CheckWitnessStatement(*statement, kept_, keys_)
                                     : Result<void>(tl::unexpected(statement.error()));
    if (!checked) {
      refusal_ = checked.error().ToString();
      return {409, "text/plain", refusal_ + "\n", {}};
    }
    kept_ = statement->head;
    return {200, "application/json", "{\"accepted\":" + std::to_string(kept_->size) + "}", {}};
  }

  crypto::PublicKeys keys_;
  std::mutex mu_;
  std::optional<ledger::TreeHead> kept_;
  int status_ = 0;
  std::vector<Received> received_;
  std::string refusal_;
  std::unique_ptr<api::Server> server_;
  std::uint16_t port_ = 0;
};

class WitnessCli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    auto r = Run({"init", "--policy", testing::KemPolicy().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The witness holds the public key only, a copy of its own.
    std::filesystem::copy_file(data_ + "/receipt.pub", dir_.path() / "ledger.pub");
    public_key_ = (dir_.path() / "ledger.pub").string();
  }
  testing::RunResult Run(std::vector<std::string> args, const std::string& env = "") {
    args.insert(args.begin(), {"--data", data_});
    return RunQorgau(args, env);
  }
  // A few more events (as console, the administrator init creates).
  void Grow(const std::string& id) {
    auto r = Run({"actor", "add", "--id", id, "--role", "employee"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }
  ledger::TreeHead Latest() { return app::LatestCheckpoint(data_, "console").value(); }
  void Exec(const std::string& sql) { testing::ExecSql(data_ + "/qorgau.db", sql); }

  TempDir dir_;
  std::string data_;
  std::string public_key_;
};

TEST_F(WitnessCli, Issue8_Witness_post_carries_a_consistency_proof_the_witness_verifies) {
  TestWitness witness(public_key_);
  ASSERT_EQ(Run({"audit", "checkpoint", "--out", Path("kept.json")}).exit_code, 0);
  const ledger::TreeHead kept = ledger::ParseTreeHeadJson(testing::ReadFile(Path("kept.json"))).value();
  witness.Keep(kept);
  Grow("eve");
  Grow("fay");
  auto posted = Run({"audit", "checkpoint", "--post", witness.Url(), "--since", Path("kept.json"), "--out",
                     Path("new.json")});
  ASSERT_EQ(posted.exit_code, 0) << posted.err;
  EXPECT_NE(posted.out.find("witness accepted the head of"), std::string::npos) << posted.out;
  const auto received = witness.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].path, "/witness");
  EXPECT_EQ(received[0].content_type, "application/json");
  // The body: the new head, signed, and the proof from the kept head; it
  // verifies here too, with the public key alone.
  auto statement = ledger::ParseWitnessJson(received[0].body);
  ASSERT_TRUE(statement) << statement.error().ToString();
  EXPECT_EQ(statement->previous_size, kept.size);
  EXPECT_GT(statement->head.size, kept.size);
  EXPECT_FALSE(statement->consistency.empty());
  EXPECT_EQ(ledger::TreeHeadJson(statement->head), testing::ReadFile(Path("new.json")));
  const auto key = crypto::PublicKeys::FromPath(public_key_).value();
  EXPECT_TRUE(ledger::CheckWitnessStatement(*statement, kept, key));
  EXPECT_EQ(witness.kept()->size, statement->head.size);
  // The witness's offline check of the same body, and the head it keeps.
  testing::WriteFile(Path("body.json"), received[0].body);
  auto checked = RunQorgau({"audit", "check-consistency", Path("body.json"), "--previous", Path("kept.json"),
                            "--public-key", public_key_, "--keep", Path("next.json")});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_NE(checked.out.find("extends the kept head of " + std::to_string(kept.size)), std::string::npos)
      << checked.out;
  EXPECT_EQ(testing::ReadFile(Path("next.json")), testing::ReadFile(Path("new.json")));
  // Again, from the head the witness now keeps: an empty proof suffices.
  ASSERT_EQ(Run({"audit", "checkpoint", "--post", witness.Url(), "--since", Path("next.json")}).exit_code, 0);
  EXPECT_EQ(witness.received().size(), 2u);
}

TEST_F(WitnessCli, Issue8_Witness_a_rewritten_and_re_signed_ledger_fails_the_witnesss_check) {
  TestWitness witness(public_key_);
  Grow("eve");
  const ledger::TreeHead kept = Latest();
  testing::WriteFile(Path("kept.json"), ledger::TreeHeadJson(kept));
  witness.Keep(kept);
  // Someone with the database and the ledger key changes an early event,
  // drops the tree and lets qorgau sign the rewritten ledger afresh.
  Exec("UPDATE events SET body = body || ' ' WHERE seq = 2; DELETE FROM tree_heads; DELETE FROM merkle_nodes; "
       "DELETE FROM meta WHERE key = 'ledger.frontier'");
  Grow("fay");  // opens the data directory: the ledger is signed again
  const ledger::TreeHead resigned = Latest();
  ASSERT_GT(resigned.size, kept.size);
  auto posted = Run({"audit", "checkpoint", "--post", witness.Url(), "--since", Path("kept.json")});
  EXPECT_EQ(posted.exit_code, 1);
  EXPECT_NE(posted.err.find("witness: 127.0.0.1:" + std::to_string(witness.port()) + " answered 409"),
            std::string::npos)
      << posted.err;
  EXPECT_NE(witness.refusal().find("rewritten"), std::string::npos) << witness.refusal();
  EXPECT_EQ(witness.kept()->size, kept.size);
  // Offline, the same verdict.
  ASSERT_EQ(witness.received().size(), 1u);
  testing::WriteFile(Path("body.json"), witness.received()[0].body);
  auto checked = RunQorgau({"audit", "check-consistency", Path("body.json"), "--previous", Path("kept.json"),
                            "--keys", public_key_});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_NE(checked.err.find("consistency: the head of " + std::to_string(resigned.size)), std::string::npos)
      << checked.err;
  EXPECT_NE(checked.err.find("rewritten"), std::string::npos) << checked.err;
}

TEST_F(WitnessCli, Issue8_Witness_a_ledger_cut_short_fails_the_witnesss_check) {
  TestWitness witness(public_key_);
  const ledger::TreeHead early = Latest();
  Grow("eve");
  const ledger::TreeHead kept = Latest();
  testing::WriteFile(Path("kept.json"), ledger::TreeHeadJson(kept));
  witness.Keep(kept);
  Exec("DELETE FROM events WHERE seq > " + std::to_string(early.size) +
       "; DELETE FROM tree_heads WHERE size > " + std::to_string(early.size));
  // Without --since the head goes out, and the witness refuses it.
  auto posted = Run({"audit", "checkpoint", "--post", witness.Url()});
  EXPECT_EQ(posted.exit_code, 1);
  EXPECT_NE(posted.err.find("answered 409"), std::string::npos) << posted.err;
  EXPECT_NE(witness.refusal().find("cut short"), std::string::npos) << witness.refusal();
  // With it, qorgau cannot make a proof, and says why; nothing is sent.
  auto since = Run({"audit", "checkpoint", "--post", witness.Url(), "--since", Path("kept.json")});
  EXPECT_EQ(since.exit_code, 1);
  EXPECT_NE(since.err.find("since: beyond the ledger"), std::string::npos) << since.err;
  EXPECT_NE(since.err.find("cut short"), std::string::npos) << since.err;
  EXPECT_EQ(witness.received().size(), 1u);
}

TEST_F(WitnessCli, Issue8_Witness_a_witness_answering_500_or_not_listening_is_a_clear_error) {
  TestWitness witness(public_key_);
  witness.AnswerAlways(500);
  const std::string where = "witness: 127.0.0.1:" + std::to_string(witness.port());
  auto failed = Run({"audit", "checkpoint", "--post", witness.Url(), "--out", Path("head.json")});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find(where + " answered 500"), std::string::npos) << failed.err;
  // The host only: a token in the URL's path or query stays out of errors.
  EXPECT_EQ(failed.err.find("SECRET-TOKEN"), std::string::npos) << failed.err;
  EXPECT_EQ(failed.err.find("/witness"), std::string::npos) << failed.err;
  // The head was still written.
  EXPECT_EQ(testing::ReadFile(Path("head.json")), ledger::TreeHeadJson(Latest()));
  witness.Stop();
  auto down = Run({"audit", "checkpoint", "--post", witness.Url(), "--timeout", "5"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find(where + " refused the connection"), std::string::npos) << down.err;
  EXPECT_NE(down.out.find("\"format\":\"qorgau-tree-head/1\""), std::string::npos) << down.out;
  auto scheme = Run({"audit", "checkpoint", "--post", "ftp://127.0.0.1/x"});
  EXPECT_EQ(scheme.exit_code, 1);
  EXPECT_NE(scheme.err.find("url: must start with http:// or https://"), std::string::npos) << scheme.err;
  auto userinfo = Run({"audit", "checkpoint", "--post", "http://user:pw@127.0.0.1:1/"});
  EXPECT_EQ(userinfo.exit_code, 1);
  EXPECT_EQ(userinfo.err.find("pw"), std::string::npos) << userinfo.err;
  auto lone_since = Run({"audit", "checkpoint", "--since", Path("head.json")});
  EXPECT_EQ(lone_since.exit_code, 1);
  EXPECT_NE(lone_since.err.find("since: only with --post"), std::string::npos) << lone_since.err;
}

TEST_F(WitnessCli, Issue8_Witness_over_https_the_certificate_is_verified) {
  const testing::Pem pem = testing::MakeCertificate(dir_.path(), "witness");
  TestWitness witness(public_key_, &pem);
  auto untrusted = Run({"audit", "checkpoint", "--post", witness.Url("https")});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("failed the TLS handshake"), std::string::npos) << untrusted.err;
  EXPECT_TRUE(witness.received().empty());
  auto trusted = Run({"audit", "checkpoint", "--post", witness.Url("https"), "--ca", pem.cert});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_EQ(witness.received().size(), 1u);
  // A certificate for 127.0.0.1 does not name "localhost".
  auto wrong_name = Run({"audit", "checkpoint", "--post",
                         "https://localhost:" + std::to_string(witness.port()) + "/", "--ca", pem.cert});
  EXPECT_EQ(wrong_name.exit_code, 1);
  EXPECT_NE(wrong_name.err.find("witness: localhost:"), std::string::npos) << wrong_name.err;
}

TEST_F(WitnessCli, Issue8_Witness_url_from_the_environment_or_the_config_file) {
  TestWitness witness(public_key_);
  auto env = Run({"audit", "checkpoint"}, "QORGAU_WITNESS_URL=" + witness.Url());
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(witness.received().size(), 1u);
  testing::WriteFile(Path("qorgau.toml"), "[audit.checkpoint]\npost = \"" + witness.Url() + "\"\n");
  auto config = Run({"--config", Path("qorgau.toml"), "audit", "checkpoint"});
  EXPECT_EQ(config.exit_code, 0) << config.err;
  EXPECT_EQ(witness.received().size(), 2u);
}

TEST_F(WitnessCli, Issue8_Witness_audit_consistency_prints_a_statement_the_witness_checks) {
  const ledger::TreeHead kept = Latest();
  testing::WriteFile(Path("kept.json"), ledger::TreeHeadJson(kept));
  Grow("eve");
  auto pulled = Run({"audit", "consistency", "--from", std::to_string(kept.size)});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  testing::WriteFile(Path("body.json"), pulled.out);
  auto checked = RunQorgau({"audit", "check-consistency", Path("body.json"), "--previous", Path("kept.json"),
                            "--keys", data_ + "/receipt-keys"});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  // Up to an earlier signed head.
  auto to = Run({"audit", "consistency", "--from", "1", "--to", std::to_string(kept.size), "--out",
                 Path("to.json")});
  ASSERT_EQ(to.exit_code, 0) << to.err;
  EXPECT_EQ(ledger::ParseWitnessJson(testing::ReadFile(Path("to.json"))).value().head.root, kept.root);
  const std::string beyond = std::to_string(Latest().size + 1);
  auto zero = Run({"audit", "consistency", "--from", "0"});
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_NE(zero.err.find("from: must be at least 1"), std::string::npos) << zero.err;
  auto past = Run({"audit", "consistency", "--from", "1", "--to", beyond});
  EXPECT_EQ(past.exit_code, 1);
  EXPECT_NE(past.err.find("to: beyond the ledger"), std::string::npos) << past.err;
  EXPECT_NE(Run({"audit", "consistency", "--from", "many"}).exit_code, 0);
  // A tampered statement is refused offline.
  testing::WriteFile(Path("bad.json"), testing::ReplaceOnce(pulled.out, "\"previous_size\":", "\"previous_size\":-"));
  auto bad = RunQorgau({"audit", "check-consistency", Path("bad.json"), "--keys", public_key_});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("previous_size"), std::string::npos) << bad.err;
}

}  // namespace

namespace api {
namespace {

TEST_F(ApiTest, Issue8_Witness_consistency_over_http_is_the_cli_statement_and_bad_parameters_are_400) {
  const ledger::TreeHead first = app::LatestCheckpoint(data_, "dpo").value();
  ASSERT_TRUE(inst_->engine().PutActor({"eve", ActorRole::kEmployee}, world_["admin"]));
  HttpResult served = Get("/v1/audit/consistency?from=" + std::to_string(first.size), "dpo");
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.headers["content-type"].rfind("application/json", 0), 0u) << served.headers["content-type"];
  auto statement = ledger::ParseWitnessJson(served.body);
  ASSERT_TRUE(statement) << statement.error().ToString();
  EXPECT_EQ(served.body, ledger::WitnessJson(*statement));
  const auto keys = app::DataDirectoryPublicKeys(data_).value();
  EXPECT_TRUE(ledger::CheckWitnessStatement(*statement, first, keys));
  HttpResult to = Get("/v1/audit/consistency?from=1&to=" + std::to_string(first.size), "admin");
  ASSERT_EQ(to.status, 200) << to.body;
  EXPECT_EQ(ledger::ParseWitnessJson(to.body).value().head.root, first.root);
  const std::string beyond = std::to_string(statement->head.size + 1);
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "from"},
           {"?from=0", "from"},
           {"?from=abc", "from"},
           {"?from=-1", "from"},
           {"?from=1x", "from"},
           {"?from=99999999999999999999", "from"},
           {"?from=" + beyond, "from"},
           {"?from=1&to=0", "to"},
           {"?from=1&to=" + beyond, "to"},
           {"?from=1&to=x", "to"},
           {"?from=" + std::to_string(first.size + 1) + "&to=" + std::to_string(first.size), "from"}}) {
    HttpResult bad = Get("/v1/audit/consistency" + query, "dpo");
    EXPECT_EQ(bad.status, 400) << query << ": " << bad.body;
    EXPECT_NE(bad.body.find("\"field\":\"" + field + "\""), std::string::npos) << query << ": " << bad.body;
  }
  HttpResult refused = Get("/v1/audit/consistency?from=1", "anna");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(Code(refused), "admin_only");
}

}  // namespace
}  // namespace api
}  // namespace qorgau
