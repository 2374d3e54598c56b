"""The authorisation matrix: every role against every root operation and every sensitive field.

Expectations are data (the grids below); tests are generated from them, grouped by
(role, operation) for operations and by (role, object type) for fields. The rules:

- a student or parent sees only their own household; a teacher or school admin only their
  school (rosters, classes, join codes); an officer only their municipality; an operator
  everything;
- email, birth date, createdAt and consent state of a user: the person, their guardian and
  operators; household/guardians/children: the person, their household, operators;
  school/schoolClass: additionally the staff of that school;
- a household's invite code: its parents and operators; its members and guardian links: its
  members and operators; a school's classes and staff, a class's join code and students:
  staff of that school and operators; names of schools and municipalities are public facts
  to anyone signed in;
- activities and wallets: the person, their guardian and operators; reporting activities and
  converting or spending points, mileage and coins: students and parents (their own); reversing
  activities and adjusting balances: operators; redeeming coins: officers of the coins'
  municipality; creating programmes: that municipality's officers and operators, enrolling a
  school also its own admin; the activity catalogue and programmes: anyone signed in;
- the ledger's verifier key, checkpoints and proofs are public, even to anonymous callers;
- smart plugs: a household's plugs are seen by its members and operators, but their device ids
  (what pairing uses) only by its parents and operators; pairing codes, renaming and unpairing:
  the household's parents and operators; pairing with a code: whoever holds it, except a member
  of another household; ingestion statistics: operators; pushing readings is authenticated by
  the plug's token, not a session, so it is open to anonymous callers;
- DR events: operators create them anywhere, officers for their municipality, school admins for
  their school; the creator and operators cancel them; an event is seen by those who may manage
  it and by the members of households taking part; only a parent opts the household out, and
  only a parent lets DR events switch a plug (not even an operator can consent for them);
- anonymous requests are refused with ``UNAUTHENTICATED`` (HTTP 401), except sign-up,
  sign-in, refresh and the ledger's public queries; a successful sign-in makes the rest of its
  request the user's own;
- queries that take an id answer ``NotAllowed`` for anything out of scope, existing or not.

Attempts across a boundary, and where each is checked:

- parent_a1 -> household of a2: ``test_operation[<db>-parent_a1-household]`` (row
  ``household(a2)``) and ``test_sensitive_fields[<db>-parent_a1-Household]``;
- student_a2 -> email of student_a1: ``test_operation[<db>-student_a2-user]`` (row
  ``user(student_a1)`` is NotAllowed) and ``test_sensitive_fields[<db>-student_a2-User]`` (no
  path reaches student_a1's private fields);
- teacher_b -> class A roster: ``test_operation[<db>-teacher_b-schoolClass]`` and
  ``test_sensitive_fields[<db>-teacher_b-SchoolClass]`` (students and join code of A hidden);
- teacher_a -> school B staff: ``test_sensitive_fields[<db>-teacher_a-School]`` (school B is
  public; its staff and classes are not);
- officer_b -> a school in municipality A: ``test_operation[<db>-officer_b-createSchool]``
  (NotAllowed, and no school written).

Adding a root operation, an object type or a field to the schema fails
``test_every_operation_has_expectations`` / ``test_every_field_is_classified`` until the
grids below say who may use it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, TypeInfo, TypeInfoVisitor, parse, visit
from graphql.language import FieldNode, Visitor

from backend.accounts.models import (
    ConsentRecord,
    GuardianLink,
    RefreshToken,
    Session,
    User,
)
from backend.activities import service as activity_service
from backend.activities.models import Activity
from backend.codes import local_today
from backend.dr import disputes as dr_disputes
from backend.dr import service as dr_service
from backend.dr import settlement as dr_settlement
from backend.dr.models import DrDispute, DrEvent, DrParticipation, DrScope
from backend.graphql.schema import build_schema
from backend.households.models import Household
from backend.ledger.checkpoints import ledger_key, publish_checkpoint
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import Checkpoint, LedgerEntry
from backend.ledger.service import ledger_transaction
from backend.municipalities.models import MunicipalReport, Municipality
from backend.photos.models import Photo, PhotoTrainingConsent
from backend.plugs import service as plug_service
from backend.plugs.models import PairingCode, Plug, PlugCommand, PushBatch
from backend.plugs.readings import Vendor
from backend.reports.monthly import previous_month
from backend.rewards import redemption
from backend.rewards.formula import available_years
from backend.rewards.models import Programme, ProgrammeEnrolment, RedemptionCode
from backend.schools import awards, certificates
from backend.schools.models import (
    Award,
    Nomination,
    PrizeBudget,
    School,
    SchoolClass,
    TransferConsent,
    VolunteerCertificate,
    VolunteerExport,
)
from backend.schools.periods import PeriodKind, period_of
from backend.settings import Settings
from tests.builders import (
    PASSWORD,
    SIGN_IN,
    World,
    build_world,
    principal_of,
    sign_in,
    start_programmes,
)
from tests.dr.settlement_support import run_event as run_settled_event

ANONYMOUS = "anonymous"
#: Column headings of the grids -> role (a user of ``World.users()``, or anonymous).
COLUMNS = {
    "st_a1": "student_a1", "pa_a1": "parent_a1", "st_a2": "student_a2", "pa_a2": "parent_a2",
    "te_a": "teacher_a", "ad_a": "admin_a", "te_b": "teacher_b",
    "of_a": "officer_a", "of_b": "officer_b", "op": "operator", "anon": ANONYMOUS,
}
ROLES = list(COLUMNS.values())
MISSING_ID = str(2**31 - 1)  # a well-formed id that names nothing


def _parse_grid(text: str) -> dict[tuple[str, str], str]:
    """``{(role, row): cell}`` from a grid whose first line names the columns."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header, rows = lines[0], lines[1:]
    if [COLUMNS.get(h) for h in header] != ROLES:
        raise ValueError(f"grid columns must be {list(COLUMNS)}, got {header}")
    grid: dict[tuple[str, str], str] = {}
    for row in rows:
        label, cells = row[0], row[1:]
        if len(cells) != len(ROLES):
            raise ValueError(f"row {label!r} has {len(cells)} cells, expected {len(ROLES)}")
        if any((role, label) in grid for role in ROLES):
            raise ValueError(f"row {label!r} appears twice")
        for role, cell in zip(ROLES, cells, strict=True):
            grid[(role, label)] = cell
    return grid


# ---------------------------------------------------------------------------------------------
# Root operations. Rows are ``operation(target)``; cells:
#   Y  allowed: the success type (and, for mutations, the write happened)
#   N  denied: the typed NotAllowed, and nothing was written
#   U  unauthenticated: HTTP 401 with extensions.code UNAUTHENTICATED, nothing written
#   0  allowed, but there is nothing to show (null)
#   E  a typed failure (NotAllowed or ValidationFailed) for an id that names nothing, and no
#      write; used where existence is no secret (public facts, or a caller who may act on
#      any such object), so either answer is fine, but a crash is not
# ---------------------------------------------------------------------------------------------
OPERATION_GRID = """
                                   st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b op anon
me                                   Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
user(self)                           Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
user(student_a1)                     Y     Y     N     N    Y    Y    N    N    N   Y   U
user(parent_a1)                      Y     Y     N     N    N    N    N    N    N   Y   U
user(student_a2)                     N     N     Y     Y    Y    Y    N    N    N   Y   U
user(teacher_a)                      N     N     N     N    Y    Y    N    N    N   Y   U
user(officer_a)                      N     N     N     N    N    N    N    Y    N   Y   U
user(missing)                        N     N     N     N    N    N    N    N    N   N   U
exportMyData                         Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
exportChildData(student_a1)          N     Y     N     N    N    N    N    N    N   N   U
exportChildData(student_a2)          N     N     N     Y    N    N    N    N    N   N   U
exportChildData(missing)             N     N     N     N    N    N    N    N    N   N   U
myHousehold                          Y     Y     Y     Y    0    0    0    0    0   0   U
household(a1)                        Y     Y     N     N    N    N    N    N    N   Y   U
household(a2)                        N     N     Y     Y    N    N    N    N    N   Y   U
household(missing)                   N     N     N     N    N    N    N    N    N   N   U
schools                              Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
school(A)                            Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
school(B)                            Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
school(missing)                      E     E     E     E    E    E    E    E    E   E   U
schoolClass(A)                       Y     N     Y     N    Y    Y    N    N    N   Y   U
schoolClass(B)                       N     N     N     N    N    N    Y    N    N   Y   U
schoolClass(missing)                 N     N     N     N    N    N    N    N    N   N   U
municipalities                       Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
signUp                               Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
signIn                               Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
refreshSession                       Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
signOut                              Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
giveGuardianConsent(student_a2)      N     N     N     Y    N    N    N    N    N   N   U
giveGuardianConsent(missing)         N     N     N     N    N    N    N    N    N   N   U
withdrawGuardianConsent(student_a1)  N     Y     N     N    N    N    N    N    N   N   U
withdrawGuardianConsent(missing)     N     N     N     N    N    N    N    N    N   N   U
deleteMyAccount                      Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
deleteChildAccount(student_a1)       N     Y     N     N    N    N    N    N    N   N   U
deleteChildAccount(student_a2)       N     N     N     Y    N    N    N    N    N   N   U
deleteChildAccount(missing)          N     N     N     N    N    N    N    N    N   N   U
createStaffAccount(teacher@A)        N     N     N     N    N    Y    N    N    N   Y   U
createStaffAccount(teacher@B)        N     N     N     N    N    N    N    N    N   Y   U
createStaffAccount(admin@A)          N     N     N     N    N    N    N    N    N   Y   U
createStaffAccount(officer@A)        N     N     N     N    N    N    N    N    N   Y   U
createStaffAccount(operator)         N     N     N     N    N    N    N    N    N   Y   U
regenerateInviteCode(a1)             N     Y     N     N    N    N    N    N    N   Y   U
regenerateInviteCode(a2)             N     N     N     Y    N    N    N    N    N   Y   U
regenerateInviteCode(missing)        N     N     N     N    N    N    N    N    N   E   U
renameHousehold(a1)                  N     Y     N     N    N    N    N    N    N   Y   U
renameHousehold(a2)                  N     N     N     Y    N    N    N    N    N   Y   U
renameHousehold(missing)             N     N     N     N    N    N    N    N    N   E   U
createSchool(A)                      N     N     N     N    N    N    N    Y    N   Y   U
createSchool(B)                      N     N     N     N    N    N    N    N    Y   Y   U
createSchool(missing)                N     N     N     N    N    N    N    N    N   E   U
createSchoolClass(A)                 N     N     N     N    Y    Y    N    N    N   Y   U
createSchoolClass(B)                 N     N     N     N    N    N    Y    N    N   Y   U
createSchoolClass(missing)           N     N     N     N    N    N    N    N    N   E   U
joinClass(B)                         Y     N     Y     N    N    N    N    N    N   N   U
createMunicipality                   N     N     N     N    N    N    N    N    N   Y   U
# scoreboards with names: staff of the school, officers of its city, operators; students their own ranks
scoreboard(A)                        N     N     N     N    Y    Y    N    Y    N   Y   U
scoreboard(missing)                  N     N     N     N    N    N    N    N    N   N   U
myRanks                              Y     N     Y     N    N    N    N    N    N   N   U
# awards won: an award of 100 points to student_a1 exists; the winner and their guardian see it, everyone
# else (a classmate, staff, officers, operators) an empty list: myAwards lists only the caller's own
myAwards                             Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
# prizes: nomination N (student_a1, by teacher_a) and budget P (school A, points, by admin_a) exist;
# teachers nominate, the school admin awards and withdraws, budgets by the school admin or city officers
nominations(A)                       N     N     N     N    Y    Y    N    Y    N   Y   U
nominations(missing)                 N     N     N     N    N    N    N    N    N   N   U
prizeBudgets(A)                      N     N     N     N    Y    Y    N    Y    N   Y   U
prizeBudgets(missing)                N     N     N     N    N    N    N    N    N   N   U
createPrizeBudget(A)                 N     N     N     N    N    Y    N    N    N   Y   U
createPrizeBudget(cityA)             N     N     N     N    N    N    N    Y    N   Y   U
createPrizeBudget(missing)           N     N     N     N    N    N    N    N    N   E   U
nominate(student_a1)                 N     N     N     N    Y    Y    E    N    N   N   U
awardNomination(N)                   N     N     N     N    N    Y    N    N    N   Y   U
awardNomination(missing)             N     N     N     N    N    N    N    N    N   N   U
withdrawAward(N)                     N     N     N     N    N    Y    N    N    N   Y   U
withdrawAward(missing)               N     N     N     N    N    N    N    N    N   N   U
# certificates: student_a1 has 90 volunteer minutes; verification is public (a wrong digest: E)
issueVolunteerCertificate(student_a1) Y    Y     N     N    Y    Y    N    N    N   Y   U
issueVolunteerCertificate(missing)   N     N     N     N    N    N    N    N    N   N   U
verifyCertificate(issued)            Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
verifyCertificate(bad)               E     E     E     E    E    E    E    E    E   E   E
# transfer of volunteer records to 1365/NEIS: a guardian consents (student_a2, 15, also for themself);
# the school's staff export consenting students' records as CSV (logged)
setVolunteerTransferConsent(student_a1) N  Y     N     N    N    N    N    N    N   N   U
setVolunteerTransferConsent(student_a2) N  N     Y     Y    N    N    N    N    N   N   U
exportVolunteerRecords(A)            N     N     N     N    Y    Y    N    N    N   Y   U
exportVolunteerRecords(B)            N     N     N     N    N    N    Y    N    N   Y   U
exportVolunteerRecords(missing)      N     N     N     N    N    N    N    N    N   N   U
activityTypes                        Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
activities(self)                     Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
# school staff keep the school record: they read their students' activities and wallets
activities(student_a1)               Y     Y     N     N    Y    Y    N    N    N   Y   U
activities(student_b)                N     N     N     N    N    N    Y    N    N   Y   U
# an operator may read anyone's activities: for an id that names nobody, an empty list
activities(missing)                  N     N     N     N    N    N    N    N    N   Y   U
wallet(self)                         Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
wallet(student_a1)                   Y     Y     N     N    Y    Y    N    N    N   Y   U
wallet(parent_a1)                    N     Y     N     N    N    N    N    N    N   Y   U
# operator: a typed failure, not a crash (backend/rewards/queries.py must not UserModel.get a missing id)
wallet(missing)                      N     N     N     N    N    N    N    N    N   E   U
programmes                           Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
laundryWindow                        Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
# the ledger's key, checkpoints and proofs are public; two checkpoints are published first
ledgerVerifierKey                    Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
ledgerCheckpoint(latest)             Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
ledgerCheckpoint(missing)            E     E     E     E    E    E    E    E    E   E   E
ledgerInclusionProof(first)          Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
ledgerInclusionProof(missing)        E     E     E     E    E    E    E    E    E   E   E
ledgerConsistencyProof(published)    Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
ledgerConsistencyProof(missing)      E     E     E     E    E    E    E    E    E   E   E
ledgerCheckpoints(all)               Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
ledgerCheckpoints(bad)               E     E     E     E    E    E    E    E    E   E   E
logActivity                          Y     Y     Y     Y    N    N    N    N    N   N   U
reverseActivity(student_a1)          N     N     N     N    N    N    N    N    N   Y   U
reverseActivity(missing)             N     N     N     N    N    N    N    N    N   E   U
# every caller (staff too) holds the points, mileage or coins the conversion needs
convertPoints(mileage)               Y     Y     Y     Y    N    N    N    N    N   N   U
convertPoints(minutes)               Y     N     Y     N    N    N    N    N    N   N   U
convertMileageToCoins                Y     Y     Y     Y    N    N    N    N    N   N   U
createRedemptionCode(A)              Y     Y     Y     Y    N    N    N    N    N   N   U
createRedemptionCode(missing)        E     E     E     E    N    N    N    N    N   N   U
# a code of parent_a1 for coins of A, and of parent_b for coins of B
redeemCoins(A)                       N     N     N     N    N    N    N    Y    N   N   U
redeemCoins(B)                       N     N     N     N    N    N    N    N    Y   N   U
# the counter: preview of parent_a1's code for coins of A; the day's list; the coin programme dashboard
redemptionPreview(A)                 N     N     N     N    N    N    N    Y    N   N   U
redemptions                          N     N     N     N    N    N    N    Y    Y   N   U
coinProgramme(A)                     N     N     N     N    N    N    N    Y    N   Y   U
coinProgramme(missing)               N     N     N     N    N    N    N    N    N   E   U
# last month's report of a municipality: its officers and operators (read, or recompute now)
municipalReport(A)                   N     N     N     N    N    N    N    Y    N   Y   U
municipalReport(missing)             N     N     N     N    N    N    N    N    N   N   U
generateMunicipalReport(A)           N     N     N     N    N    N    N    Y    N   Y   U
generateMunicipalReport(missing)     N     N     N     N    N    N    N    N    N   N   U
# next year's programme (this year's exists for A and B)
createProgramme(A)                   N     N     N     N    N    N    N    Y    N   Y   U
createProgramme(B)                   N     N     N     N    N    N    N    N    Y   Y   U
createProgramme(missing)             N     N     N     N    N    N    N    N    N   E   U
# school A into A's programme (its enrolment removed first), school B into B's
enrolSchool(A)                       N     N     N     N    N    Y    N    Y    N   Y   U
enrolSchool(B)                       N     N     N     N    N    N    N    N    Y   Y   U
enrolSchool(missing)                 E     E     E     E    E    E    E    E    E   E   U
adjustBalance(student_a1)            N     N     N     N    N    N    N    N    N   Y   U
adjustBalance(missing)               N     N     N     N    N    N    N    N    N   E   U
# smart plugs: one plug paired in each of a1, a2 and b
plugs(a1)                            Y     Y     N     N    N    N    N    N    N   Y   U
plugs(a2)                            N     N     Y     Y    N    N    N    N    N   Y   U
# an operator may read any household's plugs: for an id that names none, an empty list
plugs(missing)                       N     N     N     N    N    N    N    N    N   Y   U
plug(a1)                             Y     Y     N     N    N    N    N    N    N   Y   U
plug(b)                              N     N     N     N    N    N    N    N    N   Y   U
plug(missing)                        N     N     N     N    N    N    N    N    N   N   U
plugIngestStats                      N     N     N     N    N    N    N    N    N   Y   U
createPlugPairingCode(a1)            N     Y     N     N    N    N    N    N    N   Y   U
createPlugPairingCode(a2)            N     N     N     Y    N    N    N    N    N   Y   U
createPlugPairingCode(missing)       N     N     N     N    N    N    N    N    N   N   U
# a code parent_a1 created: whoever holds it pairs a device, except a member of another household
pairPlug(a1)                         Y     Y     N     N    Y    Y    Y    Y    Y   Y   U
renamePlug(a1)                       N     Y     N     N    N    N    N    N    N   Y   U
renamePlug(b)                        N     N     N     N    N    N    N    N    N   Y   U
renamePlug(missing)                  N     N     N     N    N    N    N    N    N   N   U
unpairPlug(a1)                       N     Y     N     N    N    N    N    N    N   Y   U
unpairPlug(b)                        N     N     N     N    N    N    N    N    N   Y   U
unpairPlug(missing)                  N     N     N     N    N    N    N    N    N   N   U
switchPlug(a1)                       N     Y     N     N    N    N    N    N    N   Y   U
switchPlug(b)                        N     N     N     N    N    N    N    N    N   Y   U
switchPlug(missing)                  N     N     N     N    N    N    N    N    N   N   U
# authenticated by the token of an HTTP plug of a1, whoever (or no one) is signed in
pushPlugReadings(token)              Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   Y
# photo evidence: a photo of student_a1 waits for review (teacher_a has no class: the whole school);
# guardians, teachers and school admins review; officers never see children's photos
photo(a1)                            Y     Y     N     N    Y    Y    N    N    N   Y   U
photo(missing)                       N     N     N     N    N    N    N    N    N   N   U
photoReviewQueue                     N     Y     N     Y    Y    Y    Y    N    N   Y   U
photoVerifierHealth                  N     N     N     N    N    N    N    N    N   Y   U
uploadActivityPhoto(a1)              Y     N     N     N    N    N    N    N    N   N   U
uploadActivityPhoto(missing)         N     N     N     N    N    N    N    N    N   N   U
reviewPhoto(a1)                      N     Y     N     N    Y    Y    N    N    N   Y   U
reviewPhoto(missing)                 N     N     N     N    N    N    N    N    N   N   U
confirmBillReading(a1)               Y     N     N     N    N    N    N    N    N   N   U
confirmBillReading(missing)          N     N     N     N    N    N    N    N    N   N   U
setPhotoTrainingConsent(self)        Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
setPhotoTrainingConsent(student_a1)  Y     Y     N     N    N    N    N    N    N   N   U
# DR events: A (municipality A, by officer_a), B (municipality B, by officer_b), S (school A, by admin_a)
drEvents                             Y     Y     Y     Y    Y    Y    Y    Y    Y   Y   U
drEvent(A)                           Y     Y     Y     Y    Y    Y    N    Y    N   Y   U
drEvent(B)                           N     N     N     N    N    N    Y    N    Y   Y   U
drEvent(S)                           Y     Y     Y     Y    Y    Y    N    Y    N   Y   U
drEvent(missing)                     N     N     N     N    N    N    N    N    N   N   U
drLiveView(A)                        Y     Y     Y     Y    Y    Y    N    Y    N   Y   U
drLiveView(B)                        N     N     N     N    N    N    Y    N    Y   Y   U
drLiveView(missing)                  N     N     N     N    N    N    N    N    N   N   U
createDrEvent(A)                     N     N     N     N    N    N    N    Y    N   Y   U
createDrEvent(S)                     N     N     N     N    N    Y    N    N    N   Y   U
createDrEvent(national)              N     N     N     N    N    N    N    N    N   Y   U
createDrEvent(missing)               N     N     N     N    N    N    N    N    N   E   U
cancelDrEvent(A)                     N     N     N     N    N    N    N    Y    N   Y   U
cancelDrEvent(S)                     N     N     N     N    N    Y    N    N    N   Y   U
cancelDrEvent(missing)               N     N     N     N    N    N    N    N    N   N   U
setDrParticipation(a1)               N     Y     N     N    N    N    N    N    N   N   U
setDrParticipation(a2)               N     N     N     Y    N    N    N    N    N   N   U
setDrParticipation(missing)          N     N     N     N    N    N    N    N    N   N   U
setPlugDrAutomation(a1)              N     Y     N     N    N    N    N    N    N   N   U
setPlugDrAutomation(b)               N     N     N     N    N    N    N    N    N   N   U
setPlugDrAutomation(missing)         N     N     N     N    N    N    N    N    N   N   U
# DR settlements: event P (municipality A, by officer_a) ended and was settled: a1 and a2 took part
# (no readings: insufficient data); the settlement is seen by the household, the event's managers
# and operators; a class's pooled delivery by its teachers, its school's admins and operators
drSettlement(a1)                     Y     Y     N     N    N    N    N    Y    N   Y   U
drSettlement(a2)                     N     N     Y     Y    N    N    N    Y    N   Y   U
drSettlement(b)                      N     N     N     N    N    N    N    E    N   E   U
drSettlement(missing)                N     N     N     N    N    N    N    E    N   E   U
drTeamDelivery(A)                    N     N     N     N    Y    Y    N    N    N   Y   U
drTeamDelivery(B)                    N     N     N     N    N    N    E    N    N   E   U
drTeamDelivery(missing)              N     N     N     N    N    N    N    N    N   N   U
drDisputes                           N     N     N     N    N    N    N    N    N   Y   U
disputeDrSettlement(a1)              N     Y     N     N    N    N    N    N    N   N   U
disputeDrSettlement(a2)              N     N     N     Y    N    N    N    N    N   N   U
disputeDrSettlement(missing)         N     N     N     N    N    N    N    N    N   N   U
# a dispute parent_a1 raised about a1's settlement
resolveDrDispute(a1)                 N     N     N     N    N    N    N    N    N   Y   U
resolveDrDispute(missing)            N     N     N     N    N    N    N    N    N   E   U
"""
EXPECTED_OPERATIONS = _parse_grid(OPERATION_GRID)

# ---------------------------------------------------------------------------------------------
# Fields. Every field of every object type is either public (visible to whoever can reach
# the object) or in a named group of sensitive fields. Cells list the groups the role may
# see on that object; "-" is none. Objects a role cannot reach are simply not seen.
# ---------------------------------------------------------------------------------------------
FIELD_CLASSES: dict[str, dict[str, tuple[str, ...]]] = {
    "User": {
        "public": ("id", "displayName", "role"),
        "P": ("email", "birthDate", "createdAt", "guardianConsent", "municipality"),  # private
        "F": ("household", "guardians", "children"),  # family
        "S": ("school", "schoolClass"),  # school membership
    },
    "Household": {
        "public": ("id", "name", "createdAt", "municipality"),
        "I": ("inviteCode",),
        "M": ("members", "guardianLinks"),
    },
    "School": {"public": ("id", "name", "municipality"), "R": ("classes", "staff")},
    "SchoolClass": {"public": ("id", "name", "grade", "year", "school"), "R": ("joinCode", "students")},
    "GuardianLink": {"public": ("id", "consentGiven", "consentGivenAt", "guardian", "student")},
    "Municipality": {"public": ("id", "name", "code", "schools")},
    # reachable only through activities(userId), i.e. by the reporter, their guardian, operators
    "Activity": {"public": ("id", "activityType", "occurredOn", "status", "statusReason", "kwh", "shiftedKwh",
                            "points", "params", "createdAt")},
    "Programme": {"public": ("id", "name", "year", "rulesYear", "startsOn", "endsOn", "coinBudgetWon",
                             "coinsIssuedWon", "municipality", "enrolledSchoolIds", "createdAt")},
    # reachable only through plugs(householdId) / plug(id), i.e. by the household's members, operators
    "Plug": {
        "public": ("id", "name", "vendor", "pairedAt", "unpairedAt", "online", "lastSeenAt", "powerW", "relayOn", "lastCommand", "standby",
                   "clockOff", "exporting", "returnedKwh", "todayKwh", "todayCoverage", "monthKwh", "monthCoverage", "hourly", "drAutomation",
                   "channel", "meter"),
        "D": ("deviceId", "topicTemplate"),  # what pairing uses: parents and operators
    },
}
#: Results, payloads and errors: every field visible to whoever receives them.
PAYLOAD_TYPES = {
    "AuthPayload", "SignUpSuccess", "StaffAccountCreated", "SignedOut", "AccountDeleted", "DataExport",
    "NotAllowed", "ValidationFailed", "AlreadyExists", "InvalidCredentials", "InvalidToken",
    "RateLimited", "ConsentRequired", "ServiceUnavailable",
    "Wallet", "LedgerLine", "CoinBalance", "LedgerCheckpointList",
    # scoreboards: scope is decided by scoreboard/myRanks (rows above); small groups are suppressed
    "Scoreboard", "ScoreEntry", "PeriodRange", "GroupRank", "MyRanks",
    # prizes: reached only through nominations/prizeBudgets and the prize mutations (rows above)
    "PrizeBudget", "PrizeBudgetList", "Nomination", "NominationList", "Award",
    # awards won: reached only through myAwards, the caller's own and their children's (rows above)
    "MyAward", "MyAwardList",
    # certificates: issued by issueVolunteerCertificate (rows above); verification shows a masked name only
    "VolunteerCertificate", "CertificateVerification", "CertificateEntry",
    # the counter and the coin dashboard: officers of the municipality (and operators: the dashboard)
    "RedemptionPreview", "RedemptionLine", "RedemptionDay", "SchoolCoinFigures", "CoinProgrammeDashboard",
    # 1365/NEIS transfer: consent state to who decided it, the CSV to the exporting staff (rows above)
    "TransferConsentState", "VolunteerRecordsExport",
    # monthly reports: the municipality's officers and operators (rows above)
    "MunicipalReport", "Conversion", "RedemptionCodeIssued", "CoinsRedeemed", "BalanceAdjusted",
    "ActivityLogged", "ActivityList", "ActivityType", "ActivityParameter", "SavingsAssumption",
    "LedgerCheckpoint", "InclusionProof", "ConsistencyProof",
    "IdempotencyConflict", "LimitReached", "InsufficientBalance", "InvalidRedemptionCode",
    "PlugList", "PlugHour", "PlugCommand", "PlugStandby", "LaundryWindow", "PlugHourly", "PlugPairingCode", "PlugPaired", "PlugDeviceSetup",
    "PlugReadingsPushed",
    "PlugReadingRejected", "PlugIngestStats", "PlugRejectCount",
    # photo evidence: scope is decided where a photo is reached (photo, photoReviewQueue, the mutations:
    # rows above); a duplicate's thumbnail is shown only to who may see that photo (tests/photos)
    "Photo", "PhotoWarning", "PhotoDuplicate", "BillReading", "PhotoActivity", "PhotoUploaded", "PhotoReviewQueue",
    "PhotoVerifierHealth", "PhotoTrainingConsentState", "PhotoRejected", "DuplicatePhoto", "NotAwaitingEvidence",
    "AlreadyDecided",
    # reached only through drEvents/drEvent/drLiveView and the subscriptions, which return only
    # what the caller may see; a household's live view carries aggregates only
    "DrEvent", "DrEventList", "DrParticipation", "DrLiveView",
    # reached only through drSettlement/drTeamDelivery/drDisputes and the dispute mutations (rows above)
    "DrSettlement", "DrSettlementHour", "DrDayValue", "DrExcludedDay", "DrBaselineReading", "DrInDayAdjustment",
    "DrBaselineWarning", "DrSettlementChange", "DrDispute", "DrDisputeList", "DrTeamDelivery",
}

FIELD_GRIDS = {
    "User": _parse_grid("""
                 st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b  op  anon
    student_a1    PFS   PFS    -     -    S    S    -    -    -   PFS   -
    parent_a1     FS    PFS    -     -    -    -    -    -    -   PFS   -
    student_a2     -     -    PFS   PFS   S    S    -    -    -   PFS   -
    parent_a2      -     -    FS    PFS   -    -    -    -    -   PFS   -
    student_b      -     -     -     -    -    -    S    -    -   PFS   -
    parent_b       -     -     -     -    -    -    -    -    -   PFS   -
    teacher_a      -     -     -     -   PFS   S    -    -    -   PFS   -
    admin_a        -     -     -     -    S   PFS   -    -    -   PFS   -
    teacher_b      -     -     -     -    -    -   PFS   -    -   PFS   -
    officer_a      -     -     -     -    -    -    -   PFS   -   PFS   -
    officer_b      -     -     -     -    -    -    -    -   PFS  PFS   -
    operator       -     -     -     -    -    -    -    -    -   PFS   -
    """),
    "Household": _parse_grid("""
                 st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b  op  anon
    a1             M    IM     -     -    -    -    -    -    -   IM    -
    a2             -     -     M    IM    -    -    -    -    -   IM    -
    b              -     -     -     -    -    -    -    -    -   IM    -
    """),
    "School": _parse_grid("""
                 st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b  op  anon
    A              -     -     -     -    R    R    -    -    -    R    -
    B              -     -     -     -    -    -    R    -    -    R    -
    """),
    "SchoolClass": _parse_grid("""
                 st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b  op  anon
    A              -     -     -     -    R    R    -    -    -    R    -
    B              -     -     -     -    -    -    R    -    -    R    -
    """),
    "Plug": _parse_grid("""
                 st_a1 pa_a1 st_a2 pa_a2 te_a ad_a te_b of_a of_b  op  anon
    plug_a1        -     D     -     -    -    -    -    -    -    D    -
    plug_a2        -     -     -     D    -    -    -    -    -    D    -
    plug_b         -     -     -     -    -    -    -    -    -    D    -
    """),
}


# ---------------------------------------------------------------------------------------------
# How each operation row is exercised.
# ---------------------------------------------------------------------------------------------
@dataclass
class Ctx:
    client: httpx.AsyncClient
    world: World
    role: str
    token: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    settings: Settings | None = None
    programmes: dict[str, Programme] = field(default_factory=dict)  # this year's, of A and B

    @property
    def users(self) -> dict[str, User]:
        return self.world.users()

    @property
    def me(self) -> User | None:
        return None if self.role == ANONYMOUS else self.users[self.role]

    def user_id(self, name: str) -> str:
        if name == "missing":
            return MISSING_ID
        if name == "self":
            return str((self.me or self.world.operator).id)
        return str(self.users[name].id)

    def household_id(self, name: str) -> str:
        return MISSING_ID if name == "missing" else str(households(self.world)[name].id)

    def school_id(self, name: str) -> str:
        return MISSING_ID if name == "missing" else str(schools(self.world)[name].id)

    def class_id(self, name: str) -> str:
        return MISSING_ID if name == "missing" else str(classes(self.world)[name].id)

    def muni_id(self, name: str) -> str:
        return MISSING_ID if name == "missing" else str({"A": self.world.muni_a, "B": self.world.muni_b}[name].id)

    def programme_id(self, name: str) -> str:
        return MISSING_ID if name == "missing" else str(self.programmes[name].id)

    def today(self) -> str:
        assert self.settings is not None
        return local_today(self.settings.display_timezone).isoformat()


def households(world: World) -> dict[str, Household]:
    return {"a1": world.family_a1.household, "a2": world.family_a2.household, "b": world.family_b.household}


def schools(world: World) -> dict[str, School]:
    return {"A": world.school_a, "B": world.school_b}


def classes(world: World) -> dict[str, SchoolClass]:
    return {"A": world.class_a, "B": world.class_b}


Vars = Callable[[Ctx, str], dict[str, Any]]
Check = Callable[[Ctx, str, Any], str | None]  # an error message, or None when the result is right
Snapshot = Callable[[Ctx, str], Awaitable[Any]]


@dataclass
class Operation:
    root: str
    document: str
    success: str | None  # __typename of success; None for lists and nullable objects
    variables: Vars = lambda ctx, target: {}
    check: Check | None = None
    snapshot: Snapshot | None = None  # state the operation writes; compared before and after
    prepare: Callable[[Ctx], Awaitable[None]] | None = None


def _ids(value: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in value}


def _is(expected: Callable[[Ctx, str], str], path: Callable[[Any], Any] = lambda v: v["id"]) -> Check:
    def check(ctx: Ctx, target: str, value: Any) -> str | None:
        want, got = str(expected(ctx, target)), str(path(value))
        return None if want == got else f"returned {got}, expected {want}"

    return check


def _own_household(ctx: Ctx, target: str) -> str:
    assert ctx.me is not None
    return str(ctx.me.household_id)


def _self_id(ctx: Ctx, target: str) -> str:
    return ctx.user_id("self")


async def _count_users_with_email(ctx: Ctx, target: str) -> int:
    return await User.filter(email=_staff_input(ctx, target)["email"]).count()


def _staff_input(ctx: Ctx, target: str) -> dict[str, Any]:
    kind = target.split("@")[0]
    place = target.split("@")[1] if "@" in target else None
    role = {"teacher": "TEACHER", "admin": "SCHOOL_ADMIN", "officer": "OFFICER", "operator": "OPERATOR"}[kind]
    data: dict[str, Any] = {
        "email": f"new-{kind}-{(place or 'x').lower()}@example.org", "password": PASSWORD,
        "displayName": f"New {kind}", "role": role,
    }
    if kind in ("teacher", "admin"):
        data["schoolId"] = ctx.school_id(place or "A")
    if kind == "officer":
        data["municipalityId"] = ctx.muni_id(place or "A")
    return data


async def _consent_state(ctx: Ctx, target: str) -> tuple[int, int]:
    student = int(ctx.user_id(target))
    return (
        await GuardianLink.filter(student_id=student, consent_given_at__isnull=False).count(),
        await ConsentRecord.filter(link__student_id=student).count(),
    )


async def _prepare_refresh_token(ctx: Ctx) -> None:
    body = await _post(ctx.client, SIGN_IN, {"email": ctx.world.family_b.parent.email, "password": PASSWORD}, None)
    ctx.extra["refresh_token"] = body.json()["data"]["signIn"]["refreshToken"]


def _error_fragment(member: str, fields: str) -> str:
    return f"__typename ... on {member} {{ {fields} }} ... on Error {{ message }}"



# -- rewards, activities and the ledger: state and preparations -------------------------------
async def _reward_state(ctx: Ctx, target: str) -> tuple[Any, ...]:
    """Everything the rewards mutations write: ledger legs, activities, codes, programmes."""
    return (
        await LedgerEntry.all().count(),
        await Activity.all().order_by("id").values_list("id", "status"),
        await RedemptionCode.all().order_by("id").values_list("id", "redeemed_at"),
        await Programme.all().order_by("id").values_list("id", "coins_issued_won"),
        await ProgrammeEnrolment.all().order_by("id").values_list("programme_id", "school_id"),
    )


async def _seed(account: uuid.UUID, asset: Asset, amount: int, scope: str = "") -> None:
    async with ledger_transaction() as w:
        w.add(EntryKind.ADJUSTMENT, account, asset, amount, f"matrix-seed:{uuid.uuid4()}", scope=scope)


def _seed_caller(asset: Asset, amount: int, municipality: str | None = None) -> Callable[[Ctx], Awaitable[None]]:
    """Give the caller (whatever their role) what the conversion or code needs."""
    async def prepare(ctx: Ctx) -> None:
        if ctx.me is not None:
            scope = {"A": ctx.world.muni_a.code, "B": ctx.world.muni_b.code}[municipality] if municipality else ""
            await _seed(ctx.me.pseudonym, asset, amount, scope)

    return prepare


async def _prepare_wallets(ctx: Ctx) -> None:
    """A different number of points for everyone, so a wallet shows whose it is."""
    if "points" in ctx.extra:
        return
    ctx.extra["points"] = {}
    async with ledger_transaction() as w:
        for index, user in enumerate(ctx.users.values()):
            amount = 1_000 + 10 * index
            w.add(EntryKind.ADJUSTMENT, user.pseudonym, Asset.POINTS, amount, f"matrix-wallet:{user.id}")
            ctx.extra["points"][str(user.id)] = amount


# -- smart plugs: state and preparations ------------------------------------------------------
PLUG_HOUSEHOLDS = ("a1", "a2", "b")


async def _prepare_plugs(ctx: Ctx) -> None:
    """One Tasmota plug paired in each of a1, a2 and b, by its parent."""
    if "plugs" in ctx.extra:
        return
    assert ctx.settings is not None
    ctx.extra["plugs"] = {}
    families = {"a1": ctx.world.family_a1, "a2": ctx.world.family_a2, "b": ctx.world.family_b}
    for name in PLUG_HOUSEHOLDS:
        parent = await principal_of(families[name].parent)
        issued = await plug_service.create_pairing_code(ctx.settings, parent, families[name].household.id)
        paired = await plug_service.pair_plug(ctx.settings, issued.code, Vendor.TASMOTA, f"matrix-{name}",
                                              f"Plug {name}", parent)
        ctx.extra["plugs"][name] = paired.plug


def _plug_id(ctx: Ctx, target: str) -> str:
    return MISSING_ID if target == "missing" else str(ctx.extra["plugs"][target].id)


def _plug_names(ctx: Ctx) -> dict[tuple[str, str], str]:
    return {("Plug", str(plug.id)): f"plug_{name}" for name, plug in ctx.extra.get("plugs", {}).items()}


def _check_plug_list(ctx: Ctx, target: str, value: Any) -> str | None:
    want = set() if target == "missing" else {_plug_id(ctx, target)}
    got = _ids(value["items"])
    return None if got == want else f"returned plugs {got}, expected {want}"


_PAIRED_FIELDS = ("token mqttUsername mqttPassword plug { id name } plugs { name channel } "
                  "deviceSetup { username password topic fullTopic }")


async def _plug_state(ctx: Ctx, target: str) -> tuple[Any, ...]:
    """Everything the plug mutations write: plugs (names, pairings), pairing codes, push batches."""
    return (
        await Plug.all().order_by("id").values_list("id", "name", "unpaired_at", "household_id"),
        await PairingCode.all().order_by("id").values_list("id", "household_id", "used_at"),
        await PushBatch.all().count(),
        await PlugCommand.all().order_by("id").values_list("id", "plug_id", "switch_on", "status"),
    )


async def _prepare_pairing_code(ctx: Ctx) -> None:
    """A pairing code parent_a1 created."""
    if "pairing_code" in ctx.extra:
        return
    assert ctx.settings is not None
    parent = await principal_of(ctx.world.family_a1.parent)
    ctx.extra["pairing_code"] = (await plug_service.create_pairing_code(ctx.settings, parent, parent.household_id)).code


async def _prepare_http_plug(ctx: Ctx) -> None:
    """An HTTP-push plug of a1, with its token."""
    if "plug_token" in ctx.extra:
        return
    assert ctx.settings is not None
    parent = await principal_of(ctx.world.family_a1.parent)
    issued = await plug_service.create_pairing_code(ctx.settings, parent, parent.household_id)
    paired = await plug_service.pair_plug(ctx.settings, issued.code, Vendor.HTTP, "matrix-http-a1", "Bridge", parent)
    ctx.extra["plug_token"] = paired.token


# -- DR events: state and preparations --------------------------------------------------------
async def _prepare_dr(ctx: Ctx) -> None:
    """Events A (municipality A, by officer_a), B (municipality B, by officer_b) and S (school A,
    by admin_a), all in the next hours; and the plugs."""
    if "dr" in ctx.extra:
        return
    assert ctx.settings is not None
    await _prepare_plugs(ctx)
    w, now = ctx.world, datetime.now(UTC)
    specs = {"A": (w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id, 2),
             "B": (w.officer_b, DrScope.MUNICIPALITY, w.muni_b.id, 2),
             "S": (w.admin_a, DrScope.SCHOOL, w.school_a.id, 5)}
    ctx.extra["dr"] = {}
    for name, (user, scope, scope_id, hours) in specs.items():
        ctx.extra["dr"][name] = await dr_service.create_event(
            ctx.settings, await principal_of(user), title=f"Matrix {name}", scope=scope, scope_id=scope_id,
            starts_at=now + timedelta(hours=hours), ends_at=now + timedelta(hours=hours + 1), target_kw=3.0)


async def _prepare_prizes(ctx: Ctx) -> None:
    """Nomination N of student_a1 by teacher_a, and budget P of school A (1,000 points, by admin_a)."""
    if "nomination" in ctx.extra:
        return
    w = ctx.world
    budget = await awards.create_budget(await principal_of(w.admin_a), "Asia/Seoul", "Matrix budget", Asset.POINTS,
                                        1_000, school_id=w.school_a.id)
    nomination = await awards.nominate(await principal_of(w.teacher_a), "student", w.family_a1.student.id,
                                       "saving", PeriodKind.MONTH, date.fromisoformat(ctx.today()),
                                       "Matrix nomination reason.", {})
    ctx.extra["nomination"], ctx.extra["budget"] = str(nomination.id), str(budget.id)


async def _prepare_award(ctx: Ctx) -> None:
    await _prepare_prizes(ctx)
    if "award" not in ctx.extra:
        row = await awards.award(await principal_of(ctx.world.admin_a), int(ctx.extra["nomination"]),
                                 int(ctx.extra["budget"]), 100)
        ctx.extra["award"] = str(row.id)


def _check_my_awards(ctx: Ctx, target: str, value: Any) -> str | None:
    """The award to student_a1 for the winner and their guardian only."""
    winner = ctx.world.family_a1.student
    want = ([{"id": ctx.extra["award"], "winners": [winner.display_name], "myShare": 100}]
            if ctx.role in ("student_a1", "parent_a1") else [])
    return None if value["items"] == want else f"got {value['items']}, expected {want}"


async def _prepare_certificate(ctx: Ctx) -> None:
    """90 volunteer minutes of student_a1 this year, and a certificate issued by teacher_a."""
    if "certificate" in ctx.extra:
        return
    assert ctx.settings is not None
    student = ctx.world.family_a1.student
    async with ledger_transaction() as w:
        w.add(EntryKind.CONVERSION, student.pseudonym, Asset.VOLUNTEER_MINUTES, 90, "matrix-minutes")
    cert = await certificates.issue(await principal_of(ctx.world.teacher_a), student.id,
                                    period_of(PeriodKind.SCHOOL_YEAR, date.fromisoformat(ctx.today())),
                                    ctx.settings.signing_key, ctx.settings.display_timezone)
    ctx.extra["certificate"] = certificates.qr_payload("http://matrix", cert.number, cert.digest)


def _report_month(ctx: Ctx, target: str) -> dict[str, Any]:
    year, month = previous_month(datetime.now(UTC), "Asia/Seoul")
    return {"m": ctx.muni_id(target), "y": year, "mo": month}


async def _prize_state(ctx: Ctx, target: str) -> tuple[Any, ...]:
    return (await Nomination.all().order_by("id").values_list("id", "status"),
            await Award.all().order_by("id").values_list("id", "withdrawn_at"),
            await PrizeBudget.all().count(), await LedgerEntry.all().count())


def _dr_id(ctx: Ctx, target: str) -> str:
    return MISSING_ID if target == "missing" else str(ctx.extra["dr"][target].id)


DR_VISIBLE = {"student_a1": "AS", "parent_a1": "AS", "student_a2": "AS", "parent_a2": "AS", "teacher_a": "AS",
              "admin_a": "AS", "teacher_b": "B", "officer_a": "AS", "officer_b": "B", "operator": "ABS"}


def _check_dr_list(ctx: Ctx, target: str, value: Any) -> str | None:
    want = {_dr_id(ctx, name) for name in DR_VISIBLE[ctx.role]}
    got = _ids(value["items"])
    return None if got == want else f"returned events {got}, expected {want}"


def _create_dr_variables(ctx: Ctx, target: str) -> dict[str, Any]:
    hours = {"A": 10, "S": 20, "national": 30, "missing": 40}[target]
    scope = {"A": "MUNICIPALITY", "S": "SCHOOL", "national": "NATIONAL", "missing": "MUNICIPALITY"}[target]
    scope_id = {"A": ctx.muni_id("A"), "S": ctx.school_id("A"), "national": None, "missing": MISSING_ID}[target]
    start = datetime.now(UTC) + timedelta(hours=hours)
    return {"input": {"title": f"Matrix {target}", "scope": scope, "scopeId": scope_id, "startsAt": start.isoformat(),
                      "endsAt": (start + timedelta(hours=1)).isoformat(), "targetKw": 2.5}}


async def _dr_state(ctx: Ctx, target: str) -> tuple[Any, ...]:
    """Everything the DR mutations write: events, households' choices, plugs' DR consent."""
    return (
        await DrEvent.all().order_by("id").values_list("id", "state"),
        await DrParticipation.all().order_by("id").values_list("id", "opted_out"),
        await Plug.all().order_by("id").values_list("id", "dr_automation"),
    )


async def _prepare_dr_settled(ctx: Ctx) -> None:
    """Event P of municipality A (by officer_a) three days ago, ended and settled: a1 and a2
    took part without readings, so both are settled as insufficient data."""
    if "dr_settled" in ctx.extra:
        return
    assert ctx.settings is not None
    day = date.fromisoformat(ctx.today()) - timedelta(days=3)
    event = await run_settled_event(ctx.settings, ctx.world, day, 16, 1, target_kw=1.0)
    await dr_settlement.settle_event(ctx.settings, event.id, event.ends_at + timedelta(hours=7))
    ctx.extra["dr_settled"] = event


async def _prepare_dr_dispute(ctx: Ctx) -> None:
    """Event P settled, and a dispute parent_a1 raised about a1's settlement."""
    await _prepare_dr_settled(ctx)
    if "dr_dispute" in ctx.extra:
        return
    dispute = await dr_disputes.raise_dispute(await principal_of(ctx.world.family_a1.parent),
                                              ctx.extra["dr_settled"].id, ctx.world.family_a1.household.id,
                                              "Our plug was offline, but we did switch everything off.")
    ctx.extra["dr_dispute"] = str(dispute.id)


def _settled_id(ctx: Ctx) -> str:
    return str(ctx.extra["dr_settled"].id)


def _dispute_id(ctx: Ctx, target: str) -> str:
    return MISSING_ID if target == "missing" else ctx.extra["dr_dispute"]


async def _dispute_state(ctx: Ctx, target: str) -> tuple[Any, ...]:
    return (await DrDispute.all().order_by("id").values_list("id", "status"),
            await LedgerEntry.filter(ref__startswith="dr:").count())


def _check_disputes(ctx: Ctx, target: str, value: Any) -> str | None:
    got = _ids(value["items"])
    return None if got == {ctx.extra["dr_dispute"]} else f"returned disputes {got}"


def _push_variables(ctx: Ctx, target: str) -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {"token": ctx.extra["plug_token"], "batch": str(uuid.uuid4()),
            "readings": [{"ts": ts, "powerW": 10.0, "energyWh": 100.0}]}


async def _prepare_activity(ctx: Ctx) -> None:
    """One accepted activity of student_a1, with its points awarded."""
    if "activity_id" in ctx.extra:
        return
    assert ctx.settings is not None
    student = ctx.world.family_a1.student
    logged = await activity_service.log_activity(
        await principal_of(student), ctx.settings, "matrix-activity-1", "gaming_reduced",
        local_today(ctx.settings.display_timezone), {"device": "console", "hours": 2},
    )
    ctx.extra["activity_id"] = str(logged.activity.id)
    ctx.extra["activities"] = {str(student.id): {str(logged.activity.id)}}


async def _prepare_checkpoints(ctx: Ctx) -> None:
    """Two signed checkpoints (tree sizes 1 and 2)."""
    if await Checkpoint.all().count() >= 2:
        return
    assert ctx.settings is not None
    for _ in range(2):
        await _seed(uuid.uuid4(), Asset.POINTS, 1)
        await publish_checkpoint(ctx.settings)


async def _prepare_codes(ctx: Ctx) -> None:
    """A redemption code of parent_a1 for 5,000 won of A's coins, and of parent_b for B's."""
    if "code:A" in ctx.extra:
        return
    assert ctx.settings is not None
    for name, holder, muni in (("A", ctx.world.family_a1.parent, ctx.world.muni_a),
                               ("B", ctx.world.family_b.parent, ctx.world.muni_b)):
        await _seed(holder.pseudonym, Asset.COINS_WON, 10_000, muni.code)
        issued = await redemption.create_code(await principal_of(holder), ctx.settings, muni.id, 5_000)
        ctx.extra[f"code:{name}"] = issued.code


async def _prepare_enrolment(ctx: Ctx) -> None:
    """Undo start_programmes' enrolment of school A, so enrolling it again is a write."""
    await ProgrammeEnrolment.filter(programme_id=ctx.programmes["A"].id, school_id=ctx.world.school_a.id).delete()


def _owner(ctx: Ctx, target: str) -> str:
    return ctx.user_id(target)


def _optional_user(ctx: Ctx, target: str) -> dict[str, Any]:
    """``self`` asks without a userId (one's own); any other target by id."""
    return {"id": None if target == "self" else ctx.user_id(target)}


def _check_activities(ctx: Ctx, target: str, value: Any) -> str | None:
    want = ctx.extra["activities"].get(_owner(ctx, target), set())
    got = {item["id"] for item in value["items"]}
    return None if got == want else f"returned activities {got}, expected {want}"


def _check_wallet(ctx: Ctx, target: str, value: Any) -> str | None:
    want = ctx.extra["points"][_owner(ctx, target)]
    return None if value["points"] == want else f"returned {value['points']} points, expected {want} (another wallet?)"


def _check_conversion(ctx: Ctx, target: str, value: Any) -> str | None:
    ok = value["debited"] > 0 and value["credited"] > 0 and value["replayed"] is False
    return None if ok else f"got {value}"


def _next_year(ctx: Ctx) -> int:
    return int(ctx.today()[:4]) + 1


def _programme_input(ctx: Ctx, target: str) -> dict[str, Any]:
    year = _next_year(ctx)
    return {"input": {"municipalityId": ctx.muni_id(target), "name": f"Matrix {target} {year}", "year": year,
                      "startsOn": f"{year}-01-01", "endsOn": f"{year}-12-31", "coinBudgetWon": 1_000_000}}


def _check_programme(ctx: Ctx, target: str, value: Any) -> str | None:
    ok = (value["year"] == _next_year(ctx) and value["rulesYear"] in available_years()
          and value["municipality"]["id"] == ctx.muni_id(target))
    return None if ok else f"got {value}"


def _enrolment(ctx: Ctx, target: str) -> dict[str, Any]:
    """School A into A's programme, school B into B's; missing: a school that does not exist."""
    return {"p": ctx.programme_id("A" if target == "missing" else target), "s": ctx.school_id(target)}


def _check_enrolment(ctx: Ctx, target: str, value: Any) -> str | None:
    ok = value["id"] == ctx.programme_id(target) and ctx.school_id(target) in value["enrolledSchoolIds"]
    return None if ok else f"got {value}"


def _check_redeemed(ctx: Ctx, target: str, value: Any) -> str | None:
    code = {"A": ctx.world.muni_a.code, "B": ctx.world.muni_b.code}[target]
    return None if (value["amountWon"], value["municipalityCode"]) == (5_000, code) else f"got {value}"


@dataclass
class _MatrixFile:
    """A file variable: _post sends the request as a GraphQL multipart request."""

    data: bytes
    name: str = "matrix.jpg"
    mime: str = "image/jpeg"


def _matrix_jpeg() -> bytes:
    from tests.photos.fixtures.builders import jpeg, photo

    return jpeg(photo(640, 480, seed=7))


async def _prepare_photos(ctx: Ctx) -> None:
    """student_a1: a photo waiting for review, a bill photo, and an activity waiting for its photo."""
    if "photo_id" in ctx.extra:
        return
    from backend.photos import service as photo_service
    from tests.photos.fixtures.builders import jpeg, photo

    assert ctx.settings is not None
    student = ctx.world.family_a1.student
    principal = await principal_of(student)
    today = local_today(ctx.settings.display_timezone)
    ids = []
    for key, type_key, params in (("w1", "waste_found", {"waste_kind": "device_left_on"}),
                                  ("b1", "bill_comparison", {"this_month_kwh": "310", "same_month_last_year_kwh": "340"}),
                                  ("w2", "waste_found", {"waste_kind": "empty_room_lights"})):
        logged = await activity_service.log_activity(principal, ctx.settings, f"matrix-photo-{key}", type_key,
                                                     today, params)
        ids.append(logged.activity.id)
    for activity_id, seed, name in ((ids[0], 1, "photo_id"), (ids[1], 2, "bill_photo")):
        uploaded = await photo_service.upload_photo(principal, ctx.settings, activity_id, jpeg(photo(640, 480, seed)),
                                                    "image/jpeg", "a.jpg")
        await Photo.filter(id=uploaded.photo.id).update(status="needs_review")
        ctx.extra[name] = str(uploaded.photo.id)
    ctx.extra["upload_activity"] = str(ids[2])


def _photo_id(ctx: Ctx, target: str) -> str:
    return MISSING_ID if target == "missing" else ctx.extra["photo_id"]


def _check_review_queue(ctx: Ctx, target: str, value: Any) -> str | None:
    want = {ctx.extra["photo_id"], ctx.extra["bill_photo"]} if ctx.role in (
        "parent_a1", "teacher_a", "admin_a", "operator") else set()
    got = {item["id"] for item in value["items"]}
    return None if got == want else f"returned photos {got}, expected {want}"


OPERATIONS: dict[str, Operation] = {
    # -- queries --------------------------------------------------------------------------------
    "me": Operation("me", "query { me { __typename id } }", "User", check=_is(_self_id)),
    "user": Operation(
        "user", f"query($id: ID!) {{ user(id: $id) {{ {_error_fragment('User', 'id')} }} }}", "User",
        variables=lambda ctx, t: {"id": ctx.user_id(t)}, check=_is(lambda ctx, t: ctx.user_id(t)),
    ),
    "exportMyData": Operation(
        "exportMyData", f"query {{ exportMyData {{ {_error_fragment('DataExport', 'data')} }} }}", "DataExport",
        check=_is(_self_id, lambda v: v["data"]["profile"]["id"]),
    ),
    "exportChildData": Operation(
        "exportChildData",
        f"query($id: ID!) {{ exportChildData(studentId: $id) {{ {_error_fragment('DataExport', 'data')} }} }}",
        "DataExport", variables=lambda ctx, t: {"id": ctx.user_id(t)},
        check=_is(lambda ctx, t: ctx.user_id(t), lambda v: v["data"]["profile"]["id"]),
    ),
    "myHousehold": Operation(
        "myHousehold", "query { myHousehold { __typename id } }", None, check=_is(_own_household),
    ),
    "household": Operation(
        "household", f"query($id: ID!) {{ household(id: $id) {{ {_error_fragment('Household', 'id')} }} }}",
        "Household", variables=lambda ctx, t: {"id": ctx.household_id(t)},
        check=_is(lambda ctx, t: ctx.household_id(t)),
    ),
    "schools": Operation(
        "schools", "query { schools { __typename id name } }", None,
        check=lambda ctx, t, v: None if _ids(v) == {ctx.school_id("A"), ctx.school_id("B")} else f"got {v}",
    ),
    "school": Operation(
        "school", f"query($id: ID!) {{ school(id: $id) {{ {_error_fragment('School', 'id name')} }} }}", "School",
        variables=lambda ctx, t: {"id": ctx.school_id(t)}, check=_is(lambda ctx, t: ctx.school_id(t)),
    ),
    "schoolClass": Operation(
        "schoolClass",
        f"query($id: ID!) {{ schoolClass(id: $id) {{ {_error_fragment('SchoolClass', 'id name')} }} }}",
        "SchoolClass", variables=lambda ctx, t: {"id": ctx.class_id(t)}, check=_is(lambda ctx, t: ctx.class_id(t)),
    ),
    "scoreboard": Operation(
        "scoreboard",
        f"query($s: ID!) {{ scoreboard(level: CLASS, scopeId: $s) {{ "
        f"{_error_fragment('Scoreboard', 'entries { groupId name }')} }} }}",
        "Scoreboard", variables=lambda ctx, t: {"s": ctx.school_id(t)},
        check=lambda ctx, t, v: None if _ids([{"id": e["groupId"]} for e in v["entries"]]) == {ctx.class_id("A")}
        else f"got {v}",
    ),
    "myRanks": Operation(
        "myRanks", f"query {{ myRanks {{ {_error_fragment('MyRanks', 'classRank { rank suppressed }')} }} }}",
        "MyRanks", check=lambda ctx, t, v: None if v["classRank"]["suppressed"] is True else f"got {v}",
    ),
    "myAwards": Operation(
        "myAwards", f"query {{ myAwards {{ {_error_fragment('MyAwardList', 'items { id winners myShare }')} }} }}",
        "MyAwardList", check=_check_my_awards, prepare=_prepare_award,
    ),
    "nominations": Operation(
        "nominations", f"query($s: ID!) {{ nominations(schoolId: $s) {{ "
        f"{_error_fragment('NominationList', 'items { id }')} }} }}", "NominationList",
        variables=lambda ctx, t: {"s": ctx.school_id(t)},
        check=lambda ctx, t, v: None if _ids(v["items"]) == {ctx.extra["nomination"]} else f"got {v}",
        prepare=_prepare_prizes,
    ),
    "prizeBudgets": Operation(
        "prizeBudgets", f"query($s: ID!) {{ prizeBudgets(schoolId: $s) {{ "
        f"{_error_fragment('PrizeBudgetList', 'items { id remaining }')} }} }}", "PrizeBudgetList",
        variables=lambda ctx, t: {"s": ctx.school_id(t)},
        check=lambda ctx, t, v: None if [i["remaining"] for i in v["items"]] == [1_000] else f"got {v}",
        prepare=_prepare_prizes,
    ),
    "createPrizeBudget": Operation(
        "createPrizeBudget",
        f"mutation($s: ID, $m: ID) {{ createPrizeBudget(name: \"Matrix\", asset: POINTS, amount: 50, schoolId: $s, "
        f"municipalityId: $m) {{ {_error_fragment('PrizeBudget', 'id remaining')} }} }}", "PrizeBudget",
        variables=lambda ctx, t: {"s": ctx.school_id("A")} if t == "A" else {"m": ctx.muni_id(
            "A" if t == "cityA" else "missing")},
        check=lambda ctx, t, v: None if v["remaining"] == 50 else f"got {v}", snapshot=_prize_state,
    ),
    "nominate": Operation(
        "nominate",
        f"mutation($id: ID!) {{ nominate(nomineeKind: STUDENT, nomineeId: $id, category: \"matrix\", "
        f"reason: \"Matrix nomination reason.\") {{ {_error_fragment('Nomination', 'id nomineeId')} }} }}",
        "Nomination", variables=lambda ctx, t: {"id": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["nomineeId"] == ctx.user_id(t) else f"got {v}", snapshot=_prize_state,
    ),
    "awardNomination": Operation(
        "awardNomination",
        f"mutation($n: ID!) {{ awardNomination(nominationId: $n) {{ {_error_fragment('Award', 'id honour')} }} }}",
        "Award", variables=lambda ctx, t: {"n": MISSING_ID if t == "missing" else ctx.extra["nomination"]},
        check=lambda ctx, t, v: None if v["honour"] is True else f"got {v}", snapshot=_prize_state,
        prepare=_prepare_prizes,
    ),
    "withdrawAward": Operation(
        "withdrawAward",
        f"mutation($a: ID!) {{ withdrawAward(awardId: $a, reason: \"Matrix withdrawal\") {{ "
        f"{_error_fragment('Award', 'id withdrawnAt')} }} }}",
        "Award", variables=lambda ctx, t: {"a": MISSING_ID if t == "missing" else ctx.extra["award"]},
        check=lambda ctx, t, v: None if v["withdrawnAt"] else f"got {v}", snapshot=_prize_state,
        prepare=_prepare_award,
    ),
    "issueVolunteerCertificate": Operation(
        "issueVolunteerCertificate",
        f"mutation($s: ID!) {{ issueVolunteerCertificate(studentId: $s) {{ "
        f"{_error_fragment('VolunteerCertificate', 'number minutes')} }} }}", "VolunteerCertificate",
        variables=lambda ctx, t: {"s": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["minutes"] == 90 else f"got {v}",
        snapshot=lambda ctx, t: VolunteerCertificate.all().count(), prepare=_prepare_certificate,
    ),
    "verifyCertificate": Operation(
        "verifyCertificate",
        f"query($qr: String!) {{ verifyCertificate(qrPayload: $qr) {{ "
        f"{_error_fragment('CertificateVerification', 'valid minutes')} }} }}", "CertificateVerification",
        variables=lambda ctx, t: {"qr": ctx.extra["certificate"] if t == "issued" else "not a certificate"},
        check=lambda ctx, t, v: None if (v["valid"], v["minutes"]) == (True, 90) else f"got {v}",
        prepare=_prepare_certificate,
    ),
    "redemptionPreview": Operation(
        "redemptionPreview",
        f"query($code: String!) {{ redemptionPreview(code: $code) {{ "
        f"{_error_fragment('RedemptionPreview', 'amountWon state')} }} }}", "RedemptionPreview",
        variables=lambda ctx, t: {"code": ctx.extra[f"code:{t}"]},
        check=lambda ctx, t, v: None if (v["amountWon"], v["state"]) == (5_000, "valid") else f"got {v}",
        prepare=_prepare_codes,
    ),
    "redemptions": Operation(
        "redemptions", f"query {{ redemptions {{ {_error_fragment('RedemptionDay', 'count')} }} }}",
        "RedemptionDay", check=lambda ctx, t, v: None if v["count"] == 0 else f"got {v}",
    ),
    "coinProgramme": Operation(
        "coinProgramme",
        f"query($m: ID!) {{ coinProgramme(municipalityId: $m) {{ "
        f"{_error_fragment('CoinProgrammeDashboard', 'programmeId budgetWon')} }} }}", "CoinProgrammeDashboard",
        variables=lambda ctx, t: {"m": ctx.muni_id(t)},
        check=lambda ctx, t, v: None if v["programmeId"] == ctx.programme_id(t) else f"got {v}",
    ),
    "setVolunteerTransferConsent": Operation(
        "setVolunteerTransferConsent",
        f"mutation($s: ID!) {{ setVolunteerTransferConsent(studentId: $s, given: true) {{ "
        f"{_error_fragment('TransferConsentState', 'studentId given')} }} }}", "TransferConsentState",
        variables=lambda ctx, t: {"s": ctx.user_id(t)},
        check=lambda ctx, t, v: None if (v["studentId"], v["given"]) == (ctx.user_id(t), True) else f"got {v}",
        snapshot=lambda ctx, t: TransferConsent.all().count(),
    ),
    "exportVolunteerRecords": Operation(
        "exportVolunteerRecords",
        f"mutation($s: ID!) {{ exportVolunteerRecords(schoolId: $s) {{ "
        f"{_error_fragment('VolunteerRecordsExport', 'csv rows')} }} }}", "VolunteerRecordsExport",
        variables=lambda ctx, t: {"s": ctx.school_id(t)},
        check=lambda ctx, t, v: None if v["csv"].startswith("\ufeff") and v["rows"] == 0 else f"got {v}",
        snapshot=lambda ctx, t: VolunteerExport.all().count(),
    ),
    "municipalReport": Operation(
        "municipalReport",
        f"query($m: ID!, $y: Int!, $mo: Int!) {{ municipalReport(municipalityId: $m, year: $y, month: $mo) {{ "
        f"{_error_fragment('MunicipalReport', 'municipalityId month')} }} }}", "MunicipalReport",
        variables=_report_month, check=lambda ctx, t, v: None if v["municipalityId"] == ctx.muni_id(t) else f"got {v}",
    ),
    "generateMunicipalReport": Operation(
        "generateMunicipalReport",
        f"mutation($m: ID!, $y: Int!, $mo: Int!) {{ generateMunicipalReport(municipalityId: $m, year: $y, "
        f"month: $mo) {{ {_error_fragment('MunicipalReport', 'municipalityId month')} }} }}", "MunicipalReport",
        variables=_report_month, check=lambda ctx, t, v: None if v["municipalityId"] == ctx.muni_id(t) else f"got {v}",
        snapshot=lambda ctx, t: MunicipalReport.all().values_list("id", "generated_at"),
    ),
    "municipalities": Operation(
        "municipalities", "query { municipalities { __typename id name } }", None,
        check=lambda ctx, t, v: None if _ids(v) == {ctx.muni_id("A"), ctx.muni_id("B")} else f"got {v}",
    ),
    # -- mutations ------------------------------------------------------------------------------
    "signUp": Operation(
        "signUp",
        f"mutation($input: SignUpInput!) {{ signUp(input: $input) {{ "
        f"{_error_fragment('SignUpSuccess', 'user { id }')} }} }}",
        "SignUpSuccess",
        variables=lambda ctx, t: {"input": {
            "email": f"new-parent-{ctx.role}@example.org", "password": PASSWORD,
            "displayName": "New Parent", "role": "PARENT", "householdName": "Matrix home"}},
        snapshot=lambda ctx, t: User.filter(email=f"new-parent-{ctx.role}@example.org").count(),
    ),
    "signIn": Operation(
        "signIn",
        f"mutation($email: String!, $password: String!) {{ signIn(email: $email, password: $password) {{ "
        f"{_error_fragment('AuthPayload', 'accessToken user { id }')} }} }}",
        "AuthPayload",
        variables=lambda ctx, t: {"email": ctx.world.family_b.parent.email, "password": PASSWORD},
        check=_is(lambda ctx, t: ctx.world.family_b.parent.id, lambda v: v["user"]["id"]),
        snapshot=lambda ctx, t: Session.filter(user_id=ctx.world.family_b.parent.id).count(),
    ),
    "refreshSession": Operation(
        "refreshSession",
        f"mutation($token: String!) {{ refreshSession(refreshToken: $token) {{ "
        f"{_error_fragment('AuthPayload', 'accessToken user { id }')} }} }}",
        "AuthPayload",
        variables=lambda ctx, t: {"token": ctx.extra["refresh_token"]},
        check=_is(lambda ctx, t: ctx.world.family_b.parent.id, lambda v: v["user"]["id"]),
        snapshot=lambda ctx, t: RefreshToken.filter(session__user_id=ctx.world.family_b.parent.id).count(),
        prepare=_prepare_refresh_token,
    ),
    "signOut": Operation(
        "signOut", "mutation { signOut { __typename ok } }", "SignedOut",
        check=lambda ctx, t, v: None if v["ok"] is True else f"got {v}",
        snapshot=lambda ctx, t: Session.filter(revoked_at__isnull=False).count(),
    ),
    "giveGuardianConsent": Operation(
        "giveGuardianConsent",
        f"mutation($id: ID!) {{ giveGuardianConsent(studentId: $id) {{ "
        f"{_error_fragment('GuardianLink', 'id consentGiven')} }} }}",
        "GuardianLink", variables=lambda ctx, t: {"id": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["consentGiven"] is True else f"got {v}",
        snapshot=_consent_state,
    ),
    "withdrawGuardianConsent": Operation(
        "withdrawGuardianConsent",
        f"mutation($id: ID!) {{ withdrawGuardianConsent(studentId: $id) {{ "
        f"{_error_fragment('GuardianLink', 'id consentGiven')} }} }}",
        "GuardianLink", variables=lambda ctx, t: {"id": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["consentGiven"] is False else f"got {v}",
        snapshot=_consent_state,
    ),
    "deleteMyAccount": Operation(
        "deleteMyAccount",
        f"mutation($password: String!) {{ deleteMyAccount(password: $password) {{ "
        f"{_error_fragment('AccountDeleted', 'pseudonym')} }} }}",
        "AccountDeleted", variables=lambda ctx, t: {"password": PASSWORD},
        check=lambda ctx, t, v: None if ctx.me and v["pseudonym"] == str(ctx.me.pseudonym) else f"got {v}",
        snapshot=lambda ctx, t: User.all().order_by("id").values_list("id", flat=True),
    ),
    "deleteChildAccount": Operation(
        "deleteChildAccount",
        f"mutation($id: ID!) {{ deleteChildAccount(studentId: $id) {{ "
        f"{_error_fragment('AccountDeleted', 'pseudonym')} }} }}",
        "AccountDeleted", variables=lambda ctx, t: {"id": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["pseudonym"] == str(ctx.users[t].pseudonym) else f"got {v}",
        snapshot=lambda ctx, t: User.all().order_by("id").values_list("id", flat=True),
    ),
    "createStaffAccount": Operation(
        "createStaffAccount",
        f"mutation($input: StaffAccountInput!) {{ createStaffAccount(input: $input) {{ "
        f"{_error_fragment('StaffAccountCreated', 'user { id role }')} }} }}",
        "StaffAccountCreated", variables=lambda ctx, t: {"input": _staff_input(ctx, t)},
        check=lambda ctx, t, v: None if v["user"]["role"] == _staff_input(ctx, t)["role"] else f"got {v}",
        snapshot=_count_users_with_email,
    ),
    "regenerateInviteCode": Operation(
        "regenerateInviteCode",
        f"mutation($id: ID!) {{ regenerateInviteCode(householdId: $id) {{ {_error_fragment('Household', 'id')} }} }}",
        "Household", variables=lambda ctx, t: {"id": ctx.household_id(t)},
        check=_is(lambda ctx, t: ctx.household_id(t)),
        snapshot=lambda ctx, t: Household.filter(id=int(ctx.household_id(t))).values_list("invite_code", flat=True),
    ),
    "renameHousehold": Operation(
        "renameHousehold",
        f"mutation($id: ID!) {{ renameHousehold(householdId: $id, name: \"Renamed by matrix\") {{ "
        f"{_error_fragment('Household', 'id name')} }} }}",
        "Household", variables=lambda ctx, t: {"id": ctx.household_id(t)},
        check=_is(lambda ctx, t: ctx.household_id(t)),
        snapshot=lambda ctx, t: Household.filter(id=int(ctx.household_id(t))).values_list("name", flat=True),
    ),
    "createSchool": Operation(
        "createSchool",
        f"mutation($m: ID!) {{ createSchool(name: \"Matrix School\", municipalityId: $m) {{ "
        f"{_error_fragment('School', 'id name')} }} }}",
        "School", variables=lambda ctx, t: {"m": ctx.muni_id(t)},
        check=lambda ctx, t, v: None if v["name"] == "Matrix School" else f"got {v}",
        snapshot=lambda ctx, t: School.filter(name="Matrix School", municipality_id=int(ctx.muni_id(t))).count(),
    ),
    "createSchoolClass": Operation(
        "createSchoolClass",
        f"mutation($s: ID!) {{ createSchoolClass(schoolId: $s, name: \"M-1\", grade: 5, year: 2026) {{ "
        f"{_error_fragment('SchoolClass', 'id name')} }} }}",
        "SchoolClass", variables=lambda ctx, t: {"s": ctx.school_id(t)},
        check=lambda ctx, t, v: None if v["name"] == "M-1" else f"got {v}",
        snapshot=lambda ctx, t: SchoolClass.filter(name="M-1", school_id=int(ctx.school_id(t))).count(),
    ),
    "joinClass": Operation(
        "joinClass",
        f"mutation($code: String!) {{ joinClass(classCode: $code) {{ {_error_fragment('User', 'id')} }} }}",
        "User", variables=lambda ctx, t: {"code": classes(ctx.world)[t].join_code},
        check=_is(_self_id),
        snapshot=lambda ctx, t: User.filter(school_class_id=int(ctx.class_id(t))).order_by("id").values_list("id", flat=True),
    ),
    "createMunicipality": Operation(
        "createMunicipality",
        f"mutation {{ createMunicipality(name: \"Matrix-gun\", code: \"11110\") {{ "
        f"{_error_fragment('Municipality', 'id')} }} }}",
        "Municipality", snapshot=lambda ctx, t: Municipality.filter(code="11110").count(),
    ),
    # -- activities, rewards and the ledger --------------------------------------------------------
    "activityTypes": Operation(
        "activityTypes", "query { activityTypes { key nameEn catalogueVersion } }", None,
        check=lambda ctx, t, v: None if "gaming_reduced" in {x["key"] for x in v} else f"got {v}",
    ),
    "activities": Operation(
        "activities",
        f"query($id: ID) {{ activities(userId: $id) {{ {_error_fragment('ActivityList', 'items { id }')} }} }}",
        "ActivityList", variables=_optional_user, check=_check_activities, prepare=_prepare_activity,
    ),
    "wallet": Operation(
        "wallet", f"query($id: ID) {{ wallet(userId: $id) {{ {_error_fragment('Wallet', 'points')} }} }}",
        "Wallet", variables=_optional_user, check=_check_wallet, prepare=_prepare_wallets,
    ),
    "programmes": Operation(
        "programmes", "query { programmes { __typename id year } }", None,
        check=lambda ctx, t, v: None if _ids(v) == {ctx.programme_id("A"), ctx.programme_id("B")} else f"got {v}",
    ),
    "laundryWindow": Operation(
        "laundryWindow", f"query {{ laundryWindow(hours: 2) {{ {_error_fragment('LaundryWindow', 'startHour period')} }} }}",
        "LaundryWindow", check=lambda ctx, t, v: None if v["period"] == "off_peak" else f"got {v}",
    ),
    "ledgerVerifierKey": Operation(
        "ledgerVerifierKey", "query { ledgerVerifierKey }", None,
        check=lambda ctx, t, v: None if ctx.settings and v == ledger_key(ctx.settings).verifier_key else f"got {v}",
    ),
    "ledgerCheckpoint": Operation(
        "ledgerCheckpoint",
        f"query($size: Int) {{ ledgerCheckpoint(treeSize: $size) {{ "
        f"{_error_fragment('LedgerCheckpoint', 'treeSize rootHash note')} }} }}",
        "LedgerCheckpoint", variables=lambda ctx, t: {"size": None if t == "latest" else 999_999},
        check=lambda ctx, t, v: None if v["treeSize"] == 2 else f"got {v}", prepare=_prepare_checkpoints,
    ),
    "ledgerInclusionProof": Operation(
        "ledgerInclusionProof",
        f"query($seq: Int!) {{ ledgerInclusionProof(seq: $seq) {{ "
        f"{_error_fragment('InclusionProof', 'seq treeSize path')} }} }}",
        "InclusionProof", variables=lambda ctx, t: {"seq": 0 if t == "first" else 999_999},
        check=lambda ctx, t, v: None if (v["seq"], v["treeSize"], len(v["path"])) == (0, 2, 1) else f"got {v}",
        prepare=_prepare_checkpoints,
    ),
    "ledgerConsistencyProof": Operation(
        "ledgerConsistencyProof",
        f"query($to: Int!) {{ ledgerConsistencyProof(fromSize: 1, toSize: $to) {{ "
        f"{_error_fragment('ConsistencyProof', 'fromSize toSize path')} }} }}",
        "ConsistencyProof", variables=lambda ctx, t: {"to": 2 if t == "published" else 999_999},
        check=lambda ctx, t, v: None if (v["fromSize"], v["toSize"]) == (1, 2) else f"got {v}",
        prepare=_prepare_checkpoints,
    ),
    "ledgerCheckpoints": Operation(
        "ledgerCheckpoints",
        f"query($first: Int!) {{ ledgerCheckpoints(first: $first) {{ "
        f"{_error_fragment('LedgerCheckpointList', 'items { treeSize rootHash }')} }} }}",
        "LedgerCheckpointList", variables=lambda ctx, t: {"first": 20 if t == "all" else 0},
        check=lambda ctx, t, v: None if [i["treeSize"] for i in v["items"]] == [2, 1] else f"got {v}",
        prepare=_prepare_checkpoints,
    ),
    "logActivity": Operation(
        "logActivity",
        f"mutation($input: LogActivityInput!) {{ logActivity(input: $input) {{ "
        f"{_error_fragment('ActivityLogged', 'replayed activity { id points }')} }} }}",
        "ActivityLogged",
        variables=lambda ctx, t: {"input": {
            "idempotencyKey": str(uuid.uuid4()), "activityType": "gaming_reduced", "occurredOn": ctx.today(),
            "params": {"device": "console", "hours": 2}}},
        check=lambda ctx, t, v: None if not v["replayed"] and v["activity"]["points"] > 0 else f"got {v}",
        snapshot=_reward_state,
    ),
    "reverseActivity": Operation(
        "reverseActivity",
        f"mutation($id: ID!) {{ reverseActivity(activityId: $id, reason: \"matrix\") {{ "
        f"{_error_fragment('Activity', 'id status')} }} }}",
        "Activity", variables=lambda ctx, t: {"id": MISSING_ID if t == "missing" else ctx.extra["activity_id"]},
        check=lambda ctx, t, v: None if v["status"] == "REJECTED" else f"got {v}",
        snapshot=_reward_state, prepare=_prepare_activity,
    ),
    "convertPoints": Operation(
        "convertPoints",
        f"mutation($key: String!, $target: ConversionTarget!, $points: Int!) {{ "
        f"convertPoints(idempotencyKey: $key, target: $target, points: $points) {{ "
        f"{_error_fragment('Conversion', 'debited credited replayed')} }} }}",
        "Conversion",
        variables=lambda ctx, t: {"key": str(uuid.uuid4()), **(
            {"target": "MILEAGE", "points": 2_000} if t == "mileage" else {"target": "VOLUNTEER_MINUTES", "points": 400})},
        check=_check_conversion, snapshot=_reward_state, prepare=_seed_caller(Asset.POINTS, 10_000),
    ),
    "convertMileageToCoins": Operation(
        "convertMileageToCoins",
        f"mutation($key: String!) {{ convertMileageToCoins(idempotencyKey: $key) {{ "
        f"{_error_fragment('Conversion', 'debited credited replayed')} }} }}",
        "Conversion", variables=lambda ctx, t: {"key": str(uuid.uuid4())},
        check=_check_conversion, snapshot=_reward_state, prepare=_seed_caller(Asset.MILEAGE_WON, 10_000),
    ),
    "createRedemptionCode": Operation(
        "createRedemptionCode",
        f"mutation($m: ID!) {{ createRedemptionCode(municipalityId: $m, amountWon: 5000) {{ "
        f"{_error_fragment('RedemptionCodeIssued', 'code amountWon municipalityCode')} }} }}",
        "RedemptionCodeIssued", variables=lambda ctx, t: {"m": ctx.muni_id(t)},
        check=lambda ctx, t, v: None if (v["amountWon"], v["municipalityCode"]) == (5_000, ctx.world.muni_a.code)
        else f"got {v}",
        snapshot=_reward_state, prepare=_seed_caller(Asset.COINS_WON, 10_000, "A"),
    ),
    "redeemCoins": Operation(
        "redeemCoins",
        f"mutation($code: String!) {{ redeemCoins(code: $code) {{ "
        f"{_error_fragment('CoinsRedeemed', 'amountWon municipalityCode')} }} }}",
        "CoinsRedeemed", variables=lambda ctx, t: {"code": ctx.extra[f"code:{t}"]},
        check=_check_redeemed, snapshot=_reward_state, prepare=_prepare_codes,
    ),
    "createProgramme": Operation(
        "createProgramme",
        f"mutation($input: CreateProgrammeInput!) {{ createProgramme(input: $input) {{ "
        f"{_error_fragment('Programme', 'id year rulesYear municipality { id }')} }} }}",
        "Programme", variables=_programme_input, check=_check_programme, snapshot=_reward_state,
    ),
    "enrolSchool": Operation(
        "enrolSchool",
        f"mutation($p: ID!, $s: ID!) {{ enrolSchool(programmeId: $p, schoolId: $s) {{ "
        f"{_error_fragment('Programme', 'id enrolledSchoolIds')} }} }}",
        "Programme", variables=_enrolment, check=_check_enrolment, snapshot=_reward_state,
        prepare=_prepare_enrolment,
    ),
    # -- smart plugs ----------------------------------------------------------------------------
    "plugs": Operation(
        "plugs",
        f"query($h: ID!) {{ plugs(householdId: $h) {{ {_error_fragment('PlugList', 'items { id }')} }} }}",
        "PlugList", variables=lambda ctx, t: {"h": ctx.household_id(t)}, check=_check_plug_list,
        prepare=_prepare_plugs,
    ),
    "plug": Operation(
        "plug", f"query($id: ID!) {{ plug(id: $id) {{ {_error_fragment('Plug', 'id name')} }} }}", "Plug",
        variables=lambda ctx, t: {"id": _plug_id(ctx, t)}, check=_is(_plug_id), prepare=_prepare_plugs,
    ),
    "plugIngestStats": Operation(
        "plugIngestStats",
        f"query {{ plugIngestStats(days: 7) {{ {_error_fragment('PlugIngestStats', 'items { day count }')} }} }}",
        "PlugIngestStats", check=lambda ctx, t, v: None if isinstance(v["items"], list) else f"got {v}",
    ),
    "createPlugPairingCode": Operation(
        "createPlugPairingCode",
        f"mutation($h: ID!) {{ createPlugPairingCode(householdId: $h) {{ "
        f"{_error_fragment('PlugPairingCode', 'code expiresAt')} }} }}",
        "PlugPairingCode", variables=lambda ctx, t: {"h": ctx.household_id(t)},
        check=lambda ctx, t, v: None if len(v["code"]) == 11 else f"got {v}", snapshot=_plug_state,
    ),
    "pairPlug": Operation(
        "pairPlug",
        f"mutation($code: String!, $device: String!) {{ pairPlug(code: $code, vendor: TASMOTA, deviceId: $device, "
        f"name: \"Matrix plug\", channels: [0, 1], topicTemplate: \"%topic%/%prefix%/\") {{ "
        f"{_error_fragment('PlugPaired', _PAIRED_FIELDS)} }} }}",
        "PlugPaired", variables=lambda ctx, t: {"code": ctx.extra["pairing_code"], "device": f"matrix-{ctx.role}"},
        check=lambda ctx, t, v: None if v["plug"]["name"] == "Matrix plug 1" and v["token"] is None
        and [p["channel"] for p in v["plugs"]] == [0, 1] and v["deviceSetup"]["fullTopic"] == "%topic%/%prefix%/"
        and v["deviceSetup"]["password"] == v["mqttPassword"] else f"got {v}",
        snapshot=_plug_state, prepare=_prepare_pairing_code,
    ),
    "renamePlug": Operation(
        "renamePlug",
        f"mutation($id: ID!) {{ renamePlug(plugId: $id, name: \"Renamed by matrix\") {{ "
        f"{_error_fragment('Plug', 'id name')} }} }}",
        "Plug", variables=lambda ctx, t: {"id": _plug_id(ctx, t)},
        check=lambda ctx, t, v: None if v["name"] == "Renamed by matrix" else f"got {v}",
        snapshot=_plug_state, prepare=_prepare_plugs,
    ),
    "unpairPlug": Operation(
        "unpairPlug",
        f"mutation($id: ID!) {{ unpairPlug(plugId: $id) {{ {_error_fragment('Plug', 'id unpairedAt')} }} }}",
        "Plug", variables=lambda ctx, t: {"id": _plug_id(ctx, t)},
        check=lambda ctx, t, v: None if v["id"] == _plug_id(ctx, t) and v["unpairedAt"] else f"got {v}",
        snapshot=_plug_state, prepare=_prepare_plugs,
    ),
    "switchPlug": Operation(
        "switchPlug",
        f"mutation($id: ID!) {{ switchPlug(plugId: $id, on: false) {{ "
        f"{_error_fragment('PlugCommand', 'id on status')} }} }}",
        "PlugCommand", variables=lambda ctx, t: {"id": _plug_id(ctx, t)},
        check=lambda ctx, t, v: None if (v["on"], v["status"]) == (False, "PENDING") else f"got {v}",
        snapshot=_plug_state, prepare=_prepare_plugs,
    ),
    "pushPlugReadings": Operation(
        "pushPlugReadings",
        f"mutation($token: String!, $batch: String!, $readings: [PlugReadingInput!]!) {{ pushPlugReadings("
        f"deviceId: \"matrix-http-a1\", token: $token, batchId: $batch, readings: $readings) {{ "
        f"{_error_fragment('PlugReadingsPushed', 'accepted duplicates replayed')} }} }}",
        "PlugReadingsPushed", variables=_push_variables,
        check=lambda ctx, t, v: None if (v["accepted"], v["replayed"]) == (1, False) else f"got {v}",
        snapshot=_plug_state, prepare=_prepare_http_plug,
    ),
    # -- DR events --------------------------------------------------------------------------------
    "drEvents": Operation(
        "drEvents", "query { drEvents(upcoming: true) { __typename items { id } } }", "DrEventList",
        check=_check_dr_list, prepare=_prepare_dr,
    ),
    "drEvent": Operation(
        "drEvent", f"query($id: ID!) {{ drEvent(id: $id) {{ {_error_fragment('DrEvent', 'id title')} }} }}",
        "DrEvent", variables=lambda ctx, t: {"id": _dr_id(ctx, t)}, check=_is(_dr_id), prepare=_prepare_dr,
    ),
    "drLiveView": Operation(
        "drLiveView",
        f"query($id: ID!) {{ drLiveView(eventId: $id) {{ {_error_fragment('DrLiveView', 'eventId targetKw')} }} }}",
        "DrLiveView", variables=lambda ctx, t: {"id": _dr_id(ctx, t)},
        check=_is(_dr_id, lambda v: v["eventId"]), prepare=_prepare_dr,
    ),
    "createDrEvent": Operation(
        "createDrEvent",
        f"mutation($input: CreateDrEventInput!) {{ createDrEvent(input: $input) {{ "
        f"{_error_fragment('DrEvent', 'id title state')} }} }}",
        "DrEvent", variables=_create_dr_variables,
        check=lambda ctx, t, v: None if v["title"] == f"Matrix {t}" and v["state"] == "NOTIFIED" else f"got {v}",
        snapshot=_dr_state, prepare=_prepare_dr,
    ),
    "cancelDrEvent": Operation(
        "cancelDrEvent",
        f"mutation($id: ID!) {{ cancelDrEvent(eventId: $id) {{ {_error_fragment('DrEvent', 'id state')} }} }}",
        "DrEvent", variables=lambda ctx, t: {"id": _dr_id(ctx, t)},
        check=lambda ctx, t, v: None if v["state"] == "CANCELLED" else f"got {v}", snapshot=_dr_state,
        prepare=_prepare_dr,
    ),
    "setDrParticipation": Operation(
        "setDrParticipation",
        f"mutation($e: ID!, $h: ID!) {{ setDrParticipation(eventId: $e, householdId: $h, optedIn: false) {{ "
        f"{_error_fragment('DrParticipation', 'householdId optedIn')} }} }}",
        "DrParticipation", variables=lambda ctx, t: {"e": _dr_id(ctx, "A"), "h": ctx.household_id(t)},
        check=lambda ctx, t, v: None if v["householdId"] == ctx.household_id(t) and not v["optedIn"] else f"got {v}",
        snapshot=_dr_state, prepare=_prepare_dr,
    ),
    "setPlugDrAutomation": Operation(
        "setPlugDrAutomation",
        f"mutation($id: ID!) {{ setPlugDrAutomation(plugId: $id, enabled: true) {{ "
        f"{_error_fragment('Plug', 'id drAutomation')} }} }}",
        "Plug", variables=lambda ctx, t: {"id": _plug_id(ctx, t)},
        check=lambda ctx, t, v: None if v["drAutomation"] is True else f"got {v}",
        snapshot=_dr_state, prepare=_prepare_dr,
    ),
    # -- DR settlements ---------------------------------------------------------------------------
    "drSettlement": Operation(
        "drSettlement",
        f"query($e: ID!, $h: ID!) {{ drSettlement(eventId: $e, householdId: $h) {{ "
        f"{_error_fragment('DrSettlement', 'householdId status points')} }} }}",
        "DrSettlement", variables=lambda ctx, t: {"e": _settled_id(ctx), "h": ctx.household_id(t)},
        check=lambda ctx, t, v: None if (v["householdId"], v["status"]) == (ctx.household_id(t), "INSUFFICIENT_DATA")
        else f"got {v}", prepare=_prepare_dr_settled,
    ),
    "drTeamDelivery": Operation(
        "drTeamDelivery",
        f"query($e: ID!, $c: ID!) {{ drTeamDelivery(eventId: $e, classId: $c) {{ "
        f"{_error_fragment('DrTeamDelivery', 'classId householdsInsufficient rateAfter')} }} }}",
        "DrTeamDelivery", variables=lambda ctx, t: {"e": _settled_id(ctx), "c": ctx.class_id(t)},
        check=lambda ctx, t, v: None if (v["classId"], v["householdsInsufficient"]) == (ctx.class_id(t), 2)
        else f"got {v}", prepare=_prepare_dr_settled,
    ),
    "drDisputes": Operation(
        "drDisputes", f"query {{ drDisputes {{ {_error_fragment('DrDisputeList', 'items { id }')} }} }}",
        "DrDisputeList", check=_check_disputes, prepare=_prepare_dr_dispute,
    ),
    "disputeDrSettlement": Operation(
        "disputeDrSettlement",
        f"mutation($e: ID!, $h: ID!) {{ disputeDrSettlement(eventId: $e, householdId: $h, "
        f"reason: \"We were home and switched everything off.\") {{ "
        f"{_error_fragment('DrDispute', 'householdId status')} }} }}",
        "DrDispute", variables=lambda ctx, t: {"e": _settled_id(ctx), "h": ctx.household_id(t)},
        check=lambda ctx, t, v: None if (v["householdId"], v["status"]) == (ctx.household_id(t), "open") else f"got {v}",
        snapshot=_dispute_state, prepare=_prepare_dr_settled,
    ),
    "resolveDrDispute": Operation(
        "resolveDrDispute",
        f"mutation($id: ID!) {{ resolveDrDispute(disputeId: $id, accept: true, adjustedKwh: 0.5, "
        f"reason: \"The meter photo shows it.\") {{ {_error_fragment('DrDispute', 'id status adjustedKwh')} }} }}",
        "DrDispute", variables=lambda ctx, t: {"id": _dispute_id(ctx, t)},
        check=lambda ctx, t, v: None if (v["status"], v["adjustedKwh"]) == ("accepted", 0.5) else f"got {v}",
        snapshot=_dispute_state, prepare=_prepare_dr_dispute,
    ),
    # -- photo evidence ---------------------------------------------------------------------------
    "photo": Operation(
        "photo", f"query($id: ID!) {{ photo(id: $id) {{ {_error_fragment('Photo', 'id status')} }} }}", "Photo",
        variables=lambda ctx, t: {"id": _photo_id(ctx, t)}, check=_is(_photo_id), prepare=_prepare_photos,
    ),
    "photoReviewQueue": Operation(
        "photoReviewQueue",
        f"query {{ photoReviewQueue {{ {_error_fragment('PhotoReviewQueue', 'items { id }')} }} }}",
        "PhotoReviewQueue", check=_check_review_queue, prepare=_prepare_photos,
    ),
    "photoVerifierHealth": Operation(
        "photoVerifierHealth",
        f"query {{ photoVerifierHealth {{ {_error_fragment('PhotoVerifierHealth', 'accepting')} }} }}",
        "PhotoVerifierHealth",
    ),
    "uploadActivityPhoto": Operation(
        "uploadActivityPhoto",
        f"mutation($a: ID!, $file: Upload!) {{ uploadActivityPhoto(activityId: $a, file: $file) {{ "
        f"{_error_fragment('PhotoUploaded', 'replayed photo { id }')} }} }}",
        "PhotoUploaded",
        variables=lambda ctx, t: {"a": MISSING_ID if t == "missing" else ctx.extra["upload_activity"],
                                  "file": _MatrixFile(_matrix_jpeg())},
        snapshot=lambda ctx, t: Photo.all().count(), prepare=_prepare_photos,
    ),
    "reviewPhoto": Operation(
        "reviewPhoto",
        f"mutation($id: ID!) {{ reviewPhoto(photoId: $id, approve: true) {{ "
        f"{_error_fragment('Photo', 'id status')} }} }}",
        "Photo", variables=lambda ctx, t: {"id": _photo_id(ctx, t)},
        check=lambda ctx, t, v: None if v["status"] == "APPROVED" else f"got {v}",
        snapshot=lambda ctx, t: Photo.all().order_by("id").values_list("id", "status"), prepare=_prepare_photos,
    ),
    "confirmBillReading": Operation(
        "confirmBillReading",
        f"mutation($id: ID!) {{ confirmBillReading(photoId: $id, thisMonthKwh: \"300\", lastYearKwh: \"350\") {{ "
        f"{_error_fragment('Photo', 'id billReading { confirmedThisMonthKwh }')} }} }}",
        "Photo", variables=lambda ctx, t: {"id": MISSING_ID if t == "missing" else ctx.extra["bill_photo"]},
        check=lambda ctx, t, v: None if v["billReading"]["confirmedThisMonthKwh"] == "300" else f"got {v}",
        snapshot=lambda ctx, t: Activity.all().order_by("id").values_list("id", "params"), prepare=_prepare_photos,
    ),
    "setPhotoTrainingConsent": Operation(
        "setPhotoTrainingConsent",
        f"mutation($u: ID) {{ setPhotoTrainingConsent(given: true, userId: $u) {{ "
        f"{_error_fragment('PhotoTrainingConsentState', 'userId given guardianGiven')} }} }}",
        "PhotoTrainingConsentState", variables=lambda ctx, t: {"u": None if t == "self" else ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["userId"] == ctx.user_id(t) else f"got {v}",
        snapshot=lambda ctx, t: PhotoTrainingConsent.filter(user_id=int(ctx.user_id(t))).values_list(
            "given_at", "guardian_given_at"),
    ),
    "adjustBalance": Operation(
        "adjustBalance",
        f"mutation($key: String!, $id: ID!) {{ adjustBalance(idempotencyKey: $key, userId: $id, asset: POINTS, "
        f"amount: 500, reason: \"matrix\") {{ {_error_fragment('BalanceAdjusted', 'seq amount asset')} }} }}",
        "BalanceAdjusted", variables=lambda ctx, t: {"key": str(uuid.uuid4()), "id": ctx.user_id(t)},
        check=lambda ctx, t, v: None if v["amount"] == 500 else f"got {v}", snapshot=_reward_state,
    ),
}


def _split(row: str) -> tuple[str, str]:
    root, _, target = row.partition("(")
    return root, target.rstrip(")")


ROWS: list[str] = list(dict.fromkeys(label for _, label in EXPECTED_OPERATIONS))
ROWS_BY_ROOT: dict[str, list[str]] = {}
for _row in ROWS:
    ROWS_BY_ROOT.setdefault(_split(_row)[0], []).append(_row)


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    files = {k: v for k, v in (variables or {}).items() if isinstance(v, _MatrixFile)}
    if files:  # the GraphQL multipart request spec: operations, map, one part per file
        plain = {k: (None if k in files else v) for k, v in (variables or {}).items()}
        return await client.post("/graphql", headers=headers, data={
            "operations": json.dumps({"query": query, "variables": plain}),
            "map": json.dumps({str(i): [f"variables.{k}"] for i, k in enumerate(files)}),
        }, files={str(i): (f.name, f.data, f.mime) for i, f in enumerate(files.values())})
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def _is_unauthenticated(response: httpx.Response, body: dict[str, Any], root: str | None = None) -> bool:
    errors = body.get("errors") or []
    data = body.get("data")
    return (
        response.status_code == 401
        and bool(errors)
        and all((e.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for e in errors)
        and (data is None or root is None or data.get(root) is None)
    )


async def _run(ctx: Ctx, row: str) -> list[str]:
    """Exercise one row for ctx.role; the differences from the expectation."""
    root, target = _split(row)
    op = OPERATIONS[root]
    expected = EXPECTED_OPERATIONS[(ctx.role, row)]
    if op.prepare:
        await op.prepare(ctx)
    before = await op.snapshot(ctx, target) if op.snapshot else None
    response = await _post(ctx.client, op.document, op.variables(ctx, target), ctx.token)
    body = response.json()
    after = await op.snapshot(ctx, target) if op.snapshot else None
    written = before != after

    detail = ""
    if _is_unauthenticated(response, body, root):
        actual = "U"
    elif response.status_code != 200 or body.get("errors"):
        actual, detail = "error", f"HTTP {response.status_code}: {body}"
    else:
        value = body["data"][root]
        typename = value.get("__typename") if isinstance(value, dict) else None
        if value is None:
            actual = "0"
        elif typename == "NotAllowed":
            actual = "E" if expected == "E" else "N"
        elif typename == "ValidationFailed" and expected == "E":
            actual = "E"
        elif isinstance(value, list) or typename == op.success or op.success is None:
            actual = "Y"
            if op.check and (problem := op.check(ctx, target, value)):
                actual, detail = "Y?", problem
        else:
            actual, detail = typename or "?", str(value)

    problems = []
    if actual != expected:
        problems.append(f"{ctx.role} -> {row}: expected {expected}, got {actual} {detail}".rstrip())
    if op.snapshot is not None:
        if expected == "Y" and not written:
            problems.append(f"{ctx.role} -> {row}: allowed, but nothing was written ({before!r})")
        if expected in ("N", "U", "E") and written:
            problems.append(f"{ctx.role} -> {row}: denied, but it was written ({before!r} -> {after!r})")
    return problems


async def _signed_in(client: httpx.AsyncClient, settings: Settings, role: str) -> Ctx:
    """The world, with this year's programme in A and B (school A enrolled in A's), and role signed in."""
    world = await build_world()
    programme_a, programme_b = await start_programmes(world)
    token = None if role == ANONYMOUS else await sign_in(client, world.users()[role].email)
    return Ctx(client, world, role, token, settings=settings, programmes={"A": programme_a, "B": programme_b})


OPERATION_PARAMS = [pytest.param(role, root, id=f"{role}-{root}") for role in ROLES for root in ROWS_BY_ROOT]


@pytest.mark.parametrize(("role", "root"), OPERATION_PARAMS)
async def test_operation(client, db: Settings, role: str, root: str):
    ctx = await _signed_in(client, db, role)
    problems = [problem for row in ROWS_BY_ROOT[root] for problem in await _run(ctx, row)]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Fields: reach every object the role can reach, along every path, with every field; check
# each occurrence of each object against FIELD_GRIDS.
# ---------------------------------------------------------------------------------------------
CRAWL_FRAGMENTS = """
fragment Leaf on User { __typename id displayName role email birthDate createdAt guardianConsent
  municipality { __typename id name }
  household { __typename id name inviteCode } guardians { __typename id consentGiven }
  children { __typename id consentGiven } school { __typename id name }
  schoolClass { __typename id name joinCode } }
fragment Link on GuardianLink { __typename id consentGiven consentGivenAt guardian { ...Leaf } student { ...Leaf } }
fragment Klass on SchoolClass { __typename id name grade year joinCode school { __typename id name }
  students { ...Leaf } }
fragment Sch on School { __typename id name municipality { __typename id name code } classes { ...Klass }
  staff { ...Leaf } }
fragment Home on Household { __typename id name inviteCode createdAt municipality { __typename id name }
  members { ...Leaf } guardianLinks { ...Link } }
fragment Person on User { ...Leaf household { ...Home } guardians { ...Link } children { ...Link }
  school { ...Sch } schoolClass { ...Klass } }
"""
CRAWL_ROOTS = """
query Roots($hA1: ID!, $hA2: ID!, $hB: ID!, $sA: ID!, $sB: ID!, $cA: ID!, $cB: ID!) {
  me { ...Person }
  myHousehold { ...Home }
  schools { ...Sch }
  municipalities { __typename id name code schools { ...Sch } }
  hA1: household(id: $hA1) { __typename ...Home }
  hA2: household(id: $hA2) { __typename ...Home }
  hB: household(id: $hB) { __typename ...Home }
  sA: school(id: $sA) { __typename ...Sch }
  sB: school(id: $sB) { __typename ...Sch }
  cA: schoolClass(id: $cA) { __typename ...Klass }
  cB: schoolClass(id: $cB) { __typename ...Klass }
  programmes { ...Prog }
  activities { __typename ... on ActivityList { items { ...Act } } }
}
fragment Prog on Programme { __typename id name year rulesYear startsOn endsOn coinBudgetWon coinsIssuedWon
  municipality { __typename id name } enrolledSchoolIds createdAt }
fragment Act on Activity { __typename id activityType occurredOn status statusReason kwh shiftedKwh points params
  createdAt }
""" + CRAWL_FRAGMENTS
CRAWL_SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { __typename ... on AuthPayload { user { ...Person } } }
}
""" + CRAWL_FRAGMENTS


def _crawl_users_document(names: list[str]) -> str:
    variables = ", ".join(f"${n}: ID!" for n in names)
    fields = "\n".join(f"  {n}: user(id: ${n}) {{ __typename ...Person }}" for n in names)
    return f"query Users({variables}) {{\n{fields}\n}}\n" + CRAWL_FRAGMENTS


USER_NAMES = ["student_a1", "parent_a1", "student_a2", "parent_a2", "student_b", "parent_b",
              "teacher_a", "admin_a", "teacher_b", "officer_a", "officer_b", "operator"]
CRAWL_USERS = _crawl_users_document(USER_NAMES)
CRAWL_PLUGS = """
query Plugs($hA1: ID!, $hA2: ID!, $hB: ID!, $pA1: ID!, $pA2: ID!, $pB: ID!) {
  hA1: plugs(householdId: $hA1) { __typename ... on PlugList { items { ...Plg } } }
  hA2: plugs(householdId: $hA2) { __typename ... on PlugList { items { ...Plg } } }
  hB: plugs(householdId: $hB) { __typename ... on PlugList { items { ...Plg } } }
  pA1: plug(id: $pA1) { __typename ...Plg }
  pA2: plug(id: $pA2) { __typename ...Plg }
  pB: plug(id: $pB) { __typename ...Plg }
}
fragment Plg on Plug { __typename id name vendor deviceId channel meter topicTemplate pairedAt unpairedAt online lastSeenAt powerW relayOn clockOff exporting returnedKwh
  lastCommand { id on status attempts purpose createdAt sentAt finishedAt error }
  standby { watts kwhPerYear wonPerYear nightHours }
  todayKwh todayCoverage monthKwh monthCoverage drAutomation
  hourly { __typename ... on PlugHourly { start end hours { hour kwh coverage missing resets } } } }
"""


@dataclass
class Occurrence:
    typename: str
    id: str
    path: tuple[Any, ...]
    value: dict[str, Any]
    seen_by: str = ""  # the role whose grid column applies


def _walk(value: Any, path: tuple[Any, ...]) -> Iterator[Occurrence]:
    if isinstance(value, dict):
        if "__typename" in value and "id" in value:
            yield Occurrence(value["__typename"], value["id"], path, value)
        for key, child in value.items():
            yield from _walk(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, (*path, index))


@dataclass
class Crawl:
    occurrences: list[Occurrence]
    errors: dict[tuple[Any, ...], str]  # (document, *path) -> extensions.code
    problems: list[str]


def _object_names(world: World) -> dict[tuple[str, str], str]:
    names = {("User", str(u.id)): name for name, u in world.users().items()}
    names |= {("Household", str(h.id)): name for name, h in households(world).items()}
    names |= {("School", str(s.id)): name for name, s in schools(world).items()}
    names |= {("SchoolClass", str(c.id)): name for name, c in classes(world).items()}
    names |= {("Municipality", str(world.muni_a.id)): "A", ("Municipality", str(world.muni_b.id)): "B"}
    return names


async def _crawl(ctx: Ctx) -> Crawl:
    world = ctx.world
    documents: dict[str, tuple[str, dict[str, Any]]] = {
        "roots": (CRAWL_ROOTS, {
            "hA1": ctx.household_id("a1"), "hA2": ctx.household_id("a2"), "hB": ctx.household_id("b"),
            "sA": ctx.school_id("A"), "sB": ctx.school_id("B"), "cA": ctx.class_id("A"), "cB": ctx.class_id("B"),
        }),
        "users": (CRAWL_USERS, {name: ctx.user_id(name) for name in USER_NAMES}),
        "plugs": (CRAWL_PLUGS, {
            "hA1": ctx.household_id("a1"), "hA2": ctx.household_id("a2"), "hB": ctx.household_id("b"),
            "pA1": _plug_id(ctx, "a1"), "pA2": _plug_id(ctx, "a2"), "pB": _plug_id(ctx, "b"),
        }),
    }
    # Signing in makes the rest of the request the user's own: an anonymous caller who signs in
    # as parent_a1 must see exactly what parent_a1 sees, and nothing more.
    seen_by = {"roots": ctx.role, "users": ctx.role, "plugs": ctx.role, "signIn": "parent_a1"}
    if ctx.role == ANONYMOUS:
        documents["signIn"] = (CRAWL_SIGN_IN, {"email": world.family_a1.parent.email, "password": PASSWORD})
    crawl = Crawl([], {}, [])
    for name, (document, variables) in documents.items():
        response = await _post(ctx.client, document, variables, ctx.token)
        body = response.json()
        if ctx.role == ANONYMOUS and name != "signIn":
            if not _is_unauthenticated(response, body):
                crawl.problems.append(f"anonymous {name}: expected 401 UNAUTHENTICATED, got {response.status_code} {body}")
            continue
        if response.status_code != 200 or body.get("data") is None:
            crawl.problems.append(f"{name}: HTTP {response.status_code} {body}")
            continue
        for error in body.get("errors") or []:
            crawl.errors[(name, *(error.get("path") or ()))] = (error.get("extensions") or {}).get("code", error["message"])
        crawl.occurrences += [
            Occurrence(o.typename, o.id, (name, *o.path), o.value, seen_by[name]) for o in _walk(body["data"], ())
        ]
    return crawl


def _sensitive(typename: str) -> dict[str, str]:
    """field -> group letter, for the sensitive fields of a type."""
    return {f: group for group, fields in FIELD_CLASSES.get(typename, {}).items() if group != "public" for f in fields}


def _field_problems(ctx: Ctx, crawl: Crawl, typename: str) -> list[str]:
    names = _object_names(ctx.world) | _plug_names(ctx)
    grid = FIELD_GRIDS[typename]
    sensitive = _sensitive(typename)
    problems: list[str] = []
    seen_visible: set[tuple[str, str]] = set()  # (object, field)
    for occ in crawl.occurrences:
        if occ.typename != typename:
            continue
        obj = names.get((typename, occ.id))
        if obj is None:
            problems.append(f"{typename} {occ.id} at {occ.path} is not part of the world")
            continue
        allowed = grid[(occ.seen_by, obj)]
        for name, value in occ.value.items():
            if name == "__typename":
                continue
            error = crawl.errors.get((*occ.path, name))
            group = sensitive.get(name)
            where = f"{typename} {obj}.{name} at {'.'.join(map(str, occ.path))}"
            if occ.seen_by != ctx.role:
                where += f" (seen as {occ.seen_by})"
            if group is None or group in allowed:
                if error is not None:
                    problems.append(f"{ctx.role}: {where} should be visible, got error {error}")
                elif occ.seen_by == ctx.role:
                    seen_visible.add((obj, name))
            elif error != "FORBIDDEN" or value is not None:
                problems.append(f"{ctx.role}: {where} should be hidden, got {value!r} (error {error})")
    # every field the grid allows must actually have been seen, or the check above proved nothing
    for (role, obj), allowed in grid.items():
        if role != ctx.role:
            continue
        for name, group in sensitive.items():
            if group in allowed and (obj, name) not in seen_visible:
                problems.append(f"{ctx.role}: {typename} {obj}.{name} is allowed but was never reached")
    return problems


def _unexplained_errors(crawl: Crawl) -> list[str]:
    """Errors anywhere but on a hidden sensitive field."""
    by_path = {occ.path: occ for occ in crawl.occurrences}
    problems = []
    for (document, *path), code in crawl.errors.items():
        parent = by_path.get((document, *path[:-1]))
        if code != "FORBIDDEN" or parent is None or path[-1] not in _sensitive(parent.typename):
            problems.append(f"unexpected error {code} at {document}:{'.'.join(map(str, path))}")
    return problems


FIELD_PARAMS = [pytest.param(role, typename, id=f"{role}-{typename}") for role in ROLES for typename in FIELD_GRIDS]


@pytest.mark.parametrize(("role", "typename"), FIELD_PARAMS)
async def test_sensitive_fields(client, db: Settings, role: str, typename: str):
    ctx = await _signed_in(client, db, role)
    await _prepare_activity(ctx)  # student_a1 reaches an Activity through activities
    await _prepare_plugs(ctx)  # each household's members reach its plug through plugs and plug
    crawl = await _crawl(ctx)
    problems = crawl.problems + _unexplained_errors(crawl) + _field_problems(ctx, crawl, typename)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The matrix covers the whole schema.
# ---------------------------------------------------------------------------------------------
def _graphql_schema():
    return build_schema()._schema


def test_every_operation_has_expectations():
    schema = _graphql_schema()
    in_schema = {f"Query.{name}" for name in schema.query_type.fields} | {
        f"Mutation.{name}" for name in schema.mutation_type.fields
    }
    in_matrix = {
        f"{'Query' if name in schema.query_type.fields else 'Mutation'}.{name}" for name in ROWS_BY_ROOT
    }
    assert in_schema - in_matrix == set(), "operations without expectations in OPERATION_GRID"
    assert in_matrix - in_schema == set(), "OPERATION_GRID names operations the schema does not have"
    assert set(OPERATIONS) == set(ROWS_BY_ROOT), "every grid row needs an Operation and vice versa"


def test_every_field_is_classified():
    schema = _graphql_schema()
    object_types = {
        name: t for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
        and name not in ("Query", "Mutation", "Subscription")
    }
    assert set(object_types) - set(FIELD_CLASSES) - PAYLOAD_TYPES == set(), "object types without a decision"
    assert (set(FIELD_CLASSES) | PAYLOAD_TYPES) - set(object_types) == set(), "decisions for types that are gone"
    for name, classes_ in FIELD_CLASSES.items():
        declared = [f for fields in classes_.values() for f in fields]
        assert sorted(declared) == sorted(object_types[name].fields), f"{name}: classify every field exactly once"
    for name, grid in FIELD_GRIDS.items():
        groups = set(FIELD_CLASSES[name]) - {"public"}
        for (role, obj), cell in grid.items():
            assert cell == "-" or set(cell) <= groups, f"{name} grid: unknown group in {cell!r} ({role}, {obj})"
    assert set(FIELD_GRIDS) == {n for n, c in FIELD_CLASSES.items() if set(c) != {"public"}}, (
        "every type with sensitive fields needs a FIELD_GRIDS entry"
    )


def test_the_crawl_asks_for_every_field():
    """The field test reads every field of every classified type somewhere."""
    schema = _graphql_schema()
    asked: set[tuple[str, str]] = set()
    for document in (CRAWL_ROOTS, CRAWL_USERS, CRAWL_PLUGS, CRAWL_SIGN_IN):
        type_info = TypeInfo(schema)

        class Collect(Visitor):
            def enter_field(self, node: FieldNode, *_args: Any) -> None:
                parent = type_info.get_parent_type()
                if parent is not None:
                    asked.add((parent.name, node.name.value))

        visit(parse(document), TypeInfoVisitor(type_info, Collect()))
    missing = {
        (type_name, f) for type_name, classes_ in FIELD_CLASSES.items() for fields in classes_.values() for f in fields
    } - asked
    assert missing == set()
