"""Telemetry over HTTP: device ingestion (device credentials) and queries (API keys)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from supplyline import access, logistics, registry
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.middleware import correlation_id
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid, NotFound, Unauthorized
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.telemetry import (
    AGGREGATES,
    HealthFilter,
    SeriesRequest,
    buckets,
    device_status,
    health_page,
    issue_credential,
    latest,
    list_credentials,
    raw_points,
    read_series,
    revoke_credentials,
)

# A bucket of ten years is already one point per series: beyond it the arithmetic in
# milliseconds would leave the 64-bit range of the database.
BUCKET_MAX_S = 10 * 366 * 86_400

router = APIRouter(tags=["telemetry"])
TELEMETRY_READ = requires("telemetry")
# Credentials are the tenant's security configuration: no narrowed grant sees or changes them.
DEVICES_READ = requires("devices", whole_tenant=True)
DEVICES_WRITE = requires("devices", Action.WRITE, whole_tenant=True)
FOREVER = (0, 2**62)


@router.post(
    "/telemetry",
    summary="Ingest readings from a device or gateway",
    description=(
        "Authenticate with the device's token (`Authorization: Bearer sld_...`) and sign the exact "
        "body with its secret: `X-Signature: sha256=<hex HMAC-SHA256>`. The body is one reading, a "
        'list, or `{"readings": [...]}`. A 200 answer means the accepted readings are committed.'
    ),
    responses={
        401: {"description": "No device token, or one that is unknown or revoked"},
        403: {"description": "The signature does not match the body"},
        413: {"description": "Larger than SUPPLYLINE_MAX_BODY_BYTES, or too many readings"},
        429: {"description": "Over the tenant's readings per second"},
    },
)
async def ingest(
    request: Request,
    authorization: str | None = Header(None, description="Bearer <device token>"),
    x_signature: str | None = Header(None, description="sha256=<hex HMAC-SHA256 of the body>"),
    svc: Services = Depends(services),
) -> Response:
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        raise Unauthorized("send the device token as 'Authorization: Bearer sld_...'")
    identity = await svc.telemetry.credentials.identify(token)
    body = await request.body()
    result = await svc.telemetry.ingest.ingest(identity, body, x_signature, correlation_id.get())
    return JSON(result.as_dict())


async def ingest_direct(request: Request) -> Response:
    """``ingest`` as ``api.middleware.DirectRoutes`` calls it, its parameters read as FastAPI
    reads them (the hot path of device ingestion; tests/api/test_direct_routes.py keeps the two
    answering alike)."""
    headers = request.headers
    svc = await services(request)
    return await ingest(request, headers.get("authorization"), headers.get("x-signature"), svc)


def ingest_route() -> APIRoute:
    """The route of ``ingest``, for the scope of a request served directly."""
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is ingest)


def _ms(value: datetime | None, default: int) -> int:
    if value is None:
        return default
    if value.tzinfo is None:
        raise Invalid("from", "timestamps need a time zone, e.g. 2026-11-22T10:00:00Z")
    return int(value.timestamp() * 1000)


Windows = dict[uuid.UUID, list[tuple[int, int]]]


async def _windows(
    svc: Services, scope: Scope, conn: Any, **what: Any
) -> dict[uuid.UUID, list[tuple[int, int]]]:
    """What the query asks for, cut to what the caller may read: a carrier's trackers only
    between pickup and delivery; devices the caller does not reach are dropped."""
    wanted = await _wanted(svc, scope, conn, **what)
    allowed = await access.telemetry_windows(conn, scope, list(wanted))
    if allowed is None:
        return wanted
    out: dict[uuid.UUID, list[tuple[int, int]]] = {}
    for device, spans in wanted.items():
        for a, b in spans:
            for c, d in allowed.get(device, ()):
                lo, hi = max(a, c), min(b, d)
                if lo <= hi:
                    out.setdefault(device, []).append((lo, hi))
    return out


async def _wanted(
    svc: Services,
    scope: Scope,
    conn: Any,
    *,
    device: list[str],
    asset: uuid.UUID | None,
    shipment: uuid.UUID | None,
    lot: uuid.UUID | None,
    site: uuid.UUID | None,
    start: int,
    end: int,
) -> dict[uuid.UUID, list[tuple[int, int]]]:
    """Which devices, and when, a query is about: telemetry follows the business context."""
    given = [x for x in (device or None, asset, shipment, lot, site) if x]
    if len(given) != 1:
        raise Invalid("device", "name exactly one of device, asset, shipment, lot or site")
    span = (start, end)
    if device:
        found = await registry.device_ids(conn, scope, device)
        missing = [d for d in device if d not in found]
        if missing:
            raise Invalid("device", f"no device '{missing[0]}' in this tenant")
        return {d: [span] for d in found.values()}
    if asset or site:
        assets = [asset] if asset else await registry.assets_at_site(conn, scope, site)  # type: ignore[arg-type]
        return {d: [span] for d in await registry.devices_of_assets(conn, scope, assets)}
    shipments = [shipment] if shipment else await logistics.shipments_with_lot(conn, scope, lot)  # type: ignore[arg-type]
    out: dict[uuid.UUID, list[tuple[int, int]]] = {}
    for w in await logistics.tracker_windows(conn, scope, shipments):
        a, b = max(start, _ms(w.start, start)), min(end, _ms(w.end, end))
        if a <= b:
            out.setdefault(w.device_id, []).append((a, b))
    return out


@router.get("/telemetry", summary="Readings by device, asset, shipment, lot or site; raw or per bucket")
async def query(
    device: list[str] = Query([], description="Device id or code (repeatable)"),
    asset: uuid.UUID | None = Query(None, description="Devices on this asset (and assets inside it)"),
    shipment: uuid.UUID | None = Query(None, description="Trackers of this shipment, while assigned"),
    lot: uuid.UUID | None = Query(None, description="Trackers of the shipments that carried this lot"),
    site: uuid.UUID | None = Query(None, description="Devices on assets at this site"),
    metric: list[str] = Query(..., description="Canonical metric names (repeatable)"),
    from_: datetime | None = Query(None, alias="from"),
    to: datetime | None = Query(None),
    bucket: int | None = Query(None, ge=1, le=BUCKET_MAX_S, description="Bucket size in seconds: downsample"),
    agg: list[str] = Query(["min", "max", "avg", "last"], description="Aggregates per bucket"),
    limit: int = Query(10_000, ge=1, le=100_000, description="Raw points per series"),
    scope: Scope = TELEMETRY_READ,
    svc: Services = Depends(services),
) -> Response:
    bad = [a for a in agg if a not in AGGREGATES]
    if bad:
        raise Invalid("agg", f"'{bad[0]}' is not one of {', '.join(AGGREGATES)}")
    start, end = _ms(from_, FOREVER[0]), _ms(to, FOREVER[1])
    async with svc.read_engine.connect() as conn:
        windows = await _windows(
            svc,
            scope,
            conn,
            device=device,
            asset=asset,
            shipment=shipment,
            lot=lot,
            site=site,
            start=start,
            end=end,
        )
        series = await read_series(conn, SeriesRequest(scope.require_tenant(), windows, metric))
    codes = {d.id: d.code for d in (await svc.telemetry.directory.devices(scope.require_tenant())).values()}
    out = []
    for device_id, s in sorted(series.items(), key=lambda kv: codes.get(kv[0], "")):
        for m in metric:
            entry: dict[str, Any] = {"device_id": str(device_id), "device": codes.get(device_id), "metric": m}
            if bucket:
                entry["bucket_s"] = bucket
                entry["buckets"] = buckets(s, m, bucket * 1000, agg)
            else:
                entry["points"], entry["truncated"] = raw_points(s, m, limit)
            out.append(entry)
    return JSON({"series": out})


@router.get("/telemetry/latest", summary="Latest value of every metric, per device")
async def latest_values(
    device: list[str] = Query([]),
    asset: uuid.UUID | None = Query(None),
    shipment: uuid.UUID | None = Query(None),
    site: uuid.UUID | None = Query(None),
    scope: Scope = TELEMETRY_READ,
    svc: Services = Depends(services),
) -> Response:
    tenant = scope.require_tenant()
    async with svc.read_engine.connect() as conn:
        windows = await _windows(
            svc,
            scope,
            conn,
            device=device,
            asset=asset,
            shipment=shipment,
            lot=None,
            site=site,
            start=FOREVER[0],
            end=FOREVER[1],
        )
        values = _within(await latest(conn, tenant, list(windows)), windows)
    codes = {d.id: d.code for d in (await svc.telemetry.directory.devices(tenant)).values()}
    items = [
        {
            "device_id": str(d),
            "device": codes.get(d),
            "last_seen_at": v["last_seen_at"].isoformat(),
            "values": {m: {"at": _iso(ts), "value": val} for m, (ts, val) in sorted(v["values"].items())},
        }
        for d, v in values.items()
    ]
    return JSON({"items": sorted(items, key=lambda i: i["device"] or "")})


@router.get(
    "/telemetry/context",
    summary="What a device's reading at an instant belongs to",
    responses={404: {"description": "No such device in this tenant"}},
)
async def context(
    device: str = Query(..., description="Device id or code"),
    at: datetime = Query(..., description="The reading's time"),
    scope: Scope = TELEMETRY_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await registry.device_ids(conn, scope, [device])
        if device not in found:
            raise NotFound(f"no device '{device}'")
        device_id = found[device]
        info = await svc.telemetry.directory.by_id(scope.require_tenant(), device_id)
        shipments = await logistics.shipment_context(conn, scope, device_id, at)
    return JSON(
        {
            "device_id": str(device_id),
            "asset_id": str(info.asset_id) if info and info.asset_id else None,
            "shipments": [
                {"shipment_id": str(s), "lot_ids": [str(x) for x in lots]} for s, lots in shipments
            ],
        }
    )


def _within(
    values: dict[uuid.UUID, Any], windows: dict[uuid.UUID, list[tuple[int, int]]]
) -> dict[uuid.UUID, Any]:
    """Latest values taken inside the caller's windows only (a carrier's tracker after
    delivery shows nothing newer than the delivery)."""
    out: dict[uuid.UUID, Any] = {}
    for device, v in values.items():
        spans = windows.get(device, ())
        kept = {m: tv for m, tv in v["values"].items() if any(a <= tv[0] <= b for a, b in spans)}
        if kept:
            out[device] = {**v, "values": kept}
    return out


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@router.get(
    "/telemetry/health",
    summary="Telemetry health of the caller's devices, a page at a time",
    description=(
        "What `GET /v1/devices/{id}/telemetry` answers for one device, for a page of devices in "
        "one call (fixed cost per page, whatever its size): last seen, silent, clock skew, the "
        "latest battery reading (`battery_v`, else `battery_pct`), refused messages per reason, "
        "and, for callers who may read the tenant's device credentials, their count and the age "
        "of the newest (no secrets). Devices are in id order, paged with `next_cursor`."
    ),
    responses={422: {"description": "A bad cursor, site or limit"}},
)
async def fleet_health(
    site: uuid.UUID | None = Query(None, description="Devices on assets at this site (or inside them)"),
    kind: Literal["tracker", "sensor", "gateway"] | None = Query(None),
    silent: bool | None = Query(None, description="true: only devices marked silent; false: all others"),
    page_: PageQuery = PAGE,
    scope: Scope = TELEMETRY_READ,
    svc: Services = Depends(services),
) -> Response:
    flt = HealthFilter(site_id=site, kind=kind, silent=silent)
    cursor, limit = page_.cursor, page_.limit
    # Credentials are the tenant's security configuration (as GET /v1/devices/{id}/credentials).
    creds = scope.can("devices") and scope.reaches("devices") is None
    async with svc.read_engine.connect() as conn:

        async def windows(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[int, int]]] | None:
            return await access.telemetry_windows(conn, scope, ids)

        found = await health_page(
            conn, scope, flt, cursor=cursor, limit=limit, credentials=creds, windows=windows
        )
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.get("/devices/{id}/telemetry", summary="A device's telemetry health: seen, silent, skew, refusals")
async def status(id: uuid.UUID, scope: Scope = TELEMETRY_READ, svc: Services = Depends(services)) -> Response:
    tenant = scope.require_tenant()
    async with svc.read_engine.connect() as conn:
        await svc.resources.get(conn, scope, "devices", id)  # NotFound unless the caller reaches it
    info = await svc.telemetry.directory.by_id(tenant, id)
    if info is None:
        svc.telemetry.directory.invalidate(tenant)
        info = await svc.telemetry.directory.by_id(tenant, id)
    if info is None:
        raise NotFound(f"no device {id}")
    async with svc.read_engine.connect() as conn:
        return JSON(await device_status(conn, tenant, id, info.code))


@router.post(
    "/devices/{id}/credentials",
    status_code=201,
    summary="Issue (or rotate) a device credential",
    description="Earlier credentials keep working for SUPPLYLINE_CREDENTIAL_OVERLAP_HOURS, then stop. "
    "The token and secret are shown once; a replay (Idempotency-Key) answers them as null: "
    "secrets are not stored.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def issue(
    request: Request, id: uuid.UUID, scope: Scope = DEVICES_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        cred = await issue_credential(uow, scope, id, svc.telemetry.box, overlap=svc.telemetry.overlap)
        return {
            "id": str(cred.id),
            "device_id": str(cred.device_id),
            "token": cred.token,
            "secret": cred.secret,
            "created_at": cred.created_at.isoformat(),
        }

    try:
        return await idempotency.write(
            request,
            svc,
            scope,
            action,
            redact=lambda body: {**body, "token": None, "secret": None},
            audit_action="devices.credentials.issue",
        )
    finally:
        svc.telemetry.invalidate()


@router.get("/devices/{id}/credentials", summary="A device's credentials (no secrets)")
async def credentials(
    id: uuid.UUID, scope: Scope = DEVICES_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        creds = await list_credentials(conn, scope, id)
    return JSON(
        {
            "items": [
                {
                    "id": str(c.id),
                    "prefix": c.prefix,
                    "created_at": c.created_at.isoformat(),
                    "expires_at": c.expires_at.isoformat() if c.expires_at else None,
                    "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                }
                for c in creds
            ]
        }
    )


@router.post(
    "/devices/{id}/credentials/revoke",
    summary="Revoke every credential of a device, now",
    dependencies=[idempotency.IDEMPOTENT],
)
async def revoke(
    request: Request, id: uuid.UUID, scope: Scope = DEVICES_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return {"device_id": str(id), "revoked": await revoke_credentials(uow, scope, id)}

    try:
        return await idempotency.write(request, svc, scope, action, status_code=200)
    finally:
        svc.telemetry.invalidate()
