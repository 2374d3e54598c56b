"""A real backend for the app's tests: embedded Redis, SQLite, ``pvpp migrate`` + ``pvpp demo-data``,
and ``pvpp serve`` under uvicorn in a subprocess that tests can stop and start again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from backend.runtime.embedded_redis import EmbeddedRedis, die_with_parent, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
# The documented accounts with two weeks of history: enough for every screen, quick to load.
SMALL_DEMO = ("--households", "3", "--days", "14")
FULL_DEMO: tuple[str, ...] = ()  # the default demo of `make run`
STUDENT = ("student1@demo.pvpp.kr", "demo-Student-1!")
PARENT = ("parent1@demo.pvpp.kr", "demo-Parent-1!")
STUDENT2 = ("student2@demo.pvpp.kr", "demo-Student-2!")
TEACHER = ("teacher@demo.pvpp.kr", "demo-Teacher-1!")
OFFICER = ("officer@demo.pvpp.kr", "demo-Officer-1!")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Backend:
    def __init__(self, var_dir: Path, **settings: str) -> None:
        """``settings``: extra ``PVPP_*`` environment of the server (e.g. ``PVPP_DR_MIN_AGGREGATE_HOUSEHOLDS``)."""
        self.var_dir = var_dir
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis = EmbeddedRedis(var_dir)
        self.proc: subprocess.Popen | None = None
        self.log = var_dir / "serve.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
        return env | {"PVPP_VAR_DIR": str(self.var_dir), "PVPP_PORT": str(self.port), "PVPP_ENV": "test",
                      "PVPP_REDIS_URL": self.redis.url, "PVPP_LOG_LEVEL": "WARNING",
                      "PVPP_PASSWORD_HASH_MEMORY_KIB": "8192", "PVPP_PASSWORD_HASH_TIME_COST": "1"} | self.settings

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def setup(self, demo: tuple[str, ...] = SMALL_DEMO) -> Backend:
        """Migrate, load the demo (``demo``: ``pvpp demo-data`` options) and start the API."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.redis.start()
        self.cli("migrate")
        self.cli("demo-data", "--no-progress", *demo)
        return self.start()

    def start(self) -> Backend:
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve"], cwd=REPO_ROOT,
                                         env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                                         preexec_fn=die_with_parent())
        deadline = time.monotonic() + 180  # a loaded machine took over 60 s (load average 20)
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not come up:\n" + self.log.read_text()[-3000:]
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        self.redis.stop()

    def _run_job(self, imports: str, call: str) -> None:
        """Run one backend job against this server's database, as a worker would."""
        script = (
            "import asyncio\n"
            "from datetime import datetime\n"
            "from backend.settings import get_settings\n"
            "from backend.db import init_db, close_db\n"
            f"{imports}\n"
            "async def main():\n"
            "    s = get_settings(); await init_db(s)\n"
            f"    try: await {call}\n"
            "    finally: await close_db()\n"
            "asyncio.run(main())\n"
        )
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    def publish_checkpoint(self) -> None:
        self._run_job("from backend.ledger.checkpoints import publish_checkpoint", "publish_checkpoint(s)")

    def drive_dr(self, now: datetime | None = None) -> None:
        """What the DR worker does on each tick (notify, start, end, restore, settle), at ``now``
        (default: the clock), as the demo data does for its past events."""
        at = f"datetime.fromisoformat({now.isoformat()!r})" if now else "None"
        self._run_job("from backend.dr.service import drive", f"drive(s, now={at})")

    def verifier_key(self) -> str:
        body = self.graphql("{ ledgerVerifierKey }")
        return body["ledgerVerifierKey"]

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        r = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                       headers=headers, timeout=30, trust_env=False)
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body.get("errors"), body
        return body["data"]

    def token(self, who: tuple[str, str]) -> str:
        data = self.graphql("mutation($e:String!,$p:String!){ signIn(email:$e,password:$p)"
                            "{ __typename ... on AuthPayload { accessToken refreshToken } } }",
                            {"e": who[0], "p": who[1]})
        return data["signIn"]["accessToken"]
