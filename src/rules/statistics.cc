// Counts over time for the dashboard (rules/statistics.h).
#include "rules/statistics.h"

#include <boost/json.hpp>

#include "core/working_calendar.h"
#include "index/decision_index.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;
using std::chrono::sys_days;

std::int32_t DayNumber(std::chrono::year_month_day d) {
  return static_cast<std::int32_t>(sys_days(d).time_since_epoch().count());
}

}  // namespace

Result<void> Statistics::CatchUp(store::Transaction& txn) {
  // Local days in the operator's country's zone (UTC for a country qorgau
  // has no zone for; zones that are not whole hours off UTC would need the
  // lookup per event).
  const std::string zone = CountryTimeZone(d_.policy->controller.country);
  // Consecutive events mostly fall in one hour: its day is looked up once.
  std::int64_t last_hour = -1;
  std::int32_t last_day = 0;
  auto day_of = [&](UnixMillis at) {
    const std::int64_t hour = at / 3600000;
    if (hour != last_hour) {
      last_hour = hour;
      last_day = DayNumber(LocalDateIn(zone, hour * 3600000));
    }
    return last_day;
  };
  // Counted apart and merged at the end: a scan that fails half-way
  // counts nothing, and the next call reads the same events again.
  struct Seal {
    std::int64_t seq;
    std::int32_t day;
    std::int64_t first = 0, last = -1;  // the first format: a range of decision rows
  };
  std::vector<Seal> seals;
  std::map<std::int32_t, Counts> counted;
  std::int64_t next = next_seq_, height = events_;
  QORGAU_TRY(txn.ScanEvents(next_seq_, [&](const store::EventRecord& e) {
    next = e.seq + 1;
    height = e.seq;
    // The type decides whether the body is parsed at all; the parsed type
    // is what counts.
    const std::string_view body = e.body;
    if (body.find("\"type\":\"consent.") == std::string_view::npos &&
        body.find("\"type\":\"contract.joined\"") == std::string_view::npos &&
        body.find("\"type\":\"decisions.recorded\"") == std::string_view::npos) {
      return true;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return true;  // `audit verify` reports malformed events
    const json::object& o = v.as_object();
    const json::value* type = o.if_contains("type");
    const json::value* at_text = o.if_contains("at");
    if (!type || !type->is_string() || !at_text || !at_text->is_string()) return true;
    auto at = ParseUtc(std::string_view(at_text->as_string()), "at");
    if (!at) return true;
    const std::string_view t = type->as_string();
    const json::value* data = o.if_contains("data");
    const json::object* d = data && data->is_object() ? &data->as_object() : nullptr;
    const std::int32_t day = day_of(*at);
    if (t == "consent.granted") {
      ++counted[day].granted;
    } else if (t == "consent.withdrawn") {
      ++counted[day].withdrawn;
    } else if (t == "contract.joined") {
      // Consent by joining a contract (R-III.3): one per purpose given.
      const json::value* given = d ? d->if_contains("consent_by_joining") : nullptr;
      if (given && given->is_array()) counted[day].granted += static_cast<std::int64_t>(given->as_array().size());
    } else if (t == "decisions.recorded") {
      Seal seal{e.seq, day};
      const json::value* first = d ? d->if_contains("first") : nullptr;
      const json::value* last = d ? d->if_contains("last") : nullptr;
      if (first && last && first->is_int64() && last->is_int64()) {
        seal.first = first->as_int64();
        seal.last = last->as_int64();
      }
      seals.push_back(seal);
    }
    return true;
  }));
  for (const Seal& seal : seals) {
    Counts& c = counted[seal.day];
    if (seal.last >= seal.first) {
      QORGAU_TRY(txn.ScanDecisions(seal.first, seal.last, [&](const store::DecisionRecord& r) {
        if (auto reason = index::ReasonFromCode(r.reason)) ++c.decisions[static_cast<std::size_t>(*reason)];
      }));
      continue;
    }
    QORGAU_TRY(txn.ScanDecisionRequests(seal.seq, [&](const store::DecisionRequestRecord& r) {
      for (unsigned char reason : r.reasons) {
        if (reason < c.decisions.size()) ++c.decisions[reason];
      }
    }));
  }
  for (const auto& [day, c] : counted) {
    Counts& into = days_[day];
    into.granted += c.granted;
    into.withdrawn += c.withdrawn;
    for (std::size_t i = 0; i < into.decisions.size(); ++i) into.decisions[i] += c.decisions[i];
  }
  next_seq_ = next;
  events_ = height;
  return {};
}

Result<StatisticsView> Statistics::ReadStatistics(const Caller& caller,
                                                  std::optional<std::chrono::year_month_day> from_asked,
                                                  std::optional<std::chrono::year_month_day> to_asked) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kStatisticsRead));
  const std::chrono::year_month_day to =
      to_asked ? *to_asked : LocalDateIn(CountryTimeZone(d_.policy->controller.country), d_.clock.Now());
  const std::chrono::year_month_day from =
      from_asked ? *from_asked : std::chrono::year_month_day(sys_days(to) - std::chrono::days(364));
  if (!from.ok()) return Fail(ErrorCode::kInvalidArgument, "from", "not a date");
  if (!to.ok()) return Fail(ErrorCode::kInvalidArgument, "to", "not a date");
  if (sys_days(to) < sys_days(from)) return Fail(ErrorCode::kInvalidArgument, "to", "is before 'from'");
  if (sys_days(to) - sys_days(from) > std::chrono::days(3 * 366)) {
    return Fail(ErrorCode::kInvalidArgument, "from", "the range is longer than 3 years");
  }
  StatisticsView view;
  view.from = from;
  view.to = to;
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  if (auto head = txn->LatestTreeHead(); !head) {
    return tl::unexpected(head.error());
  } else if (*head) {
    view.tree_head = std::make_pair((*head)->size, (*head)->at);
  }
  std::lock_guard<std::mutex> lock(mu_);
  QORGAU_TRY(CatchUp(*txn));
  view.events = events_;
  for (sys_days d = sys_days(from); d <= sys_days(to); d += std::chrono::days(1)) {
    DayStatistics out;
    out.day = std::chrono::year_month_day(d);
    if (auto it = days_.find(DayNumber(out.day)); it != days_.end()) {
      out.granted = it->second.granted;
      out.withdrawn = it->second.withdrawn;
      out.decisions = it->second.decisions;
    }
    view.days.push_back(out);
  }
  return view;
}

std::string StatisticsJson(const StatisticsView& v) {
  json::array days;
  for (const auto& d : v.days) {
    json::object reasons;
    for (std::size_t i = 0; i < d.decisions.size(); ++i) {
      if (d.decisions[i] != 0) {
        reasons[std::string(index::ReasonCode(static_cast<index::Reason>(i)))] = d.decisions[i];
      }
    }
    days.push_back(json::object{{"day", FormatDate(d.day)},
                                {"granted", d.granted},
                                {"withdrawn", d.withdrawn},
                                {"decisions", std::move(reasons)}});
  }
  json::value head = nullptr;
  if (v.tree_head) head = json::object{{"size", v.tree_head->first}, {"at", FormatUtc(v.tree_head->second)}};
  return json::serialize(json::object{{"from", FormatDate(v.from)},
                                      {"to", FormatDate(v.to)},
                                      {"days", std::move(days)},
                                      {"ledger", json::object{{"events", v.events}, {"tree_head", std::move(head)}}}});
}

}  // namespace qorgau::rules
