"""Publishers: signed telemetry messages over HTTP (POST /v1/telemetry) or MQTT.

A message is what a device or gateway sends: ``{"readings": [...]}`` signed with its secret
(``telemetry.sign``). Over HTTP the device token goes in ``Authorization`` and the
signature in ``X-Signature``; over MQTT the topic names the tenant and the sender and the
signature travels as the MQTT 5 user property ``signature`` (what the bridge expects), published
with gmqtt through ``telemetry.mqtt_publish``, the product's one MQTT client library. Each
outcome says whether the message may be sent again: a refused message would be refused again,
while one lost to a network or server failure is kept by the caller and retried.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlparse

import httpx

from supplyline.sim.discovery import SimulationError, problem_detail
from supplyline.telemetry import BrokerRefused, broker_address, publish_all, telemetry_topic


@dataclass(frozen=True)
class Outgoing:
    sender: str  # the device code that signs: the device itself or its gateway
    body: bytes
    signature: str


@dataclass(frozen=True)
class Outcome:
    delivered: bool  # committed (HTTP 200) or taken by the broker (MQTT PUBACK)
    retry: bool = False  # not delivered for a passing reason: send it again later
    detail: str = ""
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


class Publisher(Protocol):
    transport: str

    async def publish(self, messages: Sequence[Outgoing]) -> list[Outcome]: ...


class HttpPublisher:
    """POST /v1/telemetry, one request per message, the messages of a tick concurrently."""

    transport = "http"

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.tokens = tokens

    async def publish(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._one(m) for m in messages)))

    async def _one(self, m: Outgoing) -> Outcome:
        headers = {
            "Authorization": f"Bearer {self.tokens[m.sender]}",
            "X-Signature": m.signature,
            "Content-Type": "application/json",
        }
        try:
            r = await self.http.post("/v1/telemetry", content=m.body, headers=headers)
        except httpx.TransportError as exc:
            return Outcome(False, retry=True, detail=f"not sent: {exc or type(exc).__name__}")
        if r.status_code >= 500 or r.status_code == 429:
            return Outcome(False, retry=True, detail=f"{r.status_code}: {problem_detail(r)}")
        if r.status_code != 200:
            return Outcome(False, detail=f"refused ({r.status_code}): {problem_detail(r)}")
        body = r.json()
        reasons = [x.get("reason", "") for x in body.get("rejections", [])]
        detail = f"accepted {body['accepted']}" + (f", rejected: {reasons[0]}" if reasons else "")
        return Outcome(True, False, detail, body["accepted"], body["duplicate"], body["rejected"])


class MqttPublisher:
    """QoS 1 publishes on ``supplyline/v1/{tenant}/{sender}/telemetry``.

    Each tick's messages go out on one short connection, which returns once the broker has
    acknowledged every one of them."""

    transport = "mqtt"

    def __init__(self, url: str, tenant: str, timeout_s: float = 10.0) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("mqtt", "tcp", ""):
            raise SimulationError(f"--mqtt-url: only plain mqtt:// is supported, not {parsed.scheme}://")
        if parsed.username:
            raise SimulationError("--mqtt-url: the simulator does not log in to the broker (no user name)")
        self.url = url
        self.host, self.port = broker_address(url)
        self.tenant = tenant
        self.timeout_s = timeout_s
        self.client_id = f"supplyline-sim-{uuid.uuid4().hex[:8]}"

    async def check(self) -> None:
        """Fail at once, with a sentence, when the broker is not there."""
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout_s)
        except OSError as exc:
            raise SimulationError(f"cannot reach the MQTT broker at {self.url}: {exc}") from None
        writer.close()

    async def publish(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        items = [(telemetry_topic(self.tenant, m.sender), m.body, m.signature) for m in messages]
        try:
            await asyncio.wait_for(publish_all(self.url, items, self.client_id), self.timeout_s)
        except OSError as exc:  # away, dropped the connection, or did not answer (TimeoutError)
            failed = Outcome(False, retry=True, detail=f"not published: {exc or type(exc).__name__}")
            return [failed] * len(messages)
        except BrokerRefused as exc:
            return [Outcome(False, detail=str(exc))] * len(messages)
        return [Outcome(True, detail="published (QoS 1)")] * len(messages)
