"""Ed25519-signed checkpoints in the C2SP formats (tlog-checkpoint inside a signed note).

A checkpoint note is::

    <origin>\\n<tree size>\\n<base64 root hash>\\n
    \\n
    — <key name> <base64(4-byte key id || 64-byte signature)>\\n

The key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), and the
verifier key is published as ``<name>+<hex key id>+<base64(0x01 || public key)>``, so any
signed-note verifier (e.g. Go's golang.org/x/mod/sumdb/note) can check our checkpoints.
Pure: keys are passed in; settings decide where they come from.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = b"\x01"
EM_DASH = "\u2014"


class CheckpointError(ValueError):
    """A checkpoint note is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_key_bytes(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The published verifier key string ``name+hexid+base64(0x01||key)``."""
    raw = base64.b64encode(ALG_ED25519 + public_key_bytes(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{raw}"


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    try:
        name, hex_id, raw = vkey.strip().split("+", 2)  # names hold no '+', base64 may
        data = base64.b64decode(raw, validate=True)
    except (ValueError, binascii.Error):
        raise CheckpointError("malformed verifier key") from None
    if len(data) != 33 or data[:1] != ALG_ED25519:
        raise CheckpointError("verifier key is not an Ed25519 key")
    key = Ed25519PublicKey.from_public_bytes(data[1:])
    if key_id(name, key).hex() != hex_id:
        raise CheckpointError("verifier key id does not match the key")
    return name, key


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise CheckpointError("an Ed25519 private key seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def checkpoint_body(cp: Checkpoint) -> str:
    if not cp.origin or "\n" in cp.origin:
        raise CheckpointError("origin must be one non-empty line")
    return f"{cp.origin}\n{cp.size}\n{base64.b64encode(cp.root).decode()}\n"


def sign_checkpoint(cp: Checkpoint, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note text for ``cp``."""
    body = checkpoint_body(cp)
    signature = private_key.sign(body.encode())
    kid = key_id(key_name, private_key.public_key())
    return f"{body}\n{EM_DASH} {key_name} {base64.b64encode(kid + signature).decode()}\n"


def open_note(note: str, key_name: str, public_key: Ed25519PublicKey) -> str:
    """Verify a signed note (any text) by ``key_name`` and return its text, or raise CheckpointError."""
    body, sep, signatures = note.rpartition("\n\n")  # like Go: signatures follow the last blank line
    if not sep:
        raise CheckpointError("the note has no signature block")
    body += "\n"
    kid = key_id(key_name, public_key)
    verified = False
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH or parts[1] != key_name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise CheckpointError("malformed signature line") from None
        if blob[:4] != kid or len(blob) != 68:
            continue
        try:
            public_key.verify(blob[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError("the checkpoint signature does not verify") from None
        verified = True
    if not verified:
        raise CheckpointError(f"no signature by {key_name} on the checkpoint")
    return body


def open_checkpoint(note: str, key_name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Verify a signed checkpoint note and return its contents, or raise CheckpointError."""
    return parse_checkpoint_body(open_note(note, key_name, public_key))


def parse_checkpoint_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("a checkpoint has an origin, a size and a root line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError("the tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("the root hash is not base64") from None
    if len(root) != 32:
        raise CheckpointError("the root hash is not 32 bytes")
    return Checkpoint(origin=origin, size=int(size_text), root=root)
