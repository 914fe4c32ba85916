"""How fast a warehouse onboards from one file on SQLite, against plain executemany of the same rows.

``rows_per_s`` times reading the file, checking every row and writing it with its event. The
baseline (``raw_rows_per_s``) inserts the same entity rows (not the events) into a copy of the
database as it was before the import, with bare ``sqlite3`` executemany in one transaction:
the floor that checks, events and the ORM add to. ``ratio`` is ours over that floor, as every
supplyline benchmark reports it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from supplyline import access
from supplyline.bootstrap import build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.scope import Scope
from supplyline.onboarding import import_document, importable, load_document
from supplyline.settings import Settings

REEFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "setpoint_c": {"type": "number", "minimum": -30, "maximum": 30},
        "door_sensor": {"type": "boolean"},
    },
    "required": ["setpoint_c"],
}


def onboarding_document(assets: int = 500, devices: int = 1000) -> dict[str, list[dict[str, Any]]]:
    """A new cold-chain warehouse: one site, two zones, trailers with pallets, a tracker each.

    Every tenth asset is a trailer parked in a zone; the others are pallets on a trailer. The
    first device of every hundred is a gateway the next ones publish through.
    """
    rows_assets = []
    for n in range(1, assets + 1):
        trailer = n % 10 == 1
        row: dict[str, Any] = {
            "code": f"AST-{n:05d}",
            "name": f"{'Trailer' if trailer else 'Pallet'} {n}",
            "asset_type": "reefer" if trailer else "pallet",
            "site": "DC-LYON",
            "serial_number": f"SN{n:08d}",
            "attributes": {"setpoint_c": 4, "door_sensor": True} if trailer else {},
        }
        if trailer:
            row["zone"] = "CHILL-1" if n % 20 == 1 else "DOCK-1"
            row["owner_organization"] = "CAR1"
        else:
            row["parent"] = f"AST-{n - (n - 1) % 10:05d}"
        rows_assets.append(row)
    rows_devices = []
    for n in range(1, devices + 1):
        gateway = n % 100 == 1
        device: dict[str, Any] = {
            "code": f"dev-{n:05d}",
            "kind": "gateway" if gateway else "tracker",
            "device_profile": "edge-gateway" if gateway else "reefer-tracker",
            "asset": f"AST-{(n - 1) % assets + 1:05d}" if assets else None,
        }
        if not gateway:
            device["gateway"] = f"dev-{n - (n - 1) % 100:05d}"
        rows_devices.append(device)
    return {
        "organizations": [{"code": "CAR1", "name": "Fast Freight", "kind": "carrier"}],
        "regions": [{"code": "EU", "name": "Europe"}],
        "sites": [
            {
                "code": "DC-LYON",
                "name": "Lyon DC",
                "kind": "warehouse",
                "region": "EU",
                "timezone": "Europe/Paris",
                "address": {"city": "Lyon", "country": "FR"},
            }
        ],
        "zones": [
            {
                "site": "DC-LYON",
                "code": "CHILL-1",
                "name": "Chilled 1",
                "kind": "chilled",
                "storage_min_c": 2,
            },
            {"site": "DC-LYON", "code": "DOCK-1", "name": "Dock 1", "kind": "dock"},
        ],
        "asset_types": [
            {
                "code": "reefer",
                "name": "Reefer trailer",
                "kind": "trailer",
                "attributes_schema": REEFER_SCHEMA,
            },
            {"code": "pallet", "name": "Pallet", "kind": "pallet"},
        ],
        "assets": rows_assets,
        "device_profiles": [
            {
                "code": "reefer-tracker",
                "name": "Reefer tracker",
                "device_kind": "tracker",
                "metrics": [{"metric": "temperature_c", "unit": "C", "min": -40, "max": 60}],
            },
            {"code": "edge-gateway", "name": "Edge gateway", "device_kind": "gateway"},
        ],
        "devices": rows_devices,
        "products": [
            {"sku": f"VAC-{p:02d}", "name": f"Vaccine {p}", "unit": "each", "storage_condition": "2-8 C"}
            for p in range(1, 4)
        ],
        "lots": [
            {"product": f"VAC-{p:02d}", "lot_code": f"L{p}-{k}", "quantity": 1000, "unit": "each"}
            for p in range(1, 4)
            for k in range(1, 3)
        ],
    }


async def run_import_bench(work_dir: Path, assets: int = 500, devices: int = 1000) -> dict[str, Any]:
    """Onboard ``assets`` and ``devices`` into a fresh SQLite database in ``work_dir``, timed."""
    db_path, baseline_db, doc_path = (
        work_dir / "bench.db",
        work_dir / "baseline.db",
        work_dir / "onboarding.json",
    )
    _write_document(doc_path, assets, devices)
    url = f"sqlite+aiosqlite:///{db_path}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(Settings(database_url=url, data_dir=work_dir))
    try:
        async with svc.uow() as uow:
            tenant, _ = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
            await uow.commit()
        _snapshot(db_path, baseline_db)

        start = time.perf_counter()
        report = await import_document(
            svc.uow, svc.resources, Scope.system(tenant.id), load_document(doc_path)
        )
        seconds = time.perf_counter() - start
        if not report.ok:
            raise RuntimeError(f"the bench document was refused: {report.errors[:3]}")
        tables = [s.spec.table.name for s in importable(svc.catalog).values()]
    finally:
        await svc.close()
    raw_seconds = _raw_insert(db_path, baseline_db, tables)
    out: dict[str, Any] = {
        "rows": report.rows,
        "seconds": round(seconds, 4),
        "rows_per_s": round(report.rows / seconds, 1),
        "backend": "sqlite",
        "assets": assets,
        "devices": devices,
    }
    if raw_seconds > 0:
        out["raw_rows_per_s"] = round(report.rows / raw_seconds, 1)
        out["ratio"] = round(out["rows_per_s"] / out["raw_rows_per_s"], 3)
    return out


def _write_document(path: Path, assets: int, devices: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(onboarding_document(assets, devices)))


def _snapshot(source: Path, target: Path) -> None:
    """Copy the database through the backup API, which includes what is still in the WAL."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    # sqlite3's context manager commits but does not close.
    src.close()
    dst.close()


def _raw_insert(source: Path, target: Path, tables: list[str]) -> float:
    """Seconds to insert the imported rows again with bare ``sqlite3`` executemany."""
    with sqlite3.connect(source) as src:
        data = {t: src.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}  # noqa: S608
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        dst.execute("PRAGMA foreign_keys=ON")
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        dst.execute("BEGIN IMMEDIATE")
        for table, rows in data.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                dst.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)  # noqa: S608
        dst.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        dst.close()
