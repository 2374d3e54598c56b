"""The activity catalogue: loading, validation of the data file, deemed savings and limits."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from backend.activities.catalogue import (
    DATA_DIR, CatalogueError, check_frequency, deemed_savings_kwh, load_catalogue, load_shift_kwh,
    parse_catalogue,
)
from backend.errors import ValidationFailed

CAT = load_catalogue()
RAW = json.loads((DATA_DIR / "activity_types.v1.json").read_text(encoding="utf-8"))


def t(key):
    return CAT.get(key)


def test_catalogue_has_every_named_activity():
    assert set(CAT.keys) == {"laundry_off_peak", "gaming_reduced", "phone_charging_reduced",
                             "standby_unplugged", "waste_found", "bill_comparison", "policy_proposal"}
    assert CAT.version == 1 and load_catalogue(1) is load_catalogue(1)
    for a in CAT.types:
        assert a.name_ko and a.name_en and a.formula.source
    assert t("waste_found").photo_required and t("bill_comparison").photo_required
    assert not t("gaming_reduced").photo_required


def test_unknown_version_and_type():
    with pytest.raises(ValidationFailed) as e:
        load_catalogue(99)
    assert e.value.field == "version"
    with pytest.raises(ValidationFailed):
        CAT.get("nope")


@pytest.mark.parametrize("device,hours,kwh", [
    ("pc", "2", "0.600"), ("pc", "4", "1.200"), ("console", "1.5", "0.225"),
    ("handheld", "3", "0.030"), ("pc", "0", "0.000"), ("handheld", "0.01", "0.000"),
])
def test_gaming_power_times_hours(device, hours, kwh):
    assert deemed_savings_kwh(t("gaming_reduced"), {"device": device, "hours": hours}) == Decimal(kwh)


def test_other_formulas():
    assert deemed_savings_kwh(t("standby_unplugged"), {"devices": 5, "hours": 10}) == Decimal("0.100")
    assert deemed_savings_kwh(t("phone_charging_reduced"), {"charges": 1}) == Decimal("0.020")
    assert deemed_savings_kwh(t("phone_charging_reduced"), {"charges": 0.5}) == Decimal("0.010")
    assert deemed_savings_kwh(t("waste_found"), {"waste_kind": "street_light_daytime"}) == Decimal("0.100")
    assert deemed_savings_kwh(t("waste_found"), {"waste_kind": "empty_room_lights"}) == Decimal("0.040")
    assert deemed_savings_kwh(t("policy_proposal"), {}) == Decimal("0")


def test_bill_comparison_threshold_and_increase():
    bill = t("bill_comparison")
    assert bill.basis == "measured"
    assert deemed_savings_kwh(bill, {"this_month_kwh": 300, "same_month_last_year_kwh": 330}) == Decimal("30.000")
    # exactly 3 % counts, just under does not
    assert deemed_savings_kwh(bill, {"this_month_kwh": 97, "same_month_last_year_kwh": 100}) == Decimal("3.000")
    assert deemed_savings_kwh(bill, {"this_month_kwh": "97.01", "same_month_last_year_kwh": 100}) == 0
    assert deemed_savings_kwh(bill, {"this_month_kwh": 400, "same_month_last_year_kwh": 330}) == 0
    assert deemed_savings_kwh(bill, {"this_month_kwh": 0, "same_month_last_year_kwh": 0}) == 0


def test_laundry_is_load_shift_not_saving():
    laundry = t("laundry_off_peak")
    assert laundry.basis == "none"
    for hour in (22, 23, 0, 3, 7):
        assert deemed_savings_kwh(laundry, {"loads": 1, "start_hour": hour}) == 0
        assert load_shift_kwh(laundry, {"loads": 2, "start_hour": hour}) == Decimal("1.000")
    for hour in (8, 12, 18, 21):
        with pytest.raises(ValidationFailed) as e:
            load_shift_kwh(laundry, {"loads": 1, "start_hour": hour})
        assert e.value.field == "params.start_hour"
    assert load_shift_kwh(t("gaming_reduced"), {"device": "pc", "hours": 1}) == 0


@pytest.mark.parametrize("key,params,field", [
    ("gaming_reduced", {"device": "pc", "hours": -1}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": float("nan")}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": float("inf")}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": Decimal("NaN")}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": "-Infinity"}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": 4.01}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": 10**30}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": "1e999999999"}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": "9" * 100}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": "two"}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": True}, "params.hours"),
    ("gaming_reduced", {"device": "pc", "hours": [1]}, "params.hours"),
    ("gaming_reduced", {"device": "tv", "hours": 1}, "params.device"),
    ("gaming_reduced", {"hours": 1}, "params.device"),
    ("gaming_reduced", {"device": "pc", "hours": 1, "extra": 1}, "params.extra"),
    ("standby_unplugged", {"devices": 11, "hours": 1}, "params.devices"),
    ("standby_unplugged", {"devices": 1.5, "hours": 1}, "params.devices"),
    ("standby_unplugged", {"devices": 0, "hours": 1}, "params.devices"),
    ("standby_unplugged", {"devices": 1, "hours": 25}, "params.hours"),
    ("phone_charging_reduced", {"charges": 2}, "params.charges"),
    ("laundry_off_peak", {"loads": 1, "start_hour": 24}, "params.start_hour"),
    ("laundry_off_peak", {"loads": 3, "start_hour": 23}, "params.loads"),
    ("bill_comparison", {"this_month_kwh": 300, "same_month_last_year_kwh": 5001}, "params.same_month_last_year_kwh"),
    ("waste_found", {"waste_kind": "nothing"}, "params.waste_kind"),
    ("policy_proposal", {"kwh": 5}, "params.kwh"),
])
def test_bad_params(key, params, field):
    with pytest.raises(ValidationFailed) as e:
        deemed_savings_kwh(t(key), params)
    assert e.value.field == field and e.value.message


def test_params_must_be_a_mapping():
    with pytest.raises(ValidationFailed):
        deemed_savings_kwh(t("gaming_reduced"), [("device", "pc")])


def test_frequency_limits():
    waste = t("waste_found")
    check_frequency(waste, 2, 9)
    with pytest.raises(ValidationFailed) as e:
        check_frequency(waste, 3, 3)
    assert e.value.field == "alreadyToday"
    with pytest.raises(ValidationFailed) as e:
        check_frequency(waste, 0, 10)
    assert e.value.field == "alreadyThisWeek"
    with pytest.raises(ValidationFailed) as e:
        check_frequency(t("bill_comparison"), 0, 0, 1)
    assert e.value.field == "alreadyThisMonth"
    with pytest.raises(ValidationFailed):
        check_frequency(waste, -1, 0)


def _broken(mutate):
    data = copy.deepcopy(RAW)
    mutate(data)
    return data


def _gaming(d):
    return next(a for a in d["activity_types"] if a["key"] == "gaming_reduced")


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.update(schema="x"), "$.schema"),
    (lambda d: d["activity_types"].append(copy.deepcopy(d["activity_types"][0])), "$.activity_types[7].key"),
    (lambda d: _gaming(d)["formula"]["devices"]["pc"].update(power_w=300), "$.activity_types[1].formula.devices.pc.power_w"),
    (lambda d: _gaming(d)["formula"]["devices"]["pc"].update(power_w="-1"), "$.activity_types[1].formula.devices.pc.power_w"),
    (lambda d: _gaming(d)["formula"]["devices"]["pc"].update(power_w="NaN"), "$.activity_types[1].formula.devices.pc.power_w"),
    (lambda d: _gaming(d)["formula"]["devices"].pop("handheld"), "$.activity_types[1].formula.devices"),
    (lambda d: _gaming(d)["formula"].update(hours_param="minutes"), "$.activity_types[1].formula.hours_param"),
    (lambda d: _gaming(d).update(max_per_day=0), "$.activity_types[1].max_per_day"),
    (lambda d: _gaming(d).update(max_per_week=100), "$.activity_types[1].max_per_week"),
    (lambda d: _gaming(d).update(photo_required="no"), "$.activity_types[1].photo_required"),
    (lambda d: _gaming(d).update(basis="guess"), "$.activity_types[1].basis"),
    (lambda d: _gaming(d)["params"][1].update(max="-1"), "$.activity_types[1].params[1].max"),
    (lambda d: _gaming(d)["formula"].update(source=""), "$.activity_types[1].formula.source"),
    (lambda d: d.update(off_peak_windows=[]), "$.activity_types[0].formula"),
])
def test_loader_rejects_bad_data(mutate, field):
    with pytest.raises(CatalogueError) as e:
        parse_catalogue(_broken(mutate))
    assert e.value.field == field
