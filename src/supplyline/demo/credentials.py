"""The demo tenant's admin key, kept in the data dir so that re-runs show the same one and
``supplyline simulate`` finds it without being told."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.demo.facts import ACTOR, CARRIER, CREDENTIALS_FILE
from supplyline.demo.logins import DemoLogin, demo_logins
from supplyline.demo.seed import DemoInfo, seed_demo
from supplyline.demo.story import DemoError
from supplyline.kernel.errors import Unauthorized
from supplyline.kernel.scope import Scope


async def demo_api_key(services: Services, info: DemoInfo, path: Path) -> str:
    """The admin key stored at ``path`` if it still works for this tenant, else a new one (saved)."""
    stored = _read(path)
    if stored.get("tenant_id") == str(info.tenant_id) and await _works(services, stored.get("api_key"), info):
        return str(stored["api_key"])
    token = info.first_key
    if token is None:
        async with services.uow() as uow:
            created = await access.create_api_key(
                uow, Scope.system(info.tenant_id, ACTOR), "demo admin", "tenant_admin"
            )
            await uow.commit()
        token = created.token
    _write(path, {**stored, "tenant": info.slug, "tenant_id": str(info.tenant_id), "api_key": token})
    return token


async def _works(services: Services, token: Any, info: DemoInfo) -> bool:
    if not isinstance(token, str):
        return False
    async with services.engine.connect() as conn:
        try:
            scope = await access.authenticate(conn, token, None, rules=services.visibility)
        except Unauthorized:
            return False
    return scope.tenant_id == info.tenant_id


def credentials_path(data_dir: Path) -> Path:
    return data_dir / CREDENTIALS_FILE


def saved_credentials(data_dir: Path) -> dict[str, Any]:
    """The tenant slug and key a demo run saved in ``data_dir``; empty without a key there."""
    data = _read(credentials_path(data_dir))
    return data if isinstance(data.get("api_key"), str) else {}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write the secret readable by its owner only (0600), replacing any older file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


async def ready_tenant(services: Services, data_dir: Path) -> tuple[DemoInfo, str]:
    """The demo tenant (seeded now or reused) and a working admin key, saved in ``data_dir``."""
    info = await seed_demo(services)
    path = credentials_path(data_dir)
    try:
        return info, await demo_api_key(services, info, path)
    except OSError as exc:
        raise DemoError(f"cannot save the demo credentials in {path}: {exc}") from None


async def ready_logins(services: Services, info: DemoInfo, data_dir: Path) -> list[DemoLogin]:
    """The console's demo people (one per role) with working passwords, saved in ``data_dir``
    beside the admin key (after ``ready_tenant``)."""
    path = credentials_path(data_dir)
    stored = _read(path)
    mine = stored if stored.get("tenant_id") == str(info.tenant_id) else {}
    logins = await demo_logins(services, info.tenant_id, mine, await _carrier(services, info))
    try:
        _write(path, {**stored, "logins": [vars(login) for login in logins]})
    except OSError as exc:
        raise DemoError(f"cannot save the demo credentials in {path}: {exc}") from None
    return logins


async def _carrier(services: Services, info: DemoInfo) -> uuid.UUID | None:
    async with services.engine.connect() as conn:
        page = await services.resources.list_page(
            conn, Scope.system(info.tenant_id, ACTOR), "organizations", limit=500
        )
    return next((uuid.UUID(str(o["id"])) for o in page.items if o.get("code") == CARRIER), None)
