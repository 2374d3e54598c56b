"""Access and refresh tokens in a small JSON file under ``App.user_data_dir`` (atomic writes)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Tokens:
    access: str = ""
    refresh: str = ""


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tokens = self._read()

    def _read(self) -> Tokens:
        try:
            raw = json.loads(self.path.read_text())
            return Tokens(str(raw.get("access", "")), str(raw.get("refresh", "")))
        except (OSError, ValueError, AttributeError):
            return Tokens()

    def save(self, access: str, refresh: str) -> None:
        self.tokens = Tokens(access, refresh)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"access": access, "refresh": refresh}))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.tokens = Tokens()
        self.path.unlink(missing_ok=True)

    @property
    def signed_in(self) -> bool:
        return bool(self.tokens.refresh)
