"""Where each dataset's rows come from: the same scoped, redacted reads the API answers with.

Readings go through ``telemetry.read_series`` within ``access.telemetry_windows`` (a carrier's
tracker only during its trips), events through the log with ``access.events_condition`` and the
catalog's redaction (as GET /v1/events), shipments and positions through the resource service's
list (as GET /v1/shipments and the CSV exports), KPIs through ``planning.kpi_values``. Each is
read in pages or one day at a time and handed on in Arrow batches, never all at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import numpy as np
import orjson
import pyarrow as pa
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline import access, audit, planning, telemetry
from supplyline.eventlog import EventLog
from supplyline.exports.schemas import EVENTS, INVENTORY_POSITIONS, KPIS, READINGS, SHIPMENTS, TS
from supplyline.exports.writer import PartitionedWriter
from supplyline.kernel.scope import Scope
from supplyline.resources import ResourceCatalog, ResourceService, redaction_for

PAGE = 1000
DEVICES_PER_READ = 100
Span = tuple[int, int]  # epoch ms, both ends included


class Sources(Protocol):
    """What an export reads through (``bootstrap.Services`` is one)."""

    @property
    def read_engine(self) -> AsyncEngine: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def catalog(self) -> ResourceCatalog: ...
    @property
    def resources(self) -> ResourceService: ...
    @property
    def telemetry(self) -> telemetry.TelemetryServices: ...


def _day_ms(day: date) -> Span:
    start = int(datetime.combine(day, time(), UTC).timestamp() * 1000)
    return start, start + 86_400_000 - 1


def _cut(spans: Sequence[Span], within: Span) -> list[Span]:
    out = []
    for a, b in spans:
        lo, hi = max(a, within[0]), min(b, within[1])
        if lo <= hi:
            out.append((lo, hi))
    return out


async def readings(src: Sources, scope: Scope, out: PartitionedWriter) -> None:
    """Every reading the caller may read, one day and a hundred devices per read."""
    scope.require("telemetry")
    tenant = scope.require_tenant()
    devices = sorted((d.id, d.code) for d in (await src.telemetry.directory.devices(tenant)).values())
    codes = dict(devices)
    async with src.read_engine.connect() as conn:
        allowed = await access.telemetry_windows(conn, scope, [d for d, _ in devices])
    day = out.start
    while day <= out.end:
        span = _day_ms(day)
        for start in range(0, len(devices), DEVICES_PER_READ):
            windows: dict[uuid.UUID, list[Span]] = {}
            for device, _ in devices[start : start + DEVICES_PER_READ]:
                spans = _cut(allowed.get(device, []) if allowed is not None else [span], span)
                if spans:
                    windows[device] = spans
            if not windows:
                continue
            async with src.read_engine.connect() as conn:
                series = await telemetry.read_series(conn, telemetry.SeriesRequest(tenant, windows))
            for device, s in sorted(series.items()):
                batch = _readings_batch(s, str(device), codes[device])
                if batch is not None:
                    out.write(day, batch)
        day += timedelta(days=1)


def _readings_batch(s: telemetry.Series, device: str, code: str) -> pa.RecordBatch | None:
    """One device's readings of a day, metric after metric (missing values left out), built
    from the numpy columns without a Python object per value."""
    names = sorted(s.metrics)
    keep = [~np.isnan(s.metrics[m]) for m in names]
    counts = [int(k.sum()) for k in keep]
    n = sum(counts)
    if not n:
        return None
    ts_us = np.concatenate([s.ts_ms[k] for k in keep]).astype("int64") * 1000
    values = np.concatenate([s.metrics[m][k] for m, k in zip(names, keep, strict=True)])
    metric = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(len(names), dtype="int32"), counts)), pa.array(names, pa.string())
    ).cast(pa.string())
    arrays = [
        pa.array(ts_us, type=TS),
        pa.repeat(device, n).cast(pa.string()),
        pa.repeat(code, n).cast(pa.string()),
        metric,
        pa.array(values, type=pa.float64()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=READINGS.schema)


async def events(src: Sources, scope: Scope, out: PartitionedWriter) -> None:
    """The caller's events of the range in log order: its tenant, its grants' visibility, no
    audit entries (those are read through /v1/audit), data redacted as GET /v1/events does."""
    scope.require("events")
    redaction = redaction_for(src.catalog)
    since = datetime.combine(out.start, time(), UTC)
    until = datetime.combine(out.end + timedelta(days=1), time(), UTC)
    after = 0
    while True:
        async with src.read_engine.connect() as conn:
            found = await src.events.read(
                conn,
                after=after,
                limit=PAGE,
                tenant_id=scope.require_tenant(),
                exclude_types=(audit.AUDIT_RECORDED.type,),
                where=access.events_condition(scope),
                since=since,
                until=until,
            )
        by_day: dict[date, list[dict[str, Any]]] = {}
        for e in found:
            shown = redaction.shown(scope, e.cloudevent())
            by_day.setdefault(e.time.astimezone(UTC).date(), []).append(
                {
                    "position": e.position,
                    "id": shown["id"],
                    "type": shown["type"],
                    "source": shown["source"],
                    "subject": shown["subject"],
                    "time": e.time,
                    "correlation_id": shown["correlationid"],
                    "actor": shown["actor"],
                    "data": orjson.dumps(shown["data"]).decode(),
                }
            )
        for day, rows in by_day.items():
            out.write_rows(day, rows)
        if len(found) < PAGE:
            return
        after = found[-1].position


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


async def records(src: Sources, scope: Scope, resource: str, by: str, out: PartitionedWriter) -> None:
    """A resource's records as its list shows them to the caller, in the partition of the day
    of their ``by`` timestamp, page by page."""
    scope.require(resource)
    names = out.schema.names
    cursor: str | None = None
    while True:
        async with src.read_engine.connect() as conn:
            page = await src.resources.list_page(conn, scope, resource, cursor=cursor, limit=PAGE)
        by_day: dict[date, list[dict[str, Any]]] = {}
        for item in page.items:
            row = {n: _value(item.get(n)) for n in names}
            at = row[by]
            by_day.setdefault(at.astimezone(UTC).date(), []).append(row)
        for day, rows in by_day.items():
            out.write_rows(day, rows)
        cursor = page.next_cursor
        if cursor is None:
            return


async def shipments(src: Sources, scope: Scope, out: PartitionedWriter) -> None:
    await records(src, scope, "shipments", "created_at", out)


async def inventory_positions(src: Sources, scope: Scope, out: PartitionedWriter) -> None:
    await records(src, scope, "inventory-positions", "updated_at", out)


def _finest(grains: Sequence[str]) -> str:
    return next(g for g in ("day", "week", "month", "total") if g in grains)


async def kpis(src: Sources, scope: Scope, out: PartitionedWriter) -> None:
    """Every KPI the caller may compute (its current definition), per period of its finest
    grain: a day for most, a week or the whole range for those defined so."""
    for definition in planning.kpi_definitions(scope):
        if not definition["current"]:
            continue
        grain = _finest(definition["grains"])
        query = planning.KpiQuery(start=out.start, end=out.end, grain=grain)
        async with src.read_engine.connect() as conn:
            got = await planning.kpi_values(conn, scope, definition["name"], query)
        by_day: dict[date, list[dict[str, Any]]] = {}
        for point in got["points"]:
            first = date.fromisoformat(point["period_start"])
            by_day.setdefault(first, []).append(
                {
                    "kpi": got["kpi"],
                    "version": got["version"],
                    "grain": grain,
                    "period_start": first,
                    "period_end": date.fromisoformat(point["period_end"]),
                    "unit": got["unit"],
                    "numerator": float(point["numerator"]),
                    "denominator": float(point["denominator"]),
                    "value": None if point["value"] is None else float(point["value"]),
                }
            )
        for day, rows in by_day.items():
            out.write_rows(day, rows)


READERS = {
    READINGS.name: readings,
    EVENTS.name: events,
    SHIPMENTS.name: shipments,
    INVENTORY_POSITIONS.name: inventory_positions,
    KPIS.name: kpis,
}
