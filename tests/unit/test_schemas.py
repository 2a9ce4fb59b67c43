"""Table declarations are consistent and docs/TABLES.md is current."""

from __future__ import annotations

import jsonschema
import pyarrow as pa
import pytest

from schemas import TABLES
from schemas.__main__ import DOC, render
from schemas.table import Column, Table


def test_every_table_states_grain_and_key():
    for name, table in TABLES.items():
        assert table.grain.startswith("one row per"), name
        assert table.key, name
        for col in table.key:
            assert not table.column(col).nullable, f"{name}: key column {col} is nullable"


def test_arrow_and_spark_schemas_follow_the_declaration():
    table = TABLES["gold.songs"]
    schema = table.arrow_schema()
    assert schema.names == table.column_names
    assert schema.field("tags").type == pa.list_(pa.string())
    assert "`tags` ARRAY<STRING> NOT NULL" in table.spark_ddl()


def test_json_schema_rejects_missing_and_extra_fields():
    table = TABLES["bronze.playlist_songs"]
    row = dict(run_key="r", source="genie", plm_seq=1, position=1, song_id="1", song_title="t", artist_id=None,
               artist_name="a", album_id=None, album_title=None, album_art_url=None)
    jsonschema.validate(row, table.json_schema())
    with pytest.raises(jsonschema.ValidationError, match="'song_title' is a required property"):
        jsonschema.validate({k: v for k, v in row.items() if k != "song_title"}, table.json_schema())
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        jsonschema.validate({**row, "surprise": 1}, table.json_schema())


def test_a_key_must_be_a_column():
    with pytest.raises(ValueError, match="'nope' is not a column"):
        Table("t", "gold", "one row per t", ("nope",), (Column("a", "string", False),))


def test_tables_doc_is_current():
    assert DOC.read_text() == render(), "run `python -m schemas` to refresh docs/TABLES.md"
