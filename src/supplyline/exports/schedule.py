"""The daily export: yesterday's partitions of every dataset, for each tenant as a whole.

Each tenant's datasets accumulate under ``<export_dir>/<tenant slug>/daily/<dataset>/date=...``,
one directory a BI tool can point at. A day already written is not written again; a day that
failed is tried again at the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from supplyline import access
from supplyline.exports.service import ALL_DATASETS, ExportResult, export_parquet
from supplyline.exports.sources import Sources
from supplyline.exports.writer import partition_path
from supplyline.kernel.clock import Clock
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings

log = logging.getLogger(__name__)


def daily_root(export_dir: Path, slug: str) -> Path:
    return export_dir / slug / "daily"


class Scheduled(Sources, Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...


async def export_daily(src: Scheduled) -> dict[str, ExportResult]:
    """Export yesterday for every tenant whose last dataset of that day is not there yet
    (SUPPLYLINE_EXPORT_SCHEDULE_HOURS: how often the workers ask)."""
    export_dir = src.settings.resolved_export_dir
    day = src.clock().date() - timedelta(days=1)
    async with src.read_engine.connect() as conn:
        tenants = await access.list_tenants(conn, Scope.platform("export-schedule"))
    done: dict[str, ExportResult] = {}
    for t in tenants:
        root = daily_root(export_dir, t.slug)
        if (root / partition_path(ALL_DATASETS[-1], day)).exists():
            continue
        scope = Scope.system(t.id, "export-schedule")
        done[t.slug] = await export_parquet(src, scope, ALL_DATASETS, day, day, root)
        log.info("exported %s of tenant %s: %s", day, t.slug, done[t.slug].rows)
    return done
