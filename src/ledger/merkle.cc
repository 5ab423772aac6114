#include "ledger/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

namespace qorgau::ledger::merkle {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;
constexpr std::uint8_t kCompactRangeVersion = 0x01;
constexpr size_t kHeaderSize = 1 + 8;  // version, size

// The k of RFC 9162 §2.1.1: the largest power of two smaller than n.
// REQUIRES: n > 1.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[lo:hi]) from the leaf hashes `get` returns; hi - lo calls, and
// O(log(hi - lo)) memory however wide the range. REQUIRES: lo < hi.
Hash SubtreeRoot(std::uint64_t lo, std::uint64_t hi, const HashSource& get) {
  CompactRange range;
  for (std::uint64_t i = lo; i < hi; ++i) range.Append(get(i));
  return range.Root();
}

// The branch test of the RFC 9162 verification loops (§2.1.3.2 step 4b,
// §2.1.4.2 step 6b): whether the next proof node is the left sibling of the
// running node, whose index at its level is fn (sn is the last index there).
// A running node that is the last at its level and a left child (fn == sn,
// even) has no sibling there: it is carried up unchanged until it is a right
// child or on the left edge, which shifts fn and sn here.
bool ProofNodeIsLeft(std::uint64_t& fn, std::uint64_t& sn) {
  if ((fn & 1) == 0 && fn != sn) return false;
  if ((fn & 1) == 0) {
    while (fn != 0 && (fn & 1) == 0) {
      fn >>= 1;
      sn >>= 1;
    }
  }
  return true;
}

tl::unexpected<Error> Corrupt(size_t offset, const std::string& what) {
  return Fail(ErrorCode::kCorruption, "compact_range", what + " at byte " + std::to_string(offset));
}

}  // namespace

Hash LeafHash(std::string_view leaf_bytes) {
  const char prefix = static_cast<char>(kLeafPrefix);
  return crypto::Sha256({std::string_view(&prefix, 1), leaf_bytes});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<char, 1 + 2 * sizeof(Hash)> msg;
  msg[0] = static_cast<char>(kNodePrefix);
  std::memcpy(msg.data() + 1, left.data(), left.size());
  std::memcpy(msg.data() + 1 + left.size(), right.data(), right.size());
  return crypto::Sha256(std::string_view(msg.data(), msg.size()));
}

Hash EmptyRoot() {
  static const Hash kEmpty = crypto::Sha256(std::string_view());
  return kEmpty;
}

Hash RootFromLeaves(std::span<const Hash> leaf_hashes) {
  CompactRange range;
  for (const Hash& h : leaf_hashes) range.Append(h);
  return range.Root();
}

std::optional<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                                const HashSource& get) {
  if (index >= size) return std::nullopt;
  // PATH walked from the root down, narrowing [lo, hi) to the subtree that
  // holds `index`; the sibling subtree at each level is one proof node. The
  // siblings are disjoint and cover every leaf but `index`.
  std::vector<Hash> path;
  std::uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + SplitPoint(hi - lo);
    if (index < mid) {
      path.push_back(SubtreeRoot(mid, hi, get));
      hi = mid;
    } else {
      path.push_back(SubtreeRoot(lo, mid, get));
      lo = mid;
    }
  }
  std::reverse(path.begin(), path.end());  // RFC order: leaf level first
  return path;
}

bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                     std::span<const Hash> proof, const Hash& root) {
  if (index >= size) return false;
  // fn is the running node's index at its level, sn the last index at that
  // level; when sn reaches 0 the running node is the root.
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;  // more nodes than levels
    r = ProofNodeIsLeft(fn, sn) ? NodeHash(p, r) : NodeHash(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;  // sn != 0: fewer nodes than levels
}

std::optional<std::vector<Hash>> ConsistencyProof(std::uint64_t size1, std::uint64_t size2,
                                                  const HashSource& get) {
  if (size1 > size2) return std::nullopt;
  if (size1 == 0 || size1 == size2) return std::vector<Hash>{};
  // SUBPROOF walked from the root down. `m` is size1 relative to the
  // subtree [lo, hi); `known` is SUBPROOF's b: whether D[lo:lo+m] is the
  // whole old tree, whose root the verifier already has.
  std::vector<Hash> proof;
  std::uint64_t lo = 0, hi = size2, m = size1;
  bool known = true;
  while (m != hi - lo) {
    const std::uint64_t k = SplitPoint(hi - lo);
    if (m <= k) {
      proof.push_back(SubtreeRoot(lo + k, hi, get));
      hi = lo + k;
    } else {
      proof.push_back(SubtreeRoot(lo, lo + k, get));
      lo += k;
      m -= k;
      known = false;
    }
  }
  if (!known) proof.push_back(SubtreeRoot(lo, hi, get));
  std::reverse(proof.begin(), proof.end());  // RFC order: deepest node first
  return proof;
}

bool VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                       const Hash& root2, std::span<const Hash> proof) {
  if (size1 > size2) return false;
  if (size1 == size2) return proof.empty() && root1 == root2;
  if (size1 == 0) return proof.empty() && root1 == EmptyRoot();
  if (proof.empty()) return false;

  // When size1 is a power of two the old tree is a subtree of the new one
  // and the proof omits its root (the verifier has it): start from root1.
  const bool old_is_subtree = std::has_single_bit(size1);
  std::uint64_t fn = size1 - 1, sn = size2 - 1;
  // Skip the levels where the old tree's last node is a right child: the
  // first proof node already covers them.
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // fr rebuilds root1 and sr rebuilds root2 from the same nodes.
  Hash fr = old_is_subtree ? root1 : proof[0];
  Hash sr = fr;
  for (size_t i = old_is_subtree ? 0 : 1; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (sn == 0) return false;  // more nodes than levels
    if (ProofNodeIsLeft(fn, sn)) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
    } else {
      sr = NodeHash(sr, c);  // a node only the new tree has
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == root1 && sr == root2;
}

void CompactRange::Append(const Hash& leaf_hash) {
  // Each trailing 1 bit of size_ is a perfect subtree of the same height
  // as the one being carried: merge them, like binary addition of 1.
  Hash carry = leaf_hash;
  for (std::uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    carry = NodeHash(frontier_.back(), carry);
    frontier_.pop_back();
  }
  frontier_.push_back(carry);
  ++size_;
}

Hash CompactRange::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  // MTH splits at the largest power of two, which is the leftmost frontier
  // subtree; so the root folds the frontier from the right.
  Hash root = frontier_.back();
  for (size_t i = frontier_.size() - 1; i-- > 0;) root = NodeHash(frontier_[i], root);
  return root;
}

crypto::Bytes CompactRange::Serialize() const {
  crypto::Bytes out;
  out.reserve(kHeaderSize + frontier_.size() * sizeof(Hash));
  out.push_back(kCompactRangeVersion);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(size_ >> shift));
  }
  for (const Hash& h : frontier_) out.insert(out.end(), h.begin(), h.end());
  return out;
}

Result<CompactRange> CompactRange::Deserialize(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) {
    return Corrupt(bytes.size(), "truncated header");
  }
  if (bytes[0] != kCompactRangeVersion) {
    return Corrupt(0, "unknown version " + std::to_string(bytes[0]));
  }
  std::uint64_t size = 0;
  for (size_t i = 1; i < kHeaderSize; ++i) size = size << 8 | bytes[i];
  const size_t hashes = static_cast<size_t>(std::popcount(size));
  const size_t want = kHeaderSize + hashes * sizeof(Hash);
  if (bytes.size() != want) {
    return Corrupt(std::min(bytes.size(), want),
                   std::to_string(bytes.size()) + " bytes where a tree of size " +
                       std::to_string(size) + " needs " + std::to_string(want));
  }
  CompactRange range;
  range.size_ = size;
  range.frontier_.resize(hashes);
  for (size_t i = 0; i < hashes; ++i) {
    std::memcpy(range.frontier_[i].data(), bytes.data() + kHeaderSize + i * sizeof(Hash),
                sizeof(Hash));
  }
  return range;
}

}  // namespace qorgau::ledger::merkle
