"""Routes for every resource in the catalog, generated from its spec.

No ``from __future__ import annotations`` here: FastAPI reads the body models from the
annotations of functions built at run time.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, create_model
from starlette.responses import Response

from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import ResourceSpec

CONTROL_PARAMS = {"limit", "cursor", "include_archived", "id"}
IDS_MAX = 100  # a page of records named by id: what a view shows at once
IfMatch = Header(
    None,
    alias="If-Match",
    max_length=100,
    description='The ETag you read ("3"): the change is refused (412) if the record has moved on since',
)


def _etag(rec: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{rec["version"]}"'}


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":  # "*": any current version (RFC 9110)
        return None
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise Invalid("If-Match", 'expected an ETag such as "3" from a previous response') from None


def _page_model(spec: ResourceSpec) -> type[BaseModel]:
    return create_model(
        f"{spec.title}Page",
        items=(list[spec.read_model], ...),  # type: ignore[name-defined]
        next_cursor=(str | None, None),
    )


# What a filter's schema takes from its field's: the type and every bound the server checks.
FILTER_SCHEMA = ("type", "format", "enum", "anyOf", "minimum", "maximum", "minLength", "maxLength", "pattern")


def _filter_params(spec: ResourceSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "name": "id",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "schema": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": IDS_MAX},
            "description": f"Only these {spec.name} (repeatable, at most {IDS_MAX}): the records a "
            "page names, in one request. Ids outside the caller's reach are left out, not refused.",
        }
    ]
    properties = spec.fields.model_json_schema()["properties"]
    for name in spec.filters:
        schema = properties.get(name, {"type": "string"})
        out.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {k: v for k, v in schema.items() if k in FILTER_SCHEMA},
                "description": f"Only {spec.name} whose {name} equals this value.",
            }
        )
    return out


def _ids(raw: list[str]) -> list[uuid.UUID] | None:
    if not raw:
        return None
    if len(raw) > IDS_MAX:
        raise Invalid("id", f"at most {IDS_MAX} ids in one request, not {len(raw)}")
    out = []
    for i, value in enumerate(raw):
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            raise Invalid(f"id.{i}", f"'{value[:40]}' is not a UUID") from None
    return out


def resource_router(spec: ResourceSpec) -> APIRouter:
    router = APIRouter(prefix=f"/{spec.name}", tags=[spec.name])
    READ, WRITE = requires(spec.name), requires(spec.name, Action.WRITE)
    Create = spec.fields
    Update = spec.update_model
    Read = spec.read_model
    name = spec.name
    IdPath = Path(description=f"The {spec.entity}'s id")
    words = spec.entity.replace("_", " ")
    a_thing = f"{'an' if words[0] in 'aeiou' else 'a'} {words}"

    @router.post(
        "",
        status_code=201,
        response_model=Read,
        summary=f"Create {a_thing}",
        responses={409: {"description": "A natural key is taken"}},
        dependencies=[idempotency.IDEMPOTENT],
    )
    async def create(
        request: Request,
        payload: Create,  # type: ignore[valid-type]
        scope: Scope = WRITE,
        svc: Services = Depends(services),
    ) -> Response:
        async def action(uow: UnitOfWork) -> dict[str, Any]:
            return await svc.resources.create(uow, scope, name, payload)

        def headers(rec: dict[str, Any]) -> dict[str, str]:
            return {**_etag(rec), "Location": f"{request.url.path}/{rec['id']}"}

        return await idempotency.write(request, svc, scope, action, headers=headers)

    @router.get(
        "",
        response_model=_page_model(spec),
        summary=f"List {spec.name}",
        openapi_extra={"parameters": _filter_params(spec)},
    )
    async def list_(
        request: Request,
        page_: PageQuery = PAGE,
        include_archived: bool = Query(False),
        scope: Scope = READ,
        svc: Services = Depends(services),
    ) -> Response:
        raw = {k: v for k, v in request.query_params.items() if k not in CONTROL_PARAMS}
        filters = svc.resources.parse_filters(name, raw)
        ids = _ids(request.query_params.getlist("id"))
        async with svc.read_engine.connect() as conn:
            page = await svc.resources.list_page(
                conn,
                scope,
                name,
                filters=filters,
                ids=ids,
                cursor=page_.cursor,
                limit=page_.limit,
                include_archived=include_archived,
            )
        return JSON({"items": page.items, "next_cursor": page.next_cursor})

    @router.get("/{id}", response_model=Read, summary=f"Get {a_thing}")
    async def get(id: uuid.UUID = IdPath, scope: Scope = READ, svc: Services = Depends(services)) -> Response:
        async with svc.read_engine.connect() as conn:
            rec = await svc.resources.get(conn, scope, name, id)
        return JSON(rec, headers=_etag(rec))

    @router.patch(
        "/{id}",
        response_model=Read,
        summary=f"Change {a_thing}",
        description="JSON merge patch (RFC 7396): fields sent change, absent fields stay, objects "
        "such as attributes merge key by key (null removes a key); lists are replaced whole. "
        "Send If-Match with the ETag you read to refuse lost updates (412).",
        dependencies=[idempotency.IDEMPOTENT],
    )
    async def patch(
        request: Request,
        payload: Update,  # type: ignore[valid-type]
        id: uuid.UUID = IdPath,
        if_match: str | None = IfMatch,
        scope: Scope = WRITE,
        svc: Services = Depends(services),
    ) -> Response:
        if_version = _if_match(if_match)

        async def action(uow: UnitOfWork) -> dict[str, Any]:
            return await svc.resources.update(uow, scope, name, id, payload, if_version=if_version)

        return await idempotency.write(request, svc, scope, action, status_code=200, headers=_etag)

    @router.post(
        "/{id}/archive",
        response_model=Read,
        summary=f"Archive {a_thing}",
        description="Archived records leave lists (unless include_archived) but stay readable.",
        dependencies=[idempotency.IDEMPOTENT],
    )
    async def archive(
        request: Request,
        id: uuid.UUID = IdPath,
        scope: Scope = WRITE,
        svc: Services = Depends(services),
    ) -> Response:
        async def action(uow: UnitOfWork) -> dict[str, Any]:
            return await svc.resources.archive(uow, scope, name, id)

        return await idempotency.write(request, svc, scope, action, status_code=200, headers=_etag)

    return router
