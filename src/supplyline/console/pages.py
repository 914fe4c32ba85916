"""The console's pages and its login and logout forms.

Pages are HTML for people, not part of the API: they are left out of /openapi.json (the route
walks of the API tests cover /v1; tests/console covers these). Everything a page shows it
reads through /v1 with the session cookie, so grants, redaction and audit apply unchanged.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from supplyline import access
from supplyline.api import sessions
from supplyline.api.v1.access import end_session, start_session
from supplyline.bootstrap import Services
from supplyline.kernel.errors import FieldError, Forbidden, Invalid, Unauthorized
from supplyline.kernel.scope import Scope

router = APIRouter(include_in_schema=False)
LOGIN_PATH = "/console/login"
FORM_FIELDS = ("tenant", "email", "password")
# No inline script or style, no eval, nothing from elsewhere, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


# The built pages (``make console``), one per view: ``/`` is the alarm list, ``/console/<view>``
# the others. Served by these routes rather than as static files so that a page needs a live
# session (no flash of an empty page before the login) and carries the page headers.
START_VIEW = "alarms"
LOGIN_VIEW = "login"
VIEW_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
LOGIN_ERROR = '<div id="login-error" class="error" role="alert" aria-live="assertive">'


def _built(view: str) -> str | None:
    """The built page of a view, or None when there is no such page."""
    if not VIEW_NAME.match(view):
        return None
    found = resources.files("supplyline.console").joinpath("static", "app", f"{view}.html")
    try:
        return found.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def built_views() -> list[str]:
    """The views ``make console`` built (every page but the login's), the alarm list first."""
    app = resources.files("supplyline.console").joinpath("static", "app")
    try:
        names = sorted(f.name.removesuffix(".html") for f in app.iterdir() if f.name.endswith(".html"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    views = [v for v in names if VIEW_NAME.match(v) and v != LOGIN_VIEW]
    return sorted(views, key=lambda v: v != START_VIEW)


def page(view: str) -> Response:
    """A built page with the page headers; 503 naming ``make console`` when it was not built."""
    body = _built(view)
    if body is None:
        if _built(LOGIN_VIEW) is None:
            text = "The console is not built: run `make console` (the wheel ships it built)."
            return Response(text, status_code=503, media_type="text/plain", headers=PAGE_HEADERS)
        return Response("No such page.", status_code=404, media_type="text/plain", headers=PAGE_HEADERS)
    return Response(body, media_type="text/html", headers=PAGE_HEADERS)


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _secure(request: Request) -> bool:
    return sessions.secure(request, _services(request).settings.secure_cookies)


async def _form(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form (or a JSON object), first value of each."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Invalid("body", "is not valid JSON") from None
        if not isinstance(data, dict):
            raise Invalid("body", "must be an object")
        return {k: v for k, v in data.items() if isinstance(v, str)}
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("body", "is not a urlencoded form") from None
    return {k: v[0] for k, v in fields.items()}


def _same_origin(request: Request) -> None:
    """Refuse a login posted from another site's page (login CSRF: being logged into someone
    else's account). Browsers send Origin on every POST; other clients may omit it."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        reason = "a console login must come from the console's own page"
        raise Forbidden(f"Origin: {reason}", [FieldError("Origin", reason)])


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _session_scope(request: Request, token: str | None) -> Scope | None:
    """The Scope of a live cookie session; None without one (absent, ended, expired)."""
    if token is None or not token.startswith("sls_"):
        return None
    svc = _services(request)
    async with svc.read_engine.connect() as conn:
        try:
            return await access.authenticate(conn, token, None, rules=svc.visibility)
        except Unauthorized:
            return None


async def _view(request: Request, view: str) -> Response:
    """A view for a live session; otherwise the login page, which comes back here after."""
    scope = await _session_scope(request, sessions.cookie_session(request))
    if scope is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = LOGIN_PATH if here == "/" else f"{LOGIN_PATH}?{urlencode({'next': here})}"
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    return page(view)


@router.get("/")
async def index(request: Request) -> Response:
    """The console's start: the alarm list."""
    return await _view(request, START_VIEW)


@router.get(LOGIN_PATH)
async def login_page(request: Request) -> Response:
    """The login form; after a refused form post (``?error=1``) it says so, script or not."""
    response = page(LOGIN_VIEW)
    if request.query_params.get("error") is not None and response.status_code == 200:
        message = html.escape("Wrong tenant, e-mail or password.")
        body = bytes(response.body).decode().replace(LOGIN_ERROR, LOGIN_ERROR + message, 1)
        response = Response(body, media_type="text/html", headers=PAGE_HEADERS)
    return response


@router.get("/console/{view}")
async def view_page(request: Request, view: str) -> Response:
    """Any other view of the console by name: ``/console/shipment?id=...``."""
    if _built(view) is None:
        return page(view)  # 404, or 503 when nothing was built
    return await _view(request, view)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    """Log in from the form; the session goes into cookies, never into the page or a script."""
    _same_origin(request)
    form = await _form(request)
    missing = [FieldError(f, "is required") for f in FORM_FIELDS if not form.get(f)]
    if missing:
        raise Invalid.many(missing)
    try:
        session = await start_session(_services(request), form["tenant"], form["email"], form["password"])
    except Unauthorized:
        if _wants_json(request):
            raise
        return RedirectResponse(f"{LOGIN_PATH}?error=1", status_code=303, headers=PAGE_HEADERS)
    if _wants_json(request):
        body = {"user": session.user, "expires_at": session.expires_at.isoformat()}
        response: Response = Response(orjson.dumps(body), media_type="application/json")
    else:
        response = RedirectResponse("/", status_code=303)
    sessions.set_session(response, session.token, session.expires_at, secure=_secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    """End the session (the CSRF token from the header or the form's ``csrf_token`` field) and
    clear its cookies. A session that already ended is simply forgotten."""
    token = sessions.cookie_session(request)
    scope = await _session_scope(request, token)
    if scope is not None and token is not None:
        form = {} if request.headers.get(sessions.CSRF_HEADER) else await _form(request)
        sessions.check_csrf(request, token, form.get("csrf_token"))
        await end_session(_services(request), scope, token)
    response = (
        Response(status_code=204) if _wants_json(request) else RedirectResponse(LOGIN_PATH, status_code=303)
    )
    sessions.clear_session(response, secure=_secure(request))
    return response
