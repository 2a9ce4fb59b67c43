"""Genie's three template covers: SSIM with the album-art area masked, template 3's frame, the crop.

Genie renders some playlist covers from three templates (a vinyl sleeve, a DJ playlist card, a
framed square) with the album art pasted into a fixed box and the whole tinted. A cover is
compared with each template at :data:`SIZE` pixels: both are brought to the same brightness and
contrast over the template's fixed area (the tint and JPEG level shift drop out), the SSIM map is
computed and averaged over the fixed area only (the art box and a margin are masked).

Template 3 is mostly flat grey, so a plain light cover scores high on it too. It must also show
its frame: the step in brightness at the frame's outer edge, measured on each of the four sides
in units of the local noise (median of the sides, so art spilling over one side does not hide it).
The logo's contrast is measured too and kept as evidence.

On a match the art is cropped out: the template's box scaled to the cover, each side moved to the
strongest straight edge within a few pixels when there is one (covers are often resized or
re-cropped by a pixel or two).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core import settings

SIZE = 150  # working size of the comparison (the templates are 600x600)
TEMPLATE_PX = 600
SHIPPED_DIR = Path(__file__).resolve().parent / "templates"
MASK_MARGIN = 4  # working pixels around the art box left out of the comparison (SSIM window, resampling)


def templates_dir() -> Path:
    """``SCENETUNE_REFERENCE_DIR/genie_templates`` when set, else the templates shipped here."""
    ref = settings.load().reference_dir
    return ref / "genie_templates" if ref else SHIPPED_DIR


@dataclass(frozen=True)
class Template:
    number: int
    art_box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in template pixels, x1/y1 exclusive
    gray: np.ndarray  # SIZE x SIZE float32
    mask: np.ndarray  # SIZE x SIZE bool: the fixed area compared
    mean: float  # over the mask
    std: float
    frame_box: tuple[int, int, int, int] | None = None  # template 3: the frame's outer edge
    logo_box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class TemplateMatch:
    number: int  # best template
    ssim: float
    frame_step: float | None  # template 3 only
    logo_contrast: float | None


def _flat_box(t: np.ndarray) -> tuple[int, int, int, int]:
    """The flat region around the centre: the masked art box."""
    cy = cx = t.shape[0] // 2
    flat = np.abs(t.astype(np.int16) - int(t[cy, cx])) <= 4

    def run(line: np.ndarray, centre: int) -> tuple[int, int]:
        lo = hi = centre
        while lo > 0 and line[lo - 1]:
            lo -= 1
        while hi < line.size - 1 and line[hi + 1]:
            hi += 1
        return lo, hi + 1

    x0, x1 = run(flat[cy], cx)
    y0, y1 = run(flat[:, cx], cy)
    return x0, y0, x1, y1


def _frame_box(t: np.ndarray, art: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Template 3: walk out from the art box along the middle row and column to the frame's edge."""
    x0, y0, x1, y1 = art
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    t = t.astype(np.int16)
    level = int(t[cy, x0 - 3])

    def walk(values: np.ndarray, start: int, step: int) -> int:
        i = start
        while 0 < i < values.size - 1 and abs(int(values[i + step]) - level) <= 4:
            i += step
        return i

    return (walk(t[cy], x0 - 3, -1), walk(t[:, cx], y0 - 3, -1),
            walk(t[cy], x1 + 2, 1) + 1, walk(t[:, cx], y1 + 2, 1) + 1)


def _logo_box(t: np.ndarray) -> tuple[int, int, int, int] | None:
    """The light 'g' logo in the top-right corner, if the template has one."""
    values, counts = np.unique(t, return_counts=True)
    background = int(values[int(np.argmax(counts))])
    corner = t[: t.shape[0] // 4, 3 * t.shape[1] // 4:].astype(np.int16)
    ys, xs = np.nonzero(corner > background + 6)
    if ys.size < 50 or (np.ptp(xs) + 1) * (np.ptp(ys) + 1) > 0.02 * t.size:  # a small glyph, not a panel
        return None
    off = 3 * t.shape[1] // 4
    return int(xs.min() + off), int(ys.min()), int(xs.max() + off + 1), int(ys.max() + 1)


def _load(folder: str, size: int) -> tuple[Template, ...]:
    out = []
    for number in (1, 2, 3):
        path = Path(folder) / f"template_{number}.jpg"
        if not path.is_file():
            raise FileNotFoundError(f"cover template not found: {path}")
        with Image.open(path) as im:
            full = np.asarray(im.convert("L").resize((TEMPLATE_PX, TEMPLATE_PX)), dtype=np.uint8)
        art = _flat_box(full)
        gray = np.asarray(Image.fromarray(full).resize((size, size), Image.BOX), dtype=np.float32)
        mask = np.ones((size, size), dtype=bool)
        s = size / TEMPLATE_PX
        margin = max(1, round(MASK_MARGIN * size / SIZE))
        x0, y0, x1, y1 = art
        mask[max(0, int(y0 * s) - margin): int(np.ceil(y1 * s)) + margin,
             max(0, int(x0 * s) - margin): int(np.ceil(x1 * s)) + margin] = False
        frame = _frame_box(full, art) if number == 3 else None
        out.append(Template(number, art, gray, mask, float(gray[mask].mean()), float(gray[mask].std()),
                            frame, _logo_box(full)))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _cached(folder: str, size: int) -> tuple[Template, ...]:
    return _load(folder, size)


def load_templates(size: int = SIZE) -> tuple[Template, ...]:
    """The three templates at ``size`` pixels, read once per process (once per Spark worker)."""
    return _cached(str(templates_dir()), size)


def working_gray(image: Image.Image, size: int = SIZE) -> np.ndarray:
    """The cover as size x size float32 luminance (what every template is compared with)."""
    return np.asarray(image.convert("L").resize((size, size), Image.BOX), dtype=np.float32)


def _normalised(gray: np.ndarray, t: Template) -> np.ndarray:
    m = gray[t.mask]
    return np.clip((gray - m.mean()) / (m.std() + 1e-3) * t.std + t.mean, 0, 255)


def _ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from skimage.metrics import structural_similarity

    _, full = structural_similarity(a, b, data_range=255, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, full=True)
    return full


def _band(a: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    s = a.shape[0] / TEMPLATE_PX
    x0, y0, x1, y1 = box
    return a[int(round(y0 * s)): max(int(round(y1 * s)), int(round(y0 * s)) + 1),
             int(round(x0 * s)): max(int(round(x1 * s)), int(round(x0 * s)) + 1)]


def frame_step(norm: np.ndarray, t: Template) -> float:
    """Template 3: brightness step across the frame's outer edge, in noise units (median of 4 sides)."""
    fx0, fy0, fx1, fy1 = t.frame_box
    ax0, ay0, ax1, ay1 = t.art_box
    w = 12  # template pixels each side of the edge
    sides = (  # (outside band, inside band): in the template the background is lighter than the frame
        ((ax0, fy0 - w, ax1, fy0 - 2), (ax0, fy0 + 2, ax1, fy0 + w)),
        ((ax0, fy1 + 2, ax1, fy1 + w), (ax0, fy1 - w, ax1, fy1 - 2)),
        ((fx0 - w, ay0, fx0 - 2, ay1), (fx0 + 2, ay0, fx0 + w, ay1)),
        ((fx1 + 2, ay0, fx1 + w, ay1), (fx1 - w, ay0, fx1 - 2, ay1)),
    )
    steps = []
    for outside, inside in sides:
        o, i = _band(norm, outside), _band(norm, inside)
        steps.append((o.mean() - i.mean()) / ((o.std() + i.std()) / 2 + 2.0))
    return float(np.median(steps))


def logo_contrast(norm: np.ndarray, t: Template) -> float | None:
    """How much lighter the logo's brightest pixels are than the background around it, in noise units."""
    if t.logo_box is None:
        return None
    x0, y0, x1, y1 = t.logo_box
    logo = _band(norm, t.logo_box)
    around = np.concatenate([_band(norm, (x0 - 26, y0 - 10, x0 - 6, y1 + 10)).ravel(),
                             _band(norm, (x1 + 6, y0 - 10, min(x1 + 26, TEMPLATE_PX), y1 + 10)).ravel()])
    return float((np.percentile(logo, 90) - np.median(around)) / (around.std() + 2.0))


def match(gray: np.ndarray, templates: tuple[Template, ...]) -> TemplateMatch:
    """Score a working-size gray cover against every template; return the best (with template 3's evidence)."""
    scores = []
    for t in templates:
        norm = _normalised(gray, t)
        scores.append((float(_ssim_map(norm, t.gray)[t.mask].mean()), t, norm))
    ssim, best, norm = max(scores, key=lambda s: s[0])
    step = frame_step(norm, best) if best.frame_box is not None else None
    return TemplateMatch(best.number, ssim, step, logo_contrast(norm, best))


def crop_box(image: Image.Image, t: Template, search: float = 0.025) -> tuple[int, int, int, int]:
    """The album art's box in the cover's pixels: the template's box scaled to the cover, each side
    moved to a straight edge within ``search`` of the cover's size when the template's position shows
    none (a cover resized or re-cropped by a pixel or two)."""
    w, h = image.size
    sx, sy = w / TEMPLATE_PX, h / TEMPLATE_PX
    x0, y0, x1, y1 = t.art_box
    box = [x0 * sx, y0 * sy, x1 * sx, y1 * sy]
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    r = max(2, int(round(search * max(w, h))))
    # share of each column / row boundary (between pixel i-1 and i) that is a clear edge, along the
    # middle 60% of the side: a straight edge scores near 1, texture and gradients far less
    ya, yb = int(box[1] + 0.2 * (box[3] - box[1])), int(box[3] - 0.2 * (box[3] - box[1]))
    xa, xb = int(box[0] + 0.2 * (box[2] - box[0])), int(box[2] - 0.2 * (box[2] - box[0]))
    cols = (np.abs(np.diff(gray[ya:yb], axis=1)) > 12).mean(axis=0) if yb > ya else None
    rows = (np.abs(np.diff(gray[:, xa:xb], axis=0)) > 12).mean(axis=1) if xb > xa else None

    def snap(straight: np.ndarray | None, at: float) -> float:
        if straight is None:
            return at
        here = int(round(at)) - 1
        lo, hi = max(0, here - r), min(straight.size, here + r + 1)
        if hi - lo < 3 or straight[max(lo, min(here, hi - 1))] >= 0.5:
            return at  # the template's position is an edge already
        peak = lo + int(np.argmax(straight[lo:hi]))
        return float(peak + 1) if straight[peak] >= 0.8 else at

    out = (int(round(snap(cols, box[0]))), int(round(snap(rows, box[1]))),
           int(round(snap(cols, box[2]))), int(round(snap(rows, box[3]))))
    if out[2] - out[0] < 8 or out[3] - out[1] < 8:
        return int(round(box[0])), int(round(box[1])), int(round(box[2])), int(round(box[3]))
    return out
