"""Read-only SQL over the published DuckDB file."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from scenetune import settings
from scenetune.errors import ScenetuneError


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple]

    def format(self, max_rows: int = 50, max_width: int = 60) -> str:
        def cell(v: object) -> str:
            text = "NULL" if v is None else str(v)
            return text if len(text) <= max_width else text[: max_width - 1] + "…"

        shown = [[cell(v) for v in row] for row in self.rows[:max_rows]]
        widths = [max([_width(c)] + [_width(r[i]) for r in shown]) for i, c in enumerate(self.columns)]
        line = lambda vals: " | ".join(v + " " * (w - _width(v)) for v, w in zip(vals, widths))  # noqa: E731
        out = [line(self.columns), "-+-".join("-" * w for w in widths), *(line(r) for r in shown)]
        more = len(self.rows) - len(shown)
        out.append(f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''}" + (f", {more} not shown)" if more > 0 else ")"))
        return "\n".join(out)


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def run_sql(sql: str) -> Result:
    import duckdb

    path = settings.load().duckdb_path
    if not path.exists():
        raise ScenetuneError(f"no published warehouse at {path}: run `scenetune refresh` (or `make demo`) first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        try:
            cur = con.execute(sql)
        except duckdb.Error as exc:
            raise ScenetuneError(f"SQL error: {str(exc).splitlines()[0]}") from None
        columns = [d[0] for d in cur.description] if cur.description else []
        return Result(columns, cur.fetchall() if columns else [])
    finally:
        con.close()
