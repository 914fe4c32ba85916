"""All configuration, from environment variables prefixed SUPPLYLINE_; defaults need nothing else."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLYLINE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="Defaults to an embedded SQLite file in data_dir."
    )
    database_schema: str | None = Field(
        default=None,
        description="PostgreSQL schema to work in (search_path); the server's default when unset.",
    )
    admin_token: str | None = Field(
        default=None, description="A platform-admin bearer token, as an alternative to bootstrap."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    page_size: int = Field(default=50, ge=1, description="Items a list page holds unless `limit` says.")
    max_page_size: int = Field(default=1000, ge=1, le=100_000, description="The largest `limit` accepted.")
    secret_key: str | None = Field(
        default=None,
        description="Fernet key that encrypts device signing secrets; generated into data_dir when unset.",
    )
    telemetry_max_batch: int = Field(default=5000, ge=1, description="Readings per ingest request.")
    credential_overlap_hours: float = Field(
        default=24, ge=0, description="How long a rotated device credential keeps working."
    )
    clock_skew_threshold_s: float = Field(default=300, ge=1)
    telemetry_retention_days: int = Field(
        default=365, ge=1, description="Unless a retention policy says otherwise."
    )
    retention_purge_interval_s: float = Field(
        default=3600,
        ge=1,
        description="How often the workers purge events, audit entries and checkpoints past the "
        "retention a tenant set (GET/PUT /v1/governance/retention); telemetry is purged by the compactor.",
    )
    compactor: Literal["process", "inline", "off"] = Field(
        default="process",
        description="Where telemetry compaction, silence detection and retention run: 'process', a "
        "`supplyline compactor` child of serve and mqtt-bridge (the second core); 'inline', in their "
        "event loop; 'off', elsewhere (run `supplyline compactor` yourself).",
    )
    telemetry_compact_after_s: float = Field(
        default=30, ge=1, description="Landing readings wait at most this long to be compacted."
    )
    silent_after_s: float = Field(
        default=900, ge=1, description="A device unheard for this long went silent."
    )
    idempotency_ttl_hours: int = Field(default=24, ge=1, description="How long a retry replays.")
    session_ttl_hours: float = Field(default=8, gt=0, description="How long a login session lasts.")
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the console's cookies Secure: unset, when the request came over https; "
        "true behind a proxy that terminates TLS.",
    )
    stream_max_s: float = Field(
        default=600, gt=0, le=86400, description="GET /v1/stream closes after this long; clients reconnect."
    )
    stream_heartbeat_s: float = Field(
        default=15, gt=0, description="A comment line on a quiet stream this often, to keep proxies open."
    )
    stream_poll_s: float = Field(
        default=1,
        gt=0,
        description="How often a stream looks for events committed by other processes (the workers); "
        "this process's own commits wake it at once.",
    )
    run_consumers: bool = Field(default=True, description="Run event consumers inside serve.")
    workers: Literal["process", "inline"] = Field(
        default="process",
        description="Where serve runs the event consumers (rule actions, checkpoints, the ERP "
        "adapter), the outbox and alarm escalation: 'process', a `supplyline workers` child (their "
        "work does not share the API's event loop), or 'inline', in the API process.",
    )
    mqtt_url: str | None = Field(
        default=None, description="mqtt://host:1883: run the MQTT bridge (also inside serve)."
    )
    mqtt_group: str = Field(default="supplyline", description="MQTT 5 shared-subscription group.")
    mqtt_client_id: str | None = Field(
        default=None, description="Fixed per bridge instance: its session survives a restart."
    )
    erp_url: str | None = Field(
        default=None,
        description="Base URL of the ERP (e.g. the mock: http://127.0.0.1:8070): exceptions, holds "
        "and releases are sent there through the outbox.",
    )
    # Outbound webhooks (docs/webhooks.md): the outbox's delivery policy and the SSRF guard.
    webhook_timeout_s: float = Field(
        default=5, gt=0, le=120, description="How long one delivery attempt may take, all of it."
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, le=256, description="Endpoints the outbox sends to at the same time."
    )
    webhook_backoff_base_s: float = Field(
        default=1, gt=0, description="First retry within this; each retry doubles it (full jitter)."
    )
    webhook_backoff_cap_s: float = Field(default=300, gt=0, description="The longest wait between two tries.")
    webhook_max_attempts: int = Field(
        default=12, ge=1, description="A webhook delivery is dead (set aside) after this many failed tries."
    )
    webhook_dead_after_hours: float = Field(
        default=24, gt=0, description="... or when it still fails this long after it was queued."
    )
    webhook_breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures of an endpoint that open its circuit breaker."
    )
    webhook_breaker_cooldown_s: float = Field(
        default=60, gt=0, description="How long an open breaker waits before one probe (half-open)."
    )
    webhook_secret_overlap_hours: float = Field(
        default=24, ge=0, description="How long a rotated webhook secret keeps signing beside the new one."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach private, loopback, link-local and reserved addresses "
        "(the SSRF guard off).",
    )
    webhook_allowed_cidrs: list[str] = Field(
        default_factory=list,
        description='Networks webhooks may reach despite the SSRF guard, e.g. ["127.0.0.0/8", "::1/128"].',
    )
    forecast_interval_s: float = Field(
        default=86400,
        ge=1,
        description="How old a series' latest forecast may grow before the schedule runs it again "
        "(events such as a hold or a late shipment re-forecast sooner).",
    )
    escalation_interval_s: float = Field(
        default=5, ge=0.1, description="How often unacknowledged alarms are checked against their SLA."
    )
    # Quotas (429 + Retry-After past them): the defaults of every tenant without limits of its
    # own (PUT /v1/tenants/{id}/quotas). Unset: no limit. Each server process counts on its own.
    quota_requests_per_s: float | None = Field(
        default=None, gt=0, description="API requests a second per tenant (API keys, not devices)."
    )
    quota_requests_burst: int | None = Field(
        default=None, ge=1, description="Requests a tenant may make at once; unset: one second's worth."
    )
    quota_readings_per_s: float | None = Field(
        default=None, gt=0, description="Telemetry readings a second per tenant (HTTP and MQTT)."
    )
    quota_devices: int | None = Field(default=None, ge=0, description="Devices per tenant.")
    quota_refresh_s: float = Field(
        default=5, gt=0, description="How soon a quota changed elsewhere applies in this process."
    )
    export_dir: Path | None = Field(
        default=None, description="Where Parquet exports are written; defaults to data_dir/exports."
    )
    export_max_days: int = Field(
        default=31, ge=1, le=3660, description="The most days one POST /v1/exports may span."
    )
    export_schedule_hours: float = Field(
        default=0,
        ge=0,
        description="Every this many hours the workers export yesterday's partitions of every "
        "dataset for each tenant into export_dir/<slug>/daily (0: no schedule).",
    )
    log_level: str = "info"
    access_log: bool = Field(default=True, description="Log every request (off for benchmarks).")

    @model_validator(mode="after")
    def _burst_needs_a_rate(self) -> Settings:
        if self.quota_requests_burst is not None and self.quota_requests_per_s is None:
            raise ValueError("SUPPLYLINE_QUOTA_REQUESTS_BURST needs SUPPLYLINE_QUOTA_REQUESTS_PER_S")
        return self

    @model_validator(mode="after")
    def _page_fits(self) -> Settings:
        if self.page_size > self.max_page_size:
            raise ValueError("SUPPLYLINE_PAGE_SIZE must not exceed SUPPLYLINE_MAX_PAGE_SIZE")
        return self

    @model_validator(mode="after")
    def _cidrs_parse(self) -> Settings:
        for cidr in self.webhook_allowed_cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"SUPPLYLINE_WEBHOOK_ALLOWED_CIDRS: {cidr!r} is not a network") from None
        return self

    @property
    def resolved_export_dir(self) -> Path:
        return self.export_dir if self.export_dir is not None else self.data_dir / "exports"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'supplyline.db').resolve()}"
