"""``pvpp bench ingest``: plug readings end to end — simulator → Mosquitto → bridge → PostgreSQL.

In one run, on a scratch PostgreSQL database and the broker at ``--mqtt-url``:

1. set-up: households and a simulated fleet (``--households``, 2–5 plugs each, every plug
   reporting every ``--report-interval`` seconds), all paired;
2. reference A, the broker's drain rate: ``--simulators`` simulator processes publish at QoS 1
   while a minimal consumer (this module's ``_drain``: our MQTT client, acking at once, no
   parsing, no database) counts messages for ``--reference-seconds``;
3. the measured run: the same simulators for ``--warmup`` + ``--duration`` seconds with the
   real ``pvpp mqtt-bridge``; readings/s is the growth of ``plug_reading`` rows over the
   measured window (so only what is committed counts), with the bridge's CPU time;
4. reference B: raw asyncpg ``copy_records_to_table`` straight into ``plug_reading``
   (partitioned, same primary key), in batches of the bridge's batch size.

Results go to ``benchmarks/results/ingest.json``; the scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.scratch import DEFAULT_ADMIN_URL
from benchmarks.scratch import admin as _admin
from benchmarks.scratch import asyncpg_dsn as _asyncpg_dsn
from benchmarks.scratch import with_database as _with_database

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "ingest.json"
GOAL_READINGS_PER_S = 20_000
_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench ingest {time.monotonic() - _T0:7.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench ingest", description=__doc__.split("\n")[0])
    p.add_argument("--households", type=int, default=6_000)
    p.add_argument("--report-interval", type=float, default=1.0, help="seconds between a plug's reports")
    p.add_argument("--simulators", type=int, default=2, help="simulator processes (fleet split between them)")
    p.add_argument("--strip-share", type=float, default=0.5,
                   help="share of households whose Shelly or Tasmota plugs are outlets of one multi-channel "
                        "device (Pro 4PM switch:N, 4Pro relay/N, Tasmota 4CH Power lists)")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds (after the warm-up)")
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--reference-seconds", type=float, default=20.0)
    p.add_argument("--scale-out-bridges", type=int, default=2,
                   help="then the same load through this many bridges on a shared subscription (1: skip)")
    p.add_argument("--copy-rows", type=int, default=1_000_000, help="rows for the raw COPY reference")
    p.add_argument("--mqtt-url", default=os.environ.get("PVPP_BENCH_MQTT_URL"),
                   help="an existing broker; by default a private mosquitto with BROKER_CONFIG is started")
    p.add_argument("--broker-port", type=int, default=0, help="port of the private mosquitto (default: a free one)")
    p.add_argument("--admin-url", default=os.environ.get("PVPP_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL))
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return p.parse_args(args)


def _env(db_url: str, opts, **extra: str) -> dict[str, str]:
    return os.environ | {"PVPP_DATABASE_URL": db_url, "PVPP_MQTT_URL": opts.mqtt_url,
                         "PVPP_REDIS_URL": os.environ.get("PVPP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
                         "PVPP_LOG_LEVEL": "WARNING",
                         "PVPP_ENV": "development", "PVPP_VAR_DIR": str(REPO_ROOT / "var" / "bench-ingest")} | extra


#: The broker settings docs/plugs.md recommends for the bridge's broker: no cap on the
#: messages queued for a slow (or restarting) bridge session, which mosquitto otherwise drops
#: beyond 1,000, and a large receive window for publishers.
BROKER_CONFIG = ["max_queued_messages 0", "max_inflight_messages 0", "persistence false"]


@contextlib.contextmanager
def _private_broker(opts):
    """Start mosquitto with BROKER_CONFIG on a free port unless ``--mqtt-url`` names a broker."""
    if opts.mqtt_url:
        yield
        return
    if shutil.which("mosquitto") is None:
        raise SystemExit("bench ingest: mosquitto is not installed; pass --mqtt-url")
    port = opts.broker_port
    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text("\n".join([f"listener {port} 127.0.0.1", "allow_anonymous true", *BROKER_CONFIG,
                                    f"user {getpass.getuser()}", ""]))
        proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            opts.mqtt_url = f"mqtt://127.0.0.1:{port}"
            yield
        finally:
            proc.terminate()
            proc.wait(10)


def _simulators(opts, db_url: str, duration: float) -> list[subprocess.Popen]:
    per = max(1, opts.households // opts.simulators)
    return [subprocess.Popen([sys.executable, "-m", "backend.cli", "simulate-plugs", "--households", str(per),
                              "--seed", str(1000 + i), "--report-interval", str(opts.report_interval),
                              "--duration", str(duration), "--strip-share", str(opts.strip_share)],
                             env=_env(db_url, opts), stdout=subprocess.PIPE, text=True)
            for i in range(opts.simulators)]


_SIM_TOTALS = re.compile(r"stopped after (\d+) readings, (\d+) messages")


def _published(sims: list[subprocess.Popen]) -> int:
    """Messages the (already stopped) simulators report having published."""
    total = 0
    for proc in sims:
        found = _SIM_TOTALS.search(proc.stdout.read() if proc.stdout else "")
        total += int(found.group(2)) if found else 0
    return total


async def _setup(opts, db_url: str) -> tuple[int, int]:
    from backend.db import close_db, init_db, migrate
    from backend.households.models import Household
    from backend.plugs.fleet_model import FleetModel
    from backend.plugs.simulator import register_fleet
    from backend.settings import Settings

    settings = Settings(database_url=db_url, env="development")
    await migrate(settings)
    await init_db(settings)
    try:
        per = max(1, opts.households // opts.simulators)
        await Household.bulk_create([Household(name=f"Bench {i}", invite_code=f"B{i:09d}")
                                     for i in range(per * opts.simulators)], batch_size=5_000)
        ids = list(await Household.all().order_by("id").values_list("id", flat=True))
        plugs = 0
        channels: dict[str, int] = {}  # vendor -> plugs that are outlets of multi-channel devices
        for i in range(opts.simulators):
            fleet = FleetModel(per, seed=1000 + i, report_interval_s=opts.report_interval,
                               strip_share=opts.strip_share)
            plugs += await register_fleet(fleet, ids[i * per:(i + 1) * per])
            devices: dict[tuple[str, str], int] = {}
            for p in fleet.plugs:
                devices[(p.vendor.value, p.device_id)] = devices.get((p.vendor.value, p.device_id), 0) + 1
            for (vendor, _), n in devices.items():
                if n > 1:
                    channels[vendor] = channels.get(vendor, 0) + n
        return plugs, channels
    finally:
        await close_db()


async def _drain(opts, seconds: float) -> dict:
    """Reference A: count what a do-nothing consumer receives while the simulators run."""
    from backend.plugs.mqtt import MqttClient
    from backend.plugs.vendors import SUBSCRIPTIONS
    from backend.settings import Settings

    host, port = Settings(mqtt_url=opts.mqtt_url).mqtt_address
    counted = [0]
    client: MqttClient

    def on_message(topic, payload, qos, packet_id, dup):
        counted[0] += 1
        if packet_id is not None:
            client.ack(packet_id)

    client = MqttClient(host, port, f"bench-drain-{uuid.uuid4().hex[:6]}", on_message=on_message, clean_start=True)
    await client.connect()
    await client.subscribe(list(SUBSCRIPTIONS))
    await asyncio.sleep(3)  # let the simulators get going
    start, n0 = time.monotonic(), counted[0]
    await asyncio.sleep(seconds)
    elapsed, n = time.monotonic() - start, counted[0] - n0
    await client.disconnect()
    return {"messages": n, "seconds": round(elapsed, 2), "messages_per_s": round(n / elapsed)}


def _stop(procs: list[subprocess.Popen]) -> None:
    """Wait for simulators to finish their ``--duration``; stop any still draining a backlog."""
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:  # a loaded machine: it is still draining its backlog
                proc.kill()
                proc.wait()


async def _rows(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM plug_reading"))
    finally:
        await conn.close()


def _cpu_seconds(procs: list) -> float:
    """CPU seconds used so far by the given psutil processes (ended ones count as 0)."""
    import psutil

    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _participants(bridges: list[subprocess.Popen], sims: list[subprocess.Popen]) -> dict[str, list]:
    """The processes that share this machine's cores during the measured run."""
    import psutil

    def named(prefix: str) -> list:
        return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith(prefix)]
    return {"bridge": [psutil.Process(b.pid) for b in bridges], "simulators": [psutil.Process(p.pid) for p in sims],
            "mosquitto": named("mosquitto"), "postgres": named("postgres")}


def _start_bridges(opts, db_url: str, count: int) -> list[tuple[str, subprocess.Popen, Path]]:
    """``count`` bridge processes; more than one share the load via an MQTT shared subscription."""
    group = f"bench{uuid.uuid4().hex[:6]}" if count > 1 else ""
    bridges = []
    for i in range(count):
        client_id = f"bench-bridge-{uuid.uuid4().hex[:6]}"
        log_path = REPO_ROOT / "var" / "bench-ingest" / f"bridge-{i}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log_file:
            proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "mqtt-bridge"],
                                    stderr=log_file, stdout=log_file,
                                    env=_env(db_url, opts, PVPP_MQTT_CLIENT_ID=client_id, PVPP_LOG_LEVEL="INFO",
                                             PVPP_LOG_FORMAT="json", PVPP_MQTT_SHARED_GROUP=group))
        bridges.append((client_id, proc, log_path))
    return bridges


def _bridge_totals(log_path: Path) -> dict:
    return next((json.loads(line) for line in log_path.read_text().splitlines() if '"bridge_stopped"' in line), {})


async def _measured(opts, db_url: str, dsn: str, bridge_count: int) -> dict:
    from backend.plugs.mqtt import forget_session
    from backend.settings import Settings

    bridges = _start_bridges(opts, db_url, bridge_count)
    await asyncio.sleep(3)
    sims = _simulators(opts, db_url, opts.warmup + opts.duration + 5)
    try:
        await asyncio.sleep(opts.warmup)
        procs = _participants([proc for _, proc, _ in bridges], sims)
        rows0, t0 = await _rows(dsn), time.monotonic()
        cpu0 = {name: _cpu_seconds(group) for name, group in procs.items()}
        samples = []
        while time.monotonic() - t0 < opts.duration:
            await asyncio.sleep(10)
            samples.append((round(time.monotonic() - t0, 1), await _rows(dsn)))
            progress(f"  {samples[-1][1] - rows0:,} readings stored in {samples[-1][0]} s")
        rows1, t1 = await _rows(dsn), time.monotonic()
        cpu1 = {name: _cpu_seconds(group) for name, group in procs.items()}
    finally:
        _stop(sims)
        await asyncio.sleep(3)  # let the bridges drain what the broker still holds
        for client_id, proc, _ in bridges:
            proc.terminate()
            proc.wait(60)
            # the bridge's persistent session would otherwise go on collecting plug messages
            await forget_session(*Settings(mqtt_url=opts.mqtt_url).mqtt_address, client_id)
    published = _published(sims)
    totals = [_bridge_totals(log_path) for _, _, log_path in bridges]
    elapsed = t1 - t0
    return {"bridges": bridge_count, "readings": rows1 - rows0, "seconds": round(elapsed, 2),
            "readings_per_s": round((rows1 - rows0) / elapsed),
            "bridge_cpu_share": round((cpu1["bridge"] - cpu0["bridge"]) / elapsed, 2),
            "cpu_cores_used": {name: round((cpu1[name] - cpu0[name]) / elapsed, 2) for name in cpu0},
            "samples": [(s, r - rows0) for s, r in samples], "final_rows": await _rows(dsn),
            "messages_published": published,
            "messages_received_by_bridges": sum(t.get("messages") or 0 for t in totals),
            "bridge_totals": [{k: t.get(k) for k in ("messages", "stored", "duplicates", "rejected")} for t in totals]}


async def _raw_copy(dsn: str, rows: int, batch: int) -> dict:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        plug_ids = [r["id"] for r in await conn.fetch("SELECT id FROM plug")]
        base = datetime.now(UTC) - timedelta(hours=1)
        rng = random.Random(7)
        records = [(plug_ids[i % len(plug_ids)], base + timedelta(microseconds=i * 7 + 1_000_003),
                    rng.uniform(0, 200), 1000.0 + i, base) for i in range(rows)]
        start = time.perf_counter()
        for i in range(0, rows, batch):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "plug_reading", records=records[i:i + batch],
                    columns=["plug_id", "ts", "power_w", "counter_wh", "received_at"])
        elapsed = time.perf_counter() - start
    finally:
        await conn.close()
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


async def _run(opts) -> dict:
    scratch = f"pvpp_bench_ingest_{uuid.uuid4().hex[:8]}"
    db_url = _with_database(opts.admin_url, scratch)
    await _admin(opts.admin_url, f'CREATE DATABASE "{scratch}"')
    with _private_broker(opts):
        return await _run_on_broker(opts, scratch, db_url)


async def _run_on_broker(opts, scratch: str, db_url: str) -> dict:
    progress(f"broker: {opts.mqtt_url}")
    try:
        progress(f"set-up: {opts.households} households on {scratch}")
        plugs, by_vendor = await _setup(opts, db_url)
        channel_plugs = sum(by_vendor.values())
        outlets = ", ".join(f"{vendor} {n}" for vendor, n in sorted(by_vendor.items()))
        progress(f"{plugs} plugs paired ({channel_plugs} of them outlets of multi-channel devices: {outlets}), "
                 f"each reporting every {opts.report_interval} s "
                 f"(offered load ≈ {plugs / opts.report_interval:,.0f} readings/s)")
        progress(f"reference A: minimal consumer for {opts.reference_seconds} s")
        sims = _simulators(opts, db_url, opts.reference_seconds + 5)
        drain = await _drain(opts, opts.reference_seconds)
        _stop(sims)
        progress(f"  {drain['messages_per_s']:,} messages/s")
        progress(f"measured run: bridge for {opts.warmup} s warm-up + {opts.duration} s")
        measured = await _measured(opts, db_url, _asyncpg_dsn(db_url), 1)
        progress(f"  {measured['readings_per_s']:,} readings/s end to end")
        scale_out = None
        if opts.scale_out_bridges > 1:
            progress(f"scale-out: {opts.scale_out_bridges} bridges on a shared subscription, same load")
            scale_out = await _measured(opts, db_url, _asyncpg_dsn(db_url), opts.scale_out_bridges)
            progress(f"  {scale_out['readings_per_s']:,} readings/s end to end")
        progress(f"reference B: raw COPY of {opts.copy_rows:,} rows")
        copy = await _raw_copy(_asyncpg_dsn(db_url), opts.copy_rows, 5_000)
        progress(f"  {copy['rows_per_s']:,} rows/s")
    finally:
        await _admin(opts.admin_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return {"plugs": plugs, "multi_channel_plugs": channel_plugs, "multi_channel_plugs_by_vendor": by_vendor,
            "households": opts.households,
            "report_interval_s": opts.report_interval,
            "broker": "private mosquitto: " + "; ".join(BROKER_CONFIG) if "PVPP_BENCH_MQTT_URL" not in os.environ
            else opts.mqtt_url,
            "simulators": opts.simulators, "minimal_consumer": drain, "end_to_end": measured, "raw_copy": copy,
            "scale_out": scale_out,
            "ratio_vs_minimal_consumer_messages": round(measured["readings_per_s"] / drain["messages_per_s"], 3),
            "ratio_vs_raw_copy": round(measured["readings_per_s"] / copy["rows_per_s"], 3),
            "goal_readings_per_s": GOAL_READINGS_PER_S,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "at": datetime.now(UTC).isoformat(timespec="seconds")}


def main(args: list[str]) -> int:
    opts = parse_args(args)
    result = asyncio.run(_run(opts))
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    return 0
