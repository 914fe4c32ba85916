"""Admitting work against the quotas: requests/s, readings/s and devices, per tenant and API key.

The quota rows are kept in memory and read again every ``refresh_s`` seconds (by whichever call
finds the copy stale), so a change made anywhere applies within that time without a query per
request; a change made through this process applies at once (``invalidate``). The buckets are
this process's own: see ``supplyline.access.quotas`` for what that means with several.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.access.quota_service import load_quotas, lock_tenant
from supplyline.access.quotas import UNLIMITED, Bucket, Quota, rebucket, show_rate
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


class _Tenant:
    """A tenant's buckets, made from its quota (or the defaults) at first sight and kept in step
    with the rows at each refresh."""

    __slots__ = ("readings", "requests")

    def __init__(self, quota: Quota, now: float, old: _Tenant | None = None) -> None:
        requests, readings = (old.requests, old.readings) if old is not None else (None, None)
        self.requests: Bucket | None = rebucket(requests, quota.requests_per_s, quota.request_capacity, now)
        self.readings: Bucket | None = rebucket(readings, quota.readings_per_s, quota.reading_capacity, now)


class Throttle:
    """Raises ``QuotaExceeded`` for work over a quota; counts refusals by kind (``refused``).

    The checks are O(1) and allocate nothing once a tenant has been seen: dicts keyed by the
    ids' integers (a UUID's hash is computed in Python at every lookup), buckets made at refresh.
    """

    KINDS = KINDS  # quota name -> the label its refusals are counted under

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
        self._rows: dict[int, Quota] = {}  # tenant id -> its own quota
        self._tenants: dict[int, _Tenant] = {}
        self._keys: dict[int, Bucket] = {}  # API key id -> its bucket, for keys with a limit
        self._due = -math.inf  # when the rows are read again
        self._generation = 0  # invalidations so far
        self._loaded = False
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Read the rows again before the next check (this process has just changed one)."""
        self._generation += 1
        self._due = -math.inf

    def quota(self, tenant_id: uuid.UUID) -> Quota:
        """The tenant-wide limits in force (as of the last refresh)."""
        return self._rows.get(tenant_id.int, self.defaults)

    async def _refresh(self) -> None:
        """Read the rows; the checks meanwhile wait for them (a query every few seconds) rather
        than pass on a copy that an ``invalidate`` has just declared stale."""
        async with self._lock:
            if self.clock() < self._due:
                return  # read while this call waited
            generation = self._generation
            try:
                async with self.engine.connect() as conn:
                    tenants, keys = await load_quotas(conn)
                self._apply(tenants, keys)
            except Exception:
                if not self._loaded:
                    raise
                log.exception("quotas not read again; the last copy stays in force")
                self._due = self.clock() + self.refresh_s
                return
            if generation == self._generation:  # else changed while reading: read again next time
                self._due = self.clock() + self.refresh_s

    def _apply(self, tenants: dict[uuid.UUID, Quota], keys: dict[uuid.UUID, Quota]) -> None:
        now = self.clock()
        self._rows = {t.int: q for t, q in tenants.items()}
        self._tenants = {
            t: _Tenant(self._rows.get(t, self.defaults), now, old) for t, old in self._tenants.items()
        }
        buckets = {}
        for k, q in keys.items():
            bucket = rebucket(self._keys.get(k.int), q.requests_per_s, q.request_capacity, now)
            if bucket is not None:
                buckets[k.int] = bucket
        self._keys = buckets
        self._loaded = True

    def _tenant(self, tenant_id: int, now: float) -> _Tenant:
        found = self._tenants[tenant_id] = _Tenant(self._rows.get(tenant_id, self.defaults), now)
        return found

    async def admit_request(self, scope: Scope) -> None:
        """One API request: the tenant's limit, then the key's. The platform admin is not limited."""
        if scope.tenant_id is None:
            return
        now = self.clock()
        if now >= self._due:
            await self._refresh()
        tid = scope.tenant_id.int
        tenant = self._tenants.get(tid) or self._tenant(tid, now)
        bucket = tenant.requests
        if bucket is not None:
            wait = bucket.take(1.0, now)
            if wait:
                raise self._requests_refused("tenant requests/s", bucket, wait)
        if scope.principal_id is None or not self._keys:
            return
        key = self._keys.get(scope.principal_id.int)
        if key is not None:
            wait = key.take(1.0, now)
            if wait:
                if bucket is not None:  # not served after all: the tenant's token goes back
                    bucket.give_back(1.0)
                raise self._requests_refused("api key requests/s", key, wait)

    async def admit_readings(self, tenant_id: uuid.UUID, n: int) -> None:
        """A batch of ``n`` readings, admitted or refused whole (the caller stores none of it).

        Counted as offered: readings later refused (unknown device) or duplicates used the
        quota too, as they used the work of parsing them."""
        now = self.clock()
        if now >= self._due:
            await self._refresh()
        tid = tenant_id.int
        bucket = (self._tenants.get(tid) or self._tenant(tid, now)).readings
        if bucket is None or n <= 0:
            return
        wait = bucket.take(float(n), now)
        if wait:
            rate = show_rate(bucket.rate)
            raise self._refuse(
                "readings/s",
                bucket.rate,
                wait,
                f"readings/s quota exceeded: {n} readings against a limit of {rate} a second; "
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
        limit = self.quota(tenant_id).devices
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

    def _requests_refused(self, quota: str, bucket: Bucket, wait: float) -> QuotaExceeded:
        rate, burst = show_rate(bucket.rate), show_rate(bucket.capacity)
        detail = f"{quota} quota exceeded: limit {rate} a second (burst {burst})"
        return self._refuse(quota, bucket.rate, wait, detail)

    def _refuse(self, quota: str, limit: float, wait: float, detail: str) -> QuotaExceeded:
        self.refused[KINDS[quota]] += 1
        return QuotaExceeded(quota, limit, wait, detail)
