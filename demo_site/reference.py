"""Loads the read-only reference material the demo content is built from.

The folder comes from ``scenetune.settings.load().reference_dir`` (env SCENETUNE_REFERENCE_DIR).
Everything is read once per process and cached; a missing file is a clear one-line error.
"""

from __future__ import annotations

import csv
import functools
import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class ReferenceMissing(RuntimeError):
    """The shared reference folder (or a file in it) is not where settings say."""


def reference_dir() -> Path:
    from scenetune import settings

    path = settings.load().reference_dir
    if not path.is_dir():
        raise ReferenceMissing(f"reference folder not found: {path} (set SCENETUNE_REFERENCE_DIR)")
    return path


def _open_csv(path: Path, columns: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """Rows as dicts; with ``columns``, only those columns (much faster for wide files)."""
    if not path.is_file():
        raise ReferenceMissing(f"reference file not found: {path}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
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
def _raw_songs_cached(root: str) -> tuple[RawSong, ...]:
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


def raw_songs() -> tuple[RawSong, ...]:
    """Every song row of the reference CSVs (not deduplicated), in file order."""
    return _raw_songs_cached(str(reference_dir()))


@functools.lru_cache(maxsize=4)
def _tag_counts_cached(root: str) -> dict[str, int]:
    return {r["tag"]: int(r["count"]) for r in _open_csv(Path(root) / "melon_tag_counts.csv")
            if r.get("count", "").isdigit()}


def melon_tag_counts() -> dict[str, int]:
    return _tag_counts_cached(str(reference_dir()))


@functools.lru_cache(maxsize=8)
def _template_cached(root: str, number: int) -> np.ndarray:
    from PIL import Image

    path = Path(root) / "genie_templates" / f"template_{number}.jpg"
    if not path.is_file():
        raise ReferenceMissing(f"cover template not found: {path}")
    with Image.open(path) as im:
        arr = np.asarray(im.convert("L").resize((600, 600)), dtype=np.uint8)
    arr.setflags(write=False)
    return arr


def template_image(number: int) -> np.ndarray:
    """Genie cover template ``number`` (1-3) as a 600x600 uint8 grayscale array."""
    return _template_cached(str(reference_dir()), number)


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
