"""The demo: a seeded pharma cold-chain tenant and one complete loop told as it happens.

``seed`` and ``records`` create the tenant, ``credentials`` keeps its admin key in the data
dir, ``story`` watches one loop through the API and the ERP, ``loop`` runs the API server, the
mock ERP and the simulator (``supplyline.sim``, a product feature of its own) together, and
``narrate`` is everything the terminal shows. Each fact the parts share is in ``facts``.
The CLI (``supplyline demo``) is a thin layer over this package.
"""

from __future__ import annotations

from supplyline.demo import facts
from supplyline.demo.children import Children
from supplyline.demo.credentials import (
    credentials_path,
    demo_api_key,
    ready_logins,
    ready_tenant,
    saved_credentials,
)
from supplyline.demo.logins import DemoLogin
from supplyline.demo.loop import EXIT_AFTER_LOOP_ENV, LOOP_BUDGET_S, LoopPlan, started, tell
from supplyline.demo.narrate import Narrator
from supplyline.demo.seed import DemoInfo, seed_demo
from supplyline.demo.story import STEPS, Beat, DemoError, Story

__all__ = [
    "EXIT_AFTER_LOOP_ENV",
    "LOOP_BUDGET_S",
    "STEPS",
    "Beat",
    "Children",
    "DemoError",
    "DemoInfo",
    "DemoLogin",
    "LoopPlan",
    "Narrator",
    "Story",
    "credentials_path",
    "demo_api_key",
    "facts",
    "ready_logins",
    "ready_tenant",
    "saved_credentials",
    "seed_demo",
    "started",
    "tell",
]
