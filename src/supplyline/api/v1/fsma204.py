"""The FDA FSMA 204 sortable spreadsheet over HTTP: CSV, XLSX, or JSON of the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from supplyline import epcis
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Scope

router = APIRouter()
TRACEABILITY_READ = requires("traceability", whole_tenant=True)
# A day (2026-03-01) or an instant with its UTC offset (2026-03-01T08:00:00+01:00).
WHEN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$"


class MissingOut(BaseModel):
    event_id: str
    cte: str
    tlc: str
    kde: str


class Fsma204Out(BaseModel):
    columns: list[str]
    rows: list[dict[str, str]]
    missing: list[MissingOut]


def parse_when(name: str, value: str | None, *, end: bool) -> datetime | None:
    """A day means all of it (from its first instant, to its last); an instant is exact."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return epcis.day_end(day) if end else epcis.day_start(day)
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise Invalid(name, "needs a UTC offset")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid(name, "is not a date (YYYY-MM-DD) or a time with its UTC offset") from None


def _filename(request: epcis.Fsma204Request, ext: str) -> str:
    if request.tlcs:
        stem = "-".join(t.rsplit("/", 1)[-1] for t in request.tlcs[:3])
    else:
        stem = "-".join(d.date().isoformat() for d in (request.start, request.end) if d is not None)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80]
    return f"fsma204-{safe or 'export'}.{ext}"


MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One row per critical tracking event and lot; JSON adds the missing KDEs",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            epcis.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment"}},
    }
}


@router.get(
    "/traceability/fsma204",
    response_model=Fsma204Out,
    tags=["traceability"],
    summary="The FDA FSMA 204 electronic sortable spreadsheet for lot codes or a date range",
    responses=MEDIA,
)
async def fsma204(
    tlc: list[str] = Query(
        [], max_length=100, description="A traceability lot code, or its LGTIN (repeatable)"
    ),
    from_: str | None = Query(None, alias="from", pattern=WHEN, description="Events from this day or time"),
    to: str | None = Query(None, pattern=WHEN, description="Events up to this day (all of it) or time"),
    format_: Literal["csv", "xlsx", "json"] = Query("json", alias="format"),
    scope: Scope = TRACEABILITY_READ,
    svc: Services = Depends(services),
) -> Response:
    tlcs = tuple(t for t in tlc if t.strip())
    if any(len(t) > 200 for t in tlcs):
        raise Invalid("tlc", "at most 200 characters")
    request = epcis.Fsma204Request(tlcs, parse_when("from", from_, end=False), parse_when("to", to, end=True))
    request.check()
    async with svc.read_engine.connect() as conn:
        report = await epcis.fsma204_report(conn, scope, request)
    if format_ == "json":
        return JSON(report.as_dict())
    body, media = (
        (epcis.to_csv(report), epcis.CSV_MEDIA_TYPE)
        if format_ == "csv"
        else (epcis.to_xlsx(report), epcis.XLSX_MEDIA_TYPE)
    )
    disposition = f'attachment; filename="{_filename(request, format_)}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
