"""The living demo: Naju's schools and families with about 60 days of history.

:mod:`backend.demo.plan` decides what happens (pure, seeded); :mod:`backend.demo.apply` makes it
happen through the real services; :mod:`backend.demo.load` runs it once per size and seed.
"""

from backend.demo.accounts import DEMO_USERS, DemoUser, load_demo_data, sign_in_table
from backend.demo.cli import load_demo_data_cli

__all__ = ["DEMO_USERS", "DemoUser", "load_demo_data", "load_demo_data_cli", "sign_in_table"]
