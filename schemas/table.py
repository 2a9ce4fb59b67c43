"""How a table is described: grain, key, columns and layer, stated once.

Each ``schemas/<layer>.py`` module declares its tables with :class:`Table`;
the Arrow schema (delta-rs, DuckDB), the Spark schema and the JSON schema
(crawler item validation) are all derived from that one declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from core import settings

# Logical column types and how each maps to Arrow / Spark DDL / JSON schema.
_ARROW = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "list<string>": pa.list_(pa.string()),
    "list<float32>": pa.list_(pa.float32()),
}
_SPARK_DDL = {
    "string": "STRING",
    "int32": "INT",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "list<string>": "ARRAY<STRING>",
    "list<float32>": "ARRAY<FLOAT>",
}
_JSON = {
    "string": {"type": "string"},
    "int32": {"type": "integer"},
    "int64": {"type": "integer"},
    "float32": {"type": "number"},
    "float64": {"type": "number"},
    "bool": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "list<string>": {"type": "array", "items": {"type": "string"}},
    "list<float32>": {"type": "array", "items": {"type": "number"}},
}
LAYERS = ("bronze", "silver", "gold", "ops")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in _ARROW:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Table:
    name: str
    layer: str
    grain: str  # one line: "one row per ..."
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"table {self.name}: unknown layer {self.layer!r}")
        names = self.column_names
        for col in (*self.key, *self.partition_by):
            if col not in names:
                raise ValueError(f"table {self.name}: {col!r} is not a column")

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def path(self) -> Path:
        """The table's Delta folder under SCENETUNE_HOME (read from the settings now)."""
        return settings.load().delta_path(self.layer, self.name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, _ARROW[c.type], nullable=c.nullable) for c in self.columns]
        )

    def spark_ddl(self) -> str:
        parts = []
        for c in self.columns:
            parts.append(f"`{c.name}` {_SPARK_DDL[c.type]}{'' if c.nullable else ' NOT NULL'}")
        return ", ".join(parts)

    def json_schema(self, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """JSON schema of one row (items the crawler emits are validated with it)."""
        props: dict[str, Any] = {}
        required = []
        for c in self.columns:
            if c.name in exclude:
                continue
            spec = dict(_JSON[c.type])
            if c.nullable:
                spec = {"anyOf": [spec, {"type": "null"}]}
            else:
                required.append(c.name)
            props[c.name] = spec
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.qualified_name,
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    def describe(self) -> str:
        """Markdown description (used by docs/TABLES.md and `scenetune sql --describe`)."""
        lines = [
            f"### `{self.qualified_name}`",
            "",
            f"Grain: {self.grain}. Key: `({', '.join(self.key)})`."
            + (f" Partitioned by `{', '.join(self.partition_by)}`." if self.partition_by else ""),
        ]
        if self.doc:
            lines += ["", self.doc]
        lines += ["", "| column | type | null | meaning |", "|---|---|---|---|"]
        for c in self.columns:
            lines.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.doc} |")
        return "\n".join(lines)


# Every silver and gold row says which run's catalogue build wrote it.
RUN_KEY = Column("run_key", "string", False, "run whose catalogue build wrote the row")
