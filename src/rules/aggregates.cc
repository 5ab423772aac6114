// Anonymised aggregates (R-IX.2): see aggregates.h.
#include "rules/aggregates.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <numeric>
#include <set>
#include <unordered_map>

#include "core/iin.h"
#include "core/personal_value.h"
#include "core/working_calendar.h"
#include "crypto/crypto.h"
#include "ledger/canonical_json.h"
#include "rules/demographics.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;

enum class Kind { kAge, kSex, kTenure, kService };

struct Attribute {
  std::string name;
  Kind kind;
  std::string service;  // kService
  int levels;           // the last is "*"
};

Result<Attribute> ParseAttribute(const policy::Policy& p, const std::string& name, const char* field) {
  if (name == "age_band") return Attribute{name, Kind::kAge, "", 3};
  if (name == "sex") return Attribute{name, Kind::kSex, "", 2};
  if (name == "tenure") return Attribute{name, Kind::kTenure, "", 3};
  if (name.starts_with("service:")) {
    const std::string id = name.substr(8);
    if (!p.FindService(id)) return Fail(ErrorCode::kNotFound, field, "'" + id + "' is not a service of the policy");
    return Attribute{name, Kind::kService, id, 2};
  }
  return Fail(ErrorCode::kInvalidArgument, field,
              "'" + name + "' is not an attribute (age_band, sex, tenure, service:ID)");
}

constexpr int kUnknown = -1;

std::string Band(int low, int width) { return std::to_string(low) + "-" + std::to_string(low + width - 1); }

// The value of `a` for a subject's base code at `level`.
std::string Label(const Attribute& a, int code, int level) {
  if (level >= a.levels - 1) return "*";
  if (code == kUnknown) return "unknown";
  switch (a.kind) {
    case Kind::kAge: return level == 0 ? Band(code / 10 * 10, 10) : Band(code / 20 * 20, 20);
    case Kind::kSex: return code == 0 ? "female" : "male";
    case Kind::kTenure:
      if (level == 0) return code < 1 ? "<1" : code <= 2 ? "1-2" : code <= 4 ? "3-4" : "5+";
      return code < 3 ? "<3" : "3+";
    case Kind::kService: return code ? "on" : "off";
  }
  return "*";
}

// A value as an earlier release wrote it, at a coarser `level`.
std::string Generalise(const Attribute& a, const std::string& value, int level) {
  if (value == "*" || level >= a.levels - 1) return "*";
  if (value == "unknown") return value;
  int code = 0;
  switch (a.kind) {
    case Kind::kAge: code = std::atoi(value.c_str()); break;
    case Kind::kSex: code = value == "female" ? 0 : 1; break;
    case Kind::kTenure:
      code = value == "<1" || value == "<3" ? 0 : value == "1-2" ? 1 : value == "3-4" || value == "3+" ? 3 : 5;
      break;
    case Kind::kService: code = value == "on" ? 1 : 0; break;
  }
  return Label(a, code, level);
}

// Whole years from `birth` to `on`.
int YearsBetween(std::chrono::year_month_day from, std::chrono::year_month_day on) {
  int years = static_cast<int>(on.year()) - static_cast<int>(from.year());
  if (on.month() < from.month() || (on.month() == from.month() && on.day() < from.day())) --years;
  return std::max(years, 0);
}

// A Laplace(0, 1/epsilon) draw from the operating system's randomness.
Result<double> Laplace(double epsilon) {
  QORGAU_ASSIGN_OR_RETURN(const crypto::Bytes bytes, crypto::RandomBytes(8));
  std::uint64_t v = 0;
  for (auto b : bytes) v = v << 8 | b;
  // Uniform in (-0.5, 0.5), never exactly ±0.5.
  const double u = (static_cast<double>(v >> 11) + 0.5) / 9007199254740992.0 - 0.5;
  return -(1.0 / epsilon) * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
}

bool InAudience(const index::Audience& a, SubjectId id) {
  const auto i = static_cast<std::uint64_t>(id);
  return id > 0 && (i >> 6) < a.words.size() && ((a.words[i >> 6] >> (i & 63)) & 1) != 0;
}

// What a group's total of a number category is made of: the total, how
// many subjects hold a value, the two largest absolute values and the total
// of absolute values (for the dominance rule).
struct SumStats {
  ScaledSum total = 0, total_abs = 0;
  std::int64_t holders = 0;
  std::int64_t top1 = 0, top2 = 0;
  void Add(std::int64_t v) {
    const std::int64_t a = v < 0 ? -v : v;
    total += v;
    total_abs += a;
    ++holders;
    if (a > top1) {
      top2 = top1;
      top1 = a;
    } else if (a > top2) {
      top2 = a;
    }
  }
  void Merge(const SumStats& o) {
    total += o.total;
    total_abs += o.total_abs;
    holders += o.holders;
    for (std::int64_t a : {o.top1, o.top2}) {
      if (a > top1) {
        top2 = top1;
        top1 = a;
      } else if (a > top2) {
        top2 = a;
      }
    }
  }
  // Whether a total of these would tell about a few subjects: fewer than k
  // hold a value, or the two largest are more than 85 % of it.
  bool Sensitive(int k) const {
    if (holders < k) return true;
    return (static_cast<ScaledSum>(top1) + top2) * 100 > total_abs * 85;
  }
};

struct Cell {
  std::int64_t count = 0;
  std::map<std::string, std::int64_t> sensitive;
  bool suppressed = false;
  SumStats sums;
  bool sum_hidden = false;  // the total is not shown (its count may be)
};
using Cells = std::map<std::vector<std::string>, Cell>;

// An earlier release, as its body says.
struct Earlier {
  std::vector<std::string> by;
  std::vector<int> levels;
  std::map<std::vector<std::string>, std::int64_t> cells;
  std::int64_t epsilon_milli = 0;
  std::string recipient;
  std::string sum;                                    // the category summed, or ""
  std::set<std::vector<std::string>> sum_shown;      // groups whose total was released
};

std::optional<Earlier> ReadEarlier(const store::AggregateReleaseRecord& r) {
  boost::system::error_code ec;
  const json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  Earlier e;
  e.recipient = r.recipient;
  if (const auto* x = o.if_contains("epsilon_milli"); x && x->is_int64()) e.epsilon_milli = x->get_int64();
  if (const auto* x = o.if_contains("sum"); x && x->is_string()) e.sum = std::string(x->get_string());
  const auto* by = o.if_contains("by");
  const auto* levels = o.if_contains("levels");
  const auto* cells = o.if_contains("cells");
  if (!by || !by->is_array() || !levels || !levels->is_array() || !cells || !cells->is_array()) return std::nullopt;
  for (const auto& b : by->get_array()) {
    if (!b.is_string()) return std::nullopt;
    e.by.emplace_back(b.get_string());
  }
  for (const auto& l : levels->get_array()) {
    if (!l.is_int64()) return std::nullopt;
    e.levels.push_back(static_cast<int>(l.get_int64()));
  }
  if (e.by.size() != e.levels.size()) return std::nullopt;
  for (const auto& c : cells->get_array()) {
    if (!c.is_object()) return std::nullopt;
    const auto* key = c.get_object().if_contains("key");
    const auto* count = c.get_object().if_contains("count");
    if (!key || !key->is_array() || !count || !count->is_int64()) return std::nullopt;
    std::vector<std::string> k;
    for (const auto& s : key->get_array()) {
      if (!s.is_string()) return std::nullopt;
      k.emplace_back(s.get_string());
    }
    if (const auto* sum = c.get_object().if_contains("sum"); sum && sum->is_string()) e.sum_shown.insert(k);
    e.cells[k] = count->get_int64();
  }
  return e;
}

json::object ReleaseData(const AggregateRelease& r) {
  json::array cells;
  for (const auto& c : r.cells) {
    json::object cell{{"key", json::array(c.key.begin(), c.key.end())}, {"count", c.count}};
    if (!r.sensitive.empty()) {
      json::object s;
      for (const auto& [value, n] : c.sensitive) s[value] = n;
      cell["sensitive"] = std::move(s);
    }
    if (!r.sum.empty()) {
      if (c.sum) cell["sum"] = *c.sum;
      else cell["sum_suppressed"] = true;
    }
    cells.push_back(std::move(cell));
  }
  json::object o{{"purpose", r.purpose},
                 {"recipient", r.recipient},
                 {"by", json::array(r.by.begin(), r.by.end())},
                 {"levels", json::array(r.levels.begin(), r.levels.end())},
                 {"sensitive", r.sensitive},
                 {"k", r.k},
                 {"l", r.l},
                 {"population", r.population},
                 {"suppressed_subjects", r.suppressed_subjects},
                 {"suppressed_groups", r.suppressed_groups},
                 {"cells", std::move(cells)}};
  if (r.epsilon) o["epsilon_milli"] = static_cast<std::int64_t>(std::llround(*r.epsilon * 1000));
  if (!r.sum.empty()) o["sum"] = r.sum;
  return o;
}

}  // namespace

std::string AggregateReleaseJson(const AggregateRelease& r) {
  json::object o = ReleaseData(r);
  o["id"] = r.id;
  o["at"] = FormatUtc(r.at);
  o["actor"] = r.actor;
  o["revision"] = r.revision;
  if (r.epsilon) o["epsilon"] = *r.epsilon;
  return json::serialize(o);
}

Result<AggregateRelease> Aggregates::ReleaseAggregate(const AggregateRequest& req, const Caller& caller) {
  const policy::Policy& p = *d_.policy;
  const policy::AggregateRules& rules = p.aggregates;
  // The query, before anything is read.
  QORGAU_ASSIGN_OR_RETURN(const int purpose, core_.PurposeOrdinal(req.purpose));
  if (req.by.empty() || req.by.size() > 4) {
    return Fail(ErrorCode::kInvalidArgument, "by", "name 1 to 4 attributes to group by");
  }
  std::vector<Attribute> attrs;
  for (const auto& name : req.by) {
    QORGAU_ASSIGN_OR_RETURN(Attribute a, ParseAttribute(p, name, "by"));
    for (const auto& seen : attrs) {
      if (seen.name == a.name) return Fail(ErrorCode::kInvalidArgument, "by", "'" + name + "' named twice");
    }
    attrs.push_back(std::move(a));
  }
  std::optional<Attribute> sensitive;
  if (!req.sensitive.empty()) {
    QORGAU_ASSIGN_OR_RETURN(Attribute a, ParseAttribute(p, req.sensitive, "sensitive"));
    if (std::find(req.by.begin(), req.by.end(), req.sensitive) != req.by.end()) {
      return Fail(ErrorCode::kInvalidArgument, "sensitive", "is one of the attributes grouped by");
    }
    sensitive = std::move(a);
  }
  if (!req.recipient.empty() && !p.FindRecipient(req.recipient)) {
    return Fail(ErrorCode::kNotFound, "recipient", "'" + req.recipient + "' is not a recipient of the policy");
  }
  std::int64_t epsilon_milli = 0;
  if (req.epsilon) {
    if (!(*req.epsilon >= 0.001) || *req.epsilon > 10) {
      return Fail(ErrorCode::kInvalidArgument, "epsilon", "must be between 0.001 and 10");
    }
    epsilon_milli = std::llround(*req.epsilon * 1000);
  }
  const policy::Category* sum_category = nullptr;
  if (!req.sum.empty()) {
    sum_category = p.FindCategory(req.sum);
    if (!sum_category) return Fail(ErrorCode::kNotFound, "sum", "'" + req.sum + "' is not a data category");
    if (sum_category->value != ValueType::kNumber) {
      return Fail(ErrorCode::kInvalidArgument, "sum", "'" + req.sum + "' is not a category of value type number");
    }
    if (std::none_of(sum_category->purposes.begin(), sum_category->purposes.end(),
                     [&](const policy::Ref& r) { return r.id == req.purpose; })) {
      return Refuse("category_not_allowed", "sum", "purpose '" + req.purpose + "' may not use '" + req.sum + "'");
    }
    if (req.epsilon) {
      return Fail(ErrorCode::kInvalidArgument, "epsilon",
                  "noise is added to counts only; a release with a sum is exact: ask for one or the other");
    }
  }
  // A release shows no value: the data protection officer, a system for
  // its purposes, or a duty for the purpose (and the category summed).
  {
    Scope scope{{req.purpose}, {}, {}};
    if (!req.sum.empty()) scope.categories.push_back(req.sum);
    QORGAU_TRY(Authorize(p, caller, Action::kAggregateRelease, scope));
  }

  // The earlier releases: the budget spent, and what differencing could use.
  std::vector<Earlier> earlier;
  std::int64_t spent_milli = 0;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    std::optional<Error> bad;
    QORGAU_TRY(txn->ScanAggregateReleases([&](const store::AggregateReleaseRecord& r) {
      auto e = ReadEarlier(r);
      if (!e) {
        bad = Error{ErrorCode::kCorruption, "aggregate_releases", "release " + std::to_string(r.id) + " cannot be read"};
        return;
      }
      if (r.recipient == req.recipient) spent_milli += e->epsilon_milli;
      if (r.purpose == req.purpose) earlier.push_back(std::move(*e));
    }));
    if (bad) return tl::unexpected(*bad);
  }
  if (req.epsilon) {
    if (!rules.epsilon_budget) {
      return Refuse("no_privacy_budget", "epsilon", "the policy sets no privacy budget (aggregates.epsilon_budget)");
    }
    const std::int64_t budget_milli = std::llround(*rules.epsilon_budget * 1000);
    if (spent_milli + epsilon_milli > budget_milli) {
      return Refuse("privacy_budget_spent", "epsilon",
                    "the recipient's privacy budget has " + std::to_string(budget_milli - spent_milli) +
                        " thousandths of epsilon left");
    }
  }

  // Each subject of the population as base codes: the attributes, then the
  // sensitive one.
  const UnixMillis now = d_.clock.Now();
  const auto today = LocalDateIn(CountryTimeZone(p.controller.country), now);
  const index::Audience population = d_.index.Select(purpose, false, nullptr);
  std::vector<Attribute> all = attrs;
  if (sensitive) all.push_back(*sensitive);
  const bool needs_demographics = std::any_of(all.begin(), all.end(), [](const Attribute& a) {
    return a.kind == Kind::kAge || a.kind == Kind::kSex;
  });
  // Services on, from the index (as the population is).
  std::vector<index::Audience> active(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].kind == Kind::kService) active[i] = d_.index.ActiveOn(d_.index.ServiceOrdinal(all[i].service));
  }
  // Tenure in whole years: registered on or before the end of the day
  // `n` years before today (the 29th of February: the 28th) means n or more.
  const std::string zone = CountryTimeZone(p.controller.country);
  std::vector<UnixMillis> tenure_cutoff;
  for (int n = 1; n <= 5; ++n) {
    std::chrono::year_month_day d = today - std::chrono::years(n);
    if (!d.ok()) d = d.year() / d.month() / std::chrono::last;
    tenure_cutoff.push_back(EndOfLocalDayIn(zone, d));
  }
  // Each subject's base codes, packed a byte each (kUnknown as 255), counted
  // in one pass over the store's subjects and their sealed demographics.
  std::unordered_map<std::uint64_t, std::int64_t> packed;
  std::unordered_map<std::uint64_t, SumStats> packed_sums;
  std::unordered_map<SubjectId, std::uint64_t> member;  // with a sum: each subject's group
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(crypto::Opener opener, d_.keys.DemographicsOpener());
    std::optional<Error> bad;
    QORGAU_TRY(txn->ScanSubjectDemographics([&](SubjectId id, UnixMillis created_at,
                                                std::span<const std::uint8_t> sealed) {
      if (bad || !InAudience(population, id)) return;
      std::optional<Demographics> demo;
      if (needs_demographics && !sealed.empty()) {
        auto plain = opener.Open(sealed, crypto::DemographicsAad(id));
        if (!plain) {
          bad = Error{ErrorCode::kCorruption, "demographics",
                      "subject " + std::to_string(id) + "'s sealed demographics do not open"};
          return;
        }
        demo = DecodeDemographics(*plain);
      }
      std::uint64_t key = 0;
      for (std::size_t i = 0; i < all.size(); ++i) {
        int code = kUnknown;
        switch (all[i].kind) {
          case Kind::kAge: code = demo ? std::min(YearsBetween(demo->birth, today), 254) : kUnknown; break;
          case Kind::kSex: code = demo ? (demo->sex == Sex::kFemale ? 0 : 1) : kUnknown; break;
          case Kind::kTenure:
            code = static_cast<int>(std::count_if(tenure_cutoff.begin(), tenure_cutoff.end(),
                                                  [&](UnixMillis c) { return created_at <= c; }));
            break;
          case Kind::kService: code = InAudience(active[i], id) ? 1 : 0; break;
        }
        key = key << 8 | static_cast<std::uint64_t>(code == kUnknown ? 255 : code);
      }
      ++packed[key];
      if (sum_category) member.emplace(id, key);
    }));
    if (bad) return tl::unexpected(*bad);
    // The sum's values: each opened with its subject's data key.
    if (sum_category) {
      QORGAU_TRY(txn->ScanCategoryValues(sum_category->id, [&](SubjectId id, std::span<const std::uint8_t> sealed) {
        if (bad) return;
        const auto m = member.find(id);
        if (m == member.end()) return;
        auto value = [&]() -> Result<std::int64_t> {
          QORGAU_ASSIGN_OR_RETURN(const auto subject, txn->GetSubject(id));
          if (!subject || subject->wrapped_key.empty()) return Fail(ErrorCode::kCorruption, "sum", "no data key");
          QORGAU_ASSIGN_OR_RETURN(crypto::Bytes key, d_.keys.UnwrapDataKey(id, subject->wrapped_key));
          auto plain = crypto::Open(key, crypto::Bytes(sealed.begin(), sealed.end()),
                                    crypto::PersonalDataAad(id, sum_category->id));
          crypto::Wipe(key);
          if (!plain) return tl::unexpected(plain.error());
          return ParseScaledNumber(*plain, "sum");
        }();
        if (!value) {
          bad = Error{ErrorCode::kCorruption, "sum", "subject " + std::to_string(id) + "'s value of '" +
                                                         sum_category->id + "' cannot be read as a number"};
          return;
        }
        packed_sums[m->second].Add(*value);
      }));
      if (bad) return tl::unexpected(*bad);
    }
  }
  std::map<std::vector<int>, std::int64_t> base;
  std::map<std::vector<int>, SumStats> base_sums;
  for (const auto& [key, n] : packed) {
    std::vector<int> codes(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto byte = static_cast<int>(key >> (8 * (all.size() - 1 - i)) & 0xff);
      codes[i] = byte == 255 ? kUnknown : byte;
    }
    base[codes] += n;
    if (const auto it = packed_sums.find(key); it != packed_sums.end()) base_sums[codes].Merge(it->second);
  }
  const std::int64_t total =
      std::accumulate(base.begin(), base.end(), std::int64_t{0}, [](std::int64_t s, const auto& g) { return s + g.second; });

  // The cells of a generalisation, with primary suppression.
  auto cells_at = [&](const std::vector<int>& levels) {
    Cells cells;
    for (const auto& [codes, n] : base) {
      std::vector<std::string> key;
      for (std::size_t i = 0; i < attrs.size(); ++i) key.push_back(Label(attrs[i], codes[i], levels[i]));
      Cell& c = cells[key];
      c.count += n;
      if (sensitive) c.sensitive[Label(*sensitive, codes.back(), 0)] += n;
      if (const auto it = base_sums.find(codes); it != base_sums.end()) c.sums.Merge(it->second);
    }
    for (auto& [key, c] : cells) {
      c.suppressed = c.count < rules.k || (sensitive && static_cast<int>(c.sensitive.size()) < rules.l);
    }
    return cells;
  };
  auto suppressed_subjects = [](const Cells& cells) {
    std::int64_t n = 0;
    for (const auto& [key, c] : cells) n += c.suppressed ? c.count : 0;
    return n;
  };
  // The lattice, least general first.
  std::vector<std::vector<int>> lattice{{}};
  for (const auto& a : attrs) {
    std::vector<std::vector<int>> next;
    for (const auto& node : lattice) {
      for (int l = 0; l < a.levels; ++l) {
        auto n = node;
        n.push_back(l);
        next.push_back(std::move(n));
      }
    }
    lattice = std::move(next);
  }
  std::stable_sort(lattice.begin(), lattice.end(), [](const auto& x, const auto& y) {
    return std::accumulate(x.begin(), x.end(), 0) < std::accumulate(y.begin(), y.end(), 0);
  });
  std::vector<int> chosen = lattice.back();
  for (const auto& node : lattice) {
    if (suppressed_subjects(cells_at(node)) * 100 <= total * rules.max_suppressed_percent) {
      chosen = node;
      break;
    }
  }
  Cells cells = cells_at(chosen);

  // Differencing against earlier releases whose groups nest with these.
  auto index_of = [&](const std::string& name) -> int {
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      if (attrs[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  auto suppress_smallest = [](std::vector<Cell*>& group) {
    Cell* smallest = nullptr;
    for (Cell* c : group) {
      if (!c->suppressed && (!smallest || c->count < smallest->count)) smallest = c;
    }
    if (smallest) smallest->suppressed = true;
    return smallest != nullptr;
  };
  // How an earlier release nests with this one: it is coarser (this one's
  // groups sum into its groups: `into`, each of ours by its group there)
  // or finer (its groups sum into ours: `from`, each of its by ours).
  struct Nesting {
    std::map<std::vector<std::string>, std::vector<Cell*>> into;  // e's group -> our cells
    std::map<std::vector<std::string>, std::vector<std::vector<std::string>>> from;  // our key -> e's keys
  };
  auto nest = [&](const Earlier& e) -> std::optional<Nesting> {
    Nesting n;
    bool refines = true;
    std::vector<int> at;
    for (std::size_t j = 0; j < e.by.size(); ++j) {
      const int i = index_of(e.by[j]);
      refines = refines && i >= 0 && chosen[i] <= e.levels[j];
      at.push_back(i);
    }
    if (refines) {
      for (auto& [key, c] : cells) {
        std::vector<std::string> coarse;
        for (std::size_t j = 0; j < e.by.size(); ++j) coarse.push_back(Generalise(attrs[at[j]], key[at[j]], e.levels[j]));
        n.into[coarse].push_back(&c);
      }
      return n;
    }
    bool coarser = e.by.size() >= attrs.size();
    std::vector<int> from;
    for (std::size_t i = 0; i < attrs.size() && coarser; ++i) {
      const auto j = std::find(e.by.begin(), e.by.end(), attrs[i].name) - e.by.begin();
      coarser = j < static_cast<std::ptrdiff_t>(e.by.size()) && e.levels[j] <= chosen[i];
      from.push_back(static_cast<int>(j));
    }
    if (!coarser) return std::nullopt;
    for (const auto& [key, count] : e.cells) {
      std::vector<std::string> mine;
      for (std::size_t i = 0; i < attrs.size(); ++i) mine.push_back(Generalise(attrs[i], key[from[i]], chosen[i]));
      n.from[mine].push_back(key);
    }
    return n;
  };
  // Noise hides a difference already: only exact releases are compared.
  for (const Earlier& e : req.epsilon ? std::vector<Earlier>{} : earlier) {
    if (e.epsilon_milli > 0) continue;
    auto n = nest(e);
    if (!n) continue;
    if (!n->into.empty()) {
      for (auto& [coarse, group] : n->into) {
        auto it = e.cells.find(coarse);
        if (it == e.cells.end()) continue;
        for (;;) {
          std::int64_t shown = 0;
          for (Cell* c : group) shown += c->suppressed ? 0 : c->count;
          // What the earlier group holds beyond these (or these beyond
          // it, the population having grown): 1 .. k-1 subjects would be
          // singled out by the difference.
          const std::int64_t hidden = std::abs(it->second - shown);
          if (hidden < 1 || hidden >= rules.k || !suppress_smallest(group)) break;
        }
      }
      continue;
    }
    // The earlier release refines this one: its groups sum into ours.
    for (auto& [key, c] : cells) {
      auto it = n->from.find(key);
      if (it == n->from.end() || c.suppressed) continue;
      std::int64_t shown = 0;
      for (const auto& k : it->second) shown += e.cells.at(k);
      const std::int64_t hidden = std::abs(c.count - shown);
      if (hidden >= 1 && hidden < rules.k) c.suppressed = true;
    }
  }
  // A release never hides fewer than k subjects.
  {
    std::vector<Cell*> all_cells;
    for (auto& [key, c] : cells) all_cells.push_back(&c);
    for (;;) {
      const std::int64_t hidden = suppressed_subjects(cells);
      if (hidden < 1 || hidden >= rules.k || !suppress_smallest(all_cells)) break;
    }
  }
  // Totals: hidden where they would tell about a few subjects. Any marginal
  // of these groups, at any generalisation, may be known from another
  // release (the grand total from any release that shows all its totals):
  // within each group of each marginal, the totals hidden must together be
  // safe, or the marginal less the totals shown gives them. Secondary
  // suppression hides the total with the fewest holders until they are.
  // Against an earlier finer release, a total of ours less the totals it
  // showed would give the total of those it hid: ours is hidden then.
  // Repeated until nothing changes (hiding one total can make a set unsafe).
  if (sum_category) {
    for (auto& [key, c] : cells) c.sum_hidden = c.suppressed || c.sums.Sensitive(rules.k);
    std::vector<std::vector<int>> marginals{{}};  // a level per attribute, its last "*" (left out)
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      std::vector<std::vector<int>> next;
      for (const auto& m : marginals) {
        for (int l = chosen[i]; l < attrs[i].levels; ++l) {
          auto n = m;
          n.push_back(l);
          next.push_back(std::move(n));
        }
      }
      marginals = std::move(next);
    }
    auto hide_until_safe = [&](const std::vector<Cell*>& group) {
      bool changed = false;
      for (;;) {
        SumStats hidden;
        bool any = false;
        Cell* smallest = nullptr;
        for (Cell* c : group) {
          if (c->sum_hidden) {
            hidden.Merge(c->sums);
            any = true;
          } else if (!smallest || c->sums.holders < smallest->sums.holders) {
            smallest = c;
          }
        }
        if (!any || !hidden.Sensitive(rules.k) || !smallest) return changed;
        smallest->sum_hidden = true;
        changed = true;
      }
    };
    // Earlier exact releases of the same sum whose groups sum into ours.
    std::vector<std::pair<const Earlier*, Nesting>> finer;
    for (const Earlier& e : earlier) {
      if (e.epsilon_milli > 0 || e.sum != req.sum) continue;
      if (auto n = nest(e); n && n->into.empty()) finer.emplace_back(&e, std::move(*n));
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& m : marginals) {
        std::map<std::vector<std::string>, std::vector<Cell*>> groups;
        for (auto& [key, c] : cells) {
          std::vector<std::string> g;
          for (std::size_t i = 0; i < attrs.size(); ++i) g.push_back(Generalise(attrs[i], key[i], m[i]));
          groups[g].push_back(&c);
        }
        for (const auto& [g, group] : groups) changed = hide_until_safe(group) || changed;
      }
      for (const auto& [e, n] : finer) {
        for (auto& [key, c] : cells) {
          auto it = n.from.find(key);
          if (it == n.from.end() || c.sum_hidden) continue;
          std::int64_t covered = 0;
          for (const auto& k : it->second) covered += e->sum_shown.count(k) ? e->cells.at(k) : 0;
          if (covered != c.count) {
            c.sum_hidden = true;
            changed = true;
          }
        }
      }
    }
  }

  AggregateRelease out;
  out.actor = caller.id();
  out.purpose = req.purpose;
  out.recipient = req.recipient;
  out.sensitive = req.sensitive;
  out.by = req.by;
  out.levels = chosen;
  out.k = rules.k;
  out.l = rules.l;
  out.epsilon = req.epsilon ? std::optional<double>(static_cast<double>(epsilon_milli) / 1000) : std::nullopt;
  out.population = total;
  out.sum = req.sum;
  for (const auto& [key, c] : cells) {
    if (c.suppressed) {
      out.suppressed_subjects += c.count;
      ++out.suppressed_groups;
      continue;
    }
    AggregateCell cell{key, c.count, c.sensitive, std::nullopt};
    if (sum_category && !c.sum_hidden) cell.sum = FormatScaledNumber(c.sums.total);
    if (out.epsilon) {
      QORGAU_ASSIGN_OR_RETURN(const double noise, Laplace(*out.epsilon));
      cell.count = std::max<std::int64_t>(0, std::llround(static_cast<double>(c.count) + noise));
      for (auto& [value, n] : cell.sensitive) {
        QORGAU_ASSIGN_OR_RETURN(const double s, Laplace(*out.epsilon));
        n = std::max<std::int64_t>(0, std::llround(static_cast<double>(n) + s));
      }
    }
    out.cells.push_back(std::move(cell));
  }
  if (out.cells.empty()) {
    return Refuse("nothing_releasable", "by",
                  "no group of the " + std::to_string(total) + " subjects '" + req.purpose +
                      "' may use can be released with at least " + std::to_string(rules.k) + " subjects");
  }

  // Recorded, with everything it says.
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"aggregate.released", std::nullopt, caller.id(), ReleaseData(out)};
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
    QORGAU_ASSIGN_OR_RETURN(const std::string body, ledger::CanonicalJson(ev.data));
    out.id = event.seq;
    out.at = now;
    QORGAU_TRY(txn.InsertAggregateRelease({out.id, now, out.actor, out.purpose, out.recipient,
                                           static_cast<double>(epsilon_milli) / 1000, body}));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  return out;
}

Result<std::vector<store::AggregateReleaseRecord>> Aggregates::ListAggregateReleases(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAggregatesRead));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<store::AggregateReleaseRecord> out;
  QORGAU_TRY(txn->ScanAggregateReleases([&](const store::AggregateReleaseRecord& r) { out.push_back(r); }));
  return out;
}

}  // namespace qorgau::rules
