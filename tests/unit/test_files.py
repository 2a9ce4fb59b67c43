"""Atomic file writes: readers see old or new contents, crashed writers leave nothing that lasts."""

from __future__ import annotations

import pytest

from core import files


def test_write_replaces_whole_file(tmp_path):
    target = tmp_path / "state" / "s.json"
    files.write_text(target, "first")
    files.write_text(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["s.json"]


def test_a_failed_write_keeps_the_old_contents_and_no_temp(tmp_path):
    target = tmp_path / "s.json"
    files.write_text(target, "old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_remove_stale_temps_finds_only_this_targets_temps(tmp_path):
    target = tmp_path / "scenetune.duckdb"
    stale = [tmp_path / ".scenetune.duckdb.77-1.tmp", tmp_path / ".scenetune.duckdb.77-1.tmp.wal"]
    other = [tmp_path / ".other.duckdb.77-1.tmp", tmp_path / "scenetune.duckdb"]
    for path in stale + other:
        path.write_text("x")
    assert files.remove_stale_temps(target) == sorted(stale)
    assert all(p.exists() for p in other) and not any(p.exists() for p in stale)
