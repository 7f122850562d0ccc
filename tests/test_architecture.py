"""The dependency rules (pyproject's [tool.importlinter], explained in docs/architecture.md) hold."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from grimp import ImportGraph

import campaigns
from campaigns import wiring
from campaigns.plugs import NotWired, Plug
from tests.import_contracts import WebEdgesContract

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_import_contracts_are_kept() -> None:
    # --no-cache: the graph is rebuilt from the files as they are, and nothing is written to the tree.
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


class TestWebEdgesContract:
    @staticmethod
    def _check(*imports: tuple[str, str]) -> list[tuple[str, str]]:
        graph = ImportGraph()
        for package in ("app", "app.a", "app.b", "hooks"):
            graph.add_module(package)
        for importer, imported in imports:
            graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
        contract = WebEdgesContract(
            name="web edges", session_options={}, contract_options={"packages": ["app.*", "hooks"]}
        )
        check = contract.check(graph, verbose=False)
        crossings = [(c["importer"], c["imported"]) for c in check.metadata["crossings"]]
        assert check.kept == (not crossings)
        return crossings

    def test_a_page_importing_another_packages_routes_breaks_it(self) -> None:
        assert self._check(("app.a.review_pages", "app.b.routes")) == [("app.a.review_pages", "app.b.routes")]

    def test_routes_of_another_top_level_package_count(self) -> None:
        assert self._check(("hooks.routes", "app.b.api")) == [("hooks.routes", "app.b.api")]

    def test_web_modules_of_the_same_package_may_import_each_other(self) -> None:
        assert self._check(("app.a.routes", "app.a.review_routes"), ("app.a.routes", "app.a.pages")) == []

    def test_web_modules_may_import_other_packages_non_web_modules(self) -> None:
        assert self._check(("app.a.routes", "app.b.service"), ("app.a.pages", "app.b.schemas")) == []


class TestWiring:
    def test_every_plug_of_the_domain_is_wired(self) -> None:
        declared: dict[int, str] = {}
        for info in pkgutil.walk_packages(campaigns.__path__, "campaigns."):
            module = importlib.import_module(info.name)
            declared |= {id(v): v.name for v in vars(module).values() if isinstance(v, Plug)}

        assert declared == {id(plug): plug.name for plug in wiring.PLUGS}

    def test_wire_fills_every_plug_and_may_run_again(self) -> None:
        wiring.wire()
        wiring.wire()

        assert [plug.name for plug in wiring.PLUGS if not plug.plugged] == []

    def test_an_empty_plug_fails_loudly(self) -> None:
        plug: Plug[int] = Plug("tests.empty")

        with pytest.raises(NotWired, match=r"tests\.empty is not wired"):
            plug()

    def test_a_second_implementation_is_refused(self) -> None:
        plug: Plug[str] = Plug("tests.one")
        plug.plug("first")

        with pytest.raises(RuntimeError, match="already plugged"):
            plug.plug("second")
        assert plug() == "first"

    @pytest.mark.parametrize(
        "edge",
        [
            "from service.app import worker_jobs; worker_jobs()",
            "from service.app import create_app; create_app(settings)",
        ],
    )
    def test_each_edge_wires_the_domain_itself(self, edge: str, tmp_path: Path) -> None:
        # A fresh process: nothing but the edge itself may have plugged anything in.
        script = textwrap.dedent(
            f"""
            from campaigns.wiring import PLUGS
            from service.settings import Settings
            settings = Settings(
                database_url="sqlite+aiosqlite:///{tmp_path}/edge.db",
                secret_key="edge-wiring-test-secret-key-long-enough",
                public_base_url="http://testserver",
                data_dir="{tmp_path}/data",
                log_json=False,
            )
            assert not any(plug.plugged for plug in PLUGS)
            {edge}
            print(sorted(plug.name for plug in PLUGS if not plug.plugged))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )

        assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
