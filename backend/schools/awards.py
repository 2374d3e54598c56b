"""Best cases and prizes: budgets, nominations, awards and their withdrawal, all through the ledger.

A teacher nominates a student, a family or a class of their school for a category and period,
with a reason and evidence; the school admin awards it. A prize moves points or coins from a
prize budget's own ledger account to the winners in one transaction (or records an honour of
no value), so anyone can verify it with an inclusion proof. One award stands per nominee,
category and period (a unique key in the database); a budget never goes below zero (checked
under the ledger lock); withdrawing an award writes adjustment entries, never an edit.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.activities.models import Activity
from backend.dr.models import DrEvent
from backend.errors import AlreadyExists, LimitReached, NotAllowed, ValidationFailed
from backend.households.models import Household
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import LedgerWriter, ledger_transaction
from backend.municipalities.models import Municipality
from backend.photos.models import Photo
from backend.rewards.formula import MAX_POINTS
from backend.rewards.models import Programme
from backend.rewards.programmes import local_date
from backend.schools.models import Award, Nomination, PrizeBudget, School, SchoolClass
from backend.schools.periods import PeriodKind, period_of

NOMINEE_KINDS = ("student", "family", "class")
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_EVIDENCE = 20


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# -- budgets ------------------------------------------------------------------------------------
async def create_budget(principal: Principal, tz: str, name: str, asset: Asset, amount: int, *,
                        school_id: int | None = None, municipality_id: int | None = None,
                        now: datetime | None = None) -> PrizeBudget:
    """A school's admin funds a points budget for the school; a municipality's officer a points or
    coins budget for the city (coins are charged to this year's programme budget)."""
    if asset not in (Asset.POINTS, Asset.COINS_WON):
        raise ValidationFailed("asset", "A prize budget holds points or coins.")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_POINTS:
        raise ValidationFailed("amount", "amount must be a positive whole number.")
    if (school_id is None) == (municipality_id is None):
        raise ValidationFailed("schoolId", "Name either a school or a municipality.")
    now = _now(now)
    if school_id is not None:
        school = await School.get_or_none(id=school_id)
        if not (principal.is_operator or (principal.role is Role.SCHOOL_ADMIN and principal.school_id == school_id)):
            raise NotAllowed("Only the school's administrator or an operator funds its prize budget.")
        if school is None:
            raise ValidationFailed("schoolId", "No such school.")
        if asset is Asset.COINS_WON:
            raise ValidationFailed("asset", "Coins come from the municipality's programme: ask its officers.")
        municipality_id = school.municipality_id
    elif not principal.can_view_municipality_data(municipality_id):
        raise NotAllowed("Only the municipality's officers or an operator fund its prize budget.")
    municipality = await Municipality.get_or_none(id=municipality_id)
    if municipality is None:
        raise ValidationFailed("municipalityId", "No such municipality.")
    scope = municipality.code if asset is Asset.COINS_WON else ""
    async with ledger_transaction(now) as w:
        if asset is Asset.COINS_WON:
            await _charge_programme(w, municipality.id, local_date(now, tz), amount)
        budget = await PrizeBudget.create(name=name, school_id=school_id, municipality_id=municipality.id,
                                          asset=str(asset), account=uuid.uuid4(), funded=amount,
                                          created_by_id=principal.user_id, using_db=w.conn)
        w.add(EntryKind.AWARD, budget.account, asset, amount, f"prize-budget:{budget.id}:fund", scope=scope,
              memo=f"prize budget funded: {name}"[:200])
    return budget


async def _charge_programme(w: LedgerWriter, municipality_id: int, today: date, amount: int) -> None:
    programme = await Programme.filter(municipality_id=municipality_id, starts_on__lte=today,
                                       ends_on__gte=today).using_db(w.conn).first()
    if programme is None:
        raise ValidationFailed("municipalityId", "No programme of this municipality runs today.")
    updated = await Programme.filter(
        id=programme.id, coins_issued_won__lte=programme.coin_budget_won - amount
    ).using_db(w.conn).update(coins_issued_won=programme.coins_issued_won + amount)
    if updated != 1:
        raise LimitReached("budget", "The programme's coin budget cannot cover this prize budget.")


async def budget_balance(budget: PrizeBudget, w: LedgerWriter | None = None) -> int:
    from backend.ledger.models import Balance

    scope = await _scope(budget)
    if w is not None:
        return await w.balance(budget.account, Asset(budget.asset), scope)
    row = await Balance.filter(account=budget.account, asset=budget.asset, scope=scope).first()
    return row.amount if row else 0


async def _scope(budget: PrizeBudget) -> str:
    if budget.asset != Asset.COINS_WON:
        return ""
    return (await Municipality.get(id=budget.municipality_id)).code


# -- nominations --------------------------------------------------------------------------------
async def _nominee_users(kind: str, nominee_id: int) -> list[User]:
    if kind == "student":
        return list(await User.filter(id=nominee_id, role=Role.STUDENT))
    if kind == "family":
        return list(await User.filter(household_id=nominee_id, role__in=(Role.STUDENT, Role.PARENT)))
    return list(await User.filter(school_class_id=nominee_id, role=Role.STUDENT))


async def nominee_in_school(kind: str, nominee_id: int, school_id: int) -> list[User]:
    """The nominee's people, if the nominee belongs to the school (else ValidationFailed)."""
    if kind not in NOMINEE_KINDS:
        raise ValidationFailed("nomineeKind", "Nominate a student, a family or a class.")
    people = await _nominee_users(kind, nominee_id)
    if kind == "class":
        ok = await SchoolClass.exists(id=nominee_id, school_id=school_id)
    else:
        ok = any(u.role is Role.STUDENT and u.school_id == school_id for u in people)
    if not ok:
        raise ValidationFailed("nomineeId", f"No such {kind} at your school.")
    return people


async def _check_evidence(evidence: dict, people: list[User]) -> dict:
    ids = {u.id for u in people}
    activity_ids = [int(i) for i in evidence.get("activityIds", [])]
    photo_ids = [int(i) for i in evidence.get("photoIds", [])]
    if len(activity_ids) > MAX_EVIDENCE or len(photo_ids) > MAX_EVIDENCE:
        raise ValidationFailed("evidence", f"At most {MAX_EVIDENCE} activities and {MAX_EVIDENCE} photos.")
    owners = dict(await Activity.filter(id__in=activity_ids).values_list("id", "user_id"))
    if set(activity_ids) - set(owners) or not set(owners.values()) <= ids:
        raise ValidationFailed("activityIds", "Evidence must be the nominee's own activities.")
    photo_owners = dict(await Photo.filter(id__in=photo_ids).values_list("id", "activity__user_id"))
    if set(photo_ids) - set(photo_owners) or not set(photo_owners.values()) <= ids:
        raise ValidationFailed("photoIds", "Evidence must be the nominee's own photos.")
    event_id = evidence.get("drEventId")
    if event_id is not None and not await DrEvent.exists(id=int(event_id)):
        raise ValidationFailed("drEventId", "No such DR event.")
    return {"activityIds": sorted(set(activity_ids)), "photoIds": sorted(set(photo_ids)),
            "drEventId": None if event_id is None else int(event_id)}


async def nominate(principal: Principal, kind: str, nominee_id: int, category: str, period_kind: PeriodKind,
                   on: date, reason: str, evidence: dict) -> Nomination:
    if not principal.is_school_staff or principal.school_id is None:
        raise NotAllowed("Teachers and school admins nominate their school's best cases.")
    if not CATEGORY.match(category):
        raise ValidationFailed("category", "A category is 2-40 lower-case letters, digits or '_' (e.g. saving).")
    reason = " ".join(str(reason).split())
    if not 10 <= len(reason) <= 1_000:
        raise ValidationFailed("reason", "Give a reason of 10 to 1000 characters.")
    people = await nominee_in_school(kind, nominee_id, principal.school_id)
    cleaned = await _check_evidence(evidence, people)
    period = period_of(period_kind, on)
    return await Nomination.create(school_id=principal.school_id, nominee_kind=kind, nominee_id=nominee_id,
                                   category=category, period_kind=str(period_kind), period_start=period.start,
                                   reason=reason, evidence=cleaned, nominated_by_id=principal.user_id)


def active_key(n: Nomination) -> str:
    return f"{n.nominee_kind}:{n.nominee_id}:{n.category}:{n.period_kind}:{n.period_start.isoformat()}"


def shares(amount: int, recipients: int) -> list[int]:
    """Equal shares, the remainder one each to the first recipients (in pseudonym order)."""
    base, rest = divmod(amount, recipients)
    return [base + (1 if i < rest else 0) for i in range(recipients)]


# -- awarding and withdrawing -------------------------------------------------------------------
async def _admin_nomination(principal: Principal, nomination_id: int) -> Nomination:
    nomination = await Nomination.get_or_none(id=nomination_id)
    if nomination is None or not (principal.is_operator or (
            principal.role is Role.SCHOOL_ADMIN and principal.school_id == nomination.school_id)):
        raise NotAllowed("Only the school's administrator or an operator decides this nomination.")
    return nomination


async def award(principal: Principal, nomination_id: int, budget_id: int | None, amount: int,
                now: datetime | None = None) -> Award:
    """Award a nomination: a prize from a budget of the school or its city, or an honour (no budget)."""
    nomination = await _admin_nomination(principal, nomination_id)
    if nomination.status != "open":
        raise ValidationFailed("nominationId", f"This nomination is {nomination.status}.")
    school = await School.get(id=nomination.school_id)
    people = await nominee_in_school(nomination.nominee_kind, nomination.nominee_id, school.id)
    recipients = sorted({str(u.pseudonym) for u in people})
    budget = None
    if budget_id is None:
        if amount != 0:
            raise ValidationFailed("amount", "An honour has no value: give a budget for a prize.")
        asset, legs = Asset.HONOURS, [1] * len(recipients)
    else:
        budget = await PrizeBudget.get_or_none(id=budget_id)
        if budget is None or not (budget.school_id == school.id or (
                budget.school_id is None and budget.municipality_id == school.municipality_id)):
            raise ValidationFailed("budgetId", "Use a prize budget of this school or its municipality.")
        if isinstance(amount, bool) or not isinstance(amount, int) or not len(recipients) <= amount <= MAX_POINTS:
            raise ValidationFailed("amount", f"A prize is at least 1 per recipient ({len(recipients)}).")
        asset, legs = Asset(budget.asset), shares(amount, len(recipients))
    key = active_key(nomination)
    if await Award.exists(active_key=key):
        raise AlreadyExists("nominationId", "This nominee already has an award in this category and period.")
    scope = await _scope(budget) if budget else ""
    now = _now(now)
    try:
        async with ledger_transaction(now) as w:
            if budget is not None:
                available = await w.balance(budget.account, asset, scope)
                if amount > available:
                    raise LimitReached("budget", f"The prize budget has {max(available, 0)} left, {amount} asked.")
            row = await Award.create(nomination_id=nomination.id, active_key=key, budget=budget, asset=str(asset),
                                     amount=amount, recipients=recipients, first_seq=w.size + len(w.pending),
                                     awarded_by_id=principal.user_id, awarded_at=now, using_db=w.conn)
            memo = f"prize: {nomination.category} {nomination.period_kind} {nomination.period_start}"
            if budget is not None:
                w.add(EntryKind.AWARD, budget.account, asset, -amount, f"award:{row.id}:budget", scope=scope, memo=memo)
            for i, (pseudonym, share) in enumerate(zip(recipients, legs, strict=True)):
                if share:
                    w.add(EntryKind.AWARD, uuid.UUID(pseudonym), asset, share, f"award:{row.id}:{i}", scope=scope,
                          memo=memo)
            await Nomination.filter(id=nomination.id, status="open").using_db(w.conn).update(status="awarded")
    except IntegrityError:
        raise AlreadyExists("nominationId", "This nominee already has an award in this category and period.") from None
    return row


async def withdraw(principal: Principal, award_id: int, reason: str, now: datetime | None = None) -> Award:
    """Withdraw an award: adjustment entries take the prize back (into its budget); never an edit."""
    row = await Award.get_or_none(id=award_id).prefetch_related("nomination", "budget")
    if row is None:
        raise NotAllowed("You cannot withdraw this award.")
    await _admin_nomination(principal, row.nomination_id)
    reason = " ".join(str(reason).split())[:200]
    if len(reason) < 5:
        raise ValidationFailed("reason", "Say why the award is withdrawn.")
    budget = row.budget
    scope = await _scope(budget) if budget else ""
    asset = Asset(row.asset)
    legs = [1] * len(row.recipients) if budget is None else shares(row.amount, len(row.recipients))
    now = _now(now)
    async with ledger_transaction(now) as w:
        taken = await Award.filter(id=row.id, withdrawn_at__isnull=True).using_db(w.conn).update(
            withdrawn_at=now, withdrawn_reason=reason, active_key=None)
        if taken != 1:
            raise ValidationFailed("awardId", "This award was already withdrawn.")
        memo = f"award withdrawn: {reason}"[:200]
        for i, (pseudonym, share) in enumerate(zip(row.recipients, legs, strict=True)):
            if share:
                w.add(EntryKind.ADJUSTMENT, uuid.UUID(pseudonym), asset, -share, f"award:{row.id}:withdraw:{i}",
                      scope=scope, memo=memo)
        if budget is not None:
            w.add(EntryKind.ADJUSTMENT, budget.account, asset, row.amount, f"award:{row.id}:withdraw:budget",
                  scope=scope, memo=memo)
        await Nomination.filter(id=row.nomination_id).using_db(w.conn).update(status="withdrawn")
    return await Award.get(id=row.id)


async def nominee_name(kind: str, nominee_id: int) -> str:
    if kind == "student":
        user = await User.get_or_none(id=nominee_id)
        return user.display_name if user else ""
    if kind == "family":
        household = await Household.get_or_none(id=nominee_id)
        return household.name if household else ""
    school_class = await SchoolClass.get_or_none(id=nominee_id)
    return school_class.name if school_class else ""
