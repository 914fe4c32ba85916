"""The gateway and fleet simulator, its scenarios, and a mock ERP: ``supplyline simulate`` and
``supplyline mock-erp``, which the demo (``supplyline.demo``) and the tests use.

``run_simulation`` discovers a tenant through the /v1 API and publishes signed readings over
HTTP or MQTT; ``model``, ``geo`` and ``plan`` are the pure parts (no I/O). ``create_mock_erp``
is an ASGI app standing in for a customer's ERP.
"""

from __future__ import annotations

from supplyline.sim.discovery import SimulationError
from supplyline.sim.mock_erp import DEFAULT_PORT as MOCK_ERP_PORT
from supplyline.sim.mock_erp import ErpState, create_mock_erp
from supplyline.sim.model import Note, sim_clock
from supplyline.sim.plan import SCENARIOS, Scenario
from supplyline.sim.scenario import Published, SimConfig, SimSummary, run_simulation

__all__ = [
    "MOCK_ERP_PORT",
    "SCENARIOS",
    "ErpState",
    "Note",
    "Published",
    "Scenario",
    "SimConfig",
    "SimSummary",
    "SimulationError",
    "create_mock_erp",
    "run_simulation",
    "sim_clock",
]
