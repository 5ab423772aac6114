// What the printable documents (the statement, the destruction act) share:
// HTML escaping of their JSON model's values.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace qorgau::report {

// `s` with & < > " ' escaped, for text and attribute values.
std::string Escape(std::string_view s);
// A JSON value as escaped text: a string as is, a number in digits, null
// as nothing, anything else serialised.
std::string Str(const boost::json::value& v);

}  // namespace qorgau::report
