"""Onboarding import: a whole file of sites, assets, devices, ... is written in full or not at all.

The file is checked first (``plan``). The rows are then written in one unit of work, in
dependency order and in chunks, through ``ResourceService.create_many``, so the same rules,
events and per-resource checks apply as to one record created through the API. Rules only the
resource can check (an asset's attributes against its type's JSON Schema) surface there as
``Invalid``; the rest of the file is still written in that transaction so that every such
error is reported, and then it is all rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from supplyline.kernel.errors import Conflict, DomainError, Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork, UnitOfWorkFactory
from supplyline.onboarding.document import ImportDocument
from supplyline.onboarding.plan import Item, Planner
from supplyline.onboarding.report import ImportReport, RowError
from supplyline.onboarding.sections import importable
from supplyline.resources import ResourceService

CHUNK = 500
Progress = Callable[[str, int, int], None]


async def import_document(
    uow_factory: UnitOfWorkFactory,
    resources: ResourceService,
    scope: Scope,
    doc: ImportDocument,
    *,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``doc`` and commit, or commit nothing and report every refused row."""
    async with uow_factory() as uow:
        report = await import_in(uow, resources, scope, doc, progress=progress)
        if report.ok:
            await uow.commit()
    return report


async def import_in(
    uow: UnitOfWork,
    resources: ResourceService,
    scope: Scope,
    doc: ImportDocument,
    *,
    progress: Progress | None = None,
) -> ImportReport:
    """The import inside the caller's unit of work, which the caller commits only if ``ok``.

    The API uses this to store its idempotency record in the same transaction.
    """
    scope.require("imports", Action.WRITE)
    sections = importable(resources.catalog)
    planner = Planner(uow.conn, scope, sections)
    await planner.plan(doc)
    writer = _Writer(uow, resources, scope, progress, refused={i.id for i in _all(planner) if i.failed})
    for name, items in planner.items.items():
        await writer.write(name, items)
    order = {name: n for n, name in enumerate(sections)}
    errors = sorted(
        [*doc.errors, *planner.errors, *writer.errors],
        key=lambda e: (order.get(e.section, -1), e.row),
    )
    created = writer.created if not errors else {}
    return ImportReport(created=created, errors=errors, rows=doc.rows)


def _all(planner: Planner) -> list[Item]:
    return [i for items in planner.items.values() for i in items]


class _Writer:
    def __init__(
        self,
        uow: UnitOfWork,
        resources: ResourceService,
        scope: Scope,
        progress: Progress | None,
        refused: set[uuid.UUID],
    ) -> None:
        self.uow = uow
        self.resources = resources
        self.scope = scope
        self.progress = progress or (lambda section, done, total: None)
        self.refused = refused
        self.created: dict[str, int] = {}
        self.errors: list[RowError] = []

    async def write(self, name: str, items: list[Item]) -> None:
        """Write a section level by level, so each row's parent is stored before its checks run."""
        total, done = len(items), 0
        self.created[name] = 0
        self.progress(name, 0, total)
        for level in sorted({i.level for i in items}):
            batch = [i for i in items if i.level == level]
            for start in range(0, len(batch), CHUNK):
                chunk = batch[start : start + CHUNK]
                await self._write_chunk(name, chunk)
                done += len(chunk)
                self.progress(name, done, total)

    async def _write_chunk(self, name: str, chunk: list[Item]) -> None:
        # A row that refers to a refused row still goes to create_many once, so its own rules
        # (JSON Schema, ...) are checked; the "no such record" that follows is not reported.
        live = [i for i in chunk if i.id not in self.refused]
        while live:
            try:
                await self.resources.create_many(
                    self.uow,
                    self.scope,
                    live[0].section.spec.name,
                    [i.payload() for i in live],
                    ids=[i.id for i in live],
                )
            except (Invalid, Conflict) as exc:
                if not exc.errors:
                    raise  # a concurrent writer took a key: nothing to point at in the file
                bad = self._refuse(name, live, exc)
                live = [i for i in live if i.id not in bad]
                continue
            self.created[name] += len(live)
            return

    def _refuse(self, name: str, live: list[Item], exc: DomainError) -> set[uuid.UUID]:
        """Map ``create_many``'s ``3.attributes.setpoint_c`` back to the file's row and words."""
        bad = {i.id for i in live if self.refused & set(i.resolved.values())}
        for err in exc.errors:
            index, path = 0, err.field
            if len(live) > 1:
                head, _, path = err.field.partition(".")
                if not head.isdigit() or int(head) >= len(live):
                    # Not about one row: refuse the chunk rather than guess.
                    self.errors.append(RowError(name, 0, err.field, err.reason))
                    bad.update(i.id for i in live)
                    continue
                index = int(head)
            item = live[index]
            bad.add(item.id)
            if item.resolved.get(path) not in self.refused:
                self.errors.append(RowError(name, item.line, item.name_of(path), err.reason))
        bad = bad or {i.id for i in live}
        self.refused |= bad
        return bad
