// Helpers shared by the CLI's command files. Internal to cli/.
#pragma once

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "app/instance.h"
#include "cli/commands.h"

namespace qorgau::cli {


// The whole file, or nothing when it cannot be read.
inline std::optional<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline SystemClock& Clock() {
  static SystemClock clock;
  return clock;
}

// Prints an error to stderr; a refusal by a rule shows its reason code
// first. Returns the exit status, 1.
inline int Report(const Error& e) {
  if (!e.reason.empty()) {
    std::cerr << "qorgau: refused [" << e.reason << "]: " << e.ToString() << "\n";
  } else {
    std::cerr << "qorgau: " << e.ToString() << " [" << ErrorCodeName(e.code) << "]\n";
  }
  return 1;
}

// Options naming one subject: exactly one of --iin, --phone, --id.
struct SubjectArgs {
  std::string iin, phone, id;

  void Add(CLI::App* cmd) {
    auto* g = cmd->add_option_group("subject", "The data subject");
    g->add_option("--iin", iin, "The subject's IIN (12 digits)");
    g->add_option("--phone", phone, "The subject's phone number");
    g->add_option("--id", id, "The subject's id");
    g->require_option(1);
  }
  rules::SubjectKey Key() const {
    if (!iin.empty()) return rules::SubjectKey::Iin(iin);
    if (!phone.empty()) return rules::SubjectKey::Phone(phone);
    return {rules::SubjectKey::Kind::kId, id};
  }
};

// A legal representative acting for the subject (LAW.md §5, §12): the
// same options wherever one may act.
struct RepresentativeArgs {
  rules::Representative rep;

  void Add(CLI::App* cmd, const char* what) {
    auto* g = cmd->add_option_group("representative", what);
    g->add_option("--representative", rep.kind, "parent, guardian or attorney");
    g->add_option("--representative-name", rep.name, "Their name (kept sealed)");
    g->add_option("--representative-iin", rep.iin, "Their IIN (kept sealed)");
    g->add_option("--proof", rep.proof_kind, "birth_certificate, guardianship_decision or power_of_attorney");
    g->add_option("--proof-reference", rep.proof_reference, "The proof's number");
    g->add_option("--proof-valid-until", rep.valid_until, "Its last valid day, YYYY-MM-DD");
  }
  // The representative, none, or an error when details come without a kind.
  Result<std::optional<rules::Representative>> Get() const {
    if (!rep.kind.empty()) return std::optional<rules::Representative>(rep);
    if (!rep.name.empty() || !rep.iin.empty() || !rep.proof_kind.empty() || !rep.proof_reference.empty() ||
        !rep.valid_until.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "--representative",
                  "name the representative's kind (parent, guardian or attorney) with their details");
    }
    return std::optional<rules::Representative>();
  }
};

// Runs `body` with the instance of the data directory open.
template <typename F>
inline void WithInstance(Options& opts, F body) {
  auto inst = app::Instance::Open(opts.data_dir, Clock());
  if (!inst) {
    opts.exit_code = Report(inst.error());
    return;
  }
  opts.exit_code = body(**inst);
}

// Runs `body` with the instance open and the caller of --as: the engine
// authorizes every command for that actor (docs/access.md).
template <typename F>
inline void WithCaller(Options& opts, F body) {
  WithInstance(opts, [&](app::Instance& inst) {
    auto caller = inst.engine().CallerFor(opts.as);
    if (!caller) return Report(caller.error());
    return body(inst, **caller);
  });
}

// Writes a receipt to `path` when one was asked for.
inline int WriteReceipt(const std::string& path, const std::string& receipt) {
  if (path.empty() || receipt.empty()) return 0;
  std::ofstream out(path, std::ios::binary);
  out << receipt;
  if (!out) return Report(Error{ErrorCode::kIo, path, "cannot write the receipt"});
  std::cout << "receipt written to " << path << "\n";
  return 0;
}

}  // namespace qorgau::cli
