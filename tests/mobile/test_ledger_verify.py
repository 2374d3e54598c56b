"""The phone's ledger verifier against published vectors, the backend's own Merkle code and the real API.

mobile.ledger_verify re-implements everything it checks; the backend is imported here only to
build entries, serve proofs and compare answers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.accounts.models import Role
from backend.ledger import merkle, signing
from backend.ledger.checkpoints import ledger_key, publish_checkpoint
from backend.ledger.entries import Asset, EntryKind, EntryRecord, encode_leaf
from backend.ledger.models import LedgerEntry
from backend.ledger.service import ledger_transaction
from mobile import ledger_verify as lv
from mobile.ledger_verify import Checkpoint, VerificationError
from tests.builders import gql, make_user, sign_in
from tests.ledger.test_merkle import (
    CONSISTENCY_VECTORS,
    INCLUSION_VECTORS,
    LEAVES,
    ROOT_HASHES,
    SOME_HASH,
)
from tests.ledger.test_signing import ENOCH_LINE, PETER_NOTE, PETER_TEXT, PETER_VKEY, _peter_seed

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile" / "api" / "operations"
WALLET = """
query { wallet { __typename ... on Wallet {
  history { seq kind asset scope amount recordedAt memo leafHash leafData } } } }"""
NAME = "test.example/ledger"
KEY = signing.private_key_from_seed(hashlib.sha256(b"phone seed 0").digest())
OTHER = signing.private_key_from_seed(hashlib.sha256(b"phone seed 1").digest())
VKEY = signing.verifier_key(NAME, KEY.public_key())


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def note_of(origin: str, size: int, root: bytes, key=KEY, name: str = NAME) -> str:
    return signing.sign_checkpoint(signing.Checkpoint(origin, size, root), name, key)


# --- signed notes and verifier keys ------------------------------------------------------------------


def test_the_go_verifier_key_and_note_verify():
    key = lv.parse_verifier_key(PETER_VKEY)
    assert (key.name, key.key_hash.hex()) == ("PeterNeumann", "c74f20a3")
    assert lv.verify_note(PETER_NOTE, PETER_VKEY) == PETER_TEXT
    assert lv.verify_note(PETER_NOTE + ENOCH_LINE, key) == PETER_TEXT  # an unknown cosigner is ignored
    with pytest.raises(VerificationError, match="does not verify"):
        lv.verify_note(PETER_NOTE.replace("cryptography", "cryptographY"), key)
    with pytest.raises(VerificationError, match="no signature by PeterNeumann"):
        lv.verify_note(PETER_TEXT + "\n" + ENOCH_LINE, key)


def test_a_checkpoint_signed_with_the_go_key_verifies_with_the_go_verifier_key():
    private = signing.private_key_from_seed(_peter_seed())
    root = hashlib.sha256(b"x").digest()
    note = note_of("example.com/log", 7, root, key=private, name="PeterNeumann")
    assert lv.verify_checkpoint(note, PETER_VKEY) == Checkpoint("example.com/log", 7, root)
    assert lv.verify_checkpoint(note, PETER_VKEY).note == note


def test_the_backends_verifier_key_parses_and_the_fingerprint_is_stable():
    key = lv.parse_verifier_key(VKEY + "\n")
    assert key.public_key == signing.public_key_bytes(KEY.public_key())
    assert key.key_hash == signing.key_id(NAME, KEY.public_key())
    assert re.fullmatch(r"([0-9a-f]{4} ){7}[0-9a-f]{4}", key.fingerprint)
    assert key.fingerprint != lv.parse_verifier_key(signing.verifier_key(NAME, OTHER.public_key())).fingerprint


def _vkey_with(name: str, alg_and_key: bytes, hash_hex: str | None = None) -> str:
    if hash_hex is None:
        hash_hex = hashlib.sha256(name.encode() + b"\n" + alg_and_key).digest()[:4].hex()
    return f"{name}+{hash_hex}+{base64.b64encode(alg_and_key).decode()}"


RAW_KEY = signing.public_key_bytes(KEY.public_key())


@pytest.mark.parametrize("vkey, message", [
    ("", "malformed"),
    ("name", "malformed"),
    ("name+abcd+AAAA", "malformed"),
    ("name+abcdefgh+AAAA", "malformed"),
    ("na me+abcdef12+AAAA", "malformed"),
    ("+abcdef12+AAAA", "malformed"),
    ("name+abcdef12+not base64", "not base64"),
    (_vkey_with("name", b""), "no key"),
    (_vkey_with("name", b"\x01" + RAW_KEY, hash_hex="00000000"), "hash does not match"),
    (PETER_VKEY.replace("PeterNeumann", "PeterNeuman"), "hash does not match"),
    (_vkey_with("name", b"\x02" + RAW_KEY), "unknown signature algorithm 0x02"),
    (_vkey_with("name", b"\x01" + RAW_KEY[:31]), "32 bytes"),
    (_vkey_with("name", b"\x01" + RAW_KEY + b"\x00"), "32 bytes"),
])
def test_malformed_verifier_keys_are_rejected(vkey, message):
    with pytest.raises(VerificationError, match=message):
        lv.parse_verifier_key(vkey)


ROOT = hashlib.sha256(b"root").digest()
ROOT64 = base64.b64encode(ROOT).decode()


def _signed(body: str, key=KEY, name: str = NAME) -> str:
    blob = signing.key_id(name, key.public_key()) + key.sign(body.encode())
    return f"{body}\n\u2014 {name} {base64.b64encode(blob).decode()}\n"


def test_extension_lines_are_signed_and_kept():
    cp = lv.verify_checkpoint(_signed(f"{NAME}\n42\n{ROOT64}\nextension one\n"), VKEY)
    assert (cp.size, cp.root, cp.extensions) == (42, ROOT, ("extension one",))
    with pytest.raises(VerificationError, match="does not verify"):
        lv.verify_checkpoint(_signed(f"{NAME}\n42\n{ROOT64}\nextension one\n").replace("one", "two"), VKEY)


def test_the_expected_origin_is_enforced():
    note = note_of("somewhere.else/log", 3, ROOT)
    assert lv.verify_checkpoint(note, VKEY).origin == "somewhere.else/log"
    with pytest.raises(VerificationError, match="not 'test.example/ledger'"):
        lv.verify_checkpoint(note, VKEY, origin=NAME)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
NON_CANONICAL_ROOT64 = ROOT64[:-2] + _B64[_B64.index(ROOT64[-2]) | 1] + "="  # same bytes, unused bits set
GOOD_NOTE = note_of(NAME, 42, ROOT)
GOOD_SIG_LINE = GOOD_NOTE.split("\n\n")[1]


@pytest.mark.parametrize("note, message", [
    ("", "no signature block"),
    (f"{NAME}\n42\n{ROOT64}\n", "no signature block"),
    (GOOD_NOTE[:-1], "must end with a newline"),
    (GOOD_NOTE.replace("\u2014 ", "- "), "em dash"),
    (GOOD_NOTE.replace("\u2014 ", "\u2014"), "em dash"),
    (GOOD_NOTE + "\n", "signature block"),
    (f"{NAME}\n42\n{ROOT64}\n\n\u2014 {NAME} not*base64\n", "not base64"),
    (f"{NAME}\n42\n{ROOT64}\n\n\u2014 {NAME}\n", "bad signature line"),
    (f"{NAME}\n42\n{ROOT64}\n\n\u2014 {NAME} AAAA\n", "bad signature line"),
    (f"{NAME}\n42\n{ROOT64}\n\n\u2014 {NAME} {base64.b64encode(signing.key_id(NAME, KEY.public_key()) + bytes(63)).decode()}\n",
     "does not verify"),
    (GOOD_NOTE.replace("\n42\n", "\n43\n"), "does not verify"),
    (GOOD_NOTE.replace(NAME + "\n", NAME + "\r\n", 1), "control characters"),
    (GOOD_NOTE + GOOD_SIG_LINE * 100, "too many signatures"),
    ("x" * 70_000 + "\n\n" + GOOD_SIG_LINE, "too long"),
    (note_of(NAME, 42, ROOT, key=OTHER), "by another key"),
    (note_of(NAME, 42, ROOT, name="someone.else"), "no signature by test.example/ledger"),
    (GOOD_NOTE.replace(f"\u2014 {NAME} ", f"\u2014 {NAME}x "), "no signature by"),
])
def test_malformed_or_foreign_notes_are_rejected(note, message):
    with pytest.raises(VerificationError, match=message):
        lv.verify_checkpoint(note, VKEY)


@pytest.mark.parametrize("body, message", [
    (f"{NAME}\n42\n", "an origin, a size and a root"),
    (f"{NAME}\n42\n{ROOT64}", "end with a newline"),
    (f"\n42\n{ROOT64}\n", "empty origin"),
    (f"{NAME}\n042\n{ROOT64}\n", "not a 64-bit decimal"),
    (f"{NAME}\n-1\n{ROOT64}\n", "not a 64-bit decimal"),
    (f"{NAME}\n+1\n{ROOT64}\n", "not a 64-bit decimal"),
    (f"{NAME}\n\u0664\u0662\n{ROOT64}\n", "not a 64-bit decimal"),  # Arabic-Indic digits
    (f"{NAME}\n{2**64}\n{ROOT64}\n", "not a 64-bit decimal"),
    (f"{NAME}\n 42\n{ROOT64}\n", "not a 64-bit decimal"),
    (f"{NAME}\n42\nnot base64!\n", "not base64"),
    (f"{NAME}\n42\n{base64.b64encode(bytes(31)).decode()}\n", "31 bytes, not 32"),
    (f"{NAME}\n42\n{base64.b64encode(bytes(33)).decode()}\n", "33 bytes, not 32"),
    (f"{NAME}\n42\n{NON_CANONICAL_ROOT64}\n", "not canonical base64"),
    (f"{NAME}\n42\n{ROOT64}\n\nextension\n", "empty extension"),
])
def test_malformed_checkpoint_bodies_are_rejected_even_when_signed(body, message):
    with pytest.raises(VerificationError, match=message):
        lv.parse_checkpoint(body)
    if body.endswith("\n") and "\n\n" not in body:
        with pytest.raises(VerificationError, match=message):
            lv.verify_checkpoint(_signed(body), VKEY)


def test_the_largest_tree_size_parses():
    assert lv.parse_checkpoint(f"{NAME}\n{2**64 - 1}\n{ROOT64}\n").size == 2**64 - 1
    assert lv.parse_checkpoint(f"{NAME}\n0\n{ROOT64}\n").size == 0


# --- Merkle proofs: published vectors and the backend's implementation ---------------------------------


def _mutations(proof: list[bytes], root: bytes) -> list[list[bytes]]:
    """Proofs with one node altered, removed or added (after corruptInclusionProof in verify_test.go)."""
    out = [proof[:i] + [flip(p, 3)] + proof[i + 1:] for i, p in enumerate(proof)]
    out += [proof[:i] + proof[i + 1:] for i in range(len(proof))]
    out += [proof[:i] + [SOME_HASH] + proof[i:] for i in range(len(proof) + 1)]
    out += [[*proof, root], [root, *proof]]
    if len(proof) > 1:
        out.append(proof[::-1])
    return [m for m in out if m != proof]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors_verify_and_every_corruption_fails(leaf, size, proof):
    index, root = leaf - 1, ROOT_HASHES[size]
    lv.verify_inclusion(LEAVES[index], index, size, proof, root)
    bad = [(LEAVES[index], index, size, p, root) for p in _mutations(proof, root)]
    bad += [(LEAVES[index], i, size, proof, root) for i in (index - 1, index + 1, index ^ 2) if 0 <= i != index]
    bad += [(LEAVES[index], index, s, proof, root) for s in (size * 2, size // 2)]
    bad += [(SOME_HASH, index, size, proof, root), (LEAVES[index], index, size, proof, flip(root))]
    for args in bad:
        with pytest.raises(VerificationError):
            lv.verify_inclusion(*args)
        assert merkle.verify_inclusion(*args) is False  # the backend agrees


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors_verify_and_every_corruption_fails(size1, size2, proof):
    root1, root2 = ROOT_HASHES[size1], ROOT_HASHES[size2]
    lv.verify_consistency(size1, size2, proof, root1, root2)
    bad = [(size1, size2, p, root1, root2) for p in _mutations(proof, root1)]
    bad += [(size1, size2, proof, flip(root1), root2), (size1, size2, proof, root1, flip(root2)),
            (size1, size2, proof, SOME_HASH, root2)]
    if root1 != root2:
        bad.append((size1, size2, proof, root2, root1))
    bad += [(s1, size2, proof, root1, root2) for s1 in (size1 - 1, size1 + 1, size1 ^ 2) if 0 < s1 < size2 and s1 != size1]
    bad.append((size1, size2 * 2, proof, root1, root2))
    for args in bad:
        with pytest.raises(VerificationError):
            lv.verify_consistency(*args)
        s1, s2, p, r1, r2 = args
        assert merkle.verify_consistency(s1, s2, r1, r2, p) is False


def test_trivial_and_invalid_consistency_cases():
    empty, root3 = hashlib.sha256(b"").digest(), ROOT_HASHES[3]
    lv.verify_consistency(0, 3, [], empty, root3)
    lv.verify_consistency(3, 3, [], root3, root3)
    for args, message in [
        ((0, 3, [], SOME_HASH, root3), "empty tree"),
        ((0, 3, [root3], empty, root3), "must be empty"),
        ((3, 3, [], root3, SOME_HASH), "forked"),
        ((3, 3, [root3], root3, root3), "empty consistency proof"),
        ((3, 2, [], root3, ROOT_HASHES[2]), "smaller"),
        ((1, 2, [], ROOT_HASHES[1], ROOT_HASHES[2]), "is empty"),
        ((-1, 2, [], root3, root3), "integer"),
        ((True, 2, [], root3, root3), "integer"),
        ((1, 2**64, [], root3, root3), "integer"),
        ((1, 2, [b"short"], root3, root3), "32 bytes"),
        ((1, 2, SOME_HASH, root3, root3), "list of hashes"),
        ((1, 2, [], root3[:31], root3), "32 bytes"),
    ]:
        with pytest.raises(VerificationError, match=message):
            lv.verify_consistency(*args)


def test_invalid_inclusion_arguments_raise():
    for args, message in [
        ((SOME_HASH, 0, 0, [], SOME_HASH), "beyond the tree size"),
        ((SOME_HASH, 5, 5, [], SOME_HASH), "beyond the tree size"),
        ((SOME_HASH, -1, 5, [], SOME_HASH), "integer"),
        ((SOME_HASH, 0, 1.0, [], SOME_HASH), "integer"),
        ((b"x", 0, 1, [], SOME_HASH), "32 bytes"),
        ((SOME_HASH, 0, 1, "abc", SOME_HASH), "list of hashes"),
    ]:
        with pytest.raises(VerificationError, match=message):
            lv.verify_inclusion(*args)


def _accepts(check: Callable[[], None]) -> bool:
    try:
        check()
    except VerificationError:
        return False
    return True


proof_edits = st.sampled_from(["none", "flip", "drop", "add", "index", "size", "root"])


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_inclusion_agrees_with_the_backend_on_random_trees(size, data):
    leaves = [lv.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, root = merkle.inclusion_proof(leaves, index), merkle.root_hash(leaves)
    lv.verify_inclusion(leaves[index], index, size, proof, root)
    edit = data.draw(proof_edits, label="edit")
    i, n, p, r = index, size, list(proof), root
    if edit == "flip" and p:
        k = data.draw(st.integers(0, len(p) - 1))
        p[k] = flip(p[k], data.draw(st.integers(0, 7)))
    elif edit == "drop" and p:
        del p[data.draw(st.integers(0, len(p) - 1))]
    elif edit == "add":
        p.insert(data.draw(st.integers(0, len(p))), data.draw(st.sampled_from([SOME_HASH, root, *leaves[:3]])))
    elif edit == "index":
        i = data.draw(st.integers(0, size))
    elif edit == "size":  # a larger tree of the same shape around the leaf keeps the proof valid
        n = data.draw(st.integers(index + 1, size + 40))
    elif edit == "root":
        r = merkle.root_hash(leaves[:-1]) if size > 1 else SOME_HASH
    ours = _accepts(lambda: lv.verify_inclusion(leaves[index], i, n, p, r))
    assert ours == merkle.verify_inclusion(leaves[index], i, n, p, r)
    if (i, p, r) != (index, proof, root):
        assert not ours


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_consistency_agrees_with_the_backend_on_random_trees(size, data):
    leaves = [lv.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    old = data.draw(st.integers(0, size), label="old size")
    proof = merkle.consistency_proof(leaves, old)
    old_root, new_root = merkle.root_hash(leaves[:old]), merkle.root_hash(leaves)
    lv.verify_consistency(old, size, proof, old_root, new_root)
    edit = data.draw(proof_edits, label="edit")
    m, n, p, r1 = old, size, list(proof), old_root
    if edit == "flip" and p:
        k = data.draw(st.integers(0, len(p) - 1))
        p[k] = flip(p[k], data.draw(st.integers(0, 7)))
    elif edit == "drop" and p:
        del p[data.draw(st.integers(0, len(p) - 1))]
    elif edit == "add":
        p.insert(data.draw(st.integers(0, len(p))), data.draw(st.sampled_from([SOME_HASH, old_root, new_root])))
    elif edit == "index":
        m = data.draw(st.integers(0, size))
    elif edit == "size":
        n = data.draw(st.integers(max(old, 1), size + 40))
    elif edit == "root" and old:  # a forked old tree: one earlier leaf differs
        forked = list(leaves[:old])
        forked[data.draw(st.integers(0, old - 1))] = SOME_HASH
        r1 = merkle.root_hash(forked)
    ours = _accepts(lambda: lv.verify_consistency(m, n, p, r1, new_root))
    assert ours == merkle.verify_consistency(m, n, r1, new_root, p)
    if (m, p, r1) != (old, proof, old_root):  # another size of the same shape (or from 0) stays valid
        assert not ours


# --- leaf encoding -----------------------------------------------------------------------------------


records = st.builds(
    EntryRecord,
    seq=st.integers(0, 2**53), txn=st.uuids(), kind=st.sampled_from(list(EntryKind)), account=st.uuids(),
    asset=st.sampled_from(list(Asset)), scope=st.sampled_from(["", "46170", "11110"]),
    amount=st.integers(-(2**40), 2**40).filter(bool),
    ref=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 1, 1),
                    timezones=st.sampled_from([UTC, datetime.now().astimezone().tzinfo])),
)


@settings(max_examples=200, deadline=None)
@given(records)
def test_the_leaf_encoding_matches_the_backend_byte_for_byte(record):
    data = encode_leaf(record)
    leaf = lv.parse_leaf(data.decode())
    assert lv.encode_leaf(leaf) == data
    assert lv.leaf_hash(data) == merkle.leaf_hash(data)
    assert (leaf.seq, leaf.amount, leaf.kind, leaf.ref) == (record.seq, record.amount, str(record.kind), record.ref)
    assert leaf.recorded_at == record.at.astimezone(UTC)
    assert leaf.account == str(record.account)


GOOD_LEAF = json.loads(encode_leaf(EntryRecord(
    seq=41, txn=uuid.UUID(int=1), kind=EntryKind.CONVERSION, account=uuid.UUID(int=2), asset=Asset.POINTS,
    scope="", amount=-9600, ref="settle:1:2026-11:x:volunteer:debit", at=datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC))))


def _leaf_text(**changes: Any) -> str:
    return json.dumps({**GOOD_LEAF, **changes}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("data, message", [
    (json.dumps(GOOD_LEAF, sort_keys=True), "canonical"),  # spaces
    (json.dumps(dict(reversed(GOOD_LEAF.items())), separators=(",", ":")), "canonical"),  # not sorted
    (_leaf_text(ref="\uc804\uae30"), None),  # Korean text is kept as UTF-8, not escaped
    (json.dumps({**GOOD_LEAF, "ref": "\uc804\uae30"}, sort_keys=True, separators=(",", ":")), "canonical"),
    (_leaf_text(v=2), "unsupported leaf version"),
    (_leaf_text(v=True), "unsupported leaf version"),
    (_leaf_text(amount=1.5), "whole numbers"),
    (_leaf_text(amount=True), "whole numbers"),
    (_leaf_text(seq=-1), "whole numbers"),
    (_leaf_text(ref=7), "must be strings"),
    (_leaf_text(account=str(uuid.UUID(int=0xABCDEF)).upper()), "lower-case UUIDs"),
    (_leaf_text(txn="not-a-uuid"), "lower-case UUIDs"),
    (_leaf_text(at="2026-11-30T14:59:59Z"), "time"),
    (_leaf_text(at="2026-13-30T14:59:59.000000Z"), "time"),
    (_leaf_text(extra=1), "fields of a ledger leaf"),
    (json.dumps({k: v for k, v in GOOD_LEAF.items() if k != "scope"}), "fields of a ledger leaf"),
    (_leaf_text()[:-1] + ',"seq":41}', "canonical"),  # a duplicated key
    ("[" * 5_000 + "]" * 5_000, "not JSON"),
    ("not json", "not JSON"),
    ("x" * 20_000, "too long"),
    (None, "missing"),
])
def test_malformed_leaves_are_rejected(data, message):
    if message is None:
        assert lv.parse_leaf(data).ref == "\uc804\uae30"
        return
    with pytest.raises(VerificationError, match=message):
        lv.parse_leaf(data)


# --- against the real API ----------------------------------------------------------------------------


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


@dataclass
class Served:
    """What the app receives from the real server for one entry, and the server's key."""

    vkey: str
    origin: str
    line: dict[str, Any]
    inclusion: dict[str, Any]
    consistency: dict[str, Any]
    remembered: Checkpoint
    pseudonym: str
    history: list[dict[str, Any]]


async def _award(account: uuid.UUID, amount: int, ref: str, **kw: Any) -> None:
    async with ledger_transaction() as w:
        w.add(EntryKind.AWARD, account, Asset.POINTS, amount, ref, **kw)


async def _serve(db, client) -> Served:
    """13 entries (a holder's and others'), checkpoints at 5 and 13, fetched as the app does."""
    parent = await make_user(Role.PARENT, "verify-parent@example.org")
    others = [uuid.uuid4() for _ in range(3)]
    await _award(parent.pseudonym, 120, "verify:0")
    for i in range(1, 5):
        await _award(others[i % 3], i, f"verify:{i}")
    await publish_checkpoint(db)
    async with ledger_transaction() as w:  # two legs of one transaction; a coin leg with a scope
        w.add(EntryKind.CONVERSION, parent.pseudonym, Asset.POINTS, -100, "verify:5:debit")
        w.add(EntryKind.CONVERSION, parent.pseudonym, Asset.MILEAGE_WON, 65, "verify:5:credit")
    await _award(parent.pseudonym, 7, "verify:6:\uc808\uc57d")  # Korean in the ref ("saving")
    for i in range(8, 12):
        await _award(others[i % 3], i, f"verify:{i}")
    async with ledger_transaction() as w:
        w.add(EntryKind.AWARD, parent.pseudonym, Asset.COINS_WON, 5_000, "verify:12", scope="46170")
    latest = await publish_checkpoint(db)
    assert latest.tree_size == 13

    vkey = (await client.get("/ledger/verifier-key")).text
    assert (await gql(client, "{ ledgerVerifierKey }"))["data"]["ledgerVerifierKey"] == vkey.strip()
    token = await sign_in(client, parent.email)
    history = (await gql(client, WALLET, token=token))["data"]["wallet"]["history"]
    assert [h["seq"] for h in history] == [12, 7, 6, 5, 0]
    old = (await gql(client, operation("LedgerCheckpoint"), {"treeSize": 5}))["data"]["ledgerCheckpoint"]
    remembered = lv.verify_checkpoint(old["note"], vkey)
    assert (remembered.size, remembered.root.hex()) == (old["treeSize"], old["rootHash"])
    consistency = (await gql(client, operation("LedgerConsistencyProof"),
                             {"fromSize": 5, "toSize": 13}))["data"]["ledgerConsistencyProof"]
    line = next(h for h in history if h["seq"] == 7)
    inclusion = await _inclusion(client, 7)
    return Served(vkey, ledger_key(db).name, line, inclusion, consistency, remembered, str(parent.pseudonym), history)


INCLUSION_AT_SIZE = """
query($seq: Int!, $treeSize: Int) { ledgerInclusionProof(seq: $seq, treeSize: $treeSize) {
  __typename ... on InclusionProof { seq leafHash treeSize rootHash path checkpointNote } ... on Error { message } } }"""


async def _inclusion(client, seq: int, tree_size: int | None = None) -> dict[str, Any]:
    """The app's LedgerInclusionProof (latest checkpoint), or the proof to an older checkpoint."""
    if tree_size is None:
        answer = await gql(client, operation("LedgerInclusionProof"), {"seq": seq})
    else:
        answer = await gql(client, INCLUSION_AT_SIZE, {"seq": seq, "treeSize": tree_size})
    return answer["data"]["ledgerInclusionProof"]


async def test_every_entry_of_a_wallet_verifies_against_the_real_api(db, client):
    served = await _serve(db, client)
    latest_note = (await client.get("/ledger/checkpoint")).text
    latest = lv.verify_checkpoint(latest_note, served.vkey, origin=served.origin)
    assert latest.size == 13
    for line in served.history:
        inclusion = await _inclusion(client, line["seq"])
        result = lv.verify_entry(line, inclusion, served.vkey, remembered=served.remembered,
                                 consistency=served.consistency, account=served.pseudonym)
        assert result.verified, result.reason
        assert (result.origin, result.index, result.tree_size) == (served.origin, line["seq"], 13)
        assert not result.failed and not result.pending
        assert result.checkpoint == latest and result.remember == latest
        assert result.remember.note == latest_note
        # against the older checkpoint, with the newer one remembered: the proof goes the other way
        if line["seq"] < 5:
            old = lv.verify_entry(line, await _inclusion(client, line["seq"], 5), served.vkey,
                                  remembered=latest, consistency=served.consistency)
            assert (old.verified, old.tree_size, old.remember) == (True, 5, latest), old.reason
    # the first check, with nothing remembered yet
    first = lv.verify_entry(served.line, served.inclusion, lv.parse_verifier_key(served.vkey))
    assert first.verified and first.remember == latest
    # the same checkpoint remembered: no consistency proof is needed
    again = lv.verify_entry(served.line, served.inclusion, served.vkey, remembered=latest)
    assert again.verified, again.reason


async def test_an_entry_after_the_last_checkpoint_is_pending_not_failed(db, client):
    served = await _serve(db, client)
    await _award(uuid.UUID(served.pseudonym), 3, "verify:late")
    inclusion = await _inclusion(client, 13)
    assert inclusion["__typename"] == "ValidationFailed"
    result = lv.verify_entry({"seq": 13, "leafHash": "00" * 32, "leafData": "{}"}, inclusion, served.vkey,
                             remembered=served.remembered)
    assert (result.verified, result.pending, result.failed) == (False, True, False)
    assert "not covered" in result.reason and result.remember == served.remembered


def _rehash(line: dict[str, Any], inclusion: dict[str, Any] | None = None, **leaf_changes: Any) -> None:
    """An attacker who also recomputes the leaf hash (in the entry and the proof)."""
    data = json.loads(line["leafData"])
    data.update(leaf_changes)
    line["leafData"] = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    line["leafHash"] = merkle.leaf_hash(line["leafData"].encode()).hex()
    if inclusion is not None:
        inclusion["leafHash"] = line["leafHash"]


def _hex_flip(value: str, nibble: int = 0) -> str:
    return value[:nibble] + format(int(value[nibble], 16) ^ 1, "x") + value[nibble + 1:]


def _cases() -> dict[str, tuple[Callable[..., None], str]]:
    """Each case edits (line, inclusion, consistency, options) in place; the value is the expected reason."""

    def note_root_flipped(line, inc, con, opt, key):
        body, sig = inc["checkpointNote"].split("\n\n")
        origin, size, root = body.split("\n")
        inc["checkpointNote"] = f"{origin}\n{size}\n{base64.b64encode(flip(base64.b64decode(root))).decode()}\n\n{sig}"

    def root_field_flipped(line, inc, con, opt, key):
        inc["rootHash"] = _hex_flip(inc["rootHash"])

    def resigned_root_flipped(line, inc, con, opt, key):  # the server's own key signs a wrong root
        root = flip(bytes.fromhex(inc["rootHash"]))
        inc["checkpointNote"] = note_of(key.name, 13, root, key=key.private_key, name=key.name)
        inc["rootHash"] = root.hex()

    def tree_size_field(line, inc, con, opt, key):
        inc["treeSize"] = 12

    def resigned_wrong_size(line, inc, con, opt, key):  # validly signed, but not the size of that root
        inc["checkpointNote"] = note_of(key.name, 14, bytes.fromhex(inc["rootHash"]), key=key.private_key, name=key.name)
        inc["treeSize"] = 14

    def signed_by_another_key(line, inc, con, opt, key):
        inc["checkpointNote"] = note_of(key.name, 13, bytes.fromhex(inc["rootHash"]), key=OTHER, name=key.name)

    def signed_under_another_name(line, inc, con, opt, key):
        inc["checkpointNote"] = note_of(key.name, 13, bytes.fromhex(inc["rootHash"]), key=key.private_key,
                                        name="other.example/ledger")

    def pinned_key_is_another(line, inc, con, opt, key):
        opt["verifier_key"] = signing.verifier_key(key.name, OTHER.public_key())

    def other_origin(line, inc, con, opt, key):
        opt["origin"] = "elsewhere.example/ledger"

    def amount_shown(line, inc, con, opt, key):
        line["amount"] = 70

    def amount_in_leaf(line, inc, con, opt, key):
        line["amount"] = 70
        line["leafData"] = line["leafData"].replace('"amount":7,', '"amount":70,')

    def amount_in_leaf_rehashed(line, inc, con, opt, key):
        line["amount"] = 70
        _rehash(line, inc, amount=70)

    def kind_shown(line, inc, con, opt, key):
        line["kind"] = "adjustment"

    def time_shown(line, inc, con, opt, key):
        shown = datetime.fromisoformat(line["recordedAt"]) + timedelta(seconds=1)
        line["recordedAt"] = shown.isoformat()

    def leaf_not_canonical(line, inc, con, opt, key):
        line["leafData"] = line["leafData"].replace(",", ", ", 1)
        line["leafHash"] = inc["leafHash"] = merkle.leaf_hash(line["leafData"].encode()).hex()

    def leaf_hash_field(line, inc, con, opt, key):
        line["leafHash"] = _hex_flip(line["leafHash"], 5)

    def shown_index(line, inc, con, opt, key):
        line["seq"] = 8

    def wrong_index_rehashed(line, inc, con, opt, key):  # the entry claims position 8, with a proof for 7
        line["seq"] = inc["seq"] = 8
        _rehash(line, inc, seq=8)

    def proof_of_another_entry(line, inc, con, opt, key):
        inc["seq"] = 8

    def another_holder(line, inc, con, opt, key):
        opt["account"] = str(uuid.uuid4())

    def path_not_hex(line, inc, con, opt, key):
        inc["path"][0] = inc["path"][0].upper()

    def consistency_missing(line, inc, con, opt, key):
        opt["consistency"] = None

    def consistency_sizes(line, inc, con, opt, key):
        con["fromSize"] = 4

    def consistency_root_field(line, inc, con, opt, key):
        con["fromRoot"] = _hex_flip(con["fromRoot"])

    def consistency_node_flipped(line, inc, con, opt, key):
        con["path"][-1] = _hex_flip(con["path"][-1], 63)

    def consistency_node_removed(line, inc, con, opt, key):
        con["path"].pop(0)

    def consistency_node_added(line, inc, con, opt, key):
        con["path"].append(con["path"][0])

    def remembered_of_another_log(line, inc, con, opt, key):
        opt["remembered"] = Checkpoint("other.example/ledger", 5, opt["remembered"].root)

    def not_json(line, inc, con, opt, key):
        del inc["path"]

    cases = {name: (fn, reason) for name, fn, reason in [
        ("a bit of the root in the signed note", note_root_flipped, "does not verify"),
        ("a bit of the proof's rootHash", root_field_flipped, "rootHash differs"),
        ("a root signed by the server's key that is not the tree's", resigned_root_flipped,
         "does not lead to the root"),
        ("the proof's treeSize", tree_size_field, "treeSize differs"),
        # entry 7 has the same audit path in trees of 13 to 16 entries: the lie shows in the consistency proof
        ("a checkpoint of a wrong tree size signed by the server's key", resigned_wrong_size,
         "not from tree size 5 to 14"),
        ("a checkpoint signed by another key", signed_by_another_key, "another key"),
        ("a checkpoint signed under another name", signed_under_another_name, "no signature by"),
        ("another pinned key", pinned_key_is_another, "another key"),
        ("another expected origin", other_origin, "not 'elsewhere.example/ledger'"),
        ("the amount shown", amount_shown, "amount 70 differs"),
        ("the amount in the leaf", amount_in_leaf, "leafHash is not the hash"),
        ("the amount in the leaf with hashes recomputed", amount_in_leaf_rehashed, "does not lead to the root"),
        ("the kind shown", kind_shown, "kind 'adjustment' differs"),
        ("the time shown", time_shown, "time .* differs"),
        ("a non-canonical leaf", leaf_not_canonical, "canonical"),
        ("the entry's leafHash", leaf_hash_field, "entry's leafHash"),
        ("the index shown", shown_index, "seq 8 differs"),
        ("a wrong index with hashes recomputed", wrong_index_rehashed, "does not lead to the root"),
        ("the proof of another entry", proof_of_another_entry, "proof is for entry 8"),
        ("an entry of another holder", another_holder, "another holder"),
        ("a proof hash not in lower-case hex", path_not_hex, "lower-case hex"),
        ("no consistency proof", consistency_missing, "no consistency proof"),
        ("the consistency proof's sizes", consistency_sizes, "not from tree size 5 to 13"),
        ("the consistency proof's fromRoot", consistency_root_field, "fromRoot for tree size 5 is not"),
        ("a consistency proof node altered", consistency_node_flipped, "forked or rewrote"),
        ("a consistency proof node removed", consistency_node_removed, "needs"),
        ("a consistency proof node added", consistency_node_added, "needs"),
        ("a remembered checkpoint of another log", remembered_of_another_log, "different logs"),
        ("a proof without a path", not_json, "lacks path"),
    ]}
    for k in range(4):  # the audit path of entry 7 in a tree of 13 has 4 nodes
        def altered(line, inc, con, opt, key, k=k):
            inc["path"][k] = _hex_flip(inc["path"][k], 10)

        def removed(line, inc, con, opt, key, k=k):
            del inc["path"][k]

        def added(line, inc, con, opt, key, k=k):
            inc["path"].insert(k, inc["path"][k])

        cases[f"proof node {k} altered"] = (altered, "does not lead to the root")
        cases[f"proof node {k} removed"] = (removed, "has 3 hashes")
        cases[f"proof node {k} added"] = (added, "has 5 hashes")
    cases["a proof node added at the end"] = (lambda line, inc, con, opt, key: inc["path"].append(inc["rootHash"]),
                                              "has 5 hashes")
    return cases


async def test_every_tampering_fails_against_the_real_api(db, client):
    served = await _serve(db, client)
    key = ledger_key(db)
    base = dict(verifier_key=served.vkey, remembered=served.remembered, consistency=served.consistency,
                account=served.pseudonym, origin=None)
    untouched = lv.verify_entry(served.line, served.inclusion, **{**base, "origin": served.origin})
    assert untouched.verified and len(served.inclusion["path"]) == 4, untouched.reason
    cases = _cases()
    assert len(cases) == 42
    shown = {}
    for name, (tamper, reason) in cases.items():
        line, inclusion = copy.deepcopy(served.line), copy.deepcopy(served.inclusion)
        options = copy.deepcopy(base)
        consistency = options["consistency"]
        tamper(line, inclusion, consistency, options, key)
        result = lv.verify_entry(line, inclusion, options.pop("verifier_key"), **options)
        assert result.failed and not result.verified and not result.pending, name
        assert re.search(reason, result.reason), f"{name}: {result.reason}"
        assert result.remember == options["remembered"], name  # a failure never replaces what the app trusts
        shown[name] = (result.index, result.tree_size)
    assert shown["the amount shown"] == (7, 13)  # the entry and the signed tree it failed against
    assert shown["a checkpoint signed by another key"] == (7, None)


async def test_a_forked_log_is_caught_by_the_consistency_check(db, client):
    """The server's own key signs two histories that share a size: the phone notices."""
    served = await _serve(db, client)
    key = ledger_key(db)
    leaves = [bytes.fromhex(h) for h in await LedgerEntry.all().order_by("seq").values_list("leaf_hash", flat=True)]
    forked = list(leaves)
    forked[2] = merkle.leaf_hash(b"a rewritten entry")
    fork_5 = lv.verify_checkpoint(note_of(key.name, 5, merkle.root_hash(forked[:5]), key=key.private_key,
                                          name=key.name), served.vkey)
    # the app remembered the fork; the server now proves consistency from its real tree
    result = lv.verify_entry(served.line, served.inclusion, served.vkey, remembered=fork_5,
                             consistency=served.consistency)
    assert result.failed and "fromRoot for tree size 5" in result.reason, result.reason
    without_roots = {k: v for k, v in served.consistency.items() if k not in ("fromRoot", "toRoot")}
    result = lv.verify_entry(served.line, served.inclusion, served.vkey, remembered=fork_5,
                             consistency=without_roots)  # the path alone shows it too
    assert result.failed and "does not lead to the root of tree size 5" in result.reason, result.reason
    # the app remembered the real tree; a proof computed over the forked tree does not lead to it
    forked_proof = dict(served.consistency, path=[h.hex() for h in merkle.consistency_proof(forked, 5)],
                        fromRoot=fork_5.root.hex())
    with pytest.raises(VerificationError, match="fromRoot for tree size 5 is not"):
        lv.verify_checkpoint_consistency(served.remembered, lv.verify_checkpoint(served.inclusion["checkpointNote"],
                                                                                   served.vkey), forked_proof)
    del forked_proof["fromRoot"]
    with pytest.raises(VerificationError, match="forked or rewrote"):
        lv.verify_checkpoint_consistency(served.remembered, lv.verify_checkpoint(served.inclusion["checkpointNote"],
                                                                                   served.vkey), forked_proof)
    # a second, different checkpoint of the same size as the remembered one
    fork_13 = lv.verify_checkpoint(note_of(key.name, 13, merkle.root_hash(forked), key=key.private_key,
                                           name=key.name), served.vkey)
    same_size = lv.verify_entry(served.line, served.inclusion, served.vkey, remembered=fork_13)
    assert same_size.failed and "the log forked" in same_size.reason


async def test_the_checkpoint_endpoint_verifies_with_the_published_key_only(db, client):
    await _serve(db, client)
    note = (await client.get("/ledger/checkpoint")).text
    vkey = (await client.get("/ledger/verifier-key")).text
    checkpoint = lv.verify_checkpoint(note, vkey)
    graphql = (await gql(client, operation("LedgerCheckpoint"), {}))["data"]["ledgerCheckpoint"]
    assert graphql["note"] == note and graphql["rootHash"] == checkpoint.root.hex() and graphql["treeSize"] == 13
    name = lv.parse_verifier_key(vkey).name
    with pytest.raises(VerificationError, match="another key"):
        lv.verify_checkpoint(note, signing.verifier_key(name, OTHER.public_key()))
    with pytest.raises(VerificationError, match="no signature by"):
        lv.verify_checkpoint(note, VKEY)
