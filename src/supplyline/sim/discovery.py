"""What the simulator learns and asks of the platform, through the /v1 API and an API key.

It reads the tenant's sites, zones, assets, devices and shipments (every page), and issues a
device credential (token and signing secret) for each device that will publish, rotating any
earlier one: the earlier credential keeps working for the platform's overlap window.
"""

from __future__ import annotations

from typing import Any

import httpx

RESOURCES = ("sites", "zones", "asset-types", "assets", "device-profiles", "devices", "shipments")
PAGE = 500


class SimulationError(Exception):
    """A failure the user can act on (an unreachable API, a refused key...): said in a sentence."""


class TenantApi:
    def __init__(self, http: httpx.AsyncClient, api_key: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {api_key}"}

    async def records(self) -> dict[str, list[dict[str, Any]]]:
        return {name: await self._all(name) for name in RESOURCES}

    async def _all(self, resource: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            page = (await self._call("GET", f"/v1/{resource}", "read the tenant", params=params)).json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def issue_credential(self, device_id: str) -> tuple[str, str]:
        """A new (token, secret) for the device."""
        r = await self._call("POST", f"/v1/devices/{device_id}/credentials", "issue device credentials")
        body = r.json()
        return str(body["token"]), str(body["secret"])

    async def _call(self, method: str, path: str, purpose: str, **kw: Any) -> httpx.Response:
        try:
            r = await self.http.request(method, path, headers=self.headers, **kw)
        except httpx.TransportError as exc:
            raise SimulationError(f"cannot reach the API at {self.http.base_url}: {exc}") from None
        if r.status_code == 401:
            raise SimulationError(f"the API refused the key ({problem_detail(r)})")
        if r.status_code == 403:
            raise SimulationError(f"the API key may not {purpose}: use an operator or admin key")
        if r.status_code >= 400:
            raise SimulationError(f"{method} {path} answered {r.status_code}: {problem_detail(r)}")
        return r


def problem_detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    return str(body.get("detail") or body) if isinstance(body, dict) else str(body)[:200]
