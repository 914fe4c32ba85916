"""Turning a bearer credential into a Scope: the tenant, who is asking and their live grants.

Runs on every request and reads the database each time (no cache), so a revoked key, an ended
session, a disabled user or an expired grant stops working at once.
"""

from __future__ import annotations

import hmac
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.access.grants import load_grants
from supplyline.access.keys import digest
from supplyline.access.people import SESSION_RE
from supplyline.access.tables import access_api_key, access_session, access_user
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Unauthorized
from supplyline.kernel.scope import PrincipalKind, Scope
from supplyline.resources import VisibilityRules

TOKEN_RE = re.compile(r"^sl_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
PLATFORM_ROLE = "platform_admin"


async def authenticate(
    conn: AsyncConnection, token: str, admin_token: str | None, *, rules: VisibilityRules
) -> Scope:
    """The caller's Scope, or Unauthorized with a reason the caller can act on. ``rules``
    interpret its grants in every query (``supplyline.resources.scoped``)."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Scope.platform()
    if token.startswith("sls_"):
        return await _session(conn, token, rules)
    match = TOKEN_RE.match(token)
    if match is None:
        raise Unauthorized("malformed API key")
    row = (await conn.execute(_keys().where(access_api_key.c.prefix == match[1]))).mappings().first()
    if row is None or not hmac.compare_digest(row["secret_hash"], digest(token)):
        raise Unauthorized("unknown API key")
    now = utcnow()
    refused = _key_refused(row, now)
    if refused:
        raise Unauthorized(f"API key {refused}")
    if row["role"] == PLATFORM_ROLE:
        return Scope.platform(row["name"])
    return await _key_scope(conn, row, now, rules)


def _keys() -> Select[Any]:
    k = access_api_key
    return select(
        k, registry.organization_kind_of(k.c.tenant_id, k.c.organization_id).label("organization_kind")
    )


def _key_refused(row: Any, now: datetime) -> str | None:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return "expired"
    return None


async def _key_scope(conn: AsyncConnection, row: Any, now: datetime, rules: VisibilityRules) -> Scope:
    grants = await load_grants(
        conn,
        row["tenant_id"],
        api_key_id=row["id"],
        base_role=row["role"],
        organization_id=row["organization_id"],
        organization_kind=row["organization_kind"],
        now=now,
    )
    return Scope(
        row["tenant_id"],
        grants,
        row["id"],
        row["name"],
        PrincipalKind.API_KEY,
        row["organization_id"],
        visibility=rules,
    )


async def _user_scope(conn: AsyncConnection, row: Any, now: datetime, rules: VisibilityRules) -> Scope:
    """``row``: tenant_id, user_id, email, organization_id, organization_kind."""
    grants = await load_grants(
        conn,
        row["tenant_id"],
        user_id=row["user_id"],
        organization_id=row["organization_id"],
        organization_kind=row["organization_kind"],
        now=now,
    )
    return Scope(
        row["tenant_id"],
        grants,
        row["user_id"],
        row["email"],
        PrincipalKind.USER,
        row["organization_id"],
        visibility=rules,
    )


def _users() -> Select[Any]:
    u = access_user
    kind = registry.organization_kind_of(u.c.tenant_id, u.c.organization_id).label("organization_kind")
    return select(u.c.id.label("user_id"), u.c.email, u.c.organization_id, u.c.disabled_at, kind)


async def _session(conn: AsyncConnection, token: str, rules: VisibilityRules) -> Scope:
    match = SESSION_RE.match(token)
    if match is None:
        raise Unauthorized("malformed session token")
    s, u = access_session, access_user
    stmt = (
        _users()
        .add_columns(s.c.tenant_id, s.c.secret_hash, s.c.expires_at, s.c.revoked_at)
        .join(s, s.c.user_id == u.c.id)
        .where(s.c.prefix == match[1])
    )
    row = (await conn.execute(stmt)).mappings().first()
    if row is None or not hmac.compare_digest(row["secret_hash"], digest(token)):
        raise Unauthorized("unknown session")
    now = utcnow()
    if row["revoked_at"] is not None or row["disabled_at"] is not None:
        raise Unauthorized("session ended; log in again")
    if row["expires_at"] <= now:
        raise Unauthorized("session expired; log in again")
    return await _user_scope(conn, row, now, rules)


async def scope_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    api_key_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    rules: VisibilityRules,
) -> Scope | None:
    """The Scope a key or user has now, as if it sent a request (None: it may no longer act:
    revoked, expired, disabled). What a subscription's deliveries are filtered with."""
    now = utcnow()
    if api_key_id is not None:
        k = access_api_key
        stmt = _keys().where(k.c.id == api_key_id, k.c.tenant_id == tenant_id)
        key = (await conn.execute(stmt)).mappings().first()
        if key is None or _key_refused(key, now) or key["role"] == PLATFORM_ROLE:
            return None
        return await _key_scope(conn, key, now, rules)
    u = access_user
    user = (
        (await conn.execute(_users().where(u.c.id == user_id, u.c.tenant_id == tenant_id))).mappings().first()
    )
    if user is None or user["disabled_at"] is not None:
        return None
    return await _user_scope(conn, {**user, "tenant_id": tenant_id}, now, rules)
