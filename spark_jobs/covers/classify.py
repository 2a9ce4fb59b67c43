"""The staged decision for one batch of covers: cheap stages first, Tesseract only where needed.

Per cover: decode (unreadable?) → templates (masked SSIM, ~7 ms; a match is cropped, done) →
text-line detector (~5 ms; no lines: a scene, done) → OCR of the flagged covers, all in one
Tesseract process per batch → text, ad (a logo beside the lettering) or scene. Every cover ends
with an ``image_kind``, a one-line ``image_reason`` and its evidence; keepable covers (scenes
and cropped templates) get a cleaned image, content-addressed under SCENETUNE_HOME.

``staged=False`` is the naive pipeline the benchmark compares with: SSIM and Tesseract on every
whole cover, the same decisions.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core import files
from spark_jobs.covers import ads, decode, duplicates, templates, text
from spark_jobs.covers.rules import Rules

KEEP_KINDS = ("scene",)
CROP_KINDS = ("template_1", "template_2", "template_3")
DROP_KINDS = ("text", "ad")
CLEAN_MAX_SIDE = 1200  # the largest cover Genie serves; bigger ones are scaled down for training
CLEAN_JPEG_QUALITY = 95

# One row per analysed cover content: what the image alone shows (cached by cover_sha1 + rules version).
ANALYSIS_COLUMNS = (
    ("cover_sha1", "string"), ("image_kind", "string"), ("image_reason", "string"), ("stages", "string"),
    ("image_format", "string"), ("image_mode", "string"), ("width", "int32"), ("height", "int32"),
    ("template_id", "int32"), ("template_ssim", "float32"), ("template_frame_step", "float32"),
    ("text_region_ratio", "float32"), ("ocr_text", "string"), ("ocr_confidence", "float32"),
    ("ocr_word_ratio", "float32"), ("logo_share", "float32"),
    ("crop_left", "int32"), ("crop_top", "int32"), ("crop_right", "int32"), ("crop_bottom", "int32"),
    ("phash", "string"), ("cleaned_path", "string"),
)


def verdict_of(image_kind: str) -> str:
    if image_kind in KEEP_KINDS:
        return "keep"
    if image_kind in CROP_KINDS:
        return "crop"
    if image_kind in DROP_KINDS:
        return "drop"
    return "unreadable"


@dataclass
class _Work:
    row: dict
    cover: decode.DecodedCover | None = None
    regions: text.TextRegions | None = None
    source: bytes = b""


def _blank(sha1: str) -> dict:
    row = {name: None for name, _ in ANALYSIS_COLUMNS}
    row["cover_sha1"] = sha1
    return row


def _store_cleaned(image: Image.Image, source: bytes | None, cleaned_dir: Path, home: Path) -> str:
    """Write the cleaned picture once, named by the sha1 of its bytes; return its path under home."""
    if source is None:
        if max(image.size) > CLEAN_MAX_SIDE:
            image = image.copy()
            image.thumbnail((CLEAN_MAX_SIDE, CLEAN_MAX_SIDE), Image.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=CLEAN_JPEG_QUALITY)
        source = buf.getvalue()
    digest = hashlib.sha1(source).hexdigest()
    target = cleaned_dir / digest[:2] / f"{digest}.jpg"
    if not target.exists():
        files.write_bytes(target, source)
    return str(target.relative_to(home))


def _read(path: Path | None, data: bytes | None) -> bytes:
    if data is not None:
        return data
    if path is None:
        raise decode.Unreadable("no cover file recorded")
    try:
        return path.read_bytes()
    except OSError as err:
        raise decode.Unreadable(f"cover file unreadable: {err.strerror or err} ({path.name})") from None


def analyse(items: Iterable[tuple[str, Path | None, bytes | None]], rules: Rules, home: Path, cleaned_dir: Path,
            staged: bool = True) -> list[dict]:
    """Analyse ``(cover_sha1, absolute path or None, bytes or None)`` items; one row per item, never raises
    for a bad image."""
    # the naive pipeline compares at the templates' full 600 px and reads whole covers at their own size
    size = templates.SIZE if staged else templates.TEMPLATE_PX
    tmpl = templates.load_templates(size)
    work: list[_Work] = []
    for sha1, path, data in items:
        w = _Work(_blank(sha1))
        work.append(w)
        row = w.row
        try:
            w.source = _read(path, data)
            w.cover = decode.decode(w.source, rules.max_pixels)
        except decode.Unreadable as err:
            row.update(image_kind="unreadable", image_reason=str(err), stages="decode")
            continue
        cover = w.cover
        row.update(image_format=cover.format, image_mode=cover.mode, width=cover.width, height=cover.height,
                   phash=duplicates.phash_hex(cover.image), stages="decode,template")
        found = templates.match(templates.working_gray(cover.image, size), tmpl)
        row.update(template_id=found.number, template_ssim=found.ssim, template_frame_step=found.frame_step)
        is_template = found.ssim >= rules.template_min_ssim and (
            found.number != 3 or (found.frame_step or 0.0) >= rules.frame_min_step)
        if is_template:
            box = templates.crop_box(cover.image, tmpl[found.number - 1])
            evidence = f"SSIM {found.ssim:.3f}" + (
                f", frame step {found.frame_step:.1f}" if found.frame_step is not None else "")
            row.update(image_kind=f"template_{found.number}", crop_left=box[0], crop_top=box[1],
                       crop_right=box[2], crop_bottom=box[3],
                       image_reason=f"Genie template {found.number} ({evidence}): album art cropped out")
            row["cleaned_path"] = _store_cleaned(cover.image.crop(box), None, cleaned_dir, home)
            if staged:
                continue
        w.regions = text.detect(cover.image)
        row["text_region_ratio"] = w.regions.area_ratio
        row["stages"] += ",text"
        if staged and w.regions.area_ratio < rules.text_min_region_ratio:
            row.update(image_kind="scene", image_reason=(
                f"no template (best: {found.number}, SSIM {found.ssim:.3f}), no text lines"))

    # OCR: the covers the detector flagged (staged) or every readable cover (naive), one Tesseract run
    pending = [w for w in work if w.cover is not None and (not staged or w.row["image_kind"] is None)]
    inputs = [text.ocr_input(w.cover.image, w.regions) if staged else text.whole_cover_input(w.cover.image)
              for w in pending]
    for w, result in zip(pending, text.read_batch(inputs)):
        _decide_text(w, result, rules)

    for w in work:
        row = w.row
        if row["image_kind"] == "scene" and row["cleaned_path"] is None:
            plain = w.cover.plain_jpeg and max(w.cover.image.size) <= CLEAN_MAX_SIDE
            row["cleaned_path"] = _store_cleaned(w.cover.image, w.source if plain else None, cleaned_dir, home)
    return [w.row for w in work]


def _decide_text(w: _Work, result: text.OcrResult, rules: Rules) -> None:
    row = w.row
    row["stages"] += ",ocr"
    if row["image_kind"] is not None:  # naive mode: a template stays a template
        return
    words = result.accepted(rules.ocr_min_confidence)
    area = w.cover.width * w.cover.height
    chars = sum(text.weight(word.text) for word in words)
    word_ratio = sum(word.area for word in words) / area if area else 0.0
    row.update(ocr_text=" ".join(word.text for word in words)[:300] or None,
               ocr_confidence=(sum(word.confidence for word in words) / len(words)) if words else None,
               ocr_word_ratio=word_ratio)
    if result.error:
        row.update(image_kind="scene", image_reason=f"text lines seen but {result.error}")
        return
    if chars < rules.text_min_chars or word_ratio < rules.text_min_word_area:
        row.update(image_kind="scene", image_reason=(
            f"no template, OCR read no confident text ({chars} chars, {word_ratio:.1%} of the cover)"))
        return
    s = w.cover.width / text.DETECT_SIZE, w.cover.height / text.DETECT_SIZE
    lines = [(b[0] * s[0], b[1] * s[1], (b[0] + b[2]) * s[0], (b[1] + b[3]) * s[1])
             for b in (w.regions.boxes if w.regions else ())]
    logo = ads.logo_share(w.cover.image, words, lines)
    row["logo_share"] = logo
    shown = " ".join(word.text for word in words)[:40]
    if logo is not None and logo >= rules.ad_min_logo_share:
        row.update(image_kind="ad", image_reason=f"brand cover: logo ({logo:.1%} of the cover) beside '{shown}'")
    else:
        row.update(image_kind="text", image_reason=f"text cover: '{shown}' ({word_ratio:.1%} of the cover)")


def analyse_frames(frames: Iterator, rules: Rules, home: str, cleaned_dir: str, batch: int = 64) -> Iterator:
    """``mapInPandas`` body: frames of (cover_sha1, path relative to home) in, analysis frames out.
    Templates load once per worker process; Tesseract runs once per ``batch`` covers."""
    import cv2
    import pandas as pd

    # Spark runs one task per core: OpenCV's and Tesseract's own threads would only fight over them.
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    home_path, cleaned = Path(home), Path(cleaned_dir)
    names = [name for name, _ in ANALYSIS_COLUMNS]
    for frame in frames:
        for start in range(0, len(frame), batch):
            part = frame.iloc[start:start + batch]
            items = [(sha1, home_path / rel if rel else None, None) for sha1, rel in zip(part["cover_sha1"], part["path"])]
            yield pd.DataFrame(analyse(items, rules, home_path, cleaned), columns=names)
