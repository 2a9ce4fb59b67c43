"""The benchmark runner writes the agreed result keys and the docs table."""

from __future__ import annotations

import json

from bench import runner


def test_record_writes_every_key_and_the_doc_lists_it(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(runner, "DOC", tmp_path / "BENCHMARKS.md")
    m = runner.Measurement(metric="pages per second", unit="pages/s", value=300.0, baseline=20.0, scale="tiny")
    result = runner.record("probe", m)
    on_disk = json.loads((tmp_path / "results" / "probe.json").read_text())
    assert on_disk == result
    assert set(runner.KEYS) <= set(on_disk)
    assert on_disk["ratio"] == 15.0
    doc = runner.write_doc().read_text()
    assert "| probe | pages per second | 300.0 pages/s | 20.0 pages/s | 15.0× | tiny |" in doc


def test_lower_is_better_ratio():
    m = runner.Measurement(metric="seconds", unit="s", value=2.0, baseline=10.0, scale="x", higher_is_better=False)
    assert m.ratio == 5.0
