"""BI export use cases: write datasets as Parquet for a caller, and the jobs that record it.

``export_parquet`` is the one path the API, the CLI and the schedule take: the caller's scope
decides what each dataset holds. A job is the API's record of one export: created (running)
in the request's transaction, finished in a transaction of its own once the files are written,
read back only by the principal that asked for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.exports.schemas import DATASETS
from supplyline.exports.sources import READERS, Sources
from supplyline.exports.tables import exports_job
from supplyline.exports.writer import PartitionedWriter, WrittenFile
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork

DatasetName = Literal["readings", "events", "shipments", "inventory_positions", "kpis"]
ALL_DATASETS: tuple[str, ...] = tuple(DATASETS)
J = exports_job
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class ExportRequest(BaseModel):
    """Which datasets, and the days (UTC, both included) whose partitions to write."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    datasets: list[DatasetName] = Field(min_length=1, max_length=len(ALL_DATASETS))
    from_: date = Field(alias="from", description="First day (UTC)")
    to: date = Field(description="Last day (UTC), included")


@dataclass
class ExportResult:
    files: list[WrittenFile] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f.dataset] = out.get(f.dataset, 0) + f.rows
        return out


def check_request(scope: Scope, datasets: Sequence[str], start: date, end: date, max_days: int) -> None:
    """Refuse what cannot run before anything is written: the range, the permissions."""
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise Invalid(name, f"must be between {EARLIEST} and {LATEST}")
    if end < start:
        raise Invalid("to", "is before from")
    if (end - start).days + 1 > max_days:
        raise Invalid("to", f"an export spans at most {max_days} days (SUPPLYLINE_EXPORT_MAX_DAYS)")
    for name in datasets:
        if name not in DATASETS:
            raise Invalid("datasets", f"'{name}' is not one of {', '.join(ALL_DATASETS)}")
        permission = DATASETS[name].permission
        if permission is not None:
            scope.require(permission)


async def export_parquet(
    src: Sources, scope: Scope, datasets: Sequence[str], start: date, end: date, root: Path
) -> ExportResult:
    """Write each dataset's partitions from ``start`` to ``end`` under ``root``, as the caller
    may see them (prices only with 'commercial:read')."""
    result = ExportResult()
    commercial = scope.can("commercial")
    for name in dict.fromkeys(datasets):
        dataset = DATASETS[name]
        writer = PartitionedWriter(root, name, dataset.schema_for(commercial), start, end)
        try:
            await READERS[name](src, scope, writer)
        except BaseException:
            writer.abort()
            raise
        result.files += writer.close()
    return result


def owner_of(scope: Scope) -> str:
    return str(scope.principal_id) if scope.principal_id else scope.principal_name


def job_root(export_dir: Path, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Path:
    return export_dir / str(tenant_id) / str(job_id)


def job_view(row: Mapping[str, Any]) -> dict[str, Any]:
    finished = row["finished_at"]
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "datasets": list(row["datasets"]),
        "from": row["from_date"].isoformat(),
        "to": row["to_date"].isoformat(),
        "files": list(row["files"]),
        "rows": dict(row["rows"]),
        "error": row["error"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": finished.isoformat() if finished is not None else None,
    }


async def create_job(uow: UnitOfWork, scope: Scope, req: ExportRequest) -> dict[str, Any]:
    """Record a running export of ``req`` for the caller."""
    row = {
        "id": new_id(),
        "tenant_id": scope.require_tenant(),
        "owner": owner_of(scope),
        "datasets": list(dict.fromkeys(req.datasets)),
        "from_date": req.from_,
        "to_date": req.to,
        "status": "running",
        "files": [],
        "rows": {},
        "error": None,
        "created_at": utcnow(),
        "finished_at": None,
    }
    await uow.conn.execute(insert(J).values(**row))
    return job_view(row)


async def finish_job(
    uow: UnitOfWork, job_id: uuid.UUID, result: ExportResult | None, error: str | None = None
) -> None:
    values: dict[str, Any] = {"finished_at": utcnow()}
    if result is not None:
        values |= {"status": "succeeded", "files": [f.as_dict() for f in result.files], "rows": result.rows}
    else:
        values |= {"status": "failed", "error": (error or "failed")[:2000]}
    await uow.conn.execute(update(J).where(J.c.id == job_id).values(**values))


async def get_job(conn: AsyncConnection, scope: Scope, job_id: uuid.UUID) -> dict[str, Any]:
    """The caller's own job (another principal's is not found, as one that does not exist)."""
    stmt = select(J).where(
        J.c.id == job_id, J.c.tenant_id == scope.require_tenant(), J.c.owner == owner_of(scope)
    )
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"no export {job_id}")
    return job_view(dict(row))


async def job_file(
    conn: AsyncConnection, scope: Scope, export_dir: Path, job_id: uuid.UUID, path: str
) -> Path:
    """The file ``path`` of the caller's job: only a path the job recorded is ever opened."""
    job = await get_job(conn, scope, job_id)
    if path not in {f["path"] for f in job["files"]}:
        raise NotFound(f"export {job_id} has no file {path!r}")
    found = job_root(export_dir, scope.require_tenant(), job_id) / path
    if not found.is_file():
        raise NotFound(f"the file {path!r} of export {job_id} is no longer there")
    return found
