"""``pvpp run``: embedded Redis and MQTT broker, migrations, demo accounts, the API, then (after
the demo history is loaded) the worker, the MQTT bridge and the plug simulator, supervised.

Children run in their own process group (a terminal Ctrl-C reaches only the supervisor, which
stops them in order) and get SIGTERM if the supervisor dies, so nothing outlives a ``pvpp run``.
"""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import FrameType

from backend.runtime import embedded_accounts
from backend.runtime.embedded_redis import (
    EmbeddedRedis,
    EmbeddedRedisError,
    die_with_parent,
)
from backend.settings import Settings

CHILD_STOP_TIMEOUT = 10.0
HEALTH_TIMEOUT = 60.0  # the goal for `make run`; a busy machine needs more than the usual few seconds
_POLL = 0.2
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _say(message: str) -> None:
    print(f"pvpp run: {message}", file=sys.stderr, flush=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "backend.cli", *args]


def _base_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _port_in_use(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_line(proc: subprocess.Popen, marker: bytes, timeout: float) -> bool:
    """Wait until ``proc`` prints a line containing ``marker`` on its stdout (a pipe)."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                return False
            line = proc.stdout.readline()
            if not line:  # exited
                return False
            if marker in line:
                return True
    return False


def _healthy(url: str) -> bool:
    try:
        with _OPENER.open(url, timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except (OSError, http.client.HTTPException):
        return False


def _stop_all(procs: list[subprocess.Popen], timeout: float = CHILD_STOP_TIMEOUT) -> None:
    """SIGTERM every running process, wait up to ``timeout`` for all, SIGKILL the rest, reap all."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Supervisor:
    """One ``pvpp run``: remembers what it started so that ``shutdown()`` can stop all of it."""

    def __init__(self, settings: Settings, with_demo_data: bool) -> None:
        self.settings = settings
        self.with_demo_data = with_demo_data
        self.base_url = _base_url(settings.host, settings.port)
        self.children: dict[str, subprocess.Popen] = {}
        self.oneshots: dict[str, subprocess.Popen] = {}  # children that finish by themselves
        self.redis: EmbeddedRedis | None = None
        self.broker: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.signal: signal.Signals | None = None

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signal = self.signal or signal.Signals(signum)

    def run(self) -> int:
        settings = self.settings
        if _port_in_use(settings.host, settings.port):
            _say(f"port {settings.port} on {settings.host} is already in use; set PVPP_PORT")
            return 1
        var_dir = settings.var_dir.resolve()
        redis_url = settings.redis_url
        if not redis_url:
            _say(f"starting embedded Redis in {var_dir / 'redis'}")
            self.redis = EmbeddedRedis(var_dir)
            try:
                self.redis.start()
            except EmbeddedRedisError as exc:
                _say(f"embedded Redis failed: {exc}")
                return 1
            redis_url = self.redis.url
        mqtt_env: dict[str, str] = {}
        if not settings.mqtt_url:
            port = _free_port()
            _say(f"starting embedded MQTT broker on 127.0.0.1:{port}")
            # never an open broker: the platform's accounts and ACL, as on Mosquitto
            accounts = embedded_accounts.prepare(settings)
            files = ["--password-file", accounts["PVPP_MQTT_PASSWORD_FILE"],
                     "--acl-file", accounts["PVPP_MQTT_ACL_FILE"]]
            self.broker = subprocess.Popen(
                [sys.executable, "-m", "backend.runtime.embedded_mqtt", "--port", str(port), *files],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, preexec_fn=die_with_parent(), process_group=0)
            mqtt_env = {"PVPP_MQTT_URL": f"mqtt://127.0.0.1:{port}", "PVPP_MQTT_VERSION": "4", **accounts}
            # the broker says when it listens; probing its port with a bare TCP connect made
            # amqtt log "No data to decode MQTT packet fixed header" on every start
            if not _wait_line(self.broker, b"embedded MQTT broker on", 15.0):
                _say("embedded MQTT broker did not start")
                return 1
        self.env = {"PVPP_LOG_FORMAT": "console"} | os.environ | mqtt_env | {  # readable in a terminal
            "PVPP_REDIS_URL": redis_url,
            "PVPP_VAR_DIR": str(var_dir),
            "PVPP_HOST": settings.host,
            "PVPP_PORT": str(settings.port),
        }
        steps = [("migrate", "applying migrations", ())]
        if mqtt_env:  # the accounts of plugs paired in earlier runs
            steps.append(("broker-sync", "writing the embedded broker's accounts", ()))
        if self.with_demo_data:
            steps.append(("demo-data", "loading the demo accounts", ("--accounts-only",)))
        for command, doing, args in steps:
            _say(doing)
            code = self._run_step(command, *args)
            if code is None:
                return self._stopped()
            if code != 0:
                _say(f"'pvpp {command}' failed with exit code {code}; stopping")
                return 1
        _say("starting serve")
        self._spawn("serve")
        if not self.with_demo_data:
            self._start_background()
        code = self._wait_healthy()
        if code is not None:
            return code
        if self.with_demo_data:
            # The history replays past DR events, switch commands and readings with their own
            # clock: the worker's DR clock and the bridge's command expiry must not act on them
            # meanwhile, so those start once it is loaded. The API answers all along.
            _say("loading the demo history (pvpp demo-data); the worker, MQTT bridge and plug "
                 "simulator start when it is done")
            self.oneshots["demo-data"] = self._spawn("demo-data", "--no-progress", name="demo-history")
        return self._watch()

    def _start_background(self) -> None:
        for command in ("worker", "mqtt-bridge"):
            _say(f"starting {command}")
            self._spawn(command)
        if self.with_demo_data:
            _say("starting simulate-plugs for the demo households")
            self._spawn("simulate-plugs", "--households", "2", "--register")

    def shutdown(self) -> None:
        running = [name for name, proc in self.children.items() if proc.poll() is None]
        if running:
            _say(f"stopping {', '.join(running)}")
        _stop_all(list(self.children.values()))
        self.children.clear()
        if self.broker is not None:
            _say("stopping embedded MQTT broker")
            _stop_all([self.broker])
            if self.broker.stdout is not None:
                self.broker.stdout.close()
            self.broker = None
        if self.redis is not None:
            _say("stopping embedded Redis")
            self.redis.stop()

    def _spawn(self, command: str, *args: str, name: str | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            _cli(command, *args),
            env=self.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
            process_group=0,
        )
        self.children[name or command] = proc
        return proc

    def _run_step(self, command: str, *args: str) -> int | None:
        """Run a one-off sub-command to completion; ``None`` if a signal came first."""
        if self.signal is not None:
            return None
        proc = self._spawn(command, *args)
        while self.signal is None:
            try:
                code = proc.wait(_POLL)
            except subprocess.TimeoutExpired:
                continue
            del self.children[command]
            return code
        return None

    def _finished_oneshots(self) -> None:
        """Report background one-shot commands that finished; they do not stop the platform."""
        for command, proc in list(self.oneshots.items()):
            if proc.poll() is None:
                continue
            del self.oneshots[command]
            self.children = {n: p for n, p in self.children.items() if p is not proc}
            outcome = "finished" if proc.returncode == 0 else f"failed with exit code {proc.returncode}"
            _say(f"{command} {outcome}")
            if command == "demo-data":
                self._start_background()

    def _dead_child(self) -> str | None:
        self._finished_oneshots()
        for name, proc in self.children.items():
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        if self.redis is not None and self.redis.returncode is not None:
            return f"embedded Redis exited with code {self.redis.returncode}"
        if self.broker is not None and self.broker.poll() is not None:
            return f"embedded MQTT broker exited with code {self.broker.returncode}"
        return None

    def _wait_healthy(self) -> int | None:
        """``None`` once /healthz answers 200; otherwise the exit code for ``run()``."""
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not _healthy(f"{self.base_url}/healthz"):
            if self.signal is not None:
                return self._stopped()
            if dead := self._dead_child():
                _say(f"{dead} during start-up; stopping everything")
                return 1
            if time.monotonic() > deadline:
                _say(f"{self.base_url}/healthz did not answer 200 within {HEALTH_TIMEOUT:.0f} s")
                return 1
            time.sleep(_POLL)
        self._banner()
        return None

    def _watch(self) -> int:
        while self.signal is None:
            if dead := self._dead_child():
                _say(f"{dead}; stopping everything")
                return 1
            time.sleep(_POLL)
        return self._stopped()

    def _stopped(self) -> int:
        assert self.signal is not None
        _say(f"received {self.signal.name}")
        return 0

    def _banner(self) -> None:
        graphiql = " (GraphiQL in a browser)" if self.settings.graphiql else ""
        print(
            "\n".join(
                [
                    "",
                    "People's VPP is running",
                    f"  GraphQL API{graphiql}: {self.base_url}/graphql",
                    f"  Health:  {self.base_url}/healthz",
                    f"  Metrics: {self.base_url}/metrics",
                    "Press Ctrl-C to stop.",
                    "",
                ]
            ),
            flush=True,
        )


def run_platform(settings: Settings, with_demo_data: bool = True) -> int:
    """Run the whole platform in the foreground until Ctrl-C/SIGTERM (0) or a child dies (1)."""
    supervisor = _Supervisor(settings, with_demo_data)
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, supervisor.on_signal) for sig in signals}
    try:
        return supervisor.run()
    finally:
        supervisor.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
