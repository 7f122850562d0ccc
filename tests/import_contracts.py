"""An import-linter contract the built-in ones cannot express: web modules stay in their package.

A web module (`routes`, `pages`, `api`, `*_routes`, `*_pages`) is a package's edge: it parses a
request, calls the package's use cases and renders the answer. When one package's web module
imports another package's, a guard or a serialiser is living in the wrong place and the two
edges can no longer change apart; shared guards and serialisers belong in a neutral web module
(`service.web`) instead. import-linter's own module expressions match whole names only
(`campaigns.*.routes`, never `campaigns.*.*_pages`), hence this small contract type, registered
in pyproject's `[tool.importlinter]` as `web_edges`.
"""

from __future__ import annotations

import re
from typing import TypedDict, cast

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

WEB_MODULE = re.compile(r"^(?:routes|pages|api|[a-z0-9_]+_routes|[a-z0-9_]+_pages)$")


class Crossing(TypedDict):
    importer: str
    imported: str
    line_numbers: list[int]


class WebEdgesContract(Contract):
    """No web module of one package imports a web module of another package.

    Options:
        packages: module expressions naming the packages that own web modules
                  (e.g. `campaigns.*`, `webhooks`); a module belongs to the longest one it is in.
    """

    type_name = "web_edges"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        owners = self._owners(graph)
        web = {m: owner for m in graph.modules if (owner := _owner(m, owners)) and _is_web(m)}
        crossings: list[Crossing] = []
        for importer, owner in sorted(web.items()):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported in web and web[imported] != owner:
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = sorted({int(d["line_number"]) for d in details})
                    crossings.append({"importer": importer, "imported": imported, "line_numbers": lines})
        return ContractCheck(kept=not crossings, metadata={"crossings": crossings})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for crossing in cast(list[Crossing], check.metadata["crossings"]):
            lines = ", ".join(f"l.{n}" for n in crossing["line_numbers"])
            output.print_error(f"{crossing['importer']} -> {crossing['imported']} ({lines})", bold=False)
        output.new_line()
        output.print(
            "A web module may import only its own package's web modules; move the shared "
            "guard or serialiser to service.web."
        )

    def _owners(self, graph: ImportGraph) -> set[str]:
        owners: set[str] = set()
        for expression in cast(list[str], self.packages):
            owners |= graph.find_matching_modules(expression) if "*" in expression else {expression}
        return owners


def _owner(module: str, owners: set[str]) -> str | None:
    candidates = [o for o in owners if module.startswith(o + ".")]
    return max(candidates, key=len) if candidates else None


def _is_web(module: str) -> bool:
    return bool(WEB_MODULE.match(module.rsplit(".", 1)[-1]))
