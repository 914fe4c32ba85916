"""The integration plug-in contract: what a package must offer to be an integration, and how
the installed ones are found.

An integration is a package that names an object in the entry-point group
``supplyline.integrations`` (in its pyproject: ``[project.entry-points."supplyline.integrations"]
my-erp = "my_pkg:PLUGIN"``). The built-ins register the same way in supplyline's own
pyproject, so adding one touches no file of the core: installing the package is enough, and a
tenant then enables it as a *connection* with a config its manifest validates.

The core owns everything around a plug-in: which events reach it (its manifest says which it
consumes), the transactional outbox that delivers what it renders (retries, backoff, a message
never lost), pause and resume, health, and the encryption of its secrets. A plug-in only turns
an event into a message, and says whether an endpoint answers.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.events import StoredEvent

log = logging.getLogger(__name__)
GROUP = "supplyline.integrations"
CAPABILITIES = frozenset({"outbound", "inbound", "tickets", "export"})


@dataclass(frozen=True)
class Manifest:
    """What an integration is and does; shown by ``GET /v1/integrations``."""

    slug: str  # stable id, [a-z0-9-]; what a connection names
    name: str
    version: str
    config: type[BaseModel]  # validates a connection's config; SecretStr fields are secrets
    consumes: tuple[str, ...] = ()  # wire types or patterns (``supplyline.lot.*``)
    capabilities: tuple[str, ...] = ("outbound",)
    description: str = ""

    def wants(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.consumes)

    def secret_fields(self) -> list[str]:
        """The config fields kept encrypted and never shown: those typed SecretStr."""
        return [
            name
            for name, f in self.config.model_fields.items()
            if f.annotation is SecretStr or f.annotation == SecretStr | None
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "consumes": list(self.consumes),
            "capabilities": list(self.capabilities),
            "config_schema": self.config.model_json_schema(),
            "secret_fields": self.secret_fields(),
        }


@dataclass(frozen=True)
class Message:
    """What a plug-in wants sent for one event: a JSON body POSTed to ``url`` (the
    connection's own endpoint, usually) through the outbox. The headers a connection needs on
    every request (its credentials) come from ``Integration.headers`` at send time, so no
    secret is ever copied into the outbox."""

    url: str
    payload: Mapping[str, Any]


class EndpointDown(Exception):
    """The endpoint did not answer as the integration expects (the reason is shown)."""


@runtime_checkable
class Integration(Protocol):
    manifest: Manifest

    async def check(self, config: Any) -> None:
        """Try the live endpoint with this config; raise EndpointDown saying why it failed.
        Called before a connection is saved and by ``POST /v1/connections/{id}/test``."""

    def headers(self, config: Any) -> dict[str, str]:
        """Headers for every request to this connection's endpoint (its credentials)."""

    async def render(self, conn: AsyncConnection, event: StoredEvent, config: Any) -> Message | None:
        """The message for one consumed event, or None to send nothing. Runs in the event
        consumer's transaction (reads only): the message is queued with the consumer's
        position, so a crash neither loses nor doubles it."""


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def validate_slug(slug: str) -> bool:
    return isinstance(slug, str) and SLUG.fullmatch(slug) is not None


class Registry:
    """The installed integrations by slug. A broken plug-in (it does not import, or is not an
    Integration) is logged and left out rather than stopping the platform."""

    def __init__(self, plugins: Mapping[str, Integration]) -> None:
        self._plugins = dict(plugins)

    def get(self, slug: str) -> Integration | None:
        return self._plugins.get(slug)

    def all(self) -> list[Integration]:
        return [self._plugins[k] for k in sorted(self._plugins)]

    @classmethod
    def from_entry_points(cls) -> Registry:
        found: dict[str, Integration] = {}
        for ep in entry_points(group=GROUP):
            try:
                plugin = ep.load()
            except Exception:
                log.exception("integration %r (%s) does not load; left out", ep.name, ep.value)
                continue
            problem = _problem(plugin)
            if problem:
                log.error("integration %r (%s) %s; left out", ep.name, ep.value, problem)
                continue
            slug = plugin.manifest.slug
            if slug in found:
                log.error("integration %r: slug %r is already installed; left out", ep.name, slug)
                continue
            found[slug] = plugin
        return cls(found)


def _problem(plugin: object) -> str | None:
    if not isinstance(plugin, Integration):
        return "is not an Integration (manifest, check, headers, render)"
    m = plugin.manifest
    if not isinstance(m, Manifest):
        return "has a manifest that is not a Manifest"
    if not validate_slug(m.slug):
        return f"has slug {m.slug!r}: use lower-case letters, digits and '-'"
    unknown = set(m.capabilities) - CAPABILITIES
    if unknown:
        return f"names unknown capabilities {sorted(unknown)}"
    return None


@functools.cache
def installed() -> Registry:
    """The integrations installed in this Python environment (read once per process)."""
    return Registry.from_entry_points()
