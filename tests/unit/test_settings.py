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
    read = set(re.findall(r'_[a-z_]+\("([A-Z][A-Z_]+)"', source))  # _env("X", ...), _port("X") ...
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


@pytest.mark.parametrize("name, value, says", [
    ("SCENETUNE_DEMO_PORT", "70000", "SCENETUNE_DEMO_PORT must be a TCP port"),
    ("SCENETUNE_DEMO_SCALE", "huge", "SCENETUNE_DEMO_SCALE must be one of tiny, demo, full"),
    ("SCENETUNE_REFERENCE_DIR", "/nonexistent/reference", "SCENETUNE_REFERENCE_DIR=/nonexistent/reference is not a folder"),
    ("SCENETUNE_CRAWL_CONCURRENCY", "0", "SCENETUNE_CRAWL_CONCURRENCY must be"),
    ("SCENETUNE_SPARK_SHUFFLE_PARTITIONS", "-1", "SCENETUNE_SPARK_SHUFFLE_PARTITIONS must be"),
    ("SCENETUNE_SPARK_DRIVER_MEMORY", "lots", "is not a JVM memory size"),
    ("SPARK_MASTER", "bogus", "is not a Spark master URL"),
    ("GENIE_BASE_URL", "www.genie.co.kr", "is not a site URL"),
])
def test_wrong_values_fail_when_read_naming_the_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=re.escape(says)):
        settings.load()


def test_the_demo_scales_settings_accept_are_the_demo_sites():
    from demo_site.catalogue import SCALES

    assert set(settings.DEMO_SCALES) == set(SCALES)


def test_the_refresh_schedule_is_weekly_unless_set_and_none_means_triggered_only(monkeypatch):
    monkeypatch.delenv("SCENETUNE_REFRESH_SCHEDULE", raising=False)
    assert settings.refresh_schedule() == "@weekly"
    for value, expected in (("none", None), ("@daily", "@daily"), ("0 3 * * 1", "0 3 * * 1")):
        monkeypatch.setenv("SCENETUNE_REFRESH_SCHEDULE", value)
        assert settings.refresh_schedule() == expected
    monkeypatch.setenv("SCENETUNE_REFRESH_SCHEDULE", "weekly")
    with pytest.raises(ConfigurationError, match="SCENETUNE_REFRESH_SCHEDULE='weekly' is not a schedule"):
        settings.refresh_schedule()
