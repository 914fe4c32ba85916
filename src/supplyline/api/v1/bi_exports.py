"""BI exports over HTTP: Parquet datasets partitioned by day, as jobs the caller reads back.

``POST /v1/exports`` answers 202 with the job. The export runs in the request, after the job's
row has committed and outside any write transaction (a range is at most
SUPPLYLINE_EXPORT_MAX_DAYS days), so the answer already says ``succeeded`` or ``failed``; a
client still reads the job's status (``GET /v1/exports/{job_id}``), which leaves room to run
larger ranges in the background later. A retry with the same Idempotency-Key exports nothing
again and answers the job as it now is (the first answer, once the first request finished).
Only the principal that asked reads the job and downloads its files. These routes are included
after ``/v1/exports/<resource>.csv``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import FileResponse, Response

from supplyline import audit, exports
from supplyline.api import idempotency
from supplyline.api.deps import JSON, current_scope, services
from supplyline.api.middleware import correlation_id
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Forbidden, Invalid
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(tags=["exports"])
log = logging.getLogger(__name__)
PARQUET = "application/vnd.apache.parquet"
FILE_PATH = Path(
    pattern=r"^[a-z_]+/date=\d{4}-\d{2}-\d{2}/part-\d{5}\.parquet$",
    description="A file of the job, as its `files` list names it",
)


async def export_caller(scope: Scope = Depends(current_scope)) -> Scope:
    """A tenant's caller; each dataset asks for its own permission (readings: telemetry, events:
    events, shipments, inventory_positions), and KPIs are those the caller may compute."""
    scope.require_tenant()
    return scope


export_caller.supplyline_scope = "exports:own"  # type: ignore[attr-defined]
EXPORT_CALLER = Depends(export_caller)


def _view(job: dict[str, Any]) -> dict[str, Any]:
    base = f"/v1/exports/{job['id']}/files/"
    return {**job, "files": [{**f, "url": base + f["path"]} for f in job["files"]]}


@router.post(
    "/exports",
    status_code=202,
    summary="Export datasets as Parquet files partitioned by day (Hive layout)",
    description=(
        "Writes `<dataset>/date=YYYY-MM-DD/part-00000.parquet` for every day from `from` to `to` "
        "(UTC, both included; an empty day gets a file with the schema and no rows), with what "
        "the caller may read: a partner's export holds its own slice, prices only with "
        "`commercial:read`. Datasets: readings, events, shipments, inventory_positions, kpis "
        "(docs/exports.md). Answers 202 with the job; its `status` says whether it succeeded."
    ),
    responses={403: {"description": "A dataset needs a permission the caller does not have"}},
    dependencies=[idempotency.IDEMPOTENT],
)
async def create_export(
    request: Request,
    body: exports.ExportRequest,
    scope: Scope = EXPORT_CALLER,
    svc: Services = Depends(services),
) -> Response:
    exports.check_request(scope, body.datasets, body.from_, body.to, svc.settings.export_max_days)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return _view(await exports.create_job(uow, scope, body))

    answer = await idempotency.write(
        request,
        svc,
        scope,
        action,
        status_code=202,
        headers=lambda job: {"Location": f"/v1/exports/{job['id']}"},
        audit_action="exports.create",
    )
    job_id = uuid.UUID(orjson.loads(answer.body)["id"])
    location = {"Location": f"/v1/exports/{job_id}"}
    if answer.headers.get("idempotent-replayed"):
        # The retry of a finished export answers as the first request did (the job as it is).
        async with svc.read_engine.connect() as conn:
            job = await exports.get_job(conn, scope, job_id)
        return JSON(_view(job), status_code=202, headers={**location, "Idempotent-Replayed": "true"})
    root = exports.job_root(svc.settings.resolved_export_dir, scope.require_tenant(), job_id)
    result: exports.ExportResult | None = None
    error = None
    try:
        result = await exports.export_parquet(svc, scope, body.datasets, body.from_, body.to, root)
    except (Forbidden, Invalid) as exc:
        error = str(exc)
    except Exception as exc:  # the job records the failure; the client reads it there
        log.exception("export %s failed", job_id)
        error = f"{type(exc).__name__}: the export failed"
    async with svc.uow(correlation_id.get()) as uow:
        await exports.finish_job(uow, job_id, result, error)
        await uow.commit()
    async with svc.read_engine.connect() as conn:
        job = await exports.get_job(conn, scope, job_id)
    return JSON(_view(job), status_code=202, headers=location)


@router.get(
    "/exports/{job_id}",
    summary="An export job of the caller's: status, files (with their rows) and row counts",
)
async def get_export(
    job_id: uuid.UUID, scope: Scope = EXPORT_CALLER, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(_view(await exports.get_job(conn, scope, job_id)))


@router.get(
    "/exports/{job_id}/files/{path:path}",
    summary="Download one Parquet file of an export job of the caller's",
    response_class=FileResponse,
    responses={200: {"content": {PARQUET: {}}}},
)
async def get_export_file(
    job_id: uuid.UUID,
    path: str = FILE_PATH,
    scope: Scope = EXPORT_CALLER,
    svc: Services = Depends(services),
) -> FileResponse:
    async with svc.read_engine.connect() as conn:
        found = await exports.job_file(conn, scope, svc.settings.resolved_export_dir, job_id, path)
    # A download is a security-relevant read, as the CSV exports are: on the trail first.
    await audit.record_security(svc.uow, scope, "exports.download", f"exports/{job_id}/{path}", outcome="ok")
    name = path.replace("/", "_").replace("=", "-")
    return FileResponse(found, media_type=PARQUET, filename=name)
