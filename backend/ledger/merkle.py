"""Pure Merkle-tree core of the ledger, per RFC 9162 (CT v2) section 2.1.

Leaves and nodes are hashed with SHA-256 and domain-separated prefixes
(0x00 for leaves, 0x01 for interior nodes), so the hashes match RFC 6962 and
RFC 9162 logs. Everything here is iterative or recurses only on tree depth:
roots and proofs over ``n`` leaves cost O(n) hashing and O(log n) stack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleAccumulator",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


# --- hashing -------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior-node hash SHA-256(0x01 || left || right)."""
    _check_hash(left, "left")
    _check_hash(right, "right")
    return _node(left, right)


def _node(left: bytes, right: bytes) -> bytes:
    """Unchecked node hash for inputs that were validated already."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == HASH_SIZE


def _check_hash(value: object, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)):
        raise ValueError(f"{what} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_leaves(leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Validate every leaf hash and return them as a list of ``bytes``."""
    leaves = []
    for i, h in enumerate(leaf_hashes):
        _check_hash(h, f"leaf hash #{i}")
        leaves.append(bytes(h))
    return leaves


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, got {type(value).__name__}")
    return value


# --- roots ---------------------------------------------------------------


def _mth(leaves: Sequence[bytes]) -> bytes:
    """MTH over validated leaf hashes, level by level (an odd last node moves up).

    Promoting an unpaired right-most node unchanged yields exactly the RFC 9162
    shape (split at the largest power of two below ``n``).
    """
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of the given leaf hashes (RFC 9162 §2.1.1)."""
    return _mth(_check_leaves(leaf_hashes))


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- inclusion -----------------------------------------------------------


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the audit path PATH(index, D[n]) of RFC 9162 §2.1.3.1, leaf first."""
    leaves = _check_leaves(leaf_hashes)
    index = _check_size(index, "index")
    if not 0 <= index < len(leaves):
        raise ValueError(f"index {index} out of range for a tree of size {len(leaves)}")
    siblings: list[bytes] = []  # collected root-side first
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            siblings.append(_mth(leaves[lo + k:hi]))
            hi = lo + k
        else:
            siblings.append(_mth(leaves[lo:lo + k]))
            lo += k
    siblings.reverse()
    return siblings


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof with the RFC 9162 §2.1.3.2 algorithm; never raises."""
    if not _valid_inclusion_args(leaf_hash, index, tree_size, proof, root):
        return False
    if index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _valid_inclusion_args(
    leaf: object, index: object, size: object, proof: object, root: object
) -> bool:
    sizes_ok = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (index, size))
    return sizes_ok and _is_hash(leaf) and _is_hash(root) and _is_proof(proof)


def _is_proof(proof: object) -> bool:
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        return False
    return all(_is_hash(p) for p in proof)


# --- consistency ---------------------------------------------------------


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return PROOF(old_size, D[n]) of RFC 9162 §2.1.4.1 (empty if 0 or n)."""
    leaves = _check_leaves(leaf_hashes)
    m = _check_size(old_size, "old_size")
    n = len(leaves)
    if m < 0:
        raise ValueError(f"old_size must be >= 0, got {m}")
    if m > n:
        raise ValueError(f"old_size {m} is greater than the tree size {n}")
    if m in (0, n):
        return []
    return _subproof(leaves, m)


def _subproof(leaves: list[bytes], m: int) -> list[bytes]:
    """Iterative SUBPROOF(m, D[n], true): the deepest node first, then siblings."""
    siblings: list[bytes] = []  # collected root-side first
    lo, hi, complete = 0, len(leaves), True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            siblings.append(_mth(leaves[lo + k:hi]))
            hi = lo + k
        else:
            siblings.append(_mth(leaves[lo:lo + k]))
            lo, m, complete = lo + k, m - k, False
    head = [] if complete else [_mth(leaves[lo:hi])]
    return head + siblings[::-1]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof with the RFC 9162 §2.1.4.2 algorithm; never raises.

    Trivial cases handled before the algorithm: equal sizes need an empty proof
    and equal roots; an empty old tree (whose root must be SHA-256 of the empty
    string) is consistent with any tree through an empty proof.
    """
    if not _valid_consistency_args(old_size, new_size, old_root, new_root, proof):
        return False
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    return _verify_consistency_path(old_size, new_size, old_root, new_root, list(proof))


def _valid_consistency_args(
    old_size: object, new_size: object, old_root: object, new_root: object, proof: object
) -> bool:
    sizes_ok = all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (old_size, new_size)
    )
    return sizes_ok and _is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)


def _verify_consistency_path(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> bool:
    """Steps 1-7 of RFC 9162 §2.1.4.2 for ``0 < first < second``."""
    if not path:
        return False
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_hash))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# --- incremental accumulator ---------------------------------------------


class MerkleAccumulator:
    """Append-only Merkle root builder keeping O(log n) state.

    ``peaks`` holds the roots of the perfect subtrees that make up the tree of
    the first ``size`` leaves, largest (left-most) first: one per set bit of
    ``size``. Persist ``(size, peaks)`` and restore with ``from_state`` to keep
    appending without re-reading earlier leaves.
    """

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, peaks: Sequence[bytes]) -> MerkleAccumulator:
        """Rebuild an accumulator from a saved ``size`` and ``peaks``."""
        size = _check_size(size, "size")
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        if len(peaks) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} peaks, got {len(peaks)}")
        acc = cls()
        acc._size, acc._peaks = size, _check_leaves(peaks)
        return acc

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def peaks(self) -> list[bytes]:
        """Perfect-subtree roots, left to right (a copy)."""
        return list(self._peaks)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash at the right edge of the tree."""
        _check_hash(leaf_hash, "leaf hash")
        self._peaks.append(bytes(leaf_hash))
        n = self._size
        while n & 1:
            right = self._peaks.pop()
            self._peaks[-1] = _node(self._peaks[-1], right)
            n >>= 1
        self._size += 1

    def root(self) -> bytes:
        """Return the RFC 9162 root of the tree of all leaves appended so far."""
        if not self._peaks:
            return EMPTY_ROOT
        r = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            r = _node(peak, r)
        return r


CompactRange = MerkleAccumulator
"""Alias: the accumulator state is a compact range [0, size) in transparency-dev terms."""
