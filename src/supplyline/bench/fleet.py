"""The fleet every telemetry benchmark drives: a fresh SQLite database with a tenant, gateways,
devices behind them and credentials, plus the environment a server or bridge needs to use it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from supplyline import access
from supplyline.bootstrap import Services, build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings
from supplyline.telemetry import issue_credential

TENANT = "bench"


@dataclass(frozen=True)
class Fleet:
    work_dir: Path
    db_path: Path
    url: str
    key: str  # the server key that encrypts device secrets: server and bench must share it
    setup: dict[str, Any]  # per: devices per gateway; creds: code -> (token, secret); singles

    def settings(self) -> Settings:
        return Settings(database_url=self.url, data_dir=self.work_dir, secret_key=self.key)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `python -m supplyline ...` process working on this fleet."""
        return {
            **os.environ,
            "SUPPLYLINE_DATABASE_URL": self.url,
            "SUPPLYLINE_DATA_DIR": str(self.work_dir),
            "SUPPLYLINE_SECRET_KEY": self.key,
            "SUPPLYLINE_LOG_LEVEL": os.environ.get("SUPPLYLINE_BENCH_LOG_LEVEL", "warning"),
            **extra,
        }


async def prepare_fleet(work_dir: Path, gateways: int, devices: int, singles: int) -> Fleet:
    """A migrated database in ``work_dir`` with the fleet created through the use cases."""
    db_path = work_dir / "bench.db"
    url = f"sqlite:///{db_path}"
    key = Fernet.generate_key().decode()
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(Settings(database_url=url, data_dir=work_dir, secret_key=key))
    try:
        setup = await _setup(svc, gateways, devices, singles)
    finally:
        await svc.close()
    return Fleet(work_dir, db_path, url, key, setup)


async def _setup(svc: Services, gateways: int, devices: int, singles: int) -> dict[str, Any]:
    """A tenant with gateways, devices behind them and credentials; returns codes and secrets."""
    async with svc.uow() as uow:
        _, key = await access.create_tenant(uow, Scope.platform(), TENANT, "Bench")
        await uow.commit()
    scope = Scope.system(key.key.tenant_id)  # type: ignore[arg-type]
    metrics = [
        {"metric": m, "unit": u, "min": lo, "max": hi}
        for m, u, lo, hi in (
            ("temperature_c", "C", -40, 60),
            ("humidity_pct", "%", 0, 100),
            ("battery_v", "V", 0, 5),
            ("door_open", "bool", 0, 1),
        )
    ]
    per = devices // gateways
    async with svc.uow() as uow:
        res = svc.resources
        tracker = await res.create(
            uow,
            scope,
            "device-profiles",
            {"code": "tracker", "name": "Tracker", "device_kind": "sensor", "metrics": metrics},
        )
        gw_profile = await res.create(
            uow, scope, "device-profiles", {"code": "gw", "name": "Gateway", "device_kind": "gateway"}
        )
        gws = await res.create_many(
            uow,
            scope,
            "devices",
            [
                {"code": f"gw-{g}", "kind": "gateway", "device_profile_id": gw_profile["id"]}
                for g in range(gateways)
            ],
        )
        rows = [
            {
                "code": f"s-{g}-{i}",
                "kind": "sensor",
                "device_profile_id": tracker["id"],
                "gateway_id": gws[g]["id"],
            }
            for g in range(gateways)
            for i in range(per)
        ]
        created = []
        for start in range(0, len(rows), 1000):
            created += await res.create_many(uow, scope, "devices", rows[start : start + 1000])
        creds = {}
        for dev in [*gws, *created[:singles]]:
            cred = await issue_credential(
                uow, scope, dev["id"], svc.telemetry.box, overlap=svc.telemetry.overlap
            )
            creds[dev["code"]] = (cred.token, cred.secret)
        await uow.commit()
    return {"per": per, "creds": creds, "singles": [d["code"] for d in created[:singles]]}


def reading(code: str, seq: int, ts: int) -> dict[str, Any]:
    return {
        "device": code,
        "seq": seq,
        "ts": ts,
        "metrics": {
            "temperature_c": 4.0 + (seq % 7) * 0.1,
            "humidity_pct": 60.0 + seq % 5,
            "battery_v": 3.6,
            "door_open": False,
        },
    }
