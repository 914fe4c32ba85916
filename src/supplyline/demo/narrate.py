"""What the demo tells in the terminal: the tenant, the parts it started, the simulator's plan
and notes, one panel per beat of the story, and where to see the loop in the API.

Every line the demo prints is here, written to the console it is given (the CLI's), so the
loop and the seeding say nothing themselves.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from supplyline.demo.facts import LIMIT_C, SPEED, TENANT_SLUG
from supplyline.demo.logins import DemoLogin
from supplyline.demo.seed import DemoInfo
from supplyline.demo.story import Beat, Story
from supplyline.sim import Published, SimSummary, sim_clock

COLOURS = ("cyan", "magenta", "red", "yellow", "green", "blue")


class Narrator:
    def __init__(self, console: Console) -> None:
        self.console = console

    def _say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    # ---- setting up ----------------------------------------------------------------------------

    def seeded(self, info: DemoInfo, data_dir: Path) -> None:
        what = "Seeded" if info.created else "Reusing"
        self._say(
            f"{what} the demo tenant {escape(info.name)} ({info.slug}, {sum(info.counts.values())} "
            f"records) in {escape(str(data_dir))}."
        )

    def tenant(self, info: DemoInfo, token: str, url: str, credentials: Path) -> None:
        """Without the loop: the tenant, its key and a first request."""
        what = "Seeded" if info.created else "Reusing"
        grid = Table.grid(padding=(0, 2))
        grid.add_row("Tenant", escape(f"{info.name} ({info.slug}), {sum(info.counts.values())} records"))
        grid.add_row("API", f"{url}/v1  (docs: {url}/docs)")
        grid.add_row("API key", f"[bold]{token}[/]")
        grid.add_row("Saved in", escape(str(credentials)))
        self.console.print(Panel.fit(grid, title=f"{what} the demo tenant"), soft_wrap=True)
        self.console.print("Try it:", style="bold")
        self._curl(f"curl -s -H 'Authorization: Bearer {token}' '{url}/v1/shipments'")

    def console_logins(self, url: str, logins: list[DemoLogin]) -> None:
        """The console's address and a login for each role (passwords only ever shown here)."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        for login in logins:
            grid.add_row(login.role, login.email, login.password, f"[dim]{escape(login.grants)}[/]")
        title = f"The console: {url}/  (tenant: {TENANT_SLUG})"
        self.console.print(Panel.fit(grid, title=title), soft_wrap=True)

    def started(self, erp_url: str, erp_pid: int, api_url: str, api_pid: int, data_dir: Path) -> None:
        self._say(
            f"Started the mock ERP at {erp_url}/erp/v1 (pid {erp_pid}) and the API server at "
            f"{api_url} (pid {api_pid}, ERP messages to the mock); logs in "
            f"{escape(str(data_dir))}/demo-*.log."
        )

    def ready(self, after_s: float) -> None:
        self._say(f"Both answer ({after_s:.1f} s after start).")

    def aside(self, text: str) -> None:
        self._say(f"[dim]{escape(text)}[/]")

    def simulating(self, s: SimSummary) -> None:
        per = "a simulated minute" if SPEED == 60 else f"{SPEED:g} simulated seconds"
        self._say(f"Simulating {escape(', '.join(s.units))} at {SPEED:g}x ({per} per second).")
        if s.failing is not None and s.fails_at_s is not None:
            self._say(
                f"The compressor of [bold]{escape(s.failing)}[/] fails at {sim_clock(s.fails_at_s)} "
                f"simulated (in {s.fails_at_s / SPEED:.0f} s); its trailer then warms past {LIMIT_C} C."
            )

    def published(self, p: Published) -> None:
        for n in p.notes:
            self._say(f"[dim]  {sim_clock(n.t)} sim  {escape(n.unit)}: {escape(n.text)}[/]")

    # ---- the story -----------------------------------------------------------------------------

    def beat(self, beat: Beat, of: int) -> None:
        colour = COLOURS[(beat.step - 1) % len(COLOURS)]
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, text in beat.rows:
            grid.add_row(escape(label), escape(text))
        title = f"[bold {colour}]{beat.step}/{of} {escape(beat.title)}[/]"
        self.console.print(
            Panel(grid, title=title, title_align="left", subtitle=f"+{beat.at_s:.1f} s", border_style=colour)
        )

    def complete(self, story: Story, api_url: str, erp_url: str, token: str, after_s: float) -> None:
        cid = story.correlation_id or ""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("API", f"{api_url}/v1  (docs: {api_url}/docs)")
        grid.add_row("API key", token)
        grid.add_row("Mock ERP", f"{erp_url}/erp/v1")
        grid.add_row("Correlation", cid)
        self.console.print(
            Panel.fit(grid, title=f"[bold green]A complete loop, {after_s:.1f} s after start[/]"),
            soft_wrap=True,
        )
        self.console.print("See it in the API:", style="bold")
        auth = f"-H 'Authorization: Bearer {token}'"
        for path in (
            f"events?correlation_id={cid}",
            "alarms?active=true",
            "holds?status=active",
            "ledger/verify",
            "deliveries",
        ):
            self._curl(f"curl -s {auth} '{api_url}/v1/{path}'")
        self._curl(f"curl -s '{erp_url}/erp/v1/allocations'")

    def serving(self) -> None:
        self._say(
            "Serving, with the fleet still publishing; Ctrl-C stops the simulator, the server and "
            "the mock ERP."
        )

    def late(self, reason: str) -> None:
        self._say(f"[yellow]{escape(reason)}[/]; still watching.")

    def stopped(self) -> None:
        self.console.print("Stopped.")

    def _curl(self, line: str) -> None:
        self.console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)
