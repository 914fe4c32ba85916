"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1): pure functions.

A tenant's trail is an append-only list of leaves; its state at ``tree_size`` leaves is the
root hash of the tree over them. An inclusion proof shows that a leaf is at an index of a tree
with a given root; a consistency proof shows that a tree of ``size1`` leaves is a prefix of a
tree of ``size2``, which is what lets a partner who kept an older signed root check that the
log has only grown since. These functions need no database, so a partner can run exactly them
(or any other RFC 9162 implementation) against what the API hands out.

Hashing, as RFC 9162 2.1.1 specifies:
- the empty tree's root is SHA-256 of the empty string;
- a leaf hash is SHA-256(0x00 || leaf data);
- an interior node is SHA-256(0x01 || left || right), the split at the largest power of two
  smaller than the number of leaves.

The ``verify_*`` functions return True only for a proof that verifies, and False for anything
else, malformed input included (a size that is negative, out of range or not an int, a hash of
the wrong length, a proof that is not a list of hashes): a verifier must never be made to raise
by what it is asked to check. The proof algorithms are RFC 9162 2.1.3.1 (PATH) and 2.1.4.1
(PROOF / SUBPROOF); the verifications are 2.1.3.2 and 2.1.4.2, with the cases of an empty or
an unchanged first tree as the RFC describes them (an empty proof, and equal roots).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf of the log."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over leaf hashes (MTH, with the leaves already hashed)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    # Bottom-up: pair neighbours level by level; an odd node at the end rises unchanged,
    # which gives exactly the left-heavy split of the recursive definition.
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaves`` (leaf data, hashed here)."""
    return _mth([leaf_hash(d) for d in leaves])


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """The root of the tree over leaf hashes (as the log stores them)."""
    return _mth(hashes)


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``hashes`` (PATH(m, D[n]))."""
    if not 0 <= index < len(hashes):
        raise ValueError(f"index {index} is not in a tree of {len(hashes)} leaves")
    path: list[bytes] = []
    lo, hi, m = 0, len(hashes), index
    # Iterative PATH: descend towards the leaf, collecting the sibling subtree at each split
    # (the list is built root-first, then reversed: the proof goes from the leaf up).
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_mth(hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(_mth(hashes[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(size1: int, hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the first ``size1`` leaves are a prefix of the tree over ``hashes``."""
    size2 = len(hashes)
    if not 0 <= size1 <= size2:
        raise ValueError(f"size {size1} is not within a tree of {size2} leaves")
    if size1 in (0, size2):
        return []
    return _subproof(size1, hashes, True)


def subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1 (0 < m <= n): a consistency proof's part over one
    subtree, for callers that assemble the rest of the proof from stored subtree hashes."""
    if not 0 < m <= len(hashes):
        raise ValueError(f"size {m} is not within a subtree of {len(hashes)} leaves")
    return _subproof(m, hashes, complete)


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def _is_hash(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(proof: Any) -> bool:
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows the leaf with this hash at ``index`` of the tree ``root``."""
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_proof(proof)):
        return False
    if not (_is_size(index) and _is_size(tree_size)) or index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """True when ``proof`` shows the tree ``root1`` of ``size1`` leaves to be a prefix of the
    tree ``root2`` of ``size2`` leaves."""
    if not (_is_size(size1) and _is_size(size2) and _is_hash(root1) and _is_hash(root2)):
        return False
    if not _is_proof(proof) or size1 > size2:
        return False
    if size1 == size2:
        return len(proof) == 0 and root1 == root2
    if size1 == 0:
        return len(proof) == 0 and root1 == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the first tree is a subtree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2
