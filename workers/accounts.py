"""Account housekeeping jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.accounts.models import Session
from backend.accounts.privacy import purge_unconsented_children as purge_children
from backend.settings import get_settings

#: Ended sessions are kept this long so a data export can still show recent sign-outs.
ENDED_SESSION_RETENTION = timedelta(days=30)


async def purge_ended_sessions(ctx: dict[str, Any]) -> int:
    """Delete sessions (and their refresh tokens) that ended more than 30 days ago. Idempotent."""
    cutoff = datetime.now(UTC) - ENDED_SESSION_RETENTION
    expired = await Session.filter(expires_at__lt=cutoff).delete()
    revoked = await Session.filter(revoked_at__lt=cutoff).delete()
    return expired + revoked


async def purge_unconsented_children(ctx: dict[str, Any]) -> int:
    """Delete child accounts whose guardian never consented in time. Idempotent."""
    return await purge_children(ctx.get("settings") or get_settings())
