"""Login sessions carried by cookies, for people using the console in a browser.

The session token is the same ``sls_...`` token ``POST /v1/auth/login`` answers; in a cookie it
is HTTP-only (no script reads it) and SameSite=Lax. Lax rather than Strict: a link to the
console from an alarm e-mail or a pager is a cross-site top-level GET, which Strict would send
without the cookie and so land on the login page although the person is logged in. Lax still
withholds the cookie from cross-site POSTs, subresources and frames, and every state change
also needs the CSRF header below, so Lax opens nothing a forged request could use.

CSRF: double submit, bound to the session. The token is an HMAC of the fixed label under the
session token itself, so nothing more is stored, it changes with every login, and a cookie
planted by a sibling domain cannot be paired with a header the attacker knows. The console
reads it from the readable ``sl_csrf`` cookie and sends it back as ``X-CSRF-Token`` with every
non-GET request. A bearer token needs no CSRF token: a browser never attaches one on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from supplyline.kernel.errors import FieldError, Forbidden

SESSION_COOKIE = "sl_session"
CSRF_COOKIE = "sl_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LABEL = b"supplyline console csrf v1"


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: only someone holding the session token can compute it."""
    mac = hmac.new(session_token.encode(), _LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def cookie_session(request: Request) -> str | None:
    """The session token of the ``sl_session`` cookie, if the request carries one."""
    token = request.cookies.get(SESSION_COOKIE)
    return token or None


def check_csrf(request: Request, session_token: str, form_token: str | None = None) -> None:
    """Refuse a state change made with a cookie session unless ``X-CSRF-Token`` matches it
    (the console's own HTML forms, which cannot set a header, send it as ``form_token``)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or form_token
    if not sent:
        reason = "a console session needs this header on every change (the value of the sl_csrf cookie)"
    elif not hmac.compare_digest(sent.encode(), csrf_token(session_token).encode()):
        reason = "does not match this session's CSRF token"
    else:
        return
    raise Forbidden(f"{CSRF_HEADER}: {reason}", [FieldError(CSRF_HEADER, reason)])


def secure(request: Request, forced: bool | None) -> bool:
    """Cookies are Secure on https, or always/never when SUPPLYLINE_SECURE_COOKIES says so
    (behind a TLS-terminating proxy the server itself sees http)."""
    return request.url.scheme == "https" if forced is None else forced


def set_session(response: Response, token: str, expires_at: datetime, *, secure: bool) -> None:
    """The session cookie (HTTP-only) and its CSRF cookie (readable by the page), ending with it."""
    common = {"expires": expires_at, "path": "/", "secure": secure, "samesite": "lax"}
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)  # type: ignore[arg-type]
    response.set_cookie(CSRF_COOKIE, csrf_token(token), httponly=False, **common)  # type: ignore[arg-type]


def clear_session(response: Response, *, secure: bool) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=name == SESSION_COOKIE, samesite="lax")
