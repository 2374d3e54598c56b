"""Feed-in (balcony solar): negative power keeps the consumption counter, returned energy is
kept apart, and a plug that feeds in never counts towards savings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from backend.plugs import service
from backend.plugs import vendors as v
from backend.plugs.ingest import Ingestor
from backend.plugs.models import Plug
from backend.plugs.readings import Rejected, RejectReason, Vendor
from backend.savings.household_load import load_households
from tests.builders import build_world, principal_of
from tests.plugs.test_plug_service import _reading_times

FIX = Path(__file__).parent / "fixtures"
AT = datetime(2024, 6, 1, 4, 0, 5, tzinfo=UTC)


def test_gen2_feed_in_frame_keeps_both_counters():
    r = v.parse_mqtt("balcony/status/switch:0", (FIX / "shelly_gen2_status_feed_in.json").read_bytes(), AT)
    assert (r.power_w, r.counter_wh, r.returned_wh, r.relay_on) == (-352.4, 1204.117, 8052.342, True)


def test_tasmota_export_active_and_negative_power():
    r = v.parse_mqtt("tele/balcony/SENSOR", (FIX / "tasmota_sensor_export.json").read_bytes(), AT)
    assert (r.power_w, r.counter_wh, r.returned_wh) == (-287.0, 12345.0, 31770.0)


@pytest.mark.parametrize("payload,reason", [
    ('{"apower":-4000,"aenergy":{"total":1}}', RejectReason.SPIKE),          # beyond what a plug carries
    ('{"apower":1,"aenergy":{"total":1},"ret_aenergy":{"total":-1}}', RejectReason.NEGATIVE),
    ('{"apower":1,"aenergy":{"total":-1}}', RejectReason.NEGATIVE),          # counters never go below 0
    ('{"apower":1,"ret_aenergy":[1]}', RejectReason.WRONG_TYPE),
])
def test_feed_in_bad_values(payload, reason):
    with pytest.raises(Rejected) as err:
        v.parse_mqtt("balcony/status/switch:0", payload.encode(), AT)
    assert err.value.reason == reason


async def test_a_feeding_plug_is_shown_as_such_and_never_saves(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    pairs = []
    for device in ("balcony", "fridge"):
        issued = await service.create_pairing_code(db, parent, parent.household_id)
        pairs.append((await service.pair_plug(db, issued.code, Vendor.SHELLY_GEN2, device, "x", parent)).plug)
    balcony, fridge = pairs
    now = datetime.now(UTC).replace(microsecond=0)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    ingestor.submit("balcony/status/switch:0", (FIX / "shelly_gen2_status_feed_in.json").read_bytes(), received_at=now)
    ingestor.submit("fridge/status/switch:0", b'{"id":0,"output":true,"apower":-0.4,"aenergy":{"total":50.0}}',
                    received_at=now)
    result = await ingestor.flush()
    assert result.stored == 2 and not result.rejects  # nothing rejected, the counter kept
    assert await _reading_times(balcony.id) == [now]
    balcony, fridge = await Plug.get(id=balcony.id), await Plug.get(id=fridge.id)
    assert (balcony.exporting, balcony.feeds_in, balcony.returned_wh) == (True, True, 8052.342)
    assert (fridge.exporting, fridge.feeds_in) == (False, False)  # -0.4 W is an idle plug's noise
    from tortoise import Tortoise

    from backend.plugs import store

    rows = await store.samples_between(Tortoise.get_connection("default"), balcony.id,
                                       now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert [(s.power_w, s.counter_wh) for s in rows] == [(0.0, 1204.117)]  # consumption only
    today = date.today()
    loads = await load_households({parent.household_id: [balcony.id, fridge.id]}, today, today, "Asia/Seoul")
    assert loads[parent.household_id].plug_ids == (fridge.id,)
