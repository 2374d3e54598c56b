"""The demo's history as a pure plan: who does what on which day. No I/O, no clock.

:func:`make_plan` turns a :class:`DemoConfig` and an anchor date ("today" of the first load)
into families, activity reports, photo reviews, point conversions, DR events, a monthly
settlement and a redemption, every one at a fixed local time. The same config and anchor give
the same plan, and a family's reports depend only on the seed and its index, so a bigger
``households`` adds families without changing the first ones. :mod:`backend.demo.apply` carries
the plan out through the services real use goes through.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Seoul")

#: (school name, its classes); school 0 is the documented demo school.
SCHOOLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Bitgaram Middle School (빛가람중학교)", ("2-1", "2-2", "3-1")),
    ("Naju Middle School (나주중학교)", ("1-1", "2-1")),
)
SURNAMES = ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo",
            "Shin", "Kwon", "Hwang", "Ahn", "Song", "Jeon", "Hong")
GIVEN = ("Minjun", "Seoyeon", "Doyun", "Jiwoo", "Hajun", "Seoa", "Eunwoo", "Hayoon", "Siwoo", "Jiyu",
         "Yejun", "Sua", "Juwon", "Chaewon", "Jihu", "Dain", "Gunwoo", "Yerin", "Hyunwoo", "Soyul")
PARENT_GIVEN = ("Jiyoung", "Sunhee", "Youngho", "Mikyung", "Sungmin", "Eunjung", "Jaehyun", "Hyejin",
                "Donghyun", "Sooyeon")

REJECT_REASONS = (
    "The photo does not show a device left on: please take it when the screen is lit.",
    "This looks like a screenshot, not a photo you took.",
    "The photo is too dark to see what was left on.",
)
APPROVE_REASON = "Looks right: thank you for switching it off."


#: The most households a :class:`DemoConfig` (a whole :class:`Plan`, played through the services)
#: may have: the plan is held in memory and each report is a service call. The benchmarks' bulk
#: path (``benchmarks/demo_bulk.py``) takes families one at a time from :func:`family` and
#: :func:`family_reports` and is not bound by it.
MAX_HOUSEHOLDS = 100_000


@dataclass(frozen=True)
class DemoConfig:
    households: int = 30
    days: int = 60
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.households <= MAX_HOUSEHOLDS:
            raise ValueError(f"households must be between 2 and {MAX_HOUSEHOLDS}")
        if not 7 <= self.days <= 366:
            raise ValueError("days must be between 7 and 366")


@dataclass(frozen=True)
class Family:
    """One household: a parent and a student. Families 0 and 1 are the documented accounts."""

    index: int
    invite_code: str
    name: str
    school: int
    class_name: str
    student_name: str
    student_age: int
    parent_name: str
    has_plugs: bool
    demo_number: str | None = None  # "1" / "2": parent1/student1, parent2/student2

    @property
    def parent_email(self) -> str:
        return f"parent{self.demo_number}@demo.pvpp.kr" if self.demo_number else \
            f"family{self.index:05d}.parent@demo.pvpp.kr"

    @property
    def student_email(self) -> str:
        return f"student{self.demo_number}@demo.pvpp.kr" if self.demo_number else \
            f"family{self.index:05d}.student@demo.pvpp.kr"


@dataclass(frozen=True)
class PhotoPlan:
    """The evidence photo of a report: which picture (index into the photo pool) and its review."""

    picture: int  # -1: a generated electricity bill
    review_at: datetime | None  # None: left in the review queue
    approve: bool = True
    reason: str = APPROVE_REASON
    reviewer: str = "teacher"  # "teacher" of the student's school, or "operator" (parents' bills)


@dataclass(frozen=True)
class Report:
    at: datetime
    family: int
    who: str  # "student" | "parent"
    type_key: str
    params: dict
    key: str
    photo: PhotoPlan | None = None
    over_cap: bool = False  # a second report the frequency caps refuse


@dataclass(frozen=True)
class Conversion:
    """The parent turns points into mileage (before the monthly settlement)."""

    at: datetime
    family: int
    key: str


@dataclass(frozen=True)
class DrPlan:
    title: str
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    target_kw: float
    short_notice: bool = False
    opt_out_family: int | None = None
    failing_family: int | None = None  # its plugs never confirm the switch
    dispute_family: int | None = None


@dataclass
class Plan:
    config: DemoConfig
    anchor: date
    start: date
    families: list[Family]
    reports: list[Report] = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)
    dr_events: list[DrPlan] = field(default_factory=list)
    settle_month: tuple[int, int] | None = None
    settle_at: datetime | None = None
    redeem_at: datetime | None = None

    @property
    def plug_families(self) -> list[Family]:
        return [f for f in self.families if f.has_plugs]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"pvpp-demo:{seed}:" + ":".join(str(p) for p in parts))


def family(seed: int, i: int) -> Family:
    """Family ``i`` of the seed's demo: it depends on the seed and ``i`` only, so any number of
    families can be made one at a time."""
    if i < 0:
        raise ValueError("a family index is not negative")
    r = _rng(seed, "family", i)
    surname = ("Park", "Choi")[i] if i < 2 else r.choice(SURNAMES)
    if i < 2:
        school, class_name = 0, "2-1"
        student, parent, age = (("Park Minjun", "Park Jiyoung", 13), ("Choi Yuna", "Choi Sunhee", 15))[i]
    else:
        school = i % 2
        class_name = r.choice(SCHOOLS[school][1])
        student = f"{surname} {r.choice(GIVEN)}"
        parent = f"{surname} {r.choice(PARENT_GIVEN)}"
        age = r.randint(12, 15)
    return Family(
        index=i, invite_code=f"DEMOHOME{i + 1}" if i < 2 else f"DEMOH{i:07d}",
        name=f"Demo household {i + 1}" if i < 2 else f"{surname} family",
        school=school, class_name=class_name, student_name=student, student_age=age, parent_name=parent,
        has_plugs=i < 2 or r.random() < 0.4, demo_number=str(i + 1) if i < 2 else None,
    )


def make_families(config: DemoConfig) -> list[Family]:
    return [family(config.seed, i) for i in range(config.households)]


def _activity_params(r: random.Random, type_key: str) -> dict:
    if type_key == "gaming_reduced":
        return {"device": r.choice(("pc", "pc", "console", "handheld")), "hours": str(r.choice((1, 1.5, 2, 3)))}
    if type_key == "phone_charging_reduced":
        return {"charges": r.choice(("0.5", "1"))}
    if type_key == "standby_unplugged":
        return {"devices": r.randint(2, 6), "hours": str(r.choice((8, 10, 12, 14)))}
    if type_key == "laundry_off_peak":
        return {"loads": r.randint(1, 2), "start_hour": r.choice((22, 23, 6))}
    if type_key == "waste_found":
        return {"waste_kind": "device_left_on"}
    if type_key == "bill_comparison":
        last = r.randint(280, 420)
        return {"this_month_kwh": str(int(last * r.uniform(0.86, 0.97))), "same_month_last_year_kwh": str(last)}
    return {}


#: (type, who, chance per day) of the everyday reports; photo types are planned apart.
DAILY = (
    ("gaming_reduced", "student", 0.3),
    ("phone_charging_reduced", "student", 0.15),
    ("standby_unplugged", "student", 0.1),
    ("gaming_reduced", "parent", 0.3),
    ("standby_unplugged", "parent", 0.3),
    ("laundry_off_peak", "parent", 0.15),
)


def family_reports(seed: int, family: Family, days: list[date], anchor: date, pictures: int) -> list[Report]:
    """What one family reports on ``days`` (its own random stream: other families do not change it)."""
    r = _rng(seed, "reports", family.index)
    keen = 1.6 if family.demo_number else r.uniform(0.6, 1.3)
    out: list[Report] = []

    def add(day: date, who: str, type_key: str, hour: int, **extra) -> None:
        key = f"demo-{seed}-{family.index}-{who}-{day:%Y%m%d}-{type_key}-{len(out)}"
        out.append(Report(local(day, hour, r.randint(0, 59)), family.index, who, type_key,
                          _activity_params(r, type_key), key, **extra))

    for day in days:
        for type_key, who, chance in DAILY:
            if r.random() < min(chance * keen, 0.95):
                add(day, who, type_key, 20 if who == "student" else 21)
        if family.index == 0 and day.weekday() == 4 and day < anchor - timedelta(days=3):
            add(day, "student", "gaming_reduced", 22, over_cap=True)  # a second one the same day: refused
    # evidence photos: one or two per student, the last days' still waiting for the teacher;
    # student1 has one approved, one rejected and one waiting
    if family.demo_number == "1":
        picks = [(anchor - timedelta(days=d), approve) for d, approve in ((34, True), (19, False), (2, True))]
    else:
        picks = [(day, r.random() < 0.75) for day in sorted(r.sample(days, k=min(len(days), 2 if r.random() < 0.3 else 1)))]
    for n, (day, approve) in enumerate(picks):
        if day < days[0]:
            continue
        review = None if (anchor - day).days <= 4 else local(day + timedelta(days=1), 8, 30)
        reason = APPROVE_REASON if approve else r.choice(REJECT_REASONS)
        picture = (family.index * 3 + n) % pictures
        add(day, "student", "waste_found", 17, photo=PhotoPlan(picture, review, approve, reason))
    if family.demo_number == "1" or r.random() < 0.05:
        day = r.choice(days)
        add(day, "student", "policy_proposal", 19)
    # last month's bill against the same month last year, photographed by the parent
    bill_day = anchor.replace(day=1) - timedelta(days=r.randint(1, 5))
    if bill_day >= days[0] and (family.demo_number or r.random() < 0.15):
        review = local(bill_day + timedelta(days=2), 10) if (anchor - bill_day).days > 4 else None
        add(bill_day, "parent", "bill_comparison", 21, photo=PhotoPlan(-1, review, True,
                                                                      "The bill matches the figures.", "operator"))
    return out


def make_plan(config: DemoConfig, anchor: date, pictures: int = 6) -> Plan:
    """The whole history for ``config``, ending the day before ``anchor`` (local dates)."""
    start = anchor - timedelta(days=config.days)
    days = [start + timedelta(days=n) for n in range(config.days)]
    families = make_families(config)
    reports: list[Report] = []
    for f in families:
        reports += family_reports(config.seed, f, days, anchor, max(pictures, 1))
    reports.sort(key=lambda rep: (rep.at, rep.family, rep.key))
    plan = Plan(config, anchor, start, families, reports)
    month_end = anchor.replace(day=1) - timedelta(days=1)
    if month_end >= start + timedelta(days=7):
        plan.settle_month = (month_end.year, month_end.month)
        first = anchor.replace(day=1)
        plan.settle_at = local(first, 2)
        plan.conversions = [Conversion(local(month_end, 23, 30), f.index, f"demo-{config.seed}-{f.index}-mileage-"
                                       f"{month_end:%Y%m}") for f in families]
        plan.redeem_at = local(first, 11) if first < anchor else None
    plan.dr_events = dr_events(config.seed, families, days)
    return plan


def _weekday_at_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def dr_events(seed: int, families: list[Family], days: list[date]) -> list[DrPlan]:
    """Three evening events in the history's second half (the baselines need earlier days)."""
    plugged = [f.index for f in families if f.has_plugs]
    others = plugged[2:] or plugged[1:]  # never parent1, whose screens the README shows
    r = _rng(seed, "dr")
    n = len(days)
    events = []
    for k, (offset, short) in enumerate(((int(n * 0.45), False), (int(n * 0.65), True), (int(n * 0.85), False))):
        day = _weekday_at_or_before(days[min(offset, n - 2)])
        if day < days[min(12, n - 2)]:
            continue
        starts = local(day, 18)
        ends = starts + timedelta(hours=2)
        created = starts - (timedelta(minutes=30) if short else timedelta(hours=20))
        events.append(DrPlan(
            title=("Evening peak (저녁 피크) — short notice" if short else "Evening peak (저녁 피크)"),
            created_at=created, starts_at=starts, ends_at=ends, target_kw=round(0.3 * len(plugged), 1) or 1.0,
            short_notice=short,
            opt_out_family=r.choice(others) if k == 0 else None,
            failing_family=r.choice(others) if k == 2 else None,
            dispute_family=1 if k == 2 else None,
        ))
    return events
