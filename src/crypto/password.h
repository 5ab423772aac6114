// Passwords of the web console: Argon2id through libsodium
// (crypto_pwhash_str), at its "interactive" cost (2 passes over 64 MiB):
// about a tenth of a second a guess on a server core, and a stored string
// that carries its own salt and parameters, so that the cost can be raised
// later without a migration (a stored hash of an older cost still checks).
// Thread safety: functions; libsodium is initialised once.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau::crypto {

// Refused (kInvalidArgument, field "password"): shorter than 12
// characters, longer than 128 bytes, not UTF-8, or a control character.
Result<void> CheckPassword(std::string_view password);
// The Argon2id PHC string of `password` (CheckPassword first).
Result<std::string> HashPassword(std::string_view password);
// Whether `password` is the one `stored` was made from. With an empty
// `stored` it still spends the time of a check, so that an unknown actor
// and a wrong password take equally long.
bool VerifyPassword(const std::string& stored, std::string_view password);

}  // namespace qorgau::crypto
