"""One service for every tenant resource: create, get, list, update, archive, bulk create.

Each write checks references (same tenant, not archived), natural keys and the spec's own
rules before touching a row, and publishes its event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import by_id, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, FieldError, Invalid, NotFound, PreconditionFailed
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources.catalog import ResourceCatalog
from supplyline.resources.guards import check_commercial, check_reach, shown
from supplyline.resources.scoping import scoped
from supplyline.resources.spec import Ref, ResourceSpec

BASE_FIELDS = ("id", "tenant_id", "created_at", "updated_at", "archived_at", "version")

# Runs before new records of a resource are inserted: (conn, tenant, how many are being added,
# how many live ones the tenant has) -> raises to refuse them all (a quota on devices).
CreateGuard = Callable[[AsyncConnection, uuid.UUID, int, Callable[[], Awaitable[int]]], Awaitable[None]]


def validation_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"] if p != "__root__")
        out.append(FieldError(f"{prefix}{path}" or prefix.rstrip(".") or "body", err["msg"]))
    return out


class ResourceService:
    def __init__(self, catalog: ResourceCatalog, guards: Mapping[str, CreateGuard] | None = None) -> None:
        self.catalog = catalog
        self.guards = dict(guards or {})

    # ---- reads -------------------------------------------------------------------------------

    async def get(
        self, conn: AsyncConnection, scope: Scope, name: str, id_: uuid.UUID | str
    ) -> dict[str, Any]:
        scope.require(name)
        spec = self.catalog[name]
        row = await self._row(conn, scope, spec, id_)
        return shown(scope, spec, (await self._render(conn, spec, [row]))[0])

    async def list_page(
        self,
        conn: AsyncConnection,
        scope: Scope,
        name: str,
        *,
        filters: Mapping[str, Any] | None = None,
        ids: Sequence[uuid.UUID] | None = None,
        cursor: str | None = None,
        limit: int = 50,
        include_archived: bool = False,
    ) -> Page[dict[str, Any]]:
        """One page of the records the caller reaches; ``ids``: only these (the names a view
        shows, read in one request rather than one each)."""
        scope.require(name)
        spec = self.catalog[name]
        t = spec.table
        stmt = scoped(select(t), t, scope)
        for key, value in (filters or {}).items():
            stmt = stmt.where(t.c[key] == value)
        if ids is not None:
            stmt = stmt.where(t.c.id.in_(list(ids)))
        if not include_archived:
            stmt = stmt.where(t.c.archived_at.is_(None))
        found = await page(conn, stmt, by_id(t, spec.name), cursor, limit)
        items = [shown(scope, spec, rec) for rec in await self._render(conn, spec, found.items)]
        return Page(items, found.next_cursor)

    def parse_filters(self, name: str, raw: Mapping[str, str]) -> dict[str, Any]:
        """Turn query-string filters into typed values, naming any bad or unknown one."""
        spec = self.catalog[name]
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in spec.filters:
                allowed = ", ".join(spec.filters) or "none"
                raise Invalid(key, f"not a filter of {spec.name} (filters: {allowed})")
            try:
                out[key] = spec.filter_value(key, value)
            except ValidationError as exc:
                raise Invalid(key, exc.errors()[0]["msg"]) from None
        return out

    # ---- writes ------------------------------------------------------------------------------

    async def create(
        self, uow: UnitOfWork, scope: Scope, name: str, payload: BaseModel | Mapping[str, Any]
    ) -> dict[str, Any]:
        return (await self.create_many(uow, scope, name, [payload]))[0]

    async def create_many(
        self,
        uow: UnitOfWork,
        scope: Scope,
        name: str,
        payloads: Sequence[BaseModel | Mapping[str, Any]],
        *,
        ids: Sequence[uuid.UUID] | None = None,
    ) -> list[dict[str, Any]]:
        """Insert many records of one kind in one statement; any bad row refuses them all."""
        scope.require(name, Action.WRITE)
        tenant_id = scope.require_tenant()
        spec = self.catalog[name]
        values = [
            self._coerce(spec, p, prefix=f"{i}." if len(payloads) > 1 else "") for i, p in enumerate(payloads)
        ]
        check_commercial(scope, spec, values)
        new_ids = list(ids) if ids is not None else [new_id() for _ in values]
        errors: list[FieldError] = []
        errors += await self._check_refs(uow.conn, scope, spec.refs, values, {spec.name: new_ids})
        for child in spec.children:
            child_rows = [
                (i, f"{child.field}.{j}.", c)
                for i, v in enumerate(values)
                for j, c in enumerate(v[child.field])
            ]
            errors += await self._check_child_refs(uow.conn, scope, child.refs, child_rows, len(values))
        taken = await self._check_unique(uow.conn, scope, spec, values, None)
        if spec.validate is not None:
            found = await spec.validate(uow.conn, scope, values, [None] * len(values))
            multi = len(values) > 1
            errors += [FieldError(f"{i}.{e.field}" if multi else e.field, e.reason) for i, e in found]
        _refuse(errors, taken)
        guard = self.guards.get(name)
        if guard is not None:
            await guard(uow.conn, tenant_id, len(values), lambda: self._live(uow.conn, spec, tenant_id))
        now = utcnow()
        rows = [
            {
                "id": rid,
                "tenant_id": tenant_id,
                "created_at": now,
                "updated_at": now,
                "archived_at": None,
                "version": 1,
                **{c: v[c] for c in spec.columns},
            }
            for rid, v in zip(new_ids, values, strict=True)
        ]
        await self._insert(uow.conn, spec, rows)
        for child in spec.children:
            await self._write_children(uow.conn, tenant_id, child, new_ids, values)
        await check_reach(uow.conn, scope, spec, new_ids)
        rendered = await self._render(uow.conn, spec, rows)
        for rec in rendered:
            uow.publish(self._event(spec, "created", scope, rec["id"], rec))
        return [shown(scope, spec, rec) for rec in rendered]

    async def update(
        self,
        uow: UnitOfWork,
        scope: Scope,
        name: str,
        id_: uuid.UUID | str,
        patch: BaseModel | Mapping[str, Any],
        *,
        if_version: int | None = None,
    ) -> dict[str, Any]:
        scope.require(name, Action.WRITE)
        spec = self.catalog[name]
        if isinstance(patch, BaseModel):
            changes = patch.model_dump(exclude_unset=True)
        else:
            try:
                changes = spec.update_model.model_validate(patch).model_dump(exclude_unset=True)
            except ValidationError as exc:
                raise Invalid.many(validation_errors(exc)) from None
        for key in changes:
            if key in spec.immutable:
                raise Invalid(key, "cannot be changed once set")
        check_commercial(scope, spec, [changes])
        row = await self._row(uow.conn, scope, spec, id_, for_update=True)
        id_ = row["id"]
        if if_version is not None and row["version"] != if_version:
            raise PreconditionFailed(f"{spec.entity} {id_} is at version {row['version']}, not {if_version}")
        if row["archived_at"] is not None:
            raise Conflict(f"{spec.entity} {id_} is archived and cannot change")
        before = (await self._render(uow.conn, spec, [row]))[0]
        uow.previous[f"{spec.name}/{id_}"] = before
        current = await self._current_values(uow.conn, spec, row)
        patched = {k: merge_patch(current.get(k), v) for k, v in changes.items()}
        merged = self._coerce(spec, {**current, **patched})
        changed = [k for k in changes if merged[k] != current[k]]
        if not changed:
            return shown(scope, spec, before)
        changed_refs = tuple(r for r in spec.refs if r.field in changed)
        errors = await self._check_refs(uow.conn, scope, changed_refs, [merged], {})
        for child in spec.children:
            if child.field in changed:
                rows = [(0, f"{child.field}.{j}.", c) for j, c in enumerate(merged[child.field])]
                errors += await self._check_child_refs(uow.conn, scope, child.refs, rows, 1)
        taken: list[FieldError] = []
        if any(k in changed for key in spec.natural_keys for k in key):
            taken = await self._check_unique(uow.conn, scope, spec, [merged], row["id"])
        if spec.validate is not None:
            errors += [e for _, e in await spec.validate(uow.conn, scope, [merged], [row])]
        _refuse(errors, taken)
        col_changes = {k: merged[k] for k in changed if k in spec.columns}
        new_row = {**row, **col_changes, "updated_at": utcnow(), "version": row["version"] + 1}
        t = spec.table
        await uow.conn.execute(
            update(t)
            .where(t.c.id == id_, t.c.tenant_id == row["tenant_id"])
            .values(**col_changes, updated_at=new_row["updated_at"], version=new_row["version"])
        )
        for child in spec.children:
            if child.field in changed:
                await uow.conn.execute(delete(child.table).where(child.table.c[child.parent_fk] == id_))
                await self._write_children(uow.conn, row["tenant_id"], child, [row["id"]], [merged])
        await check_reach(uow.conn, scope, spec, [row["id"]])
        rec = (await self._render(uow.conn, spec, [new_row]))[0]
        uow.publish(self._event(spec, "updated", scope, rec["id"], {"record": rec, "changed": changed}))
        return shown(scope, spec, rec)

    async def archive(self, uow: UnitOfWork, scope: Scope, name: str, id_: uuid.UUID | str) -> dict[str, Any]:
        """Archive rather than delete: history and references stay resolvable."""
        scope.require(name, Action.WRITE)
        spec = self.catalog[name]
        row = await self._row(uow.conn, scope, spec, id_, for_update=True)
        id_ = row["id"]
        if row["archived_at"] is not None:
            uow.previous[f"{spec.name}/{id_}"] = rec = (await self._render(uow.conn, spec, [row]))[0]
            return shown(scope, spec, rec)
        now = utcnow()
        new_row = {**row, "archived_at": now, "updated_at": now, "version": row["version"] + 1}
        t = spec.table
        await uow.conn.execute(
            update(t)
            .where(t.c.id == id_, t.c.tenant_id == row["tenant_id"])
            .values(archived_at=now, updated_at=now, version=new_row["version"])
        )
        # Both renders in one: archiving leaves the children as they were.
        before, rec = await self._render(uow.conn, spec, [row, new_row])
        uow.previous[f"{spec.name}/{id_}"] = before
        uow.publish(self._event(spec, "archived", scope, rec["id"], rec))
        return shown(scope, spec, rec)

    # ---- helpers -----------------------------------------------------------------------------

    async def _live(self, conn: AsyncConnection, spec: ResourceSpec, tenant_id: uuid.UUID) -> int:
        """Records of the tenant that are not archived (what a quota counts)."""
        t = spec.table
        stmt = (
            select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id, t.c.archived_at.is_(None))
        )
        return int((await conn.execute(stmt)).scalar_one())

    def _coerce(
        self, spec: ResourceSpec, payload: BaseModel | Mapping[str, Any], prefix: str = ""
    ) -> dict[str, Any]:
        try:
            model = (
                payload
                if isinstance(payload, spec.fields)
                else spec.fields.model_validate(
                    payload.model_dump() if isinstance(payload, BaseModel) else payload
                )
            )
        except ValidationError as exc:
            raise Invalid.many(validation_errors(exc, prefix)) from None
        return model.model_dump()

    async def _row(
        self,
        conn: AsyncConnection,
        scope: Scope,
        spec: ResourceSpec,
        id_: uuid.UUID | str,
        for_update: bool = False,
    ) -> dict[str, Any]:
        if not isinstance(id_, uuid.UUID):
            try:
                id_ = uuid.UUID(str(id_))
            except ValueError:
                raise NotFound(f"no {spec.entity} {id_}") from None
        action = Action.WRITE if for_update else Action.READ
        stmt = scoped(select(spec.table), spec.table, scope, action).where(spec.table.c.id == id_)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise NotFound(f"no {spec.entity} {id_}")
        return dict(row)

    async def _current_values(
        self, conn: AsyncConnection, spec: ResourceSpec, row: dict[str, Any]
    ) -> dict[str, Any]:
        values = {c: row[c] for c in spec.columns}
        children = await self._load_children(conn, spec, [row["id"]])
        for child in spec.children:
            values[child.field] = children[child.field].get(row["id"], [])
        return self._coerce(spec, values)

    async def _insert(self, conn: AsyncConnection, spec: ResourceSpec, rows: list[dict[str, Any]]) -> None:
        try:
            await conn.execute(spec.table.insert(), rows)
        except IntegrityError as exc:
            # The checks above should have caught this; a concurrent writer can still race.
            raise Conflict(f"{spec.entity}: conflicts with an existing record ({exc.orig})") from None

    async def _write_children(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        child: Any,
        parent_ids: Sequence[uuid.UUID],
        values: Sequence[dict[str, Any]],
    ) -> None:
        rows = [
            {
                "tenant_id": tenant_id,
                child.parent_fk: pid,
                "line_no": n + 1,
                **{c: item[c] for c in child.columns},
            }
            for pid, v in zip(parent_ids, values, strict=True)
            for n, item in enumerate(v[child.field])
        ]
        if rows:
            await conn.execute(child.table.insert(), rows)

    async def _load_children(
        self, conn: AsyncConnection, spec: ResourceSpec, ids: Sequence[uuid.UUID]
    ) -> dict[str, dict[uuid.UUID, list[dict[str, Any]]]]:
        out: dict[str, dict[uuid.UUID, list[dict[str, Any]]]] = {}
        for child in spec.children:
            t = child.table
            by_parent: dict[uuid.UUID, list[dict[str, Any]]] = {}
            if ids:
                stmt = (
                    select(t)
                    .where(t.c[child.parent_fk].in_(list(ids)))
                    .order_by(t.c[child.parent_fk], t.c.line_no)
                )
                for r in (await conn.execute(stmt)).mappings().all():
                    by_parent.setdefault(r[child.parent_fk], []).append({c: r[c] for c in child.columns})
            out[child.field] = by_parent
        return out

    async def _render(
        self, conn: AsyncConnection, spec: ResourceSpec, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        children = await self._load_children(conn, spec, [r["id"] for r in rows])
        out = []
        for r in rows:
            rec = {k: r[k] for k in (*BASE_FIELDS, *spec.columns)}
            for child in spec.children:
                rec[child.field] = children[child.field].get(r["id"], [])
            if spec.derive is not None:
                rec.update(spec.derive(rec))
            out.append(spec.read_model.model_validate(rec).model_dump(mode="json"))
        return out

    def _event(self, spec: ResourceSpec, kind: str, scope: Scope, id_: str, data: dict[str, Any]) -> NewEvent:
        return NewEvent(
            type=spec.event_types[kind].type,
            tenant_id=scope.tenant_id,
            subject=f"{spec.name}/{id_}",
            source=f"/supplyline/{spec.capability}",
            data=data,
            actor=scope.actor,
        )

    async def _check_refs(
        self,
        conn: AsyncConnection,
        scope: Scope,
        refs: Sequence[Ref],
        values: Sequence[dict[str, Any]],
        pending: Mapping[str, Sequence[uuid.UUID]],
    ) -> list[FieldError]:
        rows = [(i, "", v) for i, v in enumerate(values)]
        return await self._check_child_refs(conn, scope, refs, rows, len(values), pending)

    async def _check_child_refs(
        self,
        conn: AsyncConnection,
        scope: Scope,
        refs: Sequence[Ref],
        rows: Sequence[tuple[int, str, dict[str, Any]]],
        n_parents: int,
        pending: Mapping[str, Sequence[uuid.UUID]] | None = None,
    ) -> list[FieldError]:
        """Check every reference of every row with one query per target resource."""
        errors: list[FieldError] = []
        for ref in refs:
            wanted = {v[ref.field] for _, _, v in rows if v.get(ref.field) is not None}
            if not wanted:
                continue
            target = self.catalog[ref.target]
            t = target.table
            found: dict[uuid.UUID, Any] = {}
            ids = list(wanted)
            for start in range(0, len(ids), 500):
                stmt = scoped(select(t.c.id, t.c.archived_at), t, scope).where(
                    t.c.id.in_(ids[start : start + 500])
                )
                found.update({r.id: r.archived_at for r in await conn.execute(stmt)})
            in_batch = set((pending or {}).get(ref.target, ()))
            for i, path, v in rows:
                value = v.get(ref.field)
                if value is None or value in in_batch:
                    continue
                pre = f"{i}." if n_parents > 1 else ""
                if value not in found:
                    errors.append(
                        FieldError(f"{pre}{path}{ref.field}", f"no {target.entity} {value} in this tenant")
                    )
                elif ref.refuse_archived and found[value] is not None:
                    errors.append(
                        FieldError(f"{pre}{path}{ref.field}", f"{target.entity} {value} is archived")
                    )
        return errors

    async def _check_unique(
        self,
        conn: AsyncConnection,
        scope: Scope,
        spec: ResourceSpec,
        values: Sequence[dict[str, Any]],
        exclude: uuid.UUID | None,
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        t = spec.table
        multi = len(values) > 1
        for key in spec.natural_keys:
            seen: dict[tuple[Any, ...], int] = {}
            tuples = []
            for i, v in enumerate(values):
                k = tuple(v[c] for c in key)
                if any(x is None for x in k):
                    continue
                field = f"{i}.{key[-1]}" if multi else key[-1]
                if k in seen:
                    errors.append(FieldError(field, f"duplicate of item {seen[k]} ({_show(key, k)})"))
                    continue
                seen[k] = i
                tuples.append(k)
            for start in range(0, len(tuples), 300):
                chunk = tuples[start : start + 300]
                cols = [t.c[c] for c in key]
                cond = cols[0].in_([k[0] for k in chunk]) if len(key) == 1 else tuple_(*cols).in_(chunk)
                stmt = scoped(select(t.c.id, *cols), t, scope).where(cond)
                if exclude is not None:
                    stmt = stmt.where(t.c.id != exclude)
                for r in (await conn.execute(stmt)).mappings().all():
                    k = tuple(r[c] for c in key)
                    i = seen[k]
                    field = f"{i}.{key[-1]}" if multi else key[-1]
                    errors.append(FieldError(field, f"{spec.entity} {r['id']} already has {_show(key, k)}"))
        return errors


def _refuse(errors: list[FieldError], taken: list[FieldError]) -> None:
    """Invalid input is a 422 (naming the taken keys too); a taken natural key alone is a 409."""
    if errors:
        raise Invalid.many(errors + taken)
    if taken:
        raise Conflict(f"{taken[0].field}: {taken[0].reason}", taken)


def merge_patch(current: Any, change: Any) -> Any:
    """JSON merge patch (RFC 7396) below the top level: objects merge key by key, null removes.

    A top-level null still means "set to null", so a required field cannot be removed silently.
    """
    if not isinstance(change, dict) or not isinstance(current, dict):
        return change
    out = dict(current)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _show(key: tuple[str, ...], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(key, values, strict=True))
