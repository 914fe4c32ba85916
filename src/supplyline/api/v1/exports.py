"""CSV exports of every resource: the same scoped, redacted reads as the list, as a file.

An export is the list endpoint without pages: it goes through the same ``ResourceService``
reads (the caller's reach, prices only with 'commercial:read'), so a partner's export holds
exactly what its list would. It is streamed page by page; child lists (order lines, a
shipment's lots) are JSON text in their column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from supplyline import audit
from supplyline.api.deps import requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from supplyline.resources import ResourceSpec

PAGE = 500
CONTROL_PARAMS = {"include_archived"}


def columns(spec: ResourceSpec, scope: Scope) -> list[str]:
    names = list(spec.read_model.model_fields)
    if spec.commercial and not scope.can("commercial"):
        names = [n for n in names if n not in spec.commercial]
    return names


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def export_router(spec: ResourceSpec) -> APIRouter:
    router = APIRouter(prefix="/exports", tags=["exports"])
    name = spec.name

    @router.get(
        f"/{name}.csv",
        summary=f"Export {name} as CSV",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def export(
        request: Request,
        include_archived: bool = Query(False),
        scope: Scope = requires(name),
        svc: Services = Depends(services),
    ) -> StreamingResponse:
        raw = {k: v for k, v in request.query_params.items() if k not in CONTROL_PARAMS}
        filters = svc.resources.parse_filters(name, raw)
        header = columns(spec, scope)
        # An export is a security-relevant read: on the audit trail before a row is read.
        await audit.record_security(svc.uow, scope, f"{name}.export", f"exports/{name}", outcome="ok")

        async def rows() -> AsyncIterator[str]:
            buf = io.StringIO()
            out = csv.writer(buf)
            out.writerow(header)
            cursor: str | None = None
            while True:
                async with svc.read_engine.connect() as conn:
                    page = await svc.resources.list_page(
                        conn,
                        scope,
                        name,
                        filters=filters,
                        cursor=cursor,
                        limit=PAGE,
                        include_archived=include_archived,
                    )
                for item in page.items:
                    out.writerow([_cell(item.get(c)) for c in header])
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
                cursor = page.next_cursor
                if cursor is None:
                    return

        filename = f"{name}.csv"
        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return router
