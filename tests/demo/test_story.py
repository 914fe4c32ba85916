"""The demo's story against the real loop in-process: the demo tenant, the consumers and the
outbox running, the mock ERP on a real port (the outbox reaches it over HTTP). A signed reading
above 8 C from SHP-1001's tracker must make the story complete, in order, with what a viewer
of the demo is told; a second excursion on the same tenant (a re-run) must complete again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.demo import STEPS, Beat, DemoError, DemoInfo, Story, demo_api_key, facts, seed_demo
from supplyline.sim import ErpState
from supplyline.telemetry import sign
from tests.conftest import Backend, make_services


@pytest.fixture
async def loop(backend: Backend, tmp_path: Path, erp: tuple[str, ErpState]) -> AsyncIterator[Services]:
    """What ``serve`` runs: telemetry, the consumers, the outbox to the ERP."""
    svc = make_services(backend, tmp_path, erp_url=erp[0])
    stop = asyncio.Event()
    await svc.telemetry.start(compact=False)
    background = asyncio.create_task(svc.run_background(stop))
    yield svc
    stop.set()
    svc.events.notifier.notify()
    await background
    await svc.close()


class Demo:
    def __init__(self, svc: Services, api: httpx.AsyncClient, erp: httpx.AsyncClient, key: str) -> None:
        self.svc, self.api, self.erp, self.key = svc, api, erp, key
        self.headers = {"Authorization": f"Bearer {key}"}
        self.seq = int(time.time() * 1000)
        self.device: dict[str, str] = {}

    def story(self) -> Story:
        return Story(self.api, self.erp, self.key)

    async def send(self, temperature: float) -> None:
        """One signed reading of SHP-1001's tracker, stamped now (as the simulator does)."""
        if not self.device:
            r = await self.api.get("/v1/devices", params={"code": facts.TRACKER}, headers=self.headers)
            (device,) = r.json()["items"]
            issued = await self.api.post(f"/v1/devices/{device['id']}/credentials", headers=self.headers)
            assert issued.status_code in (200, 201), issued.text
            self.device = issued.json()
        self.seq += 1
        reading = {"device": facts.TRACKER, "seq": self.seq, "ts": int(time.time() * 1000)}
        body = orjson.dumps({"readings": [{**reading, "metrics": {"temperature_c": temperature}}]})
        headers = {
            "Authorization": f"Bearer {self.device['token']}",
            "X-Signature": sign(self.device["secret"], body),
        }
        r = await self.api.post("/v1/telemetry", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


@pytest.fixture
async def demo(loop: Services, erp: tuple[str, ErpState], tmp_path: Path) -> AsyncIterator[Demo]:
    info: DemoInfo = await seed_demo(loop)
    key = await demo_api_key(loop, info, tmp_path / facts.CREDENTIALS_FILE)
    transport = httpx.ASGITransport(app=create_app(loop, run_consumers=False))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as api,
        httpx.AsyncClient(base_url=erp[0]) as erp_client,
    ):
        yield Demo(loop, api, erp_client, key)


async def tell(story: Story, within: float = 20.0) -> list[Beat]:
    deadline = time.monotonic() + within
    beats: list[Beat] = []
    while not story.complete and time.monotonic() < deadline:
        beats += await story.poll()
        await asyncio.sleep(0.1)
    assert story.complete, story.missing()
    return beats


def rows(beats: list[Beat], name: str) -> dict[str, str]:
    (beat,) = [b for b in beats if b.name == name]
    return dict(beat.rows)


async def test_an_excursion_tells_the_whole_loop_in_order(demo: Demo, erp: tuple[str, ErpState]) -> None:
    story = demo.story()
    assert await story.prepare() == []  # a fresh tenant: nothing left on hold
    await demo.send(5.1)
    assert await story.poll() == [] and "condition_raised" in story.missing()
    await demo.send(9.4)
    beats = await tell(story)
    assert [b.name for b in beats] == list(STEPS) and [b.step for b in beats] == [1, 2, 3, 4, 5, 6, 7]
    reading = rows(beats, "reading")
    assert reading["value"].startswith("temperature_c = 9.4") and reading["stored"].startswith("yes")
    assert rows(beats, "events")["correlation"] == story.correlation_id
    assert "escalates" in rows(beats, "alarm")["SLA"]  # the seeded escalation policy gives an SLA
    holds = rows(beats, "holds")
    assert {"lot FLU-2611-A", "lot INS-2610-07"} <= set(holds)
    assert holds["sellable FLU-2611-A @ DC-LYON"].startswith("800 -> 0 box")
    plan = rows(beats, "planning")  # loop step 5
    assert plan["sellable VAX-FLU-10 @ DC-LYON"].startswith("1560 -> 760 box")
    assert plan["forecast VAX-FLU-10 @ DC-LYON"].startswith("re-run on lot.held")
    assert "365 days" in plan["forecast INS-PEN-5 @ DC-LYON"]
    order = plan["order VAX-FLU-10 @ DC-LYON"]
    assert order.startswith("0 -> ") and "held stock: 1,000 box of lot FLU-2611-A are on hold" in order
    ledger = rows(beats, "checkpoints")
    assert ledger["verify"].startswith("ok") and any("lot.held" in v for v in ledger.values())
    assert ledger["tree head"].endswith("verified") and "proven" in ledger["inclusion"]
    acks = rows(beats, "erp")
    assert acks["exception"].startswith("EXC-") and acks["hold"].startswith("HLD-")
    assert acks["allocation FLU-2611-A"].startswith("held")
    assert {a.lot_code for a in erp[1].allocations.values() if a.status == "held"} == {
        "FLU-2611-A",
        "INS-2610-07",
    }


async def test_a_second_run_releases_the_earlier_holds_and_completes_again(
    demo: Demo, erp: tuple[str, ErpState]
) -> None:
    first = demo.story()
    await first.prepare()
    await demo.send(9.0)
    await tell(first)
    second = demo.story()
    notes = await second.prepare()
    assert len(notes) == 2 and all("released the hold" in n for n in notes)
    await demo.send(5.0)  # below clear_at: the condition clears, as a new run's first readings do
    await demo.send(10.2)
    beats = await tell(second)
    assert second.correlation_id != first.correlation_id
    assert rows(beats, "holds")["sellable INS-2610-07 @ DC-LYON"].startswith("300 -> 0 box")
    kinds = [m["type"] for m in erp[1].messages]
    assert kinds.count("release") == 2 and kinds.count("hold") == 4 and kinds.count("exception") == 2


async def test_a_tenant_without_the_rule_is_refused_with_the_reason(demo: Demo) -> None:
    r = await demo.api.get("/v1/rules", params={"code": facts.RULE}, headers=demo.headers)
    (rule,) = r.json()["items"]
    patched = await demo.api.patch(
        f"/v1/rules/{rule['id']}",
        content=orjson.dumps({"enabled": False}),
        headers={**demo.headers, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    with pytest.raises(DemoError, match=f"no enabled rule '{facts.RULE}'"):
        await demo.story().prepare()
