"""The monthly municipal report's figures, summed from the ledger and the records in the database.

kWh saved (measured by DR settlements, deemed by the activity catalogue), DR delivery against
each event's target, avoided CO2 at the configured grid factor, volunteer hours, coins issued
and redeemed, and participation by school. Every money and time figure is a ledger sum, so the
report reconciles with ``pvpp ledger verify``'s ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from backend.municipalities.counter import coin_sums
from backend.municipalities.models import MunicipalReport, Municipality
from backend.rewards.programmes import local_day_bounds
from backend.schools.periods import PeriodKind, period_of
from backend.schools.scoreboard import Level, group_totals
from backend.schools.scoring import normalise
from backend.schools.sql import Sql


async def _one(sql: Sql, statement: str) -> float:
    rows = await sql.rows(statement)
    return float((rows[0]["v"] if rows else 0) or 0)


async def figures(municipality: Municipality, year: int, month: int, tz: str, grid_factor: float,
                  min_students: int) -> dict:
    period = period_of(PeriodKind.MONTH, date(year, month, 1))
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]
    sql = Sql()
    deemed = await _one(sql, (
        f"SELECT SUM(a.kwh) AS v FROM activity a JOIN programme p ON p.id = a.programme_id WHERE "
        f"p.municipality_id = {sql.p(municipality.id)} AND a.status = {sql.p('accepted')} "
        f"AND a.occurred_on >= {sql.p(period.start)} AND a.occurred_on < {sql.p(period.end)}"))
    sql = Sql()
    events = await sql.rows(
        f"SELECT e.id AS id, e.title AS title, e.target_kw AS target_kw, e.starts_at AS s, e.ends_at AS e, "
        f"COALESCE(SUM(CASE WHEN st.status = {sql.p('settled')} THEN st.reduction_kwh ELSE 0 END), 0) AS delivered "
        f"FROM dr_event e LEFT JOIN dr_settlement st ON st.event_id = e.id WHERE e.municipality_id = "
        f"{sql.p(municipality.id)} AND e.state = {sql.p('ended')} AND {sql.ts('e.starts_at')} >= {sql.p(since)} "
        f"AND {sql.ts('e.starts_at')} < {sql.p(until)} GROUP BY e.id, e.title, e.target_kw, e.starts_at, e.ends_at "
        f"ORDER BY e.id")
    dr = []
    for r in events:
        start, end = (_dt(r["s"]), _dt(r["e"]))
        target = float(r["target_kw"]) * (end - start).total_seconds() / 3600
        dr.append({"eventId": r["id"], "title": r["title"], "targetKwh": round(target, 3),
                   "deliveredKwh": round(float(r["delivered"]), 3),
                   "deliveryRate": round(float(r["delivered"]) / target, 4) if target else None})
    sql = Sql()
    measured = await _one(sql, (
        f"SELECT SUM(st.reduction_kwh) AS v FROM dr_settlement st JOIN dr_event e ON e.id = st.event_id "
        f"JOIN household h ON h.id = st.household_id WHERE h.municipality_id = {sql.p(municipality.id)} "
        f"AND st.status = {sql.p('settled')} AND {sql.ts('e.starts_at')} >= {sql.p(since)} "
        f"AND {sql.ts('e.starts_at')} < {sql.p(until)}"))
    sql = Sql()
    minutes = int(await _one(sql, (
        f"SELECT SUM(l.amount) AS v FROM ledger_entry l JOIN \"user\" u ON u.pseudonym = l.account "
        f"JOIN school sc ON sc.id = u.school_id WHERE sc.municipality_id = {sql.p(municipality.id)} "
        f"AND l.asset = {sql.p('volunteer_minutes')} AND {sql.ts('l.recorded_at')} >= {sql.p(since)} "
        f"AND {sql.ts('l.recorded_at')} < {sql.p(until)}")))
    issued, redeemed = await coin_sums(municipality.code, since, until)
    schools = []
    for t in await group_totals(Level.SCHOOL, municipality.id, period, tz):
        s = normalise(t, min_students)
        schools.append({"schoolId": t.group_id, "school": t.name, "enrolled": t.enrolled,
                        "participationRate": s.participation_rate, "suppressed": s.suppressed})
    saved = measured + deemed
    return {
        "municipality": municipality.name, "code": municipality.code, "year": year, "month": month,
        "periodStart": period.start.isoformat(), "periodEnd": period.end.isoformat(),
        "measuredKwh": round(measured, 3), "deemedKwh": round(deemed, 3), "savedKwh": round(saved, 3),
        "gridFactorTPerMwh": grid_factor, "avoidedTCo2": round(saved / 1000 * grid_factor, 6),
        "dr": dr, "volunteerMinutes": minutes, "volunteerHours": minutes // 60,
        "coinsIssuedWon": issued, "coinsRedeemedWon": redeemed,
        "schools": sorted(schools, key=lambda s: (s["school"], s["schoolId"])),
    }


def _dt(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).astimezone(UTC)


async def generate(municipality_id: int, year: int, month: int, tz: str, grid_factor: float,
                   min_students: int, now: datetime | None = None) -> MunicipalReport:
    """Compute (or recompute) and store a month's report; idempotent per municipality and month."""
    municipality = await Municipality.get(id=municipality_id)
    data = await figures(municipality, year, month, tz, grid_factor, min_students)
    now = now or datetime.now(UTC)
    row, created = await MunicipalReport.get_or_create(
        municipality_id=municipality_id, year=year, month=month, defaults={"figures": data, "generated_at": now})
    if not created:
        row.figures, row.generated_at = data, now
        await row.save(update_fields=["figures", "generated_at"])
    return row


def previous_month(now: datetime, tz: str) -> tuple[int, int]:
    from backend.rewards.programmes import local_date

    today = local_date(now, tz)
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
