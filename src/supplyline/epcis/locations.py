"""What lies within a location, for the query's WD_readPoint / WD_bizLocation.

The standard answers "within" from location master data; ours is the registry's place
hierarchy (region > site > zone, each named ``urn:uuid:<id>`` by the platform's own events),
a site's GS1 GLN when its attributes carry one, and GS1's own nesting: an SGLN with an
extension (Digital Link ``/414/<gln>/254/<ext>``) lies within its GLN.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.epcis.store import canonical_id

_GLN = re.compile(r"^https://id\.gs1\.org/414/[0-9]{13}$")
GLN_KEYS = ("gln", "GLN")


@dataclass(frozen=True)
class Within:
    """Locations that count as within: these values exactly, or any starting with a prefix."""

    values: frozenset[str]
    prefixes: frozenset[str]


def _uuid_of(value: str) -> uuid.UUID | None:
    if not value.startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def site_gln(place: registry.SitePlace) -> str | None:
    """The site's GLN as a canonical Digital Link, when its attributes hold a 13-digit one."""
    for key in GLN_KEYS:
        gln = place.attributes.get(key)
        if isinstance(gln, str) and re.fullmatch(r"[0-9]{13}", gln.strip()):
            return canonical_id(f"https://id.gs1.org/414/{gln.strip()}")
    return None


def _site_names(place: registry.SitePlace) -> set[str]:
    names = {f"urn:uuid:{place.id}", *(f"urn:uuid:{z}" for z in place.zone_ids)}
    gln = site_gln(place)
    return names | ({gln} if gln else set())


def expand(locations: Iterable[str], places: list[registry.SitePlace]) -> Within:
    """The locations and everything within them (``places``: the tenant's sites)."""
    values: set[str] = set()
    for loc in locations:
        values.add(loc)
        ref = _uuid_of(loc)
        for place in places:
            # A region holds its sites, a site its zones; a site's GLN names the site.
            if (ref is not None and ref in (place.id, place.region_id)) or site_gln(place) == loc:
                values |= _site_names(place)
    prefixes = {f"{v}/254/" for v in values if _GLN.match(v)}
    return Within(frozenset(values), frozenset(prefixes))


async def within(conn: AsyncConnection, tenant_id: uuid.UUID, locations: Iterable[str]) -> Within:
    """``expand`` with the tenant's places read from the registry."""
    wanted = list(locations)
    needs_places = any(_uuid_of(v) is not None or _GLN.match(v) for v in wanted)
    places = await registry.site_places(conn, tenant_id) if needs_places else []
    return expand(wanted, places)
