// Issue 11, part 7: the outbox delivered to webhooks. A real receiver on
// loopback (Beast, synchronous: one POST at a time, as qorgau sends them)
// that answers what each test scripts; the real sender (api/outbound.h);
// the real `qorgau serve`, killed with SIGKILL in the middle of a POST.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../access_world.h"
#include "../test_util.h"
#include "api/outbound.h"
#include "app/instance.h"
#include "crypto/crypto.h"
#include "demo/synthetic.h"
#include "server_process.h"

namespace qorgau {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using rules::SubjectKey;

// A webhook's receiver: the status of the n-th POST (from 1) is what
// `answer(n)` returns; it may block (a receiver that is slow to answer).
class Receiver {
 public:
  struct Post {
    std::string signature, webhook, body;
    int status = 0;
  };
  explicit Receiver(std::function<int(int)> answer)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), answer_(std::move(answer)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
  }
  ~Receiver() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/qorgau?token=T0KEN"; }
  std::vector<Post> posts() {
    std::lock_guard lock(mu_);
    return posts_;
  }
  int count() {
    std::lock_guard lock(mu_);
    return static_cast<int>(posts_.size());
  }

 private:
  void Run() {
    while (!stop_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      Post p{std::string(req["Qorgau-Signature"]), std::string(req["Qorgau-Webhook"]), req.body()};
      int n;
      {
        std::lock_guard lock(mu_);
        posts_.push_back(p);
        n = static_cast<int>(posts_.size());
      }
      const int status = answer_(n);
      {
        std::lock_guard lock(mu_);
        posts_[n - 1].status = status;
      }
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.body() = "{}";
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::function<int(int)> answer_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Post> posts_;
  std::thread thread_;
};

// The ids ("seq.subject") of a POST's deliveries, in order.
std::vector<std::string> Ids(const std::string& body) {
  std::vector<std::string> out;
  const json::value parsed = json::parse(body);
  for (const auto& d : parsed.at("deliveries").as_array()) {
    const std::string id(d.at("id").as_string());
    const std::string key = std::to_string(d.at("seq").as_int64()) + "." + std::to_string(d.at("subject").as_int64());
    EXPECT_EQ(id.rfind(key + ".", 0), 0u) << id;  // seq.subject.hash
    EXPECT_EQ(id.size(), key.size() + 17) << id;
    out.push_back(key);
  }
  return out;
}

std::pair<std::int64_t, std::int64_t> Key(const std::string& id) {
  const auto dot = id.find('.');
  return {std::stoll(id.substr(0, dot)), std::stoll(id.substr(dot + 1))};
}

class Webhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    secret_ = (dir_.path() / "hook.secret").string();
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicy(), clock_));
    Open();
    world_ = testing::MakeAccessWorld(inst_->engine(), false);
    // Three more subscribers; every one of the five withdraws and grants
    // again, round after round: consent.withdrawn messages of several
    // subjects, interleaved.
    for (std::uint64_t i = 3; i <= 5; ++i) {
      const auto s = demo::SyntheticSubjects().At(i);
      auto id = engine().AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}}, "subject"}, world_["onboarding"]);
      ASSERT_TRUE(id) << id.error().ToString();
    }
    for (int round = 0; round < 4; ++round) {
      for (store::SubjectId id = 1; id <= 5; ++id) {
        const std::string ref = "R" + std::to_string(round) + "-" + std::to_string(id);
        ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(id), "product_development", "mobile_app", "G-" + ref},
                                          world_["crm"]));
        auto w = engine().WithdrawConsent({SubjectKey::Id(id), "product_development", "personal_cabinet", "W-" + ref},
                                          world_["crm"]);
        ASSERT_TRUE(w) << w.error().ToString();
      }
    }
    ASSERT_TRUE(api::CreateWebhookSecret(secret_));
  }
  void Open() { inst_ = app::Instance::Open(data_, clock_).value(); }
  rules::Engine& engine() { return inst_->engine(); }
  std::vector<store::OutboxRecord> Outbox(bool pending) { return engine().Outbox(pending, world_["admin"]).value(); }
  std::vector<std::string> AllIds() {
    std::vector<std::string> out;
    for (const auto& o : Outbox(false)) out.push_back(std::to_string(o.event_seq) + "." + std::to_string(o.subject_id));
    return out;
  }
  // Every POST's signature, checked as a receiver would: the HMAC of
  // "t.body" with the secret file's text.
  void ExpectSigned(const std::vector<Receiver::Post>& posts) {
    const std::string secret = api::ReadWebhookSecret(secret_).value();
    for (const auto& p : posts) {
      ASSERT_EQ(p.signature.rfind("t=", 0), 0u) << p.signature;
      const auto comma = p.signature.find(",v1=");
      ASSERT_NE(comma, std::string::npos);
      const std::string t = p.signature.substr(2, comma - 2);
      const auto mac = crypto::HmacSha256(crypto::Bytes(secret.begin(), secret.end()), t + "." + p.body).value();
      EXPECT_EQ(p.signature.substr(comma + 4), crypto::ToHex(mac));
      EXPECT_EQ(p.webhook, "crm-hook");
    }
  }
  void Exec(const std::string& sql) { testing::ExecSql(data_ + "/qorgau.db", sql); }

  testing::TempDir dir_;
  FixedClock clock_{1764150000000};
  std::string data_, secret_;
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
};

TEST_F(Webhooks, Issue11_Outbox_every_message_other_systems_act_on_is_in_the_outbox_with_its_event) {
  const auto rows = Outbox(false);
  ASSERT_EQ(rows.size(), 20u);  // 4 rounds x 5 subjects
  for (const auto& r : rows) {
    EXPECT_EQ(r.kind, "consent.withdrawn");
    EXPECT_FALSE(r.delivered_at);  // no webhook yet: they wait
  }
  // A row missing fails the audit.
  ASSERT_TRUE(engine().VerifyLedger(world_["admin"]).value().ok);
  Exec("DELETE FROM outbox WHERE event_seq = (SELECT MAX(event_seq) FROM outbox)");
  auto report = engine().VerifyLedger(world_["admin"]).value();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("was not put in the outbox"), std::string::npos) << report.reason;
}

TEST_F(Webhooks, Issue11_Webhook_signed_batches_in_order_retried_after_failures_until_accepted) {
  // The receiver fails the first two POSTs (503), then accepts.
  Receiver receiver([](int n) { return n <= 2 ? 503 : 200; });
  auto added = engine().AddWebhook({"crm-hook", receiver.Url(), secret_}, world_["admin"]);
  ASSERT_TRUE(added) << added.error().ToString();
  const auto send = api::MakeWebhookSender({});
  rules::DeliveryOptions o;
  o.batch = 6;
  o.backoff = std::chrono::milliseconds(1000);

  auto first = engine().DeliverOutbox(send, o, world_["admin"]).value();
  ASSERT_EQ(first.webhooks.size(), 1u);
  EXPECT_TRUE(first.webhooks[0].failed);
  EXPECT_NE(first.webhooks[0].error.find("127.0.0.1:"), std::string::npos) << first.webhooks[0].error;
  EXPECT_EQ(first.webhooks[0].error.find("T0KEN"), std::string::npos) << "the URL's token is never told";
  // In back-off: the next pass does not post.
  auto waiting = engine().DeliverOutbox(send, o, world_["admin"]).value();
  EXPECT_TRUE(waiting.webhooks[0].waiting);
  EXPECT_EQ(receiver.count(), 1);
  auto listed = engine().ListWebhooks(world_["admin"]).value();
  EXPECT_EQ(listed[0].failures, 1);
  EXPECT_EQ(listed[0].next_at, clock_.Now() + 1000);
  clock_.Advance(1000);
  EXPECT_TRUE(engine().DeliverOutbox(send, o, world_["admin"]).value().webhooks[0].failed);  // the second 503
  EXPECT_EQ(engine().ListWebhooks(world_["admin"]).value()[0].next_at, clock_.Now() + 2000);  // doubled
  clock_.Advance(2000);
  auto done = engine().DeliverOutbox(send, o, world_["admin"]).value();
  EXPECT_FALSE(done.webhooks[0].failed);
  EXPECT_EQ(done.webhooks[0].delivered, 20);

  const auto posts = receiver.posts();
  ASSERT_EQ(posts.size(), 6u);  // 2 failures, then 20 rows in batches of 6: 6, 6, 6, 2
  ExpectSigned(posts);
  // The failed batch is the one sent again, before anything after it.
  EXPECT_EQ(Ids(posts[0].body), Ids(posts[2].body));
  EXPECT_EQ(Ids(posts[1].body), Ids(posts[2].body));
  // What was accepted is the whole outbox, once, in its order: each
  // subject's messages in the order they happened.
  std::vector<std::string> accepted;
  for (const auto& p : posts) {
    if (p.status != 200) continue;
    for (const auto& id : Ids(p.body)) accepted.push_back(id);
  }
  EXPECT_EQ(accepted, AllIds());
  // Each delivery carries its event, as the ledger holds it; no value.
  const auto body = json::parse(posts[2].body);
  const auto& d = body.at("deliveries").as_array()[0].as_object();
  EXPECT_EQ(d.at("kind").as_string(), "consent.withdrawn");
  EXPECT_EQ(d.at("event").at("type").as_string(), "consent.withdrawn");
  EXPECT_EQ(d.at("event").at("data").at("purpose").as_string(), "product_development");
  for (std::uint64_t i = 1; i <= 5; ++i) {
    for (const auto& p : posts) EXPECT_EQ(p.body.find(demo::SyntheticSubjects().At(i).iin), std::string::npos);
  }
  // Delivered: marked, the attempts of the failed posts counted.
  for (const auto& r : Outbox(false)) {
    EXPECT_TRUE(r.delivered_at);
    EXPECT_EQ(r.attempts, Key(Ids(posts[0].body).back()) >= std::make_pair(r.event_seq, r.subject_id) ? 2 : 0);
  }
  EXPECT_TRUE(Outbox(true).empty());
  listed = engine().ListWebhooks(world_["admin"]).value();
  EXPECT_EQ(listed[0].failures, 0);
  EXPECT_EQ(listed[0].delivered, 20);
  EXPECT_TRUE(engine().VerifyLedger(world_["admin"]).value().ok);
}

TEST_F(Webhooks, Issue11_Webhook_a_second_webhook_holds_back_only_itself_and_rows_are_delivered_once_both_have_them) {
  Receiver up([](int) { return 200; });
  Receiver down([](int) { return 500; });
  ASSERT_TRUE(engine().AddWebhook({"crm-hook", up.Url(), secret_}, world_["admin"]));
  ASSERT_TRUE(engine().AddWebhook({"billing-hook", down.Url(), secret_}, world_["admin"]));
  auto r = engine().DeliverOutbox(api::MakeWebhookSender({}), {}, world_["admin"]).value();
  ASSERT_EQ(r.webhooks.size(), 2u);  // by name: billing-hook, crm-hook
  EXPECT_TRUE(r.webhooks[0].failed);
  EXPECT_EQ(r.webhooks[1].delivered, 20);
  EXPECT_EQ(Outbox(true).size(), 20u);  // not yet delivered to billing-hook
  // Removed, it holds nothing back: crm-hook had them all.
  ASSERT_TRUE(engine().RemoveWebhook("billing-hook", world_["admin"]));
  EXPECT_TRUE(Outbox(true).empty());
  ASSERT_TRUE(engine().DeliverOutbox(api::MakeWebhookSender({}), {}, world_["admin"]));
  EXPECT_EQ(up.count(), 1);  // nothing posted twice
  EXPECT_TRUE(engine().VerifyLedger(world_["admin"]).value().ok);
}

TEST_F(Webhooks, Issue11_Webhook_bad_input_is_refused_naming_the_field_and_only_an_administrator_manages_them) {
  auto bad = [&](rules::WebhookSpec spec, const std::string& field) {
    auto r = engine().AddWebhook(spec, world_["admin"]);
    ASSERT_FALSE(r) << spec.name;
    EXPECT_EQ(r.error().field, field) << r.error().ToString();
  };
  bad({"Crm", "http://127.0.0.1/x", secret_}, "name");
  bad({"crm", "ftp://127.0.0.1/x", secret_}, "url");
  bad({"crm", "http://user:pw@127.0.0.1/x", secret_}, "url");
  bad({"crm", "http:///x", secret_}, "url");
  bad({"crm", "http://127.0.0.1/x", "relative.secret"}, "secret_file");
  ASSERT_TRUE(engine().AddWebhook({"crm", "http://127.0.0.1:9/x", secret_}, world_["admin"]));
  bad({"crm", "http://127.0.0.1:9/y", secret_}, "name");  // exists
  EXPECT_EQ(engine().RemoveWebhook("nope", world_["admin"]).error().code, ErrorCode::kNotFound);
  for (const char* who : {"dpo", "crm", "anna"}) {
    EXPECT_EQ(engine().AddWebhook({"x", "http://127.0.0.1/x", secret_}, world_[who]).error().reason, "admin_only");
    EXPECT_EQ(engine().ListWebhooks(world_[who]).error().reason, "admin_only");
    EXPECT_EQ(engine().DeliverOutbox(api::MakeWebhookSender({}), {}, world_[who]).error().reason, "admin_only");
  }
  // The ledger says who added it and where it points (host and port, and
  // the URL's hash); a changed URL fails the audit.
  ASSERT_TRUE(engine().VerifyLedger(world_["admin"]).value().ok);
  Exec("UPDATE webhooks SET url = 'http://attacker.example/x' WHERE name = 'crm'");
  auto report = engine().VerifyLedger(world_["admin"]).value();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("webhooks (crm): differs"), std::string::npos) << report.reason;
}

// A pass that began before its webhook was removed and added again under
// the same name (a new URL, a new token) does not move the new one's cursor.
TEST_F(Webhooks, Issue11_Webhook_a_stale_pass_does_not_write_over_a_webhook_added_again) {
  ASSERT_TRUE(engine().AddWebhook({"crm-hook", "http://127.0.0.1:9/old", secret_}, world_["admin"]));
  store::WebhookRecord stale = engine().ListWebhooks(world_["admin"]).value()[0];
  ASSERT_TRUE(engine().RemoveWebhook("crm-hook", world_["admin"]));
  ASSERT_TRUE(engine().AddWebhook({"crm-hook", "http://127.0.0.1:9/new", secret_}, world_["admin"]));
  const store::WebhookRecord fresh = engine().ListWebhooks(world_["admin"]).value()[0];
  stale.cursor_seq = 1'000'000;  // as if the stale pass had delivered everything
  auto txn = inst_->store().Begin(store::Store::Mode::kWrite).value();
  EXPECT_FALSE(txn->UpdateWebhookDelivery(stale).value());
  ASSERT_TRUE(txn->Commit());
  const store::WebhookRecord after = engine().ListWebhooks(world_["admin"]).value()[0];
  EXPECT_EQ(after.cursor_seq, fresh.cursor_seq);
  EXPECT_EQ(after.cursor_subject, fresh.cursor_subject);
}

TEST_F(Webhooks, Issue11_Webhook_a_secret_file_others_can_read_is_refused_at_delivery) {
  Receiver receiver([](int) { return 200; });
  ASSERT_TRUE(engine().AddWebhook({"crm-hook", receiver.Url(), secret_}, world_["admin"]));
  std::filesystem::permissions(secret_, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto r = engine().DeliverOutbox(api::MakeWebhookSender({}), {}, world_["admin"]).value();
  EXPECT_TRUE(r.webhooks[0].failed);
  EXPECT_NE(r.webhooks[0].error.find("chmod 600"), std::string::npos) << r.webhooks[0].error;
  // Nor is a symbolic link to a good one followed.
  std::filesystem::permissions(secret_, std::filesystem::perms::group_read, std::filesystem::perm_options::remove);
  const auto link = dir_.path() / "link.secret";
  std::filesystem::create_symlink(secret_, link);
  ASSERT_TRUE(engine().AddWebhook({"link-hook", receiver.Url(), link.string()}, world_["admin"]));
  ASSERT_TRUE(engine().RemoveWebhook("crm-hook", world_["admin"]));
  r = engine().DeliverOutbox(api::MakeWebhookSender({}), {}, world_["admin"]).value();
  EXPECT_TRUE(r.webhooks[0].failed);
  EXPECT_NE(r.webhooks[0].error.find("symbolic link"), std::string::npos) << r.webhooks[0].error;
  EXPECT_EQ(receiver.count(), 0);
}

// Killed in the middle of a POST, restarted: every message arrives, the
// one in flight again (at least once), each subject's in order.
TEST_F(Webhooks, Issue11_Webhook_kill_nine_mid_delivery_loses_nothing) {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false, released = false;
  // The third POST is held until the server is dead.
  Receiver receiver([&](int n) {
    if (n == 3) {
      std::unique_lock lock(mu);
      held = true;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    return 200;
  });
  ASSERT_TRUE(engine().AddWebhook({"crm-hook", receiver.Url(), secret_}, world_["admin"]));
  const auto expected = AllIds();
  inst_.reset();  // the server opens the directory
  const std::vector<std::string> fast = {"--webhook-poll", "20", "--webhook-backoff", "20", "--webhook-batch", "3"};
  {
    testing::ServerProcess server(data_, dir_.path() / "serve1.log", fast);
    ASSERT_NE(server.WaitListening(), 0) << server.Log();
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return held; })) << server.Log();
    lock.unlock();
    server.Kill(SIGKILL);
    lock.lock();
    released = true;
    cv.notify_all();
  }
  EXPECT_EQ(receiver.count(), 3);
  {
    testing::ServerProcess server(data_, dir_.path() / "serve2.log", fast);
    ASSERT_NE(server.WaitListening(), 0) << server.Log();
    std::set<std::string> got;
    for (int i = 0; i < 1200 && got.size() < expected.size(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      got.clear();
      for (const auto& p : receiver.posts()) {
        for (const auto& id : Ids(p.body)) got.insert(id);
      }
    }
    EXPECT_EQ(got, std::set<std::string>(expected.begin(), expected.end())) << server.Log();
    server.Kill(SIGTERM);
  }
  const auto posts = receiver.posts();
  ExpectSigned(posts);
  // The batch in flight when the server died came again, first.
  ASSERT_GE(posts.size(), 4u);
  EXPECT_EQ(Ids(posts[2].body), Ids(posts[3].body));
  // In order of first arrival, each subject's messages in the order they
  // happened (a message may come twice; a new one never before an older).
  std::map<std::int64_t, std::int64_t> last_seq;
  std::set<std::string> seen;
  for (const auto& p : posts) {
    for (const auto& id : Ids(p.body)) {
      if (!seen.insert(id).second) continue;
      const auto [seq, subject] = Key(id);
      EXPECT_GT(seq, last_seq[subject]) << id;
      last_seq[subject] = seq;
    }
  }
  Open();
  EXPECT_TRUE(Outbox(true).empty());
  EXPECT_TRUE(engine().VerifyLedger(world_["admin"]).value().ok);
}

}  // namespace
}  // namespace qorgau
