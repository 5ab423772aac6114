#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

namespace qorgau::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

void SetTimeout(asio::ip::tcp::socket& socket) {
  // A test must fail, not hang, when the server stops answering.
  timeval timeout{20, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

// The status of each whole or cut-short response in `rest`, in order.
std::vector<int> Statuses(std::string_view rest) {
  std::vector<int> out;
  while (!rest.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(boost::none);
    beast::error_code ec;
    while (!parser.is_done() && !ec) {
      const std::size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == http::error::need_more) {
        if (rest.empty()) break;  // cut short
        if (used == 0) break;     // a head cut short
        ec = {};
      }
    }
    if (parser.is_header_done()) out.push_back(static_cast<int>(parser.get().result_int()));
    if (!parser.is_done()) break;
  }
  return out;
}

asio::ip::tcp::endpoint Loopback(std::uint16_t port) {
  return asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
}

template <class Stream>
HttpResult Exchange(Stream& stream, const std::string& method, const std::string& target,
                    const std::string& body, const std::string& api_key,
                    const std::map<std::string, std::string>& headers) {
  HttpResult out;
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser);
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.headers[name] = std::string(f.value());
  }
  return out;
}

}  // namespace

HttpResult HttpCall(std::uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body, const std::string& api_key,
                    const std::map<std::string, std::string>& headers) {
  return HttpCallFrom("", port, method, target, body, api_key, headers);
}

HttpResult HttpCallFrom(const std::string& source, std::uint16_t port, const std::string& method,
                        const std::string& target, const std::string& body, const std::string& api_key,
                        const std::map<std::string, std::string>& headers) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    if (!source.empty()) {
      socket.open(asio::ip::tcp::v4());
      socket.bind(asio::ip::tcp::endpoint(asio::ip::make_address(source), 0));
    }
    socket.connect(Loopback(port));
    SetTimeout(socket);
    HttpResult out = Exchange(socket, method, target, body, api_key, headers);
    beast::error_code ec;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return out;
  } catch (const std::exception&) {
    return {};
  }
}

HttpResult HttpsCall(std::uint16_t port, const std::string& ca_file, const std::string& method,
                     const std::string& target, const std::string& body, const std::string& api_key,
                     int max_tls_version) {
  try {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
    if (max_tls_version != 0) {
      // Old versions are refused by the default security level before they
      // reach the server; lower it so that only the server can say no.
      SSL_CTX_set_security_level(ctx.native_handle(), 0);
      SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx.native_handle(), max_tls_version);
    }
    beast::ssl_stream<asio::ip::tcp::socket> stream(ioc, ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.native_handle()), "127.0.0.1");
    stream.next_layer().connect(Loopback(port));
    SetTimeout(stream.next_layer());
    stream.handshake(ssl::stream_base::client);
    HttpResult out = Exchange(stream, method, target, body, api_key, {});
    beast::error_code ec;
    stream.shutdown(ec);
    return out;
  } catch (const std::exception&) {
    return {};
  }
}

std::string RawExchange(std::uint16_t port, const std::string& bytes, bool close_after_send) {
  std::string out;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect(Loopback(port));
    SetTimeout(socket);
    beast::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    if (close_after_send) socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    char chunk[4096];
    for (;;) {
      const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      out.append(chunk, n);
    }
  } catch (const std::exception&) {
  }
  return out;
}

RawReply RawExchangeAll(std::uint16_t port, const std::string& bytes) {
  RawReply out;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect(Loopback(port));
    // No timeout: a server that never closes is for the caller's watchdog.
    // A signal (libFuzzer's timer) interrupts a blocking call: go on.
    beast::error_code ec;
    // The server may answer and close before it has read everything: a
    // failed write is not the test's concern, what was answered is.
    for (std::size_t sent = 0; sent < bytes.size();) {
      sent += socket.write_some(asio::buffer(bytes.data() + sent, bytes.size() - sent), ec);
      if (ec && ec != asio::error::interrupted) break;
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    char chunk[4096];
    for (;;) {
      const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
      if (ec == asio::error::interrupted) continue;
      if (ec) {
        out.closed = ec == asio::error::eof || ec == asio::error::connection_reset;
        if (!out.closed) out.error = "read: " + ec.message();
        break;
      }
      out.bytes.append(chunk, n);
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  out.statuses = Statuses(out.bytes);
  return out;
}

int RawStatus(const std::string& response) {
  if (!response.starts_with("HTTP/1.")) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

}  // namespace qorgau::testing
