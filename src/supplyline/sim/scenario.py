"""Run a scenario against a live platform: discover, issue credentials, tick, publish.

Every tick (``interval_s`` of wall time) the fleet advances ``interval_s * speed`` simulated
seconds and each sender publishes one signed message with the readings of its devices.
Readings carry the wall-clock time of their tick, not the simulated one: the platform judges
readings by their own time (rules treat readings older than a few minutes as backlog, a clock
far ahead as skewed), so a compressed story must still arrive as live data. Sequence numbers
start from the run's start time in milliseconds and go up by one a tick, so a second run never
repeats the first one's (the platform drops a repeated sequence number as a duplicate).

A message that could not be delivered for a passing reason (the server restarting, the broker
away) stays with its sender, as a gateway buffers, and goes again with the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import orjson

from supplyline.sim.discovery import SimulationError, TenantApi
from supplyline.sim.model import Note
from supplyline.sim.plan import SCENARIOS, Plan, PlanError, build_plan, world_from_records
from supplyline.sim.publish import HttpPublisher, MqttPublisher, Outgoing, Publisher
from supplyline.telemetry import sign

MAX_BATCH = 1_000  # readings in one message (the platform takes up to 5,000 by default)
MAX_BUFFERED = 10_000  # readings a sender keeps while it cannot deliver; the oldest go first


@dataclass(frozen=True)
class SimConfig:
    api_url: str
    api_key: str
    transport: Literal["http", "mqtt"] = "http"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    tenant: str | None = None  # the tenant's slug: MQTT topics name it and the API does not tell it
    speed: float = 60.0  # simulated seconds per wall second
    duration_s: float | None = 120.0  # wall seconds; None: until stopped
    interval_s: float = 1.0  # wall seconds between two reports of a device
    seed: int = 7
    scenario: str = "cold-chain"
    fail: str | None = None  # the unit (asset, device or shipment code) whose compressor fails
    max_ticks: int | None = None


@dataclass(frozen=True)
class Published:
    """One message sent (or tried) at a tick, with what happened in the units behind its sender."""

    sim_s: float
    ts_ms: int
    sender: str
    transport: str
    readings: tuple[dict[str, Any], ...]
    delivered: bool
    detail: str
    notes: tuple[Note, ...] = ()


@dataclass
class SimSummary:
    units: list[str]
    senders: list[str]
    skipped: dict[str, str]
    failing: str | None
    fails_at_s: float | None
    ticks: int = 0
    sim_s: float = 0.0
    messages: int = 0
    delivered: int = 0
    readings: int = 0  # in delivered messages
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    dropped: int = 0  # readings refused whole or pushed out of a full buffer
    last_error: str | None = None
    notes: list[Note] = field(default_factory=list)


OnPublish = Callable[[Published], None]


async def run_simulation(
    config: SimConfig,
    stop: asyncio.Event,
    on_publish: OnPublish | None = None,
    *,
    http: httpx.AsyncClient | None = None,
    on_ready: Callable[[SimSummary], None] | None = None,
) -> SimSummary:
    """Simulate until ``stop`` is set, ``duration_s`` has passed or ``max_ticks`` were sent.

    ``http`` is the client for the API (tests pass one on an ASGI transport); ``on_ready`` is
    told what will be simulated before the first tick."""
    if config.scenario not in SCENARIOS:
        raise SimulationError(f"no scenario '{config.scenario}': choose one of {', '.join(SCENARIOS)}")
    if config.transport == "mqtt" and not config.tenant:
        raise SimulationError("MQTT topics name the tenant: pass its slug (--tenant)")
    if config.speed <= 0 or config.interval_s <= 0:
        raise SimulationError("speed and interval must be positive")
    own = http is None
    client = http or httpx.AsyncClient(base_url=config.api_url, timeout=15.0)
    try:
        run = await _Run.prepare(config, client)
        if on_ready is not None:
            on_ready(run.summary)
        await run.loop(stop, on_publish)
        return run.summary
    finally:
        if own:
            await client.aclose()


class _Run:
    def __init__(self, config: SimConfig, plan: Plan, secrets: dict[str, str], publisher: Publisher) -> None:
        self.config, self.plan, self.secrets, self.publisher = config, plan, secrets, publisher
        self.pending: dict[str, list[dict[str, Any]]] = {s: [] for s in plan.senders}
        fleet = plan.fleet
        box = fleet.unit(plan.failing).box if plan.failing else None
        self.summary = SimSummary(
            [u.label for u in fleet.units],
            list(plan.senders),
            plan.skipped,
            plan.failing,
            box.fails_at_s if box else None,
        )
        self.sender_of_unit = {u.label: u.senders[0] for u in fleet.units if u.senders}

    @classmethod
    async def prepare(cls, config: SimConfig, http: httpx.AsyncClient) -> _Run:
        api = TenantApi(http, config.api_key)
        world = world_from_records(await api.records())
        try:
            plan = build_plan(world, SCENARIOS[config.scenario], config.seed, datetime.now(UTC), config.fail)
        except PlanError as exc:
            raise SimulationError(str(exc)) from None
        if not plan.senders:
            raise SimulationError(
                "nothing to simulate: the tenant has no active device on an asset or shipment"
            )
        publisher: Publisher
        if config.transport == "mqtt":
            mqtt = MqttPublisher(config.mqtt_url, config.tenant or "")
            await mqtt.check()
            publisher = mqtt
        tokens, secrets = {}, {}
        for code, device_id in plan.senders.items():
            tokens[code], secrets[code] = await api.issue_credential(device_id)
        if config.transport == "http":
            publisher = HttpPublisher(http, tokens)
        return cls(config, plan, secrets, publisher)

    async def loop(self, stop: asyncio.Event, on_publish: OnPublish | None) -> None:
        cfg = self.config
        clock = asyncio.get_running_loop()
        start, t0_ms = clock.time(), int(time.time() * 1000)
        dt = cfg.interval_s * cfg.speed
        k = 0
        while not stop.is_set():
            if cfg.max_ticks is not None and k >= cfg.max_ticks:
                break
            if cfg.duration_s is not None and k * cfg.interval_s >= cfg.duration_s:
                break
            notes = self.plan.fleet.advance(dt) if k else []
            await self._tick(k, t0_ms + round(k * cfg.interval_s * 1000), t0_ms + k, notes, on_publish)
            k += 1
            delay = start + k * cfg.interval_s - clock.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def _tick(
        self, k: int, ts_ms: int, seq: int, notes: list[Note], on_publish: OnPublish | None
    ) -> None:
        fleet, summary = self.plan.fleet, self.summary
        summary.ticks, summary.sim_s = k + 1, fleet.t
        summary.notes += notes
        fresh: dict[str, list[dict[str, Any]]] = {}
        for _, sensor, metrics in fleet.readings():
            reading = {"device": sensor.code, "seq": seq, "ts": ts_ms, "metrics": metrics}
            fresh.setdefault(sensor.sender, []).append(reading)
        senders = [s for s in self.pending if fresh.get(s) or self.pending[s]]
        batches = {}
        for sender in senders:
            queue = self.pending[sender]
            queue += fresh.get(sender, [])
            if len(queue) > MAX_BUFFERED:
                summary.dropped += len(queue) - MAX_BUFFERED
                del queue[: len(queue) - MAX_BUFFERED]
            batches[sender] = queue[:MAX_BATCH]
        messages = [self._message(s, batches[s]) for s in senders]
        outcomes = await self.publisher.publish(messages) if messages else []
        by_sender: dict[str, list[Note]] = {}
        for n in notes:
            by_sender.setdefault(self.sender_of_unit.get(n.unit, ""), []).append(n)
        for sender, outcome in zip(senders, outcomes, strict=True):
            sent = batches[sender]
            summary.messages += 1
            summary.accepted += outcome.accepted
            summary.duplicate += outcome.duplicate
            summary.rejected += outcome.rejected
            if outcome.delivered:
                summary.delivered += 1
                summary.readings += len(sent)
            else:
                summary.last_error = f"{sender}: {outcome.detail}"
            if outcome.delivered or not outcome.retry:
                if not outcome.delivered:
                    summary.dropped += len(sent)
                del self.pending[sender][: len(sent)]
            if on_publish is not None:
                on_publish(
                    Published(
                        fleet.t,
                        ts_ms,
                        sender,
                        self.publisher.transport,
                        tuple(sent),
                        outcome.delivered,
                        outcome.detail,
                        tuple(by_sender.get(sender, ())),
                    )
                )

    def _message(self, sender: str, readings: list[dict[str, Any]]) -> Outgoing:
        body = orjson.dumps({"readings": readings})
        return Outgoing(sender, body, sign(self.secrets[sender], body))
