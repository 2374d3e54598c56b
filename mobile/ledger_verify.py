"""Checking the ledger on the phone, without trusting the server.

Pure (standard library and ``cryptography`` only; no Kivy, no network, no backend import):

* signed checkpoints: a C2SP ``tlog-checkpoint`` body inside a C2SP ``signed-note``, signed with
  Ed25519 and checked against the pinned verifier key ``<name>+<hex key hash>+<base64(0x01 || key)>``
  (the format of golang.org/x/mod/sumdb/note);
* RFC 9162 inclusion and consistency proofs (§2.1.3.2, §2.1.4.2), written after
  transparency-dev/merkle ``proof/verify.go``;
* one ledger entry end to end (:func:`verify_entry`) from what the GraphQL API returns: the leaf
  is re-encoded from its fields, hashed, proven to be in a signed checkpoint, and that checkpoint
  proven to extend the one the app remembered.

Every check raises :class:`VerificationError` with the reason, except :func:`verify_entry`, which
returns an :class:`EntryVerification` for the screen to show.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "EntryVerification",
    "Leaf",
    "VerificationError",
    "VerifierKey",
    "encode_leaf",
    "leaf_hash",
    "node_hash",
    "parse_checkpoint",
    "parse_leaf",
    "parse_verifier_key",
    "verify_checkpoint",
    "verify_checkpoint_consistency",
    "verify_consistency",
    "verify_entry",
    "verify_inclusion",
    "verify_note",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ALG_ED25519 = 0x01
EM_DASH = "\u2014"
LEAF_VERSION = 1
MAX_NOTE_CHARS = 64 * 1024
MAX_SIGNATURES = 100  # as Go's note.Open
MAX_LEAF_CHARS = 16 * 1024
MAX_TREE_SIZE = 2**64 - 1  # tlog-checkpoint: a 64-bit unsigned integer

_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)
_HEX_HASH_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)
_KEY_HASH_RE = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_LEAF_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)
_LEAF_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_LEAF_KEYS = frozenset({"account", "amount", "asset", "at", "kind", "ref", "scope", "seq", "txn", "v"})


class VerificationError(ValueError):
    """A note, key, proof or entry did not verify; the message says why."""


# --- signed notes and checkpoints ------------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    """A parsed signed-note verifier key (Ed25519 only)."""

    name: str
    key_hash: bytes  # 4 bytes: SHA-256(name || "\n" || 0x01 || public key)[:4]
    public_key: bytes  # 32 raw bytes

    @property
    def fingerprint(self) -> str:
        """What the app shows so a user can compare keys: 16 bytes of SHA-256, in groups of four."""
        digest = hashlib.sha256(bytes([ALG_ED25519]) + self.public_key).hexdigest()[:32]
        return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint. ``note`` is the signed note it came from (store it, verify it again on load)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    note: str = field(default="", compare=False, repr=False)


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _key_hash(name: str, alg_and_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg_and_key).digest()[:4]


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse ``<name>+<8 hex digits>+<base64(0x01 || 32-byte Ed25519 key)>`` as Go's note.NewVerifier."""
    if not isinstance(vkey, str):
        raise VerificationError("the verifier key is not text")
    name, _, rest = vkey.strip().partition("+")
    hash_hex, _, key64 = rest.partition("+")
    if not _valid_name(name) or not _KEY_HASH_RE.fullmatch(hash_hex):
        raise VerificationError("malformed verifier key")
    try:
        key = base64.b64decode(key64, validate=True)
    except binascii.Error:
        raise VerificationError("malformed verifier key: the key is not base64") from None
    if not key:
        raise VerificationError("malformed verifier key: no key")
    if _key_hash(name, key) != bytes.fromhex(hash_hex):
        raise VerificationError("the verifier key's hash does not match its name and key")
    if key[0] != ALG_ED25519:
        raise VerificationError(f"unknown signature algorithm {key[0]:#04x} in the verifier key")
    if len(key) != 1 + 32:
        raise VerificationError("malformed verifier key: an Ed25519 key is 32 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError:
        raise VerificationError("the verifier key is not a valid Ed25519 public key") from None
    return VerifierKey(name, bytes.fromhex(hash_hex), key[1:])


def _as_key(verifier_key: str | VerifierKey) -> VerifierKey:
    return verifier_key if isinstance(verifier_key, VerifierKey) else parse_verifier_key(verifier_key)


def _check_note_text(note: str) -> None:
    if not isinstance(note, str):
        raise VerificationError("malformed note: not text")
    if len(note) > MAX_NOTE_CHARS:
        raise VerificationError("malformed note: too long")
    if any(c < " " and c != "\n" for c in note) or any("\ud800" <= c <= "\udfff" for c in note):
        raise VerificationError("malformed note: control characters or invalid UTF-8")


def verify_note(note: str, verifier_key: str | VerifierKey) -> str:
    """Verify a signed note by the pinned key and return its text (ending in a newline).

    Signature lines of other keys are ignored (witnesses may cosign); a line of the pinned key
    whose signature does not verify is an error, as in Go's note.Open.
    """
    key = _as_key(verifier_key)
    _check_note_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: no signature block after a blank line")
    text, signatures = note[:split + 1], note[split + 2:]
    if not signatures or not signatures.endswith("\n"):
        raise VerificationError("malformed note: the signature block must end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError("malformed note: too many signatures")
    verified, other_hashes, signers = False, set(), []
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise VerificationError("malformed note: a signature line must start with an em dash and a space")
        name, _, sig64 = line[2:].partition(" ")
        try:
            blob = base64.b64decode(sig64, validate=True)
        except binascii.Error:
            raise VerificationError("malformed note: a signature is not base64") from None
        if not _valid_name(name) or len(blob) < 5:
            raise VerificationError("malformed note: bad signature line")
        signers.append(name)
        if name != key.name:
            continue
        if blob[:4] != key.key_hash:
            other_hashes.add(blob[:4].hex())
            continue
        try:
            if len(blob) != 4 + 64:
                raise InvalidSignature
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise VerificationError(f"the signature by {key.name} does not verify") from None
        verified = True
    if verified:
        return text
    if other_hashes:
        raise VerificationError(f"signed as {key.name} by another key ({', '.join(sorted(other_hashes))}), "
                                f"not the pinned key {key.key_hash.hex()}")
    raise VerificationError(f"no signature by {key.name} (signed by: {', '.join(signers)})")


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a tlog-checkpoint body: origin, decimal size, base64 root hash, optional extension lines."""
    if not isinstance(body, str) or not body.endswith("\n"):
        raise VerificationError("malformed checkpoint: it must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError("malformed checkpoint: it needs an origin, a size and a root hash line")
    origin, size_text, root_text, extensions = lines[0], lines[1], lines[2], tuple(lines[3:])
    if not origin:
        raise VerificationError("malformed checkpoint: empty origin")
    if not _SIZE_RE.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise VerificationError("malformed checkpoint: the tree size is not a 64-bit decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise VerificationError("malformed checkpoint: the root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise VerificationError(f"malformed checkpoint: the root hash is {len(root)} bytes, not {HASH_SIZE}")
    if base64.b64encode(root).decode() != root_text:
        raise VerificationError("malformed checkpoint: the root hash is not canonical base64")
    if any(not line for line in extensions):
        raise VerificationError("malformed checkpoint: empty extension line")
    return Checkpoint(origin, int(size_text), root, extensions)


def verify_checkpoint(note: str, verifier_key: str | VerifierKey, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint note; with ``origin``, the checkpoint must be of that log."""
    checkpoint = parse_checkpoint(verify_note(note, verifier_key))
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"the checkpoint is of {checkpoint.origin!r}, not {origin!r}")
    return Checkpoint(checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.extensions, note)


# --- RFC 9162 Merkle proofs ----------------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + bytes(leaf)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TREE_SIZE:
        raise VerificationError(f"{what} must be an integer from 0 to 2^64-1")
    return value


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes")
    return bytes(value)


def _check_proof(proof: object) -> list[bytes]:
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise VerificationError("a proof must be a list of hashes")
    return [_check_hash(h, f"proof hash #{i}") for i, h in enumerate(proof)]


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Number of inner and border proof nodes for a leaf index in a tree of ``size``."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that the leaf is at ``index`` in the tree of ``size`` leaves with ``root``, or raise."""
    leaf = _check_hash(leaf_hash, "the leaf hash")
    index, size = _check_size(index, "the leaf index"), _check_size(size, "the tree size")
    root, proof = _check_hash(root, "the root hash"), _check_proof(proof)
    if index >= size:
        raise VerificationError(f"leaf index {index} is beyond the tree size {size}")
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise VerificationError(f"the inclusion proof has {len(proof)} hashes; "
                                f"leaf {index} of a tree of {size} needs {inner + border}")
    computed = _chain_border_right(_chain_inner(leaf, proof[:inner], index), proof[inner:])
    if computed != root:
        raise VerificationError(f"the inclusion proof of leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """Check that the tree of ``new_size`` extends the tree of ``old_size`` (nothing rewritten), or raise.

    Unlike verify.go, an empty old tree must have the RFC 9162 empty root, SHA-256 of nothing.
    """
    old_size, new_size = _check_size(old_size, "the old tree size"), _check_size(new_size, "the new tree size")
    old_root, new_root = _check_hash(old_root, "the old root"), _check_hash(new_root, "the new root")
    proof = _check_proof(proof)
    if new_size < old_size:
        raise VerificationError(f"the new tree size {new_size} is smaller than the old {old_size}")
    if old_size == new_size:
        if proof:
            raise VerificationError("trees of equal size need an empty consistency proof")
        if old_root != new_root:
            raise VerificationError(f"two different roots for the tree size {old_size}: the log forked")
        return
    if old_size == 0:
        if proof:
            raise VerificationError("a consistency proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise VerificationError("the root of the empty tree is not SHA-256 of nothing")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    inner, border = _decompose(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    inner -= shift
    seed, start = (old_root, 0) if old_size == 1 << shift else (proof[0], 1)
    if len(proof) != start + inner + border:
        raise VerificationError(f"the consistency proof has {len(proof)} hashes; "
                                f"{old_size} to {new_size} needs {start + inner + border}")
    path, mask = proof[start:], (old_size - 1) >> shift
    old_computed = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if old_computed != old_root:
        raise VerificationError(f"the consistency proof does not lead to the root of tree size {old_size}: "
                                "the log forked or rewrote entries")
    new_computed = _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])
    if new_computed != new_root:
        raise VerificationError(f"the consistency proof does not lead to the root of tree size {new_size}: "
                                "the log forked or rewrote entries")


# --- ledger leaves -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """The fields of one ledger leaf (leaf encoding version 1)."""

    seq: int
    txn: str
    kind: str
    account: str  # the holder's pseudonym
    asset: str
    scope: str
    amount: int
    ref: str
    at: str  # UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ

    @property
    def recorded_at(self) -> datetime:
        return datetime.strptime(self.at, _LEAF_TIME_FORMAT).replace(tzinfo=UTC)


def encode_leaf(leaf: Leaf) -> bytes:
    """The canonical leaf bytes: UTF-8 JSON, keys sorted, no whitespace, non-ASCII kept as is."""
    body = {"v": LEAF_VERSION, "seq": leaf.seq, "txn": leaf.txn, "kind": leaf.kind, "account": leaf.account,
            "asset": leaf.asset, "scope": leaf.scope, "amount": leaf.amount, "ref": leaf.ref, "at": leaf.at}
    try:
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise VerificationError("the leaf holds text that is not valid UTF-8") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_leaf(data: str | bytes) -> Leaf:
    """Parse leaf data and check it is exactly the canonical encoding of a well-formed leaf."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            raise VerificationError("the leaf data is not UTF-8") from None
    if not isinstance(data, str) or len(data) > MAX_LEAF_CHARS:
        raise VerificationError("the leaf data is missing or too long")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise VerificationError("the leaf data is not JSON") from None
    if not isinstance(body, dict) or set(body) != _LEAF_KEYS:
        raise VerificationError("the leaf data does not have the fields of a ledger leaf")
    if body["v"] != LEAF_VERSION or not _is_int(body["v"]):
        raise VerificationError(f"unsupported leaf version {body['v']!r}")
    if not (_is_int(body["seq"]) and body["seq"] >= 0 and _is_int(body["amount"])):
        raise VerificationError("the leaf's seq and amount must be whole numbers")
    text_fields = ("txn", "kind", "account", "asset", "scope", "ref", "at")
    if not all(isinstance(body[k], str) for k in text_fields):
        raise VerificationError("the leaf's text fields must be strings")
    if not (_UUID_RE.fullmatch(body["txn"]) and _UUID_RE.fullmatch(body["account"])):
        raise VerificationError("the leaf's txn and account must be lower-case UUIDs")
    leaf = Leaf(**{k: body[k] for k in ("seq", "amount", *text_fields)})
    try:
        if not _LEAF_TIME_RE.fullmatch(leaf.at):
            raise ValueError
        leaf.recorded_at  # noqa: B018 - a real calendar time
    except ValueError:
        raise VerificationError("the leaf's time is not YYYY-MM-DDTHH:MM:SS.ffffffZ") from None
    if encode_leaf(leaf) != data.encode():
        raise VerificationError("the leaf data is not in canonical form")
    return leaf


# --- one entry, end to end --------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryVerification:
    """What the app shows for one entry.

    ``checkpoint``: the signed checkpoint the entry was checked against (when its signature held);
    ``remember``: the checkpoint to keep for the next check (unchanged after a failure).
    """

    verified: bool
    origin: str | None
    index: int | None
    tree_size: int | None
    reason: str
    pending: bool = False  # the server cannot prove the entry yet (e.g. no checkpoint covers it)
    checkpoint: Checkpoint | None = None
    remember: Checkpoint | None = None

    @property
    def failed(self) -> bool:
        """A verification failure: show it loudly, do not retry silently."""
        return not self.verified and not self.pending


def _field(response: Mapping[str, Any], name: str) -> Any:
    if not isinstance(response, Mapping) or name not in response:
        raise VerificationError(f"the server's answer lacks {name}")
    return response[name]


def _hex_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX_HASH_RE.fullmatch(value):
        raise VerificationError(f"{what} is not a lower-case hex SHA-256 hash")
    return bytes.fromhex(value)


def _hex_path(value: object) -> list[bytes]:
    if not isinstance(value, list):
        raise VerificationError("the proof path is not a list")
    return [_hex_hash(h, f"proof hash #{i}") for i, h in enumerate(value)]


def verify_checkpoint_consistency(old: Checkpoint, new: Checkpoint, proof: Mapping[str, Any] | None) -> None:
    """Check that ``new`` extends ``old`` with a ``ledgerConsistencyProof`` answer, or raise.

    Equal sizes need no proof (``None``): their roots must be equal.
    """
    if old.origin != new.origin:
        raise VerificationError(f"the checkpoints are of different logs ({old.origin!r}, {new.origin!r})")
    if old.size > new.size:
        raise VerificationError(f"the checkpoint of size {new.size} is older than the one of size {old.size}")
    if old.size == new.size and proof is None:
        verify_consistency(old.size, new.size, [], old.root, new.root)
        return
    if proof is None:
        raise VerificationError(f"no consistency proof from tree size {old.size} to {new.size}")
    if _field(proof, "fromSize") != old.size or _field(proof, "toSize") != new.size:
        raise VerificationError(f"the consistency proof is not from tree size {old.size} to {new.size}")
    for name, checkpoint in (("fromRoot", old), ("toRoot", new)):
        if name in proof and _hex_hash(proof[name], name) != checkpoint.root:
            raise VerificationError(f"the server's {name} for tree size {checkpoint.size} is not the verified "
                                    "checkpoint's root: the log forked or rewrote entries")
    verify_consistency(old.size, new.size, _hex_path(_field(proof, "path")), old.root, new.root)


def _check_line(line: Mapping[str, Any], leaf: Leaf, account: str | None) -> None:
    """The fields the app shows must be the ones in the hashed leaf."""
    for name in ("seq", "kind", "asset", "scope", "amount"):
        if name in line and line[name] != getattr(leaf, name):
            raise VerificationError(f"the entry's {name} {line[name]!r} differs from the signed leaf's "
                                    f"{getattr(leaf, name)!r}")
    if "recordedAt" in line:
        try:
            shown = datetime.fromisoformat(line["recordedAt"])
        except (TypeError, ValueError):
            raise VerificationError("the entry's recordedAt is not an ISO time") from None
        if shown.tzinfo is None or shown != leaf.recorded_at:
            raise VerificationError(f"the entry's time {line['recordedAt']} differs from the signed leaf's {leaf.at}")
    if account is not None and leaf.account != account:
        raise VerificationError("the entry belongs to another holder")


def _verify_entry(line, inclusion, key, remembered, consistency, origin, account, seen) -> EntryVerification:
    checkpoint = seen["checkpoint"] = verify_checkpoint(_field(inclusion, "checkpointNote"), key, origin=origin)
    if _field(inclusion, "treeSize") != checkpoint.size:
        raise VerificationError("the proof's treeSize differs from the signed checkpoint")
    if _hex_hash(_field(inclusion, "rootHash"), "rootHash") != checkpoint.root:
        raise VerificationError("the proof's rootHash differs from the signed checkpoint")
    leaf = parse_leaf(_field(line, "leafData"))
    _check_line(line, leaf, account)
    index = leaf.seq
    if _field(inclusion, "seq") != index:
        raise VerificationError(f"the proof is for entry {inclusion['seq']}, not {index}")
    computed = leaf_hash(encode_leaf(leaf))  # equal to the leaf data: parse_leaf checked it is canonical
    for what, response in (("entry", line), ("proof", inclusion)):
        if _hex_hash(_field(response, "leafHash"), "leafHash") != computed:
            raise VerificationError(f"the {what}'s leafHash is not the hash of the leaf data")
    verify_inclusion(computed, index, checkpoint.size, _hex_path(_field(inclusion, "path")), checkpoint.root)
    remember = checkpoint
    if remembered is not None:
        if remembered.size <= checkpoint.size:
            verify_checkpoint_consistency(remembered, checkpoint, consistency)
        else:
            verify_checkpoint_consistency(checkpoint, remembered, consistency)
            remember = remembered
    reason = f"entry {index} is in the signed tree of {checkpoint.size} entries of {checkpoint.origin}"
    return EntryVerification(True, checkpoint.origin, index, checkpoint.size, reason,
                             checkpoint=checkpoint, remember=remember)


def verify_entry(
    line: Mapping[str, Any],
    inclusion: Mapping[str, Any],
    verifier_key: str | VerifierKey,
    *,
    remembered: Checkpoint | None = None,
    consistency: Mapping[str, Any] | None = None,
    origin: str | None = None,
    account: str | None = None,
) -> EntryVerification:
    """Verify one ledger entry from the API's answers; never raises for a bad answer.

    ``line``: a ``LedgerLine`` of ``wallet { history { seq leafHash leafData … } }`` (kind, asset,
    scope, amount and recordedAt are compared with the leaf when present). ``inclusion``: the
    ``ledgerInclusionProof`` answer. ``remembered``: the last checkpoint the app verified;
    ``consistency``: the ``ledgerConsistencyProof`` answer between it and the proof's checkpoint
    (smaller size first; not needed when the sizes are equal). ``origin`` defaults to the key's
    name (the backend signs as its origin); ``account``: the holder's pseudonym, if the entry
    must be theirs.
    """
    key, seen = None, {}
    try:
        key = _as_key(verifier_key)
        if isinstance(inclusion, Mapping) and inclusion.get("__typename", "InclusionProof") != "InclusionProof":
            message = inclusion.get("message") or inclusion["__typename"]
            return EntryVerification(False, None, line.get("seq") if isinstance(line, Mapping) else None, None,
                                     f"not provable yet: {message}", pending=True, remember=remembered)
        return _verify_entry(line, inclusion, key, remembered, consistency,
                             key.name if origin is None else origin, account, seen)
    except VerificationError as error:
        index = line.get("seq") if isinstance(line, Mapping) else None
        checkpoint = seen.get("checkpoint")
        origin_shown = checkpoint.origin if checkpoint else origin or (key.name if key else None)
        return EntryVerification(False, origin_shown, index if _is_int(index) else None,
                                 checkpoint.size if checkpoint else None, str(error),
                                 checkpoint=checkpoint, remember=remembered)
