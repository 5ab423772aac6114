// Nothing answered is lost: the real `qorgau serve`, killed with SIGKILL
// while clients write, restarted, and asked again for everything it had
// answered (docs/architecture.md, "What a kill -9 can lose").
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "../access_world.h"
#include "../api/http_client.h"
#include "server_process.h"
#include "../test_util.h"
#include "app/instance.h"
#include "crypto/signer.h"
#include "report/receipt.h"

namespace qorgau {
namespace {

using testing::HttpCall;
using testing::HttpResult;

using testing::ServerProcess;

struct Answered {
  std::string target, body, key;
  int status = 0;
  std::string answer;
};

// A data directory with the actors and subscribers of access_world.h, its
// instance closed again for a server to open; crm's API key.
std::string MakeDataDirectory(const std::string& data, const Clock& clock) {
  if (!app::Instance::Init(data, testing::KemPolicy(), clock)) return "";
  auto inst = app::Instance::Open(data, clock);
  if (!inst) return "";
  return testing::MakeAccessWorld((*inst)->engine(), /*with_keys=*/true).keys.at("crm");
}

TEST(Durability, RepeatedKillNineUnderWriteLoadLosesNoAnsweredChangeReceiptOrIdempotencyRecord) {
  testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  FixedClock clock(1764150000000);
  const std::string crm_key = MakeDataDirectory(data, clock);
  ASSERT_FALSE(crm_key.empty());
  const auto verifier =
      crypto::Verifier::FromPem(testing::ReadFile(dir.path() / "data/receipt.pub")).value();

  std::vector<Answered> answered, unanswered;
  std::mutex mu;
  for (int round = 0; round < 3; ++round) {
    ServerProcess server(data, dir.path() / "serve.log");
    const std::uint16_t port = server.WaitListening();
    ASSERT_NE(port, 0) << server.Log();
    // Clients change consents of the two subscribers, each request with
    // its own Idempotency-Key, until the server dies under them.
    std::atomic<bool> stop{false};
    std::atomic<int> answers{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        const int subject = 1 + t % 2;
        const std::string purpose = t < 2 ? "product_development" : "marketing";
        for (int i = 0; !stop; ++i) {
          const std::string key = "r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i);
          const std::string evidence = "E-" + key;
          const bool grant = i % 2 == 0;
          Answered a;
          a.key = key;
          a.target = "/v1/subjects/" + std::to_string(subject) + (grant ? "/consents" : "/withdrawals");
          a.body = grant ? R"({"purpose":")" + purpose + R"(","channel":"mobile_app","evidence":")" + evidence + "\"}"
                         : R"({"purposes":[")" + purpose + R"("],"channel":"app_support_chat","evidence":")" +
                               evidence + "\"}";
          const HttpResult r = HttpCall(port, "POST", a.target, a.body, crm_key, {{"Idempotency-Key", key}});
          std::lock_guard<std::mutex> lock(mu);
          if (r.status == 0) {  // the server is gone, perhaps after the change
            unanswered.push_back(std::move(a));
            return;
          }
          a.status = r.status;
          a.answer = r.body;
          ++answers;
          answered.push_back(std::move(a));
        }
      });
    }
    // Killed at a different point of the load each round.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (answers < 40 + 25 * round && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server.Kill(SIGKILL);
    stop = true;
    for (auto& c : clients) c.join();
    ASSERT_GE(answers, 40 + 25 * round) << "the clients stopped before the kill";
  }

  ServerProcess server(data, dir.path() / "serve.log");
  const std::uint16_t port = server.WaitListening();
  ASSERT_NE(port, 0) << server.Log();
  int changes = 0;
  for (const auto& a : answered) {
    // The same request again gets the same answer, from the stored record:
    // the change (or the refusal) happened once and was kept.
    HttpResult again = HttpCall(port, "POST", a.target, a.body, crm_key, {{"Idempotency-Key", a.key}});
    ASSERT_EQ(again.status, a.status) << a.key << ": " << again.body;
    EXPECT_EQ(again.body, a.answer) << a.key;
    EXPECT_EQ(again.headers["idempotent-replayed"], "true") << a.key;
    if (a.status != 200 && a.status != 201) continue;
    ++changes;
    // Its receipt is stored, and the one the client got still verifies.
    const boost::json::value v = boost::json::parse(a.answer);
    const std::int64_t revision = v.at("revision").as_int64();
    const auto stored = HttpCall(port, "GET", "/v1/receipts/" + std::to_string(revision), "", crm_key);
    ASSERT_EQ(stored.status, 200) << a.key << ": " << stored.body;
    EXPECT_TRUE(report::VerifyReceipt(stored.body, verifier).ok) << a.key;
  }
  EXPECT_GT(changes, 60);
  // A request the server died under is retried: done at most once, and
  // answered now (made, refused, or "done, answer lost").
  std::map<std::string, HttpResult> retried;
  for (const auto& a : unanswered) {
    HttpResult again = HttpCall(port, "POST", a.target, a.body, crm_key, {{"Idempotency-Key", a.key}});
    EXPECT_NE(again.status, 0) << a.key;
    EXPECT_LT(again.status, 500) << a.key << ": " << again.body;
    retried[a.key] = std::move(again);
  }
  server.Kill(SIGTERM);
  // Each request's evidence is in at most one consent event; an answered
  // change's in exactly one.
  std::map<std::string, int> events;
  {
    auto inst = app::Instance::Open(data, clock).value();
    auto txn = inst->store().Begin(store::Store::Mode::kRead).value();
    const std::regex evidence(R"re("evidence":"E-([^"]+)")re");
    ASSERT_TRUE(txn->ScanEvents(1, [&](const store::EventRecord& e) {
      std::smatch m;
      if (e.body.find("\"type\":\"consent.") != std::string::npos && std::regex_search(e.body, m, evidence)) {
        ++events[m[1]];
      }
      return true;
    }));
  }
  for (const auto& [key, n] : events) EXPECT_EQ(n, 1) << key;
  // A request the server died under after making its change is known by
  // its key: the retry says so (or replays the answer), and is never run
  // again as a new request (which the engine would refuse as a repeat).
  for (auto& [key, again] : retried) {
    if (events[key] == 0) continue;
    const bool fresh_success = (again.status == 200 || again.status == 201) &&
                               again.headers["idempotent-replayed"].empty();
    const bool known = again.headers["idempotent-replayed"] == "true" ||
                       again.body.find("idempotency_answer_lost") != std::string::npos;
    EXPECT_TRUE(fresh_success || known) << key << ": " << again.status << " " << again.body;
  }
  for (const auto& a : answered) {
    if (a.status == 200 || a.status == 201) {
      EXPECT_EQ(events[a.key], 1) << a.key;
    }
  }
  // The ledger proves the state the three crashes left.
  const auto verify = testing::RunQorgau({"--data", data, "--as", "dpo", "audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(Durability, AFullDiskIsAnswered503WithRetryAfterChangesNothingAndTheServerStaysUp) {
  testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  FixedClock clock(1764150000000);
  const std::string crm_key = MakeDataDirectory(data, clock);
  ASSERT_FALSE(crm_key.empty());
  ServerProcess server(data, dir.path() / "serve.log");
  const std::uint16_t port = server.WaitListening();
  ASSERT_NE(port, 0) << server.Log();
  ASSERT_TRUE(server.LimitFileSize(16 * 1024));
  auto grant = [&](int i) {
    return HttpCall(port, "POST", "/v1/subjects/1/consents",
                    R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-)" +
                        std::to_string(i) + "\"}",
                    crm_key);
  };
  auto withdraw = [&](int i) {
    return HttpCall(port, "POST", "/v1/subjects/1/withdrawals",
                    R"({"purposes":["product_development"],"channel":"app_support_chat","evidence":"CHAT-)" +
                        std::to_string(i) + "\"}",
                    crm_key);
  };
  // The disk fills up within a few changes.
  HttpResult full;
  int i = 0;
  for (; i < 50; ++i) {
    full = i % 2 == 0 ? grant(i) : withdraw(i);
    if (full.status != 200 && full.status != 201) break;
  }
  ASSERT_EQ(full.status, 503) << full.body;
  EXPECT_EQ(full.headers["retry-after"], "5");
  EXPECT_NE(full.body.find("store_unavailable"), std::string::npos) << full.body;
  // Still up: health and reads answer.
  EXPECT_EQ(HttpCall(port, "GET", "/healthz").status, 200);
  const HttpResult consents = HttpCall(port, "GET", "/v1/subjects/1/consents", "", crm_key);
  EXPECT_TRUE(consents.status == 200 || consents.status == 503) << consents.body;
  // Room again: the same change goes through.
  ASSERT_TRUE(server.LimitFileSize(RLIM_INFINITY));
  const HttpResult again = i % 2 == 0 ? grant(i) : withdraw(i);
  EXPECT_TRUE(again.status == 200 || again.status == 201) << again.body;
  server.Kill(SIGTERM);
  const auto verify = testing::RunQorgau({"--data", data, "--as", "dpo", "audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace qorgau
