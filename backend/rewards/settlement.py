"""Monthly settlement of a programme: the month-end conversions its rules call for.

For every participant (members of households in the programme's municipality, and students of
its enrolled schools), in a fixed order:

1. a student of an enrolled school: points -> volunteer minutes, up to the month's cap;
2. anyone: mileage -> local coins once the threshold is reached, within the monthly cap per
   person and the programme's remaining budget.

All legs are dated at the last second of the month (in the display time zone) and their refs
name the programme, the month and the holder, so the job is idempotent: a rerun after a crash
skips holders already settled and appends exactly the legs an uninterrupted run would have,
in the same order. Batches commit one at a time; a kill loses at most the open batch.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise import connections

from backend.accounts.models import Role, User
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import LedgerWriter, is_postgres, ledger_transaction, txn_for
from backend.rewards import formula
from backend.rewards.models import Programme, ProgrammeEnrolment
from backend.rewards.programmes import local_month_bounds
from backend.settings import Settings


@dataclass
class SettlementReport:
    programme_id: int
    month: str
    participants: int = 0
    settled: int = 0  # holders that got at least one leg in this run
    skipped: int = 0  # already settled by an earlier run
    entries: int = 0
    volunteer_minutes: int = 0
    coins_won: int = 0
    budget_exhausted: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class Participant:
    pseudonym: UUID
    earns_minutes: bool


async def participants(programme: Programme) -> list[Participant]:
    """Everyone the programme settles, ordered by pseudonym (a fixed order for reruns)."""
    schools = await ProgrammeEnrolment.filter(programme_id=programme.id).values_list("school_id", flat=True)
    rows = await _people_rows(programme.municipality_id, list(schools))
    enrolled = set(schools)
    people: dict[UUID, bool] = {}
    for pseudonym, role, school_id in rows:
        key = pseudonym if isinstance(pseudonym, UUID) else UUID(str(pseudonym))
        people[key] = people.get(key, False) or (role == Role.STUDENT and school_id in enrolled)
    return [Participant(p, people[p]) for p in sorted(people)]


async def _people_rows(municipality_id: int, schools: list[int]) -> list[tuple]:
    """(pseudonym, role, school_id) of the municipality's household members and of the enrolled
    schools' students (someone in both appears twice)."""
    conn = connections.get("default")
    if is_postgres(conn):  # millions of rows: skip the ORM's per-row work
        _, rows = await conn.execute_query(
            'SELECT u.pseudonym, u.role, u.school_id FROM "user" u JOIN household h ON h.id = u.household_id '
            "WHERE u.role = ANY($1::text[]) AND h.municipality_id = $2 "
            'UNION ALL SELECT pseudonym, role, school_id FROM "user" WHERE role = $3 AND school_id = ANY($4::int[])',
            [[str(Role.STUDENT), str(Role.PARENT)], municipality_id, str(Role.STUDENT), schools])
        return [tuple(row) for row in rows]
    rows = await User.filter(
        role__in=[Role.STUDENT, Role.PARENT], household__municipality_id=municipality_id
    ).values_list("pseudonym", "role", "school_id")
    if schools:
        rows += await User.filter(role=Role.STUDENT, school_id__in=schools).values_list(
            "pseudonym", "role", "school_id")
    return rows


#: A holder with any of these legs was settled by an earlier (possibly interrupted) run. A holder
#: who got no leg is simply evaluated again, which changes nothing unless new points arrived.
_CREDIT_LEGS = ("volunteer:credit", "coins:credit")
_MINUTES, _COINS = str(Asset.VOLUNTEER_MINUTES), str(Asset.COINS_WON)
_MINUTES_LAST_DAY = f"{_MINUTES}:last_day"


def _ref_prefix(programme: Programme, month: str, who: UUID) -> str:
    """The start of every ref of one holder's legs: ``settle:<programme>:<month>:<holder>:``."""
    return f"settle:{programme.id}:{month}:{who}:"


async def _month_credits(w: LedgerWriter, accounts: list[UUID], since: datetime, until: datetime,
                         scope: str, day_start: datetime) -> dict[tuple[UUID, str], int]:
    """Minutes and coins credited to each account in the month (and minutes on its last day)."""
    assets, scopes = [str(Asset.VOLUNTEER_MINUTES), str(Asset.COINS_WON)], ["", scope]
    if is_postgres(w.conn):  # array parameters: no IN list of thousands of terms to build
        _, rows = await w.conn.execute_query(
            "SELECT account, asset, amount, recorded_at FROM ledger_entry WHERE account = ANY($1::uuid[]) "
            "AND asset = ANY($2::text[]) AND amount > 0 AND kind = $3 AND recorded_at >= $4 AND recorded_at < $5 "
            "AND scope = ANY($6::text[])", [accounts, assets, str(EntryKind.CONVERSION), since, until, scopes])
        rows = [tuple(row) for row in rows]
    else:
        rows = await LedgerEntry.filter(
            account__in=accounts, asset__in=assets, amount__gt=0, kind=EntryKind.CONVERSION,
            recorded_at__gte=since, recorded_at__lt=until, scope__in=scopes,
        ).using_db(w.conn).values_list("account", "asset", "amount", "recorded_at")
    out: dict[tuple[UUID, str], int] = defaultdict(int)
    for account, asset, amount, recorded_at in rows:
        who = account if isinstance(account, UUID) else UUID(str(account))
        out[(who, str(asset))] += amount
        if recorded_at >= day_start:
            out[(who, f"{asset}:last_day")] += amount
    return out


async def settle_month(settings: Settings, programme_id: int, year: int, month: int, *,
                       batch_size: int = 1_000, progress: Callable[[SettlementReport], None] | None = None,
                       after_batch: Callable[[int], None] | None = None) -> SettlementReport:
    """Settle one month of one programme; safe to run again (see the module docstring)."""
    started = time.perf_counter()
    programme = await Programme.get(id=programme_id).prefetch_related("municipality")
    rules = formula.load_rules(programme.rules_year)
    label = f"{year:04d}-{month:02d}"
    since, until = local_month_bounds(year, month, settings.display_timezone)
    at = until - timedelta(seconds=1)
    scope = programme.municipality.code
    report = SettlementReport(programme.id, label)
    people = await participants(programme)
    report.participants = len(people)
    for number, start in enumerate(range(0, len(people), batch_size)):
        batch = people[start:start + batch_size]
        async with ledger_transaction(at) as w:
            await _settle_batch(w, programme, rules, batch, label, since, until, scope, report)
        if progress:
            progress(report)
        if after_batch:
            after_batch(number)
    report.seconds = time.perf_counter() - started
    return report


async def _settle_batch(w: LedgerWriter, programme: Programme, rules: formula.ConversionRules,
                        batch: list[Participant], label: str, since: datetime, until: datetime, scope: str,
                        report: SettlementReport) -> None:
    prefixes = {p.pseudonym: _ref_prefix(programme, label, p.pseudonym) for p in batch}
    done_refs = await w.existing_refs(prefixes[p.pseudonym] + leg for p in batch for leg in _CREDIT_LEGS)
    todo = [p for p in batch if not any(prefixes[p.pseudonym] + leg in done_refs for leg in _CREDIT_LEGS)]
    report.skipped += len(batch) - len(todo)
    if not todo:
        return
    accounts = [p.pseudonym for p in todo]
    balances = await w.balances([(a, asset, "") for a in accounts for asset in (Asset.POINTS, Asset.MILEAGE_WON)])
    credits = await _month_credits(w, accounts, since, until, scope, until - timedelta(days=1))
    fresh = await Programme.filter(id=programme.id).using_db(w.conn).get()
    budget_left = fresh.coin_budget_won - fresh.coins_issued_won
    issued = 0
    for p in todo:
        legs_before = len(w.pending)
        who = p.pseudonym
        ref = prefixes[who]
        if p.earns_minutes:
            r = formula.convert_to_volunteer_minutes(
                max(balances[(who, Asset.POINTS, "")], 0), credits[(who, _MINUTES_LAST_DAY)],
                credits[(who, _MINUTES)], rules)
            if r.minutes:
                txn = txn_for(ref + "volunteer")
                w.add(EntryKind.CONVERSION, who, Asset.POINTS, -r.points_used,
                      ref + "volunteer:debit", txn=txn, memo=r.reason[:200])
                w.add(EntryKind.CONVERSION, who, Asset.VOLUNTEER_MINUTES, r.minutes,
                      ref + "volunteer:credit", txn=txn, memo=f"settlement {label}")
                report.volunteer_minutes += r.minutes
        c = formula.convert_to_coins(max(balances[(who, Asset.MILEAGE_WON, "")], 0),
                                     credits[(who, _COINS)],
                                     min(budget_left - issued, formula.MAX_WON), rules)
        if c.coins_won:
            txn = txn_for(ref + "coins")
            w.add(EntryKind.CONVERSION, who, Asset.MILEAGE_WON, -c.mileage_used,
                  ref + "coins:debit", txn=txn, memo=c.reason[:200])
            w.add(EntryKind.CONVERSION, who, Asset.COINS_WON, c.coins_won,
                  ref + "coins:credit", scope=scope, txn=txn, memo=f"settlement {label}")
            issued += c.coins_won
        elif c.capped_by == "budget":
            report.budget_exhausted = True
        if len(w.pending) > legs_before:
            report.settled += 1
    if issued:
        updated = await Programme.filter(
            id=programme.id, coins_issued_won=fresh.coins_issued_won
        ).using_db(w.conn).update(coins_issued_won=fresh.coins_issued_won + issued)
        if updated != 1:
            raise RuntimeError("programme budget changed outside the ledger lock")
    report.coins_won += issued
    report.entries += len(w.pending)
