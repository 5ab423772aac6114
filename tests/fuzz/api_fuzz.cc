// Arbitrary bytes as what a client sends on one connection to the real
// server (api::Server over loopback) in front of the real Api, on a real
// instance: a data directory created once per process, with the KEM
// policy and the actors and two subscribers of tests/access_world.h.
// State carries over from one input to the next, as it does in service.
//
// The property: nothing the client sends gets a 5xx answer, and the server
// always ends by closing the connection (one that hangs instead is caught by
// libFuzzer's -timeout, or ctest's TIMEOUT in the replay). A 500 is how the
// server reports a handler that threw; ASan and UBSan catch the rest.
//
// Two conveniences for the corpus, so that mutated inputs still reach the
// handlers: "{{actor}}" (admin, dpo, anna, crm, onboarding, billing, ...)
// is replaced by that actor's API key, and "{{len}}" by the number of
// bytes after the end of the head that follows it (the body's length).
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "../access_world.h"
#include "../api/http_client.h"
#include "api/api.h"
#include "api/server.h"
#include "app/instance.h"
#include "fuzz.h"

namespace {

using namespace qorgau;

struct Service {
  std::filesystem::path dir;
  FixedClock clock{1764150000000};
  std::unique_ptr<app::Instance> inst;
  std::map<std::string, std::string> keys;
  std::unique_ptr<api::Metrics> metrics;
  std::unique_ptr<api::Api> api;
  std::unique_ptr<api::Server> server;
  std::uint16_t port = 0;
};

// Created by the first input, stopped at exit (StopService).
std::unique_ptr<Service> service;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void StopService() {
  if (!service) return;
  service->server.reset();  // answers what is in flight, then stops
  service->api.reset();
  service->inst.reset();
  std::error_code ec;
  std::filesystem::remove_all(service->dir, ec);
  std::filesystem::remove(service->dir.string() + ".master.key", ec);
}

Service& Started() {
  if (service) return *service;
  service = std::make_unique<Service>();
  std::string tmpl = (std::filesystem::temp_directory_path() / "qorgau-fuzz-api-XXXXXX").string();
  FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr, "a temporary directory");
  service->dir = tmpl;
  const auto data = service->dir / "data";
  const std::filesystem::path source = QORGAU_SOURCE_DIR;
  auto init = app::Instance::Init(data, source / "policies/kem/policy.yaml", service->clock);
  FUZZ_CHECK(init.has_value(), "the instance initialises");
  auto inst = app::Instance::Open(data, service->clock);
  FUZZ_CHECK(inst.has_value(), "the instance opens");
  service->inst = std::move(*inst);
  service->keys =
      qorgau::testing::MakeAccessWorld(service->inst->engine(), /*with_keys=*/true).keys;
  FUZZ_CHECK(service->keys.size() == 12, "every actor of the access world has a key");
  service->metrics = std::make_unique<api::Metrics>(api::Api::RouteNames());
  service->api = std::make_unique<api::Api>(*service->inst, *service->metrics,
                                            ReadFile(source / "docs/openapi.yaml"));
  api::ServerOptions o;
  o.port = 0;
  o.threads = 2;
  api::Api& handler = *service->api;
  service->server = std::make_unique<api::Server>(
      o, [&handler](const api::HttpRequest& r) { return handler.Handle(r); },
      [&handler](api::HttpRequest& head) { return handler.Admit(head); });
  auto port = service->server->Start();
  FUZZ_CHECK(port.has_value(), "the server starts on loopback");
  service->port = *port;
  std::atexit(StopService);
  return *service;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The input with the corpus's placeholders filled in.
std::string Request(std::string_view input, const Service& s) {
  std::string bytes(input);
  if (bytes.find("{{") == std::string::npos) return bytes;
  for (const auto& [actor, key] : s.keys) ReplaceAll(bytes, "{{" + actor + "}}", key);
  const std::string kLen = "{{len}}";
  for (std::size_t at = bytes.find(kLen); at != std::string::npos; at = bytes.find(kLen, at)) {
    const std::size_t head_end = bytes.find("\r\n\r\n", at);
    const std::size_t body = head_end == std::string::npos ? bytes.size() : head_end + 4;
    const std::size_t after = bytes.size() - body;
    const std::string len = std::to_string(after);
    bytes.replace(at, kLen.size(), len);
  }
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Service& s = Started();
  const std::string request = Request(fuzz::Bytes(data, size), s);
  const qorgau::testing::RawReply reply = qorgau::testing::RawExchangeAll(s.port, request);
  // For whoever writes seeds: which statuses they get (a 401 or 404 seed
  // reaches no handler).
  if (std::getenv("QORGAU_FUZZ_TRACE")) {
    std::fprintf(stderr, "api: %zu bytes ->", request.size());
    for (int status : reply.statuses) std::fprintf(stderr, " %d", status);
    std::fprintf(stderr, "%s\n", reply.closed ? "" : " (not closed)");
  }
  if (!reply.closed) std::fprintf(stderr, "api: the exchange failed: %s\n", reply.error.c_str());
  FUZZ_CHECK(reply.closed, "the server answers and closes, or just closes");
  for (int status : reply.statuses) {
    FUZZ_CHECK(status < 500, "no input gets a 5xx answer");
  }
  return 0;
}
