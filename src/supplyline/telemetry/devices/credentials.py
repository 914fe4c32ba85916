"""Device credentials: an access token (stored hashed) and an HMAC signing secret.

The signing secret must be read back to verify signatures, so it is stored encrypted with the
server key rather than hashed. Rotation issues a new credential and lets the old one work for
an overlap window, so devices in the field can move over without a gap.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline import registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound, Unauthorized
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import scoped
from supplyline.telemetry.events import CREDENTIAL_ISSUED, CREDENTIAL_REVOKED
from supplyline.telemetry.tables import telemetry_credential

TOKEN_RE = re.compile(r"^sld_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


class SecretBox:
    """Encrypts signing secrets at rest with the server key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, secret_key: str | None, data_dir: Path) -> SecretBox:
        if secret_key:
            return cls(secret_key.encode())
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secret: bytes) -> bytes:
        return self._fernet.encrypt(secret)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise RuntimeError("a device secret does not decrypt: SUPPLYLINE_SECRET_KEY changed?") from None


@dataclass(frozen=True)
class IssuedCredential:
    id: uuid.UUID
    device_id: uuid.UUID
    token: str  # shown once
    secret: str  # hex; shown once; the device signs with it
    created_at: datetime


@dataclass(frozen=True)
class CredentialView:
    id: uuid.UUID
    device_id: uuid.UUID
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class DeviceIdentity:
    """Who sent a message: the device (or gateway) and the secrets it may sign with."""

    tenant_id: uuid.UUID
    device_id: uuid.UUID
    code: str
    kind: str
    secrets: tuple[bytes, ...]
    valid_until: float | None = None  # epoch seconds when the first of these secrets expires

    def signed(self, body: bytes, signature: str | None) -> bool:
        if not signature:
            return False
        try:
            given = bytes.fromhex(signature.removeprefix("sha256=").strip())
        except ValueError:
            return False
        # hmac.digest is the one-shot C implementation: a few times faster than hmac.new.
        return any(hmac.compare_digest(hmac.digest(s, body, "sha256"), given) for s in self.secrets)

    def expired(self, now: float) -> bool:
        return self.valid_until is not None and now >= self.valid_until


def sign(secret: bytes | str, body: bytes) -> str:
    """The signature a device sends: ``sha256=<hex HMAC-SHA256 of the exact payload bytes>``."""
    key = bytes.fromhex(secret) if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def _device(conn: AsyncConnection, scope: Scope, device_id: uuid.UUID | str) -> Any:
    """The scope's device, given its id as a UUID or as the string records carry."""
    try:
        device_id = uuid.UUID(str(device_id))
    except ValueError:
        raise NotFound(f"no device {device_id}") from None
    row = await registry.get_device(conn, scope, device_id)
    if row is None:
        raise NotFound(f"no device {device_id}")
    return row


async def issue_credential(
    uow: UnitOfWork, scope: Scope, device_id: uuid.UUID, box: SecretBox, *, overlap: timedelta
) -> IssuedCredential:
    """A new credential; credentials already active keep working for ``overlap``, then stop."""
    scope.require("devices", Action.WRITE)
    device = await _device(uow.conn, scope, device_id)
    device_id = device["id"]
    if device["archived_at"] is not None or device["status"] == "retired":
        raise Invalid("device_id", "the device is archived or retired")
    now = utcnow()
    t = telemetry_credential
    await uow.conn.execute(
        update(t)
        .where(
            t.c.device_id == device_id,
            t.c.revoked_at.is_(None),
            or_(t.c.expires_at.is_(None), t.c.expires_at > now + overlap),
        )
        .values(expires_at=now + overlap)
    )
    prefix = secrets.token_hex(6)
    token = f"sld_{prefix}_{secrets.token_urlsafe(32)}"
    secret = secrets.token_bytes(32)
    cred_id = new_id()
    await uow.conn.execute(
        t.insert().values(
            id=cred_id,
            tenant_id=device["tenant_id"],
            device_id=device_id,
            prefix=prefix,
            token_hash=_hash(token),
            secret_enc=box.seal(secret),
            created_at=now,
            expires_at=None,
            revoked_at=None,
        )
    )
    uow.publish(
        NewEvent(
            type=CREDENTIAL_ISSUED.type,
            tenant_id=device["tenant_id"],
            subject=f"devices/{device_id}",
            source="/supplyline/telemetry",
            data={
                "device_id": str(device_id),
                "credential_id": str(cred_id),
                "prefix": prefix,
                "previous_expire_at": (now + overlap).isoformat(),
            },
        )
    )
    return IssuedCredential(cred_id, device_id, token, secret.hex(), now)


async def revoke_credentials(uow: UnitOfWork, scope: Scope, device_id: uuid.UUID) -> int:
    """Revoke every credential of a device at once; messages signed with them are refused."""
    scope.require("devices", Action.WRITE)
    device = await _device(uow.conn, scope, device_id)
    device_id = device["id"]
    t = telemetry_credential
    result = await uow.conn.execute(
        update(t).where(t.c.device_id == device_id, t.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    count = int(result.rowcount or 0)
    uow.publish(
        NewEvent(
            type=CREDENTIAL_REVOKED.type,
            tenant_id=device["tenant_id"],
            subject=f"devices/{device_id}",
            source="/supplyline/telemetry",
            data={"device_id": str(device_id), "revoked": count},
        )
    )
    return count


async def list_credentials(conn: AsyncConnection, scope: Scope, device_id: uuid.UUID) -> list[CredentialView]:
    scope.require("devices")
    await _device(conn, scope, device_id)
    t = telemetry_credential
    rows = await conn.execute(scoped(select(t), t, scope).where(t.c.device_id == device_id).order_by(t.c.id))
    return [
        CredentialView(r.id, r.device_id, r.prefix, r.created_at, r.expires_at, r.revoked_at) for r in rows
    ]


class Credentials:
    """The hot-path view: token or (tenant, device code) -> identity, cached.

    The cache costs nothing per message: every ``ttl`` seconds one background query finds the
    devices whose credentials or records changed since the last look (another process issued,
    rotated or revoked a credential, retired a device), and only those are dropped and read
    again. A secret that reaches its expiry stops working at that moment, without a query.
    Revocation through this process invalidates the cache at once.
    """

    def __init__(self, engine: AsyncEngine, box: SecretBox, ttl: float = 2.0) -> None:
        self.engine = engine
        self.box = box
        self.ttl = ttl
        self._by_prefix: dict[str, tuple[bytes, DeviceIdentity]] = {}
        self._by_device: dict[tuple[uuid.UUID, str], tuple[float, DeviceIdentity | None]] = {}
        self._opened: dict[bytes, bytes] = {}  # sealed -> secret: a credential's secret never changes
        # One load per prefix at a time: a burst of requests from a new device waits for it.
        self._loading: dict[str, asyncio.Future[tuple[bytes, DeviceIdentity] | None]] = {}
        self._swept_at = time.monotonic()
        self._since = utcnow()
        self._sweeping: asyncio.Task[None] | None = None

    def invalidate(self) -> None:
        self._by_prefix.clear()
        self._by_device.clear()

    async def identify(self, token: str) -> DeviceIdentity:
        match = TOKEN_RE.match(token)
        if match is None:
            raise Unauthorized("malformed device token")
        prefix = match[1]
        self._sweep_soon()
        hit = self._by_prefix.get(prefix)
        if hit is None or hit[1].expired(time.time()):
            loaded = await self._load_once(prefix)
            if loaded is None:
                raise Unauthorized("unknown device token")
            hit = self._by_prefix[prefix] = loaded
        if not hmac.compare_digest(hit[0], _hash(token)):
            raise Unauthorized("unknown device token")
        return hit[1]  # with no secrets when revoked or expired: the caller counts and refuses

    async def for_device(self, tenant_id: uuid.UUID, code: str) -> DeviceIdentity | None:
        """The identity of a device named on a topic (MQTT), or None if it has no live credential.

        A device not found is looked up again once that answer is older than ``ttl``."""
        self._sweep_soon()
        key = (tenant_id, code)
        hit = self._by_device.get(key)
        if (
            hit is None
            or (hit[1] is None and time.monotonic() - hit[0] > self.ttl)
            or (hit[1] is not None and hit[1].expired(time.time()))
        ):
            hit = self._by_device[key] = (time.monotonic(), await self._load_device(tenant_id, code))
        identity = hit[1]
        return identity if identity is not None and identity.secrets else None

    # ---- keeping the cache true ---------------------------------------------------------------

    def _sweep_soon(self) -> None:
        if time.monotonic() - self._swept_at < self.ttl:
            return
        if self._sweeping is None or self._sweeping.done():
            self._swept_at = time.monotonic()
            self._sweeping = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Read again, in two queries, the identities of held devices that changed since the
        last sweep; messages meanwhile use what is cached and never wait for it."""
        # A change committed a little after it was stamped is still caught: look back further.
        since, started = self._since - timedelta(seconds=5 + self.ttl), utcnow()
        t = telemetry_credential
        held = self._held_devices()
        try:
            async with self.engine.connect() as conn:
                creds = select(t.c.device_id).where(or_(t.c.created_at > since, t.c.revoked_at > since))
                among = held if len(held) <= 500 else None  # after a bulk import, not every new device
                if among is not None:
                    creds = creds.where(t.c.device_id.in_(among))
                changed = {r.device_id for r in await conn.execute(creds)}
                changed |= await registry.devices_changed_since(conn, since, among)
                changed &= set(held)
                fresh = await self._identities(conn, list(changed)) if changed else {}
        except Exception:
            return  # keep serving what is cached; the next sweep looks back from the same point
        self._since = started
        for prefix, (token_hash, identity) in list(self._by_prefix.items()):
            if identity.device_id in changed:
                now = fresh.get(identity.device_id)
                if now is None:
                    self._by_prefix.pop(prefix, None)
                else:
                    self._by_prefix[prefix] = (token_hash, now)
        for key, (at, found) in list(self._by_device.items()):
            if found is not None and found.device_id in changed:
                self._by_device[key] = (at, fresh.get(found.device_id))

    def _held_devices(self) -> list[uuid.UUID]:
        held = {identity.device_id for _, identity in self._by_prefix.values()}
        held.update(found.device_id for _, found in self._by_device.values() if found is not None)
        return list(held)

    # ---- loading --------------------------------------------------------------------------------

    async def _load_once(self, prefix: str) -> tuple[bytes, DeviceIdentity] | None:
        pending = self._loading.get(prefix)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[tuple[bytes, DeviceIdentity] | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._loading[prefix] = future
        try:
            loaded = await self._load_token(prefix)
            future.set_result(loaded)
            return loaded
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            del self._loading[prefix]

    async def _load_token(self, prefix: str) -> tuple[bytes, DeviceIdentity] | None:
        t = telemetry_credential
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(t.c.device_id, t.c.token_hash).where(t.c.prefix == prefix))
            ).first()
            if row is None:
                return None
            identity = (await self._identities(conn, [row.device_id]))[row.device_id]
        return row.token_hash, identity

    async def _load_device(self, tenant_id: uuid.UUID, code: str) -> DeviceIdentity | None:
        async with self.engine.connect() as conn:
            device = await registry.device_by_code(conn, tenant_id, code)
            return None if device is None else (await self._identities(conn, [device["id"]]))[device["id"]]

    async def _identities(
        self, conn: AsyncConnection, device_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, DeviceIdentity]:
        """Identities of these devices (absent: no such device), 500 at a time."""
        t, now = telemetry_credential, utcnow()
        out: dict[uuid.UUID, DeviceIdentity] = {}
        for start in range(0, len(device_ids), 500):
            ids = device_ids[start : start + 500]
            devices = await registry.device_rows(conn, ids)
            live: dict[uuid.UUID, list[Any]] = {}
            rows = await conn.execute(
                select(t.c.device_id, t.c.secret_enc, t.c.expires_at).where(
                    t.c.device_id.in_(ids),
                    t.c.revoked_at.is_(None),
                    or_(t.c.expires_at.is_(None), t.c.expires_at > now),
                )
            )
            for r in rows:
                live.setdefault(r.device_id, []).append(r)
            for device in devices:
                usable = device["archived_at"] is None and device["status"] != "retired"
                creds = live.get(device["id"], []) if usable else []
                expiries = [r.expires_at.timestamp() for r in creds if r.expires_at is not None]
                out[device["id"]] = DeviceIdentity(
                    device["tenant_id"],
                    device["id"],
                    device["code"],
                    device["kind"],
                    tuple(self._open(r.secret_enc) for r in creds),
                    min(expiries) if expiries else None,
                )
        return out

    def _open(self, sealed: bytes) -> bytes:
        secret = self._opened.get(sealed)
        if secret is None:
            secret = self._opened[sealed] = self.box.open(sealed)
        return secret
