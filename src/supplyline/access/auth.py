"""Turning a bearer credential into a Scope: the tenant, who is asking and their live grants.

Runs on every request and reads the database each time (no cache), so a revoked key, an ended
session, a disabled user or an expired grant stops working at once.
"""

from __future__ import annotations

import hmac
import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.access.grants import load_grants
from supplyline.access.keys import digest
from supplyline.access.people import SESSION_RE
from supplyline.access.tables import access_api_key, access_session, access_user
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Unauthorized
from supplyline.kernel.scope import PrincipalKind, Scope

TOKEN_RE = re.compile(r"^sl_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
PLATFORM_ROLE = "platform_admin"


async def authenticate(conn: AsyncConnection, token: str, admin_token: str | None) -> Scope:
    """The caller's Scope, or Unauthorized with a reason the caller can act on."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Scope.platform()
    if token.startswith("sls_"):
        return await _session(conn, token)
    match = TOKEN_RE.match(token)
    if match is None:
        raise Unauthorized("malformed API key")
    k = access_api_key
    kind = registry.organization_kind_of(k.c.tenant_id, k.c.organization_id).label("organization_kind")
    row = (await conn.execute(select(k, kind).where(k.c.prefix == match[1]))).mappings().first()
    if row is None or not hmac.compare_digest(row["secret_hash"], digest(token)):
        raise Unauthorized("unknown API key")
    now = utcnow()
    if row["revoked_at"] is not None:
        raise Unauthorized("API key revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise Unauthorized("API key expired")
    if row["role"] == PLATFORM_ROLE:
        return Scope.platform(row["name"])
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
        tenant_id=row["tenant_id"],
        grants=grants,
        principal_id=row["id"],
        principal_name=row["name"],
        principal_kind=PrincipalKind.API_KEY,
        organization_id=row["organization_id"],
    )


async def _session(conn: AsyncConnection, token: str) -> Scope:
    match = SESSION_RE.match(token)
    if match is None:
        raise Unauthorized("malformed session token")
    s, u = access_session, access_user
    kind = registry.organization_kind_of(u.c.tenant_id, u.c.organization_id).label("organization_kind")
    row = (
        (
            await conn.execute(
                select(s, u.c.email, u.c.organization_id, u.c.disabled_at, kind)
                .join(u, u.c.id == s.c.user_id)
                .where(s.c.prefix == match[1])
            )
        )
        .mappings()
        .first()
    )
    if row is None or not hmac.compare_digest(row["secret_hash"], digest(token)):
        raise Unauthorized("unknown session")
    now = utcnow()
    if row["revoked_at"] is not None or row["disabled_at"] is not None:
        raise Unauthorized("session ended; log in again")
    if row["expires_at"] <= now:
        raise Unauthorized("session expired; log in again")
    grants = await load_grants(
        conn,
        row["tenant_id"],
        user_id=row["user_id"],
        organization_id=row["organization_id"],
        organization_kind=row["organization_kind"],
        now=now,
    )
    return Scope(
        tenant_id=row["tenant_id"],
        grants=grants,
        principal_id=row["user_id"],
        principal_name=row["email"],
        principal_kind=PrincipalKind.USER,
        organization_id=row["organization_id"],
    )


async def scope_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    api_key_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> Scope | None:
    """The Scope a key or user has now, as if it sent a request (None: it may no longer act:
    revoked, expired, disabled). What a subscription's deliveries are filtered with."""
    now = utcnow()
    if api_key_id is not None:
        k = access_api_key
        row = (
            (await conn.execute(select(k).where(k.c.id == api_key_id, k.c.tenant_id == tenant_id)))
            .mappings()
            .first()
        )
        if row is None or row["revoked_at"] is not None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return None
        grants = await load_grants(
            conn,
            tenant_id,
            api_key_id=api_key_id,
            base_role=row["role"],
            organization_id=row["organization_id"],
            now=now,
        )
        kind, name, org = PrincipalKind.API_KEY, row["name"], row["organization_id"]
    else:
        u = access_user
        row = (
            (await conn.execute(select(u).where(u.c.id == user_id, u.c.tenant_id == tenant_id)))
            .mappings()
            .first()
        )
        if row is None or row["disabled_at"] is not None:
            return None
        grants = await load_grants(
            conn, tenant_id, user_id=user_id, organization_id=row["organization_id"], now=now
        )
        kind, name, org = PrincipalKind.USER, row["email"], row["organization_id"]
    principal = api_key_id if api_key_id is not None else user_id
    return Scope(tenant_id, grants, principal, name, kind, org)
