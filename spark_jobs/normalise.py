"""Text normalisation that decides when two crawled rows are the same song.

Pure Python so it is unit-tested directly and run in Spark as a vectorised
(pandas) UDF. Genie shows one song in many spellings: full-width characters,
case, spacing, a "(Feat. X)" suffix.
"""

from __future__ import annotations

import re
import unicodedata

_FEAT = re.compile(r"[\(\[]\s*(feat|ft|with|prod)\b\.?[^\)\]]*[\)\]]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise_text(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)  # full-width → ASCII, composed Hangul
    text = _FEAT.sub(" ", text)
    text = text.casefold()
    return _SPACE.sub("", text)  # Genie's spacing is inconsistent; drop it entirely


def song_key(artist: str | None, title: str | None) -> str:
    return f"{normalise_text(artist)}|{normalise_text(title)}"
