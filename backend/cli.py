"""The ``pvpp`` command line: one sub-command per operational task."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from backend.settings import SettingsError, get_settings


def _cmd_run(args: argparse.Namespace) -> int:
    from backend.runtime.supervisor import run_platform

    return run_platform(get_settings(), with_demo_data=not args.no_demo_data)


def _cmd_serve(args: argparse.Namespace) -> int:
    from backend.runtime.serve import serve

    return serve(get_settings(), workers=args.workers)


def _cmd_worker(args: argparse.Namespace) -> int:
    from workers.main import run_worker

    return run_worker(get_settings())


def _cmd_mqtt_bridge(args: argparse.Namespace) -> int:
    from backend.plugs.bridge import run_bridge_cli

    return run_bridge_cli(get_settings())


def _cmd_broker_sync(args: argparse.Namespace) -> int:
    from backend.db import close_db, init_db
    from backend.plugs.broker_sync import sync_broker

    settings = get_settings()

    async def sync() -> int | None:
        await init_db(settings)
        try:
            return await sync_broker(settings)
        finally:
            await close_db()

    written = asyncio.run(sync())
    if written is None:
        print("PVPP_MQTT_PASSWORD_FILE and PVPP_MQTT_ACL_FILE are not set: nothing to write")
        return 1
    print(f"broker files written: {written} plug accounts")
    return 0


def _cmd_simulate_plugs(args: argparse.Namespace) -> int:
    from backend.plugs.simulator import simulate_cli_main

    settings = get_settings()
    if args.transport == "mqtt":
        settings.mqtt_address  # noqa: B018 - a clear error when PVPP_MQTT_URL is unset
    return asyncio.run(simulate_cli_main(settings, args.households, args.seed, args.register,
                                         args.report_interval, args.duration, args.transport, args.api_url,
                                         args.strip_share))


def _cmd_migrate(args: argparse.Namespace) -> int:
    from backend.db import migrate

    asyncio.run(migrate(get_settings()))
    print("migrations applied")
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from backend.demo import load_demo_data_cli

    return load_demo_data_cli(get_settings(), households=args.households, days=args.days, seed=args.seed,
                              show_progress=not args.no_progress, accounts_only=args.accounts_only)


def _cmd_export_schema(args: argparse.Namespace) -> int:
    from backend.graphql.export import export_schema

    return export_schema(check=args.check, path=args.path)


def _cmd_bench(args: argparse.Namespace) -> int:
    from backend.bench import run_benchmark

    return run_benchmark(args.name, args.rest)


def _cmd_ml(args: argparse.Namespace) -> int:
    if args.rest[:1] == ["export-reviewed"]:
        from backend.photos.export import main as export_reviewed

        return export_reviewed(args.rest[1:], get_settings())
    from ml_models.photo_classifier.cli import main as ml_main

    return ml_main(args.rest)


def _cmd_ledger_verify(args: argparse.Namespace) -> int:
    from backend.ledger.verify import verify_ledger_cli

    return verify_ledger_cli(get_settings(), args.verifier_key)


def _cmd_ledger_build_nodes(args: argparse.Namespace) -> int:
    from backend.ledger.verify import build_nodes_cli

    return build_nodes_cli(get_settings())


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pvpp", description="People's VPP platform")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    p = add("run", _cmd_run, "start everything for local use: embedded Redis, migrations, demo data, API and worker")
    p.add_argument("--no-demo-data", action="store_true", help="do not load the demo data")
    p = add("serve", _cmd_serve, "serve the API with uvicorn (PVPP_HOST, PVPP_PORT)")
    p.add_argument("--workers", type=int, default=None,
                   help="uvicorn worker processes (default: one per core on PostgreSQL, 1 on SQLite)")
    add("worker", _cmd_worker, "run the arq worker (PVPP_REDIS_URL)")
    add("mqtt-bridge", _cmd_mqtt_bridge,
        "take smart-plug readings from the MQTT broker (PVPP_MQTT_URL) into the database")
    add("broker-sync", _cmd_broker_sync,
        "write Mosquitto's password and ACL files from the paired plugs and reload the broker")
    p = add("simulate-plugs", _cmd_simulate_plugs,
            "publish realistic Tasmota/Shelly plug telemetry to the broker and obey switch commands, "
            "or push HTTP plugs' readings to the API (--transport http)")
    p.add_argument("--households", type=int, default=10, help="simulated households (2-5 plugs each)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same fleet")
    p.add_argument("--register", action="store_true",
                   help="pair the simulated plugs to existing households first (needs the database)")
    p.add_argument("--report-interval", type=float, default=None, metavar="SECONDS",
                   help="override every plug's reporting interval (load tests)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this long")
    p.add_argument("--transport", choices=("mqtt", "http"), default="mqtt",
                   help="mqtt: Tasmota/Shelly plugs on PVPP_MQTT_URL; http: HTTP plugs pushing batches with "
                        "pushPlugReadings (needs --register, which hands each plug its token)")
    p.add_argument("--api-url", default=None, metavar="URL",
                   help="GraphQL endpoint for --transport http (default http://PVPP_HOST:PVPP_PORT/graphql)")
    p.add_argument("--strip-share", type=float, default=0.0, metavar="SHARE",
                   help="share of households whose Shelly plugs are the outlets of one multi-outlet device "
                        "(Pro 4PM switch:N, Shelly 4Pro relay/N)")
    add("migrate", _cmd_migrate, "apply database migrations")
    p = add("demo-data", _cmd_demo_data,
            "load the demo: Naju, two schools, families, the documented accounts and a seeded history of "
            "activities, photos, plug readings, DR events and a settled month (idempotent)")
    p.add_argument("--households", type=int, default=30, help="families (the first two are the demo accounts)")
    p.add_argument("--days", type=int, default=60, help="days of history before today")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same history")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    p.add_argument("--accounts-only", action="store_true",
                   help="only the documented accounts, no history (what `pvpp run` does before starting)")
    p = add("export-schema", _cmd_export_schema, "write the GraphQL SDL to schema.graphql")
    p.add_argument("--check", action="store_true", help="fail if the file differs from the schema")
    p.add_argument("--path", default="schema.graphql", help="where the SDL lives")
    p = add("bench", _cmd_bench, "run a benchmark from benchmarks/ (e.g. 'api')")
    p.add_argument("name", help="benchmark name")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options passed to the benchmark")
    p = add("ml", _cmd_ml, "photo classifier: export (needs the 'ml' extra), train, evaluate, export-reviewed")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="the ml command and its options (see pvpp ml --help)")
    ledger = sub.add_parser("ledger", help="ledger operations", description="ledger operations")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="LEDGER_COMMAND")
    help_ = "check every entry, checkpoint signature and balance; exit 1 if anything is wrong"
    p = ledger_sub.add_parser("verify", help=help_, description=help_)
    p.set_defaults(handler=_cmd_ledger_verify)
    p.add_argument("--verifier-key", metavar="VKEY",
                   help="published verifier key name+hexid+base64 (default: the key from the settings)")
    help_ = "store the Merkle nodes that serve proofs for a ledger written before they existed (idempotent)"
    p = ledger_sub.add_parser("build-nodes", help=help_, description=help_)
    p.set_defaults(handler=_cmd_ledger_build_nodes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SettingsError as exc:
        print(f"pvpp: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
