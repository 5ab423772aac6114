// Argon2id passwords through libsodium (crypto/password.h).
#include "crypto/password.h"

#include <sodium.h>


#include "core/utf8.h"

namespace qorgau::crypto {
namespace {

bool Ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

// A hash of a password nobody has, checked when the actor has none.
const std::string& Decoy() {
  static const std::string decoy = [] {
    char out[crypto_pwhash_STRBYTES];
    const char* p = "qorgau: no such password";
    if (!Ready() || crypto_pwhash_str(out, p, std::char_traits<char>::length(p), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return std::string();
    }
    return std::string(out);
  }();
  return decoy;
}

}  // namespace

Result<void> CheckPassword(std::string_view password) {
  if (password.size() > 128) return Fail(ErrorCode::kInvalidArgument, "password", "longer than 128 bytes");
  if (!IsValidUtf8(password)) return Fail(ErrorCode::kInvalidArgument, "password", "not valid UTF-8");
  std::size_t chars = 0;
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) return Fail(ErrorCode::kInvalidArgument, "password", "holds a control character");
    if ((c & 0xC0) != 0x80) ++chars;
  }
  if (chars < 12) return Fail(ErrorCode::kInvalidArgument, "password", "shorter than 12 characters");
  return {};
}

Result<std::string> HashPassword(std::string_view password) {
  QORGAU_TRY(CheckPassword(password));
  if (!Ready()) return Fail(ErrorCode::kCrypto, "password", "libsodium did not initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Fail(ErrorCode::kCrypto, "password", "Argon2id ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& stored, std::string_view password) {
  if (!Ready()) return false;
  const std::string& against = stored.empty() ? Decoy() : stored;
  if (against.empty()) return false;
  const bool ok = crypto_pwhash_str_verify(against.c_str(), password.data(), password.size()) == 0;
  return ok && !stored.empty();
}

}  // namespace qorgau::crypto
