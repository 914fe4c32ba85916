"""Five-hop lineage traces over a million stored EPCIS events (issue 14: p95 under 1 s on SQLite).

The database is migrated as usual, then filled the fast way: rows shaped exactly as
``supplyline.epcis.insert_events`` stores them (the columns' own SQLAlchemy bind processors
encode UUIDs, timestamps and JSON) are bulk-inserted with ``executemany`` in large
transactions. Hashing, validation and the ledger's platform events are the capture benchmark's
business, not this one's.

The network repeats a block of 22 events: four raw lots merged, split and transformed into
intermediates, products (one by repacking) and packs (three levels), the packs on two pallets
in a container, shipped, received and unpacked, each pack observed on arrival. Each block's
products also take in an intermediate of the block before, so lineage runs across blocks.
Traces alternate forward from a random raw lot and backward from a random pack, five hops
deep, custody events and platform lots included, through ``supplyline.epcis.trace`` itself.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects import sqlite

from supplyline import access
from supplyline.bootstrap import build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.db.schema import metadata
from supplyline.epcis import trace
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings

# The bench writes the tables the migrations made, by their schema (no capability's tables
# module: the product reaches them only through supplyline.epcis).
epcis_event = metadata.tables["epcis_event"]
epcis_event_key = metadata.tables["epcis_event_key"]
epcis_lineage_edge = metadata.tables["epcis_lineage_edge"]
HOPS = 5
BLOCK = 22  # events a block
BATCH = 50_000  # events a transaction
T0 = datetime(2026, 1, 1, tzinfo=UTC)
GTIN = {
    "raw": "04012345000016",
    "inter": "04012345000023",
    "product": "04012345000030",
    "pack": "04012345000047",
}
CBV = "https://ref.gs1.org/cbv/"


def _bind(column: Column[Any]) -> Callable[[Any], Any]:
    """The column's own encoding of a value for SQLite (UUID hex, naive UTC text, JSON text)."""
    process = column.type._cached_bind_processor(sqlite.dialect())
    return process if process is not None else (lambda v: v)


def lot(kind: str, block: int, n: int) -> str:
    return f"https://id.gs1.org/01/{GTIN[kind]}/10/B{block}{kind[0].upper()}{n}"


def sscc(block: int, n: int) -> str:
    return f"https://id.gs1.org/00/3{4012345:07d}{block * 3 + n:09d}0"


class _Writer:
    """Collects the rows of a batch of events, as ``insert_events`` would store them."""

    def __init__(self, tenant: uuid.UUID) -> None:
        self.tenant = _bind(epcis_event.c.tenant_id)(tenant)
        self.when = _bind(epcis_event.c.event_time)
        self.json = _bind(epcis_event.c.document)
        self.recorded = self.when(T0 + timedelta(days=400))
        self.events: list[tuple[Any, ...]] = []
        self.keys: list[tuple[Any, ...]] = []
        self.edges: list[tuple[Any, ...]] = []
        self.seq = 0

    def event(
        self, kind: str, step: str, at: datetime, doc: dict[str, Any], action: str | None = None
    ) -> int:
        self.seq += 1
        event_id = f"urn:uuid:{uuid.UUID(int=self.seq)}"
        document = {"type": kind, "eventID": event_id, "eventTime": at.isoformat(), "bizStep": step, **doc}
        location = doc.get("bizLocation", {}).get("id")
        hash_id = f"ni:///sha-256;{self.seq:064x}?ver=CBV2.0"
        step_uri = CBV + "BizStep-" + step
        self.events.append(
            (self.seq, self.tenant, event_id, hash_id, kind, self.when(at), "+00:00", self.recorded, action,
             step_uri, None, None, location, 0, "capture", None, None, self.json(document), None)
        )  # fmt: skip
        return self.seq

    def key(self, seq: int, role: str, value: str, qualifier: str = "") -> None:
        self.keys.append((self.tenant, seq, role, qualifier, value))

    def edge(self, seq: int, a: str, b: str, kind: str, quantity: float | None) -> None:
        self.edges.append((self.tenant, seq, a, b, kind, quantity, "KGM" if quantity is not None else None))


def _transform(
    w: _Writer, at: datetime, inputs: list[str], outputs: list[str], step: str = "commissioning"
) -> None:
    doc = {
        "inputQuantityList": [{"epcClass": i, "quantity": 100, "uom": "KGM"} for i in inputs],
        "outputQuantityList": [{"epcClass": o, "quantity": 40, "uom": "KGM"} for o in outputs],
    }
    seq = w.event("TransformationEvent", step, at, doc)
    kind = "transform"
    if step == "repacking":
        kind = "repack"
    elif len(inputs) == 1 < len(outputs):
        kind = "split"
    elif len(outputs) == 1 < len(inputs):
        kind = "merge"
    for i in inputs:
        w.key(seq, "input_class", i)
    for o in outputs:
        w.key(seq, "output_class", o)
        for i in inputs:
            w.edge(seq, i, o, kind, 40.0)


def _aggregate(
    w: _Writer, at: datetime, parent: str, children: list[str], action: str, classes: bool
) -> None:
    role = "child_class" if classes else "child"
    listed: dict[str, Any] = {"childEPCs": children}
    if classes:
        listed = {"childQuantityList": [{"epcClass": c, "quantity": 40} for c in children]}
    seq = w.event(
        "AggregationEvent",
        "packing" if action == "ADD" else "unpacking",
        at,
        {"parentID": parent, **listed},
        action,
    )
    w.key(seq, "parent", parent)
    for c in children:
        w.key(seq, role, c)
        if action == "ADD":
            w.edge(seq, c, parent, "aggregate", 40.0 if classes else None)
        else:
            w.edge(seq, parent, c, "disaggregate", 40.0 if classes else None)


def _observe(w: _Writer, at: datetime, ident: str, step: str, block: int, cls: bool) -> None:
    site = f"https://id.gs1.org/414/40123450{block % 997:04d}7"
    doc: dict[str, Any] = {"action": "OBSERVE", "bizLocation": {"id": site}}
    doc["quantityList" if cls else "epcList"] = [{"epcClass": ident, "quantity": 40} if cls else ident]
    if step == "shipping":
        doc["destinationList"] = [
            {"type": "owning_party", "destination": "https://id.gs1.org/417/4012345000016"}
        ]
        doc["bizTransactionList"] = [{"type": "po", "bizTransaction": f"urn:bench:po:{block}"}]
    seq = w.event("ObjectEvent", step, at, doc, "OBSERVE")
    w.key(seq, "class" if cls else "epc", ident)
    if step == "shipping":
        w.key(seq, "destination", "https://id.gs1.org/417/4012345000016", CBV + "SDT-owning_party")
        w.key(seq, "btx", f"urn:bench:po:{block}", CBV + "BTT-po")


def _block(w: _Writer, b: int) -> None:
    at = T0 + timedelta(minutes=30 * b)
    r = [lot("raw", b, i) for i in range(4)]
    i = [lot("inter", b, n) for n in range(4)]
    p = [lot("product", b, n) for n in range(4)]
    k = [lot("pack", b, n) for n in range(6)]
    carried_over = [lot("inter", b - 1, 3)] if b else []
    _transform(w, at, r[:2], i[:1])
    _transform(w, at, r[2:3], i[1:3])
    _transform(w, at, r[3:], i[3:])
    _transform(w, at, [i[0], i[1], *carried_over], p[:1])
    _transform(w, at, i[2:3], p[1:3])
    _transform(w, at, i[3:], p[3:], "repacking")
    for src, outs in ((p[0], k[:2]), (p[1], k[2:3]), (p[2], k[3:4]), (p[3], k[4:])):
        _transform(w, at, [src], outs)
    pallets, container = [sscc(b, 0), sscc(b, 1)], sscc(b, 2)
    _aggregate(w, at, pallets[0], k[:3], "ADD", True)
    _aggregate(w, at, pallets[1], k[3:], "ADD", True)
    _aggregate(w, at, container, pallets, "ADD", False)
    _observe(w, at, container, "shipping", b, False)
    _observe(w, at + timedelta(hours=20), container, "receiving", b, False)
    _aggregate(w, at + timedelta(hours=21), container, pallets, "DELETE", False)
    for pack in k:
        _observe(w, at + timedelta(hours=22), pack, "receiving", b, True)


def _batches(tenant: uuid.UUID, events: int) -> Iterator[_Writer]:
    blocks, per = -(-events // BLOCK), BATCH // BLOCK
    seq = 0
    for start in range(0, blocks, per):
        w = _Writer(tenant)
        w.seq = seq
        for b in range(start, min(start + per, blocks)):
            _block(w, b)
        seq = w.seq
        yield w


def _insert(table: Table) -> str:
    """INSERT of every column, in table order (the names are the schema's own, not input)."""
    names = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' for _ in table.columns)})"  # noqa: S608


def _fill(path: Path, tenant: uuid.UUID, events: int) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    stored = 0
    for w in _batches(tenant, events):
        with db:
            for table, rows in (
                (epcis_event, w.events),
                (epcis_event_key, w.keys),
                (epcis_lineage_edge, w.edges),
            ):
                db.executemany(_insert(table), rows)
        stored += len(w.events)
    db.execute("ANALYZE")
    db.close()
    return stored


async def measure_lineage(workdir: Path, events: int = 1_000_000, traces: int = 200) -> dict[str, Any]:
    """Store ``events`` EPCIS events in a fresh SQLite database in ``workdir`` and time
    ``traces`` five-hop traces from random lots, alternating forward and backward."""
    path = workdir / "lineage.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(Settings(database_url=url, data_dir=workdir))
    try:
        async with svc.uow() as uow:
            tenant, _ = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
            await uow.commit()
        started = time.perf_counter()
        stored = _fill(path, tenant.id, events)
        fill_s = time.perf_counter() - started
        rng, blocks = random.Random(14), max(1, stored // BLOCK)  # noqa: S311 (not for secrets)
        times, nodes = [], []
        async with svc.read_engine.connect() as conn:
            for n in range(traces):
                b = rng.randrange(blocks)
                forward = n % 2 == 0
                start = lot("raw", b, rng.randrange(4)) if forward else lot("pack", b, rng.randrange(6))
                t = time.perf_counter()
                found = await trace(conn, tenant.id, [start], "forward" if forward else "backward", HOPS)
                times.append((time.perf_counter() - t) * 1000)
                nodes.append(len(found.nodes))
    finally:
        await svc.close()
    times.sort()
    return {
        "events": stored,
        "trace_p50_ms": round(statistics.median(times), 2),
        "trace_p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
        "hops": HOPS,
        "traces": traces,
        "nodes_mean": round(statistics.fmean(nodes), 1),
        "fill_s": round(fill_s, 1),
    }
