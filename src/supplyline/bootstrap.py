"""The composition root: the only place that picks implementations and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline import (
    access,
    alarms,
    audit,
    epcis,
    eventlog,
    exports,
    governance,
    integrations,
    logistics,
    maintenance,
    planning,
    registry,
    rules,
    sharing,
    telemetry,
    trace,
)
from supplyline.db import UnitOfWorkFactoryImpl, create_engine, normalize_url
from supplyline.eventlog import Consumer, ConsumerRunner, EventLog, EventTypeRegistry
from supplyline.kernel.clock import Clock, utcnow
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import ResourceCatalog, ResourceService, ResourceSpec, VisibilityRules
from supplyline.settings import Settings
from supplyline.telemetry import with_profile_mapping_check


@dataclass
class Services:
    settings: Settings
    clock: Clock  # the one "now" of the rules (evaluation, actions, dry runs)
    engine: AsyncEngine
    read_engine: AsyncEngine
    dialect: str
    uow: UnitOfWorkFactoryImpl
    event_types: EventTypeRegistry
    events: EventLog
    catalog: ResourceCatalog
    visibility: VisibilityRules  # every capability's, carried by each narrowed Scope
    resources: ResourceService
    consumers: ConsumerRunner
    telemetry: telemetry.TelemetryServices
    deliverer: integrations.Deliverer
    rule_evaluator: rules.RuleEvaluator
    throttle: access.Throttle
    purger: governance.Purger
    integrations: integrations.Registry = field(default_factory=integrations.installed)
    forecaster: planning.Forecaster = planning.forecast
    ledger_key: bytes = field(repr=False, default=b"")

    async def run_background(self, stop: asyncio.Event) -> None:
        """What runs beside the API: the workers and the heartbeat sweep."""
        await asyncio.gather(self.run_workers(stop), self.run_sweep(stop))

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Event consumers, the outbox, alarm escalation and the retention purge of the log: all
        of it works from the database, so it may run in a process of its own (``supplyline
        workers``)."""
        await asyncio.gather(
            self.consumers.run(stop),
            self.deliverer.run(stop),
            self._every(stop, "alarm escalation", alarms.escalate_due, self._alarms_due),
            self._repeat(stop, "retention purge", self._purge_due, self.settings.retention_purge_interval_s),
            self._repeat(
                stop, "forecast schedule", self.run_forecasts, min(self.settings.forecast_interval_s, 3600)
            ),
            *[
                self._repeat(stop, "daily export", functools.partial(exports.export_daily, self), h * 3600)
                for h in [self.settings.export_schedule_hours]
                if h
            ],
        )

    async def run_sweep(self, stop: asyncio.Event) -> None:
        """Heartbeat silences, found by the rule evaluator of the process that ingests (it
        knows every device's last reading)."""
        await self._every(stop, "heartbeat sweep", self.rule_evaluator.sweep, self._heartbeats)

    async def _alarms_due(self) -> bool:
        async with self.read_engine.connect() as conn:
            return await alarms.any_due(conn)

    async def _heartbeats(self) -> bool:
        return self.rule_evaluator.watches_silence()

    async def run_forecasts(self) -> int:
        """Forecast every series whose latest run is older than ``forecast_interval_s``."""
        return await planning.run_schedule(
            self.read_engine,
            self.uow,
            self.forecaster,
            now=self.clock(),
            interval_s=self.settings.forecast_interval_s,
        )

    async def _purge_due(self) -> None:
        """Each purge is a transaction of its own per tenant and class (``governance.Purger``)."""
        if await self.purger.due():
            await self.purger.run_all()

    async def _repeat(
        self, stop: asyncio.Event, what: str, job: Callable[[], Awaitable[object]], interval: float
    ) -> None:
        """Run ``job`` every ``interval`` seconds until ``stop``; a failure is logged and the
        job tried again at the next tick."""
        while not stop.is_set():
            try:
                await job()
            except Exception:  # the database went away: try again at the next tick
                logging.getLogger(__name__).exception("%s failed; trying again", what)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _every(
        self,
        stop: asyncio.Event,
        what: str,
        job: Callable[[UnitOfWork], Awaitable[int]],
        probe: Callable[[], Awaitable[bool]],
    ) -> None:
        """Run ``job`` in a transaction of its own every escalation interval until ``stop``,
        when ``probe`` (a read) says there may be work: on SQLite a write transaction takes the
        write lock ingestion needs."""

        async def tick() -> None:
            if await probe():
                async with self.uow(what.replace(" ", "-")) as uow:
                    if await job(uow):
                        await uow.commit()

        await self._repeat(stop, what, tick, self.settings.escalation_interval_s)

    async def close(self) -> None:
        await self.telemetry.stop()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


# What the traceability trail checkpoints: business exceptions, holds and their release, the
# compliance record of excursions (a backlog's included), and every audit entry, so that an
# entry edited or deleted afterwards is reported by verify.
CHECKPOINTED = [
    logistics.SHIPMENT_TEMPERATURE_EXCEEDED.type,
    logistics.SHIPMENT_CONDITION_BREACHED.type,
    logistics.LOT_HELD.type,
    logistics.LOT_RELEASED.type,
    rules.EXCURSION_RECORDED.type,
    audit.AUDIT_RECORDED.type,
    epcis.EPCIS_EVENT_RECORDED.type,
]
# The leaf data of the types whose Merkle leaf is not their event hash: an EPCIS event is in the
# log by its GS1 Event Hash ID, the value any other system computes for the same event.
LEAVES: dict[str, trace.LeafRule] = {epcis.EPCIS_EVENT_RECORDED.type: epcis.ledger_leaf}


def resource_specs() -> list[ResourceSpec]:
    """Every resource of the canonical model; plug-ins will append theirs here. The same spec
    objects each call (specs are immutable), so what is derived from a spec once, its routes,
    is derived once per process."""
    return list(_resource_specs())


@functools.cache
def _resource_specs() -> tuple[ResourceSpec, ...]:
    # A device profile may name a telemetry payload mapping, which the registry (below
    # telemetry) cannot look up itself: telemetry adds that check to the profile resource.
    return tuple(
        with_profile_mapping_check(
            [
                *registry.RESOURCES,
                *logistics.RESOURCES,
                *telemetry.RESOURCES,
                *rules.RESOURCES,
                *alarms.RESOURCES,
            ]
        )
    )


def quota_defaults(settings: Settings) -> access.Quota:
    """The limits of a tenant without its own (all unset: no limit, as the benchmarks need)."""
    return access.Quota(
        requests_per_s=settings.quota_requests_per_s,
        requests_burst=settings.quota_requests_burst,
        readings_per_s=settings.quota_readings_per_s,
        devices=settings.quota_devices,
    )


def visibility_rules() -> VisibilityRules:
    """Every capability's visibility rules as one set, carried by each narrowed Scope."""
    return VisibilityRules(
        [
            *registry.VISIBILITY,
            *logistics.VISIBILITY,
            *alarms.VISIBILITY,
            *maintenance.VISIBILITY,
            *rules.VISIBILITY,
            *access.VISIBILITY,
            *epcis.VISIBILITY,
        ]
    )


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    read_engine: AsyncEngine | None = None,
    extra_consumers: list[Consumer] | None = None,
    forecaster: planning.Forecaster | None = None,
    clock: Clock = utcnow,
    plugins: integrations.Registry | None = None,
) -> Services:
    url = settings.resolved_database_url
    dialect = normalize_url(url).dialect
    engine = engine or create_engine(url, schema=settings.database_schema)
    if read_engine is None:
        read_engine = create_engine(url, readonly=True) if dialect == "sqlite" else engine
    visibility = visibility_rules()
    throttle = access.Throttle(read_engine, quota_defaults(settings), refresh_s=settings.quota_refresh_s)
    catalog = ResourceCatalog(resource_specs())
    catalog.check()
    event_types = EventTypeRegistry()
    event_types.register_all(access.EVENT_TYPES)
    event_types.register_all(audit.EVENT_TYPES)
    event_types.register_all(telemetry.EVENT_TYPES)
    event_types.register_all(rules.EVENT_TYPES)
    event_types.register_all(alarms.EVENT_TYPES)
    event_types.register_all(logistics.EVENT_TYPES)
    event_types.register_all(maintenance.EVENT_TYPES)
    event_types.register_all(integrations.EVENT_TYPES)
    event_types.register_all(epcis.EVENT_TYPES)
    event_types.register_all(planning.EVENT_TYPES)
    event_types.register_all(catalog.event_types())
    events = EventLog(event_types)
    uow = UnitOfWorkFactoryImpl(engine, events.append, events.on_commit)
    directory = telemetry.DeviceDirectory(read_engine)
    # Rules see every committed batch of readings, in its transaction.
    rule_evaluator = rules.RuleEvaluator(directory, clock)
    tele = telemetry.build_telemetry(
        engine,
        read_engine,
        uow,
        secret_key=settings.secret_key,
        data_dir=settings.data_dir,
        max_batch=settings.telemetry_max_batch,
        overlap_hours=settings.credential_overlap_hours,
        skew_threshold_s=settings.clock_skew_threshold_s,
        silent_after_s=settings.silent_after_s,
        retention_days=settings.telemetry_retention_days,
        compact_after_s=settings.telemetry_compact_after_s,
        admit_readings=throttle.admit_readings,
        retention_rules=governance.telemetry_rules,
        tenant_by_slug=access.tenant_id_of_slug,
        directory=directory,
        evaluators=[rule_evaluator],
    )
    key = trace.ledger_key(settings.secret_key, settings.data_dir)
    plugins = plugins or integrations.installed()
    forecaster = forecaster or planning.forecast
    consumers: list[Consumer] = [
        eventlog.EntityIndexProjection(),
        rules.RuleActions(events, clock),
        trace.CheckpointRecorder(CHECKPOINTED, key, LEAVES),
        epcis.PlatformEvents(events),
        planning.Reforecaster(forecaster, clock=clock),
        planning.DemandProjection(events),
        sharing.WebhookFanout(catalog, visibility),
        integrations.ConnectionDispatcher(plugins, tele.box),
        *([integrations.ErpAdapter(settings.erp_url)] if settings.erp_url else []),
        *(extra_consumers or []),
    ]

    async def connection_headers(conn: AsyncConnection, target: str) -> Mapping[str, str]:
        return await integrations.headers_for(conn, plugins, tele.box, target)

    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        read_engine=read_engine,
        dialect=dialect,
        uow=uow,
        event_types=event_types,
        events=events,
        catalog=catalog,
        visibility=visibility,
        resources=ResourceService(catalog, guards={"devices": throttle.admit_devices}),
        consumers=ConsumerRunner(engine, events, consumers, read_engine=read_engine),
        telemetry=tele,
        deliverer=integrations.Deliverer(
            engine,
            read_engine,
            policy=integrations.DeliveryPolicy.of(settings),
            clock=clock,
            secrets=sharing.WebhookSecrets(tele.box),
            headers=connection_headers,
        ),
        rule_evaluator=rule_evaluator,
        throttle=throttle,
        integrations=plugins,
        purger=governance.Purger(uow, read_engine, key, [c.name for c in consumers]),
        ledger_key=key,
        forecaster=forecaster,
    )
