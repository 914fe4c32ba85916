"""The FDA FSMA 204 electronic sortable spreadsheet from the stored EPCIS events.

One row per critical tracking event and traceability lot, one column per key data element
(``fsma204_rules.COLUMNS``), sorted by lot then time, with the KDEs the rule requires of that
CTE and the events do not give listed apart, so a gap is found before the FDA asks. Events
another event declares erroneous are left out; the caller's scope confines every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.epcis.fsma204_kdes import Kdes, lot_of, rows_of
from supplyline.epcis.fsma204_rules import ASSIGNS_TLC, COLUMNS, REQUIRED, cte_of
from supplyline.epcis.store import canonical_id, prefixes_of
from supplyline.epcis.tables import epcis_event, epcis_event_key
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Scope

_LOT_ROLES = ("class", "child_class", "input_class", "output_class", "epc", "child", "input", "output")
_PLACES = (
    "location",
    "ship_from",
    "ship_to",
    "previous_source",
    "tlc_source",
    "harvest_location",
    "cooling_location",
)
MAX_TLCS = 100


@dataclass(frozen=True)
class Fsma204Request:
    """Which records: these lot codes (a lot code or its LGTIN), events in [start, end], or both."""

    tlcs: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    def check(self) -> None:
        if not self.tlcs and self.start is None and self.end is None:
            raise Invalid("tlc", "give a traceability lot code, or a from/to date range")
        if len(self.tlcs) > MAX_TLCS:
            raise Invalid("tlc", f"at most {MAX_TLCS} traceability lot codes")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise Invalid("from", "is after 'to'")

    def lgtins(self) -> set[str]:
        """The lots given with their GTIN, as canonical LGTIN Digital Links (exact matches)."""
        canonical = (canonical_id(t) for t in self.tlcs if t.startswith(("urn:", "http")))
        return {c for c in canonical if lot_of(c)}

    def bare_codes(self) -> set[str]:
        """The lots given by their code alone (any GTIN)."""
        return {t for t in self.tlcs if not (t.startswith(("urn:", "http")) and lot_of(canonical_id(t)))}

    def lot_codes(self) -> set[str]:
        return self.bare_codes() | {found[1] for c in self.lgtins() if (found := lot_of(c))}


def day_start(day: date) -> datetime:
    """The first instant of a day (UTC): a range ``from`` a day takes all of it."""
    return datetime.combine(day, time(), UTC)


def day_end(day: date) -> datetime:
    """The last instant of a day (UTC): a range ``to`` a day takes all of it."""
    return day_start(day) + timedelta(days=1, microseconds=-1)


@dataclass
class Fsma204Report:
    rows: list[Kdes]
    missing: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: rows keyed by the spreadsheet's column names, as in CSV and XLSX."""
        return {
            "columns": list(COLUMNS.values()),
            "rows": [{COLUMNS[k]: row.get(k, "") for k in COLUMNS} for row in self.rows],
            "missing": self.missing,
        }


def _select(tenant_id: Any, request: Fsma204Request) -> Select[Any]:
    e, k = epcis_event, epcis_event_key
    declared = select(e.c.event_id).where(e.c.tenant_id == tenant_id, e.c.declaration.is_(True))
    stmt = select(
        e.c.seq, e.c.event_type, e.c.event_time, e.c.event_time_zone_offset, e.c.document, e.c.context
    )
    stmt = stmt.where(e.c.tenant_id == tenant_id, e.c.declaration.is_(False), e.c.event_id.not_in(declared))
    if request.start is not None:
        stmt = stmt.where(e.c.event_time >= request.start)
    if request.end is not None:
        stmt = stmt.where(e.c.event_time <= request.end)
    if request.tlcs:
        # An LGTIN is looked up by the key index; a bare lot code is the /10/ qualifier of an
        # LGTIN whatever its GTIN, which only a scan of the tenant's lot keys finds.
        match = [k.c.value.in_(sorted(request.lgtins()))]
        match += [
            k.c.value.like("%/10/" + _escape(quote(c, safe="")), escape="\\") for c in request.bare_codes()
        ]
        keyed = select(k.c.seq).where(k.c.tenant_id == tenant_id, k.c.role.in_(_LOT_ROLES), or_(*match))
        stmt = stmt.where(e.c.seq.in_(keyed))
    return stmt.order_by(e.c.event_time, e.c.seq)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _rows(records: Sequence[Any], lots: set[str]) -> list[tuple[datetime, int, Kdes]]:
    out = []
    for r in records:
        document = r.document
        cte = cte_of(
            r.event_type, document.get("action"), document.get("bizStep"), bool(document.get("ilmd"))
        )
        if cte is None:
            continue
        for kdes in rows_of(document, cte, r.event_time, r.event_time_zone_offset, prefixes_of(r.context)):
            inputs = {i.split(" (", 1)[0] for i in kdes.get("input_tlcs", "").split("; ")}
            if not lots or kdes.get("tlc") in lots or inputs & lots:
                out.append((r.event_time, r.seq, kdes))
    return out


async def _tlc_sources(conn: AsyncConnection, tenant_id: Any, rows: list[Kdes]) -> None:
    """Where a lot's code was assigned, for rows (shipping, receiving) that do not say."""
    wanted = {(r["gtin"], r["tlc"]) for r in rows if "tlc_source" not in r and "gtin" in r and "tlc" in r}
    if not wanted:
        return
    e, k = epcis_event, epcis_event_key
    ids = [f"https://id.gs1.org/01/{g}/10/{quote(t, safe='')}" for g, t in wanted]
    stmt = (
        select(k.c.value, e.c.event_type, e.c.document)
        .join(e, and_(e.c.seq == k.c.seq, e.c.tenant_id == k.c.tenant_id))
        .where(k.c.tenant_id == tenant_id, k.c.role.in_(("class", "output_class")), k.c.value.in_(ids))
        .where(e.c.declaration.is_(False), e.c.biz_location.is_not(None) | e.c.read_point.is_not(None))
        .order_by(e.c.event_time, e.c.seq)
    )
    source: dict[str, str] = {}
    for value, kind, doc in await conn.execute(stmt):
        if cte_of(kind, doc.get("action"), doc.get("bizStep"), bool(doc.get("ilmd"))) in ASSIGNS_TLC:
            place = doc.get("bizLocation") or doc.get("readPoint") or {}
            if isinstance(place, dict) and isinstance(place.get("id"), str):
                source.setdefault(value, canonical_id(place["id"]))
    for r in rows:
        if "tlc_source" not in r and "gtin" in r and "tlc" in r:
            found = source.get(f"https://id.gs1.org/01/{r['gtin']}/10/{quote(r['tlc'], safe='')}")
            if found:
                r["tlc_source"] = found


def _gln(place: str) -> str | None:
    prefix = "https://id.gs1.org/414/"
    return place[len(prefix) :].split("/", 1)[0] if place.startswith(prefix) else None


async def _names(conn: AsyncConnection, scope: Scope, rows: list[Kdes]) -> None:
    """Product descriptions and location descriptions from the master data, where they resolve."""
    products = await logistics.product_names_by_gtin(
        conn, scope, sorted({r["gtin"] for r in rows if "gtin" in r})
    )
    glns = {_gln(r[c]) for r in rows for c in _PLACES if c in r} - {None}
    sites = await registry.sites_by_gln(conn, scope, sorted(g for g in glns if g))
    for r in rows:
        if "product" not in r and r.get("gtin") in products:
            r["product"] = products[r["gtin"]]
        if "location" in r:
            r["location_id"] = r["location"]
        for column in _PLACES:
            site = sites.get(_gln(r.get(column, "")) or "")
            if site is not None:
                r[column] = f"{site.name}, {site.address}" if site.address else site.name


def _missing(rows: list[Kdes]) -> list[dict[str, str]]:
    return [
        {"event_id": r.get("event_id", ""), "cte": r["cte"], "tlc": r.get("tlc", ""), "kde": COLUMNS[kde]}
        for r in rows
        for kde in REQUIRED[r["cte"]]
        if not r.get(kde)
    ]


async def fsma204_report(conn: AsyncConnection, scope: Scope, request: Fsma204Request) -> Fsma204Report:
    """The sortable spreadsheet's rows and the missing-KDE report for the caller's tenant."""
    request.check()
    tenant_id = scope.require_tenant()
    records = (await conn.execute(_select(tenant_id, request))).all()
    found = _rows(records, request.lot_codes())
    found.sort(key=lambda item: (item[2].get("tlc", ""), item[0], item[1]))
    rows = [kdes for _, _, kdes in found]
    await _tlc_sources(conn, tenant_id, rows)
    await _names(conn, scope, rows)
    return Fsma204Report(rows, _missing(rows))
