"""The real reference data the demo content is built from: songs, tag counts, cover templates.

Shipped inside the repository, so a clone anywhere runs the demo site:
``demo_site/data/songs.csv.gz`` and ``melon_tag_counts.csv.gz`` (derived
from the source reference by ``python -m demo_site derive-data``) and the
three real Genie cover templates beside the cover-cleaning code
(``spark_jobs/covers/templates``). ``SCENETUNE_REFERENCE_DIR`` overrides all of
it with a folder in the source layout (``songs/``, ``melon_tag_counts.csv``,
``genie_templates/``). Everything is read once per process and cached; a
missing file is a clear one-line error.
"""

from __future__ import annotations

import csv
import functools
import glob
import gzip
import io
import os
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

from core.errors import ConfigurationError

SHIPPED_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_SONGS = SHIPPED_DIR / "songs.csv.gz"
SHIPPED_TAG_COUNTS = SHIPPED_DIR / "melon_tag_counts.csv.gz"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "spark_jobs" / "covers" / "templates"


class ReferenceMissing(ConfigurationError):
    """The shared reference folder (or a file in it) is not where settings say."""


def override_dir() -> Path | None:
    """``SCENETUNE_REFERENCE_DIR`` when set (source layout), else None (the shipped data)."""
    from core import settings

    return settings.load().reference_dir  # a folder that does not exist fails in settings


def _open_csv(path: Path, columns: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """Rows as dicts (``.gz`` files too); with ``columns``, only those columns (faster for wide files)."""
    if not path.is_file():
        raise ReferenceMissing(f"reference file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        wanted = columns or tuple(header)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ReferenceMissing(f"{path}: missing columns {missing}")
        pos = [header.index(c) for c in wanted]
        return [{c: row[p] for c, p in zip(wanted, pos)} for row in reader if len(row) >= len(header)]


@dataclass(frozen=True)
class RawSong:
    artist: str
    title: str
    year: int  # 0 when unknown
    kind: str  # "kpop" | "pop" (melon class) or "lastfm"
    mood: str  # source mood label, lower case ("" when none)
    duration: int  # seconds, 0 when unknown


@functools.lru_cache(maxsize=4)
def _songs_from_source(root: str) -> tuple[RawSong, ...]:
    """Song rows of the source reference CSVs (the shipped file is derived from these)."""
    base = Path(root) / "songs"
    out: list[RawSong] = []
    moods: dict[tuple[str, str], str] = {}
    for row in _open_csv(base / "chart_songs_with_mood.csv", ("artist", "title", "mood")):
        moods[(row["artist"], row["title"])] = row.get("mood", "").strip().lower()
    for row in _open_csv(base / "melon_yearly_chart_songs.csv", ("artist", "title", "top_year", "class")):
        year = int(row["top_year"]) if row.get("top_year", "").isdigit() else 0
        out.append(RawSong(row["artist"].strip(), row["title"].strip(), year, row["class"].strip(),
                           moods.get((row["artist"], row["title"]), ""), 0))
    files = sorted(glob.glob(str(base / "lastfm_mood" / "*.csv")))
    if not files:
        raise ReferenceMissing(f"no Last.fm mood files under {base / 'lastfm_mood'}")
    for path in files:
        for row in _open_csv(Path(path), ("artist", "music_name", "duration", "mood_EN")):
            dur = row.get("duration", "0")
            out.append(RawSong(row["artist"].strip(), row["music_name"].strip(), 0, "lastfm",
                               row.get("mood_EN", "").strip().lower(), int(dur) if dur.isdigit() else 0))
    return tuple(s for s in out if s.artist and s.title)


_SONG_COLUMNS = tuple(f.name for f in fields(RawSong))


@functools.lru_cache(maxsize=1)
def _shipped_songs() -> tuple[RawSong, ...]:
    rows = _open_csv(SHIPPED_SONGS, _SONG_COLUMNS)
    return tuple(RawSong(r["artist"], r["title"], int(r["year"]), r["kind"], r["mood"], int(r["duration"]))
                 for r in rows)


def raw_songs() -> tuple[RawSong, ...]:
    """Every song row of the reference (not deduplicated), in source file order."""
    root = override_dir()
    return _songs_from_source(str(root)) if root else _shipped_songs()


@functools.lru_cache(maxsize=4)
def _tag_counts_cached(path: str) -> dict[str, int]:
    return {r["tag"]: int(r["count"]) for r in _open_csv(Path(path)) if r.get("count", "").isdigit()}


def melon_tag_counts() -> dict[str, int]:
    root = override_dir()
    return _tag_counts_cached(str(root / "melon_tag_counts.csv" if root else SHIPPED_TAG_COUNTS))


def templates_dir() -> Path:
    root = override_dir()
    return root / "genie_templates" if root else TEMPLATES_DIR


@functools.lru_cache(maxsize=8)
def _template_cached(folder: str, number: int) -> np.ndarray:
    from PIL import Image

    path = Path(folder) / f"template_{number}.jpg"
    if not path.is_file():
        raise ReferenceMissing(f"cover template not found: {path}")
    with Image.open(path) as im:
        arr = np.asarray(im.convert("L").resize((600, 600)), dtype=np.uint8)
    arr.setflags(write=False)
    return arr


def template_image(number: int) -> np.ndarray:
    """Genie cover template ``number`` (1-3) as a 600x600 uint8 grayscale array."""
    return _template_cached(str(templates_dir()), number)


@functools.lru_cache(maxsize=8)
def find_font(kind: str = "korean_bold") -> str | None:
    """Path of a TrueType font for covers, found by glob; None when none is installed.

    kind: "korean_bold", "korean", "latin_bold". Korean falls back to nothing (callers then use
    Latin-only text); Latin falls back to any DejaVu or Nanum font.
    """
    roots = [Path(p) for p in ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts"))]
    patterns = {
        "korean_bold": ["**/NanumSquareB.ttf", "**/NanumGothicBold.ttf", "**/NanumBarunGothicBold.ttf",
                        "**/Nanum*Bold*.ttf", "**/Noto*CJK*Bold*", "**/Nanum*.ttf"],
        "korean": ["**/NanumGothic.ttf", "**/NanumSquareR.ttf", "**/Nanum*.ttf", "**/Noto*CJK*"],
        "latin_bold": ["**/DejaVuSans-Bold.ttf", "**/DejaVu*Bold*.ttf", "**/Nanum*Bold*.ttf", "**/*.ttf"],
    }[kind]
    for pattern in patterns:
        for root in roots:
            if root.is_dir():
                hits = sorted(root.glob(pattern))
                if hits:
                    return str(hits[0])
    return None


def derive_shipped_data(source: Path) -> list[Path]:
    """Write the shipped data files from a source reference folder; returns the files written.

    gzip with mtime 0, so the same source always gives the same bytes.
    """
    from core import files

    songs = io.StringIO()
    writer = csv.writer(songs, lineterminator="\n")
    writer.writerow(_SONG_COLUMNS)
    writer.writerows(astuple(s) for s in _songs_from_source(str(source)))
    counts = (Path(source) / "melon_tag_counts.csv").read_text(encoding="utf-8-sig")
    written = []
    for path, text in ((SHIPPED_SONGS, songs.getvalue()), (SHIPPED_TAG_COUNTS, counts)):
        files.write_bytes(path, gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
        written.append(path)
    return written
