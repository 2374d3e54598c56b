"""The app's pure pieces: form checks from the catalogue, the month summary, the baseline in words."""

from __future__ import annotations

from datetime import date

import pytest

from mobile.i18n import set_language

PARAM = {"name": "hours", "type": "decimal", "required": True, "min": "0", "max": "4", "unit": "h", "choices": []}


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("ko")


def test_check_value_follows_the_catalogue() -> None:
    from mobile.screens.log_activity import check_value

    assert check_value(PARAM, "1,5") == ("1.5", None)
    assert check_value(PARAM, "") == (None, "Required")
    assert check_value(PARAM, "5")[1] == "Between 0 and 4"
    assert check_value(PARAM, "abc")[1] == "Enter a number"
    assert check_value({**PARAM, "type": "integer"}, "1.5")[1] == "Enter a whole number"
    assert check_value({**PARAM, "type": "hour", "min": None, "max": None}, "24")[1] == "Between 0 and 23"
    assert check_value({**PARAM, "type": "hour", "min": None, "max": None}, "23") == (23, None)
    choice = {**PARAM, "type": "choice", "choices": ["pc", "console"]}
    assert check_value(choice, "pc") == ("pc", None) and check_value(choice, "tv")[1] == "Choose one"
    assert check_value({**PARAM, "required": False}, " ") == (None, None)


def test_month_summary_counts_accepted_kwh_and_the_streak() -> None:
    from mobile.screens.home import month_summary

    acts = [
        {"occurredOn": "2026-05-04", "status": "ACCEPTED", "kwh": "0.300"},
        {"occurredOn": "2026-05-03", "status": "PENDING_EVIDENCE", "kwh": "0.100"},
        {"occurredOn": "2026-05-02", "status": "REJECTED", "kwh": "1.000"},
        {"occurredOn": "2026-05-01", "status": "ACCEPTED", "kwh": "0.200"},
        {"occurredOn": "2026-04-30", "status": "ACCEPTED", "kwh": "5.000"},
    ]
    summary = month_summary(acts, date(2026, 5, 4))
    assert summary["kwh"] == pytest.approx(0.5) and summary["streak"] == 2 and summary["count"] == 4
    assert month_summary(acts, date(2026, 5, 5))["streak"] == 2  # today not logged yet: still running
    assert month_summary(acts, date(2026, 5, 6))["streak"] == 0


def test_baseline_in_words() -> None:
    from mobile.screens.dr import explain_baseline

    settled = {"baselineKwh": 1.2, "actualKwh": 0.9, "reductionKwh": 0.3, "usedDays": ["d"] * 6}
    assert explain_baseline(settled) == ("On 6 similar days before, your home usually used 1.20 kWh in these hours. "
                                         "This time it used 0.90 kWh, so you saved 0.30 kWh.")
    assert "no penalty" in explain_baseline({**settled, "baselineKwh": None})


def test_live_view_in_words() -> None:
    from mobile.screens.dr import explain_live

    view = {"targetKw": 5.0, "reductionKw": 1.26, "updatedAt": "2026-05-04T09:30:00+00:00"}
    assert explain_live(view).startswith("Together 1.3 kW less of the 5.0 kW goal · updated ")
    assert explain_live({**view, "reductionKw": -0.4}).startswith("Together 0.0 kW less")  # more use is not "less"
    assert explain_live({**view, "reductionKw": None}) == (
        "Goal: 5.0 kW less. The total appears once enough homes take part.")


def test_key_fingerprint_and_qr() -> None:
    from mobile.settings import key_fingerprint
    from mobile.widgets.qr import qr_png

    fp = key_fingerprint("peoples-vpp.local/ledger+1234abcd+AAAA")
    assert fp.startswith("peoples-vpp.local/ledger ") and len(fp.split()) == 5
    assert qr_png("PVPP1-code").startswith(b"\x89PNG")


def test_class_delivery_shows_over_delivery() -> None:
    """The school DR screen's line is delivered ÷ contracted, not the pooled rate that stops at 100 %."""
    from mobile.screens.school import delivery_text

    team = {"householdsPooled": 3, "deliveredKwh": 3.6, "contractedKwh": 2.4, "rateBefore": 1.0, "rateAfter": 1.0}
    assert delivery_text("2-1", team) == "2-1: delivered 3.60 kWh of 2.40 kWh (150%)"
    short = {**team, "deliveredKwh": 1.2, "rateBefore": 0.5, "rateAfter": 0.5}
    assert delivery_text("2-1", short) == "2-1: delivered 1.20 kWh of 2.40 kWh (50%)"
    assert delivery_text("2-2", {**team, "householdsPooled": 0}) == "2-2: no household measured"


def test_pairing_form_sends_the_default_layout_as_none_and_channels_from_zero() -> None:
    from mobile.screens.plug_pairing import channel_argument, template_argument

    assert template_argument("TASMOTA", "%prefix%/%topic%/", "strip") is None
    assert template_argument("TASMOTA", " %topic%/%prefix%/ ", "strip") == "%topic%/%prefix%/"
    assert template_argument("SHELLY_GEN2", "shellypro4pm-1", "shellypro4pm-1") is None
    assert template_argument("SHELLY_GEN2", "home/garage/strip", "shellypro4pm-1") == "home/garage/strip"
    assert template_argument("SHELLY_GEN1", "anything", "shelly1") is None
    assert channel_argument([3, 1, 3]) == [0, 2]
