#include "api/http.h"

// Boost.URL, compiled here (header-only mode): Debian's libboost1.81-dev
// ships its headers but not its library, so one translation unit includes
// its sources instead of the build linking boost_url.
#include <boost/url/src.hpp>

#include <boost/json.hpp>

#include "core/utf8.h"

namespace qorgau::api {
namespace {

namespace urls = boost::urls;

// Boost.URL's own string_view, built from pointer and size: left to
// overload resolution, a std::string_view can reach its `const char*`
// constructor, which reads to a NUL.
urls::string_view Url(std::string_view s) { return urls::string_view(s.data(), s.size()); }

tl::unexpected<Error> Bad(std::string field, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(field), std::move(message));
}

// The decoded text of one escaped piece, or why it is refused (no value in
// the message: it may be personal data).
Result<std::string> DecodePiece(std::string_view encoded, bool plus_is_space, const std::string& field) {
  auto pct = urls::make_pct_string_view(Url(encoded));
  if (!pct) return Bad(field, "has a malformed percent-escape (% and two hex digits)");
  std::string out = pct->decode(urls::encoding_opts(plus_is_space));
  if (out.find('\0') != std::string::npos) return Bad(field, "contains a NUL character (%00)");
  if (!IsValidUtf8(out)) return Bad(field, "is not valid UTF-8 once percent-decoded");
  return out;
}

}  // namespace

Result<std::vector<std::string>> DecodePath(std::string_view path) {
  if (!path.starts_with('/')) return Bad("path", "must be an absolute path (/...)");
  std::vector<std::string> out;
  std::size_t i = 1;
  while (i <= path.size()) {
    std::size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > i) {
      auto segment = DecodePiece(path.substr(i, slash - i), false, "path");
      if (!segment) return tl::unexpected(std::move(segment).error());
      out.push_back(std::move(*segment));
    }
    i = slash + 1;
  }
  // The escapes are sound; now the characters sent unescaped (Beast lets
  // through some that RFC 3986 does not, such as '"', '<' and '{').
  if (!urls::parse_path(Url(path))) return Bad("path", "contains a character that must be percent-encoded");
  return out;
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < query.size()) {
    std::size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = DecodePiece(pair.substr(0, eq), true, "query");
    if (!key) return tl::unexpected(std::move(key).error());
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = DecodePiece(pair.substr(eq + 1), true, *key);
      if (!v) return tl::unexpected(std::move(v).error());
      value = std::move(*v);
    }
    out[std::move(*key)] = std::move(value);
  }
  // RFC 3986's query characters; the escapes were checked piece by piece.
  // (Not urls::parse_query: in Boost 1.81 it reads its input to a NUL.)
  static constexpr auto kQueryChars = urls::pchars + '/' + '?' + '%';
  if (urls::grammar::find_if_not(query.data(), query.data() + query.size(), kQueryChars) !=
      query.data() + query.size()) {
    return Bad("query", "contains a character that must be percent-encoded");
  }
  return out;
}

HttpResponse ProblemResponse(int status, std::string_view title, std::string_view code,
                             std::string_view detail, std::string_view field) {
  namespace json = boost::json;
  json::object p{{"type", "urn:qorgau:problem:" + std::string(code)},
                 {"title", title},
                 {"status", status},
                 {"code", code},
                 {"detail", detail}};
  if (!field.empty()) p["field"] = field;
  return HttpResponse{status, "application/problem+json", json::serialize(p) + "\n", {}};
}

}  // namespace qorgau::api
