"""The app's settings file in ``user_data_dir``: server URL, pinned ledger verifier key, language."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class AppSettings:
    server_url: str = "http://127.0.0.1:8000"
    verifier_key: str = ""
    language: str = ""
    sync_seconds: float = 5.0

    @classmethod
    def load(cls, path: Path) -> AppSettings:
        values = {}
        try:
            values = json.loads(path.read_text())
        except (OSError, ValueError):
            pass
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        settings = cls(**known)
        if env := os.environ.get("PVPP_APP_SERVER"):
            settings.server_url = env
        if env := os.environ.get("PVPP_APP_VERIFIER_KEY"):
            settings.verifier_key = env
        if env := os.environ.get("PVPP_APP_SYNC_SECONDS"):
            settings.sync_seconds = float(env)
        return settings

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, path)


def key_fingerprint(verifier_key: str) -> str:
    """What the user compares: the key name and the first bytes of its hash, grouped."""
    import hashlib

    if not verifier_key:
        return ""
    name = verifier_key.split("+", 1)[0]
    digest = hashlib.sha256(verifier_key.encode()).hexdigest()[:16].upper()
    return f"{name} {' '.join(digest[i:i + 4] for i in range(0, 16, 4))}"
