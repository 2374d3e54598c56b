"""Account housekeeping jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.accounts.models import Session

#: Ended sessions are kept this long so a data export can still show recent sign-outs.
ENDED_SESSION_RETENTION = timedelta(days=30)


async def purge_ended_sessions(ctx: dict[str, Any]) -> int:
    """Delete sessions (and their refresh tokens) that ended more than 30 days ago. Idempotent."""
    cutoff = datetime.now(UTC) - ENDED_SESSION_RETENTION
    expired = await Session.filter(expires_at__lt=cutoff).delete()
    revoked = await Session.filter(revoked_at__lt=cutoff).delete()
    return expired + revoked
