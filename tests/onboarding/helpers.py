"""Helpers for onboarding tests: what is in the tenant, and how to run an import."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from supplyline.bootstrap import Services
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.scope import Scope
from supplyline.onboarding import ImportReport, document_from_json, import_document, importable, load_document


async def table_counts(svc: Services, tenant_id: uuid.UUID) -> dict[str, int]:
    """Rows per importable section in the tenant, including empty ones."""
    out = {}
    async with svc.read_engine.connect() as conn:
        for name, section in importable(svc.catalog).items():
            t = section.spec.table
            stmt = select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)
            out[name] = int((await conn.execute(stmt)).scalar_one())
    return out


async def event_count(svc: Services, tenant_id: uuid.UUID) -> int:
    t = eventlog_event
    async with svc.read_engine.connect() as conn:
        stmt = select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)
        return int((await conn.execute(stmt)).scalar_one())


async def run_import(svc: Services, scope: Scope, document: dict[str, Any]) -> ImportReport:
    return await import_document(svc.uow, svc.resources, scope, document_from_json(document))


async def run_file(svc: Services, scope: Scope, path: Path, **kw: Any) -> ImportReport:
    return await import_document(svc.uow, svc.resources, scope, load_document(path, **kw))


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path
