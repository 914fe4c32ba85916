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
from supplyline.api import sessions
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Forbidden, Unauthorized
from supplyline.kernel.scope import Action, Scope

bearer = HTTPBearer(
    auto_error=False,
    description="An API key ('sl_...') or a login session token ('sls_...') as a bearer token",
)
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


def bearer_token(request: Request) -> str | None:
    """The credential the request carries ('Authorization: Bearer' or 'X-API-Key'), else the
    console's session cookie."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.headers.get("x-api-key") or sessions.cookie_session(request)


async def current_scope(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Security(bearer),
    api_key: str | None = Security(api_key_header),
) -> Scope:
    token = creds.credentials if creds is not None else api_key
    # A header wins; without one, the console's session cookie, which only ever holds a
    # session (never an API key or the admin token) and needs the CSRF header on a change.
    cookie = None if token else sessions.cookie_session(request)
    if cookie is not None and not cookie.startswith("sls_"):
        raise Unauthorized(f"the {sessions.SESSION_COOKIE} cookie holds no login session")
    token = token or cookie
    if not token:
        raise Unauthorized(
            "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key', or log in to the console"
        )
    svc: Services = request.app.state.services
    async with svc.read_engine.connect() as conn:
        scope = await authenticate(conn, token, svc.settings.admin_token, rules=svc.visibility)
    request.state.scope = scope  # before the CSRF check: its refusal is filed under the caller
    if cookie is not None:
        sessions.check_csrf(request, cookie)
    await svc.throttle.admit_request(scope)  # 429 past the tenant's or the key's requests/s
    return scope


def requires(resource: str, action: str = Action.READ, *, whole_tenant: bool = False) -> Any:
    """The route's permission: ``resource:action`` inside the caller's tenant. The resource is
    also what the route shows, recorded on the operation as ``x-supplyline-scope`` so that the
    isolation tests can find every route and the rule that confines it. ``whole_tenant``: the
    route answers about the tenant as a whole (the ledger, counts, the outbox), so a grant
    narrowed to sites or to an organisation's relationships does not open it."""

    async def check(scope: Scope = Depends(current_scope)) -> Scope:
        scope.require_tenant()
        scope.require(resource, action)
        if whole_tenant and scope.reaches(resource, action) is not None:
            raise Forbidden(f"'{resource}' is only open to grants over the whole tenant")
        return scope

    check.supplyline_scope = f"{resource}:{action}" + (":tenant" if whole_tenant else "")  # type: ignore[attr-defined]
    return Depends(check)


async def _platform(scope: Scope = Depends(current_scope)) -> Scope:
    scope.require_platform()
    return scope


_platform.supplyline_scope = "platform"  # type: ignore[attr-defined]
PLATFORM = Depends(_platform)
