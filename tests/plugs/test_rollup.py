"""Hourly rollups: hand-computed cases and properties (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backend.plugs.rollup import HourRollup, Sample, hour_floor, rollup_hours

T0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
H = timedelta(hours=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def c(seconds: float, counter: float | None, power: float | None = None) -> Sample:
    return Sample(ts=at(seconds), counter_wh=counter, power_w=power)


def total(rows: list[HourRollup]) -> float:
    return sum(r.energy_wh for r in rows)


# --- hand-computed cases -------------------------------------------------------------------


def test_hour_floor():
    assert hour_floor(at(3599.999)) == T0
    cet = timezone(timedelta(hours=1))
    assert hour_floor(datetime(2025, 3, 1, 11, 30, tzinfo=cet)) == T0
    assert hour_floor(T0).tzinfo is UTC
    with pytest.raises(ValueError):
        hour_floor(datetime(2025, 3, 1, 10))


def test_steady_60w_every_300s_is_60wh_fully_covered():
    samples = [c(t, 1000 + 5 * (t // 300), 60.0) for t in range(0, 7200, 300)]
    rows = rollup_hours(samples, T0, T0 + 2 * H, before=c(-300, 995, 60.0),
                        after=c(7200, 1120, 60.0))
    assert [r.hour for r in rows] == [T0, T0 + H]
    for r in rows:
        assert r.energy_wh == pytest.approx(60.0)
        assert r.covered_s == 3600.0
        assert r.samples == 12
        assert r.power_max_w == 60.0 and r.power_avg_w == 60.0
        assert (r.resets, r.spikes) == (0, 0)


def test_interval_crossing_hour_boundary_splits_by_overlap():
    # 3000 s -> 3900 s, 90 Wh: 600 s in hour 0 (60 Wh), 300 s in hour 1 (30 Wh).
    rows = rollup_hours([c(3000, 10), c(3900, 100)], T0, T0 + 2 * H)
    assert rows[0].energy_wh == pytest.approx(60.0)
    assert rows[1].energy_wh == pytest.approx(30.0)
    assert rows[0].covered_s == 600.0
    assert rows[1].covered_s == 300.0
    assert (rows[0].samples, rows[1].samples) == (1, 1)


def test_empty_hours_are_returned_with_no_data():
    rows = rollup_hours([], T0, T0 + 3 * H)
    assert len(rows) == 3
    assert all(r == HourRollup(r.hour, 0.0, 0.0, 0, None, None, 0, 0) for r in rows)
    assert rollup_hours([], T0, T0) == []


def test_two_hour_offline_gap_is_uncovered_but_energy_preserved():
    # Online in hour 0 until 3600, offline for hours 1 and 2, back at 3 h.
    samples = [c(3000, 0), c(3600, 10), c(3 * 3600, 130), c(3 * 3600 + 600, 140)]
    rows = rollup_hours(samples, T0, T0 + 4 * H)
    assert [r.covered_s for r in rows] == [600.0, 0.0, 0.0, 600.0]
    assert [r.energy_wh for r in rows] == pytest.approx([10.0, 60.0, 60.0, 10.0])
    assert total(rows) == pytest.approx(140.0)


def test_reset_attributes_new_counter_and_is_uncovered():
    samples = [c(0, 990), c(300, 1000), c(600, 5), c(900, 10)]
    rows = rollup_hours(samples, T0, T0 + H)
    (r,) = rows
    assert r.resets == 1 and r.spikes == 0
    assert r.energy_wh == pytest.approx(10 + 5 + 5)
    assert r.covered_s == 600.0  # 0..300 and 600..900; the reset interval is not covered


def test_reset_with_implausible_new_counter_gives_no_energy():
    # 5000 Wh in 300 s would be 60 kW: the restarted counter cannot be trusted either.
    rows = rollup_hours([c(0, 10000), c(300, 5000)], T0, T0 + H)
    assert rows[0].energy_wh == 0.0
    assert rows[0].resets == 1 and rows[0].covered_s == 0.0


def test_single_glitch_spike_is_dropped():
    samples = [c(0, 100), c(300, 100000), c(600, 101)]
    (r,) = rollup_hours(samples, T0, T0 + H)
    assert r.spikes == 1 and r.resets == 0
    assert r.energy_wh == pytest.approx(1.0)
    assert r.covered_s == 600.0  # 0..600 as one interval
    assert r.samples == 3


def test_spike_at_last_sample_is_dropped_and_counted():
    (r,) = rollup_hours([c(0, 100), c(300, 101), c(600, 100000)], T0, T0 + H)
    assert r.spikes == 1
    assert r.energy_wh == pytest.approx(1.0)
    assert r.covered_s == 300.0


def test_confirmed_rebase_is_a_reset_not_a_spike():
    samples = [c(0, 90), c(300, 100), c(600, 50000), c(900, 50010), c(1200, 50020)]
    (r,) = rollup_hours(samples, T0, T0 + H)
    assert (r.resets, r.spikes) == (1, 0)
    assert r.energy_wh == pytest.approx(10 + 10 + 10)  # 300..600 contributes nothing
    assert r.covered_s == 900.0


def test_rebase_confirmed_by_after_sample():
    samples = [c(3000, 100), c(3300, 50000)]
    rows = rollup_hours(samples, T0, T0 + H, after=c(3900, 50010))
    assert (rows[0].resets, rows[0].spikes) == (1, 0)
    assert rows[0].energy_wh == pytest.approx(5.0)  # 3300..3600 of 3300..3900
    assert rows[0].covered_s == 300.0


def test_split_at_a_spike_needs_the_last_accepted_sample_as_before():
    samples = [c(3300, 100), c(3500, 100000), c(3700, 101), c(3900, 102)]
    whole = rollup_hours(samples, T0, T0 + 2 * H)
    left = rollup_hours(samples[:2], T0, T0 + H, after=samples[2])
    right = rollup_hours(samples[2:], T0 + H, T0 + 2 * H, before=samples[0])
    assert left + right == whole
    assert (whole[0].spikes, whole[1].resets) == (1, 0)
    # The spike itself as ``before`` looks like a reset from the right side (documented).
    naive = rollup_hours(samples[2:], T0 + H, T0 + 2 * H, before=samples[1])
    assert naive[0].resets == 1


def test_equal_timestamps_keep_the_first():
    samples = [c(0, 100, 10.0), c(300, 105, 20.0), c(300, 999, 900.0), c(600, 110, 30.0)]
    (r,) = rollup_hours(samples, T0, T0 + H)
    assert r.energy_wh == pytest.approx(10.0)
    assert r.samples == 3
    assert r.power_max_w == 30.0 and r.power_avg_w == pytest.approx(20.0)
    assert (r.resets, r.spikes) == (0, 0)


def test_before_and_after_attribute_edge_intervals_but_are_not_counted():
    rows = rollup_hours([c(3600 + 1800, 130)], T0 + H, T0 + 2 * H,
                        before=c(3600 - 600, 100, 500.0), after=c(7200 + 300, 140, 700.0))
    (r,) = rows
    # before->sample: 2400 s, 30 Wh, 1800 s of it inside; sample->after: 2100 s, 10 Wh,
    # 1800 s inside. Both longer than max_gap_s: energy kept, nothing covered.
    assert r.energy_wh == pytest.approx(30 * 1800 / 2400 + 10 * 1800 / 2100)
    assert r.covered_s == 0.0
    assert r.samples == 1
    assert r.power_max_w is None and r.power_avg_w is None

    rows = rollup_hours([c(3600 + 300, 105)], T0 + H, T0 + 2 * H,
                        before=c(3600 - 300, 100), after=c(7200 + 300, 150))
    (r,) = rows
    # 3300..3900 covered (300 s inside), 3900..7500 is a gap (3300 s inside of 3600 s).
    assert r.covered_s == 300.0
    assert r.energy_wh == pytest.approx(2.5 + 45 * 3300 / 3600)


def test_time_outside_first_and_last_counter_is_uncovered():
    (r,) = rollup_hours([c(600, 1), c(900, 2), c(1200, 3)], T0, T0 + H)
    assert r.covered_s == 600.0
    assert r.energy_wh == pytest.approx(2.0)


def test_power_only_integration():
    samples = [c(0, None, 100.0), c(300, None, 200.0), c(600, None, None), c(900, None, 100.0)]
    (r,) = rollup_hours(samples, T0, T0 + H)
    # 0..300 at (100+200)/2 = 12.5 Wh; 300..900 at 150 W = 25 Wh.
    assert r.energy_wh == pytest.approx(37.5)
    assert r.covered_s == 900.0
    assert r.samples == 4
    assert r.power_max_w == 200.0 and r.power_avg_w == pytest.approx(400 / 3)


def test_power_only_gap_keeps_energy_uncovered():
    (r,) = rollup_hours([c(0, None, 100.0), c(1800, None, 100.0)], T0, T0 + H)
    assert r.energy_wh == pytest.approx(50.0)
    assert r.covered_s == 0.0


def test_any_counter_wins_over_power():
    samples = [c(0, None, 1000.0), c(300, 100, 1000.0), c(600, None, 1000.0), c(900, 101)]
    (r,) = rollup_hours(samples, T0, T0 + H)
    assert r.energy_wh == pytest.approx(1.0)
    assert r.covered_s == 600.0


def test_out_of_order_input_is_rejected():
    with pytest.raises(ValueError, match="out of order"):
        rollup_hours([c(300, 2), c(0, 1)], T0, T0 + H)


@pytest.mark.parametrize("kwargs", [
    {"samples": [c(3600, 1)], "start": T0, "end": T0 + H},              # outside range
    {"samples": [], "start": T0 + timedelta(minutes=1), "end": T0 + H},  # not a whole hour
    {"samples": [], "start": T0 + H, "end": T0},                         # reversed
    {"samples": [], "start": T0, "end": T0 + H, "before": c(0, 1)},      # before not before
    {"samples": [], "start": T0, "end": T0 + H, "after": c(3599, 1)},    # after too early
    {"samples": [Sample(datetime(2025, 3, 1, 10), 1, None)], "start": T0, "end": T0 + H},
    {"samples": [c(0, float("nan"))], "start": T0, "end": T0 + H},
])
def test_invalid_input_is_rejected(kwargs):
    with pytest.raises(ValueError):
        rollup_hours(**kwargs)


# --- properties ----------------------------------------------------------------------------

MAX_GAP = 900.0
MAX_POWER = 3680.0
HOURS = 6


@st.composite
def monotonic_series(draw) -> list[Sample]:
    """A counter sampled every 1..900 s at 0..MAX_POWER, within HOURS hours from T0."""
    t = draw(st.integers(0, 3 * 3600))
    counter = draw(st.floats(0, 1e6))
    out = []
    for _ in range(draw(st.integers(0, 60))):
        if t >= HOURS * 3600:
            break
        out.append(Sample(at(t), counter, draw(st.none() | st.floats(0, MAX_POWER))))
        dt = draw(st.integers(1, int(MAX_GAP)))
        counter += draw(st.floats(0, 0.999)) * MAX_POWER * dt / 3600
        t += dt
    return out


@st.composite
def messy_series(draw) -> list[Sample]:
    """Counter and/or power with gaps, resets, spikes, re-bases and missing values."""
    power_only = draw(st.booleans())
    t = draw(st.integers(0, 3600))
    counter = draw(st.floats(0, 1e5))
    out = []
    for _ in range(draw(st.integers(0, 50))):
        if t >= HOURS * 3600:
            break
        kind = draw(st.sampled_from(["ok"] * 12 + ["reset", "spike", "rebase", "nocounter"]))
        value = counter
        if kind == "reset":
            counter = value = draw(st.floats(0, 50))
        elif kind == "spike":
            value = counter + draw(st.floats(1e5, 1e7))
        elif kind == "rebase":
            counter = value = counter + draw(st.floats(1e5, 1e7))
        power = draw(st.none() | st.floats(0, MAX_POWER))
        if power_only:
            out.append(Sample(at(t), None, power))
        else:
            out.append(Sample(at(t), None if kind == "nocounter" else value, power))
        dt = draw(st.integers(1, 4000) if draw(st.integers(0, 9)) == 0 else st.integers(1, 600))
        counter += draw(st.floats(0, 1)) * MAX_POWER * dt / 3600
        t += dt
    return out


def by_hours(samples: list[Sample], a: datetime, b: datetime) -> list[Sample]:
    return [s for s in samples if a <= s.ts < b]


def nearest(samples: list[Sample], ts: datetime, *, side: str, counter: bool) -> Sample | None:
    """The usable sample nearest to ``ts`` on one side: with a counter, or with power."""
    def usable(s: Sample) -> bool:
        return s.counter_wh is not None if counter else s.power_w is not None

    if side == "before":
        return next((s for s in reversed(samples) if s.ts < ts and usable(s)), None)
    return next((s for s in samples if s.ts >= ts and usable(s)), None)


@given(monotonic_series())
def test_monotonic_counter_energy_is_last_minus_first(samples):
    rows = rollup_hours(samples, T0, T0 + HOURS * H)
    expected = samples[-1].counter_wh - samples[0].counter_wh if samples else 0.0
    assert total(rows) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    span = (samples[-1].ts - samples[0].ts).total_seconds() if samples else 0.0
    assert sum(r.covered_s for r in rows) == pytest.approx(span)
    assert all(r.resets == 0 and r.spikes == 0 for r in rows)
    assert sum(r.samples for r in rows) == len(samples)


@settings(max_examples=300)
@given(messy_series(), st.integers(1, HOURS - 1), st.booleans())
def test_split_range_matches_single_call(samples, split_hour, outer_edges):
    start, end, split = T0, T0 + HOURS * H, T0 + split_hour * H
    counter = any(s.counter_wh is not None for s in samples)
    # Optionally cut the whole range too, so the outer calls also get before/after.
    if outer_edges:
        start, end = T0 + H, T0 + (HOURS - 1) * H
        split = min(max(split, start + H), end - H)
    outer_before = nearest(samples, start, side="before", counter=counter)
    outer_after = nearest(samples, end, side="after", counter=counter)
    whole = rollup_hours(by_hours(samples, start, end), start, end,
                         before=outer_before, after=outer_after)

    # A spike right at the split cannot be recognised from one side (documented).
    edge_before = nearest(samples, split, side="before", counter=counter)
    edge_after = nearest(samples, split, side="after", counter=counter)
    for edge in (edge_before, edge_after):
        if edge is not None and start <= edge.ts < end:
            assume(whole[(edge.ts - start) // H].spikes == 0)

    left = rollup_hours(by_hours(samples, start, split), start, split,
                        before=outer_before, after=edge_after)
    right = rollup_hours(by_hours(samples, split, end), split, end,
                         before=edge_before, after=outer_after)
    assert left + right == whole


@given(messy_series(), st.integers(0, HOURS - 1), st.integers(1, HOURS))
def test_covered_seconds_stay_within_the_hour(samples, first, n):
    start, end = T0 + first * H, T0 + min(first + n, HOURS) * H
    rows = rollup_hours(by_hours(samples, start, end), start, end,
                        before=nearest(samples, start, side="before", counter=True),
                        after=nearest(samples, end, side="after", counter=True))
    for r in rows:
        assert 0.0 <= r.covered_s <= 3600.0
        assert r.energy_wh >= 0.0


@given(messy_series(), st.data())
def test_inserting_a_duplicate_changes_nothing(samples, data):
    assume(samples)
    i = data.draw(st.integers(0, len(samples) - 1))
    with_dup = [*samples[:i + 1], samples[i], *samples[i + 1:]]
    end = T0 + HOURS * H
    assert rollup_hours(with_dup, T0, end) == rollup_hours(samples, T0, end)
