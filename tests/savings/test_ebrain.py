"""e-Brain over the real databases and the API: standby per plug from hourly rollups, and the
cheapest laundry window from the configured time-of-use table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tortoise.transactions import in_transaction

from backend.plugs import store
from backend.plugs.models import Plug
from backend.plugs.readings import Vendor
from backend.plugs.rollup import HourRollup
from backend.savings import ebrain
from tests.builders import build_world, gql, sign_in

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


async def _plug(household_id: int, device_id: str) -> Plug:
    return await Plug.create(household_id=household_id, vendor=Vendor.TASMOTA, device_id=device_id, name=device_id)


async def _hours(plug: Plug, days: int, watts_at, covered=lambda local: True, now: datetime = NOW) -> None:
    """Hourly rollups for the ``days`` days before ``now``, ``watts_at(local time)`` each."""
    end = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    hour = end - timedelta(days=days)
    while hour < end:
        local = hour.astimezone(SEOUL)
        if covered(local):
            rows.append(HourRollup(hour, float(watts_at(local)), 3600.0, 60, None, None, 0, 0))
        hour += timedelta(hours=1)
    async with in_transaction() as conn:
        if store.is_postgres(conn):
            await store.ensure_partitions(conn, now.date(), days_back=days + 1, days_ahead=1)
        await store.write_hours(conn, plug.id, rows, now)


async def test_standby_is_read_from_well_covered_night_hours(db):
    world = await build_world()
    household = world.family_a1.household.id
    tv, new, gappy = (await _plug(household, "tasmota_TV"), await _plug(household, "tasmota_NEW"),
                      await _plug(household, "tasmota_GAP"))
    # a TV: 4.5 W on standby at night (one glitchy 0 W hour), 120 W in the evening, 6 W otherwise
    def tv_watts(local: datetime) -> float:
        if (local.day, local.hour) == (15, 3):
            return 0.0
        return 4.5 if 1 <= local.hour < 5 else 120.0 if 18 <= local.hour < 23 else 6.0
    await _hours(tv, 14, tv_watts)
    await _hours(new, 2, lambda local: 3.0)  # only two nights: not enough to say
    await _hours(gappy, 14, lambda local: 2.0, covered=lambda local: local.day == 12)  # one covered night
    found = await ebrain.standby_of([tv.id, new.id, gappy.id], NOW, "Asia/Seoul", 150.0)
    assert found[new.id] is None
    estimate = found[tv.id]
    assert estimate.samples == 14 * 4 and estimate.watts == pytest.approx(4.5)  # the glitch is below the 10th pct
    assert estimate.kwh_per_year == pytest.approx(4.5 * 8.76)
    assert estimate.won_per_year == pytest.approx(4.5 * 8.76 * 150.0)
    assert found[gappy.id] is None


PLUG_STANDBY = """query($h: ID!) { plugs(householdId: $h) { ... on PlugList { items {
    name standby { watts kwhPerYear wonPerYear nightHours } } } } }"""
LAUNDRY = """query($hours: Int!, $kwh: Float! = 1.0) { laundryWindow(hours: $hours, kwhPerHour: $kwh) {
    __typename ... on LaundryWindow { startHour endHour costWon period tariff }
    ... on ValidationFailed { field } } }"""


async def test_standby_and_laundry_window_over_the_api(db, client):
    world = await build_world()
    tv = await _plug(world.family_a1.household.id, "tasmota_TV")
    # the API reads the last 14 days before the real clock's current hour
    await _hours(tv, 14, lambda local: 4.5 if 1 <= local.hour < 5 else 80.0, now=datetime.now(UTC))
    student = await sign_in(client, world.family_a1.student.email)
    items = (await gql(client, PLUG_STANDBY, {"h": str(world.family_a1.household.id)}, student))["data"]["plugs"]
    assert items["items"] == [{"name": "tasmota_TV", "standby": {"watts": 4.5, "kwhPerYear": 39.42,
                                                                 "wonPerYear": 5913, "nightHours": 56}}]

    window = (await gql(client, LAUNDRY, {"hours": 2}, student))["data"]["laundryWindow"]
    # the example table: off-peak 23-09 at 80 won/kWh, the earliest cheapest start wins
    assert window == {"__typename": "LaundryWindow", "startHour": 0, "endHour": 2, "costWon": 160.0,
                      "period": "off_peak", "tariff": "Example residential time-of-use table"}
    for variables, field in (({"hours": 0}, "hours"), ({"hours": 13}, "hours"), ({"hours": 2, "kwh": -1.0}, "kwhPerHour")):
        refused = (await gql(client, LAUNDRY, variables, student))["data"]["laundryWindow"]
        assert refused == {"__typename": "ValidationFailed", "field": field}
    assert (await gql(client, LAUNDRY, {"hours": 2}, expect_status=401))["errors"][0]["extensions"]["code"] \
        == "UNAUTHENTICATED"


def test_a_configured_tariff_moves_the_window(tmp_path):
    table = tmp_path / "jeju.json"
    table.write_text(json.dumps({"name": "Jeju optional TOU (test prices)", "periods": [
        {"name": "off_peak", "start": 22, "end": 8, "price": 60.0},
        {"name": "day", "start": 8, "end": 22, "price": 150.0}]}))
    name, tou = ebrain.tou_table(table)
    window = ebrain.laundry_window(3, tou, kwh_per_hour=0.8)
    assert (name, window.start_hour, window.end_hour, round(window.cost_won, 1)) == (
        "Jeju optional TOU (test prices)", 0, 3, 144.0)
    broken = tmp_path / "half.json"
    broken.write_text(json.dumps({"periods": [{"name": "all", "start": 0, "end": 12, "price": 1.0}]}))
    with pytest.raises(ValueError, match="exactly once"):
        ebrain.tou_table(broken)
