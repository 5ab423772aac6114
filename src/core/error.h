// Error values returned across every module boundary.
//
// An Error carries a stable code (the same codes the CLI prints and the API
// will return), the input field it concerns when there is one, and a message
// in words. Messages never contain personal-data values: they name the field
// and the reason only.
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace qorgau {

enum class ErrorCode : int {
  kInvalidArgument,   // an input value is malformed (bad IIN, bad phone, ...)
  kNotFound,          // a referenced subject, purpose, ... does not exist
  kAlreadyExists,     // a unique value (IIN, phone) is already registered
  kFailedPrecondition,// the state does not allow the change (wrong basis, ...)
  kUnauthenticated,   // no valid credentials
  kPermissionDenied,  // the caller may not do this (need to know, NDA, role)
  kPolicyInvalid,     // a policy file does not validate
  kCorruption,        // stored data failed an integrity check
  kCrypto,            // a cryptographic operation failed (wrong key, ...)
  kIo,                // the store or the file system failed
  kInternal,          // a bug: an invariant did not hold
};

// Stable, lower-case code names ("invalid_argument", ...).
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;    // the input field concerned, or empty
  std::string message;  // the reason, in words; never contains a value
  // A stable code for a refusal by a rule of the policy, e.g.
  // "withdrawal_blocked_by_obligation"; empty for plain input errors.
  std::string reason = {};

  // "field: message" or just "message".
  std::string ToString() const;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(ErrorCode code, std::string field, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(field), std::move(message)});
}

// A refusal by a rule of the policy: the state does not allow the change.
inline tl::unexpected<Error> Refuse(std::string reason, std::string field, std::string message) {
  return tl::unexpected<Error>(
      Error{ErrorCode::kFailedPrecondition, std::move(field), std::move(message), std::move(reason)});
}

}  // namespace qorgau

// Error propagation. QORGAU_TRY(expr) returns expr's error from the calling
// function (whose Result type may differ); QORGAU_ASSIGN_OR_RETURN(decl, expr)
// does the same, else moves the value into `decl` (`auto x`, `Foo x`, `x`).
#define QORGAU_CONCAT_INNER(a, b) a##b
#define QORGAU_CONCAT(a, b) QORGAU_CONCAT_INNER(a, b)
#define QORGAU_TRY(expr)                                                     \
  do {                                                                       \
    if (auto qorgau_try_r = (expr); !qorgau_try_r) {                         \
      return ::tl::unexpected<::qorgau::Error>(std::move(qorgau_try_r).error()); \
    }                                                                        \
  } while (0)
// The temporary's name is made once per use from __COUNTER__ (an argument
// is expanded before substitution), so that a use spanning several lines
// names one variable.
#define QORGAU_ASSIGN_OR_RETURN(decl, expr) QORGAU_ASSIGN_OR_RETURN_N(__COUNTER__, decl, expr)
#define QORGAU_ASSIGN_OR_RETURN_N(n, decl, expr) \
  QORGAU_ASSIGN_OR_RETURN_IMPL(QORGAU_CONCAT(qorgau_aor_, n), decl, expr)
#define QORGAU_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr)                        \
  auto tmp = (expr);                                                         \
  if (!tmp) return ::tl::unexpected<::qorgau::Error>(std::move(tmp).error()); \
  decl = std::move(*tmp)
