"""Imports run down the layers only: core at the bottom, stage packages in the middle, DAGs and CLI on top."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# package -> the packages of ours it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "schemas": {"core"},
    "warehouse": {"core", "schemas"},
    "crawlers": {"core", "schemas", "warehouse"},
    # imports of published datasets clean text and hash playlists as the crawl does
    "importers": {"core", "schemas", "warehouse", "crawlers"},
    "spark_jobs": {"core", "schemas", "warehouse"},
    "quality": {"core", "schemas", "warehouse"},
    "scoring": {"core", "schemas", "warehouse", "spark_jobs"},
    # a development tool: the pipeline never imports it (only scenetune.site starts it)
    "demo_site": {"core"},
    "scenetune": {"core", "schemas", "warehouse", "crawlers", "importers", "spark_jobs", "quality", "scoring",
                  "demo_site"},
    "dags": {"scenetune", "core", "schemas", "warehouse", "crawlers", "importers", "spark_jobs", "quality", "scoring"},
}
OURS = set(ALLOWED) | {"bench", "tests"}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every import in a file, including those inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_no_package_imports_a_layer_above_it():
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((REPO / package).rglob("*.py")):
            for name in imported_packages(path) - allowed - {package}:
                wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert wrong == []


def test_only_scenetune_site_starts_the_demo_site():
    starters = [str(p.relative_to(REPO)) for pkg in ALLOWED if pkg != "demo_site"
                for p in (REPO / pkg).rglob("*.py") if "demo_site" in imported_packages(p)]
    assert starters == ["scenetune/site.py"]
