"""Rewards: turning saved kWh into points, and points into volunteer minutes, mileage and coins.

Pure logic only. :mod:`backend.rewards.formula` loads the programme year's conversion rules from
``data/conversion.<year>.json`` (every number lives there, with its source), validates them, and
provides pure functions that take plain numbers and return result dataclasses saying what was
converted, what was left over or capped, and why. See ``docs/conversion.md``.
"""
