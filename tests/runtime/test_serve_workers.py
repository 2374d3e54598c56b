"""``pvpp serve`` starts one worker per core on PostgreSQL and one on SQLite (a single writer)."""

from __future__ import annotations

import os

from backend.runtime.serve import default_workers
from backend.settings import Settings


def test_one_worker_per_usable_core_on_postgresql(tmp_path):
    settings = Settings(var_dir=tmp_path, database_url="postgres://postgres@127.0.0.1:5432/x")
    assert default_workers(settings) == len(os.sched_getaffinity(0))


def test_one_worker_on_sqlite(tmp_path):
    assert default_workers(Settings(var_dir=tmp_path, database_url=f"sqlite://{tmp_path}/db.sqlite3")) == 1
    assert default_workers(Settings(var_dir=tmp_path)) == 1  # the embedded default
