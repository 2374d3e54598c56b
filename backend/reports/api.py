"""GraphQL of monthly municipal reports: read (with the PDF) and generate on demand."""

from __future__ import annotations

import base64
from datetime import datetime

import strawberry

from backend.codes import local_today
from backend.errors import NotAllowed as NotAllowedError
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.graphql.scalars import to_display
from backend.municipalities.models import MunicipalReport as ReportModel
from backend.municipalities.models import Municipality
from backend.reports import monthly


@public_type
@strawberry.type(description="A municipality's monthly report: figures as JSON and the PDF (base64).")
class MunicipalReport:
    municipality_id: strawberry.ID
    year: int
    month: int
    generated_at: datetime
    figures: strawberry.scalars.JSON
    pdf_base64: str


ReportResult = result_union("MunicipalReportResult", MunicipalReport, NotAllowed, ValidationFailed)


async def _check(info: Info, municipality_id: strawberry.ID, year: int, month: int) -> int:
    mid = parse_id(municipality_id, "municipalityId")
    if not require_principal(info).can_view_municipality_data(mid) or not await Municipality.exists(id=mid):
        raise NotAllowedError("Only the municipality's officers or an operator see its reports.")
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationFailedError("month", "Give a month 1-12 of a year 2000-2100.")
    today = local_today(info.context.settings.display_timezone)
    if (year, month) >= (today.year, today.month):
        raise ValidationFailedError("month", "A month is reported once it is over.")
    return mid


def _out(row: ReportModel, info: Info) -> MunicipalReport:
    from backend.reports.pdf import render  # matplotlib and fpdf load on first use, not at API start

    return MunicipalReport(municipality_id=strawberry.ID(str(row.municipality_id)), year=row.year, month=row.month,
                           generated_at=to_display(row.generated_at, info.context.settings.display_timezone),
                           figures=row.figures, pdf_base64=base64.b64encode(render(row.figures)).decode())


async def _generate(info: Info, mid: int, year: int, month: int) -> ReportModel:
    s = info.context.settings
    return await monthly.generate(mid, year, month, s.display_timezone, s.grid_emission_factor_t_per_mwh,
                                  s.scoreboard_min_students)


@strawberry.type
class ReportQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A past month's report (generated now if the monthly job has not yet made it).")
    @returns_errors
    async def municipal_report(self, info: Info, municipality_id: strawberry.ID, year: int,
                               month: int) -> ReportResult:
        mid = await _check(info, municipality_id, year, month)
        row = await ReportModel.get_or_none(municipality_id=mid, year=year, month=month)
        return _out(row or await _generate(info, mid, year, month), info)


@strawberry.type
class ReportMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Recompute a past month's report now (e.g. after late settlements).")
    @returns_errors
    async def generate_municipal_report(self, info: Info, municipality_id: strawberry.ID, year: int,
                                        month: int) -> ReportResult:
        mid = await _check(info, municipality_id, year, month)
        return _out(await _generate(info, mid, year, month), info)
