"""Dependencies every route uses: the services, and the caller's Scope.

A route gets data only through a Scope; there is no route-level way to skip authentication.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from supplyline.access import authenticate
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Unauthorized
from supplyline.kernel.scope import Permission, Scope

bearer = HTTPBearer(auto_error=False, description="An API key: 'Authorization: Bearer sl_...'")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


class JSON(Response):
    """JSON via orjson; routes build their bodies as plain dicts."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, ~100 us per request.
    svc: Services = request.app.state.services
    return svc


async def current_scope(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Security(bearer),
    api_key: str | None = Security(api_key_header),
) -> Scope:
    token = creds.credentials if creds is not None else api_key
    if not token:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>' or 'X-API-Key'")
    svc: Services = request.app.state.services
    async with svc.read_engine.connect() as conn:
        scope = await authenticate(conn, token, svc.settings.admin_token)
    request.state.scope = scope
    await svc.throttle.admit_request(scope)  # 429 past the tenant's or the key's requests/s
    return scope


def requires(permission: Permission) -> Any:
    async def check(scope: Scope = Depends(current_scope)) -> Scope:
        scope.require(permission)
        if permission is not Permission.PLATFORM:
            scope.require_tenant()
        return scope

    return Depends(check)


READ = requires(Permission.READ)
WRITE = requires(Permission.WRITE)
ADMIN = requires(Permission.ADMIN)
PLATFORM = requires(Permission.PLATFORM)
