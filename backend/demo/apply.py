"""Carry out a demo :class:`~backend.demo.plan.Plan` through the services real use goes through.

Everything happens in time order on one timeline: the plug fleet is advanced up to each step,
and each step calls the service a phone, a teacher, an officer, the bridge or a worker job would
call, with the step's time as ``now``. Every step is safe to repeat (idempotency keys, unique
refs, lookups before creating), so an interrupted load can simply run again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import OperationalError

from backend.accounts.models import User
from backend.accounts.principal import Principal
from backend.accounts.service import principal_for
from backend.activities.models import Activity, ActivityStatus
from backend.activities.service import log_activity
from backend.demo import photos as demo_photos
from backend.demo.accounts import Population, ensure_population
from backend.demo.plan import DrPlan, Plan, Report, local
from backend.demo.plugs import PlugHistory
from backend.dr import disputes, settlement
from backend.dr import service as dr
from backend.dr.models import DrDispute, DrEvent, DrParticipation, DrScope
from backend.errors import LimitReached
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset
from backend.ledger.models import Balance, LedgerEntry
from backend.photos import service as photo_service
from backend.plugs.commands import switchable
from backend.photos.models import Photo, PhotoStatus
from backend.photos.verification import verify
from backend.rewards import redemption
from backend.rewards.models import RedemptionCode
from backend.rewards.service import ConversionTarget, convert_points
from backend.rewards.settlement import settle_month
from backend.settings import Settings

Step = Callable[[], Awaitable[None]]
Progress = Callable[[str, datetime], None]


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)

    def to_json(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


async def _patiently(step: Step, attempts: int = 30) -> None:
    """Run a step, again after a pause while SQLite is locked by the running platform's writers
    (the bridge, the worker): every step is safe to repeat."""
    for attempt in range(attempts):
        try:
            return await step()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5 + attempt * 0.5)


class Loader:
    def __init__(self, plan: Plan, settings: Settings, now: datetime) -> None:
        self.plan, self.settings, self.now = plan, settings, now
        self.summary = Summary()
        self.pool = demo_photos.picture_pool()
        self._principals: dict[int, Principal] = {}
        self.pop: Population
        self.plugs: PlugHistory
        self.activity_of: dict[str, int] = {}
        self.seconds: Counter = Counter()

    async def principal(self, user: User) -> Principal:
        if user.id not in self._principals:
            self._principals[user.id] = await principal_for(user, uuid.UUID(int=user.id))
        return self._principals[user.id]

    # -- timeline --------------------------------------------------------------------------
    def timeline(self) -> list[tuple[datetime, int, str, Step]]:
        plan, steps = self.plan, []

        def at(when: datetime, label: str, step: Step) -> None:
            steps.append((min(when, self.now), len(steps), label, step))

        for report in plan.reports:
            at(report.at, "activities", self._report_step(report))
            if report.photo and report.photo.review_at:
                at(report.photo.review_at, "photo reviews", self._review_step(report))
        for event in plan.dr_events:
            self._dr_steps(event, at)
        for conversion in plan.conversions:
            at(conversion.at, "mileage", self._conversion_step(conversion.family, conversion.key, conversion.at))
        if plan.settle_month and plan.settle_at:
            at(plan.settle_at, "monthly settlement", self._settle_month_step())
        if plan.redeem_at:
            at(plan.redeem_at, "redemption", self._redeem_step(plan.redeem_at))
        steps.sort(key=lambda s: (s[0], s[1]))
        return steps

    async def run(self, progress: Progress | None = None) -> Summary:
        populated: list[Population] = []

        async def populate() -> None:
            populated.append(await ensure_population(self.plan))

        await _patiently(populate)
        self.pop = populated[-1]
        families = self.plan.plug_families
        first = local(self.plan.start, 0)
        # parent1's plugs stay online, so the DR results the README shows are measured against
        # complete baseline days; the other families' plugs drop out now and then, as Wi-Fi plugs do
        steady = [n for n, f in enumerate(families) if f.demo_number == "1"]
        self.plugs = PlugHistory(self.settings, [self.pop.households[f.index].id for f in families],
                                 self.plan.config.seed, steady=steady)
        paired = await self.plugs.pair(first, self.now)
        for family in families:
            parent = await self.principal(self.pop.parents[family.index])
            for plug in paired.get(self.pop.households[family.index].id, []):
                if plug.name != "Fridge" and switchable(plug) is None:
                    await dr.set_plug_dr_automation(parent, plug.id, True)
        await self.plugs.advance(first)
        for when, _, label, step in self.timeline():
            await _patiently(lambda: self.plugs.advance(when))
            started = time.perf_counter()
            await _patiently(step)
            self.seconds[label] += time.perf_counter() - started
            if progress:
                progress(label, when)
        await _patiently(lambda: self.plugs.advance(self.now))
        await _patiently(self.plugs.settle_data)
        self.summary.counts["plug_readings"] = self.plugs.readings
        await publish_checkpoint(self.settings, now=self.now)
        return self.summary

    # -- activities and photos -------------------------------------------------------------
    def _user(self, family: int, who: str) -> User:
        return (self.pop.students if who == "student" else self.pop.parents)[family]

    def _report_step(self, report: Report) -> Step:
        async def step() -> None:
            principal = await self.principal(self._user(report.family, report.who))
            try:
                logged = await log_activity(principal, self.settings, report.key, report.type_key,
                                            report.at.date(), report.params, now=report.at)
            except LimitReached:
                self.summary.counts["refused_by_caps"] += 1
                return
            self.summary.counts["activities"] += 1
            self.activity_of[report.key] = logged.activity.id
            if report.photo is not None:
                await self._upload(principal, report, logged.activity)
        return step

    async def _upload(self, principal: Principal, report: Report, activity: Activity) -> None:
        if activity.status is not ActivityStatus.PENDING_EVIDENCE:
            return  # decided in an earlier load
        if report.photo.picture < 0:
            params = report.params
            data, name = demo_photos.bill_bytes(int(params["this_month_kwh"]), int(params["same_month_last_year_kwh"]),
                                                f"{report.at:%Y-%m}")
        else:
            data, name = demo_photos.picture_bytes(self.pool, report.photo.picture, report.key)
        uploaded = await photo_service.upload_photo(principal, self.settings, activity.id, data, "image/jpeg", name,
                                                    now=report.at + timedelta(minutes=1))
        from workers.photos import classifier_for

        await verify(uploaded.photo.id, self.settings, classifier_for(self.settings),
                     photo_service.store_for(self.settings), now=report.at + timedelta(minutes=2))
        self.summary.counts["photos"] += 1

    def _review_step(self, report: Report) -> Step:
        async def step() -> None:
            activity_id = self.activity_of.get(report.key)
            photo = await Photo.filter(activity_id=activity_id).order_by("-id").first() if activity_id else None
            if photo is None or photo.status is not PhotoStatus.NEEDS_REVIEW:
                return
            school = self.plan.families[report.family].school
            reviewer = self.pop.staff["operator"] if report.photo.reviewer == "operator" else self.pop.teacher_of(school)
            await photo_service.review_photo(await self.principal(reviewer), photo.id, report.photo.approve, report.photo.reason,
                                             now=report.photo.review_at)
            self.summary.counts["photos_approved" if report.photo.approve else "photos_rejected"] += 1
        return step

    # -- points, mileage, settlement, coins ------------------------------------------------
    def _conversion_step(self, family: int, key: str, when: datetime) -> Step:
        async def step() -> None:
            parent = self.pop.parents[family]
            if await LedgerEntry.filter(ref__startswith=f"convert:{parent.pseudonym}:{key}:").exists():
                return  # converted in an earlier load (the key's balance has moved on since)
            balance = await Balance.filter(account=parent.pseudonym, asset=Asset.POINTS, scope="").first()
            points = balance.amount if balance else 0
            if points < 20:
                return
            await convert_points(await self.principal(parent), self.settings, key, ConversionTarget.MILEAGE,
                                 points, now=when)
            self.summary.counts["mileage_conversions"] += 1
        return step

    def _settle_month_step(self) -> Step:
        async def step() -> None:
            year, month = self.plan.settle_month
            report = await settle_month(self.settings, self.pop.programme.id, year, month)
            self.summary.counts["volunteer_minutes"] += report.volunteer_minutes
            self.summary.counts["coins_won"] += report.coins_won
        return step

    def _redeem_step(self, when: datetime) -> Step:
        async def step() -> None:
            officer = self.pop.staff["officer"]
            if await RedemptionCode.filter(redeemed_by_id=officer.id).exists():
                return
            scope = self.pop.municipality.code
            holders = [self.pop.parents[0]] + [self.pop.parents[f.index] for f in self.plan.families[1:]]
            for holder in holders:
                balance = await Balance.filter(account=holder.pseudonym, asset=Asset.COINS_WON, scope=scope).first()
                if balance and balance.amount >= 5_000:
                    issued = await redemption.create_code(await self.principal(holder), self.settings,
                                                          self.pop.municipality.id, 5_000, now=when)
                    await redemption.redeem(await self.principal(officer), self.settings, issued.code,
                                            now=when + timedelta(minutes=1))
                    self.summary.counts["redemptions"] += 1
                    return
        return step

    # -- DR events -------------------------------------------------------------------------
    def _dr_steps(self, plan: DrPlan, at: Callable[[datetime, str, Step], None]) -> None:
        async def event() -> DrEvent | None:
            return await DrEvent.filter(title=plan.title, starts_at=plan.starts_at.astimezone(UTC)).first()

        async def create() -> None:
            if await event() is not None:
                return
            officer = await self.principal(self.pop.staff["officer"])
            await dr.create_event(self.settings, officer, title=plan.title, scope=DrScope.MUNICIPALITY,
                                  scope_id=self.pop.municipality.id, starts_at=plan.starts_at,
                                  ends_at=plan.ends_at, target_kw=plan.target_kw, short_notice=plan.short_notice,
                                  now=plan.created_at)
            self.summary.counts["dr_events"] += 1

        async def opt_out() -> None:
            e = await event()
            parent = self.pop.parents[plan.opt_out_family]
            if await DrParticipation.filter(event_id=e.id, household_id=parent.household_id, opted_out=True).exists():
                return
            await dr.set_decision(self.settings, await self.principal(parent), e.id, parent.household_id, False,
                                  now=plan.created_at + timedelta(minutes=20))

        async def drive(when: datetime) -> None:
            if plan.failing_family is not None:
                household = self.pop.households[plan.failing_family].id
                self.plugs.deaf = set(self.plugs.devices_of(household)) if when < plan.ends_at else set()
            await self.plugs.settle_data()
            await dr.drive(self.settings, now=when)
            await self.plugs.run_commands(when)
            await dr.drive(self.settings, now=when + timedelta(minutes=1))

        async def settle() -> None:
            await self.plugs.settle_data()
            await settlement.settle_due(self.settings, now=plan.ends_at + timedelta(hours=7))

        async def dispute() -> None:
            e = await event()
            parent = self.pop.parents[plan.dispute_family]
            if await DrDispute.filter(settlement__event_id=e.id).exists():
                return
            await disputes.raise_dispute(
                await self.principal(parent), e.id, parent.household_id,
                "We were home all evening with everything off; the baseline looks too low for a weekday.",
                now=plan.ends_at + timedelta(hours=20))
            self.summary.counts["disputes"] += 1

        at(plan.created_at, "DR events", create)
        if plan.opt_out_family is not None:
            at(plan.created_at + timedelta(minutes=20), "DR events", opt_out)
        at(plan.starts_at, "DR events", lambda: drive(plan.starts_at))
        at(plan.ends_at, "DR events", lambda: drive(plan.ends_at))
        at(plan.ends_at + timedelta(minutes=10), "DR events", lambda: drive(plan.ends_at + timedelta(minutes=10)))
        at(plan.ends_at + timedelta(hours=7), "DR settlement", settle)
        if plan.dispute_family is not None:
            at(plan.ends_at + timedelta(hours=20), "DR disputes", dispute)
