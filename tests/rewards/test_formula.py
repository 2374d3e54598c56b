"""The conversion formula: every worked example of docs/conversion.md, caps, rounding, bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from backend.activities.catalogue import deemed_savings_kwh, load_catalogue
from backend.errors import ValidationFailed
from backend.rewards.formula import (
    DATA_DIR, RulesError, avoided_co2_kg, convert_to_coins, convert_to_mileage,
    convert_to_volunteer_minutes, kwh_to_points, load_rules, neis_split, rules_from_dict,
)

R = load_rules(2026)
RAW = json.loads((DATA_DIR / "conversion.2026.json").read_text(encoding="utf-8"))
DOC = Path(__file__).resolve().parents[2] / "docs" / "conversion.md"
EXAMPLES = [json.loads(block) for block in re.findall(r"```json example\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)]


def run_step(call: str, args: dict):
    if call == "deemed_savings_kwh":
        return {"kwh": deemed_savings_kwh(load_catalogue().get(args["activity"]), args["params"])}
    fn = {"kwh_to_points": kwh_to_points, "convert_to_mileage": convert_to_mileage,
          "convert_to_volunteer_minutes": convert_to_volunteer_minutes, "convert_to_coins": convert_to_coins}[call]
    return dataclasses.asdict(fn(**args, rules=R))


def test_doc_has_the_worked_examples():
    assert [e["example"] for e in EXAMPLES] == list(range(1, 9))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"example{e['example']}")
def test_worked_example_from_doc(example):
    for step in example["steps"]:
        got = run_step(step["call"], step["args"])
        for key, want in step["expect"].items():
            if isinstance(got[key], Decimal):
                assert got[key] == Decimal(want) and str(got[key]) == want, (step, key)
            else:
                assert got[key] == want, (step, key)


def test_worked_examples_as_literals():
    """The same numbers as the doc, written out, so a broken doc parser cannot hide a regression."""
    pc = load_catalogue().get("gaming_reduced")
    assert deemed_savings_kwh(pc, {"device": "pc", "hours": 2}) == Decimal("0.600")  # example 1
    assert kwh_to_points("0.600", "deemed", False, R).points == 300  # example 1
    v = convert_to_volunteer_minutes(300, 0, 0, R)  # example 1
    assert (v.minutes, v.points_used, v.points_left) == (7, 280, 20)
    assert kwh_to_points("1.5", "measured", True, R).points == 3000  # example 2
    assert convert_to_mileage(3000, R).won == 1950  # example 2
    v = convert_to_volunteer_minutes(12000, 0, 200, R)  # example 3
    assert (v.minutes, v.points_left, v.capped_by, v.neis_hours_month) == (40, 10400, "monthly_cap", 4)
    c = convert_to_coins(7500, 0, 1_000_000, R)  # example 4
    assert (c.coins_won, c.mileage_left, c.capped_by) == (5000, 2500, None)
    c = convert_to_coins(12000, 5000, 1_000_000, R)  # example 5
    assert (c.coins_won, c.mileage_left, c.capped_by) == (5000, 7000, "monthly_cap")
    c = convert_to_coins(10000, 0, 3000, R)  # example 6
    assert (c.coins_won, c.mileage_left, c.capped_by) == (0, 10000, "budget")
    assert convert_to_mileage(30000, R).won == 19500  # example 7
    assert kwh_to_points("0.006", "deemed", False, R).points == 3  # example 8


def test_defaults_and_their_grounding():
    assert (R.points_per_kwh, R.weight("measured"), R.weight("deemed"), R.weight("none")) == (1000, 1, Decimal("0.5"), 0)
    assert R.dr_event_multiplier == 2
    assert (R.max_minutes_per_day, R.max_minutes_per_month, R.neis_unit_minutes) == (480, 240, 60)
    assert (R.coin_threshold_won, R.coin_unit_won, R.coin_max_won_per_month) == (5000, 5000, 10000)
    # one measured kWh in a DR event is worth the 2019 KPX citizen DR price, within ₩1,300–1,600
    won = convert_to_mileage(kwh_to_points(1, "measured", True, R).points, R).won
    assert won == 1300 and 1300 <= won <= 1600
    # the 3·3·3 saving (3 % of ~330 kWh ≈ 10 kWh measured) reaches the 4 h monthly cap
    assert convert_to_volunteer_minutes(kwh_to_points(10, "measured", False, R).points, 0, 0, R).minutes == 240
    assert avoided_co2_kg(1000, R) == Decimal("417.300")


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize("kwh,basis,event,points", [
    ("0.0019", "measured", False, 1), ("0.0009", "measured", False, 0), ("0.0039", "deemed", False, 1),
    ("0.0039", "deemed", True, 3), ("0.5", "none", True, 0), ("0", "measured", False, 0),
    ("1000", "measured", True, 2_000_000), (Decimal("0.1"), "measured", False, 100), (0.1, "deemed", False, 50),
])
def test_points_round_down(kwh, basis, event, points):
    assert kwh_to_points(kwh, basis, event, R).points == points


def test_mileage_whole_blocks_and_neis_split():
    m = convert_to_mileage(39, R)
    assert (m.won, m.points_used, m.points_left) == (13, 20, 19)
    assert convert_to_mileage(0, R).won == 0
    assert neis_split(119, R) == (1, 59) and neis_split(120, R) == (2, 0)
    v = convert_to_volunteer_minutes(79, 0, 0, R)
    assert (v.minutes, v.points_left) == (1, 39)


# --------------------------------------------------------------------------- caps


def test_daily_cap_of_eight_hours():
    wide = dataclasses.replace(R, max_minutes_per_month=1200)
    v = convert_to_volunteer_minutes(40 * 1000, 300, 300, wide)
    assert (v.minutes, v.capped_by, v.today_minutes_after) == (180, "daily_cap", 480)
    assert v.points_left == 40 * 1000 - 180 * 40
    v = convert_to_volunteer_minutes(40 * 1000, 480, 480, wide)
    assert (v.minutes, v.capped_by, v.points_left) == (0, "daily_cap", 40_000)


def test_monthly_cap_reached_and_already_over():
    v = convert_to_volunteer_minutes(10_000, 0, 240, R)
    assert (v.minutes, v.capped_by, v.points_left) == (0, "monthly_cap", 10_000)
    v = convert_to_volunteer_minutes(10_000, 0, 300, R)  # over a cap lowered mid-year: nothing, no error
    assert v.minutes == 0 and v.capped_by == "monthly_cap"
    v = convert_to_volunteer_minutes(9_600, 0, 0, R)  # exactly the cap, not "capped"
    assert (v.minutes, v.capped_by, v.points_left) == (240, None, 0)


def test_coin_threshold():
    c = convert_to_coins(4999, 0, 1_000_000, R)
    assert (c.coins_won, c.capped_by, c.mileage_left) == (0, "below_threshold", 4999)
    c = convert_to_coins(5000, 0, 1_000_000, R)
    assert (c.coins_won, c.capped_by, c.mileage_left) == (5000, None, 0)


def test_coin_monthly_cap():
    c = convert_to_coins(50_000, 0, 1_000_000, R)
    assert (c.coins_won, c.capped_by, c.mileage_left) == (10_000, "monthly_cap", 40_000)
    c = convert_to_coins(50_000, 10_000, 1_000_000, R)
    assert (c.coins_won, c.capped_by) == (0, "monthly_cap")


def test_coin_budget_exhaustion():
    c = convert_to_coins(10_000, 0, 5_000, R)
    assert (c.coins_won, c.capped_by, c.budget_left_after) == (5_000, "budget", 0)
    c = convert_to_coins(10_000, 0, 0, R)
    assert (c.coins_won, c.capped_by, c.mileage_left) == (0, "budget", 10_000)


def test_coin_unit_of_1000_if_a_programme_says_so():
    rules = dataclasses.replace(R, coin_unit_won=1000)
    c = convert_to_coins(7_500, 0, 1_000_000, rules)
    assert (c.coins_won, c.mileage_left) == (7_000, 500)


# --------------------------------------------------------------------------- bad input


BAD = [-1, float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"), "NaN", "x",
       None, True, 10**20, "9" * 100, [], 1.5]


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_bad_numbers_everywhere(bad):
    calls = [
        ("points", lambda: convert_to_volunteer_minutes(bad, 0, 0, R)),
        ("alreadyTodayMinutes", lambda: convert_to_volunteer_minutes(100, bad, 0, R)),
        ("alreadyMonthMinutes", lambda: convert_to_volunteer_minutes(100, 0, bad, R)),
        ("points", lambda: convert_to_mileage(bad, R)),
        ("mileageWon", lambda: convert_to_coins(bad, 0, 0, R)),
        ("alreadyThisMonthWon", lambda: convert_to_coins(5000, bad, 0, R)),
        ("budgetLeftWon", lambda: convert_to_coins(5000, 0, bad, R)),
    ]
    if bad != 1.5:  # a fractional kWh is fine
        calls.append(("kwh", lambda: kwh_to_points(bad, "measured", False, R)))
    for field, call in calls:
        with pytest.raises(ValidationFailed) as e:
            call()
        assert e.value.field == field


def test_other_bad_input():
    with pytest.raises(ValidationFailed) as e:
        kwh_to_points("1000.001", "measured", False, R)
    assert e.value.field == "kwh"
    with pytest.raises(ValidationFailed) as e:
        kwh_to_points(1, "guessed", False, R)
    assert e.value.field == "basis"
    with pytest.raises(ValidationFailed) as e:
        kwh_to_points(1, "measured", "yes", R)
    assert e.value.field == "duringDrEvent"
    with pytest.raises(ValidationFailed):
        convert_to_volunteer_minutes(100, 1441, 2000, R)
    with pytest.raises(ValidationFailed):
        convert_to_volunteer_minutes(100, 30, 10, R)  # today more than the whole month
    with pytest.raises(ValidationFailed) as e:
        load_rules(1999)
    assert e.value.field == "year"


# --------------------------------------------------------------------------- the data file


def _broken(path, value):
    data = copy.deepcopy(RAW)
    *parents, last = path
    node = data
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path,value,field", [
    (("schema",), "other", "$.schema"),
    (("programme_year",), "2026", "$.programme_year"),
    (("points", "points_per_kwh"), 0, "$.points.points_per_kwh"),
    (("points", "weights", "deemed"), 0.5, "$.points.weights.deemed"),
    (("points", "weights", "deemed"), "1.5", "$.points.weights.deemed"),
    (("points", "weights", "deemed"), "NaN", "$.points.weights.deemed"),
    (("points", "weights", "none"), KeyError, "$.points.weights"),
    (("points", "dr_event_multiplier"), "0.5", "$.points.dr_event_multiplier"),
    (("points", "rounding"), "half_up", "$.points.rounding"),
    (("volunteer", "max_minutes_per_day"), 481, "$.volunteer.max_minutes_per_day"),
    (("volunteer", "max_minutes_per_month"), -1, "$.volunteer.max_minutes_per_month"),
    (("volunteer", "points_per_minute"), True, "$.volunteer.points_per_minute"),
    (("volunteer", "source"), "", "$.volunteer.source"),
    (("mileage", "won_per_block"), 0, "$.mileage.won_per_block"),
    (("coins", "max_won_per_month"), 12_500, "$.coins.max_won_per_month"),
    (("coins", "threshold_won"), 20_000, "$.coins.threshold_won"),
    (("carbon", "kg_co2eq_per_kwh"), "417.3", "$.carbon.kg_co2eq_per_kwh"),
])
def test_loader_rejects_bad_rules(path, value, field):
    with pytest.raises(RulesError) as e:
        rules_from_dict(_broken(path, value))
    assert e.value.field == field


def test_loader_accepts_the_packaged_file():
    assert rules_from_dict(RAW) == R and load_rules() == R
