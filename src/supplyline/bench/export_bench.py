"""The Parquet export of readings against pyarrow writing the same rows, in the same run.

The world is the scoped-read benchmark's (trackers reporting every three minutes over their
last trips, compacted). The export reads them through the telemetry queries, day by day and a
hundred devices at a time, and writes Hive partitions; the raw figure is pyarrow writing the
very same table, already in memory, to the same partitions. Their ratio is what reading through
the scoped path and batching costs over the bare write.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from supplyline import access, exports
from supplyline.bench.scoped_world import Size, build_world
from supplyline.bootstrap import build_services
from supplyline.kernel.scope import Scope

DAYS = 4  # the world's readings span the last two to three days
ROUNDS = 3  # each side timed three times, the median kept (the machine is shared)


async def run_export_bench(work_dir: Path, *, size: Size | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    world = await build_world(work_dir, size or Size(shipments=1_000, trackers=100))
    build_s = time.perf_counter() - started
    svc = build_services(world.settings)
    try:
        async with svc.read_engine.connect() as conn:
            tenant = (await access.get_tenant_by_slug(conn, "bench")).id
        end = datetime.now(UTC).date()
        start = end - timedelta(days=DAYS)
        scope = Scope.system(tenant, "bench")
        # Warm: pyarrow imports pandas on its first conversion from numpy (half a second).
        await exports.export_parquet(svc, scope, ["readings"], end, end, work_dir / "warm")
        times = []
        for n in range(ROUNDS):
            began = time.perf_counter()
            result = await exports.export_parquet(svc, scope, ["readings"], start, end, work_dir / f"e{n}")
            times.append(time.perf_counter() - began)
        export_s = statistics.median(times)
    finally:
        await svc.close()
    rows = result.rows["readings"]
    table = ds.dataset(work_dir / "e0" / "readings", partitioning="hive").to_table()
    day = pc.cast(table.column("date"), "string")
    table = table.drop_columns(["date"])
    times = []
    for n in range(ROUNDS):
        began = time.perf_counter()
        for f in result.files:
            part = table.filter(pc.equal(day, f.date.isoformat()))
            target = work_dir / f"raw{n}" / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, target, compression="zstd")
        times.append(time.perf_counter() - began)
    raw_s = statistics.median(times)
    return {
        "rows": rows,
        "readings_ingested": world.readings,
        "files": len(result.files),
        "export_rows_per_s": round(rows / export_s),
        "raw_write_rows_per_s": round(rows / raw_s),
        "ratio": round(raw_s / export_s, 3),
        "export_s": round(export_s, 2),
        "build_s": round(build_s, 1),
    }
