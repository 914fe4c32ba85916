"""Platform lots and the EPCIS identifiers that name them.

A lot is named by its LGTIN (the product's GTIN and the lot code, canonical Digital Link
``https://id.gs1.org/01/<gtin>/10/<lot>``), and by whatever identifier an event about the lot
(``epcis_event_ref`` kind ``lot``) names when that event names one object only, so a lot whose
product has no GTIN is still found through the platform's own events about it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from urllib.parse import quote, unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.epcis.custody import OBJECT_ROLES
from supplyline.epcis.store import canonical_id
from supplyline.epcis.tables import epcis_event_key, epcis_event_ref

CHUNK = 400
_LGTIN = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/?#]+)$")


def lgtin(gtin: str, lot_code: str) -> str:
    """The canonical identifier of a lot of a GTIN-14."""
    return canonical_id(f"https://id.gs1.org/01/{gtin}/10/{quote(lot_code, safe='')}")


def gtin_lot(identifier: str) -> tuple[str, str] | None:
    """(GTIN-14, lot code) of a canonical LGTIN, else None."""
    m = _LGTIN.match(identifier)
    return (m.group(1), unquote(m.group(2))) if m else None


def _chunks(values: Iterable[object]) -> list[list[object]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def _sole_objects(conn: AsyncConnection, tenant_id: uuid.UUID, seqs: Iterable[int]) -> dict[int, str]:
    """seq -> the one object identifier the event names (events naming several are left out)."""
    k = epcis_event_key
    named: dict[int, set[str]] = {}
    for chunk in _chunks(seqs):
        stmt = select(k.c.seq, k.c.value).where(
            k.c.tenant_id == tenant_id, k.c.seq.in_(chunk), k.c.role.in_(OBJECT_ROLES)
        )
        for seq, value in await conn.execute(stmt):
            named.setdefault(seq, set()).add(value)
    return {seq: next(iter(values)) for seq, values in named.items() if len(values) == 1}


async def _ref_lots_of(conn: AsyncConnection, tenant_id: uuid.UUID, ids: list[str]) -> dict[str, uuid.UUID]:
    k, ref = epcis_event_key, epcis_event_ref
    candidates: dict[int, uuid.UUID] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(k.c.seq, ref.c.ref_id)
            .join(ref, (ref.c.seq == k.c.seq) & (ref.c.kind == "lot"))
            .where(k.c.tenant_id == tenant_id, k.c.value.in_(chunk), k.c.role.in_(OBJECT_ROLES))
        )
        candidates.update({seq: lot for seq, lot in await conn.execute(stmt)})
    sole = await _sole_objects(conn, tenant_id, candidates)
    return {sole[seq]: lot for seq, lot in sorted(candidates.items()) if seq in sole}


async def lots_of_identifiers(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: Iterable[str]
) -> dict[str, logistics.LotIdentity]:
    """identifier -> the platform lot it names, for those that name one."""
    ids = list(dict.fromkeys(ids))
    pairs = {i: p for i in ids if (p := gtin_lot(i)) is not None}
    by_code = await logistics.lots_by_gtin_lot(conn, tenant_id, pairs.values())
    found = {i: by_code[p] for i, p in pairs.items() if p in by_code}
    rest = [i for i in ids if i not in found]
    via_refs = await _ref_lots_of(conn, tenant_id, rest) if rest else {}
    lots = await logistics.lot_identities(conn, tenant_id, via_refs.values())
    found.update({i: lots[lot] for i, lot in via_refs.items() if lot in lots})
    return found


async def identifiers_of_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """lot -> the identifiers that name it; a lot the tenant does not have is left out."""
    lots = await logistics.lot_identities(conn, tenant_id, lot_ids)
    out: dict[uuid.UUID, set[str]] = {lot: set() for lot in lots}
    for lot in lots.values():
        if lot.gtin is not None:
            out[lot.lot_id].add(lgtin(lot.gtin, lot.lot_code))
    ref = epcis_event_ref
    seqs: dict[int, uuid.UUID] = {}
    for chunk in _chunks(lots):
        stmt = select(ref.c.seq, ref.c.ref_id).where(
            ref.c.tenant_id == tenant_id, ref.c.kind == "lot", ref.c.ref_id.in_(chunk)
        )
        seqs.update({seq: lot for seq, lot in await conn.execute(stmt)})
    for seq, value in (await _sole_objects(conn, tenant_id, seqs)).items():
        out[seqs[seq]].add(value)
    return {lot: sorted(values) for lot, values in out.items()}
