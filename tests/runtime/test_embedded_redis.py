"""The embedded redis-server starts, answers, stops, and never outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis

from backend.runtime.embedded_redis import EmbeddedRedis, EmbeddedRedisError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _ping(url: str) -> bool:
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        return bool(client.ping())


def test_start_ping_and_stop(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        pid = server.pid
        assert pid is not None
        assert server.url == f"unix://{tmp_path.resolve()}/redis/redis.sock"
        assert _ping(server.url)
        assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(pid)
        assert (tmp_path / "redis" / "redis.sock").stat().st_mode & 0o777 == 0o700
    assert not psutil.pid_exists(pid)
    assert not (tmp_path / "redis" / "redis.pid").exists()
    assert not (tmp_path / "redis" / "redis.sock").exists()


def test_stop_is_idempotent(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.stop()
    server.start()
    pid = server.pid
    server.stop()
    server.stop()
    assert pid is not None and not _alive(pid)


def test_data_survives_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server, redis.Redis.from_url(server.url) as client:
        client.set("pvpp:test", "kept")
    with EmbeddedRedis(tmp_path) as server, redis.Redis.from_url(server.url) as client:
        assert client.get("pvpp:test") == b"kept"


def test_sigkilled_parent_leaves_no_redis(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from backend.runtime.embedded_redis import EmbeddedRedis\n"
        "server = EmbeddedRedis(Path(sys.argv[1]))\n"
        "server.start()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    redis_pid = None
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"helper printed {line!r}"
        redis_pid = int(line)
        assert _alive(redis_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _wait_gone(redis_pid, timeout=10), "redis-server outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
        if redis_pid is not None and _alive(redis_pid):
            os.kill(redis_pid, signal.SIGKILL)


def test_stale_pidfile_server_is_replaced(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    first.start()
    second = EmbeddedRedis(tmp_path)
    try:
        old_pid = first.pid
        assert old_pid is not None
        second.start()
        assert not _alive(old_pid)
        assert second.pid != old_pid
        assert _ping(second.url)
        first.stop()
        assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(second.pid)
        assert _ping(second.url)
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize(
    "content",
    [str(os.getpid()), "not a pid", "999999999"],
    ids=["other-process", "garbage", "dead"],
)
def test_unrelated_pidfile_is_left_alone(tmp_path: Path, content: str) -> None:
    (tmp_path / "redis").mkdir()
    (tmp_path / "redis" / "redis.pid").write_text(content)
    with EmbeddedRedis(tmp_path) as server:
        assert _ping(server.url)
        assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(server.pid)
    assert _alive(os.getpid())


def test_too_long_socket_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedRedisError, match="socket path too long"):
        EmbeddedRedis(tmp_path / ("x" * 120)).start()
