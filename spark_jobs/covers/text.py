"""Text on covers: a cheap text-line detector, then Tesseract only where it sees text.

The detector (OpenCV, ~4 ms a cover) finds clusters of edges that look like lines of
characters: edges closed into blobs, kept when a blob is line-shaped, dense with edges and
crossed by several strokes per row. Rain, waves and stars mostly fail those tests.

Tesseract (kor+eng, ``--psm 11``: sparse text, as the covers' big centred words are) reads
only the covers the detector flags, cropped to the text lines, scaled so the text is large and
given a white border. All covers of a batch go through one Tesseract process (a list file:
the models load once, not once per cover), and words are judged by their confidences from
``image_to_data``: photo covers produce junk strings at low confidence, so "some text came
out" is never the test; confident characters and the area their words cover are.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from core.errors import ConfigurationError

DETECT_SIZE = 300  # working size of the detector
MIN_GLYPH_CONTRAST = 75.0  # grey levels between glyphs and background (real Editor's Choice: 97)
MIN_INK_SHARE = 0.15
OCR_LINE_HEIGHT = 56  # text lines are scaled to about this height (Tesseract reads 30-60 px best; smaller is faster)
OCR_SCALE_RANGE = (0.2, 4.0)
OCR_BORDER = 40
OCR_LANG = "kor+eng"
OCR_CONFIG = "--psm 11"  # sparse text: big centred words, badges, logos
_WORDLIKE = re.compile(r"[0-9A-Za-z\uac00-\ud7a3]")


@dataclass(frozen=True)
class TextRegions:
    boxes: tuple[tuple[int, int, int, int], ...]  # (x, y, w, h) in DETECT_SIZE pixels
    area_ratio: float  # share of the cover the boxes cover


Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) in cover pixels


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100
    box: Box

    @property
    def area(self) -> int:
        return max(0, self.box[2] - self.box[0]) * max(0, self.box[3] - self.box[1])


@dataclass
class OcrResult:
    words: list[Word] = field(default_factory=list)
    error: str | None = None

    def accepted(self, min_confidence: float) -> list[Word]:
        return [w for w in self.words if w.confidence >= min_confidence and is_wordlike(w.text)]


@dataclass(frozen=True)
class OcrInput:
    picture: Image.Image  # what Tesseract reads
    box: Box  # the part of the cover it shows
    scale: float  # cover pixels per picture pixel


def is_wordlike(word: str) -> bool:
    """A word Tesseract read that can be text: any Hangul, two or more digits, or three or more Latin
    letters (textures read as 'ee', 'oe', 'of' at high confidence)."""
    chars = _WORDLIKE.findall(unicodedata.normalize("NFKC", word))
    if any("\uac00" <= c <= "\ud7a3" for c in chars):
        return True
    digits = sum(c.isdigit() for c in chars)
    return digits >= 2 or len(chars) - digits >= 3


def weight(word: str) -> int:
    """Letters in a word, a Hangul syllable counting two (one block holds two or three letters)."""
    chars = _WORDLIKE.findall(unicodedata.normalize("NFKC", word))
    return sum(2 if "\uac00" <= c <= "\ud7a3" else 1 for c in chars)


def detect(image: Image.Image) -> TextRegions:
    """Cheap text-line detection on the cover (any size)."""
    g = np.asarray(image.convert("L").resize((DETECT_SIZE, DETECT_SIZE), Image.BILINEAR))
    n = DETECT_SIZE
    edges = cv2.Canny(g, 80, 160)
    # close the strokes of one word / line into one blob
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, n // 40), max(3, n // 100)))
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    boxes = []
    for i in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if h < n * 0.025 or h > n * 0.3 or w < n * 0.04 or w * h > 0.25 * n * n:
            continue
        roi = edges[y:y + h, x:x + w] > 0
        runs = (np.diff(roi.astype(np.int8), axis=1) == 1).sum(axis=1)  # strokes crossed per row
        crossings = float(np.median(runs[runs > 0])) if (runs > 0).any() else 0.0
        if roi.mean() < 0.08 or crossings < 3:
            continue
        # glyphs are solid and contrast with their background: two clear grey levels, the minority
        # one not a few thin streaks (rain, waves and stars fail here)
        patch = g[y:y + h, x:x + w]
        level, _ = cv2.threshold(patch, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        light = patch > level
        minority = min(float(light.mean()), 1.0 - float(light.mean()))
        if minority < MIN_INK_SHARE or not light.any() or light.all():
            continue
        if abs(float(patch[light].mean()) - float(patch[~light].mean())) < MIN_GLYPH_CONTRAST:
            continue
        boxes.append((x, y, w, h))
    area = sum(w * h for _x, _y, w, h in boxes) / float(n * n)
    return TextRegions(tuple(boxes), float(area))


def ocr_input(image: Image.Image, regions: TextRegions | None) -> OcrInput:
    """The picture Tesseract reads: a full-width band of the cover around the text lines (the whole
    cover when ``regions`` is None), scaled so lines are ~OCR_LINE_HEIGHT px, binarised with the
    text lines' own threshold (glyphs dark, whatever their colour), with a white border."""
    w, h = image.size
    gray = image.convert("L")
    if regions is not None and regions.boxes:
        sy = h / DETECT_SIZE
        y0 = min(b[1] for b in regions.boxes) * sy
        y1 = max(b[1] + b[3] for b in regions.boxes) * sy
        box = (0, max(0, int(y0 - 0.1 * h)), w, min(h, int(np.ceil(y1 + 0.1 * h))))
        line = float(np.median([b[3] for b in regions.boxes])) * sy
    else:
        box, line = (0, 0, w, h), h / 8
    scale = min(max(OCR_LINE_HEIGHT / max(line, 1.0), OCR_SCALE_RANGE[0]), OCR_SCALE_RANGE[1])
    crop = gray.crop(box)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    arr = np.asarray(crop.resize(size, Image.BICUBIC if scale > 1 else Image.BOX))
    # threshold from the text lines only; polarity from their surroundings (the background), since
    # bold glyphs can fill more than half of a tight line box
    bands, rims = [arr.ravel()], [arr[:2].ravel(), arr[-2:].ravel()]
    if regions is not None and regions.boxes:
        sx, sy2 = w / DETECT_SIZE * scale, h / DETECT_SIZE * scale
        bands, rims = [], []
        for b in regions.boxes:
            x0, x1 = int(b[0] * sx), int((b[0] + b[2]) * sx)
            y0, y1 = int(b[1] * sy2 - box[1] * scale), int((b[1] + b[3]) * sy2 - box[1] * scale)
            bands.append(arr[max(0, y0):max(0, y1), x0:x1].ravel())
            pad = max(2, int(0.15 * (y1 - y0)))
            outer = arr[max(0, y0 - pad):max(0, y1 + pad), max(0, x0 - pad):x1 + pad]
            if outer.size:
                rims += [outer[:2].ravel(), outer[-2:].ravel(), outer[:, :2].ravel(), outer[:, -2:].ravel()]
    sample = np.concatenate([b for b in bands if b.size] or [arr.ravel()])
    level, _ = cv2.threshold(sample.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    rim = np.concatenate([r for r in rims if r.size] or [arr.ravel()])
    background_light = float(np.median(rim)) > level
    binary = np.where(arr > level, 255, 0) if background_light else np.where(arr > level, 0, 255)
    picture = Image.fromarray(binary.astype(np.uint8))
    return OcrInput(ImageOps.expand(picture, border=OCR_BORDER, fill=255), box, 1.0 / scale)


def whole_cover_input(image: Image.Image) -> OcrInput:
    """The naive pipeline's OCR input: the whole cover as it is, gray, with the white border."""
    picture = ImageOps.expand(image.convert("L"), border=OCR_BORDER, fill=255)
    return OcrInput(picture, (0, 0, image.width, image.height), 1.0)


def require_tesseract() -> None:
    """One line naming the fix when Tesseract or its Korean/English models are missing."""
    import pytesseract

    try:
        langs = set(pytesseract.get_languages(config=""))
    except Exception as err:  # noqa: BLE001 - not installed, not on PATH, broken install
        raise ConfigurationError(
            f"Tesseract is not usable ({' '.join(str(err).split())[:120]}): install tesseract-ocr, "
            "tesseract-ocr-kor and tesseract-ocr-eng (scripts/setup.sh does)") from None
    missing = {"kor", "eng"} - langs
    if missing:
        raise ConfigurationError(f"Tesseract lacks the {', '.join(sorted(missing))} model(s): "
                                 "install tesseract-ocr-kor and tesseract-ocr-eng")


def _parse(data: dict, inputs: list[OcrInput]) -> list[OcrResult]:
    out = [OcrResult() for _ in inputs]
    for page, text, conf, left, top, width, height in zip(data["page_num"], data["text"], data["conf"], data["left"],
                                                           data["top"], data["width"], data["height"]):
        text = (text or "").strip()
        if not text or float(conf) < 0 or not 1 <= int(page) <= len(inputs):
            continue
        k = int(page) - 1
        src = inputs[k]

        def to_cover(v: float, origin: int) -> int:
            return int(round((v - OCR_BORDER) * src.scale)) + origin

        box = (to_cover(left, src.box[0]), to_cover(top, src.box[1]),
               to_cover(left + width, src.box[0]), to_cover(top + height, src.box[1]))
        out[k].words.append(Word(text, float(conf), box))
    return out


def read_batch(inputs: list[OcrInput]) -> list[OcrResult]:
    """OCR every picture in one Tesseract process; a failure is reported per picture, never raised."""
    import pytesseract

    if not inputs:
        return []
    # One thread per Tesseract: its OpenMP threads spin-wait and make a call ~4x slower on small pictures
    # (0.32 s against 0.07 s a cover here); Spark already runs one task per core.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with tempfile.TemporaryDirectory(prefix="scenetune-ocr-") as tmp:
        paths = []
        for i, item in enumerate(inputs):
            path = Path(tmp) / f"{i:05d}.png"
            item.picture.save(path)
            paths.append(str(path))
        listing = Path(tmp) / "pictures.txt"
        listing.write_text("\n".join(paths) + "\n")
        try:
            data = pytesseract.image_to_data(str(listing), lang=OCR_LANG, config=OCR_CONFIG,
                                             output_type=pytesseract.Output.DICT)
            return _parse(data, inputs)
        except Exception:  # noqa: BLE001 - one bad picture can fail a list run: read them one by one
            pass
        results = []
        for path, item in zip(paths, inputs):
            try:
                data = pytesseract.image_to_data(path, lang=OCR_LANG, config=OCR_CONFIG,
                                                 output_type=pytesseract.Output.DICT)
                data["page_num"] = [1] * len(data["text"])
                results.append(_parse(data, [item])[0])
            except Exception as err:  # noqa: BLE001 - reported on the cover's row
                results.append(OcrResult(error=f"ocr failed: {' '.join(str(err).split())[:150]}"))
        return results
