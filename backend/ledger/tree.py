"""Stored interior nodes of the ledger's Merkle tree, and proofs from them. Pure: no I/O.

The writer stores the hash of every *complete* subtree whose height is a multiple of
:data:`STRIDE` (levels 4, 8, 12, …; level 0 is the leaf hash kept on each entry). A complete
subtree ``(level, index)`` covers leaves ``[index << level, (index + 1) << level)`` and never
changes once written, whatever is appended later.

A proof (RFC 9162 §2.1.3–2.1.4) is a list of Merkle Tree Hashes of leaf ranges. Each range splits
into at most ``log2 n`` complete subtrees, and each complete subtree is either stored or the root of
at most ``2**(STRIDE-1)`` stored nodes (or leaves) one stored level below. So a proof over ``n``
leaves needs O(log n) stored hashes, read in one statement per table, and O(log n) hashing.

Nodes are keyed by one integer, :func:`node_key` ``= level << 48 | index``, so one level's
nodes are a contiguous key range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from backend.ledger.merkle import EMPTY_ROOT, _mth, _node, _split

STRIDE = 4
_INDEX_BITS = 48

Subtree = tuple[int, int]
"""A complete subtree ``(level, index)``: leaves ``[index << level, (index + 1) << level)``."""


def node_key(level: int, index: int) -> int:
    """The stored key of node ``(level, index)``."""
    if not 0 <= index < 1 << _INDEX_BITS or not 0 <= level < 64:
        raise ValueError(f"node ({level}, {index}) is out of range")
    return level << _INDEX_BITS | index


def split_key(key: int) -> Subtree:
    """``(level, index)`` of a stored key."""
    return key >> _INDEX_BITS, key & ((1 << _INDEX_BITS) - 1)


def key_ranges(size: int) -> list[tuple[int, int]]:
    """Half-open key ranges of every node a tree of ``size`` leaves stores (any other is extra)."""
    return [(node_key(level, 0), node_key(level, 0) + (size >> level))
            for level in range(STRIDE, max(size.bit_length(), 1), STRIDE) if size >> level]


# --- writing -------------------------------------------------------------


@dataclass
class TreeState:
    """The compact range of a tree of ``size`` leaves: one peak per set bit, largest first."""

    size: int
    peaks: list[bytes]

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.peaks) != self.size.bit_count():
            raise ValueError(f"a tree of size {self.size} has {self.size.bit_count()} peaks, "
                             f"got {len(self.peaks)}")

    def append(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Append leaf hashes; return every stored-level node ``(level, index, hash)`` completed."""
        completed: list[tuple[int, int, bytes]] = []
        peaks = self.peaks
        for leaf in leaves:
            position = self.size
            peaks.append(leaf)
            level, n = 0, position
            while n & 1:
                right = peaks.pop()
                peaks[-1] = _node(peaks[-1], right)
                level += 1
                n >>= 1
                if level % STRIDE == 0:
                    completed.append((level, position >> level, peaks[-1]))
            self.size = position + 1
        return completed

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        r = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            r = _node(peak, r)
        return r


# --- reading -------------------------------------------------------------


def range_subtrees(lo: int, hi: int) -> list[Subtree]:
    """The complete subtrees whose MTHs fold (right to left) into MTH(D[lo:hi]).

    RFC 9162 splits a range at the largest power of two below its size, so the pieces are the
    set bits of ``hi - lo`` from the largest; each must be aligned (true of every range a proof
    over a tree rooted at leaf 0 uses).
    """
    if not 0 <= lo < hi:
        raise ValueError(f"empty or negative range [{lo}, {hi})")
    out: list[Subtree] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo & ((1 << level) - 1):
            raise ValueError(f"range [{lo}, {hi}) is not aligned at {lo}")
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs make PATH(index, D[size]), leaf side first (as merkle.inclusion_proof)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} out of range for a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs make PROOF(old_size, D[size]) (as merkle.consistency_proof)."""
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} is not within [0, {size}]")
    if old_size in (0, size):
        return []
    ranges: list[tuple[int, int]] = []
    m, lo, hi, complete = old_size, 0, size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    head = [] if complete else [(lo, hi)]
    return head + ranges[::-1]


def base_of(subtree: Subtree) -> tuple[int, int, int]:
    """Where a subtree's hash comes from: ``(stored level, first, end)`` — one stored node when
    ``end == first + 1`` at the subtree's own level, else its descendants one stored level down
    (level 0 means leaf hashes, by ``seq``)."""
    level, index = subtree
    base = level - level % STRIDE
    shift = level - base
    return base, index << shift, (index + 1) << shift


@dataclass(frozen=True)
class Reads:
    """Everything a set of ranges needs: leaf positions and stored node keys."""

    leaves: frozenset[int]
    nodes: frozenset[int]


def reads_for(ranges: Iterable[tuple[int, int]], extra_leaves: Iterable[int] = ()) -> Reads:
    """The leaf seqs and node keys whose hashes determine the MTHs of ``ranges``."""
    leaves, nodes = set(extra_leaves), set()
    for lo, hi in ranges:
        for subtree in range_subtrees(lo, hi):
            base, first, end = base_of(subtree)
            if base == 0:
                leaves.update(range(first, end))
            else:
                nodes.update(node_key(base, i) for i in range(first, end))
    return Reads(frozenset(leaves), frozenset(nodes))


class MissingNode(LookupError):
    """A hash a proof needs is not stored (the tree's nodes were not built for that range)."""


def range_hash(lo: int, hi: int, leaves: Mapping[int, bytes], nodes: Mapping[int, bytes]) -> bytes:
    """MTH(D[lo:hi]) from stored leaf hashes (by seq) and stored nodes (by key)."""
    pieces = []
    for subtree in range_subtrees(lo, hi):
        base, first, end = base_of(subtree)
        try:
            if base == 0:
                hashes = [leaves[i] for i in range(first, end)]
            else:
                hashes = [nodes[node_key(base, i)] for i in range(first, end)]
        except KeyError as exc:
            raise MissingNode(f"no stored hash for subtree {subtree} of [{lo}, {hi})") from exc
        pieces.append(_mth(hashes))
    r = pieces[-1]
    for piece in reversed(pieces[:-1]):
        r = _node(piece, r)
    return r


def proof_hashes(ranges: Sequence[tuple[int, int]], leaves: Mapping[int, bytes],
                 nodes: Mapping[int, bytes]) -> list[bytes]:
    """The proof: MTH of each range, in order."""
    return [range_hash(lo, hi, leaves, nodes) for lo, hi in ranges]
