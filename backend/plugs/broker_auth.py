"""Per-plug MQTT accounts: Mosquitto password and ACL files kept by the platform.

Every MQTT plug gets its own broker account at pairing (user ``plug-<id>``, a random
password shown once). The platform stores only the password's Mosquitto hash (PBKDF2-SHA512,
the ``$7$`` format of ``mosquitto_passwd``) and writes the broker's ``password_file`` and
``acl_file`` from the active pairings; a SIGHUP makes Mosquitto reload both. The ACL lets a
device publish only its own telemetry topics and read only its own command topics; the
bridge's account reads all telemetry and writes commands. Anonymous clients are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import signal
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from backend.plugs import topics
from backend.plugs.readings import Vendor
from backend.plugs.vendors import COMMAND_CHANNELS, COMMAND_SUBSCRIPTIONS, SUBSCRIPTIONS, valid_device_id

PBKDF2_ITERATIONS = 101  # what mosquitto_passwd 2.0 writes
SALT_BYTES = 12
USER_PREFIX = "plug-"


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``$7$<iterations>$<salt b64>$<PBKDF2-SHA512 b64>``, as ``mosquitto_passwd`` writes it."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str  # shown once at pairing
    password_hash: str


def new_credentials(plug_id: int) -> Credentials:
    password = secrets.token_urlsafe(24)
    return Credentials(f"{USER_PREFIX}{plug_id}", password, mosquitto_hash(password))


def device_topics(vendor: Vendor, device_id: str, template: str | None = None) -> tuple[list[str], list[str]]:
    """(topics the device may write, topics it may read) for one paired device; a Tasmota may
    also announce itself on ``tasmota/discovery/<mac>/…`` (its MAC is not known at pairing;
    the bridge only learns LWT words from it, never where readings go)."""
    d = device_id
    discovery = ["tasmota/discovery/+/config", "tasmota/discovery/+/sensors"] if vendor is Vendor.TASMOTA else []
    if template is not None:
        writes, reads = topics.device_acl(vendor, device_id, template)
        return writes + discovery, reads
    if vendor is Vendor.TASMOTA:
        return [f"tele/{d}/#", f"stat/{d}/#", *discovery], [f"cmnd/{d}/#"]
    if vendor is Vendor.SHELLY_GEN1:
        return ([f"shellies/{d}/online", f"shellies/{d}/relay/+", f"shellies/{d}/relay/+/power",
                 f"shellies/{d}/relay/+/energy", f"shellies/{d}/emeter/#", f"shellies/{d}/info",
                 f"shellies/{d}/input/#", f"shellies/{d}/temperature", f"shellies/{d}/overtemperature"],
                [f"shellies/{d}/relay/+/command", f"shellies/{d}/command"])
    if vendor is Vendor.SHELLY_GEN2:
        return [f"{d}/online", f"{d}/status/#", f"{d}/events/rpc"], [f"{d}/rpc", f"{d}/command/#"]
    return [], []


@dataclass(frozen=True)
class Account:
    """One active MQTT plug as the broker files need it."""

    username: str
    password_hash: str
    vendor: Vendor
    device_id: str
    topic_template: str | None = None


def bridge_acl(accounts: Sequence[Account]) -> tuple[list[str], list[str]]:
    """(topics the bridge may read, topics it may write): telemetry and discovery in, switch
    commands out, on the default layouts and on the templates the plugs were paired with."""
    templated = [(a.vendor, a.topic_template) for a in accounts if a.topic_template is not None]
    reads = [*SUBSCRIPTIONS, topics.DISCOVERY_FILTER, *topics.filters(templated)]
    writes = list(COMMAND_SUBSCRIPTIONS)
    for vendor, template in dict.fromkeys(templated):
        if vendor is Vendor.TASMOTA:
            writes += [topics.tasmota_topic(template, "cmnd", "+") + f"/{w}" for w in
                       ("POWER", *(f"POWER{i}" for i in range(2, COMMAND_CHANNELS + 1)))]
        else:
            writes.append(f"{template}/rpc")
    return reads, writes


def render_files(accounts: Iterable[Account], bridge_user: str, bridge_hash: str) -> tuple[str, str]:
    """The text of Mosquitto's ``password_file`` and ``acl_file``."""
    accounts = list(accounts)
    passwd = [f"{bridge_user}:{bridge_hash}"]
    reads, writes = bridge_acl(accounts)
    acl = [f"user {bridge_user}"]
    acl += [f"topic read {f}" for f in reads]
    acl += [f"topic write {f}" for f in writes]
    for account in accounts:
        if not valid_device_id(account.username) or not valid_device_id(account.device_id) \
                or ":" in account.username:
            raise ValueError(f"unusable MQTT account {account.username!r}")
        passwd.append(f"{account.username}:{account.password_hash}")
        writes, reads = device_topics(account.vendor, account.device_id, account.topic_template)
        acl += ["", f"user {account.username}"]
        acl += [f"topic write {t}" for t in writes] + [f"topic read {t}" for t in reads]
    return "\n".join(passwd) + "\n", "\n".join(acl) + "\n"


def topic_matches(filter_: str, topic: str) -> bool:
    """MQTT filter matching (``+`` one level, ``#`` the rest), as the broker applies an ACL."""
    f, t = filter_.split("/"), topic.split("/")
    for i, level in enumerate(f):
        if level == "#":
            return True
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(f) == len(t)


@dataclass(frozen=True)
class Rules:
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    def may_read(self, topic: str) -> bool:
        return any(topic_matches(f, topic) for f in self.reads)

    def may_write(self, topic: str) -> bool:
        return any(topic_matches(f, topic) for f in self.writes)


def parse_acl(text: str) -> dict[str, Rules]:
    """The ``acl_file`` :func:`render_files` writes, read back per user (Mosquitto's syntax:
    ``user <name>`` then ``topic read|write|readwrite <filter>`` lines)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    user = None
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "user":
            user = words[1]
            found.setdefault(user, ([], []))
        elif len(words) == 3 and words[0] == "topic" and user is not None:
            reads, writes = found[user]
            if words[1] in ("read", "readwrite"):
                reads.append(words[2])
            if words[1] in ("write", "readwrite"):
                writes.append(words[2])
    return {u: Rules(tuple(r), tuple(w)) for u, (r, w) in found.items()}


def parse_passwd(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(password_file: Path, acl_file: Path, passwd_text: str, acl_text: str) -> None:
    _write_atomic(password_file, passwd_text)
    _write_atomic(acl_file, acl_text)


def reload_broker(pid_file: Path) -> bool:
    """SIGHUP the broker named in its pid file; False if there is none running."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True
