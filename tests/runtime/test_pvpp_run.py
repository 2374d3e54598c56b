"""``pvpp run`` end to end: it comes up, serves a demo sign-in, and leaves nothing running."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow
HEALTHY_WITHIN_S = 60  # the goal for `make run` once the virtualenv exists

REPO_ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = (
    "mutation($e:String!,$p:String!){ signIn(email:$e, password:$p)"
    "{ __typename ... on AuthPayload { accessToken } } }"
)


@dataclass
class Platform:
    proc: subprocess.Popen
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _survivors(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (alive := [p for p in procs if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _describe(procs: list[psutil.Process]) -> list[str]:
    described = []
    for proc in procs:
        try:
            described.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
        except psutil.Error:
            described.append(f"{proc.pid}: ?")
    return described


@contextlib.contextmanager
def running_platform(tmp_path: Path, *args: str, healthy_within: float = HEALTHY_WITHIN_S) -> Iterator[Platform]:
    """``pvpp run *args`` in ``tmp_path/var``, healthy; killed with everything it started afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
    env |= {"PVPP_VAR_DIR": str(tmp_path / "var"), "PVPP_PORT": str(port)}
    log = tmp_path / "pvpp-run.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "run", *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Platform(proc, f"http://127.0.0.1:{port}", log)
    seen: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + healthy_within
        with httpx.Client(trust_env=False, timeout=2) as client:
            while True:
                seen = running.descendants() or seen
                exited = proc.poll()
                assert exited is None, f"pvpp run exited with {exited}:\n{running.output()}"
                try:
                    if client.get(f"{running.base_url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                late = time.monotonic() > deadline
                assert not late, f"no /healthz 200 within {healthy_within} s:\n{running.output()}"
                time.sleep(0.25)
        yield running
    finally:
        if proc.poll() is None:
            seen = running.descendants() or seen
            proc.kill()
        proc.wait()
        for leftover in _survivors(seen, timeout=5):
            leftover.kill()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with running_platform(tmp_path) as running:
        yield running


def test_run_serves_demo_sign_in_and_stops_cleanly_on_sigint(platform: Platform) -> None:
    with httpx.Client(trust_env=False, timeout=10) as client:
        response = client.post(
            f"{platform.base_url}/graphql",
            json={
                "query": SIGN_IN,
                "variables": {"e": "student1@demo.pvpp.kr", "p": "demo-Student-1!"},
            },
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["signIn"]["__typename"] == "AuthPayload", response.text
    # the start-up readiness checks leave no error in the log (a bare TCP probe of the
    # embedded broker made amqtt log one)
    assert "No data to decode" not in platform.output(), platform.output()

    descendants = platform.descendants()
    assert len(descendants) >= 3, _describe(descendants)
    assert any("redis-server" in line for line in _describe(descendants)), _describe(descendants)
    deadline = time.monotonic() + 10  # the demo history starts loading once the API is healthy
    while "loading the demo history" not in platform.output() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert "loading the demo history" in platform.output(), platform.output()
    descendants = platform.descendants()
    assert any("demo-data" in line for line in _describe(descendants)), _describe(descendants)

    platform.proc.send_signal(signal.SIGINT)
    assert platform.proc.wait(30) == 0, platform.output()
    survivors = _survivors(descendants, timeout=5)
    assert not survivors, _describe(survivors)


def test_sigkilled_run_leaves_nothing_behind(platform: Platform) -> None:
    descendants = platform.descendants()
    assert len(descendants) >= 3, _describe(descendants)

    platform.proc.send_signal(signal.SIGKILL)
    platform.proc.wait(10)
    survivors = _survivors(descendants, timeout=10)
    assert not survivors, _describe(survivors)
