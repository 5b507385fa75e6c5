"""What lower domains need from higher ones, as protocols.

The domains have an order (platform, contacts, segments, channels, campaigns, portability) and
a lower one never imports a higher one. Where a channel must reach up (a form submitted, a
link clicked or a page visited moves contacts along their journeys), it declares what it
needs here and the composition root (:mod:`trellis.bootstrap`) hands it the implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.events.base import Behaviour


class Journeys(Protocol):
    """The campaigns, as the channels see them."""

    async def offer_many(
        self,
        session: AsyncSession,
        *,
        offers: Sequence[tuple[int, Behaviour]],
        now: datetime,
    ) -> list[int]:
        """Offer behaviours (contact, what it did) to the decisions those contacts wait on;
        per offer, how many decisions it took."""
        ...

    async def enter_from_source(
        self,
        session: AsyncSession,
        *,
        kind: str,
        source_id: int,
        contact_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """The contacts enter every running campaign that has this source (a form)."""
        ...

    async def enter_campaigns(
        self,
        session: AsyncSession,
        campaign_ids: Sequence[int],
        contact_ids: Sequence[int],
        *,
        now: datetime,
    ) -> None:
        """The contacts enter these campaigns, when they run."""
        ...

    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]: ...

    async def campaigns_with_source(
        self, session: AsyncSession, kind: str, source_id: int
    ) -> list[tuple[int, str]]:
        """(id, name) of the campaigns that use this source."""
        ...


class Suppressions(Protocol):
    """The suppression list of people erased on request (the privacy domain), as the
    contacts see it: an erased address does not come back unless its person opts in again."""

    async def suppressed(self, session: AsyncSession, emails: Sequence[str]) -> set[str]:
        """The addresses among ``emails`` that were erased on request."""
        ...

    async def lift(self, session: AsyncSession, emails: Sequence[str], *, now: datetime) -> int:
        """The people opted in again: take their addresses off the list."""
        ...


class ConsentLedger(Protocol):
    """Consent records (the privacy domain), as the channels write them."""

    async def record_many(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        """Append consent records: contact_id, purpose, granted, wording, wording_version,
        source, source_id, ip, occurred_at (the IP policy applies to ``ip``)."""
        ...
