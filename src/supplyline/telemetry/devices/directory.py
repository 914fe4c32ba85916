"""Devices and profiles of a tenant as the ingest hot path needs them, cached in memory.

A miss (a device created a moment ago) reloads the tenant, at most once a second, so an
unknown device cannot turn every message into a database query.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline import registry


@dataclass(frozen=True)
class MappingRef:
    """A vendor payload mapping as a device profile names it: its code and version."""

    code: str
    version: int

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


@dataclass(frozen=True)
class ProfileInfo:
    id: uuid.UUID
    metrics: tuple[dict[str, Any], ...]  # MetricSpec dicts: metric, unit, min, max
    code: str = ""
    mapping: MappingRef | None = None  # None: its devices send the canonical format


@dataclass(frozen=True)
class DeviceInfo:
    id: uuid.UUID
    code: str
    kind: str
    gateway_id: uuid.UUID | None
    profile_id: uuid.UUID
    asset_id: uuid.UUID | None
    active: bool


@dataclass
class _Tenant:
    loaded_at: float = 0.0
    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    by_id: dict[uuid.UUID, DeviceInfo] = field(default_factory=dict)
    profiles: dict[uuid.UUID, ProfileInfo] = field(default_factory=dict)
    children: dict[uuid.UUID, frozenset[str]] = field(default_factory=dict)  # gateway -> device codes
    # device id (as an int) -> its profile if that names a payload mapping, else None
    senders: dict[int, ProfileInfo | None] = field(default_factory=dict)
    version: tuple[Any, ...] = ()  # what _version answered when this was read


# What ``senders`` answers for a device the cache does not know yet.
_UNKNOWN = ProfileInfo(uuid.UUID(int=0), ())


class DeviceDirectory:
    def __init__(self, engine: AsyncEngine, ttl: float = 30.0, min_reload: float = 1.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self.min_reload = min_reload
        self._tenants: dict[uuid.UUID, _Tenant] = {}
        # ``senders`` of every cached tenant, asked once per message. Keyed by the id as an int:
        # a UUID's hash is computed in Python on every lookup, an int's in C.
        self._senders: dict[int, ProfileInfo | None] = {}
        # One reload per tenant at a time; requests meanwhile use what is cached.
        self._reloading: dict[uuid.UUID, asyncio.Task[_Tenant]] = {}

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        if tenant_id is None:
            self._tenants.clear()
            self._senders.clear()
            return
        tenant = self._tenants.pop(tenant_id, None)
        for device in tenant.senders if tenant is not None else ():
            self._senders.pop(device, None)

    async def device(self, tenant_id: uuid.UUID, code: str) -> DeviceInfo | None:
        tenant = await self._tenant(tenant_id)
        info = tenant.devices.get(code)
        if info is None and time.monotonic() - tenant.loaded_at > self.min_reload:
            tenant = await self._reload(tenant_id)
            info = tenant.devices.get(code)
        return info

    async def devices(self, tenant_id: uuid.UUID) -> dict[str, DeviceInfo]:
        return (await self._tenant(tenant_id)).devices

    async def by_id(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> DeviceInfo | None:
        return (await self._tenant(tenant_id)).by_id.get(device_id)

    async def publishable(self, tenant_id: uuid.UUID, device_id: uuid.UUID, code: str) -> frozenset[str]:
        """Codes a device may publish for: itself, and the devices behind it if it is a gateway."""
        children = (await self._tenant(tenant_id)).children.get(device_id, frozenset())
        return children | {code}

    async def profile(self, tenant_id: uuid.UUID, profile_id: uuid.UUID) -> ProfileInfo | None:
        return (await self._tenant(tenant_id)).profiles.get(profile_id)

    async def vendor_profile(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> ProfileInfo | None:
        """The sender's profile when it names a payload mapping; None when it sends canonical readings.

        Asked for every message, so a cached device costs one lookup; the tenant's freshness is
        kept by the other lookups of the same message (``devices``, ``publishable``).
        """
        key = device_id.int
        found = self._senders.get(key, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        tenant = await self._tenant(tenant_id)
        found = tenant.senders.get(key, _UNKNOWN)
        if found is _UNKNOWN and time.monotonic() - tenant.loaded_at > self.min_reload:
            # A device created a moment ago: reload, as ``device`` does for an unknown code.
            tenant = await self._reload(tenant_id)
            found = tenant.senders.get(key, _UNKNOWN)
        return None if found is _UNKNOWN else found

    async def _tenant(self, tenant_id: uuid.UUID) -> _Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return await self._reload(tenant_id)
        if time.monotonic() - tenant.loaded_at > self.ttl and tenant_id not in self._reloading:
            # Stale while revalidating: refresh in the background, answer from the cache now.
            self._start_reload(tenant_id)
        return tenant

    def _start_reload(self, tenant_id: uuid.UUID) -> asyncio.Task[_Tenant]:
        task = self._reloading.get(tenant_id)
        if task is None:
            task = asyncio.create_task(self._load(tenant_id))
            self._reloading[tenant_id] = task
            task.add_done_callback(lambda _: self._reloading.pop(tenant_id, None))
        return task

    async def _reload(self, tenant_id: uuid.UUID) -> _Tenant:
        return await asyncio.shield(self._start_reload(tenant_id))

    async def _load(self, tenant_id: uuid.UUID) -> _Tenant:
        """The tenant's devices and profiles, read again only if they changed.

        Rebuilding 10,000 devices takes the event loop for a good part of 100 ms, a stall every
        request of the moment would wait out; asking whether anything changed costs two
        aggregate queries."""
        async with self.engine.connect() as conn:
            version = await registry.devices_version(conn, tenant_id)
            cached = self._tenants.get(tenant_id)
            if cached is not None and cached.version == version:
                cached.loaded_at = time.monotonic()
                return cached
            return await self._read(conn, tenant_id, version)

    async def _read(self, conn: AsyncConnection, tenant_id: uuid.UUID, version: tuple[Any, ...]) -> _Tenant:
        tenant = _Tenant(loaded_at=time.monotonic(), version=version)
        for r in await registry.tenant_profiles(conn, tenant_id):
            mapping = (
                MappingRef(r.payload_mapping, r.payload_mapping_version)
                if r.payload_mapping is not None and r.payload_mapping_version is not None
                else None
            )
            tenant.profiles[r.id] = ProfileInfo(r.id, tuple(r.metrics or ()), r.code, mapping)
        for row in await registry.tenant_devices(conn, tenant_id):
            active = row.archived_at is None and row.status in ("active", "provisioned")
            info = DeviceInfo(
                row.id, row.code, row.kind, row.gateway_id, row.device_profile_id, row.asset_id, active
            )
            tenant.devices[row.code] = info
            tenant.by_id[row.id] = info
            profile = tenant.profiles.get(row.device_profile_id)
            tenant.senders[row.id.int] = profile if profile is not None and profile.mapping else None
        behind: dict[uuid.UUID, set[str]] = {}
        for info in tenant.devices.values():
            if info.gateway_id is not None:
                behind.setdefault(info.gateway_id, set()).add(info.code)
        tenant.children = {gw: frozenset(codes) for gw, codes in behind.items()}
        self._tenants[tenant_id] = tenant
        self._senders.update(tenant.senders)
        return tenant
