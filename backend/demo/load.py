"""Load the demo: people and places, then the planned history, once per size and seed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from backend.codes import local_today
from backend.demo.apply import Loader
from backend.demo.models import DemoLoad
from backend.demo.plan import DemoConfig, make_plan
from backend.demo import photos as demo_photos
from backend.settings import Settings

Progress = Callable[[int, int, str], None]


async def anchor_day(settings: Settings):
    """The first load's day: later loads (any size) keep the same dates."""
    first = await DemoLoad.all().order_by("id").first()
    return first.anchor if first else local_today(settings.display_timezone)


async def load_history(settings: Settings, config: DemoConfig = DemoConfig(),
                       progress: Progress | None = None, now: datetime | None = None) -> dict | None:
    """Create the demo and its history; None when this size and seed were loaded before."""
    row = await DemoLoad.get_or_none(seed=config.seed, households=config.households, days=config.days)
    if row is not None and row.finished_at is not None:
        return None
    anchor = row.anchor if row else await anchor_day(settings)
    if row is None:
        row = await DemoLoad.create(seed=config.seed, households=config.households, days=config.days, anchor=anchor)
    started = time.perf_counter()
    plan = make_plan(config, anchor, pictures=len(demo_photos.picture_pool()))
    # an interrupted load repeats the same history: up to the moment the first attempt started
    loader = Loader(plan, settings, now or min(row.started_at, datetime.now(UTC)))
    steps = loader.timeline()
    total, done = len(steps), [0]

    def step_done(label: str, _when: datetime) -> None:
        done[0] += 1
        if progress:
            progress(done[0], total, label)

    summary = (await loader.run(step_done)).to_json()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    row.finished_at = datetime.now(UTC)
    row.summary = summary
    await row.save(update_fields=["finished_at", "summary"])
    return summary
