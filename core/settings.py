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
# Song pages per crawl: ~15 min of a polite crawl of genie.co.kr (prod settings, ~3 pages/s), ~15 s of the
# demo site; a first crawl covers the most listed songs and later weekly runs fill in the rest.
DEFAULT_MAX_SONG_PAGES = 3000
# Zero-shot scene scorer (scoring/zero_shot.py): each image-statistics rule as (start, full, weight): its
# measurement gives no evidence at `start`, all of it at `full` (full < start: lower is stronger), and full
# evidence adds `weight` to its labels' calibrated z-scores. What each measures: zero_shot.RULE_MEASURE.
ZERO_SHOT_RULES = {
    "night": (0.30, 0.12, 2.5),  # mean luminance 0-1
    "dark_sky": (0.35, 0.15, 1.5),  # mean value (HSV) of the top third
    "blue_sky": (0.15, 0.50, 3.0),  # share of the top third that is sky blue
    "grey_sky": (0.30, 0.80, 2.0),  # share of the top third that is bright and colourless (times not blue)
    "flat_grey": (0.30, 0.70, 2.5),  # 0-1: low contrast times low saturation
    "snow": (0.15, 0.45, 3.0),  # share of the lower two thirds that is white
    "autumn": (0.15, 0.45, 2.5),  # share of orange-brown pixels
    "green": (0.15, 0.50, 1.5),  # share of saturated green pixels
    "blossom": (0.05, 0.25, 2.5),  # share of pink or strong yellow pixels
    "bright": (0.45, 0.70, 2.0),  # mean luminance 0-1
    "cool": (0.20, 0.55, 2.0),  # share of sky and water blue pixels
    "warm": (0.20, 0.55, 2.0),  # share of orange-yellow pixels
    "open_sky": (0.30, 0.80, 2.0),  # share of the top third that is sky (blue, or bright and colourless)
}


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


def _env_non_negative_int(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 0:
        raise ConfigurationError(f"{name} must be 0 or more, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_non_negative_float(name: str, default: float) -> float:
    value = _env_float(name, default)
    if not value >= 0:
        raise ConfigurationError(f"{name} must be 0 or more, got {value}")
    return value


def _env_unit(name: str, default: float) -> float:
    value = _env_float(name, default)
    if not 0 <= value <= 1:
        raise ConfigurationError(f"{name} must be between 0 and 1, got {value}")
    return value


def _env_share(name: str, default: float) -> float:
    value = _env_float(name, default)
    if not 0 < value <= 1:
        raise ConfigurationError(f"{name} must be a share above 0 and at most 1, got {value}")
    return value


def _env_positive_float(name: str, default: float) -> float:
    value = _env_float(name, default)
    if not value > 0:
        raise ConfigurationError(f"{name} must be above 0, got {value}")
    return value


def _env_rule(name: str, default: tuple[float, float, float]) -> tuple[float, float, float]:
    """``start,full,weight`` (three numbers, start != full, weight >= 0)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        start, full, weight = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigurationError(f"{name} must be three numbers 'start,full,weight', got {raw!r}") from None
    if start == full or weight < 0:
        raise ConfigurationError(f"{name}={raw!r}: start and full must differ and the weight be 0 or more")
    return start, full, weight


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


_CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")


def refresh_schedule() -> str | None:
    """catalogue_refresh's schedule (``SCENETUNE_REFRESH_SCHEDULE``): a cron preset or a five-field cron
    expression, default ``@weekly``; ``none`` for runs triggered by hand or through the API only.

    Read on its own, not by :func:`load`: the DAG file needs it when Airflow parses it, and a wrong
    unrelated setting must fail the run's preflight task, not the DAG's import.
    """
    value = _env("SCENETUNE_REFRESH_SCHEDULE", "@weekly")
    if value.lower() == "none":
        return None
    if value not in _CRON_PRESETS and len(value.split()) != 5:
        raise ConfigurationError(f"SCENETUNE_REFRESH_SCHEDULE={value!r} is not a schedule: use "
                                 f"{', '.join(_CRON_PRESETS)}, a cron expression like '0 3 * * 1', or none")
    return value


DEMO_SCALES = ("tiny", "demo", "full")  # the embedded demo site's scales (demo_site.catalogue.SCALES)


def _port(name: str) -> int:
    value = _env_int(name, 0)
    if not 0 <= value <= 65535:
        raise ConfigurationError(f"{name} must be a TCP port 1-65535, or 0 for a free one; got {value}")
    return value


def _memory_size(name: str, default: str) -> str:
    value = _env(name, default)
    if not re.fullmatch(r"\d+[kmgt]?", value.lower()):
        raise ConfigurationError(f"{name}={value!r} is not a JVM memory size: use e.g. 512m or 4g")
    return value


def _reference_dir() -> Path | None:
    value = _env("SCENETUNE_REFERENCE_DIR", "")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigurationError(f"SCENETUNE_REFERENCE_DIR={value} is not a folder (unset it to use the shipped data)")
    return path


def _clip_model_dir() -> Path | None:
    value = _env("SCENETUNE_CLIP_MODEL_DIR", "")
    if not value:
        return None
    path = Path(value).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigurationError(
            f"SCENETUNE_CLIP_MODEL_DIR={value} holds no config.json: give a CLIP folder in transformers format"
            " (CLIPModel.save_pretrained; open_clip folders are not supported: open_clip needs torchvision, whose"
            " PyPI build needs CUDA torch), or unset it to use EfficientNet-Lite0 and the trained tag head"
        )
    return path.resolve()


def check_site_url(value: str, name: str) -> str:
    """``value`` if it is an http(s) URL with a host, else a ConfigurationError naming ``name``."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{name}={value!r} is not a site URL: use e.g. https://www.genie.co.kr")
    return value


def _site_url(name: str) -> str:
    value = _env(name, "")
    return check_site_url(value, name) if value else value


@dataclass(frozen=True)
class Settings:
    home: Path
    reference_dir: Path | None  # None: the data shipped in the repository (demo_site/data, cover templates)
    # Crawl
    genie_base_url: str  # empty: the embedded demo site
    melon_dir: Path | None  # the Kakao Arena Melon dataset folder the refresh imports (None: no import)
    user_agent: str
    crawl_concurrency: int
    crawl_obey_robots: bool
    # Runs that may try an unresolved playlist id (failed / quarantined) before it is parked; see crawlers.frontier.
    crawl_max_attempts: int
    # Song pages (genres) one crawl may fetch, most listed songs first; the rest wait for later runs. 0: none.
    crawl_max_song_pages: int
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
    # Cover cleaning (spark_jobs/covers/rules.py): the thresholds worth tuning; changing one changes the
    # rules version, so the next clean analyses every cover again, once.
    cover_max_pixels: int = 40_000_000  # decoded pixels above this are refused (decompression bombs)
    cover_template_min_ssim: float = 0.95
    cover_ocr_min_confidence: float = 60.0
    cover_near_duplicate_distance: int = 14  # pHash bits
    # Image scoring (scoring/): what `scenetune submit` accepts and how the nightly scoring treats it.
    upload_max_bytes: int = 50 * 2**20  # a file above this is rejected at submit
    upload_max_pixels: int = 80_000_000  # decoded pixels above this fail (decompression bombs); phones take <= 50 MP
    scoring_max_attempts: int = 3  # scoring runs that may claim an image without finishing before it is failed
    # Recommendations (scoring/recommend.py): how far a photo's whole tag-score vector moves MPIC's query away from
    # its top labels' sentence (0 = the sentence only), MMR's relevance weight (1 = no diversity re-ranking), and
    # the penalties on a song's playlist_count percentile above the median and per earlier photo of the
    # submission it was already given to.
    recommend_query_mix: float = 0.5
    recommend_mmr_lambda: float = 0.7
    recommend_popularity_weight: float = 0.2
    recommend_spread_weight: float = 0.3
    clip_model_dir: Path | None = None  # a local CLIP model (transformers format): zero-shot tags instead of the head
    # Where the image encoder's ONNX export is kept (made once per weights digest): default SCENETUNE_HOME/models/encoders.
    encoder_dir: Path | None = None
    # Folders the score_uploads DAG may be asked to submit from (its `path` param must be inside one);
    # empty: SCENETUNE_HOME/inbox only. `scenetune submit` is run by the user and takes any folder.
    upload_roots: tuple[Path, ...] = ()
    # Tag merges (spark_jobs/tag_merge.py): a tag of the six categories joins a broader tag's label when, over
    # the tagged playlists, P(label | tag) and its lift over P(label) reach these, with enough playlists behind it.
    tag_merge_min_p: float = 0.4
    tag_merge_min_lift: float = 5.0
    tag_merge_min_playlists: int = 10
    # Catalogue versions (quality/, warehouse/): how far a table may shrink against the last published version
    # before the gate rejects the refresh, and how many catalogue versions retention keeps readable.
    quality_max_row_drop: float = 0.5
    keep_versions: int = 5
    vacuum_min_age_hours: int = 1  # retention never deletes younger files (a refresh may be writing them)
    sql_timeout_s: float = 300.0  # `scenetune sql` stops a query running longer than this (0: no limit)
    spark_scratch_max_age_hours: int = 24  # maintenance removes Spark scratch (killed runs' blockmgr-*, spark-*) older than this
    # Zero-shot scene scorer (scoring/zero_shot.py): ImageNet classes per photo in ConSE's mixture, the
    # temperature of the per-group softmax over calibrated z-scores, and the image-statistics rules.
    zero_shot_top_classes: int = 10
    zero_shot_temperature: float = 1.0
    zero_shot_unseen_offset: float = 1.0  # z taken from labels no scene shows (scoring.zero_shot.UNSEEN)
    zero_shot_rules: tuple = tuple(ZERO_SHOT_RULES.items())  # (name, (start, full, weight)); a tuple keeps Settings hashable
    # Trust in the tag head per photo (scoring/blend.py) and the uncertain verdict's margin.
    blend_full_quantile: float = 0.0  # the least familiar held-out cover: a blend never loses on covers
    blend_span: float = 1.0  # set on the tune split of scoring/real_photos (0.5-1.0 best there; 1.0 is smoother)
    uncertain_margin: float = 0.06  # set on the tune split of scoring/real_photos (scripts/real_photos/tune_margin.py)

    # --- locations under SCENETUNE_HOME -------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def crawl_dir(self) -> Path:
        return self.raw_dir / "crawl"

    @property
    def import_dir(self) -> Path:
        """Where an import stages a run's rows before it commits them (importers)."""
        return self.raw_dir / "import"

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
    def cleaned_covers_dir(self) -> Path:
        """Cleaned covers (kept whole or with the template cropped away), named by the sha1 of their bytes."""
        return self.home / "cleaned" / "covers"

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
    def logs_dir(self) -> Path:
        """scenetune's own log files (a refresh's run log stays under airflow/runs, beside Airflow's)."""
        return self.home / "logs"

    @property
    def spark_logs_dir(self) -> Path:
        """The Spark driver's log, one file per JVM the session factory starts: log4j, the JVM, Python workers."""
        return self.logs_dir / "spark"

    @property
    def spark_scratch_dir(self) -> Path:
        """The driver's ``spark.local.dir`` and ``java.io.tmpdir``: block manager, shuffle and temp files."""
        return self.home / "spark" / "tmp"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def models_dir(self) -> Path:
        """Trained models (the tag head), one folder per model version."""
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        """Figures a run's jobs draw for its summary (reports/<run_key>/...)."""
        return self.home / "reports"

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
        reference_dir=_reference_dir(),
        genie_base_url=_site_url("GENIE_BASE_URL"),
        melon_dir=Path(_env("SCENETUNE_MELON_DIR", "")).expanduser().absolute() if _env("SCENETUNE_MELON_DIR", "") else None,
        user_agent=_env(
            "SCENETUNE_USER_AGENT",
            "scenetune/0.1 (+https://github.com/scenetune/scenetune; catalogue refresh bot)",
        ),
        crawl_concurrency=_env_positive_int("SCENETUNE_CRAWL_CONCURRENCY", 32),
        crawl_obey_robots=_env("SCENETUNE_CRAWL_OBEY_ROBOTS", "1") not in ("0", "false", "no"),
        crawl_max_attempts=_env_positive_int("SCENETUNE_CRAWL_MAX_ATTEMPTS", 5),
        crawl_max_song_pages=_env_non_negative_int("SCENETUNE_CRAWL_MAX_SONG_PAGES", DEFAULT_MAX_SONG_PAGES),
        demo_scale=_env_choice("SCENETUNE_DEMO_SCALE", "demo", DEMO_SCALES),
        demo_seed=_env_int("SCENETUNE_DEMO_SEED", 7),
        demo_port=_port("SCENETUNE_DEMO_PORT"),
        spark_master=_spark_master(),
        spark_driver_memory=_memory_size("SCENETUNE_SPARK_DRIVER_MEMORY", "4g"),
        spark_shuffle_partitions=_env_positive_int("SCENETUNE_SPARK_SHUFFLE_PARTITIONS", 8),
        pyspark_python=_env("PYSPARK_PYTHON", sys.executable),
        delta_writer=_env_choice("SCENETUNE_DELTA_WRITER", "delta-rs", ("delta-rs", "delta-spark")),
        bench_latency_ms=_env_float("SCENETUNE_BENCH_LATENCY_MS", 30.0),
        # base: no HTTP cache (refreshes must see changes); prod: gentler, for genie.co.kr;
        # dev: HTTP cache for parser work (the default of `scrapy crawl` in crawlers/).
        scrapy_settings_module=_env("SCRAPY_SETTINGS_MODULE", "crawlers.settings.base"),
        cover_max_pixels=_env_positive_int("SCENETUNE_COVER_MAX_PIXELS", 40_000_000),
        cover_template_min_ssim=_env_float("SCENETUNE_COVER_TEMPLATE_MIN_SSIM", 0.95),
        cover_ocr_min_confidence=_env_float("SCENETUNE_COVER_OCR_MIN_CONFIDENCE", 60.0),
        cover_near_duplicate_distance=_env_non_negative_int("SCENETUNE_COVER_NEAR_DUPLICATE_DISTANCE", 14),
        upload_max_bytes=_env_positive_int("SCENETUNE_UPLOAD_MAX_MB", 50) * 2**20,
        upload_max_pixels=_env_positive_int("SCENETUNE_UPLOAD_MAX_PIXELS", 80_000_000),
        scoring_max_attempts=_env_positive_int("SCENETUNE_SCORING_MAX_ATTEMPTS", 3),
        recommend_query_mix=_env_unit("SCENETUNE_RECOMMEND_QUERY_MIX", 0.5),
        recommend_mmr_lambda=_env_share("SCENETUNE_RECOMMEND_MMR_LAMBDA", 0.7),
        recommend_popularity_weight=_env_non_negative_float("SCENETUNE_RECOMMEND_POPULARITY_WEIGHT", 0.2),
        recommend_spread_weight=_env_non_negative_float("SCENETUNE_RECOMMEND_SPREAD_WEIGHT", 0.3),
        clip_model_dir=_clip_model_dir(),
        encoder_dir=Path(_env("SCENETUNE_ENCODER_DIR", "") or home / "models" / "encoders").expanduser().absolute(),
        upload_roots=tuple(Path(p).expanduser().absolute() for p in _env("SCENETUNE_UPLOAD_ROOTS", "").split(os.pathsep)
                           if p.strip()) or (home.absolute() / "inbox",),
        tag_merge_min_p=_env_share("SCENETUNE_TAG_MERGE_MIN_P", 0.4),
        tag_merge_min_lift=_env_float("SCENETUNE_TAG_MERGE_MIN_LIFT", 5.0),
        tag_merge_min_playlists=_env_positive_int("SCENETUNE_TAG_MERGE_MIN_PLAYLISTS", 10),
        quality_max_row_drop=_env_share("SCENETUNE_QUALITY_MAX_ROW_DROP", 0.5),
        keep_versions=_env_positive_int("SCENETUNE_KEEP_VERSIONS", 5),
        vacuum_min_age_hours=_env_non_negative_int("SCENETUNE_VACUUM_MIN_AGE_HOURS", 1),
        sql_timeout_s=_env_non_negative_float("SCENETUNE_SQL_TIMEOUT_S", 300.0),
        spark_scratch_max_age_hours=_env_positive_int("SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS", 24),
        zero_shot_top_classes=_env_positive_int("SCENETUNE_ZERO_SHOT_TOP_CLASSES", 10),
        zero_shot_temperature=_env_positive_float("SCENETUNE_ZERO_SHOT_TEMPERATURE", 1.0),
        zero_shot_unseen_offset=_env_float("SCENETUNE_ZERO_SHOT_UNSEEN_OFFSET", 1.0),
        blend_full_quantile=_env_unit("SCENETUNE_BLEND_FULL_QUANTILE", 0.0),
        blend_span=_env_positive_float("SCENETUNE_BLEND_SPAN", 1.0),
        uncertain_margin=_env_unit("SCENETUNE_UNCERTAIN_MARGIN", 0.06),
        zero_shot_rules=tuple((name, _env_rule(f"SCENETUNE_ZERO_SHOT_RULE_{name.upper()}", default))
                              for name, default in ZERO_SHOT_RULES.items()),
    )
