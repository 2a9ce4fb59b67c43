"""Every threshold of cover cleaning, and the rules version that keys the cache.

The version is a name bumped by hand when the logic changes, plus a digest of the
thresholds: changing a threshold (``SCENETUNE_COVER_*``) changes the version, so the next
clean analyses every cover again, once. Calibrated on the labelled demo covers
(``python -m demo_site ground-truth``, seed 7, demo scale) and on the five real Genie covers;
the comments give the measured margins.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from core import settings

RULES_NAME = "covers-1"


@dataclass(frozen=True)
class Rules:
    # decode
    max_pixels: int = 40_000_000  # Genie serves <= 1200x1200; anything near this limit is not a cover
    # templates: masked SSIM after luminance normalisation, at TEMPLATE_SIZE pixels.
    # Demo templates score >= 0.986 on their own template, every other cover <= 0.942 (template 3),
    # the real vinyl cover 0.996 (template 1), the real framed cover 0.98 (template 3).
    template_min_ssim: float = 0.95
    # template 3 is mostly flat grey, so a plain light cover scores high too: it also needs the step
    # at its frame's outer edge (luminance-normalised, in noise units, median of the 4 sides):
    # demo template 3 >= 7.2, the real framed cover 3.7, everything else <= 0.3.
    frame_min_step: float = 1.5
    # text: share of the cover the cheap detector must see as text lines before Tesseract runs
    # (demo text covers >= 0.04, brand covers >= 0.06; 80% of scenes are 0)
    # (demo: every text and brand cover, 4% of scenes)
    text_min_region_ratio: float = 0.008
    ocr_min_confidence: float = 60.0  # per word (0-100): the real brand cover reads KANGO.. at 62; texture junk
    # ("ee", "oe") is dropped by its shape (text.is_wordlike), and a text cover needs word area too
    # a cover is text when confident words cover this share of it (demo text covers >= 0.037, scenes 0)
    text_min_word_area: float = 0.01
    text_min_chars: int = 3
    # ads: share of the cover drawn as solid shapes in the lettering's colour outside the text (an
    # emblem); demo brand covers mostly >= 0.05, text covers <= 0.01
    ad_min_logo_share: float = 0.02
    # duplicates: pHash bits for a candidate pair, its mean chromaticity, then the aligned thumbnail
    # residual. Demo (39 direct near pairs): 14 bits / 0.015 / 0.6 finds 37 with 1 false pair, and
    # verifies ~8% of the pHash candidates; the residual alone at 0.7 admits 7 false pairs.
    near_duplicate_distance: int = 14
    near_duplicate_max_chroma: float = 0.015
    near_duplicate_max_residual: float = 0.6

    @property
    def version(self) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]
        return f"{RULES_NAME}-{digest}"


def from_settings() -> Rules:
    """The rules in force: defaults, with the thresholds the settings expose."""
    s = settings.load()
    return Rules(
        max_pixels=s.cover_max_pixels,
        template_min_ssim=s.cover_template_min_ssim,
        ocr_min_confidence=s.cover_ocr_min_confidence,
        near_duplicate_distance=s.cover_near_duplicate_distance,
    )
