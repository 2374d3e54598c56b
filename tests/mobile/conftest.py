"""The app's tests: a real backend per session, and Kivy set up for an offscreen SDL window."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="pvpp-kivy-"))

from tests.mobile.server import Backend  # noqa: E402


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = Backend(tmp_path_factory.mktemp("app-backend")).setup()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "device"
    path.mkdir()
    return path
