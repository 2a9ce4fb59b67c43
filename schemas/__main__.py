"""``python -m schemas``: write docs/TABLES.md from the table declarations."""

from pathlib import Path

from schemas import TABLES

DOC = Path(__file__).resolve().parent.parent / "docs" / "TABLES.md"


def render() -> str:
    parts = [
        "# Tables",
        "",
        "Generated from `schemas/` by `python -m schemas`; do not edit by hand.",
        "Layers: bronze = as crawled, silver = cleaned and conformed, gold = features users query.",
    ]
    for table in TABLES.values():
        parts += ["", table.describe()]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC}")
