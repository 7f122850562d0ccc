"""The dependency rules (pyproject's [tool.importlinter], explained in docs/architecture.md) hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grimp import ImportGraph

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
