"""Every setting scenetune reads, from environment variables with defaults.

This is the only module that looks at ``os.environ`` for scenetune's own
settings; everything else asks :func:`load`. ``.env.example`` lists each
variable. All data lives under ``SCENETUNE_HOME``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_number(name: str, default: float, parse, kind: str):
    raw = _env(name, str(default))
    try:
        return parse(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be {kind}, got {raw!r}") from None


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def _env_positive_int(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 1:
        raise ConfigurationError(f"{name} must be 1 or more, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


# What Spark 4 accepts as a master URL ("Master must either be yarn or start with spark, k8s, or local").
_SPARK_MASTER = re.compile(r"^(local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[.+\]|yarn|spark://\S+|k8s://\S+)$")


def _spark_master() -> str:
    value = _env("SPARK_MASTER", "local[*]")
    if not _SPARK_MASTER.match(value):
        raise ConfigurationError(
            f"SPARK_MASTER={value!r} is not a Spark master URL: use local[*], local[N], spark://HOST:PORT, yarn or k8s://URL"
        )
    return value


def _site_url(name: str) -> str:
    value = _env(name, "")
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"{name}={value!r} is not a site URL: use e.g. https://www.genie.co.kr")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    reference_dir: Path | None  # None: the data shipped in the repository (demo_site/data, cover templates)
    # Crawl
    genie_base_url: str  # empty: the embedded demo site
    user_agent: str
    crawl_concurrency: int
    crawl_obey_robots: bool
    # Runs that may try an unresolved playlist id (failed / quarantined) before it is parked; see crawlers.frontier.
    crawl_max_attempts: int
    demo_scale: str
    demo_seed: int
    demo_port: int
    # Spark
    spark_master: str
    spark_driver_memory: str
    spark_shuffle_partitions: int
    pyspark_python: str
    delta_writer: str  # "delta-rs" (default) or "delta-spark" (clusters with the Delta jars)
    bench_latency_ms: float  # simulated round trip of the demo site in the crawl benchmark
    scrapy_settings_module: str = field(default="crawlers.settings.base")

    # --- locations under SCENETUNE_HOME -------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def crawl_dir(self) -> Path:
        return self.raw_dir / "crawl"

    @property
    def covers_dir(self) -> Path:
        return self.raw_dir / "covers"

    @property
    def crawl_state_dir(self) -> Path:
        return self.home / "state" / "crawl"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def delta_dir(self) -> Path:
        return self.warehouse_dir / "delta"

    @property
    def staging_dir(self) -> Path:
        return self.warehouse_dir / "staging"

    @property
    def duckdb_path(self) -> Path:
        return self.warehouse_dir / "scenetune.duckdb"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def demo_site_cache_dir(self) -> Path:
        return self.cache_dir / "demo_site"

    def delta_path(self, layer: str, table: str) -> Path:
        return self.delta_dir / layer / table


def load() -> Settings:
    """Read the settings from the environment now (tests change it between calls)."""
    home = Path(_env("SCENETUNE_HOME", str(Path.home() / ".scenetune"))).expanduser()
    return Settings(
        home=home.resolve() if home.exists() else home.absolute(),
        reference_dir=Path(_env("SCENETUNE_REFERENCE_DIR", "")).expanduser() if _env("SCENETUNE_REFERENCE_DIR", "") else None,
        genie_base_url=_site_url("GENIE_BASE_URL"),
        user_agent=_env(
            "SCENETUNE_USER_AGENT",
            "scenetune/0.1 (+https://github.com/scenetune/scenetune; catalogue refresh bot)",
        ),
        crawl_concurrency=_env_int("SCENETUNE_CRAWL_CONCURRENCY", 32),
        crawl_obey_robots=_env("SCENETUNE_CRAWL_OBEY_ROBOTS", "1") not in ("0", "false", "no"),
        crawl_max_attempts=_env_positive_int("SCENETUNE_CRAWL_MAX_ATTEMPTS", 5),
        demo_scale=_env("SCENETUNE_DEMO_SCALE", "demo"),
        demo_seed=_env_int("SCENETUNE_DEMO_SEED", 7),
        demo_port=_env_int("SCENETUNE_DEMO_PORT", 0),
        spark_master=_spark_master(),
        spark_driver_memory=_env("SCENETUNE_SPARK_DRIVER_MEMORY", "4g"),
        spark_shuffle_partitions=_env_int("SCENETUNE_SPARK_SHUFFLE_PARTITIONS", 8),
        pyspark_python=_env("PYSPARK_PYTHON", sys.executable),
        delta_writer=_env_choice("SCENETUNE_DELTA_WRITER", "delta-rs", ("delta-rs", "delta-spark")),
        bench_latency_ms=_env_float("SCENETUNE_BENCH_LATENCY_MS", 30.0),
        # base: no HTTP cache (refreshes must see changes); prod: gentler, for genie.co.kr;
        # dev: HTTP cache for parser work (the default of `scrapy crawl` in crawlers/).
        scrapy_settings_module=_env("SCRAPY_SETTINGS_MODULE", "crawlers.settings.base"),
    )
