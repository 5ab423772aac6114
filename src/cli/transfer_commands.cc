// Transfers to recipients (R-IX.1): `transfer make`, `list`, `show`
// (rules/transfers.h); anonymised aggregates (R-IX.2): `aggregate`,
// `aggregates` (rules/aggregates.h).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/cli_util.h"

namespace qorgau::cli {
namespace {

void PrintTransfer(const store::TransferRecord& t) {
  std::cout << "transfer " << t.id << " at " << FormatUtc(t.at) << " by " << t.actor << ": to " << t.recipient
            << " (" << t.country << ", agreement " << t.agreement << ") for " << t.purpose << ", edition "
            << t.edition << "\n  categories: ";
  for (std::size_t i = 0; i < t.categories.size(); ++i) std::cout << (i ? ", " : "") << t.categories[i];
  std::cout << "\n  sent: " << t.sent << " subject(s)";
  if (!t.refused.empty()) {
    std::cout << "; left out:";
    for (const auto& [reason, n] : t.refused) std::cout << " " << reason << " " << n;
  }
  std::cout << "\n";
}

// Reads subject ids, one per line (blank lines and '#' comments skipped).
Result<std::vector<store::SubjectId>> ReadIds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kIo, "--subjects-file", "cannot read " + path);
  std::vector<store::SubjectId> ids;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    char* end = nullptr;
    errno = 0;
    const long long id = std::strtoll(line.c_str(), &end, 10);
    if (errno != 0 || end == line.c_str() || *end != '\0' || id <= 0) {
      return Fail(ErrorCode::kInvalidArgument, "--subjects-file", "line " + std::to_string(n) + " is not a subject id");
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

void RegisterTransfers(CLI::App& app, Options& opts) {
  auto* transfer = app.add_subcommand("transfer", "Transfers of subjects' data to the operator's partners (R-IX)");
  transfer->require_subcommand(1);
  struct Args {
    std::string recipient, purpose, format = "jsonl", out, subjects_file, id;
    std::vector<std::string> categories;
    std::vector<std::int64_t> subjects;
  };
  auto a = std::make_shared<Args>();
  auto* make = transfer->add_subcommand(
      "make", "Transfer subjects' data to a recipient: each subject decided on its own, those refused left out; "
              "recorded before the values are written");
  make->add_option("--recipient", a->recipient, "A recipient id of the policy (see 'policy show')")->required();
  make->add_option("--purpose", a->purpose, "The purpose the data go for")->required();
  make->add_option("--category", a->categories, "A category to send (repeatable)")->required();
  make->add_option("--subject", a->subjects, "A subject's id (repeatable)");
  make->add_option("--subjects-file", a->subjects_file, "A file of subject ids, one per line");
  make->add_option("--format", a->format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}))->capture_default_str();
  make->add_option("--out", a->out, "Write the export to this file, readable by you only (0600); the values are in it")->required();
  make->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::TransferRequest req{a->recipient, a->purpose, a->categories, {}, a->format};
      for (auto s : a->subjects) req.subjects.push_back(s);
      if (!a->subjects_file.empty()) {
        auto ids = ReadIds(a->subjects_file);
        if (!ids) return Report(ids.error());
        req.subjects.insert(req.subjects.end(), ids->begin(), ids->end());
      }
      // Opened first: a file that cannot be written stops the transfer
      // before anything is recorded. A refused transfer leaves a file that
      // was there untouched, and removes one it created.
      auto file = OwnerOnlyFile::Open(a->out);
      if (!file) return Report(Error{ErrorCode::kIo, "--out", file.error().message});
      std::ostringstream out;
      auto r = inst.engine().Transfer(req, caller, out);
      if (!r) return Report(r.error());
      if (auto written = file->Write(std::move(out).str()); !written) {
        return Report(Error{ErrorCode::kIo, "--out",
                            "transfer " + std::to_string(r->record.id) +
                                " is recorded, but its export could not be written: " + written.error().message});
      }
      PrintTransfer(r->record);
      std::cout << "  export: " << a->out << " (" << a->format << ")\n";
      return 0;
    });
  });
  auto* list = transfer->add_subcommand("list", "The register of transfers, newest first (no value, no subject)");
  list->callback([&opts] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListTransfers(caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no transfers recorded\n";
      for (const auto& t : *r) PrintTransfer(t);
      return 0;
    });
  });
  auto* show = transfer->add_subcommand("show", "One transfer of the register");
  show->add_option("id", a->id, "The transfer's id")->required();
  show->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      char* end = nullptr;
      const long long id = std::strtoll(a->id.c_str(), &end, 10);
      if (end == a->id.c_str() || *end != '\0' || id <= 0) {
        return Report(Error{ErrorCode::kInvalidArgument, "id", "must be a transfer id"});
      }
      auto r = inst.engine().GetTransfer(id, caller);
      if (!r) return Report(r.error());
      PrintTransfer(*r);
      return 0;
    });
  });
}

void RegisterAggregates(CLI::App& app, Options& opts) {
  struct Args {
    std::string purpose, sensitive, recipient, sum;
    std::vector<std::string> by;
    double epsilon = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* aggregate = app.add_subcommand(
      "aggregate", "Release anonymised counts over the subjects a purpose allows (R-IX.2): groups under k "
                   "suppressed or generalised; recorded");
  aggregate->add_option("--purpose", a->purpose, "The purpose whose subjects are counted")->required();
  aggregate->add_option("--by", a->by, "An attribute to group by: age_band, sex, tenure, service:ID (repeatable)")
      ->required();
  aggregate->add_option("--sensitive", a->sensitive, "An attribute released per group, l-diverse");
  aggregate->add_option("--recipient", a->recipient, "The recipient of the policy it is for (default: the operator)");
  aggregate->add_option("--epsilon", a->epsilon, "Laplace noise on each count, charged to the recipient's budget");
  aggregate->add_option("--sum", a->sum, "A category of value type number: each group's total of it (exact; "
                                         "suppressed where it would tell about a few subjects)");
  aggregate->add_flag("--json", a->json, "Print the release as JSON (as POST /v1/aggregates)");
  aggregate->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::AggregateRequest req{a->purpose, a->by, a->sensitive, a->recipient, std::nullopt, a->sum};
      if (a->epsilon != 0) req.epsilon = a->epsilon;
      auto r = inst.engine().ReleaseAggregate(req, caller);
      if (!r) return Report(r.error());
      if (a->json) {
        std::cout << rules::AggregateReleaseJson(*r) << "\n";
        return 0;
      }
      std::cout << "release " << r->id << " for " << r->purpose << ": " << r->population << " subject(s), k=" << r->k
                << (r->sensitive.empty() ? "" : ", l=" + std::to_string(r->l))
                << (r->epsilon ? ", epsilon=" + std::to_string(*r->epsilon) : "") << "\n  by";
      for (std::size_t i = 0; i < r->by.size(); ++i) {
        std::cout << " " << r->by[i] << (r->levels[i] ? " (generalised to level " + std::to_string(r->levels[i]) + ")" : "");
      }
      std::cout << "\n  suppressed: " << r->suppressed_subjects << " subject(s) in " << r->suppressed_groups
                << " group(s)\n";
      for (const auto& c : r->cells) {
        std::cout << " ";
        for (const auto& v : c.key) std::cout << " " << v;
        std::cout << ": " << c.count;
        for (const auto& [value, n] : c.sensitive) std::cout << " " << value << "=" << n;
        if (!r->sum.empty()) std::cout << " " << r->sum << "=" << (c.sum ? *c.sum : "(suppressed)");
        std::cout << "\n";
      }
      return 0;
    });
  });
  auto* list = app.add_subcommand("aggregates", "The aggregate releases made, newest first (the data protection officer's)");
  list->callback([&opts] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListAggregateReleases(caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no aggregates released\n";
      for (const auto& x : *r) {
        std::cout << "release " << x.id << " at " << FormatUtc(x.at) << " by " << x.actor << " for " << x.purpose
                  << (x.recipient.empty() ? "" : " to " + x.recipient) << ": " << x.body << "\n";
      }
      return 0;
    });
  });
}

}  // namespace qorgau::cli
