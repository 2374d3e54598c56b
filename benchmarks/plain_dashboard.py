"""The reference for ``benchmarks/api.py``: the dashboard rows from a plain Starlette endpoint.

``GET /dashboard?household=ID`` authenticates the bearer token exactly as the GraphQL view
does (:func:`backend.accounts.service.authenticate`), applies the same scope rules as the
GraphQL field permissions, fetches the same rows with the same kind of Tortoise queries
(one per relation, ``id IN (...)``; the wallet, recent activities and plugs with the functions
the resolvers call) and answers the same JSON document as the GraphQL ``Dashboard`` query. It runs behind the same ``MetricsMiddleware`` and logging set-up as the
API, so the difference between the two measures the GraphQL layer (strawberry, graphql-core,
DataLoaders, typed objects and permission classes) and nothing else.

Serve it from the repository root, configured by the same ``PVPP_*`` variables as the API::

    PVPP_DATABASE_URL=postgres://... PVPP_SECRET_KEY=... PVPP_PORT=8001 \\
        .venv/bin/python -m benchmarks.plain_dashboard
"""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise import connections

from backend.accounts.models import GuardianLink, Role, User
from backend.activities.models import Activity, ActivityStatus
from backend.accounts.principal import Principal
from backend.accounts.service import authenticate
from backend.db import close_db, init_db
from backend.errors import InvalidToken, NotAllowed
from backend.households.models import Household
from backend.ledger.entries import Asset
from backend.municipalities.models import Municipality
from backend.operations.logs import configure_logging
from backend.operations.metrics import MetricsMiddleware
from backend.plugs import service as plugs
from backend.rewards.wallet import wallet_of
from backend.schools.models import School, SchoolClass
from backend.settings import Settings, get_settings
from benchmarks.api import RECENT_ACTIVITIES

def _unauthenticated(message: str, error: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401, headers={"WWW-Authenticate": f'Bearer error="{error}"'},
    )


async def _by_id(model: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.pk: row for row in await model.filter(pk__in=wanted)}


def _ref(row: Any) -> dict[str, Any] | None:
    return None if row is None else {"id": str(row.id), "name": row.name}


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": str(user.id), "displayName": user.display_name}


async def dashboard_rows(principal: Principal) -> dict[str, Any]:
    """The ``Dashboard`` document for a principal, with the GraphQL fields' scope rules."""
    me: User | None = getattr(principal, "user", None)
    if me is None or me.id != principal.user_id:
        me = (await _by_id(User, [principal.user_id])).get(principal.user_id)
    if me is None:
        return {"data": {"me": None}}
    out: dict[str, Any] = {"id": str(me.id), "displayName": me.display_name, "role": me.role.name}
    household = None
    if me.household_id is not None and principal.can_view_family(me.id, me.household_id):
        household = (await _by_id(Household, [me.household_id])).get(me.household_id)
    if household is None:
        out["household"] = None
        return {"data": {"me": out}}

    municipalities = await _by_id(Municipality, [household.municipality_id])
    can_view = principal.can_view_household(household.id)
    members: list[User] = []
    if can_view:
        members = list(await User.filter(household_id__in=[household.id]).order_by("id"))
    users = {u.id: u for u in members}
    users.setdefault(me.id, me)
    students = [m.id for m in members if m.role is Role.STUDENT]
    links = list(await GuardianLink.filter(student_id__in=students).order_by("id")) if students else []
    missing = [i for link in links for i in (link.guardian_id, link.student_id) if i not in users]
    users.update(await _by_id(User, missing))

    visible = [m for m in members if principal.can_view_school_membership(m.id, m.household_id, m.school_id)]
    schools = await _by_id(School, (m.school_id for m in visible))
    classes = await _by_id(SchoolClass, (m.school_class_id for m in visible))
    municipalities.update(
        await _by_id(Municipality, (s.municipality_id for s in schools.values() if s.municipality_id not in municipalities))
    )

    def member(m: User) -> dict[str, Any]:
        allowed = principal.can_view_school_membership(m.id, m.household_id, m.school_id)
        school = schools.get(m.school_id) if allowed else None
        return {
            "id": str(m.id), "displayName": m.display_name, "role": m.role.name,
            "school": None if school is None else {
                **_ref(school), "municipality": _ref(municipalities.get(school.municipality_id)),
            },
            "schoolClass": _ref(classes.get(m.school_class_id)) if allowed else None,
        }

    out["household"] = {
        "id": str(household.id),
        "name": household.name,
        "inviteCode": household.invite_code if principal.can_manage_household(household.id) else None,
        "municipality": _ref(municipalities.get(household.municipality_id)),
        "members": [member(m) for m in members] if can_view else None,
        "guardianLinks": [
            {
                "id": str(link.id), "consentGiven": link.consent_given_at is not None,
                "guardian": _person(users.get(link.guardian_id)),
                "student": _person(users.get(link.student_id)),
            }
            for link in links
        ] if can_view else None,
    }
    return {"data": {"me": out}}


async def history_rows(principal: Principal, me: User, household_id: int, tz_name: str) -> dict[str, Any]:
    """The ``Dashboard`` document's wallet, recent activities and plugs, read with the services
    and queries the GraphQL resolvers use (``wallet_of``, the activity list, ``household_plugs``
    and ``energy_since`` over the rollups)."""
    view = await wallet_of(me.pseudonym, 1)
    await Municipality.filter(code__in=list(view.coins))  # the wallet resolver names the coins' municipalities
    wallet = {"points": view.amount(Asset.POINTS), "volunteerMinutes": view.amount(Asset.VOLUNTEER_MINUTES),
              "mileageWon": view.amount(Asset.MILEAGE_WON), "balancesMatchLedger": view.balances_match_ledger}
    rows = await Activity.filter(user_id=me.id).order_by("-occurred_on", "-id").limit(RECENT_ACTIVITIES)
    activities = {"items": [{"id": str(a.id), "activityType": a.activity_type, "occurredOn": a.occurred_on.isoformat(),
                             "status": ActivityStatus(a.status).name, "points": a.points} for a in rows]}
    try:
        found = await plugs.household_plugs(principal, household_id)
    except NotAllowed:  # GraphQL answers an Error, which the PlugList fragment leaves empty
        return {"wallet": wallet, "activities": activities, "plugs": {}}
    today, month, next_hour = plugs.local_bounds(datetime.now(UTC), tz_name)
    ids = [p.id for p in found]
    day = await plugs.energy_since(ids, today, next_hour) if ids else {}
    period = await plugs.energy_since(ids, month, next_hour) if ids else {}
    return {"wallet": wallet, "activities": activities,
            "plugs": {"items": [{"id": str(p.id), "name": p.name, "todayKwh": _kwh(day[p.id][0]),
                                 "monthKwh": _kwh(period[p.id][0])} for p in found]}}


def _kwh(wh: float) -> float:
    return round(wh / 1000.0, 6)


async def dashboard(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthenticated("Use 'Authorization: Bearer <access token>'.", "invalid_request")
    try:
        principal = await authenticate(settings, token.strip())
    except InvalidToken as e:
        return _unauthenticated(e.message, "invalid_token")
    request.state.principal = principal
    try:
        household_id = int(request.query_params["household"])
    except (KeyError, ValueError):
        return JSONResponse({"errors": [{"message": "Give ?household=<id>."}]}, status_code=400)
    document = await dashboard_rows(principal)
    me = await User.get_or_none(id=principal.user_id)  # as the wallet resolver reads its owner
    if me is not None:
        document["data"].update(await history_rows(principal, me, household_id, settings.display_timezone))
    return JSONResponse(document)


async def healthz(request: Request) -> JSONResponse:
    await connections.get("default").execute_query("SELECT 1")
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(settings)
        try:
            yield
        finally:
            await close_db()

    app = Starlette(
        routes=[Route("/dashboard", dashboard), Route("/healthz", healthz)],
        middleware=[Middleware(MetricsMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app


def app_factory() -> Starlette:
    """Entry point for ``uvicorn --factory``, configured like ``pvpp serve``."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def serve(settings: Settings | None = None, workers: int | None = None) -> int:
    """Serve the reference app with uvicorn exactly as ``pvpp serve`` serves the API."""
    import uvicorn

    from backend.runtime.serve import default_workers

    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        "benchmarks.plain_dashboard:app_factory", factory=True, host=settings.host, port=settings.port,
        workers=workers or default_workers(settings), log_config=None, access_log=False, proxy_headers=False,
    )
    return 0


if __name__ == "__main__":  # python -m benchmarks.plain_dashboard [workers] (from the repository root)
    raise SystemExit(serve(workers=int(sys.argv[1]) if len(sys.argv) > 1 else None))
