// Merkle tree hashes and proofs of RFC 9162 (Certificate Transparency 2.0)
// §2.1, with SHA-256, for the ledger: the leaves are the ledger events in
// sequence order, so a signed root commits to the whole history, an
// inclusion proof shows that one event is in it, and a consistency proof
// shows that a later root only appended to an earlier one.
//
// Hashing (RFC 9162 §2.1.1), the same as RFC 6962 and every CT log:
//   LeafHash(d)    = SHA-256(0x00 || d)
//   NodeHash(l, r) = SHA-256(0x01 || l || r)
//   MTH({})        = SHA-256("")
//   MTH({d0})      = LeafHash(d0)
//   MTH(D[0:n])    = NodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
// The 0x00/0x01 prefixes keep a leaf from being passed off as an interior
// node (second preimage). A tree that is not a power of two is not padded:
// its right spine is a chain of smaller perfect subtrees.
//
// Everything here works on leaf *hashes*; the caller hashes its leaf bytes
// with LeafHash once and stores the result.
//
// Errors: verification takes untrusted input and answers false for anything
// malformed (index >= size, size1 > size2, a proof of the wrong length, ...);
// it never asserts, throws or reads out of bounds. Proof generation answers
// nullopt for arguments that name no proof. CompactRange::Deserialize returns
// kCorruption for bytes that are not a compact range.
//
// Thread safety: the free functions are pure and reentrant; a HashSource is
// called only on the calling thread, before the call returns. CompactRange is
// a value type: concurrent const calls are safe, a mutation needs external
// synchronisation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "crypto/crypto.h"

namespace qorgau::ledger::merkle {

// A SHA-256 digest: a leaf hash, a subtree hash or a root.
using Hash = crypto::Digest;

// The name of the hashing scheme, for the persisted-format documentation
// and for anything that records which tree a root belongs to.
inline constexpr std::string_view kHashScheme = "rfc9162-sha256";
// The name of CompactRange's serialised form; its version is its first byte.
inline constexpr std::string_view kCompactRangeFormat = "qorgau-merkle-compact/1";

// SHA-256(0x00 || leaf_bytes).
Hash LeafHash(std::string_view leaf_bytes);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

// MTH over `leaf_hashes`, in order. O(n) hashes, O(log n) memory.
Hash RootFromLeaves(std::span<const Hash> leaf_hashes);

// The leaf hash at `index`, 0-based. Called only with index < the tree size
// the proof was asked for; the store behind it must answer every such index.
// It has no error channel: the proof functions are exception-neutral, so a
// source that throws on a failed read unwinds through them without leaking.
using HashSource = std::function<Hash(std::uint64_t index)>;

// The inclusion proof (audit path, RFC 9162 §2.1.3.1 PATH) of leaf `index`
// in the tree of the first `size` leaves, ordered from the leaf's sibling up
// to the root's child. nullopt when index >= size; empty when size == 1.
// Cost: size - 1 calls to `get` (every other leaf, once), O(size) hashes,
// O(log size) memory.
std::optional<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                                const HashSource& get);

// Whether `proof` shows that `leaf_hash` is leaf `index` of the tree of
// `size` leaves whose root is `root` (RFC 9162 §2.1.3.2). False for any
// malformed input. O(proof length) hashes.
bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                     std::span<const Hash> proof, const Hash& root);

// The consistency proof (RFC 9162 §2.1.4.1 PROOF/SUBPROOF) that the tree of
// the first `size1` leaves is a prefix of the tree of the first `size2`.
// nullopt when size1 > size2. RFC 9162 defines the proof for
// 0 < size1 < size2; for size1 == 0 and for size1 == size2 this returns an
// empty proof, which VerifyConsistency accepts (see there).
// Cost: at most size2 calls to `get`, O(size2) hashes, O(log size2) memory.
std::optional<std::vector<Hash>> ConsistencyProof(std::uint64_t size1, std::uint64_t size2,
                                                  const HashSource& get);

// Whether `proof` shows that `root1`, the root of a tree of `size1` leaves,
// and `root2`, the root of a tree of `size2` leaves, are roots of the same
// append-only history (RFC 9162 §2.1.4.2). Beyond the RFC, which covers
// 0 < size1 < size2:
//   size1 == size2: true iff the proof is empty and root1 == root2;
//   size1 == 0:     true iff the proof is empty and root1 == EmptyRoot()
//                   (every tree extends the empty one).
// False for size1 > size2 and any other malformed input.
bool VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                       const Hash& root2, std::span<const Hash> proof);

// An append-only Merkle tree that keeps only its right frontier: the roots
// of the perfect subtrees the leaves so far decompose into, one per set bit
// of size(), largest (leftmost) first. That is at most 64 hashes, enough to
// append and to compute the root, so the ledger can take and sign a root at
// each batch end without re-reading old leaves, and a store can persist it
// (Serialize) and resume after a restart (Deserialize).
//
// It holds no leaves, so it cannot produce proofs; those come from
// InclusionProof/ConsistencyProof over the stored leaf hashes.
class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // Appends one leaf hash. Amortised O(1) hashes, O(log n) worst case.
  // REQUIRES: size() < UINT64_MAX.
  void Append(const Hash& leaf_hash);

  // The number of leaves appended.
  std::uint64_t size() const { return size_; }

  // MTH of the leaves so far; EmptyRoot() when size() == 0.
  // O(log n) hashes.
  Hash Root() const;

  // Format kCompactRangeFormat:
  //   version (1 byte, 0x01) | size (8 bytes, big-endian) |
  //   popcount(size) frontier hashes of 32 bytes, largest subtree first.
  // The encoding carries no checksum of its own: a store that resumes from
  // it should compare Root() with the last signed root of that size, which
  // is what detects a flipped hash byte.
  crypto::Bytes Serialize() const;

  // Parses Serialize's output. kCorruption, naming the byte offset, when
  // `bytes` is empty or of the wrong length, has an unknown version, or
  // holds a different number of hashes than its size implies.
  static Result<CompactRange> Deserialize(std::span<const std::uint8_t> bytes);

  friend bool operator==(const CompactRange&, const CompactRange&) = default;

 private:
  std::uint64_t size_ = 0;
  // Invariant: frontier_.size() == popcount(size_); frontier_[i] is the
  // root of the i-th perfect subtree from the left.
  std::vector<Hash> frontier_;
};

}  // namespace qorgau::ledger::merkle
