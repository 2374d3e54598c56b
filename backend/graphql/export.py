"""``pvpp export-schema``: write or check the SDL in ``schema.graphql``."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from backend.graphql.schema import build_schema


def current_sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"


def export_schema(*, check: bool, path: str) -> int:
    target = Path(path)
    sdl = current_sdl()
    if not check:
        target.write_text(sdl)
        print(f"wrote {target}")
        return 0
    existing = target.read_text() if target.exists() else ""
    if existing == sdl:
        print(f"{target} is up to date")
        return 0
    diff = difflib.unified_diff(existing.splitlines(), sdl.splitlines(), str(target), "schema", lineterm="")
    print("\n".join(diff), file=sys.stderr)
    print(f"{target} is stale: run 'pvpp export-schema'", file=sys.stderr)
    return 1
