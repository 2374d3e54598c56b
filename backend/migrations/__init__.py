"""Committed Tortoise migrations for the ``pvpp`` app."""
