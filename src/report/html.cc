#include "report/html.h"

#include <boost/json.hpp>

namespace qorgau::report {

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Str(const boost::json::value& v) {
  if (v.is_string()) return Escape(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_null()) return "";
  return Escape(boost::json::serialize(v));
}

}  // namespace qorgau::report
