"""The stored-node tree logic agrees with the plain RFC 9162 code in backend.ledger.merkle."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.ledger import merkle, tree


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(n)]


def _stored(leaves: list[bytes], chunks: list[int]) -> tuple[tree.TreeState, dict[int, bytes]]:
    """Append ``leaves`` in writer transactions of the given sizes; collect the stored nodes."""
    state, nodes, at = tree.TreeState(0, []), {}, 0
    for size in chunks + [len(leaves)]:
        part = leaves[at:at + size]
        for level, index, h in state.append(part):
            key = tree.node_key(level, index)
            assert key not in nodes, "a node is completed exactly once"
            nodes[key] = h
        at += len(part)
    return state, nodes


@st.composite
def trees(draw, max_size: int = 600):
    n = draw(st.integers(1, max_size))
    chunks = draw(st.lists(st.integers(1, 80), max_size=10))
    return _leaves(n), chunks


@settings(max_examples=120, deadline=None)
@given(trees(), st.data())
def test_proofs_from_stored_nodes_equal_merkle(case, data):
    leaves, chunks = case
    n = len(leaves)
    state, nodes = _stored(leaves, chunks)
    assert state.size == n and state.root() == merkle.root_hash(leaves)
    by_seq = dict(enumerate(leaves))
    index = data.draw(st.integers(0, n - 1))
    size = data.draw(st.integers(index + 1, n))
    ranges = tree.inclusion_ranges(index, size)
    reads = tree.reads_for(ranges)
    proof = tree.proof_hashes(ranges, {i: by_seq[i] for i in reads.leaves}, {k: nodes[k] for k in reads.nodes})
    assert proof == merkle.inclusion_proof(leaves[:size], index)
    old = data.draw(st.integers(0, size))
    ranges = tree.consistency_ranges(old, size)
    reads = tree.reads_for(ranges)
    proof = tree.proof_hashes(ranges, {i: by_seq[i] for i in reads.leaves}, {k: nodes[k] for k in reads.nodes})
    assert proof == merkle.consistency_proof(leaves[:size], old)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 1 << 40), st.data())
def test_reads_are_logarithmic(size, data):
    """A proof never needs more than 2**(STRIDE-1) hashes per tree level, whatever the size."""
    depth = size.bit_length()
    bound = 2 * depth * (1 << (tree.STRIDE - 1)) + 1
    index = data.draw(st.integers(0, size - 1))
    reads = tree.reads_for(tree.inclusion_ranges(index, size), [index])
    assert len(reads.leaves) + len(reads.nodes) <= bound
    old = data.draw(st.integers(0, size))
    reads = tree.reads_for(tree.consistency_ranges(old, size))
    assert len(reads.leaves) + len(reads.nodes) <= bound


def test_stored_node_is_the_subtree_root():
    leaves = _leaves(300)
    _, nodes = _stored(leaves, [7, 100])
    assert set(nodes) == {tree.node_key(4, i) for i in range(18)} | {tree.node_key(8, 0)}
    assert nodes[tree.node_key(4, 3)] == merkle.root_hash(leaves[48:64])
    assert nodes[tree.node_key(8, 0)] == merkle.root_hash(leaves[:256])


def test_missing_or_tampered_node():
    leaves = _leaves(100)
    _, nodes = _stored(leaves, [])
    ranges = tree.inclusion_ranges(99, 100)
    reads = tree.reads_for(ranges)
    by_seq = dict(enumerate(leaves))
    with pytest.raises(tree.MissingNode):
        tree.proof_hashes(ranges, by_seq, {})
    bad = dict(nodes)
    bad[tree.node_key(4, 0)] = hashlib.sha256(b"x").digest()
    assert tree.proof_hashes(ranges, by_seq, bad) != merkle.inclusion_proof(leaves, 99)
    assert tree.node_key(4, 0) in reads.nodes


def test_keys_and_bad_input():
    assert tree.split_key(tree.node_key(12, 12345)) == (12, 12345)
    with pytest.raises(ValueError):
        tree.node_key(4, -1)
    with pytest.raises(ValueError):
        tree.TreeState(3, [bytes(32)])
    with pytest.raises(ValueError):
        tree.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        tree.consistency_ranges(6, 5)
    assert tree.consistency_ranges(0, 5) == [] and tree.consistency_ranges(5, 5) == []


def test_key_ranges_cover_exactly_the_stored_nodes():
    for n in (0, 1, 15, 16, 255, 256, 300, 4096, 5000):
        _, nodes = _stored(_leaves(n), [])
        inside = {k for lo, hi in tree.key_ranges(n) for k in range(lo, hi)}
        assert inside == set(nodes), n
