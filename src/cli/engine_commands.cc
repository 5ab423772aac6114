// The consent engine's commands: contracts, services, obligations,
// withdrawal, decisions, audiences and receipts.
#include <tuple>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/key_rotation.h"
#include "cli/cli_util.h"
#include "crypto/public_keys.h"
#include "crypto/signer.h"
#include "report/receipt.h"

namespace qorgau::cli {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "-" : out;
}

void RegisterContract(CLI::App& app, Options& opts) {
  auto* contract = app.add_subcommand("contract", "Join and end contracts (R-III.2, R-VII)");
  contract->require_subcommand(1);
  struct Args {
    SubjectArgs subject;
    std::string method, evidence, receipt;
    std::vector<std::string> services;
    RepresentativeArgs rep;
  };
  auto args = std::make_shared<Args>();
  auto* join = contract->add_subcommand("join", "Join a contract for services; joining gives "
                                                "the consent its services rest on (R-III.3)");
  args->subject.Add(join);
  join->add_option("--method", args->method, "form, application or sms (or the policy's ids)")
      ->required();
  join->add_option("--services", args->services, "Service ids, comma-separated")
      ->required()
      ->delimiter(',');
  join->add_option("--evidence", args->evidence,
                   "The form, application or SMS reference: the evidence of the consent joining gives (Art. 8)")
      ->required();
  join->add_option("--receipt", args->receipt, "Write the signed receipt to this file");
  args->rep.Add(join, "A legal representative joining for a minor (LAW.md §12)");
  join->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto representative = args->rep.Get();
      if (!representative) return Report(representative.error());
      auto r = inst.engine().JoinContract(
          {args->subject.Key(), args->method, args->services, args->evidence, *representative}, caller);
      if (!r) return Report(r.error());
      std::cout << "subject " << r->subject << ": contract " << r->contract_id << " joined\n"
                << "  services on: " << Join(r->services) << "\n"
                << "  consent by joining (R-III.3): " << Join(r->contract_purposes) << "\n"
                << "  consents granted: " << Join(r->consents_granted) << "\n"
                << "  ledger revision " << r->revision << "\n";
      return WriteReceipt(args->receipt, r->receipt);
    });
  });

  struct EndArgs {
    SubjectArgs subject;
    std::int64_t contract = 0;
    std::string evidence;
  };
  auto end_args = std::make_shared<EndArgs>();
  auto* end = contract->add_subcommand("end", "End a contract; its services go off, and retention periods "
                                              "that count from the relationship's end start (R-VII)");
  end_args->subject.Add(end);
  end->add_option("--contract", end_args->contract, "The contract's id (as 'contract join' printed it)")->required();
  end->add_option("--evidence", end_args->evidence,
                  "The termination's reference: the subject's application or the operator's notice")
      ->required();
  end->callback([&opts, end_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().EndContract({end_args->subject.Key(), end_args->contract, end_args->evidence}, caller);
      if (!r) return Report(r.error());
      std::cout << "subject " << r->subject << ": contract " << r->contract << " ended\n"
                << "  services off: " << Join(r->services_off) << "\n"
                << "  destroyed at once (R-VI.4): " << Join(r->destroyed) << "\n"
                << "  relationship: " << (r->relationship_ended ? "ended (no contract in force)" : "goes on")
                << "\n  ledger revision " << r->revision << "\n";
      return 0;
    });
  });
}

void RegisterService(CLI::App& app, Options& opts) {
  auto* service = app.add_subcommand("service", "Switch services on and off");
  service->require_subcommand(1);
  for (const bool enable : {true, false}) {
    struct Args {
      SubjectArgs subject;
      std::string service, application, channel, evidence, receipt;
      std::optional<std::int64_t> application_id;
      RepresentativeArgs rep;
    };
    auto args = std::make_shared<Args>();
    auto* cmd = service->add_subcommand(
        enable ? "enable" : "disable",
        enable ? "Switch a service on; switching it back on may need a written application "
                 "and a new consent (R-VI.5)"
               : "Switch a service off (consents stay as they are)");
    args->subject.Add(cmd);
    cmd->add_option("--service", args->service, "Service id")->required();
    if (enable) {
      cmd->add_option("--application", args->application, "Written application reference");
      cmd->add_option("--application-id", args->application_id,
                      "The re-enabling application (request file --kind reenabling) this carries out; "
                      "its channel and reference are the new consent's, and it is answered or refused");
      cmd->add_option("--channel", args->channel, "Channel of the new consent");
      cmd->add_option("--evidence", args->evidence, "Evidence of the new consent");
      cmd->add_option("--receipt", args->receipt, "Write the signed receipt to this file");
      args->rep.Add(cmd, "A legal representative acting for a minor (LAW.md §12)");
    }
    cmd->callback([&opts, args, enable] {
      WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
        auto representative = args->rep.Get();
        if (!representative) return Report(representative.error());
        rules::ServiceRequest req{args->subject.Key(), args->service,        args->application,
                                  args->channel,       args->evidence,       args->application_id,
                                  *representative};
        auto r = enable ? inst.engine().EnableService(req, caller)
                        : inst.engine().DisableService(req, caller);
        if (!r) return Report(r.error());
        std::cout << "subject " << r->subject << ": service '" << r->service << "' "
                  << (r->active ? "on" : "off") << " (ledger revision " << r->revision << ")\n";
        if (!r->consents_granted.empty()) {
          std::cout << "  consents granted: " << Join(r->consents_granted) << "\n";
        }
        return WriteReceipt(args->receipt, r->receipt);
      });
    });
  }
  auto list_args = std::make_shared<SubjectArgs>();
  auto* list = service->add_subcommand("list", "List a subject's services");
  list_args->Add(list);
  list->callback([&opts, list_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListServices(caller, list_args->Key());
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no services\n";
      for (const auto& s : *r) {
        std::cout << "  " << s.service << ": " << (s.active ? "on" : "off") << " (contract "
                  << s.contract_id << ", since " << FormatUtc(s.changed_at) << ")\n";
      }
      return 0;
    });
  });
}

void RegisterObligation(CLI::App& app, Options& opts) {
  auto* obligation = app.add_subcommand("obligation", "Debts, instalments and legal holds, "
                                                      "which block withdrawal (R-VI.3)");
  obligation->require_subcommand(1);

  struct OpenArgs {
    SubjectArgs subject;
    std::string kind, ref, amount;
    std::vector<std::string> categories;
  };
  auto open_args = std::make_shared<OpenArgs>();
  auto* open = obligation->add_subcommand("open", "Open an obligation");
  open_args->subject.Add(open);
  open->add_option("--kind", open_args->kind, "debt, instalment or legal_hold")
      ->required()
      ->check(CLI::IsMember({"debt", "instalment", "legal_hold"}));
  open->add_option("--ref", open_args->ref, "Billing's reference")->required();
  open->add_option("--amount", open_args->amount, "Amount in tenge, e.g. 12500.50");
  open->add_option("--categories", open_args->categories,
                   "The data categories it keeps from destruction while open, comma-separated "
                   "(default: everything of the subject)")
      ->delimiter(',');
  open->callback([&opts, open_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      store::ObligationKind kind = store::ObligationKind::kDebt;
      store::ParseObligationKind(open_args->kind, &kind);  // checked by IsMember above
      auto r = inst.engine().OpenObligation(
          {open_args->subject.Key(), kind, open_args->ref, open_args->amount, open_args->categories}, caller);
      if (!r) return Report(r.error());
      std::cout << "obligation " << r->ref << " (" << store::ObligationKindName(r->kind) << ") open for subject "
                << r->subject_id << "\n";
      return 0;
    });
  });

  auto ref = std::make_shared<std::string>();
  auto* close = obligation->add_subcommand("close", "Close an obligation");
  close->add_option("--ref", *ref, "Billing's reference")->required();
  close->callback([&opts, ref] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().CloseObligation(*ref, caller);
      if (!r) return Report(r.error());
      std::cout << "obligation " << r->ref << " closed\n";
      return 0;
    });
  });

  auto file = std::make_shared<std::string>();
  auto* import = obligation->add_subcommand(
      "import", "Import a billing CSV (header action,iin,kind,ref,amount); all rows or none");
  import->add_option("file", *file, "CSV file")->required();
  import->callback([&opts, file] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto text = ReadAll(*file);
      if (!text) return Report(Error{ErrorCode::kIo, *file, "cannot read"});
      auto r = inst.engine().ImportObligations(*text, caller);
      if (!r) return Report(r.error());
      if (!r->problems.empty()) {
        for (const auto& p : r->problems) std::cerr << *file << ": " << p << "\n";
        std::cerr << "nothing imported: " << r->problems.size() << " problem(s)\n";
        return 1;
      }
      std::cout << "imported: " << r->opened << " opened, " << r->closed << " closed\n";
      return 0;
    });
  });

  auto list_args = std::make_shared<SubjectArgs>();
  auto* list = obligation->add_subcommand("list", "List a subject's obligations");
  list_args->Add(list);
  list->callback([&opts, list_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListObligations(caller, list_args->Key());
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no obligations\n";
      for (const auto& o : *r) {
        std::cout << "  " << o.ref << ": " << store::ObligationKindName(o.kind) << ", "
                  << (o.closed_at ? "closed" : "OPEN") << "\n";
      }
      return 0;
    });
  });
}

void RegisterWithdraw(CLI::App& app, Options& opts) {
  struct Args {
    SubjectArgs subject;
    std::string channel, evidence, receipt;
    std::vector<std::string> services, purposes;
    bool preview = false;
    std::optional<std::int64_t> application;
    RepresentativeArgs rep;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "withdraw", "Withdraw consent (R-VI): everything withdrawable, or the data of chosen "
                  "additional services; --preview shows what would happen");
  args->subject.Add(cmd);
  auto* channel = cmd->add_option("--channel", args->channel, "Channel of the request, e.g. app_support_chat");
  auto* application = cmd->add_option(
      "--application", args->application,
      "The withdrawal application (request file --kind withdrawal) this carries out: its channel, "
      "reference and purposes are the withdrawal's, and it is answered, or refused by R-VI's rules");
  channel->excludes(application);
  cmd->add_option("--evidence", args->evidence, "Reference of the request (required to confirm)");
  cmd->add_option("--service", args->services, "An additional service whose data to withdraw "
                                               "(repeatable)");
  cmd->add_option("--purpose", args->purposes, "A purpose to withdraw (repeatable)");
  cmd->add_flag("--preview", args->preview, "Dry run: show what would happen, change nothing");
  cmd->add_option("--receipt", args->receipt, "Write the signed receipt to this file");
  args->rep.Add(cmd, "A legal representative withdrawing for a minor (LAW.md §12)");
  cmd->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto representative = args->rep.Get();
      if (!representative) return Report(representative.error());
      if (args->channel.empty() && !args->application) {
        return Report(Error{ErrorCode::kInvalidArgument, "--channel", "is required without --application"});
      }
      auto r = inst.engine().Withdraw({args->subject.Key(), args->channel, args->evidence,
                                       args->services, args->purposes, args->preview, args->application,
                                       *representative},
                                      caller);
      if (!r) return Report(r.error());
      std::cout << (r->preview ? "PREVIEW - nothing changed\n" : "withdrawal confirmed\n")
                << "  " << policy::InLanguage(r->warning, "en") << "\n"
                << "  consents that end: " << Join(r->consents_end) << "\n"
                << "  services switched off: " << Join(r->services_off) << "\n";
      if (!r->destroyed.empty()) std::cout << "  destroyed at once (R-VI.4): " << Join(r->destroyed) << "\n";
      for (const auto& n : r->not_withdrawable) {
        std::cout << "  not withdrawable: " << n.purpose << " - " << n.why << "\n";
      }
      if (!r->preview) std::cout << "  ledger revision " << r->revision << "\n";
      return WriteReceipt(args->receipt, r->receipt);
    });
  });
}

void RegisterCheck(CLI::App& app, Options& opts) {
  struct Args {
    SubjectArgs subject;
    std::string purpose;
    std::vector<std::string> categories;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("check", "May this purpose use this subject's data now?");
  args->subject.Add(cmd);
  cmd->add_option("--purpose", args->purpose, "Purpose id")->required();
  cmd->add_option("--category", args->categories, "A data category asked for (repeatable)");
  cmd->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto d = inst.engine().Check(caller, args->subject.Key(), args->purpose, args->categories);
      if (!d) return Report(d.error());
      std::cout << (d->allow ? "ALLOW" : "DENY") << " " << index::ReasonCode(d->reason) << ": "
                << index::ReasonText(d->reason) << "\n  basis "
                << policy::LegalBasisName(d->basis) << ", edition " << d->edition
                << ", revision " << d->revision << "\n";
      return d->allow ? 0 : 3;
    });
  });
}

void RegisterAudience(CLI::App& app, Options& opts) {
  struct Args {
    std::string purpose, in, out;
    bool exclude_obligations = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("audience", "Subjects for whom a purpose is allowed, as ids");
  cmd->add_option("--purpose", args->purpose, "Purpose id")->required();
  cmd->add_flag("--exclude-obligations", args->exclude_obligations,
                "Leave out subjects with an open obligation");
  cmd->add_option("--in", args->in, "Only among these subject ids (one per line)");
  cmd->add_option("--out", args->out, "Write the subject ids here, one per line")->required();
  cmd->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      std::vector<store::SubjectId> among;
      if (!args->in.empty()) {
        std::ifstream in(args->in);
        if (!in) return Report(Error{ErrorCode::kIo, args->in, "cannot read"});
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
          ++n;
          if (line.empty()) continue;
          char* end = nullptr;
          const long long id = std::strtoll(line.c_str(), &end, 10);
          if (*end != '\0' || id <= 0) {
            return Report(Error{ErrorCode::kInvalidArgument, args->in + ":" + std::to_string(n),
                                "not a subject id"});
          }
          among.push_back(id);
        }
      }
      auto a = inst.engine().SelectAudience(caller, args->purpose, args->exclude_obligations,
                                            args->in.empty() ? nullptr : &among);
      if (!a) return Report(a.error());
      std::ofstream out(args->out);
      for (store::SubjectId id : a->Ids()) out << id << "\n";
      if (!out) return Report(Error{ErrorCode::kIo, args->out, "cannot write"});
      std::cout << a->count << " subjects written to " << args->out << " (revision "
                << inst.index().revision() << ")\n";
      return 0;
    });
  });
}

void RegisterReceipt(CLI::App& app, Options& opts) {
  auto* receipt = app.add_subcommand("receipt", "Consent receipts");
  receipt->require_subcommand(1);
  struct VerifyArgs {
    std::string file, public_key, keys;
  };
  auto args = std::make_shared<VerifyArgs>();
  auto* verify = receipt->add_subcommand(
      "verify", "Check a receipt offline: its proof, and the tree head's signature by the key its "
                "key id names");
  verify->add_option("file", args->file, "Receipt file")->required();
  auto* one = verify->add_option("--public-key", args->public_key, "The operator's public key file");
  verify->add_option("--keys", args->keys,
                     "A directory of public keys named <key_id>.pub, as DATA/receipt-keys (default: "
                     "DATA/receipt-keys and DATA/receipt.pub): receipts issued before a signing key "
                     "rotation verify with it")
      ->excludes(one);
  verify->callback([&opts, args] {
    auto keys = !args->public_key.empty() ? crypto::PublicKeys::FromPath(args->public_key)
                : !args->keys.empty()     ? crypto::PublicKeys::FromDirectory(args->keys)
                                          : app::DataDirectoryPublicKeys(opts.data_dir);
    if (!keys) {
      opts.exit_code = Report(keys.error());
      return;
    }
    auto text = ReadAll(args->file);
    if (!text) {
      opts.exit_code = Report(Error{ErrorCode::kIo, args->file, "cannot read"});
      return;
    }
    const report::ReceiptCheck c = report::VerifyReceipt(*text, *keys);
    if (!c.ok) {
      std::cerr << args->file << ": INVALID receipt: " << c.reason << "\n";
      opts.exit_code = 1;
      return;
    }
    std::cout << args->file << ": valid receipt " << c.receipt_id << " (key " << c.key_id << ")\n";
  });

  struct ExportArgs {
    std::int64_t seq = 0;
    std::string format = "kantara", lang = "kk", out;
  };
  auto ex = std::make_shared<ExportArgs>();
  auto* exp = receipt->add_subcommand(
      "export", "A stored receipt in another standard form: the Kantara Consent Receipt v1.1 JSON");
  exp->add_option("seq", ex->seq, "The receipt's ledger event number (receipt-N)")->required();
  exp->add_option("--format", ex->format, "kantara")->check(CLI::IsMember({"kantara"}));
  exp->add_option("--lang", ex->lang, "Names in kk, ru or en (default kk)")->check(CLI::IsMember({"kk", "ru", "en"}));
  exp->add_option("--out", ex->out, "Write it to this file instead of standard output");
  exp->callback([&opts, ex] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().Receipt(caller, ex->seq);
      if (!r) return Report(r.error());
      auto kantara = report::KantaraReceipt(inst.engine().policy(), *r, ex->lang);
      if (!kantara) return Report(kantara.error());
      if (ex->out.empty()) {
        std::cout << *kantara;
        return 0;
      }
      std::ofstream out(ex->out, std::ios::binary | std::ios::trunc);
      out << *kantara;
      if (!out) return Report(Error{ErrorCode::kIo, "--out", "cannot write the file"});
      std::cout << "receipt-" << ex->seq << " written to " << ex->out << " (Kantara CR v1.1)\n";
      return 0;
    });
  });

  auto seq = std::make_shared<std::int64_t>(0);
  auto* show = receipt->add_subcommand("show", "Print the receipt issued with a ledger event");
  show->add_option("--event", *seq, "Ledger event number")->required();
  show->callback([&opts, seq] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().Receipt(caller, *seq);
      if (!r) return Report(r.error());
      std::cout << *r;
      return 0;
    });
  });
}

void RegisterActors(CLI::App& app, Options& opts) {
  auto* actor = app.add_subcommand("actor", "Employees and systems, their NDA and duties "
                                            "(R-II.3, R-VIII); administrator only");
  actor->require_subcommand(1);
  struct AddArgs {
    std::string id, role, name, nda, liability;
    std::vector<std::string> purposes;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = actor->add_subcommand("add", "Add or update an actor (a disabled actor stays disabled)");
  add->add_option("--id", add_args->id, "Actor id, e.g. agent-anna")->required();
  add->add_option("--role", add_args->role, "admin, dpo, employee or system")
      ->required()
      ->check(CLI::IsMember({"admin", "dpo", "employee", "system"}));
  add->add_option("--name", add_args->name, "Display name");
  add->add_option("--nda-signed", add_args->nda, "Date the NDA was signed, YYYY-MM-DD (not in the future)");
  add->add_option("--liability-acknowledged", add_args->liability,
                  "Date the liability warning was acknowledged, YYYY-MM-DD (not in the future)");
  add->add_option("--purposes", add_args->purposes, "Systems: the purposes it acts for")
      ->delimiter(',');
  add->callback([&opts, add_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      store::ActorRole role = store::ActorRole::kEmployee;
      store::ParseActorRole(add_args->role, &role);  // checked by IsMember above
      auto r = inst.engine().PutActor({add_args->id, role, add_args->name, add_args->nda,
                                       add_args->liability, add_args->purposes},
                                      caller);
      if (!r) return Report(r.error());
      std::cout << "actor " << r->id << " (" << add_args->role << ") recorded\n";
      return 0;
    });
  });

  struct DutyArgs {
    std::string actor, purpose, view = "masked";
    std::vector<std::string> categories;
    std::vector<std::string> actions = {"read"};
  };
  auto duty_args = std::make_shared<DutyArgs>();
  auto* duty = actor->add_subcommand("duty", "Grant a duty: purpose x categories x view x actions "
                                             "(docs/access.md)");
  duty->add_option("--actor", duty_args->actor, "Actor id")->required();
  duty->add_option("--purpose", duty_args->purpose, "Purpose id")->required();
  duty->add_option("--categories", duty_args->categories, "Category ids")->required()->delimiter(',');
  duty->add_option("--view", duty_args->view, "masked or full")
      ->check(CLI::IsMember({"masked", "full"}))
      ->capture_default_str();
  duty->add_option("--actions", duty_args->actions, "What the duty allows: " + DutyActionsText(kAllDutyActions))
      ->delimiter(',')
      ->check(CLI::IsMember(DutyActionNames()))
      ->capture_default_str();
  duty->callback([&opts, duty_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      DutyActions actions = 0;
      std::string bad;
      ParseDutyActions(duty_args->actions, &actions, &bad);  // checked by IsMember above
      auto r = inst.engine().GrantDuty({duty_args->actor, duty_args->purpose,
                                        duty_args->categories, duty_args->view == "full", actions},
                                       caller);
      if (!r) return Report(r.error());
      std::cout << "duty granted to " << r->actor_id << " for " << r->purpose << ": "
                << DutyActionsText(r->actions) << " on " << Join(r->categories) << " ("
                << duty_args->view << ")\n";
      return 0;
    });
  });

  auto disable_id = std::make_shared<std::string>();
  auto* disable = actor->add_subcommand("disable", "Disable an actor: its keys stop working at once");
  disable->add_option("--id", *disable_id, "Actor id")->required();
  disable->callback([&opts, disable_id] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().DisableActor(*disable_id, caller);
      if (!r) return Report(r.error());
      std::cout << "actor " << *disable_id << " disabled\n";
      return 0;
    });
  });
  struct UndutyArgs {
    std::string actor, purpose;
  };
  auto unduty_args = std::make_shared<UndutyArgs>();
  auto* unduty = actor->add_subcommand("duty-remove", "Remove an actor's duty for a purpose, at once");
  unduty->add_option("--actor", unduty_args->actor, "Actor id")->required();
  unduty->add_option("--purpose", unduty_args->purpose, "Purpose id")->required();
  unduty->callback([&opts, unduty_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().RemoveDuty(unduty_args->actor, unduty_args->purpose, caller);
      if (!r) return Report(r.error());
      std::cout << "duty of " << unduty_args->actor << " for " << unduty_args->purpose << " removed\n";
      return 0;
    });
  });

  auto* list = actor->add_subcommand("list", "List actors");
  auto with_duties = std::make_shared<bool>(false);
  list->add_flag("--duties", *with_duties, "With each actor's duties: purpose, categories, view, actions");
  list->callback([&opts, with_duties] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListActors(caller);
      if (!r) return Report(r.error());
      for (const auto& a : *r) {
        std::cout << "  " << a.id << " " << store::ActorRoleName(a.role)
                  << (a.disabled_at ? " DISABLED" : "") << " nda=" << (a.nda_signed.empty() ? "-" : a.nda_signed)
                  << " liability=" << (a.liability_acknowledged.empty() ? "-" : a.liability_acknowledged)
                  << " purposes=" << Join(a.purposes) << "\n";
        if (!*with_duties) continue;
        auto duties = inst.engine().ListDuties(a.id, caller);
        if (!duties) return Report(duties.error());
        for (const auto& d : *duties) {
          std::cout << "    duty " << d.purpose << " categories=" << Join(d.categories)
                    << " view=" << (d.full_view ? "full" : "masked") << " actions=" << DutyActionsText(d.actions)
                    << "\n";
        }
      }
      return 0;
    });
  });

  auto* key = app.add_subcommand("key", "API keys: create (systems), enrol and redeem (people), "
                                       "revoke, list; rotate the master and signing keys");
  key->require_subcommand(1);
  struct KeyArgs {
    std::string actor, expires, key_id, token;
    int valid_hours = 72;
    bool password_stdin = false;
  };
  auto key_args = std::make_shared<KeyArgs>();
  auto* create = key->add_subcommand(
      "create", "Create a system's API key, printed once (a person's key: 'key enrol')");
  create->add_option("--actor", key_args->actor, "Actor id")->required();
  create->add_option("--expires", key_args->expires, "Last valid day, YYYY-MM-DD (UTC); default: until revoked");
  create->callback([&opts, key_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      std::optional<UnixMillis> expires;
      if (!key_args->expires.empty()) {
        auto day = ParseDate(key_args->expires, "expires");
        if (!day) return Report(day.error());
        expires = StartOfDayUtc(std::chrono::year_month_day(std::chrono::sys_days(*day) + std::chrono::days(1)));
      }
      auto r = inst.engine().CreateApiKey(key_args->actor, caller, expires);
      if (!r) return Report(r.error());
      std::cout << *r << "\n";
      std::cerr << "(shown once: only its hash is kept)\n";
      return 0;
    });
  });
  auto* enrol = key->add_subcommand(
      "enrol", "A one-time enrolment token for a person's key, printed once: give it to the "
               "person, who redeems it ('key redeem' or POST /v1/enrolments/redeem)");
  enrol->add_option("--actor", key_args->actor, "Actor id")->required();
  enrol->add_option("--valid-hours", key_args->valid_hours, "Hours the token stays valid (1-168)")
      ->check(CLI::Range(1, 168))
      ->capture_default_str();
  enrol->callback([&opts, key_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().CreateEnrolment(key_args->actor, caller,
                                             static_cast<UnixMillis>(key_args->valid_hours) * 3600 * 1000);
      if (!r) return Report(r.error());
      std::cout << r->token << "\n";
      std::cerr << "(shown once; works once, until " << FormatUtc(r->expires_at) << ")\n";
      return 0;
    });
  });
  auto* redeem = key->add_subcommand("redeem", "Redeem an enrolment token: prints your API key once");
  redeem->add_option("token", key_args->token, "The enrolment token (qe_...)")->required();
  redeem->add_flag("--password-stdin", key_args->password_stdin,
                   "Set your password for the web console instead (read from the first line of stdin; "
                   "12 characters or more); no API key is issued");
  redeem->callback([&opts, key_args] {
    WithInstance(opts, [&](app::Instance& inst) {
      if (key_args->password_stdin) {
        std::string password;
        std::getline(std::cin, password);
        auto set = inst.engine().SetPasswordByEnrolment(key_args->token, password);
        std::fill(password.begin(), password.end(), '\0');
        if (!set) return Report(set.error());
        std::cout << "console password set for " << *set << "\n";
        return 0;
      }
      auto r = inst.engine().RedeemEnrolment(key_args->token);
      if (!r) return Report(r.error());
      std::cout << r->second << "\n";
      std::cerr << "(the API key of " << r->first << "; shown once)\n";
      return 0;
    });
  });
  auto* revoke = key->add_subcommand("revoke", "Revoke an actor's key by its id (hex digits of its SHA-256)");
  revoke->add_option("--actor", key_args->actor, "Actor id")->required();
  revoke->add_option("--key", key_args->key_id, "The key id: at least 8 hex digits")->required();
  revoke->callback([&opts, key_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().RevokeKey(key_args->actor, key_args->key_id, caller);
      if (!r) return Report(r.error());
      std::cout << "key revoked\n";
      return 0;
    });
  });
  auto* keys = key->add_subcommand("list", "An actor's keys by id (never the keys), live or not");
  keys->add_option("--actor", key_args->actor, "Actor id")->required();
  keys->callback([&opts, key_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListKeys(key_args->actor, caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no keys\n";
      for (const auto& k : *r) {
        std::cout << "  " << k.id << " created " << FormatUtc(k.created_at);
        if (k.expires_at) std::cout << " expires " << FormatUtc(*k.expires_at);
        if (k.revoked_at) std::cout << " REVOKED " << FormatUtc(*k.revoked_at);
        std::cout << "\n";
      }
      return 0;
    });
  });

  struct RotateArgs {
    std::string new_key_file;
    std::int64_t progress_every = 10000;
  };
  auto rotate_args = std::make_shared<RotateArgs>();
  auto* rotate_master = key->add_subcommand(
      "rotate-master",
      "Rotate the master key: every subject's data key rewrapped and its blind indexes recomputed "
      "in one transaction (administrator; the data directory to itself: stop 'serve' first)");
  rotate_master->add_option("--new-key-file", rotate_args->new_key_file,
                            "A new file for the new key, when the current one comes from "
                            "QORGAU_MASTER_KEY or systemd's credential (a key file is replaced in "
                            "place)");
  rotate_master->add_option("--progress-every", rotate_args->progress_every,
                            "Report progress on stderr every N subjects")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  rotate_master->callback([&opts, rotate_args] {
    app::MasterRotationOptions options;
    options.actor = opts.as;
    options.new_key_file = rotate_args->new_key_file;
    options.progress_every = rotate_args->progress_every;
    options.progress = [](std::int64_t done) { std::cerr << "  " << done << " subjects rewrapped\n"; };
    const auto started = std::chrono::steady_clock::now();
    auto r = app::RotateMasterKey(opts.data_dir, options, Clock());
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started).count();
    std::cout << "master key rotated: " << r->subjects << " data keys rewrapped and blind indexes "
              << "recomputed";
    if (r->without_key > 0) std::cout << " (" << r->without_key << " subjects without a data key)";
    std::cout << " in " << ms << " ms (ledger event " << r->event_seq << ")\n";
    if (r->replaced) {
      std::cout << "new master key: " << r->new_key.string()
                << " (0600; the old key is gone: keep an offline copy of the new one; backups "
                   "made before now still need the old one)\n";
    } else {
      std::cout << "new master key written to " << r->new_key.string() << " (0600)\n"
                << "the database now needs it: put its contents in " << r->old_source
                << " before the next start, then delete the file\n";
    }
  });
  auto* rotate_signing = key->add_subcommand(
      "rotate-signing",
      "Rotate the key that signs tree heads and receipts; the old public key stays in "
      "DATA/receipt-keys, so earlier receipts still verify (administrator; stop 'serve' first)");
  rotate_signing->callback([&opts] {
    auto r = app::RotateSigningKey(opts.data_dir, opts.as, Clock());
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    std::cout << "signing key rotated: " << r->old_key_id << " -> " << r->new_key_id
              << " (ledger event " << r->event_seq << ")\n"
              << "public keys: " << app::ReceiptKeysDirectory(opts.data_dir).string()
              << "/ (give it to whoever verifies receipts); a server signs with the new key once "
                 "started again\n";
  });

  auto access_args = std::make_shared<SubjectArgs>();
  auto* audit = app.get_subcommand("audit");
  auto* access = audit->add_subcommand("access", "Who read a subject's data, for what, and why");
  access_args->Add(access);
  access->callback([&opts, access_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().AccessTrail(caller, access_args->Key());
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no access recorded\n";
      for (const auto& a : *r) {
        std::cout << "  " << a.at << " " << a.actor << " " << a.type;
        if (!a.what.empty()) std::cout << " what=" << a.what;
        if (!a.purpose.empty()) std::cout << " purpose=" << a.purpose;
        if (!a.categories.empty()) std::cout << " categories=" << Join(a.categories);
        std::cout << " " << (a.allowed ? "ALLOWED" : "DENIED") << " (" << a.reason << ")";
        if (a.seq != 0) std::cout << " event " << a.seq;
        std::cout << "\n";
      }
      return 0;
    });
  });

  struct ReadsArgs {
    std::string actor, from, to;
    std::size_t limit = 500;
  };
  auto reads_args = std::make_shared<ReadsArgs>();
  auto* reads = audit->add_subcommand("reads", "The reads, lookups and transfers of an actor, or of everyone in a "
                                               "time range, newest first (the data protection officer)");
  reads->add_option("--actor", reads_args->actor, "Only this actor's");
  reads->add_option("--from", reads_args->from, "From this moment (UTC, 2026-12-01T00:00:00Z)");
  reads->add_option("--to", reads_args->to, "Before this moment (UTC)");
  reads->add_option("--limit", reads_args->limit, "At most this many, the newest (default 500, at most 10000)");
  reads->callback([&opts, reads_args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::TrailQuery q;
      q.actor = reads_args->actor;
      q.limit = reads_args->limit;
      for (auto [text, at, name] : {std::tuple{&reads_args->from, &q.from, "from"}, std::tuple{&reads_args->to, &q.to, "to"}}) {
        if (text->empty()) continue;
        auto t = ParseUtc(*text, name);
        if (!t) return Report(t.error());
        *at = *t;
      }
      if (q.actor.empty() && !q.from && !q.to) {
        return Report(Error{ErrorCode::kInvalidArgument, "actor", "name an actor (--actor) or a time range (--from, --to)"});
      }
      auto r = inst.engine().AccessTrailBy(caller, q);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no access recorded\n";
      for (const auto& a : *r) {
        std::cout << "  " << a.at << " " << a.actor << " " << a.type << " subject=" << a.subject;
        if (!a.what.empty()) std::cout << " what=" << a.what;
        if (!a.purpose.empty()) std::cout << " purpose=" << a.purpose;
        if (!a.categories.empty()) std::cout << " categories=" << Join(a.categories);
        std::cout << " " << (a.allowed ? "ALLOWED" : "DENIED") << " (" << a.reason << ") event " << a.seq << "\n";
      }
      return 0;
    });
  });
}

}  // namespace

void RegisterEngine(CLI::App& app, Options& opts) {
  RegisterActors(app, opts);
  RegisterRights(app, opts);
  RegisterRetention(app, opts);
  RegisterTransfers(app, opts);
  RegisterAggregates(app, opts);
  RegisterContract(app, opts);
  RegisterService(app, opts);
  RegisterObligation(app, opts);
  RegisterWithdraw(app, opts);
  RegisterCheck(app, opts);
  RegisterAudience(app, opts);
  RegisterReceipt(app, opts);
}

}  // namespace qorgau::cli
