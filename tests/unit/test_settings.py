"""Settings come from the environment, with defaults, and every variable is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import settings
from core.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[2]


def test_all_data_lives_under_scenetune_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SCENETUNE_HOME", str(tmp_path / "h"))
    s = settings.load()
    for path in (s.crawl_dir, s.covers_dir, s.delta_dir, s.duckdb_path, s.airflow_home, s.cache_dir, s.uploads_dir):
        assert path.is_relative_to(tmp_path / "h")
    assert s.delta_path("gold", "songs") == tmp_path / "h" / "warehouse" / "delta" / "gold" / "songs"


def test_defaults_and_overrides(monkeypatch):
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.delenv("SCENETUNE_DELTA_WRITER", raising=False)
    assert settings.load().spark_master == "local[*]"
    assert settings.load().delta_writer == "delta-rs"
    monkeypatch.setenv("SPARK_MASTER", "spark://127.0.0.1:7077")
    assert settings.load().spark_master == "spark://127.0.0.1:7077"


def test_a_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("SCENETUNE_CRAWL_CONCURRENCY", "many")
    with pytest.raises(ConfigurationError, match="SCENETUNE_CRAWL_CONCURRENCY must be a whole number"):
        settings.load()


def test_env_example_lists_every_variable_the_settings_read():
    source = (REPO / "core" / "settings.py").read_text()
    read = set(re.findall(r'_(?:env|env_int|env_float|env_choice|site_url)\("([A-Z_]+)"', source))
    example = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    assert read, "no variables found"
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"


def test_no_machine_paths_in_code():
    offenders = []
    for path in REPO.rglob("*.py"):
        if any(part in (".venv", "tests") for part in path.parts):
            continue
        text = path.read_text(errors="replace")
        if re.search(r"['\"](/work/|/home/|/root/|/tmp/)", text):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
