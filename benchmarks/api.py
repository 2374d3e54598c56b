"""``pvpp bench api``: the household dashboard over GraphQL against a plain JSON endpoint.

What is measured: a signed-in parent's dashboard query (household, members, guardian
links, school, municipality; the parent's wallet, recent activities and plugs) served by
``pvpp serve`` on PostgreSQL, on the demo generator's families with ``--days`` of their planned
history (``benchmarks/demo_bulk.py``; the documented households' plugs backfilled through the
bridge's code), and, in the same run and on the same database, a plain Starlette endpoint
(``benchmarks/plain_dashboard.py``, same uvicorn settings, same middleware, same
authentication) that answers the same document. The load comes from a second process on
127.0.0.1 with a fixed number of keep-alive connections, bounded by a duration and a request
count; each target gets the same warm-up, then one measured run (per ``--rounds``). Reported: req/s, p50 and
p99 latency, errors and non-200 answers, SQL statements per request, CPU use, and the ratio
graphql req/s / plain req/s. Results go to ``benchmarks/results/api.json``.

Load generator: ``wrk`` when it is on PATH (C, one thread, Lua script for the POST and
headers), else a Python asyncio client (uvloop, raw HTTP/1.1 keep-alive streams) in a
separate process. On a 2-core machine the client competes with the server and PostgreSQL
for CPU; wrk needs about half the CPU per request and times requests outside any Python
event loop, so it is preferred (``--client``; see docs/performance.md).
The client CPU share is recorded in the results so the cost is visible either way.

Everything it starts (database, servers, load generator) is removed in ``finally`` blocks.
This module imports only the standard library at the top: it is also the load generator
process (``python -m benchmarks.api --loadgen CONFIG``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.scratch import postgres_cpu as _postgres_cpu
from benchmarks.scratch import process_cpu as _proc_cpu

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "api.json"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
RECENT_ACTIVITIES = 20

QUERY = (
    "query Dashboard($household: ID!) { me { id displayName role household { id name inviteCode "
    "municipality { id name } members { id displayName role school { id name municipality { id name } } "
    "schoolClass { id name } } guardianLinks { id consentGiven guardian { id displayName } "
    "student { id displayName } } } } "
    "wallet(historyLimit: 1) { ... on Wallet { points volunteerMinutes mileageWon balancesMatchLedger } } "
    f"activities(limit: {RECENT_ACTIVITIES}) {{ ... on ActivityList {{ items {{ id activityType occurredOn status "
    "points } } } "
    "plugs(householdId: $household) { ... on PlugList { items { id name todayKwh monthKwh } } } }"
)
MY_HOUSEHOLD = "query { me { household { id } } }"
SIGN_IN = (
    "mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) "
    "{ __typename ... on AuthPayload { accessToken } } }"
)
DEMO_EMAIL = "parent1@demo.pvpp.kr"
DEMO_PASSWORD = "demo-Parent-1!"
GOAL_RATIO = 0.8
GOAL_P99_MS = 50.0

_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench api {time.monotonic() - _T0:6.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------- options


def _positive(kind: type, low: float, high: float):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pvpp bench api",
        description="GraphQL dashboard query vs a plain JSON endpoint, on PostgreSQL, from a second process.",
    )
    p.add_argument("--connections", type=_positive(int, 1, 1024), default=32,
                   help="concurrent keep-alive connections (default 32)")
    p.add_argument("--duration", type=_positive(int, 1, 300), default=10,
                   help="seconds measured per target (default 10)")
    p.add_argument("--warmup", type=_positive(int, 0, 60), default=2,
                   help="seconds of warm-up per target, not measured (default 2)")
    p.add_argument("--max-requests", type=_positive(int, 100, 10_000_000), default=500_000,
                   help="stop a measured run after this many requests (default 500000)")
    p.add_argument("--rounds", type=_positive(int, 1, 20), default=1,
                   help="measure both targets this many times, alternating; report the medians (default 1)")
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk if installed (auto), or the Python asyncio client")
    p.add_argument("--workers", type=_positive(int, 1, 64), default=None,
                   help="server worker processes for both targets (default: pvpp serve's, one per core)")
    p.add_argument("--wrk-threads", type=_positive(int, 1, 64), default=1, help="wrk threads (default 1)")
    p.add_argument("--admin-url", default=os.environ.get("PVPP_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL),
                   help="PostgreSQL URL used to create and drop the benchmark database "
                        "(PVPP_BENCH_POSTGRES_URL; default %(default)s)")
    p.add_argument("--redis-url", default=os.environ.get("PVPP_BENCH_REDIS_URL", DEFAULT_REDIS_URL),
                   help="Redis for the API server (PVPP_BENCH_REDIS_URL; default %(default)s)")
    p.add_argument("--families", type=_positive(int, 2, 100_000), default=1_000,
                   help="demo families written from the generator, with their history (default 1000)")
    p.add_argument("--days", type=_positive(int, 7, 366), default=60,
                   help="days of demo history before today (default 60, the demo's)")
    p.add_argument("--seed", type=int, default=0, help="the demo generator's seed (default 0)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON (default %(default)s)")
    opts = p.parse_args(args)
    if opts.wrk_threads > opts.connections:
        p.error("--wrk-threads cannot exceed --connections")
    return opts


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    client: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    errors: int
    non200: int
    error_detail: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0


@dataclass
class TargetResult:
    name: str
    url: str
    method: str
    warmup: RunResult | None
    measured: RunResult
    # CPU use during the measured run, in percent of one core (the machine has cpu_count x 100 %).
    server_cpu_percent: float
    postgres_cpu_percent: float
    client_cpu_percent: float
    machine_cpu_percent: float
    other_cpu_percent: float
    sql_statements_per_request: int | None
    response_bytes: int


# --------------------------------------------------------------------------- CPU accounting


_TICK = os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


@dataclass
class CpuSnapshot:
    wall: float
    server: float
    postgres: dict[int, float]
    machine_busy: float
    machine_total: float
    children: float

    @classmethod
    def take(cls, server_pid: int, database: str) -> CpuSnapshot:
        busy, total = _machine_cpu()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(time.monotonic(), _proc_cpu(server_pid), _postgres_cpu(database), busy, total,
                   usage.ru_utime + usage.ru_stime)


# --------------------------------------------------------------------------- database


def _database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _admin(admin_url: str, sql: str, *args: Any) -> Any:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def create_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_version(admin_url: str) -> str | None:
    try:
        return asyncio.run(_admin(admin_url, "SHOW server_version"))
    except Exception:
        return None


def prepare_database(settings: Any, families: int, days: int, seed: int) -> dict[str, Any]:
    """Migrations and the demo generator's families with their history, in this process: the
    places, staff and documented accounts through the services, the other families, their
    activities and ledger legs in bulk (``benchmarks/demo_bulk.py``, legs through the real ledger
    writer), and the documented households' plugs backfilled through the bridge's code."""
    import asyncpg

    from backend.codes import local_today
    from backend.db import close_db, init_db, migrate
    from benchmarks.demo_bulk import LedgerLegs, ensure_places, load_with_summaries, plug_history
    from benchmarks.scratch import asyncpg_dsn

    async def run() -> dict[str, Any]:
        await migrate(settings)
        await init_db(settings)
        raw = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            anchor = local_today(settings.display_timezone)
            places = await ensure_places(seed, anchor)
            sink = LedgerLegs()
            bulk, _ = await load_with_summaries(raw, places, seed, anchor, days, families, sink,
                                                settings.display_timezone, progress)
            documented = [hid for index, hid in bulk.plugged if index < 2]
            readings = await plug_history(settings, seed, documented, bulk.start, datetime.now(UTC))
            await raw.execute("ANALYZE")
            return {**bulk.to_json(), "ledger_entries": sink.entries, "plug_readings": readings}
        finally:
            await raw.close()
            await close_db()

    return asyncio.run(run())


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(name: str, command: list[str], env: dict[str, str], port: int, workdir: Path) -> Server:
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    return Server(name, proc, port, log)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{server.port}/healthz"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.tail()}")
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer {url} within {timeout:.0f} s:\n{server.tail()}")


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the group id is its pid
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"

    def raw_request(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method == "POST":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    def send(self) -> Any:
        import httpx

        return httpx.request(self.method, self.url, content=self.body or None, headers=self.headers,
                             timeout=30.0, trust_env=False)


def sign_in(port: int) -> str:
    import httpx

    response = httpx.post(
        f"http://{HOST}:{port}/graphql", timeout=30.0, trust_env=False,
        json={"query": SIGN_IN, "variables": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}},
    )
    payload = response.json()
    result = (payload.get("data") or {}).get("signIn") or {}
    if response.status_code != 200 or result.get("__typename") != "AuthPayload":
        raise RuntimeError(f"sign-in as {DEMO_EMAIL} failed: HTTP {response.status_code} {payload}")
    return result["accessToken"]


def my_household(port: int, token: str) -> str:
    """The signed-in parent's household id (the dashboard's ``$household``)."""
    import httpx

    response = httpx.post(f"http://{HOST}:{port}/graphql", timeout=30.0, trust_env=False,
                          json={"query": MY_HOUSEHOLD}, headers={"Authorization": f"Bearer {token}"})
    household = ((((response.json().get("data") or {}).get("me") or {}).get("household")) or {}).get("id")
    if response.status_code != 200 or household is None:
        raise RuntimeError(f"{DEMO_EMAIL} has no household: HTTP {response.status_code} {response.text}")
    return household


def check_dashboard(graphql: Target, plain: Target) -> tuple[dict, int, int]:
    """Both targets answer 200 with the same non-trivial document; returns it and the sizes."""
    g = graphql.send()
    document = g.json()
    if g.status_code != 200 or document.get("errors"):
        raise RuntimeError(f"the GraphQL dashboard query failed: HTTP {g.status_code} {document}")
    data = document.get("data") or {}
    household = ((data.get("me") or {}).get("household")) or {}
    wallet, activities, plugs = data.get("wallet") or {}, data.get("activities") or {}, data.get("plugs") or {}
    if (len(household.get("members") or []) < 2 or not household.get("guardianLinks")
            or not wallet.get("balancesMatchLedger") or not wallet.get("points") and not wallet.get("mileageWon")
            or not activities.get("items") or not plugs.get("items")):
        raise RuntimeError(f"the GraphQL dashboard query returned too little data: {document}")
    p = plain.send()
    if p.status_code != 200 or p.json() != document:
        raise RuntimeError(
            f"the plain endpoint does not answer the same document: HTTP {p.status_code}\n"
            f"plain:   {p.text}\ngraphql: {g.text}"
        )
    return document, len(g.content), len(p.content)


def count_statements(settings: Any, graphql: Target, plain: Target) -> dict[str, int | None]:
    """SQL statements one request of each target sends, counted in this process.

    Both apps are driven in-process (httpx's ASGI transport) with the same token and their
    Tortoise statement log counted, as the test suite's ``count_queries`` fixture does.
    """
    import logging

    import httpx

    from backend.app import create_app
    from backend.db import close_db, init_db
    from backend.operations.logs import configure_logging
    from benchmarks.plain_dashboard import create_app as create_plain_app

    class Counter(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.count = 0

        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                self.count += 1

    async def run() -> dict[str, int | None]:
        configure_logging("WARNING", "json")
        await init_db(settings)
        logger = logging.getLogger("tortoise.db_client")
        counter = Counter()
        level, propagate = logger.level, logger.propagate
        api = create_app(settings, manage_db=False)
        counts: dict[str, int | None] = {}
        try:
            for target, app in ((graphql, api), (plain, create_plain_app(settings))):
                transport = httpx.ASGITransport(app=app, client=(HOST, 50000))
                async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
                    request = {"method": target.method, "url": target.path, "content": target.body or None,
                               "headers": target.headers}
                    await client.request(**request)  # warm caches (parser, validation) before counting
                    logger.setLevel(logging.DEBUG)
                    logger.propagate = False
                    logger.addHandler(counter)
                    counter.count = 0
                    try:
                        response = await client.request(**request)
                    finally:
                        logger.removeHandler(counter)
                        logger.setLevel(level)
                        logger.propagate = propagate
                    counts[target.name] = counter.count if response.status_code == 200 else None
        finally:
            await api.state.redis.aclose()
            await close_db()
        return counts

    return asyncio.run(run())


# --------------------------------------------------------------------------- wrk

_WRK_SCRIPT = """\
wrk.method = "{method}"
wrk.path = "{path}"
wrk.body = {body}
{headers}
local max_requests = {per_thread}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  responses = 0
  non200 = 0
  stopped = false
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then non200 = non200 + 1 end
  if responses >= max_requests and not stopped then
    stopped = true
    wrk.thread:stop()
    -- wrk's main thread sleeps for the whole duration; SIGINT ends the run now
    -- (io.popen, not os.execute: system() ignores SIGINT in the caller while it waits).
    local shell = io.popen("kill -INT $PPID 2>/dev/null")
    if shell then shell:close() end
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("non200") or 0) end
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {{\\"requests\\": %d, \\"duration_us\\": %d, \\"connect\\": %d, \\"read\\": %d, " ..
    "\\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d, \\"non200\\": %d, \\"p50_us\\": %.1f, " ..
    "\\"p90_us\\": %.1f, \\"p99_us\\": %.1f, \\"max_us\\": %.1f}}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, n,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max))
end
"""


def _lua_long_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def run_wrk(target: Target, *, connections: int, duration: float, max_requests: int, threads: int,
            workdir: Path) -> RunResult:
    per_thread = max(1, -(-max_requests // threads))
    script = workdir / f"wrk-{target.name}.lua"
    headers = "\n".join(f'wrk.headers["{k}"] = {_lua_long_string(v)}' for k, v in target.headers.items())
    script.write_text(_WRK_SCRIPT.format(
        method=target.method, path=target.path, body=_lua_long_string(target.body.decode()) if target.body else "nil",
        headers=headers, per_thread=per_thread,
    ))
    seconds = max(1, round(duration))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency",
               "-s", str(script), target.url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=seconds + 30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((l for l in out.splitlines() if l.startswith("WRK_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    r = json.loads(line.removeprefix("WRK_RESULT "))
    elapsed = r["duration_us"] / 1e6
    detail = {k: r[k] for k in ("connect", "read", "write", "timeout") if r[k]}
    got_latency = r["requests"] > 0
    return RunResult(
        client=f"wrk -t{threads}", connections=connections, duration_s=round(elapsed, 3),
        requests=r["requests"], rps=round(r["requests"] / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(r["p50_us"] / 1000, 2) if got_latency else None,
        p90_ms=round(r["p90_us"] / 1000, 2) if got_latency else None,
        p99_ms=round(r["p99_us"] / 1000, 2) if got_latency else None,
        max_ms=round(r["max_us"] / 1000, 2) if got_latency else None,
        errors=sum(detail.values()), non200=r["non200"], error_detail=detail,
        client_cpu_s=round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3),
    )


# --------------------------------------------------------------------------- Python client


def run_python_client(target: Target, *, connections: int, duration: float, max_requests: int) -> RunResult:
    config = {"port": target.port, "request": target.raw_request().decode("latin-1"),
              "connections": connections, "duration": duration, "max_requests": max_requests}
    # as a module from the repository root, so that its ``benchmarks.*`` imports resolve
    command = [sys.executable, "-m", "benchmarks.api", "--loadgen", json.dumps(config)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=REPO_ROOT)
    try:
        out, err = proc.communicate(timeout=duration + 60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    line = next((l for l in out.splitlines() if l.startswith("LOADGEN_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"the load generator failed ({proc.returncode}):\n{out}\n{err}")
    r = json.loads(line.removeprefix("LOADGEN_RESULT "))
    return RunResult(
        client=f"python asyncio ({r['loop']})", connections=connections, duration_s=r["elapsed"],
        requests=r["requests"], rps=round(r["requests"] / r["elapsed"], 1) if r["elapsed"] else 0.0,
        p50_ms=r["p50_ms"], p90_ms=r["p90_ms"], p99_ms=r["p99_ms"], max_ms=r["max_ms"],
        errors=sum(r["errors"].values()), non200=r["non200"], error_detail=r["errors"],
        # CPU of the load phase only, without the interpreter's start-up.
        client_cpu_s=r["cpu_s"],
    )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length: int | None = None
    chunked = close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, not close


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index] * 1000, 2)


async def _loadgen(config: dict[str, Any]) -> dict[str, Any]:
    port, request = config["port"], config["request"].encode("latin-1")
    max_requests, duration = config["max_requests"], config["duration"]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    state = {"issued": 0, "non200": 0}
    perf = time.perf_counter
    cpu_before = time.process_time()
    start = perf()
    deadline = start + duration

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def connection() -> None:
        reader = writer = None
        try:
            while perf() < deadline and state["issued"] < max_requests:
                if writer is None:
                    try:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    except OSError:
                        error("connect")
                        await asyncio.sleep(0.01)
                        continue
                state["issued"] += 1
                t0 = perf()
                try:
                    writer.write(request)
                    status, keep = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                    error("read")
                    writer.close()
                    reader = writer = None
                    continue
                latencies.append(perf() - t0)
                if status != 200:
                    state["non200"] += 1
                if not keep:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    tasks = [asyncio.ensure_future(connection()) for _ in range(config["connections"])]
    _, pending = await asyncio.wait(tasks, timeout=duration + 5.0)
    for task in pending:  # a request that takes over 5 s past the end is a timeout
        task.cancel()
        error("timeout")
    elapsed = perf() - start
    cpu = time.process_time() - cpu_before
    latencies.sort()
    return {
        "requests": len(latencies), "elapsed": round(elapsed, 3), "cpu_s": round(cpu, 3), "non200": state["non200"],
        "errors": errors, "p50_ms": _percentile(latencies, 50), "p90_ms": _percentile(latencies, 90),
        "p99_ms": _percentile(latencies, 99), "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
    }


def _loadgen_main(config_json: str) -> int:
    config = json.loads(config_json)
    try:
        import uvloop

        loop_name = "uvloop"
        result = uvloop.run(_loadgen(config))
    except ImportError:
        loop_name = "asyncio"
        result = asyncio.run(_loadgen(config))
    result["loop"] = loop_name
    print("LOADGEN_RESULT " + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------- measuring


def measure(target: Target, opts: argparse.Namespace, client: str, server: Server, workdir: Path,
            response_bytes: int, statements: int | None) -> TargetResult:
    def run(seconds: float, limit: int) -> RunResult:
        if client == "wrk":
            return run_wrk(target, connections=opts.connections, duration=seconds, max_requests=limit,
                           threads=opts.wrk_threads, workdir=workdir)
        return run_python_client(target, connections=opts.connections, duration=seconds, max_requests=limit)

    warm = None
    if opts.warmup > 0:
        progress(f"{target.name}: warm-up {opts.warmup:g} s with {opts.connections} connections")
        warm = run(opts.warmup, opts.max_requests)
    progress(f"{target.name}: measuring {opts.duration:g} s (at most {opts.max_requests} requests) "
             f"with {opts.connections} connections, {client}")
    before = CpuSnapshot.take(server.proc.pid, opts.database)
    result = run(opts.duration, opts.max_requests)
    after = CpuSnapshot.take(server.proc.pid, opts.database)
    wall = after.wall - before.wall
    server = 100 * (after.server - before.server) / wall
    # Processes that ended during the run are lost; ones that started count from zero.
    postgres = 100 * sum(cpu - before.postgres.get(pid, 0.0) for pid, cpu in after.postgres.items()) / wall
    client_cpu = 100 * result.client_cpu_s / wall
    machine = 100 * (after.machine_busy - before.machine_busy) / wall
    return TargetResult(
        name=target.name, url=target.url, method=target.method, warmup=warm, measured=result,
        server_cpu_percent=round(server, 1), postgres_cpu_percent=round(postgres, 1),
        client_cpu_percent=round(client_cpu, 1), machine_cpu_percent=round(machine, 1),
        other_cpu_percent=round(max(0.0, machine - server - postgres - client_cpu), 1),
        sql_statements_per_request=statements, response_bytes=response_bytes,
    )


def background_cpu(seconds: float = 1.0) -> float:
    """CPU used by the whole machine while the benchmark is idle, in percent of one core."""
    busy_before, _ = _machine_cpu()
    start = time.monotonic()
    time.sleep(seconds)
    busy_after, _ = _machine_cpu()
    return round(100 * (busy_after - busy_before) / (time.monotonic() - start), 1)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[TargetResult], ratio: float | None, goal_met: bool) -> None:
    header = (f"{'target':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} "
              f"{'non-200':>8} {'SQL/req':>8} {'server CPU':>11} {'PG CPU':>7} {'client CPU':>11} {'other CPU':>10}")
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        m = r.measured
        print(f"{r.name:<9} {m.rps:>9.1f} {_fmt(m.p50_ms, '.2f'):>8} {_fmt(m.p99_ms, '.2f'):>8} {m.requests:>9} "
              f"{m.errors:>7} {m.non200:>8} {_fmt(r.sql_statements_per_request, 'd'):>8} "
              f"{r.server_cpu_percent:>10.0f}% {r.postgres_cpu_percent:>6.0f}% {r.client_cpu_percent:>10.0f}% "
              f"{r.other_cpu_percent:>9.0f}%")
    print("(CPU in percent of one core; 'other' is every other process on the machine)")
    print()
    print(f"ratio graphql/plain req/s: {_fmt(ratio, '.3f')}   "
          f"goal (ratio >= {GOAL_RATIO}, GraphQL p99 < {GOAL_P99_MS:g} ms): {'met' if goal_met else 'missed'}")


def machine_info(admin_url: str, client: str) -> dict[str, Any]:
    from importlib import metadata

    from benchmarks.scratch import cpu_model

    model = cpu_model()
    versions = {}
    for dist in ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "uvloop", "httptools",
                 "tortoise-orm", "asyncpg"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    wrk_version = None
    if client == "wrk":
        probe = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk_version = (probe.stdout or probe.stderr).splitlines()[0] if (probe.stdout or probe.stderr) else None
    commit = None
    try:
        rev = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        if rev.returncode == 0:
            commit = rev.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "cpu_model": model,
        "python": platform.python_version(), "platform": platform.platform(),
        "postgresql": postgres_version(admin_url), "wrk": wrk_version, "packages": versions, "git_commit": commit,
    }


def _median(rounds: list[dict[str, Any]], name: str) -> TargetResult:
    ordered = sorted((r[name] for r in rounds), key=lambda t: t.measured.rps)
    return ordered[(len(ordered) - 1) // 2]


def choose_client(requested: str) -> str:
    if requested == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if requested == "wrk":
        raise SystemExit("pvpp bench api: --client wrk but wrk is not installed (apt-get install wrk)")
    return "python"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(args: list[str]) -> int:
    opts = parse_args(args)
    client = choose_client(opts.client)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers and drop the database.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(opts, client)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(opts: argparse.Namespace, client: str) -> int:
    started = time.monotonic()
    opts.database = f"pvpp_bench_{uuid.uuid4().hex[:10]}"
    servers: list[Server] = []
    created = False
    with tempfile.TemporaryDirectory(prefix="pvpp-bench-") as tmp:
        workdir = Path(tmp)
        try:
            from backend.runtime.serve import default_workers
            from backend.settings import Settings

            progress(f"load generator: {client}" + ("" if client == "wrk" else " (wrk not found or not chosen)"))
            progress(f"creating database {opts.database}")
            try:
                create_database(opts.admin_url, opts.database)
            except Exception as exc:
                raise RuntimeError(f"cannot create a database through {_redacted(opts.admin_url)} "
                                   f"(--admin-url): {type(exc).__name__}: {exc}") from None
            created = True
            database_url = _database_url(opts.admin_url, opts.database)
            secret = secrets.token_urlsafe(48)
            settings = Settings(env="development", database_url=database_url, redis_url=opts.redis_url,
                                secret_key=secret, var_dir=workdir / "var", log_level="WARNING")
            progress(f"applying migrations and writing {opts.families:,} demo families with {opts.days} days "
                     f"of history")
            demo = prepare_database(settings, opts.families, opts.days, opts.seed)
            progress(f"demo data: {demo['activities']:,} activities, {demo['ledger_entries']:,} ledger entries, "
                     f"{demo['plug_readings']:,} plug readings")

            env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
            env |= {
                "PVPP_ENV": "development", "PVPP_DATABASE_URL": database_url, "PVPP_REDIS_URL": opts.redis_url,
                "PVPP_SECRET_KEY": secret, "PVPP_LOG_LEVEL": "WARNING", "PVPP_HOST": HOST,
                "PVPP_VAR_DIR": str(workdir / "var"),
                # A run must not outlive its access token (15 min by default).
                "PVPP_ACCESS_TOKEN_TTL_SECONDS": "3600",
            }
            graphql_port, plain_port = free_port(), free_port()
            while plain_port == graphql_port:
                plain_port = free_port()
            workers = opts.workers or default_workers(settings)
            servers.append(start_server("graphql", [sys.executable, "-m", "backend.cli", "serve", "--workers",
                                                    str(workers)],
                                        env | {"PVPP_PORT": str(graphql_port)}, graphql_port, workdir))
            servers.append(start_server("plain", [sys.executable, "-m", "benchmarks.plain_dashboard", str(workers)],
                                        env | {"PVPP_PORT": str(plain_port), "PYTHONPATH": os.pathsep.join(
                                            filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))},
                                        plain_port, workdir))
            progress(f"started pvpp serve (pid {servers[0].proc.pid}, port {graphql_port}) and the plain "
                     f"endpoint (pid {servers[1].proc.pid}, port {plain_port}); waiting for /healthz")
            for server in servers:
                wait_ready(server)

            progress(f"signing in as {DEMO_EMAIL}")
            token = sign_in(graphql_port)
            auth = {"Authorization": f"Bearer {token}"}
            household = my_household(graphql_port, token)
            graphql = Target("graphql", "POST", "/graphql",
                             json.dumps({"query": QUERY, "operationName": "Dashboard",
                                         "variables": {"household": household}}).encode(),
                             {"Content-Type": "application/json", **auth}, graphql_port)
            plain = Target("plain", "GET", f"/dashboard?household={household}", b"", auth, plain_port)
            document, graphql_bytes, plain_bytes = check_dashboard(graphql, plain)
            progress("both endpoints answer the same dashboard document with no errors")
            idle_load = background_cpu()
            progress(f"background CPU use before measuring: {idle_load:.0f}% of one core "
                     f"({os.cpu_count()} cores)")
            if idle_load > 20:
                progress("WARNING: other processes are busy; the figures will be lower and noisier than on an idle machine")

            statements = count_statements(settings, graphql, plain)
            progress(f"SQL statements per request (counted in-process): graphql {statements['graphql']}, "
                     f"plain {statements['plain']}")
            rounds: list[dict[str, Any]] = []
            for number in range(1, opts.rounds + 1):
                if opts.rounds > 1:
                    progress(f"round {number} of {opts.rounds}")
                pair = [
                    measure(graphql, opts, client, servers[0], workdir, graphql_bytes, statements["graphql"]),
                    measure(plain, opts, client, servers[1], workdir, plain_bytes, statements["plain"]),
                ]
                for server in servers:
                    if server.proc.poll() is not None:
                        raise RuntimeError(f"{server.name} died during the run:\n{server.tail()}")
                g, p = pair[0].measured, pair[1].measured
                rounds.append({"graphql": pair[0], "plain": pair[1],
                               "ratio": round(g.rps / p.rps, 3) if p.rps else None})
            # Each target's figures come from its median round (by req/s); the ratio is the
            # median of the per-round ratios, each from two runs measured one after the other.
            results = [_median(rounds, "graphql"), _median(rounds, "plain")]
            ratios = sorted(r["ratio"] for r in rounds if r["ratio"] is not None)
            ratio = ratios[(len(ratios) - 1) // 2] if ratios else None
            g = results[0].measured
            goal_met = ratio is not None and ratio >= GOAL_RATIO and g.p99_ms is not None and g.p99_ms < GOAL_P99_MS
            clean = all(r[t].measured.errors == 0 and r[t].measured.non200 == 0
                        for r in rounds for t in ("graphql", "plain"))
            report = {
                "benchmark": "api",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine_info(opts.admin_url, client),
                "options": {"connections": opts.connections, "duration_s": opts.duration, "warmup_s": opts.warmup,
                            "rounds": opts.rounds, "families": opts.families, "days": opts.days, "seed": opts.seed,
                            "max_requests": opts.max_requests, "client": client,
                            "wrk_threads": opts.wrk_threads if client == "wrk" else None,
                            "server": f"uvicorn, {workers} worker(s), uvloop + httptools, PVPP_LOG_LEVEL=WARNING",
                            "workers": workers,
                            "host": HOST},
                "query": QUERY,
                "graphql_request": {"method": "POST", "path": "/graphql",
                                    "body": json.loads(graphql.body)},
                "plain_request": {"method": "GET", "path": plain.path},
                "demo_data": demo,
                "response": document,
                "targets": {r.name: asdict(r) for r in results},
                "ratio_graphql_to_plain_rps": ratio,
                "rounds": [{"graphql": asdict(r["graphql"]), "plain": asdict(r["plain"]), "ratio": r["ratio"]}
                           for r in rounds] if opts.rounds > 1 else None,
                "goal": {"ratio_at_least": GOAL_RATIO, "graphql_p99_below_ms": GOAL_P99_MS,
                         "connections": opts.connections, "met": goal_met},
                "background_cpu_percent_before": idle_load,
                "clean_run": clean,
                "total_seconds": round(time.monotonic() - started, 1),
            }
            print_table(results, ratio, goal_met)
            output = opts.output if opts.output.is_absolute() else Path.cwd() / opts.output
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            progress(f"results written to {output}")
            if not clean:
                print("pvpp bench api: some requests failed or were not 200; the figures are not valid",
                      file=sys.stderr)
                return 1
            return 0
        except RuntimeError as exc:
            print(f"pvpp bench api: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            progress("interrupted; cleaning up")
            raise
        finally:
            for server in servers:
                stop_server(server)
            if servers:
                progress("servers stopped")
            if created:
                try:
                    drop_database(opts.admin_url, opts.database)
                    progress(f"dropped database {opts.database}")
                except Exception as exc:  # report, but do not hide the original error
                    print(f"pvpp bench api: could not drop database {opts.database}: {exc}", file=sys.stderr)
            progress(f"done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--loadgen":
        sys.exit(_loadgen_main(sys.argv[2]))
    sys.path.insert(0, str(REPO_ROOT))  # run as a script: make ``benchmarks`` importable
    sys.exit(main(sys.argv[1:]))
