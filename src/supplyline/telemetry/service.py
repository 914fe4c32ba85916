"""The telemetry parts wired together; the composition root builds one of these."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline.kernel.uow import UnitOfWorkFactory
from supplyline.telemetry.devices.credentials import Credentials, SecretBox
from supplyline.telemetry.devices.directory import DeviceDirectory
from supplyline.telemetry.ingest.pipeline import AdmitReadings, TelemetryIngest
from supplyline.telemetry.mapping.formats import VendorFormats
from supplyline.telemetry.mqtt.messages import TelemetryMessages, TenantBySlug
from supplyline.telemetry.storage.compactor import Compactor
from supplyline.telemetry.storage.retention import RulesSource
from supplyline.telemetry.storage.writer import BatchEvaluator, TelemetryWriter


@dataclass
class TelemetryServices:
    box: SecretBox
    credentials: Credentials
    directory: DeviceDirectory
    writer: TelemetryWriter
    ingest: TelemetryIngest
    compactor: Compactor
    overlap: timedelta
    formats: VendorFormats
    messages: TelemetryMessages  # MQTT messages and dead letters: topic -> device -> ingest
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, compact: bool = True, compact_every: float = 2.0) -> None:
        """Start the writer and, unless another process compacts, the background compactor."""
        await self.writer.start()
        self._stop.clear()
        if compact:
            self._tasks.append(asyncio.create_task(self.compactor.run(self._stop, compact_every)))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            await task
        self._tasks.clear()
        await self.ingest.close()
        await self.writer.stop()

    def invalidate(self) -> None:
        """Forget cached devices, profiles, credentials and payload mappings (after they change)."""
        self.credentials.invalidate()
        self.directory.invalidate()
        self.ingest.invalidate()
        self.formats.invalidate()


def build_telemetry(
    engine: AsyncEngine,
    read_engine: AsyncEngine,
    uow: UnitOfWorkFactory,
    *,
    secret_key: str | None,
    data_dir: Path,
    max_batch: int,
    overlap_hours: float,
    skew_threshold_s: float,
    silent_after_s: float = 900,
    retention_days: int = 365,
    compact_after_s: float = 30.0,
    admit_readings: AdmitReadings | None = None,
    retention_rules: RulesSource | None = None,
    tenant_by_slug: TenantBySlug,
    directory: DeviceDirectory,
    evaluators: Sequence[BatchEvaluator] = (),
) -> TelemetryServices:
    """``tenant_by_slug``: how an MQTT topic's tenant slug becomes a tenant id (access's);
    ``directory``: the device cache ingestion shares with ``evaluators`` (rules), which see
    every group of readings in its transaction."""
    box = SecretBox.from_settings(secret_key, data_dir)
    writer = TelemetryWriter(uow, engine, evaluators=evaluators)
    formats = VendorFormats(read_engine)
    credentials = Credentials(read_engine, box)
    ingest = TelemetryIngest(
        directory,
        writer,
        max_batch=max_batch,
        skew_threshold_s=skew_threshold_s,
        formats=formats,
        admit=admit_readings,
    )
    return TelemetryServices(
        box=box,
        credentials=credentials,
        directory=directory,
        writer=writer,
        ingest=ingest,
        messages=TelemetryMessages(engine, credentials, ingest, tenant_by_slug),
        compactor=Compactor(
            uow,
            engine,
            silent_after_s=silent_after_s,
            retention_days=retention_days,
            max_age_s=compact_after_s,
            read_engine=read_engine,
            retention_rules=retention_rules,
        ),
        overlap=timedelta(hours=overlap_hours),
        formats=formats,
    )
