"""Where sanitised photos and thumbnails are kept: a small async interface and a local disk
implementation. An S3-compatible store can implement the same :class:`PhotoStore`.

Keys are relative, slash-separated and restricted to ``[a-z0-9._-]`` segments, so a key can
never leave the store's root or name a hidden file; :func:`content_key` derives one from the
bytes (no names or ids of children in paths). Writes are atomic: a reader sees the old
object or the complete new one, never a partial file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*(?:/[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*)*")
MAX_KEY_LENGTH = 255
_TEMP_PREFIX = ".tmp-"


class InvalidKey(ValueError):
    """A key that could escape the store or is not in the allowed alphabet."""


class PhotoNotFound(KeyError):
    """No object under this key."""


def check_key(key: str) -> str:
    """Return ``key`` if it is safe (see module doc), else raise :class:`InvalidKey`."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidKey(f"invalid photo key {key!r:.80}")
    return key


def content_key(data: bytes, prefix: str = "photos", suffix: str = ".jpg") -> str:
    """``<prefix>/ab/cd/<sha256><suffix>``: the same bytes always get the same key, and
    two-level fan-out keeps directories small."""
    digest = hashlib.sha256(data).hexdigest()
    return check_key(f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}{suffix}")


@runtime_checkable
class PhotoStore(Protocol):
    """Object storage for photo bytes."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any previous object atomically."""

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`PhotoNotFound` when there are none."""

    async def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error (retries are safe)."""

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    async def url(self, key: str) -> str:
        """Where a client fetches ``key`` (a path under the API, or a signed URL)."""


class LocalDiskStore:
    """Files under ``root``; ``base_url`` is where the web layer serves them (after its own
    permission check). Blocking file calls run in a worker thread."""

    def __init__(self, root: str | os.PathLike[str], base_url: str = "/media") -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        """The file for ``key``, checked to lie inside ``root``."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(f"photo key {key!r:.80} leaves the store")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    async def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise PhotoNotFound(key) from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Temp file in the target's directory, fsync, then ``os.replace`` (atomic on POSIX
        within one file system); the temp file is removed if anything fails."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
