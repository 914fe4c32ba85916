"""Users, their passwords and their sessions.

Passwords are hashed with argon2id (memory-hard: a leaked table does not give passwords away
cheaply); a login answers a session token that expires, and that a logout, a password change,
disabling the user or an admin's revocation ends at once (every request checks it).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.access.events import SESSIONS_REVOKED, USER_CREATED, USER_UPDATED
from supplyline.access.keys import digest
from supplyline.access.tables import access_session, access_tenant, access_user
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, FieldError, Invalid, NotFound, Unauthorized
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_RE = re.compile(r"^sls_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verified against when the user does not exist, so that a wrong e-mail costs as long as a
# wrong password and a login does not tell which users exist.
_DUMMY = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Session:
    token: str  # shown once
    expires_at: datetime
    user: dict[str, Any]


def _user_view(row: Any) -> dict[str, Any]:
    keys = ("id", "tenant_id", "organization_id", "email", "name", "created_at", "updated_at", "disabled_at")
    return jsonable({k: row[k] for k in keys})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"at least {MIN_PASSWORD} characters")


async def create_user(
    uow: UnitOfWork,
    scope: Scope,
    email: str,
    name: str,
    password: str,
    organization_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise Invalid("email", "is not an e-mail address")
    _check_password(password)
    if organization_id is not None and not await registry.existing(
        uow.conn, tenant, "organizations", [organization_id]
    ):
        raise Invalid("organization_id", "no such organisation in this tenant")
    t = access_user
    taken = await uow.conn.execute(select(t.c.id).where(t.c.tenant_id == tenant, t.c.email == email))
    if taken.first() is not None:
        raise Conflict(f"a user with e-mail '{email}' exists", [FieldError("email", "taken")])
    now = utcnow()
    row = {
        "id": new_id(),
        "tenant_id": tenant,
        "organization_id": organization_id,
        "email": email,
        "name": name.strip() or email,
        "password_hash": _hasher.hash(password),
        "created_at": now,
        "updated_at": now,
        "disabled_at": None,
    }
    await uow.conn.execute(t.insert().values(**row))
    view = _user_view(row)
    uow.publish(_event(USER_CREATED.type, tenant, f"users/{row['id']}", view, scope.actor))
    return view


async def update_user(
    uow: UnitOfWork,
    scope: Scope,
    user_id: uuid.UUID,
    *,
    name: str | None = None,
    password: str | None = None,
    disabled: bool | None = None,
) -> dict[str, Any]:
    """A password change or disabling also ends the user's sessions."""
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    row = await _user(uow.conn, tenant, user_id)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name.strip() or row["email"]
    if password is not None:
        _check_password(password)
        values["password_hash"] = _hasher.hash(password)
    if disabled is not None and disabled != (row["disabled_at"] is not None):
        values["disabled_at"] = utcnow() if disabled else None
    if not values:
        return _user_view(row)
    values["updated_at"] = utcnow()
    await uow.conn.execute(update(access_user).where(access_user.c.id == user_id).values(**values))
    view = _user_view({**row, **values})
    changed = sorted(k if k != "password_hash" else "password" for k in values if k != "updated_at")
    uow.publish(
        _event(
            USER_UPDATED.type, tenant, f"users/{user_id}", {"record": view, "changed": changed}, scope.actor
        )
    )
    if password is not None or values.get("disabled_at") is not None:
        await _end_sessions(
            uow, tenant, user_id, "password changed" if password else "user disabled", scope.actor
        )
    return view


async def revoke_sessions(uow: UnitOfWork, scope: Scope, user_id: uuid.UUID, reason: str) -> int:
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    await _user(uow.conn, tenant, user_id)
    return await _end_sessions(uow, tenant, user_id, reason or "revoked by an administrator", scope.actor)


async def _end_sessions(
    uow: UnitOfWork, tenant: uuid.UUID, user_id: uuid.UUID, reason: str, actor: str
) -> int:
    s = access_session
    live = (s.c.user_id == user_id) & s.c.revoked_at.is_(None) & (s.c.expires_at > utcnow())
    count = (await uow.conn.execute(select(func.count()).select_from(s).where(live))).scalar_one()
    await uow.conn.execute(update(s).where(live).values(revoked_at=utcnow()))
    data = {"user_id": str(user_id), "sessions": count, "reason": reason}
    uow.publish(_event(SESSIONS_REVOKED.type, tenant, f"users/{user_id}", data, actor))
    return int(count)


async def list_users(conn: AsyncConnection, scope: Scope) -> list[dict[str, Any]]:
    scope.require("access", Action.READ)
    t = access_user
    stmt = select(t).where(t.c.tenant_id == scope.require_tenant()).order_by(t.c.email)
    return [_user_view(r) for r in (await conn.execute(stmt)).mappings()]


async def get_user(conn: AsyncConnection, scope: Scope, user_id: uuid.UUID) -> dict[str, Any]:
    scope.require("access", Action.READ)
    return _user_view(await _user(conn, scope.require_tenant(), user_id))


async def _user(conn: AsyncConnection, tenant: uuid.UUID, user_id: uuid.UUID) -> Any:
    t = access_user
    row = (await conn.execute(select(t).where(t.c.tenant_id == tenant, t.c.id == user_id))).mappings().first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return row


async def login(uow: UnitOfWork, tenant_slug: str, email: str, password: str, ttl: timedelta) -> Session:
    """A session for the right password of a live user; one answer for every wrong case."""
    refused = Unauthorized("wrong tenant, e-mail or password")
    u, tn = access_user, access_tenant
    row = (
        (
            await uow.conn.execute(
                select(u)
                .join(tn, tn.c.id == u.c.tenant_id)
                .where(
                    tn.c.slug == tenant_slug, tn.c.archived_at.is_(None), u.c.email == email.strip().lower()
                )
            )
        )
        .mappings()
        .first()
    )
    try:
        _hasher.verify(row["password_hash"] if row is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    if row is None or row["disabled_at"] is not None:
        raise refused
    prefix = secrets.token_hex(6)
    token = f"sls_{prefix}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    expires = now + ttl
    await uow.conn.execute(
        access_session.insert().values(
            id=new_id(),
            tenant_id=row["tenant_id"],
            user_id=row["id"],
            prefix=prefix,
            secret_hash=digest(token),
            created_at=now,
            expires_at=expires,
            revoked_at=None,
        )
    )
    return Session(token, expires, _user_view(row))


async def logout(uow: UnitOfWork, scope: Scope, token: str) -> None:
    match = SESSION_RE.match(token)
    if match is None:
        raise Invalid("Authorization", "logout ends a session; this credential is not a session token")
    s = access_session
    await uow.conn.execute(
        update(s).where(s.c.prefix == match[1], s.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def _event(type_: str, tenant: uuid.UUID, subject: str, data: dict[str, Any], actor: str) -> NewEvent:
    return NewEvent(
        type=type_, tenant_id=tenant, subject=subject, source="/supplyline/access", data=data, actor=actor
    )
