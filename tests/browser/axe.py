"""axe-core in Chromium: inject the npm package's `axe.min.js` into a page through Playwright and
run it with the WCAG 2.0, 2.1 and 2.2 A and AA rules.

The script comes from `tests/a11y/node_modules` (`npm ci --prefix tests/a11y`, pinned in its
package-lock.json), never from the network. Without it the tests skip with the command to run;
in CI (`CI=true` or `GOODLOOP_REQUIRE_POSTGRES=1`) such a skip fails instead.

Our pages send `script-src 'self'`, which refuses the inline <script> that
`page.add_script_tag` writes: audit pages in a context made with `audit_context()`
(`bypass_csp=True`), and only for the audit; the other browser tests keep the real CSP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page, ViewportSize
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tests import databases

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = frozenset({"serious", "critical"})
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: list[str]
    summaries: list[str]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING

    def describe(self) -> str:
        lines = [f"[{self.impact}] {self.rule}: {self.help}"]
        for target, summary in zip(self.targets, self.summaries, strict=True):
            lines.append(f"    {target}: {summary.splitlines()[0] if summary else ''}")
        return "\n".join(lines)


def axe_script() -> Path:
    """The pinned axe-core, or a skip (a failure in CI) naming the command that installs it."""
    if AXE_SCRIPT.is_file():
        return AXE_SCRIPT
    message = f"the accessibility tests need axe-core: run `npm ci --prefix tests/a11y` (no {AXE_SCRIPT})"
    if databases.postgres_required():
        pytest.fail(message + "; CI requires them", pytrace=False)
    pytest.skip(message)


def audit_context(browser: Browser, viewport: ViewportSize = PHONE) -> BrowserContext:
    """A browser context in which axe can be injected despite the pages' strict CSP."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    return context


def script_route(path: str = "/axe.min.js") -> Route:
    """The pinned axe-core as a cacheable file, for a test's own loopback server.

    Injected by URL, Chromium keeps the script in its HTTP cache and, from the second load
    on, its compiled code: each page then costs a cache hit, where `add_script_tag(path=...)`
    sends the 550 KB through Playwright and Chromium parses it anew, every page and frame
    (most of an audit's time)."""

    def axe(request: Request) -> Response:
        if not AXE_SCRIPT.is_file():
            return Response(status_code=404)  # inject() skips (fails in CI) with the command to run
        return FileResponse(
            AXE_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    return Route(path, axe)


def inject(target: Page | Frame, script_url: str | None = None) -> None:
    """axe-core into a page or frame: from `script_url` (see `script_route`), or sent whole."""
    script = axe_script()
    if script_url is None:
        target.add_script_tag(path=str(script))
    else:
        target.add_script_tag(url=script_url)
    if not target.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        raise AssertionError(f"axe-core did not load into {target.url} (is the CSP bypassed?)")


AXE_RUN = """async (tags) => {
    const result = await window.axe.run(document, {
        runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations'],
        iframes: false,
    });
    return result.violations.map(v => ({
        id: v.id, impact: v.impact || 'minor', help: v.help,
        targets: v.nodes.map(n => JSON.stringify(n.target)),
        summaries: v.nodes.map(n => n.failureSummary || ''),
    }));
}"""
ORDER = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3}


def run_axe(page: Page, script_url: str | None = None) -> list[Violation]:
    """Every WCAG A/AA violation axe finds on the page as it is now, worst first, and in each of
    its frames (an embed on a nonprofit's site): axe runs in every frame on its own, because its
    own frame messaging does not reach a cross-origin frame injected this way; a frame's targets
    start with its address."""
    found: list[Violation] = []
    for frame in page.frames:
        if not frame.url.startswith("http"):
            continue
        inject(frame, script_url)
        where = "" if frame == page.main_frame else f"{frame.url} >> "
        for v in frame.evaluate(AXE_RUN, WCAG_TAGS):
            found.append(
                Violation(
                    rule=v["id"],
                    impact=v["impact"],
                    help=v["help"],
                    targets=[where + ", ".join(json.loads(t)) for t in v["targets"]],
                    summaries=v["summaries"],
                )
            )
    return sorted(found, key=lambda v: (ORDER.get(v.impact, 9), v.rule))


def report(where: str, violations: list[Violation]) -> str:
    if not violations:
        return f"{where}: no violations"
    return f"{where}:\n" + "\n".join(v.describe() for v in violations)


def assert_accessible(page: Page, where: str, script_url: str | None = None) -> list[Violation]:
    """Run axe, print every violation (moderate and minor too, to be fixed) and fail on a
    serious or critical one."""
    violations = run_axe(page, script_url)
    print(report(where, violations))
    blocking = [v for v in violations if v.blocking]
    assert not blocking, report(where, blocking)
    return violations
