"""Tests for the RFC 9162 Merkle-tree core: published vectors, properties, scale."""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# --- Published vectors -------------------------------------------------------
# RFC 6962 and RFC 9162 (SHA-256) hash identically. The literals below are copied
# from github.com/transparency-dev/merkle:
#   testonly/constants.go   -> LeafInputs, NodeHashes, RootHashes, CompactTrees, EmptyRootHash
#   proof/verify_test.go    -> inclusionProofs, consistencyProofs
#   rfc6962/rfc6962_test.go -> TestRFC6962Hasher ("RFC6962 Empty Leaf", "RFC6962 Leaf")

# testonly/constants.go: LeafInputs()
LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# testonly/constants.go: NodeHashes() -- [level][index] of every complete subtree.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# testonly/constants.go: EmptyRootHash()
EMPTY_ROOT_HASH = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

# testonly/constants.go: RootHashes() -- indexed by tree size, starting from the empty tree.
ROOT_HASHES = [
    EMPTY_ROOT_HASH,
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# testonly/constants.go: CompactTrees() -- compact-range hashes for every tree size.
_NH = NODE_HASHES
COMPACT_TREES = [
    [],
    [_NH[0][0]],
    [_NH[1][0]],
    [_NH[1][0], _NH[0][2]],
    [_NH[2][0]],
    [_NH[2][0], _NH[0][4]],
    [_NH[2][0], _NH[1][2]],
    [_NH[2][0], _NH[1][2], _NH[0][6]],
    [_NH[3][0]],
]

# proof/verify_test.go: inclusionProofs -- (leaf, size, proof); `leaf` is 1-based there.
# The {0, 0, nil} entry ("an invalid path") is covered by test_inclusion_vector_invalid_path.
INCLUSION_VECTORS = [
    (1, 1, []),
    (1, 8, [
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ]),
    (6, 8, [
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    ]),
    (3, 3, [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    ]),
    (2, 5, [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    ]),
]

# proof/verify_test.go: consistencyProofs -- (size1, size2, proof).
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (1, 8, [
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ]),
    (6, 8, [
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    ]),
    (2, 5, [
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    ]),
    (6, 7, [
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    ]),
]

# proof/verify_test.go: sha256SomeHash (an arbitrary well-formed hash).
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]


def flip(value: bytes, bit: int = 3) -> bytes:
    """Return ``value`` with one bit of its first byte flipped."""
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# --- Hashing and roots against the vectors -------------------------------------


def test_hasher_vectors() -> None:
    # rfc6962/rfc6962_test.go: TestRFC6962Hasher
    assert EMPTY_ROOT == root_hash([]) == EMPTY_ROOT_HASH
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")


def test_node_hash_vectors() -> None:
    assert LEAVES == NODE_HASHES[0]
    for level in range(1, len(NODE_HASHES)):
        below = NODE_HASHES[level - 1]
        for i, expected in enumerate(NODE_HASHES[level]):
            assert node_hash(below[2 * i], below[2 * i + 1]) == expected
            width = 1 << level
            assert root_hash(LEAVES[i * width:(i + 1) * width]) == expected


@pytest.mark.parametrize("size", range(len(ROOT_HASHES)))
def test_root_hash_vectors(size: int) -> None:
    assert root_hash(LEAVES[:size]) == ROOT_HASHES[size]


def test_accumulator_matches_compact_tree_vectors() -> None:
    acc = MerkleAccumulator()
    assert acc.peaks == COMPACT_TREES[0] and acc.root() == ROOT_HASHES[0]
    for size, leaf in enumerate(LEAVES, start=1):
        acc.append(leaf)
        assert acc.size == size
        assert acc.peaks == COMPACT_TREES[size]
        assert acc.root() == ROOT_HASHES[size]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(leaf: int, size: int, proof: list[bytes]) -> None:
    index, root = leaf - 1, ROOT_HASHES[size]
    assert inclusion_proof(LEAVES[:size], index) == proof
    assert verify_inclusion(LEAVES[index], index, size, proof, root)
    # Corruptions modelled on corruptInclusionProof in proof/verify_test.go.
    bad = [
        (LEAVES[index], index - 1, size, proof, root),
        (LEAVES[index], index + 1, size, proof, root),
        (LEAVES[index], index ^ 2, size, proof, root),
        (LEAVES[index], index, size * 2, proof, root),
        (LEAVES[index], index, size // 2, proof, root),
        (b"WrongLeaf", index, size, proof, root),
        (LEAVES[index], index, size, proof, EMPTY_ROOT_HASH),
        (LEAVES[index], index, size, proof, SOME_HASH),
        (LEAVES[index], index, size, [*proof, b""], root),
        (LEAVES[index], index, size, [*proof, root], root),
        (LEAVES[index], index, size, [b"", *proof], root),
        (LEAVES[index], index, size, [root, *proof], root),
    ]
    bad += [(LEAVES[index], index, size, proof[:i] + [flip(p)] + proof[i + 1:], root)
            for i, p in enumerate(proof)]
    if proof:
        bad.append((LEAVES[index], index, size, proof[:-1], root))
    if len(proof) > 1:
        bad.append((LEAVES[index], index, size, [proof[0], SOME_HASH, *proof[1:]], root))
    for args in bad:
        assert verify_inclusion(*args) is False, args


def test_inclusion_vector_invalid_path() -> None:
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof([], 0)
    assert verify_inclusion(SOME_HASH, 0, 0, [], EMPTY_ROOT_HASH) is False


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(size1: int, size2: int, proof: list[bytes]) -> None:
    root1, root2 = ROOT_HASHES[size1], ROOT_HASHES[size2]
    assert consistency_proof(LEAVES[:size2], size1) == proof
    assert verify_consistency(size1, size2, root1, root2, proof)
    if not proof:
        return
    # Corruptions modelled on corruptConsistencyProof in proof/verify_test.go.
    bad = [
        (size1 - 1, size2, root1, root2, proof),
        (size1 + 1, size2, root1, root2, proof),
        (size1 ^ 2, size2, root1, root2, proof),
        (size1, size2 * 2, root1, root2, proof),
        (size1, size2 // 2, root1, root2, proof),
        (size1, size2, b"WrongRoot", root2, proof),
        (size1, size2, root1, b"WrongRoot", proof),
        (size1, size2, root2, root1, proof),
        (size1, size2, root1, root2, []),
        (size1, size2, root1, root2, [*proof, b""]),
        (size1, size2, root1, root2, [*proof, root1]),
        (size1, size2, root1, root2, [*proof, root2]),
        (size1, size2, root1, root2, [b"", *proof]),
        (size1, size2, root1, root2, [root1, *proof]),
        (size1, size2, root1, root2, [root2, *proof]),
        (size1, size2, root1, root2, [proof[0], *proof]),
        (size1, size2, root1, root2, proof[:-1]),
    ]
    bad += [(size1, size2, root1, root2, proof[:i] + [flip(p, 4)] + proof[i + 1:])
            for i, p in enumerate(proof)]
    for args in bad:
        assert verify_consistency(*args) is False, args


# --- Edge cases and errors ------------------------------------------------------


def test_consistency_trivial_cases() -> None:
    root = ROOT_HASHES[3]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 3, EMPTY_ROOT, root, [])
    assert verify_consistency(3, 3, root, root, [])
    assert consistency_proof(LEAVES[:3], 0) == consistency_proof(LEAVES[:3], 3) == []
    assert not verify_consistency(0, 3, SOME_HASH, root, [])  # old root is not the empty tree
    assert not verify_consistency(0, 3, EMPTY_ROOT, root, [root])  # proof must be empty
    assert not verify_consistency(3, 3, root, SOME_HASH, [])  # same size, different roots
    assert not verify_consistency(3, 3, root, root, [root])  # same size, non-empty proof
    assert not verify_consistency(3, 2, root, ROOT_HASHES[2], [])  # time travel
    assert not verify_consistency(1, 2, ROOT_HASHES[1], ROOT_HASHES[2], [])  # empty proof


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(LEAVES, -1)
    with pytest.raises(ValueError, match="greater than the tree size"):
        consistency_proof(LEAVES[:3], 4)
    with pytest.raises(ValueError, match=">= 0"):
        consistency_proof(LEAVES, -1)
    with pytest.raises(ValueError, match="32 bytes"):
        root_hash([LEAVES[0], b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        node_hash(LEAVES[0], LEAVES[1] + b"x")
    with pytest.raises(ValueError, match="must be bytes"):
        inclusion_proof([LEAVES[0], "not bytes"], 0)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleAccumulator().append(b"")
    with pytest.raises(ValueError, match="peaks"):
        MerkleAccumulator.from_state(3, [ROOT_HASHES[2]])


garbage = st.one_of(
    st.none(), st.integers(-3, 3), st.text(max_size=3), st.binary(max_size=40),
    st.lists(st.binary(max_size=40), max_size=3), st.just(SOME_HASH), st.just([SOME_HASH]),
)


@settings(max_examples=200, deadline=None)
@given(garbage, garbage, garbage, garbage, garbage)
def test_verify_functions_never_raise(a, b, c, d, e) -> None:
    assert verify_inclusion(a, b, c, d, e) in (True, False)
    assert verify_consistency(a, b, c, d, e) in (True, False)
    assert verify_inclusion(SOME_HASH, 0, 1, a, SOME_HASH) is (a == [])
    assert verify_consistency(1, 2, SOME_HASH, SOME_HASH, b) is False


# --- Properties -------------------------------------------------------------------

# Distinct leaf data, so that no two leaves share a hash.
leaf_lists = st.lists(st.binary(max_size=6), min_size=1, max_size=48, unique=True).map(
    lambda items: [leaf_hash(item) for item in items])


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_tampering_fails(leaves, data) -> None:
    n, root = len(leaves), root_hash(leaves)
    for i in range(n):
        assert verify_inclusion(leaves[i], i, n, inclusion_proof(leaves, i), root)
    i = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(leaves, i)
    if n > 1:
        other = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="other")
        assert not verify_inclusion(leaves[other], i, n, proof, root)  # different leaf
        assert not verify_inclusion(leaves[i], other, n, proof, root)  # different index
    assert not verify_inclusion(leaf_hash(b"not in the tree"), i, n, proof, root)
    assert not verify_inclusion(leaves[i], i, n * 2, proof, root)  # different size
    assert not verify_inclusion(leaves[i], i, n // 2, proof, root)
    assert not verify_inclusion(leaves[i], i, n, proof, flip(root))  # different root
    assert not verify_inclusion(leaves[i], i, n, proof, root_hash(leaves[:-1] + [SOME_HASH]))
    for k in range(len(proof)):
        tampered = proof[:k] + [flip(proof[k])] + proof[k + 1:]
        assert not verify_inclusion(leaves[i], i, n, tampered, root)


@settings(max_examples=60, deadline=None)
@given(leaf_lists)
def test_every_consistency_proof_verifies_and_modified_roots_fail(leaves) -> None:
    n, new_root = len(leaves), root_hash(leaves)
    for m in range(n + 1):
        old_root, proof = root_hash(leaves[:m]), consistency_proof(leaves, m)
        assert verify_consistency(m, n, old_root, new_root, proof), m
        assert not verify_consistency(m, n, flip(old_root), new_root, proof), m
        if m:  # the empty tree is consistent with every tree, whatever its root
            assert not verify_consistency(m, n, old_root, flip(new_root), proof), m
        for k in range(len(proof)):
            tampered = proof[:k] + [flip(proof[k])] + proof[k + 1:]
            assert not verify_consistency(m, n, old_root, new_root, tampered), (m, k)


@settings(max_examples=60, deadline=None)
@given(leaf_lists)
def test_accumulator_root_equals_root_hash_at_every_size(leaves) -> None:
    acc = CompactRange()
    assert acc.root() == root_hash([])
    for size, leaf in enumerate(leaves, start=1):
        acc.append(leaf)
        assert acc.root() == root_hash(leaves[:size])
        restored = MerkleAccumulator.from_state(acc.size, acc.peaks)
        assert restored.root() == acc.root()


# --- Scale ------------------------------------------------------------------------------


def test_hundred_thousand_leaves() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    root = root_hash(leaves)
    acc = MerkleAccumulator()
    for leaf in leaves:
        acc.append(leaf)
    assert acc.root() == root
    for index in (0, 65_535, 65_536, 99_999):
        proof = inclusion_proof(leaves, index)
        assert len(proof) <= 17
        assert verify_inclusion(leaves[index], index, len(leaves), proof, root)
    for old_size in (1, 65_536, 99_998):
        proof = consistency_proof(leaves, old_size)
        assert verify_consistency(old_size, len(leaves), root_hash(leaves[:old_size]), root, proof)
