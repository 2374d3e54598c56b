"""Team pooling: members who over-deliver cover team-mates' shortfalls before rewards or penalties.

Without pooling each member's delivery counts up to its own contracted reduction. With pooling
the team's surplus (delivery above contract) is handed to members who fell short, in proportion
to their shortfall, and taken from the over-performers in proportion to their surplus (the KT
paper's blockchain DR trading, which raised delivery against contracted capacity from 87.40% to
100% in its simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    id: str
    contracted_kwh: float
    delivered_kwh: float  # measured reduction (baseline − actual); may be negative


@dataclass(frozen=True)
class PooledMember:
    id: str
    contracted_kwh: float
    delivered_kwh: float
    credited_before_kwh: float  # min(delivered, contracted): what counts without pooling
    received_kwh: float  # surplus received from team-mates
    given_kwh: float  # surplus handed to team-mates
    credited_after_kwh: float

    @property
    def rate_before(self) -> float:
        return self.credited_before_kwh / self.contracted_kwh

    @property
    def rate_after(self) -> float:
        return self.credited_after_kwh / self.contracted_kwh


@dataclass(frozen=True)
class PoolingResult:
    members: tuple[PooledMember, ...]
    contracted_kwh: float
    surplus_kwh: float
    shortfall_kwh: float
    transferred_kwh: float

    @property
    def rate_before(self) -> float:
        """Team delivery rate against contracted capacity without pooling."""
        return sum(m.credited_before_kwh for m in self.members) / self.contracted_kwh

    @property
    def rate_after(self) -> float:
        return sum(m.credited_after_kwh for m in self.members) / self.contracted_kwh

    @property
    def uncovered_kwh(self) -> float:
        return self.shortfall_kwh - self.transferred_kwh


def pool(members: Sequence[Member]) -> PoolingResult:
    """Pool a team's deliveries. Contracted amounts must be positive."""
    if not members:
        raise ValueError("a team needs at least one member")
    if any(m.contracted_kwh <= 0 for m in members):
        raise ValueError("contracted reductions must be positive")
    surplus = [max(m.delivered_kwh - m.contracted_kwh, 0.0) for m in members]
    shortfall = [max(m.contracted_kwh - m.delivered_kwh, 0.0) for m in members]
    total_surplus, total_shortfall = sum(surplus), sum(shortfall)
    moved = min(total_surplus, total_shortfall)
    give_share = moved / total_surplus if total_surplus else 0.0
    get_share = moved / total_shortfall if total_shortfall else 0.0
    pooled = []
    for m, s, f in zip(members, surplus, shortfall):
        before = min(m.delivered_kwh, m.contracted_kwh)
        received, given = f * get_share, s * give_share
        pooled.append(PooledMember(m.id, m.contracted_kwh, m.delivered_kwh, before, received, given, before + received))
    return PoolingResult(tuple(pooled), sum(m.contracted_kwh for m in members), total_surplus, total_shortfall, moved)
