"""The demo's console logins: one person per role, with passwords only the demo prints.

The passwords are made up on the run that creates (or first finds without saved passwords)
the people and kept beside the admin key in the data dir (0600), so re-runs show the same
ones; none is written in the repository.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.demo.facts import ACTOR, DEMO_LOGINS
from supplyline.kernel.scope import Scope


@dataclass(frozen=True)
class DemoLogin:
    role: str  # as the demo names it: operator, quality, planner, carrier
    email: str
    password: str
    grants: str  # the access model's role it holds, and over what


async def demo_logins(
    services: Services, tenant_id: uuid.UUID, stored: dict[str, Any], carrier_id: uuid.UUID | None
) -> list[DemoLogin]:
    """The demo people with working passwords: the ``stored`` ones when every person has one,
    otherwise each person created (or given a new password) now."""
    saved = {p.get("email"): p.get("password") for p in stored.get("logins", []) if isinstance(p, dict)}
    if all(isinstance(saved.get(email), str) for _, email, _ in DEMO_LOGINS):
        existing = await _users(services, tenant_id)
        if all(email in existing for _, email, _ in DEMO_LOGINS):
            return [_login(role, email, granted, str(saved[email])) for role, email, granted in DEMO_LOGINS]
    return await _create(services, tenant_id, carrier_id)


def _login(role: str, email: str, granted: str, password: str) -> DemoLogin:
    over = "the carrier's shipments" if role == "carrier" else "the whole tenant"
    return DemoLogin(role, email, password, f"{granted} over {over}")


async def _users(services: Services, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    async with services.engine.connect() as conn:
        users = await access.list_users(conn, Scope.system(tenant_id, ACTOR))
    return {u["email"]: uuid.UUID(u["id"]) for u in users}


async def _create(services: Services, tenant_id: uuid.UUID, carrier_id: uuid.UUID | None) -> list[DemoLogin]:
    scope = Scope.system(tenant_id, ACTOR)
    existing = await _users(services, tenant_id)
    out = []
    async with services.uow() as uow:
        for role, email, granted in DEMO_LOGINS:
            password = secrets.token_urlsafe(12)
            org = carrier_id if role == "carrier" else None
            if email in existing:
                await access.update_user(uow, scope, existing[email], password=password)
            else:
                user = await access.create_user(uow, scope, email, role.title(), password, org)
                grant = access.AssignRole(granted, user_id=uuid.UUID(str(user["id"])), organization_id=org)
                await access.assign_role(uow, scope, grant)
            out.append(_login(role, email, granted, password))
        await uow.commit()
    return out
