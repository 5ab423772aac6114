// What the pages' files share (web/pages.h): one request as the pages see
// it, the two frames, and small formatting helpers. Internal to src/web/.
// Thread safety: a Request belongs to one call of Pages::Handle; the
// functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/working_calendar.h"
#include "policy/policy.h"
#include "policy/policy_diff.h"
#include "rules/withdrawals.h"
#include "web/html.h"
#include "web/pages.h"
#include "web/sessions.h"

namespace qorgau::web {

inline constexpr std::string_view kSessionCookie = "qorgau_session";
inline constexpr std::string_view kLangCookie = "qorgau_lang";

// One request as the pages see it.
struct Pages::Request {
  const api::HttpRequest& http;
  std::string lang;
  std::map<std::string, std::string> form;  // a POST's fields
  std::string token;                        // the session cookie
  std::optional<Session> session;
  std::vector<std::string> set_cookies;

  std::string Field(const std::string& name) const {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  }
  std::string Query(const std::string& name) const {
    auto it = http.query.find(name);
    return it == http.query.end() ? std::string() : it->second;
  }
  std::string Cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                     bool secure) const {
    std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Strict";
    if (max_age.count() >= 0) c += "; Max-Age=" + std::to_string(max_age.count());
    if (secure) c += "; Secure";
    return c;
  }
};

// A UTC day, YYYY-MM-DD.
std::string Day(UnixMillis t);

// A consent's channel by its name in `lang` (escaped): a channel of the
// policy, or the contract method it was given by joining (R-III.3).
std::string ChannelName(const policy::Policy& p, const std::string& id, std::string_view lang);

// The frames: the navigation depends on who is signed in.
Frame PrivacyFrame(std::string_view lang, std::string title, std::string here, const std::optional<Session>& s);
Frame ConsoleFrame(std::string_view lang, std::string title, std::string here, const std::optional<Session>& s);

// Working days from the end of `now`'s day to the end of `due`'s (negative
// when `due` has passed), by the calendar loaded; a day it lacks counts 0.
int WorkingDaysBetween(const WorkingCalendar& cal, UnixMillis now, UnixMillis due);

// The id in `fields["id"]` (digits only), or 0.
std::int64_t IdOf(const std::map<std::string, std::string>& fields);

// The page's status for an engine refusal: the API's (api::StatusFor),
// except that a malformed field is 422, as a form that cannot be taken.
int PageStatus(const Error& e);

// What a withdrawal ends (R-VI.4): the consents, the services that go off,
// the data destroyed; as lists with data-purpose / data-service.
std::string PlanLists(const rules::WithdrawalPlan& plan, const policy::Policy& p, std::string_view lang);

// What changed from one edition to the next, as a table: the section,
// the entry (by its name in `to` where it has one), added/removed/changed
// with the fields, and the reason `to` gives (R-XI.1).
std::string DiffTable(const policy::PolicyDiff& diff, const policy::Policy& to, std::string_view lang);

// "<p class=hint>" with the label `key` in `lang`.
std::string Hint(std::string_view key, std::string_view lang);

}  // namespace qorgau::web
