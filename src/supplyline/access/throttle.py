"""Admitting work against the quotas: requests/s, readings/s and devices, per tenant and API key.

The quota rows are kept in memory and read again every ``refresh_s`` seconds (by whichever call
finds the copy stale), so a change made anywhere applies within that time without a query per
request; a change made through this process applies at once (``invalidate``). The buckets are
this process's own: see ``supplyline.access.quotas`` for what that means with several.
"""

from __future__ import annotations

import collections
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.access.quota_service import load_quotas, lock_tenant
from supplyline.access.quotas import UNLIMITED, Limiter, Quota, show_rate
from supplyline.kernel.errors import QuotaExceeded
from supplyline.kernel.scope import Scope

log = logging.getLogger(__name__)

DEVICES_RETRY_AFTER_S = 60  # nothing refills a device quota: a hint to come back, not a promise
# Quota names as users read them -> the label of the refusal counter.
KINDS = {
    "tenant requests/s": "tenant_requests",
    "api key requests/s": "api_key_requests",
    "readings/s": "readings",
    "devices": "devices",
}


class Throttle:
    """Raises ``QuotaExceeded`` for work over a quota; counts refusals by kind (``refused``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        defaults: Quota = UNLIMITED,
        *,
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.defaults = defaults.checked()
        self.refresh_s = refresh_s
        self.clock = clock  # tests move time on instead of sleeping
        self.refused: collections.Counter[str] = collections.Counter()
        self._tenants: dict[uuid.UUID, Quota] = {}
        self._keys: dict[uuid.UUID, Quota] = {}
        self._due = -math.inf  # when the rows are read again
        self._loaded = False
        self._refreshing = False
        self._tenant_requests = Limiter()
        self._key_requests = Limiter()
        self._readings = Limiter()

    def invalidate(self) -> None:
        """Read the rows again at the next check (this process has just changed one)."""
        self._due = -math.inf

    def quota(self, tenant_id: uuid.UUID) -> Quota:
        """The tenant-wide limits in force (as of the last refresh)."""
        return self._tenants.get(tenant_id, self.defaults)

    async def _refresh(self) -> None:
        if self._refreshing and self._loaded:
            return  # another call is reading them; the last copy serves meanwhile
        self._refreshing = True
        try:
            async with self.engine.connect() as conn:
                self._tenants, self._keys = await load_quotas(conn)
            self._loaded = True
        except Exception:
            if not self._loaded:
                raise
            log.exception("quotas not read again; the last copy stays in force")
        finally:
            self._refreshing = False
        self._due = self.clock() + self.refresh_s

    async def admit_request(self, scope: Scope) -> None:
        """One API request: the tenant's limit, then the key's. The platform admin is not limited."""
        tenant_id = scope.tenant_id
        if tenant_id is None:
            return
        now = self.clock()
        if now >= self._due:
            await self._refresh()
        q = self._tenants.get(tenant_id, self.defaults)
        rate = q.requests_per_s
        if rate is not None:
            wait = self._tenant_requests.take(tenant_id, rate, q.request_capacity, 1.0, now)
            if wait:
                raise self._requests_refused("tenant requests/s", q, wait)
        key_id = scope.principal_id
        if key_id is None:
            return
        k = self._keys.get(key_id)
        if k is not None and k.requests_per_s is not None:
            wait = self._key_requests.take(key_id, k.requests_per_s, k.request_capacity, 1.0, now)
            if wait:
                if rate is not None:  # not served after all: the tenant's token goes back
                    self._tenant_requests.give_back(tenant_id, 1.0)
                raise self._requests_refused("api key requests/s", k, wait)

    async def admit_readings(self, tenant_id: uuid.UUID, n: int) -> None:
        """A batch of ``n`` readings, admitted or refused whole (the caller stores none of it)."""
        now = self.clock()
        if now >= self._due:
            await self._refresh()
        q = self._tenants.get(tenant_id, self.defaults)
        rate = q.readings_per_s
        if rate is None or n <= 0:
            return
        wait = self._readings.take(tenant_id, rate, q.reading_capacity, float(n), now)
        if wait:
            raise self._refuse(
                "readings/s",
                rate,
                wait,
                f"readings/s quota exceeded: {n} readings against a limit of {show_rate(rate)} a second; "
                "the batch was refused whole and nothing of it stored",
            )

    async def admit_devices(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, adding: int, count: Callable[[], Awaitable[int]]
    ) -> None:
        """``adding`` new devices in the caller's transaction, given ``count`` of those it has.

        With a limit, the tenant row is locked first, so two concurrent creates cannot both
        pass on the same count (PostgreSQL; SQLite serialises writers already)."""
        if self.clock() >= self._due:
            await self._refresh()
        limit = self._tenants.get(tenant_id, self.defaults).devices
        if limit is None or adding <= 0:
            return
        await lock_tenant(conn, tenant_id)
        have = await count()
        if have + adding > limit:
            raise self._refuse(
                "devices",
                limit,
                DEVICES_RETRY_AFTER_S,
                f"devices quota exceeded: the tenant has {have} of its limit of {limit} devices and "
                f"this would add {adding}; none were created",
            )

    def _requests_refused(self, quota: str, q: Quota, wait: float) -> QuotaExceeded:
        assert q.requests_per_s is not None
        rate = show_rate(q.requests_per_s)
        burst = show_rate(q.request_capacity)
        return self._refuse(
            quota, q.requests_per_s, wait, f"{quota} quota exceeded: limit {rate} a second (burst {burst})"
        )

    def _refuse(self, quota: str, limit: float, wait: float, detail: str) -> QuotaExceeded:
        self.refused[KINDS[quota]] += 1
        return QuotaExceeded(quota, limit, wait, detail)
