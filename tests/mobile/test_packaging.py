"""The Android package (buildozer.spec) holds everything the app imports, and nothing of the server.

python-for-android builds the libraries named in ``requirements``: a library the app imports
but the spec lacks installs fine on a desktop and crashes the phone at start. The app's modules
are read with ``ast`` (never imported: no Kivy needed), import names are mapped to distributions
with ``importlib.metadata.packages_distributions()``, and the run-time dependencies of each
pip-installed library are followed through its metadata.
"""

from __future__ import annotations

import ast
import configparser
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "mobile"
SPEC = ROOT / "buildozer.spec"
SERVER_PACKAGES = frozenset({"backend", "workers"})
# python-for-android recipes: built from source with their own dependencies
P4A_RECIPES = frozenset({"python3", "hostpython3", "kivy", "cryptography", "cffi", "pycparser", "pillow",
                         "pyjnius", "android", "numpy", "matplotlib", "openssl", "sqlite3", "libffi", "sdl2"})
# modules that exist only on the device (the bootstrap and Kivy's recipe bring them)
DEVICE_MODULES = frozenset({"android", "jnius"})


def read_spec(path: Path = SPEC) -> configparser.ConfigParser:
    spec = configparser.ConfigParser(interpolation=None)
    spec.optionxform = str  # keys such as android.api keep their case
    spec.read_string(path.read_text(encoding="utf-8"))
    return spec


def spec_requirements(spec: configparser.ConfigParser) -> dict[str, Version | None]:
    """Canonical name -> pinned version (``name==version``) or None."""
    pinned: dict[str, Version | None] = {}
    for item in filter(None, (part.strip() for part in spec["app"]["requirements"].split(","))):
        name, _, version = item.partition("==")
        pinned[canonicalize_name(name)] = Version(version) if version else None
    return pinned


def imported_names(package: Path) -> dict[str, list[str]]:
    """Top-level names of every absolute import anywhere in the package's modules -> where."""
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return found


def third_party(names: dict[str, list[str]], own: str) -> dict[str, list[str]]:
    return {n: w for n, w in names.items() if n != own and n not in sys.stdlib_module_names and n not in DEVICE_MODULES}


def distributions_of(names: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """Import name -> canonical distribution name, and the problems (names no distribution provides)."""
    providers = metadata.packages_distributions()
    found, problems = {}, []
    for name, where in sorted(names.items()):
        dists = providers.get(name)
        if not dists:
            problems.append(f"no installed distribution provides {name!r} (imported at {', '.join(where)}); "
                            "install the project (pip install -e .) or fix the import")
            continue
        found[name] = canonicalize_name(dists[0])
    return found, problems


def runtime_dependencies(dist: str) -> set[str]:
    """Canonical names of what ``dist`` needs at run time, transitively (no extras; markers of this Python).

    Recipes are not followed: python-for-android builds them with their own dependencies.
    """
    needed, todo = set(), [dist]
    while todo:
        current = todo.pop()
        if current in P4A_RECIPES:
            continue
        for text in metadata.requires(current) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name not in needed:
                needed.add(name)
                todo.append(name)
    return needed


def missing_requirements(package: Path, spec: configparser.ConfigParser) -> list[str]:
    """Every way the spec falls short of what the package imports; empty when it is complete."""
    packaged = spec_requirements(spec)
    dists, problems = distributions_of(third_party(imported_names(package), package.name))
    for name, dist in sorted(dists.items()):
        if dist not in packaged:
            problems.append(f"{name!r} (distribution {dist}) is imported by the app but not in the spec's requirements")
    for dist in sorted(set(dists.values())):
        for dependency in sorted(runtime_dependencies(dist) - set(packaged)):
            problems.append(f"{dependency} is needed by {dist} at run time but not in the spec's requirements")
    return problems


# --- the checks ------------------------------------------------------------------------------------------


def test_the_spec_describes_an_android_app_started_by_main_py():
    app = read_spec()["app"]
    for key in ("title", "package.name", "package.domain", "version", "source.dir", "requirements",
                "android.permissions"):
        assert app.get(key, "").strip(), f"buildozer.spec lacks {key}"
    entry = ROOT / app["source.dir"] / "main.py"
    assert entry.is_file(), "python-for-android starts main.py in source.dir"
    assert "run_module(\"mobile\"" in entry.read_text(encoding="utf-8")
    packaged = spec_requirements(read_spec())
    assert {"python3", "kivy", "certifi"} <= set(packaged)
    assert packaged["kivy"] == Version("2.3.1")


def test_every_library_the_app_imports_is_packaged_with_its_dependencies():
    problems = missing_requirements(APP, read_spec())
    assert not problems, "\n".join(problems)


def test_the_app_never_imports_the_server():
    offending = {n: w for n, w in imported_names(APP).items() if n in SERVER_PACKAGES}
    assert not offending, f"the app imports server code: {offending}"


def test_pinned_versions_agree_with_pyproject():
    declared = {}
    for text in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]:
        requirement = Requirement(text)
        declared[canonicalize_name(requirement.name)] = requirement.specifier
    for name, version in spec_requirements(read_spec()).items():
        if version is not None and name in declared:
            assert declared[name].contains(version, prereleases=True), \
                f"buildozer.spec pins {name}=={version}; pyproject.toml asks {declared[name]}"


def test_the_apps_resource_files_are_packaged():
    extensions = {e.strip() for e in read_spec()["app"]["source.include_exts"].split(",")}
    files = [p for p in APP.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    left_out = sorted({str(p.relative_to(ROOT)) for p in files if p.suffix.lstrip(".") not in extensions})
    assert not left_out, f"source.include_exts leaves these app files out of the APK: {left_out}"


def test_server_code_stays_out_of_the_package():
    app = read_spec()["app"]
    excluded = {d.strip() for d in app["source.exclude_dirs"].split(",")}
    extensions = {e.strip() for e in app["source.include_exts"].split(",")}
    for folder in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name != "mobile"):
        holds_packaged_files = any(f.suffix.lstrip(".") in extensions for f in folder.rglob("*") if f.is_file())
        if holds_packaged_files and not folder.name.startswith("."):
            assert folder.name in excluded, f"{folder.name}/ would be copied into the APK"


# --- the checker itself -------------------------------------------------------------------------------


def _spec_with(requirements: str) -> configparser.ConfigParser:
    spec = configparser.ConfigParser(interpolation=None)
    spec.read_dict({"app": {"requirements": requirements}})
    return spec


def test_imports_are_found_anywhere_and_relative_ones_ignored(tmp_path: Path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "a.py").write_text(
        "import os, json\nfrom PIL import Image\nfrom . import b\nimport app.b\n"
        "def later():\n    from backend.ledger import merkle\n    import httpx.__version__\n")
    (package / "b.py").write_text("try:\n    import android\nexcept ImportError:\n    pass\n")
    names = imported_names(package)
    assert set(names) == {"os", "json", "PIL", "app", "backend", "httpx", "android"}
    assert names["backend"] == ["app/a.py:6"]
    assert set(third_party(names, "app")) == {"PIL", "backend", "httpx"}


def test_a_missing_library_or_dependency_is_reported(tmp_path: Path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "a.py").write_text("from PIL import Image\nimport httpx\n")
    problems = missing_requirements(package, _spec_with("python3,httpx,httpcore,anyio,idna,certifi,h11"))
    assert any("'PIL' (distribution pillow)" in p for p in problems), problems
    assert any(p.startswith("typing-extensions is needed by") for p in problems) == \
        Marker('python_version < "3.15"').evaluate()
    complete = "python3,pillow,httpx,httpcore,anyio,idna,certifi,h11,typing-extensions"
    assert missing_requirements(package, _spec_with(complete)) == []


def test_an_import_no_distribution_provides_is_reported(tmp_path: Path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "a.py").write_text("import surely_not_an_installed_module_xyz\n")
    problems = missing_requirements(package, _spec_with("python3"))
    assert len(problems) == 1 and "surely_not_an_installed_module_xyz" in problems[0]


def test_runtime_dependencies_follow_metadata_without_extras_and_stop_at_recipes():
    needs = runtime_dependencies("httpx")
    assert {"httpcore", "h11", "certifi", "idna", "anyio"} <= needs
    assert not needs & {"h2", "brotli", "socksio", "rich", "trio"}  # extras are not installed
    assert runtime_dependencies("kivy") == runtime_dependencies("cryptography") == set()
