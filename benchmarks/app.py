"""``pvpp bench app``: the family app's cold start beside a bare Kivy window, and the sync of 500
queued activities against a local server (SQLite, embedded Redis, demo data).

Cold start is measured from just before the process is started to its first drawn frame
(``Window.on_flip``) with the first screen built: for the app the sign-in screen (no session) and
the signed-in home with its figures loaded from the server; for the reference a bare ``App`` with
one ``Label``. Runs alternate between the three; medians are reported. Goals: app ≤ 1.5 s and
≤ 2× the bare window; 500 activities synced in ≤ 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
import os, sys, time
from kivy.app import App
from kivy.uix.label import Label
from kivy.core.window import Window
class Bare(App):
    def build(self):
        Window.bind(on_flip=self.flip)
        return Label(text="People's VPP")
    def flip(self, *a):
        print("FIRST_FRAME", time.time(), flush=True); self.stop()
Bare().run()
"""

APP = """
import asyncio, time
from kivy.clock import Clock
from mobile.app import PvppApp
app = PvppApp()
async def watch():
    from kivy.core.window import Window
    while not (app.sm and app.sm.current_screen is not None and app.sm.current_screen.loaded):
        await asyncio.sleep(0.005)
    frames = Clock.frames_displayed
    while Clock.frames_displayed < frames + 1:
        await asyncio.sleep(0.002)
    print("FIRST_FRAME", time.time(), flush=True)
    app.stop()
async def main():
    t = asyncio.ensure_future(watch())
    await app.async_run(async_lib="asyncio")
    await t
asyncio.run(main())
"""


def cold_start(code: str, env: dict[str, str]) -> float:
    script = Path(env["KIVY_HOME"]).parent / f"start_{abs(hash(code))}.py"
    if not script.exists():
        script.write_text(code)  # Kivy looks for the App's source file (its kv), so not `python -c`
    start = time.time()
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    for line in done.stdout.splitlines():
        if line.startswith("FIRST_FRAME"):
            return float(line.split()[1]) - start
    raise RuntimeError(f"no first frame: {done.stdout[-500:]} {done.stderr[-2000:]}")


def activities(n: int) -> list[tuple[str, str, dict]]:
    """n reports over the last 30 days, cycling through the no-photo activity types."""
    kinds = [("gaming_reduced", {"device": "pc", "hours": "1"}), ("phone_charging_reduced", {"charges": "1"}),
             ("standby_unplugged", {"devices": 2, "hours": "6"}),
             ("laundry_off_peak", {"loads": 1, "start_hour": 23}), ("policy_proposal", {})]
    today = date.today()
    return [(kinds[i % len(kinds)][0], (today - timedelta(days=(i // len(kinds)) % 30)).isoformat(),
             kinds[i % len(kinds)][1]) for i in range(n)]


async def sync_queue(url: str, data_dir: Path, n: int) -> dict:
    from mobile.api.client import GraphQLClient
    from mobile.api.tokens import TokenStore
    from mobile.outbox import DONE, REJECTED, Outbox

    client = GraphQLClient(url, TokenStore(data_dir / "session.json"))
    await client.sign_in("student2@demo.pvpp.kr", "demo-Student-2!")
    box = Outbox(data_dir / "outbox.sqlite3")
    for kind, day, params in activities(n):
        box.add_activity(kind, day, params)
    start = time.perf_counter()
    while box.waiting_count():
        report = await box.flush(client, force=True)
        if report.stopped_by:
            raise RuntimeError(f"sync stopped: {report}")
    seconds = time.perf_counter() - start
    done, rejected = len(box.actions(DONE)), len(box.actions(REJECTED))
    reasons: dict[str, int] = {}
    for a in box.actions(REJECTED):
        key = (a.last_error or {}).get("details", {}).get("limit") or (a.last_error or {}).get("typename")
        reasons[key] = reasons.get(key, 0) + 1
    box.close()
    await client.aclose()
    return {"actions": n, "seconds": round(seconds, 2), "accepted": done, "rejected": rejected,
            "rejections": reasons, "per_second": round(n / seconds, 1)}


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pvpp bench app", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--activities", type=int, default=500)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "app.json"))
    opts = parser.parse_args(args)
    sys.path.insert(0, str(ROOT))
    from tests.mobile.server import STUDENT, Backend

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = dict(os.environ, SDL_VIDEODRIVER=os.environ.get("SDL_VIDEODRIVER", "offscreen"), KIVY_NO_ARGS="1",
                   KIVY_NO_CONSOLELOG="1", KIVY_HOME=str(tmp_path / "kivy"), PVPP_APP_LANG="ko")
        print("starting a local server (SQLite, embedded Redis, demo data)…", flush=True)
        backend = Backend(tmp_path / "server").setup()
        try:
            signed_in = tmp_path / "signed-in"
            signed_in.mkdir()
            from mobile.api.tokens import TokenStore

            data = backend.graphql("mutation($e:String!,$p:String!){ signIn(email:$e,password:$p)"
                                   "{ ... on AuthPayload { accessToken refreshToken } } }",
                                   {"e": STUDENT[0], "p": STUDENT[1]})["signIn"]
            TokenStore(signed_in / "session.json").save(data["accessToken"], data["refreshToken"])
            targets = {
                "bare_kivy": (BARE, env),
                "app_signin": (APP, env | {"PVPP_APP_DATA_DIR": str(tmp_path / "fresh"), "PVPP_APP_SERVER": backend.url}),
                "app_home": (APP, env | {"PVPP_APP_DATA_DIR": str(signed_in), "PVPP_APP_SERVER": backend.url}),
            }
            times: dict[str, list[float]] = {k: [] for k in targets}
            cold_start(BARE, env)  # warm the file cache once, unmeasured
            for r in range(opts.rounds):
                for name, (code, target_env) in targets.items():
                    times[name].append(cold_start(code, target_env))
                print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), flush=True)
            print(f"syncing {opts.activities} queued activities…", flush=True)
            (tmp_path / "sync").mkdir()
            sync = asyncio.run(sync_queue(backend.url, tmp_path / "sync", opts.activities))
        finally:
            backend.close()
    medians = {k: round(statistics.median(v), 3) for k, v in times.items()}
    result = {
        "cold_start_seconds": medians, "cold_start_runs": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "ratio_signin_to_bare": round(medians["app_signin"] / medians["bare_kivy"], 2),
        "ratio_home_to_bare": round(medians["app_home"] / medians["bare_kivy"], 2),
        "goal_cold_start": medians["app_signin"] <= 1.5 and medians["app_signin"] <= 2 * medians["bare_kivy"],
        "sync": sync, "goal_sync": sync["seconds"] <= 30,
        "machine": f"{os.cpu_count()} cores, shared", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(opts.output).parent.mkdir(parents=True, exist_ok=True)
    Path(opts.output).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0
