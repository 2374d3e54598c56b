"""One schema composed from the domains' queries and mutations."""

from __future__ import annotations

import functools
import logging
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.tools import merge_types

from backend.accounts.mutations import AccountMutations
from backend.accounts.queries import AccountQueries
from backend.activities.mutations import ActivityMutations
from backend.activities.queries import ActivityQueries
from backend.dr.mutations import DrMutations
from backend.dr.queries import DrQueries
from backend.dr.settlement_api import DrSettlementMutations, DrSettlementQueries
from backend.dr.subscriptions import DrSubscriptions
from backend.graphql.access import deny_undeclared_fields
from backend.graphql.live_sessions import end_subscriptions_with_sessions
from backend.graphql.sanitise import sanitise_arguments
from backend.households.mutations import HouseholdMutations
from backend.households.queries import HouseholdQueries
from backend.ledger.queries import LedgerQueries
from backend.municipalities.counter_api import CounterQueries
from backend.municipalities.mutations import MunicipalityMutations
from backend.municipalities.queries import MunicipalityQueries
from backend.photos.mutations import PhotoMutations
from backend.photos.queries import PhotoQueries
from backend.plugs.mutations import PlugMutations
from backend.plugs.queries import PlugQueries
from backend.rewards.mutations import RewardMutations
from backend.rewards.queries import RewardQueries
from backend.reports.api import ReportMutations, ReportQueries
from backend.savings.queries import SavingsQueries
from backend.schools.award_api import AwardMutations, AwardQueries
from backend.schools.certificate_api import CertificateMutations, CertificateQueries
from backend.schools.export_api import ExportMutations
from backend.schools.mutations import SchoolMutations
from backend.schools.queries import SchoolQueries
from backend.outages import SERVICE_UNAVAILABLE_MESSAGE, is_outage
from backend.settings import Settings

log = logging.getLogger("pvpp.graphql")

Query = merge_types("Query", (AccountQueries, HouseholdQueries, SchoolQueries, MunicipalityQueries,
                              ActivityQueries, RewardQueries, LedgerQueries, PlugQueries, DrQueries,
                              PhotoQueries, SavingsQueries, DrSettlementQueries, AwardQueries,
                              CertificateQueries, CounterQueries, ReportQueries))
Mutation = merge_types(
    "Mutation", (AccountMutations, HouseholdMutations, SchoolMutations, MunicipalityMutations,
                 ActivityMutations, RewardMutations, PlugMutations, DrMutations,
                 PhotoMutations, DrSettlementMutations, AwardMutations,
                 CertificateMutations, ExportMutations, ReportMutations),
)
Subscription = merge_types("Subscription", (DrSubscriptions,))


class MaskUnexpectedErrors(MaskErrors):
    """Mask errors from bugs; a lost database or Redis becomes a named SERVICE_UNAVAILABLE
    error (answered with 503) for fields without a result union to carry it."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if error.original_error is not None and is_outage(error.original_error):
            return GraphQLError(SERVICE_UNAVAILABLE_MESSAGE, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                extensions={"code": "SERVICE_UNAVAILABLE"})
        return super().anonymise_error(error)


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask errors that come from bugs; keep GraphQL's own and permission errors."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class Schema(strawberry.Schema):
    """Logs only unexpected errors; expected ones (validation, permissions) are the client's."""

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        unexpected = [e for e in errors if _is_unexpected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(
    *, max_depth: int = 10, max_aliases: int = 15, max_tokens: int = 2_000
) -> strawberry.Schema:
    # The limit rules are built once: ValidationCache keys on the rule classes, and
    # QueryDepthLimiter/MaxAliasesLimiter would make new classes on every request.
    limit_rules = [max_depth_rule(max_depth, None), max_aliases_rule(max_aliases)]
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[  # factories: one extension per request, caches shared at module level
            partial(ParserCache, maxsize=1_000),
            partial(MaxTokensLimiter, max_token_count=max_tokens),
            partial(AddValidationRules, limit_rules),
            partial(ValidationCache, maxsize=1_000),
            partial(MaskUnexpectedErrors, should_mask_error=_is_unexpected, error_message="Unexpected server error."),
        ],
    )
    denied = deny_undeclared_fields(schema._schema)
    sanitise_arguments(schema._schema)
    end_subscriptions_with_sessions(schema._schema)
    if denied:
        log.warning("fields without an access declaration are denied: %s", ", ".join(denied))
    return schema


@functools.cache
def schema_for(settings: Settings) -> strawberry.Schema:
    return build_schema(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
    )
