"""Every query of docs/QUERIES.md runs against a demo warehouse and answers something."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from core import settings
from quality.checks import QualityGateFailed, gate
from tests.integration import catalogue_rows
from warehouse import versions
from warehouse.publish import publish
from warehouse.query import parse_params, run_sql

DOC = settings.REPO_ROOT / "docs" / "QUERIES.md"
BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def doc_queries() -> list[tuple[str, dict[str, str], bool]]:
    """(query, params, pinned) of each sql block; ``-- version: live`` runs it with --version."""
    out = []
    for text in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        params_line = re.search(r"^-- params:(.*)$", text, re.M)
        assert params_line, f"a query without a -- params: line:\n{text}"
        out.append((text, parse_params(params_line.group(1).split()), "-- version: live" in text))
    return out


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("queries") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCENETUNE_HOME", str(home))
        for run_key, songs in (("20261101T000000Z", 4), ("20261108T000000Z", 6)):
            pinned = catalogue_rows.write(run_key, catalogue_rows.catalogue(run_key, songs=songs))
            gate(run_key, pinned)
            publish(run_key, pinned)
        bad = catalogue_rows.catalogue("20261115T000000Z", songs=6)
        bad["gold.songs"] = pa.concat_tables([bad["gold.songs"], bad["gold.songs"].slice(0, 1)])
        with pytest.raises(QualityGateFailed):
            gate("20261115T000000Z", catalogue_rows.write("20261115T000000Z", bad))
        yield home


def test_the_doc_has_eight_to_ten_queries():
    assert 8 <= len(doc_queries()) <= 10


@pytest.mark.parametrize("number", range(len(doc_queries())), ids=lambda n: f"query{n + 1}")
def test_each_documented_query_answers(demo_warehouse, monkeypatch, number):
    monkeypatch.setenv("SCENETUNE_HOME", str(demo_warehouse))
    query, params, pinned = doc_queries()[number]
    result = run_sql(query, params, version=versions.live()["version"] if pinned else None)
    assert result.rows, f"no rows from:\n{query}"
    if "nearest" in query or "sentence_vectors" in query:
        assert len(result.rows) >= 2 and all(row[2] <= 1.0 for row in result.rows)
    if "FROM quarantine" in query:
        assert {row[0] for row in result.rows} == {3} and result.rows[0][2] == "key (song_key) not unique"


def test_the_two_typical_queries_take_the_fast_path(demo_warehouse, monkeypatch):
    """Query 1 reads a few ranked rows, query 2 is an index lookup; --version gives the same rows."""
    monkeypatch.setenv("SCENETUNE_HOME", str(demo_warehouse))
    (tag_query, tag_params, _), (near_query, near_params, _) = doc_queries()[:2]
    assert "songs_by_tag_genre" in tag_query and "rank <=" in tag_query
    plan = " ".join(str(cell) for row in run_sql(f"EXPLAIN ANALYZE {near_query}", near_params).rows for cell in row)
    assert "Index Scan" in plan and "nearest_songs" in plan
    live = versions.live()["version"]
    for table in ("nearest_songs", "songs_by_tag_genre"):
        query = f"SELECT * EXCLUDE (similarity) FROM {table} ORDER BY ALL" if table == "nearest_songs" else \
            f"SELECT * FROM {table} ORDER BY ALL"
        assert run_sql(query, max_rows=1000).rows == run_sql(query, max_rows=1000, version=live).rows != []
    similarity = "SELECT round(similarity, 5) FROM nearest_songs ORDER BY song_key, rank"
    assert run_sql(similarity, max_rows=1000).rows == run_sql(similarity, max_rows=1000, version=live).rows
