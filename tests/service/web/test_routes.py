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

import pytest
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
