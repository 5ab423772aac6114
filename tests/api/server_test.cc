// The edges of the HTTP service: request targets decoded strictly, UTF-8,
// the key checked before a body is read, connection limits, malformed
// HTTP, media types, an exclusive port, and heavy routes off the I/O
// threads. Real sockets on loopback; raw bytes where a client library
// would refuse to send them.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "api/server.h"
#include "api_fixture.h"
#include "http_client.h"

namespace qorgau::api {
namespace {

using testing::HttpCall;
using testing::HttpResult;
using testing::RawExchange;
using testing::RawStatus;

// The API behind a server wired as `qorgau serve` wires it: with the
// admission step, so that heavy routes run on the worker pool. Records
// which threads ran the admission step (always an I/O thread) and which
// ran each route's handler.
class EdgeTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    server_.reset();
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(
        o,
        [this](const HttpRequest& r) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            handler_threads_[r.path].insert(std::this_thread::get_id());
          }
          return api_->Handle(r);
        },
        [this](HttpRequest& head) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            io_threads_.insert(std::this_thread::get_id());
          }
          return api_->Admit(head);
        });
    port_ = server_->Start().value();
  }

  std::string Field(const HttpResult& r) {
    json::value v = Parse(r);
    if (!v.is_object() || !v.as_object().contains("field")) return "";
    return std::string(v.at("field").as_string());
  }

  std::mutex mu_;
  std::set<std::thread::id> io_threads_;
  std::map<std::string, std::set<std::thread::id>> handler_threads_;
};

sockaddr_in LoopbackAddress(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A connected loopback socket, closed at the end of its scope: for
// exchanges that RawExchange's send-then-read cannot express.
class Socket {
 public:
  explicit Socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    const sockaddr_in addr = LoopbackAddress(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    timeval timeout{20, 0};  // fail, not hang
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void Send(const std::string& bytes) {
    EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `needle` has arrived, the peer closes, or the time-out.
  std::string ReadUntil(const std::string& needle) {
    std::string got;
    char chunk[4096];
    while (got.find(needle) == std::string::npos) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_;
};

std::string Head(const std::string& method, const std::string& target, const std::string& more = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + more + "\r\n";
}

// The headers of a raw response, lower-cased, for finding one.
std::string LowerHead(const std::string& response) {
  std::string head = response.substr(0, response.find("\r\n\r\n"));
  std::transform(head.begin(), head.end(), head.begin(), ::tolower);
  return head;
}

// --- 1. Path segments and the query, percent-decoded strictly ---

TEST(RequestTarget, PathSegmentsAreDecodedEachOnItsOwn) {
  auto parts = DecodePath("/v1/obligations/DEBT%2F2024%2F17/close");
  ASSERT_TRUE(parts) << parts.error().ToString();
  EXPECT_EQ(*parts, (std::vector<std::string>{"v1", "obligations", "DEBT/2024/17", "close"}));
  EXPECT_EQ(*DecodePath("/v1//check/"), (std::vector<std::string>{"v1", "check"}));
  EXPECT_EQ(*DecodePath("/a+b/%D2%9B"), (std::vector<std::string>{"a+b", "қ"}));
}

TEST(RequestTarget, MalformedEscapesNulAndBadUtf8InThePathAreRefusedNamingThePath) {
  for (const char* bad : {"/v1/%zz", "/v1/a%", "/v1/a%2", "/v1/a%00b", "/v1/%C0%AF", "/v1/%ED%A0%80",
                          "/v1/%F4%90%80%80", "/v1/{id}", "v1/check", "*"}) {
    auto r = DecodePath(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field, "path") << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(RequestTarget, TheQueryIsDecodedStrictlyNamingTheParameter) {
  auto q = ParseQuery("a=1&b=x%20y+z&a=2&flag&=e");
  ASSERT_TRUE(q) << q.error().ToString();
  EXPECT_EQ(*q, (std::map<std::string, std::string>{{"a", "2"}, {"b", "x y z"}, {"flag", ""}, {"", "e"}}));
  EXPECT_EQ(ParseQuery("purpose=%zz").error().field, "purpose");
  EXPECT_EQ(ParseQuery("purpose=abc%").error().field, "purpose");
  EXPECT_EQ(ParseQuery("purpose=a%00").error().field, "purpose");
  EXPECT_EQ(ParseQuery("purpose=%C0%80").error().field, "purpose");
  EXPECT_EQ(ParseQuery("%zz=1").error().field, "query");
  EXPECT_EQ(ParseQuery("a=%E2%82").error().field, "a");
}

TEST_F(EdgeTest, AnObligationRefHoldingASlashIsClosedOverHttp) {
  ASSERT_TRUE(inst_->engine().OpenObligation(
      {rules::SubjectKey::Id(1), store::ObligationKind::kDebt, "DEBT/2024/17", "100"}, *callers_.at("billing")));
  HttpResult closed = Post("/v1/obligations/DEBT%2F2024%2F17/close", "", "billing");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Parse(closed).at("ref").as_string(), "DEBT/2024/17");
  EXPECT_FALSE(Parse(closed).at("open").as_bool());
}

TEST_F(EdgeTest, BadEscapesInThePathOrQueryAre400NamingWhere) {
  HttpResult path = Post("/v1/obligations/D%zz/close", "", "billing");
  EXPECT_EQ(path.status, 400) << path.body;
  EXPECT_EQ(Code(path), "invalid_argument");
  EXPECT_EQ(Field(path), "path");
  EXPECT_EQ(path.headers["content-type"], "application/problem+json");
  EXPECT_EQ(Field(Post("/v1/obligations/D%/close", "", "billing")), "path");
  HttpResult nul = Post("/v1/obligations/D%00X/close", "", "billing");
  EXPECT_EQ(nul.status, 400);
  EXPECT_EQ(Field(nul), "path");
  HttpResult query = Get("/v1/subjects/1?purpose=contract%zz", "anna");
  EXPECT_EQ(query.status, 400) << query.body;
  EXPECT_EQ(Field(query), "purpose");
  HttpResult query_nul = Get("/v1/subjects/1?purpose=contract_performance%00", "anna");
  EXPECT_EQ(query_nul.status, 400);
  EXPECT_EQ(Field(query_nul), "purpose");
  // Still decoded: an escaped letter is the letter.
  EXPECT_EQ(Get("/v1/subjects/%31?purpose=contract%5Fperformance", "anna").status, 200);
}

// --- 2. Strict UTF-8, naming the field ---

TEST_F(EdgeTest, InvalidUtf8InABodyStringIsRefusedNamingItsField) {
  const std::pair<const char*, std::string> cases[] = {
      {"purpose", R"({"purpose":"mark)" "\xC0\xA0" R"(","channel":"website","evidence":"W"})"},  // overlong
      {"evidence", R"({"purpose":"marketing","channel":"website","evidence":")" "\xED\xA0\x80" R"("})"},  // surrogate
      {"services", R"({"channel":"app_support_chat","services":["a",")" "\xF4\x90\x80\x80" R"("]})"},  // > U+10FFFF
  };
  const std::int64_t before = Revision();
  for (const auto& [field, body] : cases) {
    const std::string target = std::string(field) == "services" ? "/v1/subjects/1/withdrawals/preview"
                                                                : "/v1/subjects/1/consents";
    HttpResult r = Post(target, body, "crm");
    EXPECT_EQ(r.status, 400) << field << ": " << r.body;
    EXPECT_EQ(Code(r), "invalid_argument") << field;
    EXPECT_EQ(Field(r), field) << r.body;
  }
  // A bad Idempotency-Key (stored as text), a bad member name, and bad
  // bytes outside any string.
  EXPECT_EQ(Field(Post("/v1/subjects/1/consents", R"({"purpose":"marketing"})", "crm",
                       {{"Idempotency-Key", "k-\xC0\x80"}})),
            "idempotency-key");
  EXPECT_EQ(Field(Post("/v1/subjects/1/consents", "{\"\xC0\x80\":1}", "crm")), "body");
  EXPECT_EQ(Field(Post("/v1/subjects/1/consents", "{\"a\":1}\xFF", "crm")), "body");
  EXPECT_EQ(Revision(), before);
}

TEST_F(EdgeTest, AnImportThatIsNotUtf8IsRefused) {
  const std::string csv = "action,iin,kind,ref,amount\nopen," + demo::SyntheticSubjects().At(1).iin +
                          ",debt,D-\xED\xB0\x80,100\n";
  HttpResult r = HttpCall(port_, "POST", "/v1/obligations/import", csv, keys_.at("billing"),
                          {{"Content-Type", "text/csv"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Field(r), "body");
  EXPECT_NE(Parse(r).at("detail").as_string().find("UTF-8"), std::string::npos) << r.body;
}

// --- 3. The key is checked before the body is read ---

TEST_F(EdgeTest, TheKeyIsCheckedBeforeTheBodyIsRead) {
  // A body announced and never sent: the answer can only come from the head.
  const std::string announced = "Content-Type: application/json\r\nContent-Length: 500000\r\n";
  const std::string none = RawExchange(port_, Head("POST", "/v1/check", announced));
  EXPECT_EQ(RawStatus(none), 401) << none;
  EXPECT_NE(LowerHead(none).find("connection: close"), std::string::npos) << none;
  const std::string wrong =
      RawExchange(port_, Head("POST", "/v1/check", announced + "Authorization: Bearer qk_" + std::string(64, '0') + "\r\n"));
  EXPECT_EQ(RawStatus(wrong), 401) << wrong;
  // So are the route and the media type.
  EXPECT_EQ(RawStatus(RawExchange(port_, Head("POST", "/v1/nothing", announced))), 404);
  const std::string typed = RawExchange(
      port_, Head("POST", "/v1/check",
                  "Content-Type: application/jsonx\r\nContent-Length: 500000\r\nAuthorization: Bearer " +
                      keys_.at("crm") + "\r\n"));
  EXPECT_EQ(RawStatus(typed), 415) << typed;
}

TEST_F(EdgeTest, AnAdmittedClientThatExpects100ContinueIsToldToGoOn) {
  const std::string body = R"({"subject":1,"purpose":"marketing"})";
  Socket socket(port_);
  socket.Send(Head("POST", "/v1/check",
                   "Authorization: Bearer " + keys_.at("crm") +
                       "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n"));
  const std::string go_on = socket.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(go_on.starts_with("HTTP/1.1 100 Continue")) << go_on;
  socket.Send(body);
  const std::string answer = socket.ReadUntil("}\n");
  EXPECT_EQ(RawStatus(answer), 200) << answer;
  EXPECT_NE(answer.find("\"allow\":true"), std::string::npos) << answer;
}

TEST(ServerEdges, AnAnswerFromTheHeadLeavesTheBodyUnreadAndTheHandlerUncalled) {
  std::atomic<int> handled{0};
  ServerOptions o;
  o.port = 0;
  o.threads = 1;
  Server server(
      o, [&](const HttpRequest&) { ++handled; return HttpResponse{200, "text/plain", "ok", {}}; },
      [](HttpRequest& head) {
        Admission a;
        if (head.authorization != "let me in") a.answer = HttpResponse{401, "text/plain", "no", {}};
        return a;
      });
  const std::uint16_t port = server.Start().value();
  const std::string refused = RawExchange(port, Head("POST", "/x", "Content-Length: 100000\r\n") + "partial");
  EXPECT_EQ(RawStatus(refused), 401) << refused;
  EXPECT_EQ(handled.load(), 0);
  // Without a body the connection is kept: the next request is served.
  const std::string kept = RawExchange(
      port, Head("GET", "/x") + Head("GET", "/x", "Authorization: let me in\r\nConnection: close\r\n"));
  EXPECT_EQ(RawStatus(kept), 401);
  EXPECT_NE(kept.find("HTTP/1.1 200"), std::string::npos) << kept;
  EXPECT_EQ(handled.load(), 1);
}

// --- 4. Connection cap and per-connection limits ---

HttpResponse Ok(const HttpRequest&) { return HttpResponse{200, "text/plain", "ok", {}}; }

TEST(ServerEdges, ConnectionsOverTheCapAreAnswered503WithRetryAfter) {
  ServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.max_connections = 3;
  Server server(o, Ok);
  const std::uint16_t port = server.Start().value();
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<Socket>(port));
  const std::string busy = RawExchange(port, Head("GET", "/"));
  EXPECT_EQ(RawStatus(busy), 503) << busy;
  EXPECT_NE(LowerHead(busy).find("retry-after: 1"), std::string::npos) << busy;
  EXPECT_NE(busy.find("too_many_connections"), std::string::npos);
  // One leaves; a place frees once the server has seen it go.
  idle.pop_back();
  int status = 0;
  for (int attempt = 0; attempt < 500 && status != 200; ++attempt) {
    status = HttpCall(port, "GET", "/").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST(ServerEdges, AConnectionIsClosedAfterItsLastAllowedRequest) {
  ServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.max_requests_per_connection = 2;
  Server server(o, Ok);
  const std::uint16_t port = server.Start().value();
  const std::string three = Head("GET", "/") + Head("GET", "/") + Head("GET", "/");
  const std::string out = RawExchange(port, three);
  std::size_t answers = 0;
  for (std::size_t at = out.find("HTTP/1.1 200"); at != std::string::npos; at = out.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 2u) << out;
  std::string lower = out;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_NE(lower.find("connection: close"), std::string::npos) << out;
}

// --- 5. Malformed HTTP is answered before the close ---

void ExpectProblemThenClose(const std::string& response, int status, const std::string& what) {
  EXPECT_EQ(RawStatus(response), status) << what << ": " << response;
  const std::string head = LowerHead(response);
  EXPECT_NE(head.find("content-type: application/problem+json"), std::string::npos) << what;
  EXPECT_NE(head.find("connection: close"), std::string::npos) << what;
  EXPECT_NE(response.find("\"status\":" + std::to_string(status)), std::string::npos) << what;
}

TEST(ServerEdges, MalformedHttpIsAnsweredThenClosed) {
  ServerOptions o;
  o.port = 0;
  o.threads = 1;
  Server server(o, Ok);
  const std::uint16_t port = server.Start().value();
  ExpectProblemThenClose(RawExchange(port, Head("GET", "/", "X-Big: " + std::string(20000, 'a') + "\r\n")), 431,
                         "a head over 16 KiB");
  ExpectProblemThenClose(RawExchange(port, "GARBAGE\r\n\r\n"), 400, "a bad request line");
  ExpectProblemThenClose(RawExchange(port, "GET / HTTX/1.1\r\nHost: x\r\n\r\n"), 400, "a bad version");
  ExpectProblemThenClose(RawExchange(port, Head("POST", "/", "Content-Length: abc\r\n")), 400,
                         "Content-Length: abc");
  ExpectProblemThenClose(RawExchange(port, Head("GET", "/v1/a b")), 400, "a space in the path");
  ExpectProblemThenClose(RawExchange(port, Head("GET", "/", "Bad Header: x\r\n")), 400, "a bad header name");
  ExpectProblemThenClose(
      RawExchange(port, Head("POST", "/", "Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n"), 400,
      "a bad chunk");
  ExpectProblemThenClose(RawExchange(port, Head("GET", "/?a=%zz", "Connection: close\r\n")), 400,
                         "a bad escape in the query");
  // A body over the server's limit, announced.
  ExpectProblemThenClose(RawExchange(port, Head("POST", "/", "Content-Length: 99999999\r\n")), 413,
                         "a body over the limit");
}

// --- 6. Content-Type matched exactly ---

TEST_F(EdgeTest, TheMediaTypeIsMatchedExactly) {
  const std::string body = R"({"subject":1,"purpose":"marketing"})";
  auto check = [&](const std::string& type) {
    return HttpCall(port_, "POST", "/v1/check", body, keys_.at("crm"), {{"Content-Type", type}});
  };
  for (const char* ok : {"application/json", "application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"",
                         "application/json ;  charset=utf-8", "application/json;"}) {
    EXPECT_EQ(check(ok).status, 200) << ok;
  }
  for (const char* bad : {"application/jsonx", "application/json-seq", "application/json+x", "text/plain",
                          "application/json; charset=latin1", "application/json; boundary=x", "text/csv"}) {
    HttpResult r = check(bad);
    EXPECT_EQ(r.status, 415) << bad;
    EXPECT_EQ(Code(r), "unsupported_media_type") << bad;
    EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  }
  // A body must say what it is.
  EXPECT_EQ(check("").status, 415);
  // The import takes CSV, and only CSV.
  const std::string csv = "action,iin,kind,ref,amount\nopen," + demo::SyntheticSubjects().At(1).iin + ",debt,D-1,100\n";
  EXPECT_EQ(HttpCall(port_, "POST", "/v1/obligations/import", csv, keys_.at("billing"),
                     {{"Content-Type", "application/json"}}).status, 415);
  EXPECT_EQ(HttpCall(port_, "POST", "/v1/obligations/import", csv, keys_.at("billing"),
                     {{"Content-Type", "text/csv; charset=utf-8"}}).status, 200);
}

TEST_F(EdgeTest, TheApiAloneAlsoRefusesAWrongMediaType) {
  // Handle without Admit, as a caller with no head step uses it, checks
  // the same (after the key, as Admit does).
  HttpRequest r;
  r.method = "POST";
  r.path = "/v1/check";
  r.content_type = "application/jsonx";
  r.body = R"({"subject":1,"purpose":"marketing"})";
  EXPECT_EQ(api_->Handle(r).status, 401);
  r.authorization = "Bearer " + keys_.at("crm");
  EXPECT_EQ(api_->Handle(r).status, 415);
  r.content_type.clear();
  EXPECT_EQ(api_->Handle(r).status, 415);
  r.content_type = "application/json";
  EXPECT_EQ(api_->Handle(r).status, 200);
}

// --- 7. A port another server holds is refused ---

TEST(ServerEdges, APortAnotherServerHoldsIsRefusedNamingTheAddress) {
  ServerOptions o;
  o.port = 0;
  o.threads = 2;
  Server first(o, Ok);
  const std::uint16_t port = first.Start().value();
  o.port = port;
  Server second(o, Ok);
  auto refused = second.Start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("127.0.0.1:" + std::to_string(port) + " is in use by another process"),
            std::string::npos)
      << refused.error().ToString();
  // Nor can anyone join the port with SO_REUSEPORT, as every thread of an
  // older qorgau did.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in addr = LoopbackAddress(port);
  EXPECT_NE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  EXPECT_EQ(HttpCall(port, "GET", "/").status, 200);
}

// --- 8. Heavy work off the I/O threads ---

TEST(ServerEdges, ALightRequestIsAnsweredWhileAHeavyOneRuns) {
  // One I/O thread. The heavy handler blocks until the light request has
  // been answered: were it on the I/O thread, the light one could never be.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  ServerOptions o;
  o.port = 0;
  o.threads = 1;
  Server server(
      o,
      [&](const HttpRequest& r) {
        if (r.path == "/heavy") {
          entered.set_value();
          released.wait_for(std::chrono::seconds(60));
        }
        return HttpResponse{200, "text/plain", r.path, {}};
      },
      [](HttpRequest& head) { return Admission{std::nullopt, head.path == "/heavy"}; });
  const std::uint16_t port = server.Start().value();
  auto heavy = std::async(std::launch::async, [&] { return HttpCall(port, "GET", "/heavy"); });
  entered.get_future().wait();
  const HttpResult light = HttpCall(port, "GET", "/light");
  release.set_value();
  EXPECT_EQ(light.status, 200);
  EXPECT_EQ(light.body, "/light");
  EXPECT_EQ(heavy.get().status, 200);
}

TEST_F(EdgeTest, BatchChecksRunOnTheWorkerPoolWhileSingleChecksStayOnTheIoThreads) {
  std::string ids = "[";
  for (int i = 1; i <= 10000; ++i) ids += std::to_string(i) + (i < 10000 ? "," : "]");
  const std::string batch = R"({"purpose":"marketing","subjects":)" + ids + "}";
  std::atomic<bool> checking{true};
  std::atomic<int> batches_ok{0}, batches{0};
  std::thread flood([&] {
    while (checking || batches < 3) {
      ++batches;
      if (Post("/v1/check/batch", batch, "crm").status == 200) ++batches_ok;
    }
  });
  int checks_ok = 0;
  for (int i = 0; i < 200; ++i) {
    checks_ok += Post("/v1/check", R"({"subject":1,"purpose":"marketing"})", "crm").status == 200;
  }
  checking = false;
  flood.join();
  EXPECT_EQ(checks_ok, 200);
  EXPECT_EQ(batches_ok.load(), batches.load());
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_FALSE(handler_threads_["/v1/check/batch"].empty());
  for (auto id : handler_threads_["/v1/check/batch"]) EXPECT_EQ(io_threads_.count(id), 0u) << "a batch ran on an I/O thread";
  for (auto id : handler_threads_["/v1/check"]) EXPECT_EQ(io_threads_.count(id), 1u) << "a check left the I/O threads";
}

TEST(Routes, TheHeavyRoutesAreMarked) {
  std::set<std::string> heavy;
  for (const auto& r : Api::Routes()) {
    if (r.heavy) heavy.insert(r.method + " " + r.pattern);
  }
  EXPECT_EQ(heavy, (std::set<std::string>{"POST /v1/check/batch", "POST /v1/obligations/import",
                                          "GET /v1/audit/verify", "GET /v1/audit/consistency", "GET /v1/audit/access",
                                          "POST /v1/audience", "POST /v1/transfers", "POST /v1/aggregates",
                                          "GET /v1/statistics"}));
}

}  // namespace
}  // namespace qorgau::api
