"""The awards a signed-in person won, and those their children won, for their home screens.

An award is found through the ledger legs that credited the person (``award:<id>:<n>``), so a
family's or class's award reaches exactly the people who received it, whatever household or
class they are in today. Withdrawn awards stay listed, marked withdrawn: the adjustment that took
the prize back (with its reason in the memo) is already in the winner's wallet, and an award
that silently vanished would leave that line unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import User
from backend.accounts.principal import Principal
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.schools import awards
from backend.schools.models import Award, Nomination, School
from backend.schools.periods import Period, PeriodKind, period_of

MAX_AWARDS = 100


@dataclass(frozen=True)
class WonAward:
    award: Award
    nomination: Nomination
    period: Period
    school: str
    nominee_name: str
    winners: tuple[User, ...]  # the caller and their children among the recipients
    share: int  # what those people received (0 for an honour)
    seqs: tuple[int, ...]  # the ledger legs that credited them


def _award_id(ref: str) -> int | None:
    parts = ref.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() else None


async def won_awards(principal: Principal) -> list[WonAward]:
    """Awards crediting the principal or (a guardian) their children, newest first."""
    users = await User.filter(id__in={principal.user_id, *principal.children_ids})
    people = {str(u.pseudonym): u for u in users}
    legs = await LedgerEntry.filter(account__in=[u.pseudonym for u in users], kind=EntryKind.AWARD,
                                    ref__startswith="award:").order_by("seq")
    by_award: dict[int, list[LedgerEntry]] = {}
    for leg in legs:
        award_id = _award_id(leg.ref)
        if award_id is not None:
            by_award.setdefault(award_id, []).append(leg)
    rows = await Award.filter(id__in=list(by_award)).order_by("-awarded_at", "-id").limit(MAX_AWARDS)
    nominations = {n.id: n for n in await Nomination.filter(id__in=[a.nomination_id for a in rows])}
    schools = dict(await School.filter(id__in={n.school_id for n in nominations.values()}).values_list("id", "name"))
    found = []
    for row in rows:
        n, mine = nominations[row.nomination_id], by_award[row.id]
        winners = dict.fromkeys(people[str(leg.account)] for leg in mine)
        found.append(WonAward(
            award=row, nomination=n, period=period_of(PeriodKind(n.period_kind), n.period_start),
            school=schools.get(n.school_id, ""), nominee_name=await awards.nominee_name(n.nominee_kind, n.nominee_id),
            winners=tuple(winners), share=0 if row.asset == Asset.HONOURS else sum(leg.amount for leg in mine),
            seqs=tuple(leg.seq for leg in mine)))
    return found
