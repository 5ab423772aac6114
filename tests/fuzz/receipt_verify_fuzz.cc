// report::VerifyReceipt on arbitrary bytes, with one fixed public key: the
// key of the data directory that issued the valid receipts of the seed
// corpus (corpus/receipt_verify/valid-*; see tests/fuzz/README.md).
//
// Properties: a verdict always has a reason when it refuses and none when
// it accepts; a receipt it accepts is in canonical form, of format 2 or 1;
// and it is exactly the receipt the operator would issue from its parts:
// format 2 rebuilt by ReceiptWithProof from its content, leaf, position,
// path and tree head, format 1 its body and a signature of exactly alg,
// key_id and value. So no change of a byte (the case of a hex digit, the
// spelling of a time, a member added to the proof) keeps a receipt valid.
// ReceiptChecker, the check `audit verify` runs on stored receipts, agrees.
#include <boost/json.hpp>
#include <string>

#include "crypto/signer.h"
#include "fuzz.h"
#include "ledger/canonical_json.h"
#include "ledger/tree_head.h"
#include "report/receipt.h"

namespace {

namespace json = boost::json;
using namespace qorgau;

// The receipt.pub of the directory that issued the valid seeds.
constexpr std::string_view kPublicKey = R"(-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAjMeTHeBHXT+gk1GjmwkmQkzfbl5UJfqW+dbH48vy5qg=
-----END PUBLIC KEY-----
)";

const crypto::Verifier& Key() {
  static const crypto::Verifier key = [] {
    auto v = crypto::Verifier::FromPem(kPublicKey);
    FUZZ_CHECK(v.has_value(), "the fixed public key loads");
    return std::move(*v);
  }();
  return key;
}

// The receipt of format 2 that ReceiptWithProof issues from the parts of
// `r`, or "" when its parts do not even parse.
std::string Reissued(json::object r) {
  const json::object proof = r.at("proof").as_object();
  r.erase("proof");
  auto content = ledger::CanonicalJson(r);
  auto leaf = ledger::CanonicalJson(proof.at("leaf"));
  auto head = ledger::ParseTreeHeadJson(json::serialize(proof.at("tree_head")));
  if (!content || !leaf || !head) return "";
  report::ReceiptProof parts{*leaf, proof.at("seq").as_int64(), *head, {}};
  for (const auto& h : proof.at("path").as_array()) {
    auto bytes = crypto::FromHex(h.as_string(), "path");
    if (!bytes || bytes->size() != 32) return "";
    ledger::merkle::Hash x{};
    std::copy(bytes->begin(), bytes->end(), x.begin());
    parts.path.push_back(x);
  }
  auto issued = report::ReceiptWithProof(*content, parts);
  return issued ? *issued : "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::Bytes(data, size);
  const report::ReceiptCheck check = report::VerifyReceipt(text, Key());
  FUZZ_CHECK(check.ok == check.reason.empty(), "a refusal has a reason, an acceptance none");

  store::ReceiptRecord stored;
  stored.body = std::string(text);
  const std::string stored_verdict = report::ReceiptChecker(Key())(stored);
  if (stored.body.find(report::kReceiptFormatV1) != std::string::npos) {
    FUZZ_CHECK(stored_verdict == check.reason,
               "ReceiptChecker gives VerifyReceipt's verdict on format 1");
  } else {
    FUZZ_CHECK(stored_verdict.empty(), "ReceiptChecker leaves format 2 to the ledger replay");
  }
  if (!check.ok) return 0;

  // Accepted: canonical, and the one form the operator issues.
  const std::string line = text.ends_with('\n') ? std::string(text) : std::string(text) + "\n";
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  FUZZ_CHECK(!ec && v.is_object(), "an accepted receipt is a JSON object");
  auto canonical = ledger::CanonicalJson(v);
  FUZZ_CHECK(canonical && *canonical + "\n" == line, "an accepted receipt is in canonical form");
  json::object& r = v.as_object();
  const json::value* id = r.if_contains("receipt_id");
  FUZZ_CHECK(id && id->is_string() && check.receipt_id == id->get_string(),
             "the id is the receipt's");
  const json::string& version = r.at("version").as_string();
  if (version == report::kReceiptFormat) {
    FUZZ_CHECK(Reissued(r) == line, "an accepted receipt is exactly the one its parts issue");
  } else {
    FUZZ_CHECK(version == report::kReceiptFormatV1, "an accepted receipt is of format 2 or 1");
    const json::object& signature = r.at("signature").as_object();
    FUZZ_CHECK(signature.size() == 3,
               "a format-1 signature is alg, key_id and value, nothing else");
  }
  return 0;
}
