"""The loaded demo on SQLite and PostgreSQL: a verified ledger, caps kept, a no-op second load,
and each role's README query answering what the README promises."""

from __future__ import annotations


from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import Tortoise

from backend.activities.catalogue import load_catalogue
from backend.activities.models import Activity, ActivityStatus
from backend.demo import queries
from backend.demo.load import load_history
from backend.demo.models import DemoLoad
from backend.demo.plan import TZ, DemoConfig
from backend.dr.models import DrDispute, DrEvent, DrSettlement
from backend.ledger.entries import Asset
from backend.ledger.models import Balance, LedgerEntry
from backend.ledger.service import ledger_size
from backend.ledger.verify import verify_ledger
from backend.photos.models import Photo
from backend.rewards import formula
from backend.rewards.models import Programme
from tests.builders import gql, sign_in
from tests.conftest import TABLES

SMALL = DemoConfig(households=3, days=35, seed=7)


async def _row_counts() -> dict[str, int]:
    conn = Tortoise.get_connection("default")
    out = {}
    for table in TABLES:
        _, rows = await conn.execute_query(f'SELECT count(*) FROM "{table}"')
        out[table] = int(list(rows[0])[0] if not isinstance(rows[0], dict) else list(rows[0].values())[0])
    return out


async def _check_caps() -> None:
    catalogue = {t.key: t for t in load_catalogue().types}
    per_day: Counter = Counter()
    per_week: Counter = Counter()
    for a in await Activity.exclude(status=ActivityStatus.REJECTED):
        per_day[(a.user_id, a.activity_type, a.occurred_on)] += 1
        per_week[(a.user_id, a.activity_type, a.occurred_on.isocalendar()[:2])] += 1
    for (_, key, _), n in per_day.items():
        assert n <= catalogue[key].max_per_day, (key, n)
    for (_, key, _), n in per_week.items():
        assert catalogue[key].max_per_week is None or n <= catalogue[key].max_per_week, (key, n)
    rules = formula.load_rules(2026)
    monthly: dict[tuple, int] = defaultdict(int)
    for e in await LedgerEntry.filter(amount__gt=0, asset__in=[Asset.VOLUNTEER_MINUTES, Asset.COINS_WON]):
        monthly[(e.account, e.asset, e.recorded_at.strftime("%Y-%m"))] += e.amount
    for (_, asset, _), total in monthly.items():
        cap = rules.max_minutes_per_month if asset == Asset.VOLUNTEER_MINUTES else rules.coin_max_won_per_month
        assert total <= cap, (asset, total)
    for programme in await Programme.all():
        assert 0 <= programme.coins_issued_won <= programme.coin_budget_won


async def test_demo_history_is_consistent_repeatable_and_answers_the_readme_queries(db, client):
    summary = await load_history(db, SMALL)
    assert summary and summary["activities"] > 50 and summary["plug_readings"] > 10_000, summary
    assert summary["dr_events"] == 3 and summary["refused_by_caps"] >= 1 and summary["photos"] >= 3, summary

    report = await verify_ledger(db)
    assert report.ok and report.entries == await ledger_size() > 0, report.errors[:3]
    sums: dict[tuple, int] = defaultdict(int)
    for e in await LedgerEntry.all():
        sums[(str(e.account), str(e.asset), e.scope)] += e.amount
    for b in await Balance.all():
        assert b.amount == sums[(str(b.account), str(b.asset), b.scope)]
    await _check_caps()
    assert await DrSettlement.all().count() > 0 and await DrDispute.all().count() == 1
    assert {e.short_notice for e in await DrEvent.all()} == {True, False}
    for photo in await Photo.all().prefetch_related("activity"):  # uploaded on the day of its report
        assert photo.created_at.astimezone(TZ).date() == photo.activity.occurred_on, photo.id

    before, size = await _row_counts(), await ledger_size()
    assert await load_history(db, SMALL) is None  # finished: not run again
    await DemoLoad.filter(seed=SMALL.seed).update(finished_at=None)
    again = await load_history(db, SMALL)  # every step repeated: nothing new
    assert again is not None and await ledger_size() == size
    after = await _row_counts()
    # the resent readings are counted as duplicates, as the bridge counts them: not new data
    after.pop("plug_reject_count"), before.pop("plug_reject_count")
    assert after == before

    student = await sign_in(client, "student1@demo.pvpp.kr", "demo-Student-1!")
    data = (await gql(client, queries.STUDENT1, token=student))["data"]
    statuses = {a["status"] for a in data["activities"]["items"]}
    assert statuses == {"ACCEPTED", "PENDING_EVIDENCE", "REJECTED"}, statuses
    wallet = data["wallet"]
    assert wallet["volunteerMinutes"] > 0 and wallet["balancesMatchLedger"], wallet

    parent = await sign_in(client, "parent1@demo.pvpp.kr", "demo-Parent-1!")
    household = (await gql(client, "{ myHousehold { id } }", token=parent))["data"]["myHousehold"]["id"]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start, mid = now - timedelta(days=SMALL.days), now - timedelta(days=SMALL.days // 2)
    data = (await gql(client, queries.PARENT1_PLUGS, {"household": household, "from": start.isoformat(),
                                                      "mid": mid.isoformat()}, token=parent))["data"]
    plugs = data["plugs"]["items"]
    assert plugs, data
    for plug in plugs:
        hours = plug["older"]["hours"] + plug["recent"]["hours"]
        covered = [h for h in hours if h["coverage"] > 0.9]
        assert len(covered) > 0.8 * 24 * (SMALL.days - 2) and sum(h["kwh"] for h in covered) > 0, plug["name"]
    events = [e for e in data["drEvents"]["items"] if e["myParticipation"] and e["myParticipation"]["optedIn"]]
    assert len(events) == 3
    settled = []
    for event in events:
        s = (await gql(client, queries.PARENT1_SETTLEMENT, {"event": event["id"], "household": household},
                       token=parent))["data"]["drSettlement"]
        settled.append(s)
    assert all(s["method"] and s["status"] in {"SETTLED", "FORGIVEN", "INSUFFICIENT_DATA"} for s in settled)
    measured = any(s["status"] != "INSUFFICIENT_DATA" and s["baselineKwh"] is not None and s["hours"] for s in settled)

    teacher = await sign_in(client, "teacher@demo.pvpp.kr", "demo-Teacher-1!")
    queue = (await gql(client, queries.TEACHER, token=teacher))["data"]["photoReviewQueue"]["items"]
    assert queue and all(p["status"] == "NEEDS_REVIEW" and p["thumbnailUrl"] for p in queue)

    officer = await sign_in(client, "officer@demo.pvpp.kr", "demo-Officer-1!")
    me = (await gql(client, "{ me { municipality { id } } }", token=officer))["data"]["me"]
    data = (await gql(client, queries.OFFICER, {"municipality": me["municipality"]["id"]}, token=officer))["data"]
    coins = data["coinProgramme"]
    assert coins["issuedWon"] == data["programmes"][0]["coinsIssuedWon"] > 0 and coins["redeemedWon"] > 0
    assert coins["outstandingWon"] == coins["issuedWon"] - coins["redeemedWon"]
    assert len(data["programmes"]) == 1 and len(data["programmes"][0]["enrolledSchoolIds"]) == 2
    assert len(data["drEvents"]["items"]) == 3
    operator = await sign_in(client, "operator@demo.pvpp.kr", "demo-Operator-1!")
    disputes = (await gql(client, "{ drDisputes { ... on DrDisputeList { items { status } } } }", token=operator))
    assert [d["status"] for d in disputes["data"]["drDisputes"]["items"]] == ["open"]
    issued = data["programmes"][0]["coinsIssuedWon"]
    holders = await Balance.filter(asset=Asset.COINS_WON).count()
    assert issued == sum([e.amount for e in await LedgerEntry.filter(asset=Asset.COINS_WON, amount__gt=0)])
    wallet = (await gql(client, queries.WALLET, token=parent))["data"]["wallet"]
    assert wallet["balancesMatchLedger"] and wallet["history"] and holders >= 0
    assert measured, f"no DR event of parent1 was measured against a baseline: {[s['status'] for s in settled]}"


def test_readme_shows_the_queries_the_tests_run():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in ("STUDENT1", "PARENT1_PLUGS", "PARENT1_SETTLEMENT", "TEACHER", "OFFICER", "WALLET"):
        assert getattr(queries, name) in readme, name
