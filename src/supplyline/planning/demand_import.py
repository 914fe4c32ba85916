"""Importing demand history: long-format rows (``unique_id, ds, y``) into ``planning_demand``
as source ``import``, all of them or none.

``unique_id`` names the series as ``<sku>@<site code>`` (the product's SKU and the registry
site's code, split at the last ``@``). Every row is checked before anything is written, and
every problem is reported with the row it is on; a product or site out of the caller's reach
gets the same error as one that does not exist, so a narrowed caller learns nothing of the rest
of the tenant. A good import writes its rows and its ``planning_demand_import`` record in the
caller's one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert

from supplyline import logistics, registry
from supplyline.db.dialect import upsert
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import FieldError, Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.planning.longformat import LongRow, Where, parse_day, parse_rows
from supplyline.planning.tables import planning_demand, planning_demand_import

MAX_ROWS = 500_000
MAX_ERRORS = 1_000  # reported in full up to here; beyond, one last entry counts the rest
MODES = ("upsert", "replace")
_CHUNK = 5_000
Cell = tuple[uuid.UUID, uuid.UUID, date]


@dataclass(frozen=True)
class _Checked:
    cells: dict[Cell, float]
    errors: list[FieldError]


def split_unique_id(unique_id: str) -> tuple[str, str] | None:
    """``SKU-1@DC-LYON`` -> ("SKU-1", "DC-LYON"); None when either side is missing."""
    sku, at, code = unique_id.rpartition("@")
    return (sku, code) if at and sku and code else None


async def import_demand(
    uow: UnitOfWork,
    scope: Scope,
    records: Sequence[Mapping[str, object]],
    *,
    where: Where,
    filename: str | None = None,
    mode: str = "upsert",
) -> dict[str, Any]:
    """Check every row, then write them all (``upsert``: a day already imported takes the new
    figure; ``replace``: the series named drop their earlier imported days first). Returns the
    counts: rows, series, first and last day, and the import's id."""
    scope.require("planning", Action.WRITE)
    tenant_id = scope.require_tenant()
    if mode not in MODES:
        raise Invalid("mode", f"must be one of {', '.join(MODES)}")
    if len(records) > MAX_ROWS:
        raise Invalid("rows", f"{len(records)} rows; at most {MAX_ROWS} in one import")
    if not records:
        raise Invalid("rows", "holds no rows")
    if filename is not None and (len(filename) > 255 or any(ord(ch) < 32 for ch in filename)):
        raise Invalid("filename", "must be at most 255 characters, without control characters")
    rows, errors = parse_rows(records, where)
    checked = await _check(uow, scope, rows, where)
    errors = sorted([*errors, *checked.errors], key=lambda e: _row_key(e.field))
    if errors:
        raise Invalid.many(_capped(errors))
    cells = checked.cells
    series = {(p, s) for p, s, _ in cells}
    days = [d for _, _, d in cells]
    conn, now, d = uow.conn, utcnow(), planning_demand
    if mode == "replace":
        for product_id, site_id in sorted(series):
            await conn.execute(
                delete(d).where(
                    d.c.tenant_id == tenant_id,
                    d.c.product_id == product_id,
                    d.c.site_id == site_id,
                    d.c.source == "import",
                )
            )
    values = [
        {
            "tenant_id": tenant_id,
            "product_id": p,
            "site_id": s,
            "day": day,
            "source": "import",
            "quantity": q,
            "updated_at": now,
        }
        for (p, s, day), q in sorted(cells.items())
    ]
    for i in range(0, len(values), _CHUNK):
        await upsert(
            conn,
            d,
            values[i : i + _CHUNK],
            keys=("tenant_id", "product_id", "site_id", "day", "source"),
            update=("quantity", "updated_at"),
        )
    out = {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "filename": filename,
        "rows": len(values),
        "series": len(series),
        "first_day": min(days),
        "last_day": max(days),
        "created_by": scope.actor[:200],
        "created_at": now,
    }
    await conn.execute(insert(planning_demand_import), [out])
    return {
        "id": str(out["id"]),
        "filename": filename,
        "mode": mode,
        "rows": len(values),
        "series": len(series),
        "first_day": min(days).isoformat(),
        "last_day": max(days).isoformat(),
    }


async def _check(uow: UnitOfWork, scope: Scope, rows: Sequence[LongRow], where: Where) -> _Checked:
    """Resolve each row's series and day; a problem per bad row, and the cells of the good."""
    errors: list[FieldError] = []
    named: list[tuple[LongRow, str, str, date]] = []
    for row in rows:
        parts = split_unique_id(row.unique_id)
        day = parse_day(row.ds)
        if parts is None:
            errors.append(FieldError(f"{where(row.index)}.unique_id", "must be <sku>@<site code>"))
        if day is None:
            errors.append(FieldError(f"{where(row.index)}.ds", f"{row.ds[:40]!r} is not an ISO date"))
        if parts is not None and day is not None:
            named.append((row, parts[0], parts[1], day))
    products = await logistics.product_ids_by_sku(uow.conn, scope, [sku for _, sku, _, _ in named])
    sites = await registry.site_ids_by_code(uow.conn, scope, [code for _, _, code, _ in named])
    cells: dict[Cell, float] = {}
    first: dict[Cell, int] = {}
    for row, sku, code, day in named:
        product_id, site_id = products.get(sku), sites.get(code)
        field = f"{where(row.index)}.unique_id"
        if product_id is None:
            errors.append(FieldError(field, f"unknown product {sku[:64]!r}"))
        if site_id is None:
            errors.append(FieldError(field, f"unknown site {code[:64]!r}"))
        if product_id is None or site_id is None:
            continue
        cell = (product_id, site_id, day)
        if cell in first:
            errors.append(
                FieldError(
                    f"{where(row.index)}.ds", f"{row.unique_id[:80]} on {day} repeats {where(first[cell])}"
                )
            )
            continue
        first[cell] = row.index
        cells[cell] = row.y
    return _Checked(cells, errors)


def _row_key(field: str) -> tuple[int, str]:
    """Errors in the order of the rows they are on (``row 12.y`` or ``rows.10.y``)."""
    head = field.split(".")[0] if field.startswith("row ") else ".".join(field.split(".")[:2])
    digits = "".join(ch for ch in head if ch.isdigit())
    return (int(digits) if digits else -1, field)


def _capped(errors: list[FieldError]) -> list[FieldError]:
    if len(errors) <= MAX_ERRORS:
        return errors
    rest = len(errors) - MAX_ERRORS
    return [*errors[:MAX_ERRORS], FieldError("rows", f"and {rest} more problems not listed")]
