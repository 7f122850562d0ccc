"""Every route has a name that builds its path, and no page writes an internal URL by hand.

Links, form actions and redirects are built from route names (service.web.urls.path_for, in
templates `path_for('area:name', ...)`), so a path is written once, in the route table.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, NoMatchFound, Route
from starlette.staticfiles import StaticFiles

from service.app import create_app
from service.settings import Settings
from service.web.pages import TEMPLATES_DIR
from tests.conftest import TEST_SECRET_KEY

NAME = re.compile(r"^[a-z]+:[a-z0-9_]+$")
"""`<area>:<name>`: the area is the Mount (api, dashboard, console, sandbox) or, for the
routes outside any mount, the package that serves them (giving, sharing, moderation, ops...)."""

# A value each path convertor accepts, so a route's path can be built from its name.
SAMPLES = {
    "uuid": uuid.UUID("7d1f3f0e-0000-4000-8000-000000000001"),
    "str": "a-slug",
    "int": 7,
    "path": "a/b",
}


@dataclass(frozen=True)
class Leaf:
    name: str
    path: str
    """The full path pattern, mount prefixes included, e.g. /dashboard/campaigns/{campaign_id:uuid}."""
    mount: str
    """The prefix of the Mount it sits in ("" at the top level)."""
    route: Route


def leaves(routes: list[BaseRoute], prefix: str = "", namespace: str = "") -> Iterator[Leaf]:
    for route in routes:
        if isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                continue  # files, not routes: reached as path_for('static', path=...)
            inner = f"{namespace}{route.name}:" if route.name else namespace
            yield from leaves(route.routes, prefix + route.path, inner)
        else:
            assert isinstance(route, Route), route
            yield Leaf(f"{namespace}{route.name}", prefix + route.path, prefix, route)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    # No lifespan: the route table is built by create_app alone. Without a Stripe key the
    # sandbox is mounted too, so its routes are checked as well.
    data = tmp_path_factory.mktemp("routes")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{data / 'unused.db'}",
        secret_key=TEST_SECRET_KEY,
        public_base_url="http://testserver",
        data_dir=data,
        log_json=False,
    )
    assert settings.uses_stripe_sandbox
    return create_app(settings)


def sample_params(path: str) -> tuple[dict[str, object], str]:
    """Values for the path's parameters, and the path they must give."""
    params: dict[str, object] = {}

    def fill(match: re.Match[str]) -> str:
        name, _, kind = match.group(1).partition(":")
        params[name] = SAMPLES[kind or "str"]
        return str(params[name])

    return params, re.sub(r"{([^}]+)}", fill, path)


class TestRouteNames:
    def test_every_route_is_named_area_colon_name(self, app: Starlette) -> None:
        unnamed = [(leaf.path, leaf.name) for leaf in leaves(app.routes) if not NAME.match(leaf.name)]

        assert unnamed == []

    def test_names_are_unique(self, app: Starlette) -> None:
        seen: dict[str, str] = {}
        clashes = []
        for leaf in leaves(app.routes):
            if leaf.name in seen and seen[leaf.name] != leaf.path:
                clashes.append((leaf.name, seen[leaf.name], leaf.path))
            seen.setdefault(leaf.name, leaf.path)
        # The same path may carry one name per method only if the names differ too.
        names = [leaf.name for leaf in leaves(app.routes)]
        repeated = sorted({name for name in names if names.count(name) > 1})

        assert clashes == []
        assert repeated == []

    def test_every_name_builds_its_own_path(self, app: Starlette) -> None:
        wrong = []
        for leaf in leaves(app.routes):
            params, expected = sample_params(leaf.path)
            try:
                built = str(app.url_path_for(leaf.name, **params))
            except NoMatchFound:
                built = "(no match)"
            if built != expected:
                wrong.append((leaf.name, expected, built))

        assert wrong == []

    def test_no_route_repeats_its_mounts_prefix(self, app: Starlette) -> None:
        mounts = [leaf.mount for leaf in leaves(app.routes) if leaf.mount]
        repeated = [
            leaf.path for leaf in leaves(app.routes) if leaf.mount and leaf.path.count(leaf.mount) > 1
        ]
        # A route outside a mount may only be the mount's bare address (which a Mount never
        # matches), never a path below it.
        strays = [
            leaf.path
            for leaf in leaves(app.routes)
            if not leaf.mount and any(leaf.path.startswith(mount + "/") for mount in mounts)
        ]

        assert mounts
        assert repeated == []
        assert strays == []


# An attribute whose value starts with "/" is a path written by hand ("//" would be another
# host, equally wrong). Links to other sites start with a scheme and are fine.
HAND_WRITTEN = re.compile(
    r"""\b(?:href|action|src|formaction|poster|data-[a-z-]+)\s*=\s*["']/""", re.IGNORECASE
)
PATH_FOR = re.compile(r"""path_for\(\s*["']([^"']+)["']""")


def templates() -> list[Path]:
    return sorted(TEMPLATES_DIR.rglob("*.html"))


class TestTemplateUrls:
    def test_templates_exist(self) -> None:
        assert len(templates()) > 30

    @pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
    def test_no_hand_written_internal_url(self, template: Path) -> None:
        text = template.read_text()
        found = [
            f"{text.count(chr(10), 0, m.start()) + 1}: {text[m.start() : m.end() + 30]}"
            for m in HAND_WRITTEN.finditer(text)
        ]

        assert found == []

    def test_every_route_a_template_names_exists(self, app: Starlette) -> None:
        names = {leaf.name for leaf in leaves(app.routes)} | {"static"}
        named = {(t.name, name) for t in templates() for name in PATH_FOR.findall(t.read_text())}
        # A name built in the template ('dashboard:campaign_' ~ action) is checked where rendered.
        unknown = sorted((t, name) for t, name in named if name not in names and not name.endswith("_"))

        assert named
        assert unknown == []


ROOT = TEMPLATES_DIR.parent.parent
AREA_OF_PACKAGE = {"service/stripe_sandbox": "sandbox", "service/web": "", "service/mail": "mailbox"}
"""Which template folder each package renders from: campaigns/<area>/ renders <area>/...;
service/web (the layout and error pages) renders the top-level files."""
SHARED = {"base.html", "error.html", "unavailable.html", "_fields.html", "_email.html"}
_RENDERED = re.compile(r"""["']([a-z_]+(?:/[a-z_]+)?\.html)["']""")
_USED = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


def package_of(source: Path) -> str:
    parts = source.relative_to(ROOT).parts
    return "/".join(parts[:2])


class TestTemplateConvention:
    """One convention: service/templates/<area>/ holds the templates of the package named
    <area> (campaigns/console -> console/, the sandbox -> sandbox/); the top level holds only
    service.web's layout, error pages and shared form macros."""

    def test_top_level_holds_only_the_shared_templates(self) -> None:
        top = {p.name for p in TEMPLATES_DIR.glob("*.html")}

        assert top == SHARED

    def test_each_package_renders_only_its_own_folder(self) -> None:
        strays = []
        for source in [*ROOT.glob("campaigns/*/*.py"), *ROOT.glob("service/*/*.py")]:
            package = package_of(source)
            area = AREA_OF_PACKAGE.get(package, package.split("/")[-1])
            for name in _RENDERED.findall(source.read_text()):
                folder = name.rpartition("/")[0]
                if folder != area and name not in SHARED:
                    strays.append((str(source.relative_to(ROOT)), name))
                assert (TEMPLATES_DIR / name).is_file(), name

        assert strays == []

    def test_a_template_uses_only_its_own_folder_and_the_shared_ones(self) -> None:
        strays = []
        for template in templates():
            folder = str(template.parent.relative_to(TEMPLATES_DIR))
            for used in _USED.findall(template.read_text()):
                if used not in SHARED and used.rpartition("/")[0] != folder:
                    strays.append((str(template.relative_to(TEMPLATES_DIR)), used))

        assert strays == []


def requests_counted(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("goodloop_http_requests_total", labels) or 0.0


class TestRouteLabels:
    """Logs and metrics name a request by its full route template, mount prefix included."""

    async def test_a_mounted_route_is_labelled_with_its_full_template(self, app: Starlette) -> None:
        before = requests_counted("/dashboard/login", "200")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/dashboard/login")

        assert response.status_code == 200
        assert requests_counted("/dashboard/login", "200") == before + 1

    async def test_a_path_no_route_of_a_mount_takes_is_unmatched(self, app: Starlette) -> None:
        before = requests_counted("unmatched", "404")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/dashboard/no-such-page")

        assert response.status_code == 404
        assert requests_counted("unmatched", "404") == before + 1
