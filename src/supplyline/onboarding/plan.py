"""Checking an import before anything is written: row shapes, references by code, duplicates.

Codes are resolved against the file first and then the tenant's records, with one query per
referenced resource and column (in chunks), never one per row. Every refused row is reported,
not only the first, and rows that are fine get the ids they will be written with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Scope
from supplyline.onboarding.document import ImportDocument, Row
from supplyline.onboarding.report import RowError
from supplyline.onboarding.sections import Section, canonical
from supplyline.resources import ResourceSpec, scoped

LOOKUP_CHUNK = 300
Key = tuple[Any, ...]


@dataclass(eq=False)
class Item:
    """One row on its way to becoming a record."""

    section: Section
    line: int
    data: dict[str, Any]  # the row in the resource's own field names, codes taken out
    id: uuid.UUID = field(default_factory=new_id)
    codes: dict[str, str] = field(default_factory=dict)  # "site_id" -> "DC-LYON"
    names: dict[str, str] = field(default_factory=dict)  # "site_id" -> "site", as the file wrote it
    resolved: dict[str, uuid.UUID] = field(default_factory=dict)
    values: dict[str, Any] | None = None  # the validated row, None when the model refused it
    failed: bool = False
    parents: list[Item] = field(default_factory=list)  # rows of the same section it refers to
    level: int = 0

    def payload(self) -> dict[str, Any]:
        return {**self.data, **self.resolved}

    def name_of(self, path: str) -> str:
        """A field path in the file's words: ``site_id`` becomes ``site`` if that is what it used."""
        head, dot, rest = path.partition(".")
        ref = self.section.by_field.get(head)
        name = self.names.get(head, ref.key if ref else head)
        return f"{name}{dot}{rest}"

    def value(self, column: str) -> Any:
        """A typed column value usable in a key or a query, or None when there is none."""
        if column in self.codes:
            return self.resolved.get(column)
        if self.values is not None:
            return self.values.get(column)
        raw = self.data.get(column)
        if column in self.section.by_field or column.endswith("_id"):
            try:
                return uuid.UUID(str(raw)) if raw is not None else None
            except ValueError:
                return None
        return raw.strip() if isinstance(raw, str) else None


class Planner:
    def __init__(self, conn: AsyncConnection, scope: Scope, sections: dict[str, Section]) -> None:
        self.conn = conn
        self.scope = scope
        self.sections = sections
        self.by_resource = {s.spec.name: s for s in sections.values()}
        self.items: dict[str, list[Item]] = {}
        self.errors: list[RowError] = []
        self._index: dict[str, dict[Key, Item]] = {}
        # Refused rows whose key is incomplete (a zone of an unknown site), by code: a reference
        # to one is not reported again as "no such zone".
        self._unkeyed: dict[str, dict[Any, Item]] = {}

    def refuse(self, item: Item, path: str, reason: str) -> None:
        item.failed = True
        self.errors.append(RowError(item.section.name, item.line, item.name_of(path), reason))

    async def plan(self, doc: ImportDocument) -> None:
        rows = self._sections(doc)
        for name, section in self.sections.items():
            if name not in rows:
                continue
            items = [self._parse(section, row) for row in rows[name]]
            await self._resolve(section, items, own=False)
            self._check_duplicates(section, items)
            await self._check_existing(section, items)
            await self._resolve(section, items, own=True)
            self._order(section, items)
            self.items[name] = items

    def _sections(self, doc: ImportDocument) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for written, rows in doc.sections.items():
            name = canonical(written, self.sections)
            if name is None:
                known = ", ".join(self.sections)
                self.errors.append(RowError(written, 0, "", f"unknown section; sections are: {known}"))
            elif name in out:
                self.errors.append(RowError(written, 0, "", f"section {name} is given twice"))
            else:
                out[name] = rows
                self._check_header(doc, written, name)
        return out

    def _check_header(self, doc: ImportDocument, written: str, name: str) -> None:
        """Report an unknown CSV column once, not on every row, and leave it out of the rows."""
        if written not in doc.headers:
            return
        line, columns = doc.headers[written]
        section = self.sections[name]
        unknown = {c.split(".")[0] for c in columns} - section.columns
        for column in sorted(unknown):
            expected = ", ".join(sorted(section.columns))
            self.errors.append(RowError(name, line, column, f"unknown column; expected one of: {expected}"))
        for row in doc.sections[written]:
            for column in unknown:
                row.data.pop(column, None)

    def _parse(self, section: Section, row: Row) -> Item:
        item = Item(section, row.line, {})
        for key, value in row.data.items():
            ref = section.by_key.get(key)
            if ref is None:
                item.data[key] = value
                if key in section.by_field:
                    item.names[key] = key
                continue
            item.names[ref.field] = key
            if ref.field in row.data:
                self.refuse(item, ref.field, f"give {key} or {ref.field}, not both")
            elif value is None:
                item.data[ref.field] = None
            elif isinstance(value, str) and value.strip():
                item.codes[ref.field] = value.strip()
            else:
                noun = _noun(self.by_resource[ref.target].spec)
                self.refuse(item, ref.field, f"expected the {ref.lookup} of {_a(noun)}")
        # Codes become ids later; distinct stand-ins keep "not the same as" rules meaningful.
        probe = {**item.data, **{f: uuid.uuid4() for f in item.codes}}
        try:
            item.values = section.spec.fields.model_validate(probe).model_dump()
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
                self.refuse(item, path, reason)
        return item

    async def _resolve(self, section: Section, items: list[Item], *, own: bool) -> None:
        for ref in (r for r in section.refs if r.is_self == own):
            target = self.by_resource[ref.target]
            wanted: dict[Key, list[Item]] = {}
            for item in items:
                code = item.codes.get(ref.field)
                if code is None:
                    continue
                context = tuple(item.value(c) for c in ref.context)
                if any(v is None for v in context):
                    if any(c in item.codes or item.data.get(c) is not None for c in ref.context):
                        continue  # the context itself was refused, and reported
                    needs = " and ".join(item.name_of(c) for c in ref.context)
                    reason = f"needs {needs} too: {_a(_noun(target.spec))} {ref.lookup} is unique per {needs}"
                    self.refuse(item, ref.field, reason)
                    continue
                found = self._index.get(target.name, {}).get((*context, code))
                if found is None:
                    wanted.setdefault((*context, code), []).append(item)
                    continue
                item.resolved[ref.field] = found.id
                if own:
                    item.parents.append(found)
            columns = (*ref.context, ref.lookup)
            existing = await self._lookup(target.spec, columns, list(wanted))
            for key, referring in wanted.items():
                hit = existing.get(key)
                for item in referring:
                    refused = self._unkeyed.get(target.name, {}).get(key[-1])
                    if hit is None and refused is not None:
                        item.resolved[ref.field] = refused.id  # a refused row: its error says it
                    elif hit is None:
                        reason = (
                            f"no {_noun(target.spec)} with {ref.lookup} '{key[-1]}' in the file or the tenant"
                        )
                        self.refuse(item, ref.field, reason)
                    elif hit[1] is not None and _refuses_archived(section.spec, ref.field):
                        self.refuse(item, ref.field, f"{_noun(target.spec)} '{key[-1]}' is archived")
                    else:
                        item.resolved[ref.field] = hit[0]

    def _keys(self, item: Item, key: tuple[str, ...]) -> Key | None:
        values = tuple(item.value(c) for c in key)
        return None if any(v is None for v in values) else values

    def _check_duplicates(self, section: Section, items: list[Item]) -> None:
        for key in section.spec.natural_keys:
            seen: dict[Key, Item] = {}
            for item in items:
                k = self._keys(item, key)
                if k is None:
                    if key == section.lookup_key and item.failed and item.value(key[-1]) is not None:
                        self._unkeyed.setdefault(section.name, {})[item.value(key[-1])] = item
                    continue
                first = seen.setdefault(k, item)
                if first is not item:
                    self.refuse(item, key[-1], f"duplicate of row {first.line} ({key[-1]} '{k[-1]}')")
            if key == section.lookup_key:
                self._index[section.name] = seen

    async def _check_existing(self, section: Section, items: list[Item]) -> None:
        """A code already in the tenant is refused: an import creates, it does not update."""
        for key in section.spec.natural_keys:
            wanted: dict[Key, Item] = {}
            for item in items:
                k = self._keys(item, key)
                if k is not None:
                    wanted.setdefault(k, item)  # later copies are already refused as duplicates
            existing = await self._lookup(section.spec, key, list(wanted))
            for k in existing:
                reason = f"{_a(_noun(section.spec))} with {key[-1]} '{k[-1]}' already exists in this tenant"
                self.refuse(wanted[k], key[-1], reason)

    async def _lookup(
        self, spec: ResourceSpec, columns: tuple[str, ...], keys: list[Key]
    ) -> dict[Key, tuple[uuid.UUID, Any]]:
        """Existing records by natural key: key -> (id, archived_at)."""
        t = spec.table
        cols = [t.c[c] for c in columns]
        found: dict[Key, tuple[uuid.UUID, Any]] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            cond = cols[0].in_([k[0] for k in chunk]) if len(cols) == 1 else tuple_(*cols).in_(chunk)
            stmt = scoped(select(t.c.id, t.c.archived_at, *cols), t, self.scope).where(cond)
            for r in (await self.conn.execute(stmt)).mappings():
                found[tuple(r[c] for c in columns)] = (r["id"], r["archived_at"])
        return found

    def _order(self, section: Section, items: list[Item]) -> None:
        """Give each row a level so that a parent is written before the rows under it."""
        state: dict[int, int] = {}  # id(item) -> 1 while being visited, 2 once levelled
        for item in items:
            if state.get(id(item)):
                continue
            state[id(item)] = 1
            stack = [(item, iter(list(item.parents)))]
            while stack:
                node, parents = stack[-1]
                parent = next(parents, None)
                if parent is None:
                    node.level = 1 + max((p.level for p in node.parents), default=-1)
                    state[id(node)] = 2
                    stack.pop()
                elif not state.get(id(parent)):
                    state[id(parent)] = 1
                    stack.append((parent, iter(list(parent.parents))))
                elif state[id(parent)] == 1:
                    self._refuse_cycle(node, parent, [n for n, _ in stack])

    def _refuse_cycle(self, node: Item, parent: Item, path: list[Item]) -> None:
        key = node.section.lookup_key
        cycle = [*path[path.index(parent) :], parent]
        shown = " -> ".join(str(i.value(key[-1]) if key else i.line) for i in cycle)
        field_ = next(f for f, i in node.resolved.items() if i == parent.id)
        node.parents.remove(parent)
        self.refuse(node, field_, f"forms a cycle: {shown}")


def _refuses_archived(spec: ResourceSpec, field_: str) -> bool:
    return next(r.refuse_archived for r in spec.refs if r.field == field_)


def _noun(spec: ResourceSpec) -> str:
    return spec.entity.replace("_", " ")


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
