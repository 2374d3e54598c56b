"""The smart-plug API over HTTP with the real app: pairing, scoping, HTTP push, hourly series, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.plugs import service
from backend.plugs.ingest import Ingestor
from backend.plugs.models import PairingCode, Plug, PushBatch
from backend.plugs.readings import Vendor
from backend.plugs.rollups import rollup_pending
from backend.plugs.vendors import render_reading
from tests.builders import build_world, gql, principal_of, sign_in

CREATE_CODE = """
mutation($h: ID!) {
  createPlugPairingCode(householdId: $h) {
    __typename ... on PlugPairingCode { code expiresAt } ... on Error { message }
  }
}"""
PAIR = """
mutation($code: String!, $vendor: PlugVendor!, $device: String!, $name: String!) {
  pairPlug(code: $code, vendor: $vendor, deviceId: $device, name: $name) {
    __typename
    ... on PlugPaired { token plug { id name vendor deviceId unpairedAt } }
    ... on Error { message }
    ... on AlreadyExists { field }
    ... on ValidationFailed { field }
  }
}"""
PLUGS = """
query($h: ID!, $all: Boolean! = false) {
  plugs(householdId: $h, includeUnpaired: $all) {
    __typename
    ... on PlugList { items { id name vendor deviceId pairedAt unpairedAt online lastSeenAt powerW relayOn
                              todayKwh todayCoverage monthKwh monthCoverage } }
    ... on Error { message }
  }
}"""
PLUG = """
query($id: ID!) { plug(id: $id) { __typename ... on Plug { id name unpairedAt } ... on Error { message } } }"""
RENAME = """
mutation($id: ID!, $name: String!) {
  renamePlug(plugId: $id, name: $name) {
    __typename ... on Plug { id name } ... on Error { message } ... on ValidationFailed { field }
  }
}"""
UNPAIR = """
mutation($id: ID!) { unpairPlug(plugId: $id) { __typename ... on Plug { id unpairedAt } ... on Error { message } } }"""
PUSH = """
mutation($device: String!, $token: String!, $batch: String!, $readings: [PlugReadingInput!]!) {
  pushPlugReadings(deviceId: $device, token: $token, batchId: $batch, readings: $readings) {
    __typename
    ... on PlugReadingsPushed { accepted duplicates replayed rejected { index reason } }
    ... on Error { message }
    ... on ValidationFailed { field }
    ... on RateLimited { retryAfterSeconds }
  }
}"""
HOURLY = """
query($id: ID!, $from: DateTime, $to: DateTime) {
  plug(id: $id) {
    __typename
    ... on Plug {
      todayKwh todayCoverage monthKwh monthCoverage
      hourly(from: $from, to: $to) {
        __typename
        ... on PlugHourly { start end hours { hour kwh coverage missing resets } }
        ... on ValidationFailed { field message }
      }
    }
  }
}"""
STATS = """
query($days: Int! = 7) {
  plugIngestStats(days: $days) {
    __typename
    ... on PlugIngestStats { items { day vendor reason count } }
    ... on Error { message }
    ... on ValidationFailed { field }
  }
}"""


@pytest.fixture
async def world(db):
    return await build_world()


async def _paired(settings, parent, vendor=Vendor.TASMOTA, device_id="tasmota_A1B2C3", name="TV"):
    principal = await principal_of(parent)
    issued = await service.create_pairing_code(settings, principal, principal.household_id)
    return await service.pair_plug(settings, issued.code, vendor, device_id, name, principal)


async def _state() -> list[tuple]:
    return await Plug.all().order_by("id").values_list("id", "name", "unpaired_at", "household_id")


async def test_pairing_flow_end_to_end(world, client):
    household = str(world.family_a1.household.id)
    parent = await sign_in(client, world.family_a1.parent.email)
    issued = (await gql(client, CREATE_CODE, {"h": household}, parent))["data"]["createPlugPairingCode"]
    assert issued["__typename"] == "PlugPairingCode" and len(issued["code"]) == 11
    assert issued["expiresAt"].endswith("+09:00")  # shown in the display timezone

    # a member of another household cannot use a1's code; the code stays usable
    other = await sign_in(client, world.family_a2.parent.email)
    variables = {"code": issued["code"], "vendor": "TASMOTA", "device": "tasmota_A1B2C3", "name": "  TV  "}
    refused = (await gql(client, PAIR, variables, other))["data"]["pairPlug"]
    assert refused["__typename"] == "NotAllowed" and await Plug.all().count() == 0

    paired = (await gql(client, PAIR, variables, parent))["data"]["pairPlug"]
    assert paired["__typename"] == "PlugPaired" and paired["token"] is None
    assert paired["plug"] | {"id": None} == {"id": None, "name": "TV", "vendor": "TASMOTA",
                                              "deviceId": "tasmota_A1B2C3", "unpairedAt": None}
    again = (await gql(client, PAIR, variables | {"device": "tasmota_X"}, parent))["data"]["pairPlug"]
    assert again["__typename"] == "InvalidToken"

    # an HTTP-push plug gets its token, once
    code2 = (await gql(client, CREATE_CODE, {"h": household}, parent))["data"]["createPlugPairingCode"]["code"]
    taken = (await gql(client, PAIR, {**variables, "code": code2}, parent))["data"]["pairPlug"]
    assert (taken["__typename"], taken["field"]) == ("AlreadyExists", "deviceId")
    http = (await gql(client, PAIR, {"code": code2, "vendor": "HTTP", "device": "bridge-1", "name": "Kettle"},
                      parent))["data"]["pairPlug"]
    assert http["__typename"] == "PlugPaired" and len(http["token"]) >= 40
    assert (await Plug.get(id=int(http["plug"]["id"]))).token_hash not in (None, http["token"])
    bad = await gql(client, PAIR, {"code": "short", "vendor": "HTTP", "device": "bridge-2", "name": "X"}, parent)
    assert bad["data"]["pairPlug"]["__typename"] == "InvalidToken"
    bad_name = await gql(client, PAIR, {"code": code2, "vendor": "HTTP", "device": "bridge-2", "name": " "}, parent)
    assert bad_name["data"]["pairPlug"] == {"__typename": "ValidationFailed", "message": bad_name["data"]["pairPlug"]
                                            ["message"], "field": "name"}

    listed = (await gql(client, PLUGS, {"h": household}, parent))["data"]["plugs"]
    assert [(p["name"], p["vendor"], p["deviceId"]) for p in listed["items"]] == [
        ("TV", "TASMOTA", "tasmota_A1B2C3"), ("Kettle", "HTTP", "bridge-1")]
    first = listed["items"][0]
    assert (first["online"], first["powerW"], first["lastSeenAt"], first["relayOn"]) == (False, None, None, None)
    assert (first["todayKwh"], first["todayCoverage"], first["monthKwh"], first["monthCoverage"]) == (0, 0, 0, 0)

    # the student of the household sees the plugs, but not the device ids pairing uses
    student = await sign_in(client, world.family_a1.student.email)
    seen = await gql(client, PLUGS, {"h": household}, student)
    assert [p["name"] for p in seen["data"]["plugs"]["items"]] == ["TV", "Kettle"]
    assert [p["deviceId"] for p in seen["data"]["plugs"]["items"]] == [None, None]
    assert {e["extensions"]["code"] for e in seen["errors"]} == {"FORBIDDEN"}
    assert {e["path"][-1] for e in seen["errors"]} == {"deviceId"}

    # rename and unpair; an unpaired plug leaves the list unless asked for
    renamed = (await gql(client, RENAME, {"id": first["id"], "name": "Living room TV"}, parent))["data"]["renamePlug"]
    assert renamed == {"__typename": "Plug", "id": first["id"], "name": "Living room TV"}
    too_long = (await gql(client, RENAME, {"id": first["id"], "name": "x" * 41}, parent))["data"]["renamePlug"]
    assert too_long["field"] == "name"
    gone = (await gql(client, UNPAIR, {"id": first["id"]}, parent))["data"]["unpairPlug"]
    assert gone["__typename"] == "Plug" and gone["unpairedAt"] is not None
    active = (await gql(client, PLUGS, {"h": household}, parent))["data"]["plugs"]["items"]
    assert [p["name"] for p in active] == ["Kettle"]
    everything = (await gql(client, PLUGS, {"h": household, "all": True}, parent))["data"]["plugs"]["items"]
    assert [p["name"] for p in everything] == ["Living room TV", "Kettle"]


async def test_student_cannot_create_codes_rename_or_unpair(world, client, db):
    plug = (await _paired(db, world.family_a1.parent)).plug
    student = await sign_in(client, world.family_a1.student.email)
    before = (await _state(), await PairingCode.all().count())
    created = await gql(client, CREATE_CODE, {"h": str(world.family_a1.household.id)}, student)
    assert created["data"]["createPlugPairingCode"]["__typename"] == "NotAllowed"
    assert (await gql(client, UNPAIR, {"id": str(plug.id)}, student))["data"]["unpairPlug"]["__typename"] == "NotAllowed"
    renamed = await gql(client, RENAME, {"id": str(plug.id), "name": "Mine"}, student)
    assert renamed["data"]["renamePlug"]["__typename"] == "NotAllowed"
    assert (await _state(), await PairingCode.all().count()) == before
    # the student still reads the plug of their own household
    assert (await gql(client, PLUG, {"id": str(plug.id)}, student))["data"]["plug"]["name"] == "TV"


async def test_another_household_cannot_see_rename_or_unpair(world, client, db):
    plug = (await _paired(db, world.family_a1.parent)).plug
    before = (await _state(), await PairingCode.all().count())
    for user in (world.family_b.parent, world.family_a2.parent, world.family_a2.student, world.teacher_a,
                 world.officer_a):
        token = await sign_in(client, user.email)
        assert (await gql(client, PLUGS, {"h": str(plug.household_id)}, token))["data"]["plugs"]["__typename"] \
            == "NotAllowed", user.email
        assert (await gql(client, PLUG, {"id": str(plug.id)}, token))["data"]["plug"]["__typename"] == "NotAllowed"
        renamed = await gql(client, RENAME, {"id": str(plug.id), "name": "Stolen"}, token)
        assert renamed["data"]["renamePlug"]["__typename"] == "NotAllowed"
        assert (await gql(client, UNPAIR, {"id": str(plug.id)}, token))["data"]["unpairPlug"]["__typename"] \
            == "NotAllowed"
        code = await gql(client, CREATE_CODE, {"h": str(plug.household_id)}, token)
        assert code["data"]["createPlugPairingCode"]["__typename"] == "NotAllowed"
    assert (await _state(), await PairingCode.all().count()) == before
    # a plug that does not exist answers the same way; a malformed id names its argument
    parent = await sign_in(client, world.family_a1.parent.email)
    assert (await gql(client, PLUG, {"id": "2147483647"}, parent))["data"]["plug"]["__typename"] == "NotAllowed"
    assert (await gql(client, PLUG, {"id": "x"}, parent))["data"]["plug"]["__typename"] == "ValidationFailed"
    # signed out: refused before anything runs
    anonymous = await gql(client, PLUGS, {"h": str(plug.household_id)}, expect_status=401)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    operator = await sign_in(client, world.operator.email)
    listed = (await gql(client, PLUGS, {"h": str(plug.household_id)}, operator))["data"]["plugs"]["items"]
    assert [(p["id"], p["deviceId"]) for p in listed] == [(str(plug.id), "tasmota_A1B2C3")]


async def test_http_push_without_sign_in(world, client, db):
    paired = await _paired(db, world.family_a1.parent, Vendor.HTTP, "bridge-kitchen-1", "Kettle")
    now = datetime.now(UTC)
    readings = [{"ts": (now - timedelta(minutes=10 - i)).isoformat(), "powerW": 50.0, "energyWh": 1000.0 + i}
                for i in range(5)]
    readings.append({"ts": (now - timedelta(seconds=30)).astimezone(ZoneInfo("Asia/Seoul")).isoformat(),
                     "powerW": 42.5})
    bad = [{"ts": (now + timedelta(days=1)).isoformat(), "powerW": 1.0}, {"ts": now.isoformat(), "powerW": -1.0},
           {"ts": "2026-05-01T12:00:00", "energyWh": 1.0}, {"ts": now.isoformat()}]
    variables = {"device": "bridge-kitchen-1", "token": paired.token, "batch": "batch-1", "readings": readings + bad}
    pushed = (await gql(client, PUSH, variables))["data"]["pushPlugReadings"]
    assert pushed == {"__typename": "PlugReadingsPushed", "accepted": 6, "duplicates": 0, "replayed": False,
                      "rejected": [{"index": 6, "reason": "future"}, {"index": 7, "reason": "negative"},
                                   {"index": 8, "reason": "malformed"}, {"index": 9, "reason": "malformed"}]}
    replay = (await gql(client, PUSH, variables))["data"]["pushPlugReadings"]
    assert (replay["replayed"], replay["accepted"], len(replay["rejected"])) == (True, 6, 4)
    conflict = (await gql(client, PUSH, {**variables, "readings": readings[:2]}))["data"]["pushPlugReadings"]
    assert conflict["__typename"] == "IdempotencyConflict"
    dup = (await gql(client, PUSH, {**variables, "batch": "batch-2", "readings": readings[:2]}))["data"]
    assert (dup["pushPlugReadings"]["accepted"], dup["pushPlugReadings"]["duplicates"]) == (0, 2)
    batches = await PushBatch.all().count()
    forged = (await gql(client, PUSH, {**variables, "batch": "batch-3", "token": paired.token[:-1] + "x"}))
    assert forged["data"]["pushPlugReadings"]["__typename"] == "InvalidToken"
    unknown = (await gql(client, PUSH, {**variables, "batch": "batch-3", "device": "bridge-other"}))
    assert unknown["data"]["pushPlugReadings"]["__typename"] == "InvalidToken"
    empty = (await gql(client, PUSH, {**variables, "batch": "batch-3", "readings": []}))["data"]["pushPlugReadings"]
    assert (empty["__typename"], empty["field"]) == ("ValidationFailed", "readings")
    assert await PushBatch.all().count() == batches

    # the fresh reading makes the plug online with live power, for the household's parent
    parent = await sign_in(client, world.family_a1.parent.email)
    plug = (await gql(client, PLUGS, {"h": str(world.family_a1.household.id)}, parent))["data"]["plugs"]["items"][0]
    assert (plug["online"], plug["powerW"]) == (True, 42.5) and plug["lastSeenAt"].endswith("+09:00")

    # unpaired: the token stops working
    await service.unpair_plug(await principal_of(world.family_a1.parent), paired.plug.id)
    after = (await gql(client, PUSH, {**variables, "batch": "batch-4"}))["data"]["pushPlugReadings"]
    assert after["__typename"] == "InvalidToken"

    # operators see the rejects; nobody else does
    operator = await sign_in(client, world.operator.email)
    stats = (await gql(client, STATS, {}, operator))["data"]["plugIngestStats"]
    counts = {(i["vendor"], i["reason"]): i["count"] for i in stats["items"]}
    assert counts[("http", "bad_token")] == 3 and counts[("*", "duplicate")] == 2
    assert counts[("http", "future")] == 1 and counts[("http", "malformed")] == 2
    assert {i["day"] for i in stats["items"]} == {now.date().isoformat()}
    assert (await gql(client, STATS, {}, parent))["data"]["plugIngestStats"]["__typename"] == "NotAllowed"
    too_many = (await gql(client, STATS, {"days": 91}, operator))["data"]["plugIngestStats"]
    assert (too_many["__typename"], too_many["field"]) == ("ValidationFailed", "days")


def _tasmota(device_id: str, start: datetime, minutes: int, watts: float, counter0_wh: float):
    out = []
    for m in range(0, minutes + 1, 5):
        ts = start + timedelta(minutes=m)
        for topic, payload in render_reading(Vendor.TASMOTA, device_id, ts, watts, counter0_wh + watts * m / 60,
                                             ZoneInfo("Asia/Seoul")):
            out.append((topic, payload, ts + timedelta(seconds=2)))
    return out


async def _ingest_three_hours(plug: Plug, hour0: datetime) -> None:
    """120 W for hour 0, nothing in hour 1 (offline), 60 W in hour 2 (device-timed: the plug's
    zone offset, KST, was learned before)."""
    await Plug.filter(id=plug.id).update(clock_offset_min=540)
    ingestor = Ingestor(clock=lambda: hour0 + timedelta(hours=3, minutes=30))
    await ingestor.directory.refresh()
    messages = _tasmota(plug.device_id, hour0, 60, 120.0, 5_000.0)
    messages += _tasmota(plug.device_id, hour0 + timedelta(hours=2), 60, 60.0, 5_120.0)
    for topic, payload, received in messages:
        ingestor.submit(topic, payload, received_at=received)
    await ingestor.flush()
    assert await rollup_pending() == 1


async def test_hourly_series_and_energy(world, client, db):
    plug = (await _paired(db, world.family_a1.parent)).plug
    hour0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    await _ingest_three_hours(plug, hour0)
    student = await sign_in(client, world.family_a1.student.email)
    seoul = ZoneInfo("Asia/Seoul")
    # bounds in any offset, not on the hour: widened to the whole hours around them
    start, end = (hour0 + timedelta(minutes=20)).astimezone(seoul), hour0 + timedelta(hours=2, minutes=40)
    body = await gql(client, HOURLY, {"id": str(plug.id), "from": start.isoformat(), "to": end.isoformat()}, student)
    value = body["data"]["plug"]
    series = value["hourly"]
    assert series["__typename"] == "PlugHourly"
    assert datetime.fromisoformat(series["start"]) == hour0 and datetime.fromisoformat(series["end"]) == hour0 + timedelta(hours=3)
    assert [datetime.fromisoformat(h["hour"]) for h in series["hours"]] == [hour0 + timedelta(hours=i) for i in range(3)]
    assert [round(h["kwh"], 6) for h in series["hours"]] == [0.12, 0.0, 0.06]
    assert [h["coverage"] for h in series["hours"]] == [1.0, 0.0, 1.0]
    assert [h["missing"] for h in series["hours"]] == [False, True, False]
    assert [h["resets"] for h in series["hours"]] == [0, 0, 0]

    # today and this month in the display timezone, from the same rollups
    today, month, _ = service.local_bounds(datetime.now(UTC), "Asia/Seoul")
    wh = {hour0: 120.0, hour0 + timedelta(hours=1): 0.0, hour0 + timedelta(hours=2): 60.0}
    assert value["todayKwh"] == pytest.approx(sum(v for h, v in wh.items() if h >= today) / 1000)
    assert value["monthKwh"] == pytest.approx(sum(v for h, v in wh.items() if h >= month) / 1000)
    assert 0 < value["monthCoverage"] < 0.9 or month > hour0  # hours without data count as missing

    # default: the last 24 whole hours, ending with the current one
    default = (await gql(client, HOURLY, {"id": str(plug.id)}, student))["data"]["plug"]["hourly"]
    assert len(default["hours"]) == 24
    assert datetime.fromisoformat(default["end"]) == datetime.now(UTC).replace(minute=0, second=0, microsecond=0) \
        + timedelta(hours=1) or datetime.now(UTC).minute == 0  # (a clock crossing the hour mid-test)
    assert round(sum(h["kwh"] for h in default["hours"]), 6) == 0.18


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-05-02T00:00:00+09:00", "2026-05-01T00:00:00+09:00", "from"),   # reversed
    ("2026-05-01T00:00:00+09:00", "2026-05-01T00:00:00+09:00", "from"),   # empty
    ("2026-04-01T00:00:00+09:00", "2026-05-02T00:00:01+09:00", "to"),     # more than 31 days
    ("2026-05-01T00:00:00", "2026-05-02T00:00:00+09:00", "from"),         # no offset
])
async def test_hourly_range_is_validated(world, client, db, start, end, field):
    plug = (await _paired(db, world.family_a1.parent)).plug
    parent = await sign_in(client, world.family_a1.parent.email)
    body = await gql(client, HOURLY, {"id": str(plug.id), "from": start, "to": end}, parent)
    assert "errors" not in body
    assert (body["data"]["plug"]["hourly"]["__typename"], body["data"]["plug"]["hourly"]["field"]) \
        == ("ValidationFailed", field)


async def test_hourly_allows_exactly_31_days(world, client, db):
    plug = (await _paired(db, world.family_a1.parent)).plug
    parent = await sign_in(client, world.family_a1.parent.email)
    body = await gql(client, HOURLY, {"id": str(plug.id), "from": "2026-04-01T00:00:00+09:00",
                                      "to": "2026-05-02T00:00:00+09:00"}, parent)
    assert len(body["data"]["plug"]["hourly"]["hours"]) == 31 * 24


async def test_energy_of_many_plugs_is_read_in_batches(world, client, db, count_queries):
    """Live state, energy, hourly and command fields cost the same number of queries for one
    plug or several."""
    parent = await sign_in(client, world.family_a1.parent.email)
    query = """query($h: ID!) { plugs(householdId: $h) { ... on PlugList { items {
        id online powerW lastSeenAt lastCommand { status } todayKwh monthKwh todayCoverage
        hourly { ... on PlugHourly { hours { kwh } } } } } } }"""
    variables = {"h": str(world.family_a1.household.id)}
    await _paired(db, world.family_a1.parent, device_id="tasmota_1")
    count_queries.statements.clear()
    await gql(client, query, variables, parent)
    one = len(count_queries.statements)
    for i in range(2, 5):
        await _paired(db, world.family_a1.parent, device_id=f"tasmota_{i}")
    count_queries.statements.clear()
    body = await gql(client, query, variables, parent)
    assert len(body["data"]["plugs"]["items"]) == 4
    assert one > 0 and len(count_queries.statements) == one, count_queries.statements


SWITCH = """
mutation($id: ID!, $on: Boolean!) {
  switchPlug(plugId: $id, on: $on) {
    __typename
    ... on PlugCommand { id on status attempts purpose createdAt sentAt finishedAt error }
    ... on Error { message }
    ... on ValidationFailed { field }
  }
}"""
LAST_COMMAND = """
query($id: ID!) { plug(id: $id) { ... on Plug { relayOn lastCommand { id on status error } } } }"""


async def test_switch_plug_and_follow_its_command(world, client, db):
    plug = (await _paired(db, world.family_a1.parent)).plug
    http_plug = (await _paired(db, world.family_a1.parent, Vendor.HTTP, "bridge-kettle", "Kettle")).plug
    parent = await sign_in(client, world.family_a1.parent.email)
    student = await sign_in(client, world.family_a1.student.email)
    assert (await gql(client, LAST_COMMAND, {"id": str(plug.id)}, student))["data"]["plug"]["lastCommand"] is None

    switched = (await gql(client, SWITCH, {"id": str(plug.id), "on": False}, parent))["data"]["switchPlug"]
    assert (switched["__typename"], switched["on"], switched["status"], switched["attempts"]) \
        == ("PlugCommand", False, "PENDING", 0)
    assert switched["sentAt"] is None and switched["purpose"] == "manual"
    # the household's student follows it, but may not switch
    seen = (await gql(client, LAST_COMMAND, {"id": str(plug.id)}, student))["data"]["plug"]["lastCommand"]
    assert seen == {"id": switched["id"], "on": False, "status": "PENDING", "error": None}
    refused = (await gql(client, SWITCH, {"id": str(plug.id), "on": True}, student))["data"]["switchPlug"]
    assert refused["__typename"] == "NotAllowed"
    other = await sign_in(client, world.family_b.parent.email)
    assert (await gql(client, SWITCH, {"id": str(plug.id), "on": True}, other))["data"]["switchPlug"]["__typename"] \
        == "NotAllowed"
    unsupported = (await gql(client, SWITCH, {"id": str(http_plug.id), "on": False}, parent))["data"]["switchPlug"]
    assert (unsupported["__typename"], unsupported["field"]) == ("ValidationFailed", "plugId")
    malformed = (await gql(client, SWITCH, {"id": "x", "on": False}, parent))["data"]["switchPlug"]
    assert malformed["__typename"] == "ValidationFailed"
    # a newer command replaces the pending one
    again = (await gql(client, SWITCH, {"id": str(plug.id), "on": True}, parent))["data"]["switchPlug"]
    latest = (await gql(client, LAST_COMMAND, {"id": str(plug.id)}, parent))["data"]["plug"]["lastCommand"]
    assert latest["id"] == again["id"] and latest["status"] == "PENDING"


async def test_http_push_is_rate_limited_per_plug_and_per_address(world, db):
    """A plug pushing too often, and an address sending forged tokens, get RateLimited;
    a refused push stores nothing."""
    import httpx

    from backend.app import create_app

    settings = db.model_copy(update={"plug_push_per_minute": 3, "plug_push_bad_tokens_per_address": 2})
    app = create_app(settings, manage_db=False)
    paired = await _paired(db, world.family_a1.parent, Vendor.HTTP, "bridge-rate-1", "Heater")
    now = datetime.now(UTC)

    def push(batch: str, token: str = paired.token) -> dict:
        return {"device": "bridge-rate-1", "token": token, "batch": batch,
                "readings": [{"ts": (now - timedelta(seconds=60 - int(batch[1:]))).isoformat(), "powerW": 5.0}]}
    try:
        for address in ("10.0.0.1", "10.0.0.2"):
            transport = httpx.ASGITransport(app=app, client=(address, 4567))
            async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as c:
                if address == "10.0.0.1":
                    kinds = [(await gql(c, PUSH, push(f"b{i}")))["data"]["pushPlugReadings"]["__typename"]
                             for i in range(4)]
                    assert kinds == ["PlugReadingsPushed"] * 3 + ["RateLimited"]
                    forged = [(await gql(c, PUSH, push(f"f{i}", "wrong")))["data"]["pushPlugReadings"]["__typename"]
                              for i in range(3)]
                    assert forged == ["InvalidToken", "InvalidToken", "RateLimited"]
                    limited = (await gql(c, PUSH, push("b9")))["data"]["pushPlugReadings"]
                    assert limited["__typename"] == "RateLimited" and limited["retryAfterSeconds"] > 0
                else:  # another address is not blocked by the first one's forgeries
                    other = (await gql(c, PUSH, push("f5", "wrong")))["data"]["pushPlugReadings"]
                    assert other["__typename"] == "InvalidToken"
    finally:
        await app.state.redis.aclose()
    assert await PushBatch.filter(plug_id=paired.plug.id).count() == 3
