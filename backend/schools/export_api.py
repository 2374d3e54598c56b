"""GraphQL of transfer consent and the 1365/NEIS CSV export."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from backend.codes import local_today
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.graphql.scalars import to_display
from backend.schools import exports
from backend.schools.periods import PeriodKind, period_of
from backend.schools.score_types import ScorePeriod
from backend.schools.scoreboard import period_day


@public_type
@strawberry.type(description="The latest transfer-consent record of a student (append-only history).")
class TransferConsentState:
    student_id: strawberry.ID
    given: bool
    recorded_at: datetime


@public_type
@strawberry.type(description="A CSV for the 1365 portal and NEIS (UTF-8 with BOM); the export is logged.")
class VolunteerRecordsExport:
    export_id: strawberry.ID
    csv: str
    students: int
    withheld_without_consent: int
    rows: int


ConsentResult = result_union("TransferConsentResult", TransferConsentState, NotAllowed, ValidationFailed)
ExportResult = result_union("VolunteerRecordsExportResult", VolunteerRecordsExport, NotAllowed, ValidationFailed)


@strawberry.type
class ExportMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Consent (or withdraw it) to send a student's volunteer records to 1365/NEIS: "
                                     "a guardian, or the student from 14.")
    @returns_errors
    async def set_volunteer_transfer_consent(self, info: Info, student_id: strawberry.ID,
                                             given: bool) -> ConsentResult:
        settings = info.context.settings
        row = await exports.set_transfer_consent(require_principal(info), parse_id(student_id, "studentId"), given,
                                                 settings.guardian_consent_age,
                                                 local_today(settings.display_timezone))
        return TransferConsentState(student_id=strawberry.ID(str(row.student_id)), given=row.action == "given",
                                    recorded_at=to_display(row.recorded_at, settings.display_timezone))

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Staff: volunteer records of the school (or one class) for a period as CSV, "
                                     "consenting students only; every export is logged.")
    @returns_errors
    async def export_volunteer_records(self, info: Info, school_id: strawberry.ID,
                                       class_id: strawberry.ID | None = None,
                                       period: ScorePeriod = ScorePeriod.SCHOOL_YEAR,
                                       on: date | None = None) -> ExportResult:
        settings = info.context.settings
        day = period_day(on, local_today(settings.display_timezone))
        text, log = await exports.export_csv(
            require_principal(info), parse_id(school_id, "schoolId"),
            None if class_id is None else parse_id(class_id, "classId"),
            period_of(PeriodKind(period.value), day), settings.display_timezone)
        return VolunteerRecordsExport(export_id=strawberry.ID(str(log.id)), csv=text, students=len(log.student_ids),
                                      withheld_without_consent=log.withheld, rows=log.rows)
