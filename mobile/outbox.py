"""The on-device outbox: every user action is written here first and sent exactly once later.

Each action gets a client-generated idempotency key when the user taps and is stored in SQLite
(WAL, synchronous=FULL) before anything is sent. :meth:`Outbox.flush` sends waiting actions in
order: network errors and 5xx are retried with backoff (the flush stops there, keeping the order);
typed rejections are recorded and shown, never retried; a photo is copied into the app's data
directory and deleted only after the server acknowledged the upload. Killing the app at any
moment is safe: an action not marked done is sent again with the same key, and the server
answers a replay with the first result.
"""

from __future__ import annotations

import json
import mimetypes
import os
import random
import shutil
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mobile.api.errors import NetworkError, Rejected, ServerError

if TYPE_CHECKING:
    from mobile.api.client import GraphQLClient

WAITING, DONE, REJECTED = "waiting", "done", "rejected"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    depends_on TEXT,
    file TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Action:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: float
    last_error: dict[str, Any] | None
    result: dict[str, Any] | None
    depends_on: str | None
    file: str | None
    created_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Action:
        return cls(row["id"], row["key"], row["kind"], json.loads(row["payload"]), row["state"],
                   row["attempts"], row["next_attempt_at"],
                   json.loads(row["last_error"]) if row["last_error"] else None,
                   json.loads(row["result"]) if row["result"] else None,
                   row["depends_on"], row["file"], row["created_at"])


@dataclass
class FlushReport:
    sent: int = 0
    rejected: int = 0
    retry_later: int = 0
    stopped_by: str | None = None
    errors: list[str] = field(default_factory=list)


Sender = Callable[["GraphQLClient", "Action", "Action | None"], Awaitable[dict[str, Any]]]


def backoff(attempts: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter: up to base * 2**(attempts-1), at most cap seconds."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(0, attempts - 1))


class Outbox:
    def __init__(self, path: Path, photo_dir: Path | None = None, retry_base: float = 2.0) -> None:
        self.path = Path(path)
        self.photo_dir = Path(photo_dir or self.path.parent / "outbox_photos")
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        self.retry_base = retry_base
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # writing actions -------------------------------------------------------------------------
    def _insert(self, kind: str, payload: dict[str, Any], depends_on: str | None = None,
                file: str | None = None, key: str | None = None) -> str:
        key = key or str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO actions (key, kind, payload, depends_on, file, created_at) VALUES (?,?,?,?,?,?)",
            (key, kind, json.dumps(payload, sort_keys=True), depends_on, file, time.time()),
        )
        return key

    def add(self, kind: str, payload: dict[str, Any]) -> str:
        """Queue one action; returns its idempotency key."""
        if kind not in SENDERS:
            raise ValueError(f"unknown action kind {kind!r}")
        with self._transaction():
            return self._insert(kind, payload)

    def add_activity(self, activity_type: str, occurred_on: str, params: dict[str, Any],
                     photo: Path | str | None = None) -> tuple[str, str | None]:
        """Queue an activity report and, if given, its photo (copied to the device store first)."""
        key = str(uuid.uuid4())
        stored = None
        if photo is not None:
            source = Path(photo)
            stored = self.photo_dir / f"{key}{source.suffix.lower() or '.jpg'}"
            tmp = stored.with_suffix(stored.suffix + ".part")
            shutil.copyfile(source, tmp)
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, stored)
        with self._transaction():
            self._insert("log_activity", {"activityType": activity_type, "occurredOn": occurred_on,
                                          "params": params}, key=key)
            photo_key = self._insert("upload_photo", {}, depends_on=key, file=str(stored)) if stored else None
        return key, photo_key

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    # reading -----------------------------------------------------------------------------------
    def get(self, key: str) -> Action | None:
        row = self.db.execute("SELECT * FROM actions WHERE key = ?", (key,)).fetchone()
        return Action.from_row(row) if row else None

    def actions(self, state: str | None = None, kinds: tuple[str, ...] | None = None) -> list[Action]:
        sql, args = "SELECT * FROM actions WHERE 1=1", []
        if state:
            sql += " AND state = ?"
            args.append(state)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        return [Action.from_row(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def waiting_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM actions WHERE state = 'waiting'").fetchone()[0]

    def kv_get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def kv_set(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value))

    def dismiss(self, key: str) -> None:
        """Forget a rejected action the user has seen (its photo too)."""
        action = self.get(key)
        if action and action.state == REJECTED:
            self._drop_file(action)
            self.db.execute("DELETE FROM actions WHERE key = ?", (key,))

    # sending -----------------------------------------------------------------------------------
    def _finish(self, action: Action, state: str, result: dict[str, Any] | None = None,
                error: dict[str, Any] | None = None) -> None:
        self.db.execute("UPDATE actions SET state = ?, result = ?, last_error = ?, sent_at = ? WHERE id = ?",
                        (state, json.dumps(result) if result is not None else None,
                         json.dumps(error) if error is not None else None, time.time(), action.id))
        self._drop_file(action)

    def _drop_file(self, action: Action) -> None:
        if action.file:
            Path(action.file).unlink(missing_ok=True)

    def _retry_later(self, action: Action, error: Exception, now: float) -> None:
        attempts = action.attempts + 1
        self.db.execute("UPDATE actions SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                        (attempts, now + backoff(attempts, self.retry_base),
                         json.dumps({"typename": type(error).__name__, "message": str(error)}), action.id))

    async def flush(self, client: GraphQLClient, *, force: bool = False,
                    now: Callable[[], float] = time.time) -> FlushReport:
        """Send waiting actions in order. ``force`` ignores backoff (the user tapped "send now")."""
        report = FlushReport()
        for action in self.actions(WAITING):
            if not force and action.next_attempt_at > now():
                report.stopped_by = "backoff"
                break
            dependency = self.get(action.depends_on) if action.depends_on else None
            if dependency is not None and dependency.state == REJECTED:
                self._finish(action, REJECTED, error={"typename": "DependencyRejected",
                                                      "message": "the activity was not accepted"})
                report.rejected += 1
                continue
            if dependency is not None and dependency.state != DONE:
                continue
            try:
                result = await SENDERS[action.kind](client, action, dependency)
            except Rejected as exc:
                self._finish(action, REJECTED, error=exc.as_dict())
                report.rejected += 1
            except (NetworkError, ServerError) as exc:
                self._retry_later(action, exc, now())
                report.retry_later += 1
                report.stopped_by = type(exc).__name__
                report.errors.append(str(exc))
                break
            else:
                self._finish(action, DONE, result=result)
                report.sent += 1
        return report


# senders: one per action kind ------------------------------------------------------------------
async def _log_activity(client: GraphQLClient, action: Action, _: Action | None) -> dict[str, Any]:
    variables = {"input": {"idempotencyKey": action.key, **action.payload}}
    return await client.call("LogActivity", "logActivity", variables)


async def _upload_photo(client: GraphQLClient, action: Action, dependency: Action | None) -> dict[str, Any]:
    if dependency is None or not dependency.result:
        raise Rejected("DependencyRejected", "the activity of this photo is unknown")
    path = Path(action.file or "")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Rejected("PhotoMissing", f"the photo file is gone: {exc}") from exc
    mime = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    activity_id = dependency.result["activity"]["id"]
    return await client.call("UploadActivityPhoto", "uploadActivityPhoto", {"activityId": activity_id},
                             files={"file": (path.name, data, mime)})


async def _convert_points(client: GraphQLClient, action: Action, _: Action | None) -> dict[str, Any]:
    return await client.call("ConvertPoints", "convertPoints", {"idempotencyKey": action.key, **action.payload})


async def _convert_mileage(client: GraphQLClient, action: Action, _: Action | None) -> dict[str, Any]:
    return await client.call("ConvertMileageToCoins", "convertMileageToCoins", {"idempotencyKey": action.key})


async def _dr_participation(client: GraphQLClient, action: Action, _: Action | None) -> dict[str, Any]:
    """Setting a participation is idempotent on the server (the state is set, not toggled)."""
    return await client.call("SetDrParticipation", "setDrParticipation", action.payload)


async def _consent(client: GraphQLClient, action: Action, _: Action | None) -> dict[str, Any]:
    """Giving or withdrawing consent sets a state on the server, so a resend changes nothing."""
    name, field_ = (("GiveGuardianConsent", "giveGuardianConsent") if action.payload["give"]
                    else ("WithdrawGuardianConsent", "withdrawGuardianConsent"))
    return await client.call(name, field_, {"studentId": action.payload["studentId"]})


SENDERS: dict[str, Sender] = {
    "log_activity": _log_activity,
    "upload_photo": _upload_photo,
    "convert_points": _convert_points,
    "convert_mileage": _convert_mileage,
    "dr_participation": _dr_participation,
    "consent": _consent,
}
