"""The key data elements of one stored EPCIS event, one set per traceability lot it names.

Pure functions over the event document: identifiers stay identifiers here (a GLN's Digital
Link, a GTIN); names of products and sites are filled in afterwards from the master data, in
one lookup for the whole export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from supplyline.epcis.fsma204_rules import (
    ASSIGNS_TLC,
    COOLING,
    DOCUMENT_TYPES,
    FIRST_LAND_BASED_RECEIVING,
    HARVESTING,
    ILMD_FIELDS,
    INITIAL_PACKING,
    SHIPPING,
    local_name,
)
from supplyline.epcis.store import Prefixes, canonical_id

LGTIN = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/]+)$")
# Which party of a source/destination list names the place best: a location, else who holds it.
_PARTY_ORDER = ("location", "possessing_party", "owning_party")
# Where each event type names the lots a CTE is about (and, for a transformation, its inputs).
_LOT_LISTS: Mapping[str, tuple[str, str]] = {
    "TransformationEvent": ("outputEPCList", "outputQuantityList"),
    "AggregationEvent": ("childEPCs", "childQuantityList"),
}
_DEFAULT_LISTS = ("epcList", "quantityList")
Kdes = dict[str, str]


def lot_of(identifier: str) -> tuple[str, str] | None:
    """(GTIN, lot) of a canonical LGTIN Digital Link; None for anything else."""
    match = LGTIN.match(identifier)
    return (match.group(1), unquote(match.group(2))) if match else None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int | float) else ""


def lots_in(event: Mapping[str, Any], epcs: str, quantities: str, prefixes: Prefixes) -> Iterator[Kdes]:
    """One entry per lot (LGTIN class or instance) of the two lists: tlc, gtin, quantity, uom."""
    seen: set[str] = set()
    for q in event.get(quantities) or ():
        if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str):
            found = lot_of(canonical_id(q["epcClass"], prefixes))
            if found and found[1] not in seen:
                seen.add(found[1])
                amount = _number(q.get("quantity"))
                uom = q.get("uom") if isinstance(q.get("uom"), str) else ("EA" if amount else "")
                yield {"gtin": found[0], "tlc": found[1], "quantity": amount, "uom": str(uom)}
    for epc in event.get(epcs) or ():
        found = lot_of(canonical_id(epc, prefixes)) if isinstance(epc, str) else None
        if found and found[1] not in seen:
            seen.add(found[1])
            yield {"gtin": found[0], "tlc": found[1], "quantity": "", "uom": ""}


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("id", value.get("@value", value.get("name", "")))
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return "" if value is None or isinstance(value, dict) else str(value)


def extension_kdes(event: Mapping[str, Any]) -> Kdes:
    """KDEs given in the ILMD, or as namespaced extension fields of the event itself."""
    fields: dict[str, Any] = {}
    ilmd = event.get("ilmd")
    for source in (ilmd if isinstance(ilmd, Mapping) else {}, event):
        for key, value in source.items():
            if ":" in key or source is ilmd:
                fields.setdefault(local_name(key), value)
    out: Kdes = {}
    for kde, names in ILMD_FIELDS.items():
        for name in names:
            if name in fields and _text(fields[name]):
                out[kde] = _text(fields[name])
                break
    if "variety" in out:
        variety = out.pop("variety")
        out["product"] = f"{out['product']}, {variety}" if "product" in out else variety
    return out


def _place(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _party(event: Mapping[str, Any], name: str, child: str, prefixes: Prefixes) -> str:
    """The best-named place of a source or destination list (canonical id), or ''."""
    by_type: dict[str, str] = {}
    for item in event.get(name) or ():
        if isinstance(item, Mapping) and isinstance(item.get(child), str):
            kind = local_name(str(item.get("type", ""))).removeprefix("sdt-")
            by_type.setdefault(kind, canonical_id(item[child], prefixes))
    for kind in _PARTY_ORDER:
        if kind in by_type:
            return by_type[kind]
    return next(iter(by_type.values()), "")


def documents(event: Mapping[str, Any]) -> tuple[str, str]:
    """(types, numbers) of the business transactions, '; '-joined in the same order."""
    types, numbers = [], []
    for item in event.get("bizTransactionList") or ():
        if isinstance(item, Mapping) and isinstance(item.get("bizTransaction"), str):
            kind = local_name(str(item.get("type", ""))).removeprefix("btt-")
            types.append(DOCUMENT_TYPES.get(kind, kind or "Business Transaction"))
            number = item["bizTransaction"]
            if number.startswith("urn:epcglobal:cbv:bt:"):
                number = number.rsplit(":", 1)[-1]
            numbers.append(number)
    return "; ".join(types), "; ".join(numbers)


def _zone(offset: str) -> timezone:
    """The event's own UTC offset (``+05:30``), so its date is the local date it happened."""
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset)
    if not match:
        return UTC
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    if minutes >= 24 * 60:
        return UTC
    return timezone(timedelta(minutes=-minutes if match.group(1) == "-" else minutes))


def event_kdes(event: Mapping[str, Any], cte: str, at: datetime, offset: str, prefixes: Prefixes) -> Kdes:
    """The KDEs an event gives whatever the lot: date, places, documents, ILMD fields."""
    local = at.astimezone(_zone(offset))
    place = _place(event.get("bizLocation")) or _place(event.get("readPoint"))
    location = canonical_id(place, prefixes) if place else ""
    doc_type, doc_number = documents(event)
    kdes: Kdes = {
        "cte": cte,
        "date": local.date().isoformat(),
        "time": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "location": location,
        "previous_source": _party(event, "sourceList", "source", prefixes),
        "ship_to": _party(event, "destinationList", "destination", prefixes),
        "reference_document_type": doc_type,
        "reference_document_number": doc_number,
        "event_id": str(event.get("eventID", "")),
    }
    if cte == SHIPPING:
        kdes["ship_from"] = kdes.pop("previous_source") or location
    own = {HARVESTING: "harvest_date", COOLING: "cooling_date", INITIAL_PACKING: "packing_date"}
    if cte in own:
        kdes[own[cte]] = kdes["date"]
    if cte == FIRST_LAND_BASED_RECEIVING:
        kdes["landing_date"] = kdes["date"]
    if cte == HARVESTING:
        kdes["harvest_location"] = location
    if cte == COOLING:
        kdes["cooling_location"] = location
    if cte in ASSIGNS_TLC:
        kdes["tlc_source"] = location
    # What the capturer states outright wins over what is inferred from the event's place.
    kdes.update(extension_kdes(event))
    return {k: v for k, v in kdes.items() if v}


def rows_of(event: Mapping[str, Any], cte: str, at: datetime, offset: str, prefixes: Prefixes) -> list[Kdes]:
    """One KDE set per lot the CTE is about (one with no TLC when it names none)."""
    common = event_kdes(event, cte, at, offset, prefixes)
    kind = str(event.get("type", ""))
    epcs, quantities = _LOT_LISTS.get(kind, _DEFAULT_LISTS)
    if kind == "TransformationEvent":
        inputs = list(lots_in(event, "inputEPCList", "inputQuantityList", prefixes))
        listed = [f"{i['tlc']} ({i['quantity']} {i['uom']})" if i["quantity"] else i["tlc"] for i in inputs]
        if listed:
            common["input_tlcs"] = "; ".join(listed)
    lots = list(lots_in(event, epcs, quantities, prefixes)) or [{}]
    return [{**common, **{k: v for k, v in lot.items() if v}} for lot in lots]
