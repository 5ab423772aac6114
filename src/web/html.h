// What every page shares: escaping, the frame (header, language switch,
// navigation), forms with their CSRF token, and the answer's security
// headers (web/pages.h).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http.h"
#include "core/error.h"

namespace qorgau::web {

// `s` with & < > " ' escaped, for text and attribute values.
std::string Esc(std::string_view s);

struct Frame {
  std::string_view lang;     // kk, ru or en
  std::string_view section;  // "privacy" or "console": the title and the navigation
  std::string title;         // the page's own title (escaped here)
  // The address the language links lead to (a page that takes GET), with
  // `?lang=` or `&lang=` added.
  std::string here;
  // Navigation links: label key and address, in order.
  std::vector<std::pair<std::string_view, std::string>> nav;
  // Set when someone is signed in: the sign-out form posts with it.
  std::string csrf;
  std::string sign_out;  // the sign-out address
  std::vector<std::string> scripts;  // module scripts of /assets/
};

// A whole page: the frame around `main` (HTML, already escaped).
std::string Page(const Frame& frame, std::string_view main);

// A form's opening tag with its hidden CSRF input.
std::string FormOpen(std::string_view action, std::string_view csrf, std::string_view css_class = {});

// An error box (role=alert) for `error`: its words in `lang` where the
// refusal has a label ("refusal.<reason>"), else the engine's message,
// naming the field.
std::string ErrorBox(const Error& error, std::string_view lang);
std::string ErrorText(std::string_view text);

// Answers with the pages' security headers: a strict CSP (no inline
// script or style), no sniffing, no framing, no referrer, no caching.
api::HttpResponse HtmlResponse(int status, std::string body);
api::HttpResponse Redirect(std::string location);

// A printable document of report/ (a statement): a whole page with its own
// inline style, so its CSP allows inline style and no script, but
// /assets/print.js when `print` (which opens the print dialog). `download`:
// as an attachment named `filename`.
api::HttpResponse DocumentResponse(std::string html, std::string_view filename, bool download, bool print);

}  // namespace qorgau::web
