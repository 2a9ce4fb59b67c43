"""Every table scenetune writes: grain, key, columns and layer, stated once.

``schemas.TABLES`` maps ``"layer.name"`` to its :class:`~schemas.table.Table`.
"""

from schemas import bronze, gold, ops, scoring, silver
from schemas.table import Column, Table

TABLES: dict[str, Table] = {
    t.qualified_name: t for t in (*bronze.TABLES, *silver.TABLES, *gold.TABLES, *ops.TABLES, *scoring.TABLES)
}

__all__ = ["TABLES", "Column", "Table", "bronze", "silver", "gold", "ops", "scoring"]
