#include "api/outbound.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>

#include "crypto/crypto.h"

namespace qorgau::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// The receiver's answer is read only for its status: a small bound keeps a
// misbehaving receiver from filling memory.
constexpr std::size_t kAnswerLimit = 64 * 1024;

template <typename View>
std::string Str(const View& v) {
  return std::string(v.data(), v.size());
}

struct Target {
  bool tls = false;
  std::string host;      // to connect to and to check the certificate against
  std::string port;
  std::string authority; // host[:port] as in the URL: the Host header and messages
  std::string path;      // path and query, at least "/"
};

Result<Target> ParseTarget(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(boost::urls::string_view(url.data(), url.size()));
  if (!u) return Fail(ErrorCode::kInvalidArgument, "url", "is not an absolute http:// or https:// URL");
  Target t;
  if (u->scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u->scheme_id() != boost::urls::scheme::http) {
    return Fail(ErrorCode::kInvalidArgument, "url", "must start with http:// or https://");
  }
  if (u->has_userinfo()) {
    return Fail(ErrorCode::kInvalidArgument, "url", "must not carry a user name or password");
  }
  t.host = u->host_address();
  if (t.host.empty()) return Fail(ErrorCode::kInvalidArgument, "url", "names no host");
  t.port = u->has_port() ? Str(u->port()) : (t.tls ? "443" : "80");
  t.authority = Str(u->encoded_host_and_port());
  t.path = u->encoded_path().empty() ? "/" : Str(u->encoded_path());
  if (u->has_query()) t.path += "?" + Str(u->encoded_query());
  return t;
}

// Runs one asynchronous operation to its end: the stream's expiry turns a
// step that takes too long into beast::error::timeout.
template <typename Start>
error_code Await(asio::io_context& ioc, Start start) {
  error_code result = asio::error::would_block;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

class Failure {
 public:
  Failure(const Target& t, std::string_view who) : authority_(t.authority), who_(who) {}
  tl::unexpected<Error> operator()(const std::string& what, const error_code& ec = {}) const {
    std::string message = authority_ + " " + what;
    if (ec == beast::error::timeout) {
      message += ": no answer in time";
    } else if (ec) {
      message += ": " + ec.message();
    }
    return Fail(ErrorCode::kIo, who_, message);
  }

 private:
  std::string authority_;
  std::string who_;
};

template <typename Stream>
Result<int> Exchange(asio::io_context& ioc, Stream& stream, const Target& t, std::string_view body,
                     const Headers& headers, const PostOptions& o, const Failure& fail) {
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(t.host, t.port, ec);
  if (ec) return fail("cannot be resolved", ec);
  tcp_layer.expires_after(o.timeout);
  ec = Await(ioc, [&](auto handler) { tcp_layer.async_connect(endpoints, std::move(handler)); });
  if (ec) return fail("refused the connection or cannot be reached", ec);
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    tcp_layer.expires_after(o.timeout);
    ec = Await(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, std::move(handler)); });
    if (ec) return fail("failed the TLS handshake", ec);
  }
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  req.set(http::field::host, t.authority);
  req.set(http::field::user_agent, "qorgau");
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = std::string(body);
  req.prepare_payload();
  tcp_layer.expires_after(o.timeout);
  ec = Await(ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (ec) return fail("did not take the body", ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> answer;
  answer.body_limit(kAnswerLimit);
  tcp_layer.expires_after(o.timeout);
  ec = Await(ioc, [&](auto handler) { http::async_read(stream, buffer, answer, std::move(handler)); });
  if (ec) return fail("gave no answer", ec);
  tcp_layer.close();
  const auto& res = answer.get();
  const int status = static_cast<int>(res.result_int());
  if (status < 200 || status > 299) {
    return fail("answered " + std::to_string(status) + " " + Str(res.reason()) + " (not 2xx): not accepted");
  }
  return status;
}

}  // namespace

Result<int> PostToWitness(std::string_view url, std::string_view body, const PostOptions& o) {
  return PostJson(url, body, {}, o, "witness");
}

Result<int> PostJson(std::string_view url, std::string_view body, const Headers& headers, const PostOptions& o,
                     std::string_view who) {
  QORGAU_ASSIGN_OR_RETURN(const Target t, ParseTarget(url));
  const Failure fail(t, who);
  asio::io_context ioc;
  if (!t.tls) {
    beast::tcp_stream stream(ioc);
    return Exchange(ioc, stream, t, body, headers, o, fail);
  }
  ssl::context context(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  error_code ec;
  context.set_default_verify_paths(ec);
  if (ec) return fail("cannot be checked: the system's trust store cannot be read", ec);
  if (!o.ca_file.empty()) {
    context.load_verify_file(o.ca_file, ec);
    if (ec) return Fail(ErrorCode::kInvalidArgument, "ca", "cannot be read as PEM certificates");
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  stream.set_verify_mode(ssl::verify_peer);
  // The certificate must name the host: an IP address against its IP
  // entries, a name against its DNS names (and sent as SNI).
  SSL* handle = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  error_code not_ip;
  asio::ip::make_address(t.host, not_ip);
  if (!not_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, t.host.c_str()) != 1) return fail("cannot be checked");
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, t.host.c_str(), 0) != 1 ||
        SSL_set_tlsext_host_name(handle, t.host.c_str()) != 1) {
      return fail("cannot be checked");
    }
  }
  return Exchange(ioc, stream, t, body, headers, o, fail);
}

Result<std::string> WebhookSignature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text += body;
  QORGAU_ASSIGN_OR_RETURN(const crypto::Digest mac,
                          crypto::HmacSha256(crypto::Bytes(secret.begin(), secret.end()), signed_text));
  return "t=" + std::to_string(unix_seconds) + ",v1=" + crypto::ToHex(mac);
}

Result<std::string> ReadWebhookSecret(const std::string& file) {
  // The file itself (never a symbolic link), checked and read through one
  // descriptor: a regular file of this user, readable by it alone.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Fail(ErrorCode::kIo, "secret_file",
                file + (errno == ELOOP ? " is a symbolic link; name the file itself" : " cannot be read"));
  }
  struct stat st {};
  std::string text;
  Result<void> checked;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    checked = Fail(ErrorCode::kIo, "secret_file", file + " is not a regular file");
  } else if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    checked = Fail(ErrorCode::kFailedPrecondition, "secret_file",
                   file + " must belong to this user and be readable by it only; run: chmod 600 " + file);
  } else {
    char buf[512];
    ssize_t n;
    while (text.size() < 4096 && (n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  QORGAU_TRY(checked);
  std::string secret = text.substr(0, text.find('\n'));
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  const bool printable = std::all_of(secret.begin(), secret.end(), [](unsigned char c) { return c > ' ' && c < 0x7f; });
  if (secret.size() < 32 || secret.size() > 256 || !printable) {
    return Fail(ErrorCode::kInvalidArgument, "secret_file",
                file + " must hold 32 to 256 printable characters without spaces on its first line");
  }
  return secret;
}

Result<void> CreateWebhookSecret(const std::string& file) {
  QORGAU_ASSIGN_OR_RETURN(crypto::Bytes random, crypto::RandomBytes(32));
  const std::string text = crypto::ToHex(random) + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(errno == EEXIST ? ErrorCode::kAlreadyExists : ErrorCode::kIo, "secret_file",
                file + (errno == EEXIST ? " exists" : " cannot be created"));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    return Fail(ErrorCode::kIo, "secret_file", file + " cannot be written");
  }
  return {};
}

rules::WebhookSender MakeWebhookSender(const PostOptions& options) {
  return [options](const store::WebhookRecord& w, const std::string& body) -> Result<void> {
    QORGAU_ASSIGN_OR_RETURN(const std::string secret, ReadWebhookSecret(w.secret_file));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    QORGAU_ASSIGN_OR_RETURN(const std::string signature, WebhookSignature(secret, now, body));
    QORGAU_TRY(PostJson(w.url, body, {{"Qorgau-Signature", signature}, {"Qorgau-Webhook", w.name}}, options,
                        "webhook"));
    return {};
  };
}

}  // namespace qorgau::api
