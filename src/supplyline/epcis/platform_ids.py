"""How the platform's own records are named in the EPCIS events it emits, and the lookups
behind the names.

GS1 keys when the records carry them (a lot of a product with a GTIN is an LGTIN, a site with
a GLN an SGLN), otherwise URIs of the record's own id (``urn:uuid:``), so every event names
something a partner can resolve with us and a query can match.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.scope import Scope

DIGITAL_LINK = "https://id.gs1.org"
# A GS1 batch/lot number (AI 10) is at most 20 characters; a longer code keeps our own URI.
_LOT_MAX = 20
# Units the platform records, as UN/CEFACT Recommendation 20 codes (EPCIS ``uom``). Counts of
# items carry no uom: a quantity without one is a number of instances of the class.
_UOM = {"kg": "KGM", "g": "GRM", "mg": "MGM", "t": "TNE", "lb": "LBR", "l": "LTR", "ml": "MLT", "m3": "MTQ"}
_COUNTS = frozenset({"each", "ea", "unit", "units", "pc", "pcs", "piece", "pieces", "item", "items"})

K = TypeVar("K")
V = TypeVar("V")


def urn(id_: uuid.UUID | str) -> str:
    return f"urn:uuid:{id_}"


def epcis_time(at: datetime) -> str:
    """An instant as EPCIS writes it: UTC with milliseconds."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def zone_offset(at: datetime, timezone: str | None) -> str:
    """The site's UTC offset at that instant (``eventTimeZoneOffset``), ``+00:00`` without one."""
    try:
        delta = at.astimezone(ZoneInfo(timezone)).utcoffset() if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        delta = None
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def lot_class(lot_id: uuid.UUID, lot: logistics.LotIdentity | None) -> str:
    """The lot as an EPC class: its LGTIN Digital Link, or ``urn:uuid:<lot id>``."""
    if lot is None or lot.gtin is None or len(lot.lot_code) > _LOT_MAX:
        return urn(lot_id)
    return f"{DIGITAL_LINK}/01/{lot.gtin.zfill(14)}/10/{quote(lot.lot_code, safe='')}"


def site_uri(site_id: uuid.UUID, site: registry.SiteIdentity | None) -> str:
    """The site as a location: its SGLN Digital Link, or ``urn:uuid:<site id>``."""
    if site is None or site.gln is None:
        return urn(site_id)
    return f"{DIGITAL_LINK}/414/{site.gln}"


def quantity_element(epc_class: str, quantity: float | None, unit: str | None) -> dict[str, Any]:
    """A quantityList entry; a unit with no UN/CEFACT code names the class without a quantity
    rather than state an amount in the wrong unit."""
    element: dict[str, Any] = {"epcClass": epc_class}
    if quantity is None or unit is None:
        return element
    if unit.lower() in _COUNTS:
        element["quantity"] = quantity
    elif (code := _UOM.get(unit.lower()) or _rec20(unit)) is not None:
        element["quantity"] = quantity
        element["uom"] = code
    return element


def _rec20(unit: str) -> str | None:
    """A unit already written as a Recommendation 20 code (``KGM``, ``C62``)."""
    ok = 2 <= len(unit) <= 3 and unit.isupper() and unit.isalnum()
    return unit if ok else None


class Lookup:
    """The records one batch of platform events names, read once per tenant and batch."""

    def __init__(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self._lots: dict[uuid.UUID, logistics.LotIdentity | None] = {}
        self._sites: dict[uuid.UUID, registry.SiteIdentity | None] = {}
        self._shipments: dict[uuid.UUID, logistics.ShipmentRoute | None] = {}
        self._orders: dict[uuid.UUID, logistics.OrderIdentity | None] = {}
        self._devices: dict[uuid.UUID, uuid.UUID | None] = {}

    async def lots(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, logistics.LotIdentity | None]:
        return await self._get(self._lots, ids, logistics.lot_identities)

    async def sites(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, registry.SiteIdentity | None]:
        return await self._get(self._sites, ids, registry.site_identities)

    async def shipments(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, logistics.ShipmentRoute | None]:
        return await self._get(self._shipments, ids, logistics.shipment_routes)

    async def orders(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, logistics.OrderIdentity | None]:
        return await self._get(self._orders, ids, logistics.order_identities)

    async def device_site(self, device_id: uuid.UUID) -> uuid.UUID | None:
        """The site of the device's asset (or its own), where its readings were taken."""
        if device_id not in self._devices:
            place = await registry.device_place(self.conn, Scope.system(self.tenant_id), device_id)
            self._devices[device_id] = place.site_id if place else None
        return self._devices[device_id]

    async def _get(
        self,
        cache: dict[K, V | None],
        ids: Iterable[K],
        load: Callable[[AsyncConnection, uuid.UUID, Sequence[K]], Awaitable[dict[K, V]]],
    ) -> dict[K, V | None]:
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in cache]
        if missing:
            found = await load(self.conn, self.tenant_id, missing)
            cache.update({i: found.get(i) for i in missing})
        return {i: cache[i] for i in wanted}
