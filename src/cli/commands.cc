#include "cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <iostream>
#include <memory>
#include <sstream>
#include <fstream>

#include "api/outbound.h"
#include "app/instance.h"
#include "ledger/witness.h"
#include "policy/policy_loader.h"
#include "policy/policy_printer.h"
#include "cli/cli_util.h"

namespace qorgau::cli {
namespace {
void PrintSubject(const rules::SubjectView& v) {
  std::cout << "subject " << v.id << " (added " << FormatUtc(v.created_at) << ")"
            << (v.masked ? "" : " FULL VIEW") << "\n";
  for (const auto& d : v.data) {
    std::printf("  %-32s %-28s [%s]\n", d.category.c_str(), d.value.c_str(), d.provenance.c_str());
  }
}

const char* StateName(store::ConsentState s) {
  return s == store::ConsentState::kGranted ? "granted" : "withdrawn";
}

void RegisterInit(CLI::App& app, Options& opts) {
  auto policy = std::make_shared<std::string>("policies/kem/policy.yaml");
  auto* cmd = app.add_subcommand("init", "Create the data directory, keys and database, and "
                                         "publish the policy edition");
  cmd->add_option("--policy", *policy, "Policy file")->capture_default_str();
  auto calendars = std::make_shared<std::string>();
  cmd->add_option("--calendars", *calendars,
                  "Working-day calendars to import (a folder of YEAR.yaml); default: "
                  "calendars/<country> beside the policy");
  cmd->callback([&opts, policy, calendars] {
    auto r = app::Instance::Init(opts.data_dir, *policy, Clock(),
                                 calendars->empty() ? std::nullopt
                                                    : std::optional<std::filesystem::path>(*calendars));
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    std::cout << "initialised " << r->database.string() << "\n"
              << "master key: " << r->master_key_source
              << (r->master_key_source == "QORGAU_MASTER_KEY" ? "" : " (0600; keep a copy offline)")
              << "\n"
              << "policy edition " << r->edition << " published\n";
    if (r->calendar_years.empty()) {
      std::cout << "no working-day calendars found beside the policy: import them with "
                   "'qorgau calendar import' before registering applications\n";
    } else {
      std::cout << "working-day calendars imported from " << r->calendars.string() << ":";
      for (int y : r->calendar_years) std::cout << " " << y;
      std::cout << "\n";
    }
  });
}

void RegisterPolicy(CLI::App& app, Options& opts) {
  auto* policy = app.add_subcommand("policy", "Check and show policy editions");
  policy->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  auto* check = policy->add_subcommand("check", "Validate a policy file; print every problem as "
                                                "FILE:LINE:COLUMN: message");
  check->add_option("file", *file, "Policy file")->required();
  check->callback([&opts, file] {
    auto r = policy::LoadPolicyFile(*file);
    for (const auto& d : r.problems) std::cerr << d.ToString() << "\n";
    if (!r.policy) {
      std::cerr << r.problems.size() << " problem(s)\n";
      opts.exit_code = 1;
      return;
    }
    std::cout << *file << ": valid (edition " << r.policy->edition.number << ", "
              << r.policy->purposes.size() << " purposes, " << r.policy->categories.size()
              << " categories, " << r.policy->services.size() << " services)\n";
  });

  struct ShowArgs {
    std::string lang = "kk";
    std::string file;
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show = policy->add_subcommand("show", "Print the edition in force (or a file's)");
  show->add_option("--lang", show_args->lang, "kk, ru or en")
      ->check(CLI::IsMember({"kk", "ru", "en"}))
      ->capture_default_str();
  show->add_option("--file", show_args->file, "Show this file instead of the published edition");
  show->callback([&opts, show_args] {
    if (!show_args->file.empty()) {
      auto r = policy::LoadPolicyFile(show_args->file);
      if (!r.policy) {
        opts.exit_code = Report(app::PolicyError(r.problems));
        return;
      }
      std::cout << policy::FormatPolicy(*r.policy, show_args->lang);
      return;
    }
    WithInstance(opts, [&](app::Instance& inst) {
      std::cout << policy::FormatPolicy(inst.policy(), show_args->lang);
      return 0;
    });
  });
}

void RegisterSubject(CLI::App& app, Options& opts) {
  auto* subject = app.add_subcommand("subject", "Add and show data subjects");
  subject->require_subcommand(1);

  struct AddArgs {
    std::string iin, phone, name, email, provenance = "subject";
    std::vector<std::string> data;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = subject->add_subcommand("add", "Register a subject; values are stored encrypted");
  add->add_option("--iin", add_args->iin, "IIN (12 digits)")->required();
  add->add_option("--phone", add_args->phone, "Phone number (+7 7xx ..., 8 7xx ...)")->required();
  add->add_option("--name", add_args->name, "Full name");
  add->add_option("--email", add_args->email, "E-mail address");
  add->add_option("--data", add_args->data, "Another value: CATEGORY=VALUE (repeatable)");
  add->add_option("--provenance", add_args->provenance,
                  "Source: subject, service, public_source, third_party, derived")
      ->capture_default_str();
  add->callback([&opts, add_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::SubjectInput in{add_args->iin, add_args->phone, {}, add_args->provenance};
      const policy::Policy& p = inst.policy();
      auto put_typed = [&](ValueType type, const std::string& value, const char* flag) -> bool {
        if (value.empty()) return true;
        const policy::Category* c = p.FindCategoryByValue(type);
        if (!c) {
          Report(Error{ErrorCode::kNotFound, flag, "the policy has no category for it"});
          return false;
        }
        in.data[c->id] = value;
        return true;
      };
      if (!put_typed(ValueType::kName, add_args->name, "name") ||
          !put_typed(ValueType::kEmail, add_args->email, "email")) {
        return 1;
      }
      for (const auto& kv : add_args->data) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          return Report(Error{ErrorCode::kInvalidArgument, "data", "must be CATEGORY=VALUE"});
        }
        if (!in.data.emplace(kv.substr(0, eq), kv.substr(eq + 1)).second) {
          return Report(Error{ErrorCode::kInvalidArgument, kv.substr(0, eq), "given twice"});
        }
      }
      auto id = inst.engine().AddSubject(in, caller);
      if (!id) return Report(id.error());
      std::cout << "subject " << *id << " added\n";
      return 0;
    });
  });

  struct PutArgs {
    SubjectArgs subject;
    std::string category, value, provenance = "subject";
    std::int64_t application = 0;
  };
  auto put_args = std::make_shared<PutArgs>();
  auto* put = subject->add_subcommand(
      "put", "Record a value of a category a service of the subject's contracts needs (R-IV.2), or "
             "change one on a rectification application (R-IV.5)");
  put_args->subject.Add(put);
  put->add_option("--category", put_args->category, "Category id")->required();
  put->add_option("--value", put_args->value, "The value")->required();
  put->add_option("--provenance", put_args->provenance,
                  "Source: subject, service, public_source, third_party, derived")
      ->capture_default_str();
  put->add_option("--application", put_args->application,
                  "Changing a recorded value: the subject's rectification application (R-IV.5)")
      ->check(CLI::PositiveNumber);
  put->callback([&opts, put_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().PutData(put_args->subject.Key(), put_args->category, put_args->value,
                                     put_args->provenance, caller,
                                     put_args->application > 0 ? std::optional<std::int64_t>(put_args->application)
                                                               : std::nullopt);
      if (!r) return Report(r.error());
      std::cout << put_args->category << " recorded (ledger revision " << *r << ")\n";
      return 0;
    });
  });

  // Enrichment and profiling (R-X; rules/enrichment.h).
  struct EnrichArgs {
    SubjectArgs subject;
    std::string category, value, source, purpose;
    std::vector<std::string> inputs;
  };
  auto en = std::make_shared<EnrichArgs>();
  auto print_enrichment = [](const rules::EnrichmentOutcome& r) {
    const auto& e = r.record;
    std::cout << e.category << " of subject " << r.subject << " "
              << (e.kind == "derived" ? "derived" : "recorded from source " + e.source)
              << (e.agreement.empty() ? "" : " under agreement " + e.agreement) << ", for " << e.purpose
              << " (ledger event " << e.event_seq << ")\n";
  };
  auto* enrich = subject->add_subcommand(
      "enrich", "Record a value about a subject from a source of the policy, for a purpose that allows enrichment "
                "(R-X.1): public accounts, or a third party under its agreement");
  en->subject.Add(enrich);
  enrich->add_option("--category", en->category, "Category id")->required();
  enrich->add_option("--value", en->value, "The value")->required();
  enrich->add_option("--source", en->source, "A source of the policy (policy show lists them)")->required();
  enrich->add_option("--purpose", en->purpose, "What it is added for")->required();
  enrich->callback([&opts, en, print_enrichment] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().EnrichData({en->subject.Key(), en->category, en->value, en->source, en->purpose}, caller);
      if (!r) return Report(r.error());
      print_enrichment(*r);
      return 0;
    });
  });
  auto* derive = subject->add_subcommand(
      "derive", "Record an attribute derived from the subject's data (a segment; profiling, R-X.2), with its inputs");
  en->subject.Add(derive);
  derive->add_option("--category", en->category, "The derived category")->required();
  derive->add_option("--value", en->value, "The attribute (the segment)")->required();
  derive->add_option("--purpose", en->purpose, "What it is derived for")->required();
  derive->add_option("--input", en->inputs, "A category it is derived from (repeat)")->required();
  derive->callback([&opts, en, print_enrichment] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().DeriveAttribute({en->subject.Key(), en->category, en->value, en->purpose, en->inputs},
                                             caller);
      if (!r) return Report(r.error());
      print_enrichment(*r);
      return 0;
    });
  });

  struct ShowArgs {
    SubjectArgs subject;
    std::string purpose;
    std::vector<std::string> categories;
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show = subject->add_subcommand(
      "show", "Read a subject's data for a purpose: need to know, recorded in the access trail; "
              "masked unless the duty grants the full view (R-VIII.1)");
  show_args->subject.Add(show);
  show->add_option("--purpose", show_args->purpose, "The purpose of the read")->required();
  show->add_option("--category", show_args->categories,
                   "A category to read (repeatable; default: those of the duty)");
  show->callback([&opts, show_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto v = inst.engine().ReadPersonalData(caller, show_args->subject.Key(), show_args->purpose,
                                              show_args->categories);
      if (!v) return Report(v.error());
      PrintSubject(*v);
      return 0;
    });
  });
}

void RegisterConsent(CLI::App& app, Options& opts) {
  auto* consent = app.add_subcommand("consent", "Grant, withdraw and list consents");
  consent->require_subcommand(1);

  struct ChangeArgs {
    SubjectArgs subject;
    std::string purpose, channel, evidence, receipt;
    RepresentativeArgs rep;
    bool cross_border = false;
  };
  for (const bool grant : {true, false}) {
    auto args = std::make_shared<ChangeArgs>();
    auto* cmd = consent->add_subcommand(
        grant ? "grant" : "withdraw",
        grant ? "Record a consent (R-III.4)" : "Record a withdrawal of consent (R-VI)");
    args->subject.Add(cmd);
    cmd->add_option("--purpose", args->purpose, "Purpose id (see 'policy show')")->required();
    cmd->add_option("--channel", args->channel, "Channel id (see 'policy show')")->required();
    cmd->add_option("--evidence", args->evidence,
                    "Evidence reference: document, message or call-recording id, signature")
        ->required();
    cmd->add_option("--receipt", args->receipt, "Write the signed receipt to this file");
    args->rep.Add(cmd, "A legal representative acting for a minor (LAW.md §12)");
    if (grant) {
      cmd->add_flag("--cross-border", args->cross_border,
                    "The consent covers transfer abroad, to a country that does not ensure the protection of "
                    "personal data (LAW.md §8)");
    }
    cmd->callback([&opts, args, grant] {
      WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
        auto representative = args->rep.Get();
        if (!representative) return Report(representative.error());
        rules::ConsentRequest req{args->subject.Key(), args->purpose, args->channel, args->evidence,
                                  *representative, args->cross_border};
        auto r = grant ? inst.engine().GrantConsent(req, caller)
                       : inst.engine().WithdrawConsent(req, caller);
        if (!r) return Report(r.error());
        std::cout << "subject " << r->subject << ": consent to '" << r->purpose << "' "
                  << StateName(r->state) << " under edition " << r->edition << " (ledger event "
                  << r->revision << ")\n";
        return WriteReceipt(args->receipt, r->receipt);
      });
    });
  }

  auto list_args = std::make_shared<SubjectArgs>();
  auto* list = consent->add_subcommand("list", "List a subject's consents");
  list_args->Add(list);
  list->callback([&opts, list_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListConsents(caller, list_args->Key());
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no consents recorded\n";
      for (const auto& c : *r) {
        std::printf("  %-22s %-9s edition %d via %-18s evidence %-20s %s (event %lld)%s\n",
                    c.purpose.c_str(), StateName(c.state), c.edition, c.channel.c_str(),
                    c.evidence.c_str(), FormatUtc(c.changed_at).c_str(),
                    static_cast<long long>(c.event_seq), c.cross_border ? " cross-border" : "");
      }
      return 0;
    });
  });
}

// Reads a whole file, or says which one could not be read.
Result<std::string> ReadText(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, field, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<void> WriteText(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) return Fail(ErrorCode::kIo, path, "cannot write");
  return {};
}

Result<ledger::TreeHead> ReadTreeHead(const std::string& path, const std::string& field) {
  QORGAU_ASSIGN_OR_RETURN(const std::string text, ReadText(path, field));
  auto head = ledger::ParseTreeHeadJson(text);
  if (!head) return tl::unexpected(Error{head.error().code, field + "." + head.error().field, head.error().message});
  return head;
}

// audit checkpoint, consistency and check-consistency: the operator's side
// of an outside witness, and the witness's own check (ledger/witness.h).
void RegisterWitness(CLI::App& audit, Options& opts) {
  struct CheckpointArgs {
    std::string out, post, since, ca;
    int timeout = 10;
  };
  auto args = std::make_shared<CheckpointArgs>();
  auto* checkpoint = audit.add_subcommand(
      "checkpoint", "Print (or write) the latest signed tree head, for an outside witness to keep; "
                    "with --post, send it to the witness with the consistency proof from the head "
                    "the witness kept (--since)");
  checkpoint->add_option("--out", args->out, "Write it to this file instead of standard output");
  checkpoint->add_option("--post", args->post,
                         "POST the witness statement (docs/ledger-format.md) to this http:// or "
                         "https:// URL; default $QORGAU_WITNESS_URL, or `post` under "
                         "[audit.checkpoint] of --config")
      ->envname("QORGAU_WITNESS_URL");
  checkpoint->add_option("--since", args->since,
                         "The tree head the witness acknowledged last (a checkpoint file): the "
                         "statement proves the new head extends it");
  checkpoint->add_option("--ca", args->ca,
                         "PEM certificates to trust for the witness besides the system's");
  checkpoint->add_option("--timeout", args->timeout,
                         "Seconds each step (connect, TLS, send, answer) may take")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  checkpoint->callback([&opts, args] {
    auto fail = [&](const Error& e) { opts.exit_code = Report(e); };
    if (!args->since.empty() && args->post.empty()) {
      return fail(Error{ErrorCode::kInvalidArgument, "since", "only with --post (a proof for a pull: 'audit consistency')"});
    }
    ledger::WitnessStatement statement;
    if (args->since.empty()) {
      auto head = app::LatestCheckpoint(opts.data_dir, opts.as);
      if (!head) return fail(head.error());
      statement.head = std::move(*head);
    } else {
      auto since = ReadTreeHead(args->since, "since");
      if (!since) return fail(since.error());
      if (since->size < 1) return fail(Error{ErrorCode::kInvalidArgument, "since", "a head of no events"});
      auto made = app::WitnessStatementFor(opts.data_dir, opts.as, since->size, std::nullopt);
      if (!made) {
        Error e = made.error();
        if (e.field == "from") {
          e.field = "since";
          e.message += " (the witness kept " + std::to_string(since->size) +
                       "): the ledger was cut short, or the head is another ledger's";
        }
        return fail(e);
      }
      statement = std::move(*made);
    }
    const std::string text = ledger::TreeHeadJson(statement.head);
    if (args->out.empty()) {
      std::cout << text;
    } else {
      if (auto w = WriteText(args->out, text); !w) return fail(w.error());
      std::cout << "tree head of " << statement.head.size << " events written to " << args->out << "\n";
    }
    if (args->post.empty()) return;
    api::WitnessPostOptions post;
    post.ca_file = args->ca;
    post.timeout = std::chrono::seconds(args->timeout);
    auto status = api::PostToWitness(args->post, ledger::WitnessJson(statement), post);
    if (!status) return fail(status.error());
    // Standard output holds the head when no --out was given.
    (args->out.empty() ? std::cerr : std::cout) << "witness accepted the head of " << statement.head.size << " events (HTTP " << *status
              << (statement.previous_size ? ", proven to extend its head of " +
                                                std::to_string(statement.previous_size) + " events"
                                          : std::string())
              << ")\n";
  });

  struct ConsistencyArgs {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::string out;
  };
  auto cargs = std::make_shared<ConsistencyArgs>();
  auto* consistency = audit.add_subcommand(
      "consistency", "Print the witness statement (docs/ledger-format.md): a signed tree head and "
                     "the consistency proof from the head of --from events to it, for a witness "
                     "that pulls; hashes only");
  consistency->add_option("--from", cargs->from, "The size of the tree head the witness kept")->required();
  auto* to = consistency->add_option("--to", cargs->to,
                                     "The size of a signed tree head to prove (default: the latest)");
  consistency->add_option("--out", cargs->out, "Write it to this file instead of standard output");
  consistency->callback([&opts, cargs, to] {
    auto statement = app::WitnessStatementFor(opts.data_dir, opts.as, cargs->from,
                                              to->count() ? std::optional(cargs->to) : std::nullopt);
    if (!statement) {
      opts.exit_code = Report(statement.error());
      return;
    }
    const std::string text = ledger::WitnessJson(*statement);
    if (cargs->out.empty()) {
      std::cout << text;
      return;
    }
    if (auto w = WriteText(cargs->out, text); !w) {
      opts.exit_code = Report(w.error());
      return;
    }
    std::cout << "consistency proof from " << statement->previous_size << " to "
              << statement->head.size << " events written to " << cargs->out << "\n";
  });

  struct CheckArgs {
    std::string statement, previous, public_key, keep;
  };
  auto kargs = std::make_shared<CheckArgs>();
  auto* check = audit.add_subcommand(
      "check-consistency",
      "The witness's check, offline and with public keys only: the statement's head is signed by "
      "the ledger key and extends the head the witness kept (--previous); exit 1 if not");
  check->add_option("statement", kargs->statement,
                    "A witness statement (the body 'audit checkpoint --post' sends, or 'audit "
                    "consistency' prints)")
      ->required();
  check->add_option("--previous", kargs->previous,
                    "The tree head the witness kept (a checkpoint file); without it, only the "
                    "signature is checked");
  check->add_option("--public-key,--keys", kargs->public_key,
                    "The ledger's public key file, or a directory of them named <key_id>.pub "
                    "(a copy of DATA/receipt-keys)")
      ->required();
  check->add_option("--keep", kargs->keep, "Once verified, write the new head here (the next --previous)");
  check->callback([&opts, kargs] {
    auto run = [&]() -> Result<ledger::WitnessStatement> {
      QORGAU_ASSIGN_OR_RETURN(const std::string text, ReadText(kargs->statement, "statement"));
      QORGAU_ASSIGN_OR_RETURN(ledger::WitnessStatement statement, ledger::ParseWitnessJson(text));
      std::optional<ledger::TreeHead> previous;
      if (!kargs->previous.empty()) {
        QORGAU_ASSIGN_OR_RETURN(previous, ReadTreeHead(kargs->previous, "previous"));
      }
      QORGAU_ASSIGN_OR_RETURN(const crypto::PublicKeys keys, crypto::PublicKeys::FromPath(kargs->public_key));
      QORGAU_TRY(ledger::CheckWitnessStatement(statement, previous, keys));
      if (!kargs->keep.empty()) QORGAU_TRY(WriteText(kargs->keep, ledger::TreeHeadJson(statement.head)));
      return statement;
    };
    auto r = run();
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    std::cout << "witness statement verified: the head of " << r->head.size
              << " events is signed by key " << r->head.key_id;
    if (!kargs->previous.empty()) std::cout << " and extends the kept head of " << r->previous_size << " events";
    std::cout << "\n";
  });
}

void RegisterAudit(CLI::App& app, Options& opts) {
  auto* audit = app.add_subcommand("audit", "Verify the ledger, export checkpoints and consistency proofs for a witness, read the access trail");
  audit->require_subcommand(1);
  struct VerifyArgs {
    std::string checkpoint, public_key;
  };
  auto args = std::make_shared<VerifyArgs>();
  auto* verify = audit->add_subcommand(
      "verify", "Check the hash chain, the signed tree heads, the decision log and that a replay "
                "of the events gives the tables; read-only, public keys only; exit 1 at the first "
                "failure");
  verify->add_option("--checkpoint", args->checkpoint,
                     "A tree head an outside witness kept ('audit checkpoint'): detects a ledger "
                     "cut short or rewritten");
  verify->add_option("--public-key,--keys", args->public_key,
                     "The ledger's public key file, or a directory of them named <key_id>.pub "
                     "(default: DATA/receipt-keys and DATA/receipt.pub); each tree head is checked "
                     "with the key its key id names");
  verify->callback([&opts, args] {
    app::AuditRequest request{opts.as, args->public_key, {}};
    if (!args->checkpoint.empty()) {
      std::ifstream in(args->checkpoint);
      if (!in) {
        opts.exit_code = Report(Error{ErrorCode::kIo, args->checkpoint, "cannot read the checkpoint"});
        return;
      }
      std::stringstream text;
      text << in.rdbuf();
      auto head = ledger::ParseTreeHeadJson(text.str());
      if (!head) {
        opts.exit_code = Report(head.error());
        return;
      }
      request.checkpoint = *head;
    }
    auto r = app::AuditDataDirectory(opts.data_dir, request);
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    if (!r->ok) {
      std::cerr << "ledger BROKEN at event " << r->broken_seq << ": " << r->reason << "\n";
      opts.exit_code = 1;
      return;
    }
    std::cout << "ledger verified: " << r->events << " events, head " << r->head_hash << "\n"
              << "  signed tree heads, decision log and " << r->rows
              << " table rows agree with the replay of the events";
    if (r->unproven > 0) std::cout << " (" << r->unproven << " fields predate ledger format 2)";
    std::cout << "\n";
    if (request.checkpoint) {
      std::cout << "  consistent with the checkpoint of " << request.checkpoint->size << " events\n";
    }
  });

  RegisterWitness(*audit, opts);
}

}  // namespace

Result<OwnerOnlyFile> OwnerOnlyFile::Open(const std::string& path) {
  auto failed = [&](int err) {
    return Fail(ErrorCode::kIo, path, std::string("cannot write: ") + std::strerror(err));
  };
  bool created = true;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // not truncated yet
  }
  if (fd < 0) return failed(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return failed(err);
  }
  const bool regular = S_ISREG(st.st_mode);
  if (regular && (st.st_mode & 0777) != 0600 && ::fchmod(fd, 0600) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kIo, path,
                std::string("not written: its mode cannot be made owner-only (") + std::strerror(err) + ")");
  }
  return OwnerOnlyFile(path, fd, regular, created);
}

OwnerOnlyFile::OwnerOnlyFile(OwnerOnlyFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), regular_(other.regular_), created_(other.created_),
      written_(other.written_) {
  other.fd_ = -1;
}

OwnerOnlyFile::~OwnerOnlyFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  if (created_ && !written_) ::unlink(path_.c_str());
}

Result<void> OwnerOnlyFile::Write(std::string_view text) {
  int err = 0;
  if (regular_ && ::ftruncate(fd_, 0) != 0) err = errno;
  std::size_t done = 0;
  while (err == 0 && done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      err = EIO;
    } else if (errno != EINTR) {
      err = errno;
    }
  }
  if (err == 0 && regular_ && ::fsync(fd_) != 0) err = errno;
  written_ = true;  // kept, even half written: the error says so
  if (err != 0) return Fail(ErrorCode::kIo, path_, std::string("cannot write: ") + std::strerror(err));
  return {};
}

Result<void> WriteOwnerOnly(const std::string& path, std::string_view text) {
  QORGAU_ASSIGN_OR_RETURN(auto file, OwnerOnlyFile::Open(path));
  return file.Write(text);
}

void Register(CLI::App& app, Options& opts) {
  RegisterInit(app, opts);
  RegisterPolicy(app, opts);
  RegisterEditions(app, opts);
  RegisterWebhooks(app, opts);
  RegisterSubject(app, opts);
  RegisterConsent(app, opts);
  RegisterAudit(app, opts);
  RegisterEngine(app, opts);
  RegisterServe(app, opts);
  RegisterDemo(app, opts);
}

}  // namespace qorgau::cli
