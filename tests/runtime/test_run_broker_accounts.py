"""``pvpp run``'s embedded broker is not open: it starts with the platform's password and ACL
files in ``var/mqtt``, refuses anonymous clients and wrong passwords, and the demo still works —
the simulator's devices log in with accounts issued as pairing issues them, and the bridge
stores their readings."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from backend.plugs.broker_auth import parse_acl, parse_passwd
from backend.plugs.mqtt import MqttClient, MqttError
from tests.runtime.test_pvpp_run import REPO_ROOT, SIGN_IN, running_platform

pytestmark = pytest.mark.slow

PLUGS = ("query($h: ID!) { plugs(householdId: $h) { ... on PlugList { items { name powerW } } } }")


def child_env(platform, command: str) -> dict[str, str]:
    """The environment ``pvpp run`` gave one of its children."""
    for proc in platform.descendants():
        if command in " ".join(proc.cmdline()):
            return proc.environ()
    raise AssertionError(f"no {command} child: {platform.output()}")


async def connects(port: int, username: str | None, password: str | None) -> bool:
    client = MqttClient("127.0.0.1", port, f"probe-{uuid.uuid4().hex[:6]}", version=4, clean_start=True,
                        username=username, password=password)
    try:
        await asyncio.wait_for(client.connect(), 10)
    except (MqttError, OSError, TimeoutError):
        return False
    await client.disconnect()
    return True


def test_embedded_broker_enforces_accounts_and_readings_still_arrive(tmp_path: Path) -> None:
    # what is checked here is the broker, not start-up speed (test_pvpp_run.py): a loaded machine may be slow
    with running_platform(tmp_path, "--no-demo-data", healthy_within=300) as platform:
        port = int(re.search(r"embedded MQTT broker on 127\.0\.0\.1:(\d+)", platform.output()).group(1))
        env = child_env(platform, "mqtt-bridge")
        var = tmp_path / "var" / "mqtt"
        assert env["PVPP_MQTT_PASSWORD_FILE"] == str(var / "passwd") and env["PVPP_MQTT_ACL_FILE"] == str(var / "acl")
        bridge = env["PVPP_MQTT_USERNAME"]
        assert bridge in parse_passwd((var / "passwd").read_text())
        assert asyncio.run(connects(port, None, None)) is False  # anonymous
        assert asyncio.run(connects(port, bridge, "not-the-password")) is False
        assert asyncio.run(connects(port, bridge, env["PVPP_MQTT_PASSWORD"])) is True

        # what `pvpp run` does after the demo history: the accounts, then the simulator
        def cli(*args: str, timeout: float = 120) -> str:
            done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=REPO_ROOT, env=env,
                                  capture_output=True, text=True, timeout=timeout)
            assert done.returncode == 0, done.stdout + done.stderr
            return done.stdout

        cli("demo-data", "--accounts-only", "--no-progress")
        out = cli("simulate-plugs", "--households", "2", "--register", "--report-interval", "1", "--duration", "12")
        assert "log in with their own broker accounts" in out, out
        users = parse_passwd((var / "passwd").read_text())
        assert len([u for u in users if u.startswith("plug-")]) >= 2, users
        rules = parse_acl((var / "acl").read_text())
        assert not any(rules[u].may_write("tele/someone-else/SENSOR") for u in users if u.startswith("plug-"))
        with httpx.Client(trust_env=False, timeout=10) as http:
            def graphql(query, variables=None, token=None):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                r = http.post(f"{platform.base_url}/graphql", json={"query": query, "variables": variables or {}},
                              headers=headers)
                return r.json()["data"]

            token = graphql(SIGN_IN, {"e": "parent1@demo.pvpp.kr", "p": "demo-Parent-1!"})["signIn"]["accessToken"]
            household = graphql("{ me { household { id } } }", token=token)["me"]["household"]["id"]
            plugs = graphql(PLUGS, {"h": household}, token)["plugs"]["items"]
        assert plugs and any(p["powerW"] is not None for p in plugs), plugs
        assert psutil.Process(platform.proc.pid).is_running()
