// The HTTP test fixture: a fresh data directory with the actors and the two
// subscribers of access_world.h, the real server on a free loopback port,
// and helpers to call it over real sockets.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <string>

#include "../access_world.h"
#include "../test_util.h"
#include "api/api.h"
#include "api/server.h"
#include "app/instance.h"
#include "http_client.h"
#include "ledger/ledger.h"

namespace qorgau::api {

namespace json = boost::json;
using testing::HttpCall;
using testing::HttpResult;

inline json::value Parse(const HttpResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return ec ? json::value() : v;
}

inline std::string Code(const HttpResult& r) {
  json::value v = Parse(r);
  if (!v.is_object() || !v.as_object().contains("code")) return "";
  return std::string(v.at("code").as_string());
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    // The KEM policy with its example recipients identified, so that a
    // transfer can go (test_util.h).
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicyWithPartners(dir_.path() / "policy"), clock_));
    inst_ = app::Instance::Open(data_, clock_).value();
    world_ = testing::MakeAccessWorld(inst_->engine(), /*with_keys=*/true);
    keys_ = world_.keys;
    callers_ = world_.callers;

    api_ = std::make_unique<Api>(*inst_, metrics_, testing::ReadFile(testing::SourceDir() / "docs/openapi.yaml"));
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(o, [this](const HttpRequest& r) { return api_->Handle(r); });
    port_ = server_->Start().value();
  }
  void TearDown() override {
    server_.reset();
    api_.reset();
    inst_.reset();
  }

  HttpResult Get(const std::string& target, const std::string& who = "") {
    return HttpCall(port_, "GET", target, "", who.empty() ? "" : keys_[who]);
  }
  HttpResult Post(const std::string& target, const std::string& body, const std::string& who,
                  const std::map<std::string, std::string>& headers = {}) {
    return HttpCall(port_, "POST", target, body, keys_[who], headers);
  }
  std::int64_t Revision() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    return ledger::Revision(*txn).value();
  }
  std::vector<rules::AccessEntry> Trail(int subject) {
    return inst_->engine().AccessTrail(*callers_.at("dpo"), rules::SubjectKey::Id(subject)).value();
  }

  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  Metrics metrics_{Api::RouteNames()};
  std::unique_ptr<Api> api_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::string> keys_;
  std::map<std::string, std::shared_ptr<const rules::Caller>> callers_;
  testing::AccessWorld world_;
};

}  // namespace qorgau::api
