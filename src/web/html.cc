// The pages' frame and answers (web/html.h).
#include "web/html.h"

#include "report/html.h"
#include "web/i18n.h"

namespace qorgau::web {

std::string Esc(std::string_view s) { return report::Escape(s); }

namespace {

std::string WithLang(const std::string& here, std::string_view lang) {
  return here + (here.find('?') == std::string::npos ? "?lang=" : "&lang=") + std::string(lang);
}

}  // namespace

std::string Page(const Frame& f, std::string_view main) {
  const std::string_view section_title = T(f.section == "console" ? "console.title" : "privacy.title", f.lang);
  std::string out;
  out.reserve(main.size() + 2048);
  out += "<!doctype html>\n<html lang=\"";
  out += f.lang;
  out += "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>" + Esc(f.title) + " · " + Esc(section_title) + "</title>";
  out += "<link rel=\"stylesheet\" href=\"/assets/qorgau.css\">";
  for (const auto& s : f.scripts) out += "<script type=\"module\" src=\"/assets/" + Esc(s) + "\"></script>";
  out += "</head><body>";
  out += "<a class=\"skip\" href=\"#main\">" + Esc(T("nav.skip", f.lang)) + "</a>";
  out += "<header><div class=\"bar\"><span class=\"brand\">Simply · " + Esc(section_title) + "</span>";
  out += "<nav class=\"langs\" aria-label=\"" + Esc(T("lang.switch", f.lang)) + "\"><ul>";
  for (std::string_view l : kLanguages) {
    out += "<li><a href=\"" + Esc(WithLang(f.here, l)) + "\" hreflang=\"" + std::string(l) + "\" lang=\"" +
           std::string(l) + "\"" + (l == f.lang ? " aria-current=\"true\"" : "") + ">" +
           Esc(T("lang.name", l)) + "</a></li>";
  }
  out += "</ul></nav></div>";
  if (!f.nav.empty() || !f.sign_out.empty()) {
    out += "<nav class=\"main-nav\" aria-label=\"" + Esc(section_title) + "\"><ul>";
    for (const auto& [key, href] : f.nav) {
      out += "<li><a href=\"" + Esc(href) + "\">" + Esc(T(key, f.lang)) + "</a></li>";
    }
    out += "</ul>";
    if (!f.sign_out.empty()) {
      out += FormOpen(f.sign_out, f.csrf, "sign-out") + "<button type=\"submit\">" +
             Esc(T("nav.sign_out", f.lang)) + "</button></form>";
    }
    out += "</nav>";
  }
  out += "</header><main id=\"main\"><h1>" + Esc(f.title) + "</h1>";
  out += main;
  out += "</main></body></html>\n";
  return out;
}

std::string FormOpen(std::string_view action, std::string_view csrf, std::string_view css_class) {
  std::string out = "<form method=\"post\" action=\"" + Esc(action) + "\"";
  if (!css_class.empty()) out += " class=\"" + Esc(css_class) + "\"";
  out += "><input type=\"hidden\" name=\"csrf\" value=\"" + Esc(csrf) + "\">";
  return out;
}

std::string ErrorText(std::string_view text) {
  return "<div class=\"error\" role=\"alert\"><p>" + Esc(text) + "</p></div>";
}

std::string ErrorBox(const Error& e, std::string_view lang) {
  const std::string key = "refusal." + e.reason;
  const std::string_view label = T(key, lang);
  std::string out = "<div class=\"error\" role=\"alert\" data-reason=\"" + Esc(e.reason) + "\"><p>";
  if (!e.reason.empty() && label != key) {
    out += Esc(label);
  } else {
    out += Esc(T(e.reason.empty() ? "error.title" : "refusal.other", lang)) + ": " + Esc(e.message);
    if (!e.field.empty()) out += " (" + Esc(T("error.field", lang)) + ": <code>" + Esc(e.field) + "</code>)";
  }
  out += "</p></div>";
  return out;
}

api::HttpResponse HtmlResponse(int status, std::string body) {
  api::HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  return r;
}

api::HttpResponse Redirect(std::string location) {
  api::HttpResponse r = HtmlResponse(303, "");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

api::HttpResponse DocumentResponse(std::string html, std::string_view filename, bool download, bool print) {
  if (print) {
    const std::size_t at = html.find("</head>");
    if (at != std::string::npos) html.insert(at, "<script src=\"/assets/print.js\" defer></script>");
  }
  api::HttpResponse r = HtmlResponse(200, std::move(html));
  for (auto& [name, value] : r.headers) {
    if (name == "Content-Security-Policy") {
      value = std::string("default-src 'none'; style-src 'unsafe-inline'; img-src data:; ") +
              (print ? "script-src 'self'; " : "") + "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
    }
  }
  if (download) r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + std::string(filename) + "\"");
  return r;
}

}  // namespace qorgau::web
