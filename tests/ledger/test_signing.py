"""Signed checkpoints: round trips, forgeries, malformed notes, and Go's signed-note test vector."""

from __future__ import annotations

import base64
import hashlib

import pytest

from backend.ledger import signing
from backend.ledger.signing import Checkpoint, CheckpointError

# golang.org/x/mod/sumdb/note, note_test.go (TestSign, TestOpen): a published key pair and note.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ENOCH_LINE = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1"
              "RvMc+QQ=\n")
PETER_NOTE = f"{PETER_TEXT}\n\u2014 PeterNeumann {PETER_SIG}\n"
NOT_A_CHECKPOINT = "a checkpoint has an origin, a size and a root line"

NAME = "test.example/ledger"
KEY = signing.private_key_from_seed(hashlib.sha256(b"seed 0").digest())
OTHER = signing.private_key_from_seed(hashlib.sha256(b"seed 1").digest())
PLUS = signing.private_key_from_seed(hashlib.sha256(b"seed 2").digest())  # "+" in its base64
CP = Checkpoint(NAME, 42, hashlib.sha256(b"root").digest())


def _peter_seed() -> bytes:
    raw = base64.b64decode(PETER_SKEY.split("+", 4)[4])  # base64 may itself contain "+"
    assert raw[:1] == signing.ALG_ED25519
    return raw[1:]


def test_sign_and_open_round_trip():
    note = signing.sign_checkpoint(CP, NAME, KEY)
    body, _, signature = note.partition("\n\n")
    assert body + "\n" == f"{NAME}\n42\n{base64.b64encode(CP.root).decode()}\n"
    assert signature.startswith(f"\u2014 {NAME} ") and signature.endswith("\n")
    assert signing.open_checkpoint(note, NAME, KEY.public_key()) == CP


def test_verifier_key_round_trip():
    vkey = signing.verifier_key(NAME, KEY.public_key())
    name, public = signing.parse_verifier_key(vkey)
    assert name == NAME
    assert signing.public_key_bytes(public) == signing.public_key_bytes(KEY.public_key())
    assert vkey.split("+")[1] == signing.key_id(NAME, KEY.public_key()).hex()


def test_a_verifier_key_whose_base64_contains_a_plus_parses():
    vkey = signing.verifier_key(NAME, PLUS.public_key())
    assert "+" in vkey.split("+", 2)[2]
    name, public = signing.parse_verifier_key(vkey)
    assert (name, signing.public_key_bytes(public)) == (NAME, signing.public_key_bytes(PLUS.public_key()))


def test_a_note_opens_with_other_signatures_alongside():
    note = signing.sign_checkpoint(CP, NAME, KEY)
    other = signing.sign_checkpoint(CP, "witness.example", OTHER).split("\n\n")[1]
    assert signing.open_checkpoint(note + other, NAME, KEY.public_key()) == CP


def test_a_forged_signature_is_rejected():
    note = signing.sign_checkpoint(CP, NAME, KEY)
    body, sig_line = note.split("\n\n")
    blob = bytearray(base64.b64decode(sig_line.split(" ")[2]))
    blob[10] ^= 1
    forged = f"{body}\n\n\u2014 {NAME} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        signing.open_checkpoint(forged, NAME, KEY.public_key())


def test_a_changed_body_is_rejected():
    note = signing.sign_checkpoint(CP, NAME, KEY)
    with pytest.raises(CheckpointError, match="does not verify"):
        signing.open_checkpoint(note.replace("\n42\n", "\n43\n", 1), NAME, KEY.public_key())


def test_the_wrong_key_or_name_finds_no_signature():
    note = signing.sign_checkpoint(CP, NAME, KEY)
    with pytest.raises(CheckpointError, match="no signature"):
        signing.open_checkpoint(note, NAME, OTHER.public_key())
    with pytest.raises(CheckpointError, match="no signature"):
        signing.open_checkpoint(note, "someone.else", KEY.public_key())
    by_other = signing.sign_checkpoint(CP, NAME, OTHER)  # same name, other key: other key id
    with pytest.raises(CheckpointError, match="no signature"):
        signing.open_checkpoint(by_other, NAME, KEY.public_key())


@pytest.mark.parametrize("note, message", [
    ("", "no signature block"),
    (f"{NAME}\n42\nAAAA\n", "no signature block"),
    (f"{NAME}\n42\nAAAA\n\n\u2014 {NAME} not*base64\n", "malformed signature line"),
    (f"{NAME}\n42\nAAAA\n\n\u2014 {NAME}\n", "no signature"),
    (f"{NAME}\n42\nAAAA\n\n- {NAME} AAAA\n", "no signature"),
])
def test_malformed_notes_are_rejected(note, message):
    with pytest.raises(CheckpointError, match=message):
        signing.open_checkpoint(note, NAME, KEY.public_key())


@pytest.mark.parametrize("body, message", [
    ("origin\n42\n", "origin, a size and a root"),
    ("origin\n42\nAAAA", "origin, a size and a root"),
    ("origin\n042\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal"),
    ("origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal"),
    ("origin\n42\nnot base64!\n", "not base64"),
    ("origin\n42\n" + base64.b64encode(bytes(31)).decode() + "\n", "not 32 bytes"),
])
def test_malformed_checkpoint_bodies_are_rejected(body, message):
    with pytest.raises(CheckpointError, match=message):
        signing.parse_checkpoint_body(body)


def test_a_signed_but_malformed_body_is_rejected():
    body = "origin\n042\n" + base64.b64encode(bytes(32)).decode() + "\n"
    blob = signing.key_id(NAME, KEY.public_key()) + KEY.sign(body.encode())
    note = f"{body}\n\u2014 {NAME} {base64.b64encode(blob).decode()}\n"
    with pytest.raises(CheckpointError, match="not a decimal"):
        signing.open_checkpoint(note, NAME, KEY.public_key())


def test_checkpoint_extension_lines_are_signed_and_kept_out_of_the_checkpoint():
    body = signing.checkpoint_body(CP) + "extension line\n"
    blob = signing.key_id(NAME, KEY.public_key()) + KEY.sign(body.encode())
    note = f"{body}\n\u2014 {NAME} {base64.b64encode(blob).decode()}\n"
    assert signing.open_checkpoint(note, NAME, KEY.public_key()) == CP
    with pytest.raises(CheckpointError, match="does not verify"):
        signing.open_checkpoint(note.replace("extension", "Extension"), NAME, KEY.public_key())


@pytest.mark.parametrize("vkey, message", [
    ("", "malformed"),
    ("name+abcd", "malformed"),
    ("name+abcdef12+not base64", "malformed"),
    ("name+abcdef12+" + base64.b64encode(b"\x01" + bytes(31)).decode(), "not an Ed25519 key"),
    ("name+abcdef12+" + base64.b64encode(b"\x02" + bytes(32)).decode(), "not an Ed25519 key"),
    (PETER_VKEY.replace("c74f20a3", "c74f20a4"), "does not match"),
    (PETER_VKEY.replace("PeterNeumann", "PeterNeuman"), "does not match"),
])
def test_malformed_verifier_keys_are_rejected(vkey, message):
    with pytest.raises(CheckpointError, match=message):
        signing.parse_verifier_key(vkey)


def test_invalid_origins_and_seeds_are_rejected():
    with pytest.raises(CheckpointError, match="origin"):
        signing.checkpoint_body(Checkpoint("two\nlines", 1, bytes(32)))
    with pytest.raises(CheckpointError, match="origin"):
        signing.checkpoint_body(Checkpoint("", 1, bytes(32)))
    with pytest.raises(CheckpointError, match="32 bytes"):
        signing.private_key_from_seed(bytes(31))


# --- interoperability with golang.org/x/mod/sumdb/note --------------------------------------------


def test_go_verifier_key_parses_and_matches_the_go_signer_key():
    name, public = signing.parse_verifier_key(PETER_VKEY)
    assert name == "PeterNeumann"
    assert signing.key_id(name, public).hex() == "c74f20a3"
    private = signing.private_key_from_seed(_peter_seed())
    assert signing.public_key_bytes(private.public_key()) == signing.public_key_bytes(public)
    assert signing.verifier_key(name, private.public_key()) == PETER_VKEY


def test_our_signature_lines_are_byte_identical_to_go():
    private = signing.private_key_from_seed(_peter_seed())
    blob = signing.key_id("PeterNeumann", private.public_key()) + private.sign(PETER_TEXT.encode())
    assert base64.b64encode(blob).decode() == PETER_SIG  # Ed25519 is deterministic (RFC 8032)


def test_go_signed_note_verifies():
    """open_checkpoint verifies the signature before parsing the body; Go's note is not a
    checkpoint, so a verified note fails only at the body, while any change fails the signature."""
    _, public = signing.parse_verifier_key(PETER_VKEY)
    assert signing.open_note(PETER_NOTE, "PeterNeumann", public) == PETER_TEXT
    with pytest.raises(CheckpointError, match=NOT_A_CHECKPOINT):
        signing.open_checkpoint(PETER_NOTE, "PeterNeumann", public)
    with pytest.raises(CheckpointError, match=NOT_A_CHECKPOINT):
        signing.open_checkpoint(PETER_NOTE + ENOCH_LINE, "PeterNeumann", public)
    with pytest.raises(CheckpointError, match="does not verify"):
        signing.open_checkpoint(PETER_NOTE.replace("cryptography", "cryptographY"), "PeterNeumann", public)
    with pytest.raises(CheckpointError, match="no signature"):
        signing.open_checkpoint(PETER_NOTE, "PeterNeumann", KEY.public_key())


def test_a_checkpoint_signed_with_the_go_key_opens_with_the_go_verifier_key():
    private = signing.private_key_from_seed(_peter_seed())
    cp = Checkpoint("example.com/log", 7, hashlib.sha256(b"x").digest())
    note = signing.sign_checkpoint(cp, "PeterNeumann", private)
    assert note.split("\n\n")[1].startswith("\u2014 PeterNeumann x08go")  # base64 of key id c74f20a3
    name, public = signing.parse_verifier_key(PETER_VKEY)
    assert signing.open_checkpoint(note, name, public) == cp
