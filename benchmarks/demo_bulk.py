"""The demo generator's families and their planned history, written in bulk for the benchmarks.

``pvpp demo-data`` plays the plan through the services (minutes for 30 families); the API,
reports and settlement benchmarks need thousands to millions of families, so they take the same
plan here and write its rows directly, on PostgreSQL:

- the demo's places and staff and the two documented families through the services
  (``ensure_population``), then families 2..N from :func:`backend.demo.plan.family` written with
  COPY (household, parent, student, guardian link with consent);
- each family's planned reports of the period (:func:`backend.demo.plan.family_reports`) turned
  into activities the way ``log_activity`` would price and cap them (catalogue kWh, the year's
  points formula, daily/weekly/monthly caps, photo decisions);
- the points award leg of each accepted activity and the parents' month-end conversion of their
  points into mileage (the plan's conversions, as ``convert_points`` writes them), handed to a
  :class:`LegSink`: :class:`LedgerLegs` writes them through the real ledger writer (leaf hashes,
  Merkle nodes, balances), :class:`PlaceholderLegs` with COPY and placeholder leaf hashes (no
  proof or audit may run on such a database).

Families are made, priced and written a chunk at a time, so the size is not bound by the
generator's :data:`~backend.demo.plan.MAX_HOUSEHOLDS` (which bounds a whole plan held in memory
and played through the services). Everything is deterministic from the seed and the anchor day,
except what the services give the two documented families (their pseudonyms are random, as at
any sign-up); a bigger N keeps the first families' people and activities (ledger legs are
ordered by time within a chunk, so their sequence numbers depend on the chunks).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

#: One fixed, well-formed argon2id hash for every bulk user (nobody signs in as them).
FIXED_HASH = ("$argon2id$v=19$m=1024,t=1,p=1$YmVuY2htYXJrLXNhbHQ$"
              "3M0bVNNcpNhXlgr2VN2pRZ1qnKsr0Jf0hQnUjM6FDqU")
CHUNK_FAMILIES = 2_000
PICTURES = 6  # the bulk path uploads no photos: any pool size gives the same reports
ACTIVITY_COLUMNS = ("id", "user_id", "household_id", "programme_id", "idempotency_key", "payload_hash",
                    "activity_type", "catalogue_version", "params", "occurred_on", "status", "kwh", "shifted_kwh",
                    "points", "status_reason", "created_at")
LEDGER_COLUMNS = ("seq", "txn", "kind", "account", "asset", "scope", "amount", "ref", "recorded_at", "leaf_hash",
                  "memo")


@dataclass(frozen=True)
class Member:
    user_id: int
    pseudonym: uuid.UUID
    household_id: int


@dataclass(frozen=True)
class Leg:
    """One ledger leg as the service that writes it in real use would add it."""

    kind: str  # EntryKind value
    account: uuid.UUID
    asset: str  # Asset value
    amount: int
    ref: str
    at: datetime  # UTC
    memo: str
    txn_ref: str  # the ref the transaction id is derived from (the first leg of its transaction)


class LegSink(Protocol):
    async def write(self, legs: list[Leg]) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Places:
    """The demo's municipality, schools, classes, programme and staff (made through the services)."""

    municipality_id: int
    municipality_code: str
    programme_id: int
    rules_year: int
    school_ids: list[int]
    class_ids: dict[tuple[int, str], int]
    officer_email: str
    documented: dict[str, dict[int, Member]]  # "parent"/"student" -> family index -> member


@dataclass
class BulkSummary:
    families: int = 0
    users: int = 0
    activities: int = 0
    activity_status: Counter = field(default_factory=Counter)
    award_legs: int = 0
    conversions: int = 0
    first_activity_id: int = 0
    plugged: list[tuple[int, int]] = field(default_factory=list)  # (family index, household id)
    start: date | None = None
    anchor: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {"families": self.families, "users": self.users, "activities": self.activities,
                "activity_status": dict(self.activity_status), "award_legs": self.award_legs,
                "mileage_conversions": self.conversions, "plugged_families": len(self.plugged),
                "period": [self.start.isoformat(), self.anchor.isoformat()] if self.start else None}


def history_days(anchor: date, days: int) -> list[date]:
    start = anchor - timedelta(days=days)
    return [start + timedelta(days=k) for k in range(days)]


async def ensure_places(seed: int, anchor: date) -> Places:
    """The demo's places and staff and the two documented families, through the services."""
    from backend.demo.accounts import ensure_population
    from backend.demo.plan import SCHOOLS, DemoConfig, make_plan

    pop = await ensure_population(make_plan(DemoConfig(households=2, days=7, seed=seed), anchor))
    classes = {(s, c.name): c.id for s, school in enumerate(pop.schools) for c in await school.classes.all()}
    assert len(classes) == sum(len(names) for _, names in SCHOOLS)
    documented = {
        "parent": {i: Member(u.id, u.pseudonym, u.household_id) for i, u in pop.parents.items()},
        "student": {i: Member(u.id, u.pseudonym, u.household_id) for i, u in pop.students.items()},
    }
    return Places(pop.municipality.id, pop.municipality.code, pop.programme.id, pop.programme.rules_year,
                  [s.id for s in pop.schools], classes, pop.staff["officer"].email, documented)


class _Pricer:
    """Catalogue kWh, points and the reason of a report's (type, params), as ``log_activity`` prices them."""

    def __init__(self, rules_year: int) -> None:
        from backend.activities import catalogue as cat
        from backend.rewards import formula

        self.cat, self.formula = cat, formula
        self.catalogue = cat.load_catalogue()
        self.rules = formula.load_rules(rules_year)
        self.priced: dict[tuple, tuple] = {}

    def price(self, t, params: dict) -> tuple:
        key = (t.key, tuple(sorted(params.items())))
        if key not in self.priced:
            kwh = self.cat.deemed_savings_kwh(t, params)
            points = self.formula.kwh_to_points(kwh, t.basis, False, self.rules)
            normalised = json.dumps({k: str(v) for k, v in self.cat.validate_params(t, params).items()})
            self.priced[key] = (kwh, self.cat.load_shift_kwh(t, params), points.points, points.reason[:200],
                                normalised)
        return self.priced[key]


class DemoBulk:
    """Write families ``0..families-1`` of ``seed`` and ``days`` of their planned history before ``anchor``."""

    def __init__(self, raw, seed: int, anchor: date, days: int, families: int, sink: LegSink,
                 progress: Callable[[str], None] = lambda _m: None, chunk: int = CHUNK_FAMILIES) -> None:
        if families < 2:
            raise ValueError("at least the two documented families")
        self.raw, self.seed, self.anchor, self.sink, self.progress = raw, seed, anchor, sink, progress
        self.days = history_days(anchor, days)
        self.families, self.chunk = families, chunk
        month_end = anchor.replace(day=1) - timedelta(days=1)
        # the plan's month-end conversions (make_plan): only when the month is in the history
        self.convert_at = None
        if month_end >= self.days[0] + timedelta(days=7):
            from backend.demo.plan import local

            self.convert_at = local(month_end, 23, 30).astimezone(UTC)
            self.convert_label = f"{month_end:%Y%m}"

    async def run(self, places: Places) -> BulkSummary:
        from backend.demo.plan import family

        raw = self.raw
        now = datetime.now(UTC)
        summary = BulkSummary(start=self.days[0], anchor=self.anchor)
        self.pricer = _Pricer(places.rules_year)
        self.hid0 = await raw.fetchval("SELECT COALESCE(MAX(id), 0) FROM household")
        self.uid0 = await raw.fetchval('SELECT COALESCE(MAX(id), 0) FROM "user"')
        self.act_id = summary.first_activity_id = await raw.fetchval("SELECT COALESCE(MAX(id), 0) FROM activity")
        self.ids = random.Random(self.seed)  # pseudonyms, drawn in family order
        for lo in range(0, self.families, self.chunk):
            chunk = [family(self.seed, i) for i in range(lo, min(self.families, lo + self.chunk))]
            members = await self._people(chunk, places, now, summary)
            legs = self._activities(chunk, members, places, summary)
            await self._copy_activities()
            await self.sink.write(legs)
            self.progress(f"families {lo + len(chunk):,} of {self.families:,}: {summary.activities:,} activities, "
                          f"{summary.award_legs:,} award legs")
        await self.sink.close()
        for table in ("household", "user", "guardian_link", "activity"):
            await raw.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                              f"(SELECT MAX(id) FROM \"{table}\"))")
        summary.families = self.families
        return summary

    # -- people ------------------------------------------------------------------------------
    async def _people(self, chunk, places: Places, now: datetime, summary: BulkSummary) -> dict[str, dict]:
        members: dict[str, dict[int, Member]] = {"parent": {}, "student": {}}
        households, users, links = [], [], []
        for f in chunk:
            if f.index < 2:
                for who in members:
                    members[who][f.index] = places.documented[who][f.index]
            else:
                hid = self.hid0 + f.index
                households.append((hid, f.name, f.invite_code, places.municipality_id, now))
                for who, email, name in (("parent", f.parent_email, f.parent_name),
                                         ("student", f.student_email, f.student_name)):
                    uid = self.uid0 + 2 * f.index + (who == "student")
                    pseudonym = uuid.UUID(int=self.ids.getrandbits(128), version=4)
                    student = who == "student"
                    users.append((uid, pseudonym, email, FIXED_HASH, name[:60], who, hid,
                                  places.school_ids[f.school] if student else None,
                                  places.class_ids[(f.school, f.class_name)] if student else None,
                                  date(self.anchor.year - f.student_age, 3, 1) if student else None, now))
                    members[who][f.index] = Member(uid, pseudonym, hid)
                links.append((self.uid0 + 2 * f.index, self.uid0 + 2 * f.index + 1, now, now))
            if f.has_plugs:
                summary.plugged.append((f.index, members["parent"][f.index].household_id))
        raw = self.raw
        await raw.copy_records_to_table("household", records=households,
                                        columns=("id", "name", "invite_code", "municipality_id", "created_at"))
        await raw.copy_records_to_table("user", records=users, columns=(
            "id", "pseudonym", "email", "password_hash", "display_name", "role", "household_id", "school_id",
            "school_class_id", "birth_date", "created_at"))
        await raw.copy_records_to_table("guardian_link", records=links,
                                        columns=("guardian_id", "student_id", "consent_given_at", "created_at"))
        summary.users += len(users)
        return members

    # -- activities and their legs --------------------------------------------------------------
    def _activities(self, chunk, members: dict[str, dict], places: Places, summary: BulkSummary) -> list[Leg]:
        from backend.demo.plan import family_reports
        from backend.errors import ValidationFailed

        cat, pricer = self.pricer.cat, self.pricer
        self.acts: list[tuple] = []
        legs: list[Leg] = []
        for f in chunk:
            reports = sorted(family_reports(self.seed, f, self.days, self.anchor, PICTURES),
                             key=lambda r: (r.at, r.key))
            taken: Counter = Counter()
            parent_points: list[tuple[datetime, int]] = []
            for rep in reports:
                m = members[rep.who][f.index]
                t = pricer.catalogue.get(rep.type_key)
                day, week = rep.at.date(), rep.at.date() - timedelta(days=rep.at.date().weekday())
                key_d, key_w, key_m = (m.user_id, t.key, day), (m.user_id, t.key, "w", week), \
                    (m.user_id, t.key, "m", day.month)
                try:
                    cat.check_frequency(t, taken[key_d], taken[key_w], taken[key_m])
                except ValidationFailed:
                    summary.activity_status["refused_by_caps"] += 1
                    continue
                kwh, shifted, points, reason, params = pricer.price(t, rep.params)
                status, awarded_at, memo = "accepted", rep.at, f"{t.name_en} on {day}"
                if t.photo_required:
                    status = "pending_evidence" if rep.photo is None or rep.photo.review_at is None else (
                        "accepted" if rep.photo.approve else "rejected")
                    if status == "accepted":
                        awarded_at, memo = rep.photo.review_at, f"evidence accepted: {rep.photo.reason}"
                if status != "rejected":
                    taken[key_d] += 1
                    taken[key_w] += 1
                    taken[key_m] += 1
                self.act_id += 1
                summary.activities += 1
                summary.activity_status[status] += 1
                self.acts.append((self.act_id, m.user_id, m.household_id, places.programme_id, rep.key[:64],
                                  "0" * 64, t.key, pricer.catalogue.version, params, day, status, kwh, shifted,
                                  points, reason, rep.at))
                if status == "accepted" and points > 0:
                    ref = f"activity:{self.act_id}:award"
                    at = awarded_at.astimezone(UTC)
                    legs.append(Leg("award", m.pseudonym, "points", points, ref, at, memo[:200], ref))
                    summary.award_legs += 1
                    if rep.who == "parent":
                        parent_points.append((at, points))
            leg_pair = self._conversion(f.index, members["parent"][f.index], parent_points)
            if leg_pair:
                legs += leg_pair
                summary.conversions += 1
        legs.sort(key=lambda leg: leg.at)
        return legs

    def _conversion(self, index: int, parent: Member, points: list[tuple[datetime, int]]) -> list[Leg]:
        """The plan's month-end conversion of all of the parent's points into mileage."""
        if self.convert_at is None:
            return []
        balance = sum(p for at, p in points if at < self.convert_at)
        if balance < 20:
            return []
        m = self.pricer.formula.convert_to_mileage(balance, self.pricer.rules)
        if m.won == 0:
            return []
        key = f"demo-{self.seed}-{index}-mileage-{self.convert_label}"
        base = f"convert:{parent.pseudonym}:{key}"
        memo = f"mileage:{balance} | {m.reason}"[:200]
        return [Leg("conversion", parent.pseudonym, "points", -m.points_used, f"{base}:debit", self.convert_at, memo,
                    f"{base}:debit"),
                Leg("conversion", parent.pseudonym, "mileage_won", m.won, f"{base}:credit", self.convert_at, memo,
                    f"{base}:debit")]

    async def _copy_activities(self) -> None:
        if self.acts:
            await self.raw.copy_records_to_table("activity", records=self.acts, columns=ACTIVITY_COLUMNS)
        self.acts = []


@asynccontextmanager
async def summary_triggers_off(raw) -> AsyncIterator[None]:
    """Every table's own triggers (the scoreboard summaries) off while bulk rows go in, for every
    session (the ledger writer uses Tortoise's connections); on again afterwards. Each bulk
    statement would otherwise update the same few group rows once per row in one transaction,
    which PostgreSQL makes quadratic. Rebuild the summaries afterwards
    (``backend.schools.group_summary.rebuild``)."""
    tables = [r[0] for r in await raw.fetch(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace")]
    for table in tables:
        await raw.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    try:
        yield
    finally:
        for table in tables:
            await raw.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')


async def load_with_summaries(raw, places: Places, seed: int, anchor: date, days: int, families: int,
                              sink: LegSink, tz: str, progress: Callable[[str], None]) -> tuple[BulkSummary, float]:
    """:class:`DemoBulk` with the summary triggers off, then the scoreboard summaries rebuilt for
    ``tz``; returns the summary and the rebuild's seconds."""
    from tortoise import connections

    from backend.schools import group_summary

    async with summary_triggers_off(raw):
        bulk = await DemoBulk(raw, seed, anchor, days, families, sink, progress).run(places)
    started = time.perf_counter()
    await group_summary.rebuild(connections.get("default"), tz)
    return bulk, time.perf_counter() - started


class LedgerLegs:
    """Legs through the real ledger writer: one ``ledger_transaction`` per chunk, each leg with the
    transaction id and time the service would give it (leaf hashes, nodes and balances are real)."""

    def __init__(self) -> None:
        self.entries = self.transactions = 0
        self.seconds = 0.0

    async def write(self, legs: list[Leg]) -> None:
        from backend.ledger.entries import Asset, EntryKind
        from backend.ledger.service import ledger_transaction, txn_for

        if not legs:
            return
        started = time.perf_counter()
        async with ledger_transaction(legs[-1].at) as w:
            for leg in legs:
                w.add(EntryKind(leg.kind), leg.account, Asset(leg.asset), leg.amount, leg.ref, memo=leg.memo,
                      txn=txn_for(leg.txn_ref), at=leg.at)
        self.seconds += time.perf_counter() - started
        self.entries += len(legs)
        self.transactions += 1

    async def close(self) -> None:
        return None


class PlaceholderLegs:
    """Legs written with COPY: placeholder leaf hashes, no Merkle nodes; balances and the head
    size set at the end. For benchmarks that never prove or audit the ledger."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.seq: int | None = None
        self.balances: dict[tuple[uuid.UUID, str], int] = defaultdict(int)

    async def write(self, legs: list[Leg]) -> None:
        from backend.ledger.service import txn_for

        if self.seq is None:
            self.seq = await self.raw.fetchval("SELECT size FROM ledger_head WHERE id = 1") or 0
        rows = []
        for leg in legs:
            rows.append((self.seq, txn_for(leg.txn_ref), leg.kind, leg.account, leg.asset, "", leg.amount, leg.ref,
                         leg.at, hashlib.sha256(leg.ref.encode()).hexdigest(), leg.memo))
            self.seq += 1
            self.balances[(leg.account, leg.asset)] += leg.amount
        if rows:
            await self.raw.copy_records_to_table("ledger_entry", records=rows, columns=LEDGER_COLUMNS)

    async def close(self) -> None:
        await self.raw.copy_records_to_table("ledger_balance", columns=("account", "asset", "scope", "amount"),
                                             records=[(a, asset, "", v) for (a, asset), v in self.balances.items()])
        await self.raw.execute("INSERT INTO ledger_head (id, size) VALUES (1, $1) ON CONFLICT (id) DO UPDATE "
                               "SET size = EXCLUDED.size, peaks = NULL", self.seq or 0)


async def plug_history(settings, seed: int, household_ids: list[int], start: date, until: datetime) -> int:
    """The demo's plug backfill (:class:`backend.demo.plugs.PlugHistory`: the fleet model's reports
    through the bridge's ingest and the rollup job) for ``household_ids`` from ``start`` to
    ``until``; returns the number of readings."""
    from backend.demo.plan import local
    from backend.demo.plugs import PlugHistory

    if not household_ids:
        return 0
    plugs = PlugHistory(settings, household_ids, seed, steady=[0])
    at = local(start, 0)
    await plugs.pair(at, until)
    await plugs.advance(at)
    while at < until:
        at = min(at + timedelta(hours=6), until)
        await plugs.advance(at)
    await plugs.settle_data()
    return plugs.readings
