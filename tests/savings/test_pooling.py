import pytest

from backend.savings.pooling import Member, pool

SHORT = [Member("b", 25.0, 20.4), Member("c", 25.0, 17.0), Member("d", 25.0, 25.0)]


def test_surplus_covers_every_shortfall():
    r = pool([Member("a", 25.0, 40.0), *SHORT])
    assert r.rate_before == pytest.approx(0.874)  # (25 + 20.4 + 17 + 25) / 100
    assert r.rate_after == pytest.approx(1.0)
    a, b, c, d = r.members
    assert (b.received_kwh, c.received_kwh) == pytest.approx((4.6, 8.0))
    assert a.given_kwh == pytest.approx(12.6) and a.credited_after_kwh == pytest.approx(25.0)
    assert d.received_kwh == 0.0 and r.uncovered_kwh == pytest.approx(0.0)


def test_partial_cover_is_shared_by_shortfall():
    r = pool([Member("a", 25.0, 30.0), *SHORT])  # 5 kWh surplus for 12.6 kWh shortfall
    assert r.rate_before == pytest.approx(0.874)
    assert r.rate_after == pytest.approx(0.924)
    a, b, c, _ = r.members
    assert b.received_kwh == pytest.approx(5 * 4.6 / 12.6) and c.received_kwh == pytest.approx(5 * 8 / 12.6)
    assert a.given_kwh == pytest.approx(5.0) and r.uncovered_kwh == pytest.approx(7.6)
    assert b.rate_after == pytest.approx((20.4 + 5 * 4.6 / 12.6) / 25)


def test_negative_delivery_and_validation():
    r = pool([Member("a", 10.0, -2.0), Member("b", 10.0, 14.0)])
    assert r.members[0].credited_before_kwh == -2.0 and r.members[0].received_kwh == pytest.approx(4.0)
    with pytest.raises(ValueError):
        pool([Member("a", 0.0, 1.0)])
