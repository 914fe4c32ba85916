"""A sample integration from outside supplyline: lot holds and releases, as a small JSON
message, to a receiver that wants an API key in ``X-Api-Key``."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, SecretStr

from supplyline.integrations import EndpointDown, Manifest, Message


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    api_key: SecretStr
    channel: str = "quality"


class SampleReceiver:
    manifest = Manifest(
        slug="sample-receiver",
        name="Sample receiver",
        version="1.2.0",
        config=Config,
        consumes=("supplyline.lot.*",),
        capabilities=("outbound",),
        description="Lot holds and releases to a receiver with an API key.",
    )

    def headers(self, config: Config) -> dict[str, str]:
        return {"X-Api-Key": config.api_key.get_secret_value()}

    async def check(self, config: Config) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            try:
                r = await client.get(f"{str(config.url).rstrip('/')}/ping", headers=self.headers(config))
            except httpx.HTTPError as exc:
                raise EndpointDown(str(exc)) from None
        if r.status_code != 200:
            raise EndpointDown(f"GET /ping answered {r.status_code}")

    async def render(self, conn: Any, event: Any, config: Config) -> Message | None:
        if event.type not in ("supplyline.lot.held.v1", "supplyline.lot.released.v1"):
            return None
        body = {"channel": config.channel, "type": event.type, "lot": event.data.get("lot_code")}
        return Message(f"{str(config.url).rstrip('/')}/events", body)


PLUGIN = SampleReceiver()
