"""Claims on interactions: the first delivery of a click or submission acts, a replay does nothing.

Slack's signatures carry no nonce, so a captured request verifies again for five minutes; a user's
double click sends two requests. A claim is a row keyed by a hash of what identifies the
interaction (no patient data, no Slack ids in clear); the first insert wins on every replica.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete

from bot.store._sql import affected_rows, insert_or_ignore
from bot.store.clock import Clock, utc_now
from bot.store.database import Database
from bot.store.schema import InteractionClaimRow

# Longer than Slack's five-minute signature window, so a replay always finds its claim.
CLAIM_LIFETIME = timedelta(minutes=10)
_SWEEP_EVERY = 200


class InteractionClaims:
    """Claim interactions once across replicas."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock
        self._since_sweep = 0

    async def claim(self, *parts: str) -> bool:
        """Claim an interaction named by its parts; False when it was claimed already (a replay)."""
        key = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
        now = self._clock()
        async with self._database.transaction() as session:
            result = await session.execute(
                insert_or_ignore(
                    self._database.dialect,
                    InteractionClaimRow,
                    {"claim_key": key, "claimed_at": now},
                    key=["claim_key"],
                )
            )
            claimed = affected_rows(result) == 1
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            self._since_sweep = 0
            await self.sweep()
        return claimed

    async def sweep(self) -> int:
        """Delete claims older than any replay Slack would still sign; return how many."""
        async with self._database.transaction() as session:
            result = await session.execute(
                delete(InteractionClaimRow).where(
                    InteractionClaimRow.claimed_at < self._clock() - CLAIM_LIFETIME
                )
            )
            return affected_rows(result)
