"""``pvpp demo-data``: the documented accounts plus a seeded history, with a progress bar."""

from __future__ import annotations

import asyncio

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backend.db import close_db, init_db
from backend.demo.accounts import DEMO_USERS, load_demo_data, sign_in_table
from backend.demo.plan import DemoConfig
from backend.settings import Settings


def load_demo_data_cli(settings: Settings, households: int = 30, days: int = 60, seed: int = 0,
                       show_progress: bool = True, accounts_only: bool = False) -> int:
    from backend.demo.load import load_history

    config = DemoConfig(households=households, days=days, seed=seed)

    async def _run() -> dict | None:
        await init_db(settings)
        try:
            if accounts_only:
                await load_demo_data()
                return {}
            with Progress(TextColumn("demo history: {task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), disable=not show_progress, transient=False) as bar:
                task = bar.add_task("planning", total=None)

                def progress(done: int, total: int, label: str) -> None:
                    bar.update(task, completed=done, total=total, description=label)

                return await load_history(settings, config, progress)
        finally:
            await close_db()

    summary = asyncio.run(_run())
    if summary == {}:
        print("demo accounts ready (no history: run `pvpp demo-data` for it)")
    elif summary is None:
        print(f"demo history already loaded ({households} households, {days} days, seed {seed}): nothing to do")
    else:
        print("demo history loaded: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    users = list(DEMO_USERS.values())
    print(sign_in_table(users))
    print(
        "\nExample:\n  curl -s http://%s:%d/graphql -H 'content-type: application/json' \\\n"
        "    -d '{\"query\":\"mutation { signIn(email: \\\"%s\\\", password: \\\"%s\\\") "
        "{ __typename ... on AuthPayload { accessToken } } }\"}'"
        % (settings.host, settings.port, users[5].email, users[5].password)
    )
    return 0
