"""``pvpp bench NAME``: run a benchmark from the repository's top-level ``benchmarks/`` folder.

A benchmark is a module ``benchmarks/<name>.py`` with a top-level ``main(args) -> int``.
``benchmarks/`` is not part of the installed distribution, so it is looked up next to this
source tree (an editable install from the repository) or in the current directory, put on
``sys.path`` and imported as the package ``benchmarks``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def benchmarks_dir() -> Path | None:
    """The ``benchmarks`` folder of the repository, or ``None`` when there is none."""
    candidates = [Path(__file__).resolve().parents[2], Path.cwd().resolve()]
    for root in candidates:
        folder = root / "benchmarks"
        if (folder / "__init__.py").is_file():
            return folder
    return None


def _defines_main(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main"
        for node in tree.body
    )


def available_benchmarks(folder: Path | None = None) -> list[str]:
    """Names of the modules in ``benchmarks/`` that define ``main`` (helpers are skipped)."""
    folder = folder or benchmarks_dir()
    if folder is None:
        return []
    return sorted(
        path.stem for path in folder.glob("*.py")
        if not path.stem.startswith("_") and _NAME.match(path.stem) and _defines_main(path)
    )


def _import_benchmark(folder: Path, name: str):
    root = str(folder.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    package = sys.modules.get("benchmarks")
    if package is not None and Path(getattr(package, "__file__", "") or "").resolve().parent != folder:
        # Another distribution's ``benchmarks`` was imported first: load ours by path.
        return _load_by_path(folder, name)
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ImportError as exc:
        if exc.name not in ("benchmarks", f"benchmarks.{name}"):
            raise
        return _load_by_path(folder, name)
    if Path(module.__file__ or "").resolve().parent != folder:
        return _load_by_path(folder, name)
    return module


def _load_by_path(folder: Path, name: str):
    import importlib.util

    for module_name, path in (("benchmarks", folder / "__init__.py"), (f"benchmarks.{name}", folder / f"{name}.py")):
        spec = importlib.util.spec_from_file_location(
            module_name, path, submodule_search_locations=[str(folder)] if module_name == "benchmarks" else None
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module


def run_benchmark(name: str, args: Sequence[str]) -> int:
    """Run ``benchmarks.<name>.main(args)``; unknown names list the available ones (exit 2)."""
    folder = benchmarks_dir()
    if folder is None:
        print("pvpp bench: no benchmarks/ folder found (run from the repository root)", file=sys.stderr)
        return 2
    available = available_benchmarks(folder)
    if name not in available:
        print(f"pvpp bench: unknown benchmark {name!r}", file=sys.stderr)
        print("available benchmarks: " + (", ".join(available) or "(none)"), file=sys.stderr)
        return 2
    module = _import_benchmark(folder, name)
    return int(module.main(list(args)) or 0)
