"""The page parameters of every list: ``cursor`` and ``limit``, with the configured page sizes.

``limit`` defaults to ``SUPPLYLINE_PAGE_SIZE`` and is refused above ``SUPPLYLINE_MAX_PAGE_SIZE``
(422 naming ``limit``). The routes are declared at import, before the settings are known, so
the parameter carries a marker and ``document`` writes the configured default and maximum into
the OpenAPI document of the app built from those settings: a client generated from it refuses
what this server would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Query, Request

from supplyline.kernel.errors import Invalid
from supplyline.settings import Settings

MARKER = "x-supplyline-page-size"


@dataclass(frozen=True)
class PageQuery:
    cursor: str | None
    limit: int


async def page_query(
    request: Request,
    cursor: str | None = Query(None, max_length=2000, description="`next_cursor` of the previous page"),
    limit: int | None = Query(None, ge=1, description="Page size", json_schema_extra={MARKER: True}),
) -> PageQuery:
    settings: Settings = request.app.state.services.settings
    if limit is None:
        return PageQuery(cursor, settings.page_size)
    if limit > settings.max_page_size:
        raise Invalid("limit", f"at most {settings.max_page_size} (SUPPLYLINE_MAX_PAGE_SIZE)")
    return PageQuery(cursor, limit)


PAGE = Depends(page_query)


def document(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Write the configured page sizes into every ``limit`` parameter marked as a page size."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                found = param.get("schema", {})
                candidates = [found, *found.get("anyOf", ())]
                if any(c.pop(MARKER, False) for c in candidates if isinstance(c, dict)):
                    param["schema"] = {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": settings.max_page_size,
                        "default": settings.page_size,
                        "title": "Limit",
                    }
    return schema
