"""Renders playlist covers and album art on request, deterministic from the cover parameters.

Cover kinds (``Playlist.cover_kind``):
- ``scene``: a simple picture whose look follows the tags - palette, brightness and elements per
  weather/time/season/mood (sun and blue sky for 맑은날, dark sky with stars and moon for 밤,
  grey sky with rain streaks for 비오는날, white flakes for 눈오는날, pastel bokeh for 사랑, a
  road for 드라이브, sea for 여름 ...), with per-playlist random variation. 12% are "off theme"
  (a random look), so the tag-cover relation is learnable but not trivial.
- ``text``: big legible text ("EDITOR's CHOICE", "TOP 100", "오늘의 선곡") that OCR can read.
- ``ad_brand``: a logo-style brand cover (fictional brand name, emblem, frame).
- ``template_1/2/3``: the real Genie templates (reference/genie_templates), colourised, with album
  art pasted into the masked box (``template_box(n)`` gives the box).
- ``duplicate_exact``: byte-identical to the original's cover; ``duplicate_near``: the original
  re-encoded, slightly cropped and brightness-shifted.

Rendering uses numpy and Pillow only (no per-pixel Python loops); one 600x600 cover takes about
10-20 ms. ``CoverStore`` caches encoded JPEGs in memory (LRU) and optionally on disk.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from core import files
from demo_site import reference

if TYPE_CHECKING:
    from demo_site.catalogue import Playlist

RENDER_VERSION = 1
SIZE = 600
JPEG_QUALITY = 88
MAX_RESIZE = 1200

RGB = tuple[int, int, int]

# look -> palette variants: (sky top, sky bottom, ground)
PALETTES: dict[str, tuple[tuple[RGB, RGB, RGB], ...]] = {
    "sunny": (((64, 146, 232), (172, 216, 250), (120, 190, 90)), ((255, 186, 84), (255, 236, 170), (235, 200, 120)),
              ((90, 170, 240), (215, 236, 250), (150, 205, 110))),
    "beach": (((70, 165, 240), (190, 230, 255), (240, 215, 160)), ((40, 140, 225), (160, 220, 250), (245, 225, 180))),
    "night": (((6, 10, 38), (34, 40, 96), (14, 16, 40)), ((22, 8, 48), (76, 38, 116), (20, 12, 40)),
              ((4, 16, 40), (20, 60, 100), (8, 20, 36))),
    "dawn": (((18, 28, 78), (128, 112, 172), (40, 40, 80)), ((30, 40, 90), (190, 150, 180), (50, 50, 90))),
    "sunset": (((64, 40, 112), (250, 140, 80), (60, 36, 60)), ((90, 50, 120), (255, 170, 110), (80, 50, 70))),
    "morning": (((150, 200, 240), (255, 230, 190), (170, 210, 150)), ((190, 220, 245), (255, 240, 210), (200, 220, 170))),
    "rain": (((66, 76, 92), (128, 138, 150), (70, 76, 84)), ((50, 60, 80), (110, 122, 140), (56, 62, 72))),
    "cloudy": (((118, 126, 136), (176, 180, 186), (110, 116, 120)), ((140, 146, 156), (196, 198, 202), (130, 134, 138))),
    "fog": (((186, 192, 198), (226, 228, 230), (170, 176, 180)), ((200, 204, 208), (236, 236, 236), (180, 184, 186))),
    "snow": (((168, 194, 226), (234, 242, 250), (248, 250, 255)), ((120, 150, 196), (214, 226, 244), (240, 244, 250))),
    "pastel": (((250, 200, 220), (222, 202, 250), (250, 220, 230)), ((255, 220, 232), (255, 246, 214), (255, 230, 220)),
               ((210, 226, 255), (250, 214, 236), (240, 230, 250))),
    "spring": (((176, 222, 250), (250, 222, 236), (150, 206, 120)), ((200, 232, 250), (255, 236, 240), (170, 214, 130))),
    "autumn": (((236, 156, 76), (250, 214, 150), (166, 96, 48)), ((200, 110, 60), (246, 196, 130), (130, 80, 40))),
    "road": (((90, 160, 230), (200, 226, 246), (96, 150, 80)), ((250, 150, 90), (255, 216, 160), (110, 100, 80))),
    "city": (((20, 24, 60), (120, 70, 140), (16, 18, 30)), ((40, 40, 80), (240, 130, 110), (26, 24, 40))),
    "neon": (((255, 0, 140), (40, 0, 120), (20, 0, 40)), ((0, 210, 255), (120, 0, 200), (10, 0, 50)),
             ((255, 120, 0), (200, 0, 120), (30, 0, 30))),
    "calm": (((226, 212, 188), (200, 186, 160), (180, 166, 140)), ((192, 206, 186), (226, 232, 216), (170, 184, 160)),
             ((214, 222, 230), (240, 238, 232), (190, 196, 200))),
    "room": (((214, 196, 170), (186, 166, 140), (120, 90, 66)), ((200, 210, 206), (170, 182, 178), (110, 96, 84))),
    "dark": (((10, 5, 8), (90, 15, 22), (6, 4, 6)), ((6, 6, 12), (40, 36, 60), (4, 4, 8))),
}
TEXT_BACKGROUNDS: tuple[RGB, ...] = ((36, 108, 112), (240, 236, 226), (20, 24, 36), (236, 80, 70), (250, 204, 60),
                                     (60, 90, 200), (248, 248, 248), (120, 200, 190))
BRAND_BACKGROUNDS: tuple[RGB, ...] = ((20, 20, 22), (200, 30, 40), (16, 44, 100), (240, 240, 240), (0, 110, 80))


# --------------------------------------------------------------------------- fonts and templates
@functools.lru_cache(maxsize=64)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = reference.find_font(kind)
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def korean_font_available() -> bool:
    return reference.find_font("korean_bold") is not None


@functools.lru_cache(maxsize=4)
def template_box(number: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the masked album-art box of template ``number`` (x1, y1 exclusive)."""
    t = reference.template_image(number).astype(np.int16)
    cy = cx = SIZE // 2
    mask = np.abs(t - t[cy, cx]) <= 4

    def run(line: np.ndarray, centre: int) -> tuple[int, int]:
        lo = centre
        while lo > 0 and line[lo - 1]:
            lo -= 1
        hi = centre
        while hi < line.size - 1 and line[hi + 1]:
            hi += 1
        return lo, hi + 1

    x0, x1 = run(mask[cy], cx)
    y0, y1 = run(mask[:, cx], cy)
    return int(x0), int(y0), int(x1), int(y1)


@functools.lru_cache(maxsize=4)
def _template_pil(number: int) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(reference.template_image(number)))


@functools.lru_cache(maxsize=4)
def _template_background_level(number: int) -> float:
    t = reference.template_image(number)
    values, counts = np.unique(t, return_counts=True)
    return float(values[int(np.argmax(counts))])


GRAIN_LEVELS = (2.0, 3.5, 5.0, 7.0)
VIGNETTE_LEVELS = 8


@functools.lru_cache(maxsize=len(GRAIN_LEVELS))
def _grain_image(sigma: float) -> Image.Image:
    """A fixed monochrome film-grain texture centred on 128; covers add random crops of it."""
    rng = np.random.default_rng(1234)
    field = np.clip(128 + rng.standard_normal((SIZE + 200, SIZE + 200), dtype=np.float32) * sigma, 0, 255)
    return Image.fromarray(field.astype(np.uint8)).convert("RGB")


def _add_grain(img: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    level = min(GRAIN_LEVELS, key=lambda g: abs(g - sigma))
    x, y = int(rng.integers(0, 200)), int(rng.integers(0, 200))
    grain = _grain_image(level).crop((x, y, x + img.width, y + img.height))
    return ImageChops.add(img, grain, scale=1.0, offset=-128)


@functools.lru_cache(maxsize=VIGNETTE_LEVELS)
def _vignette_image(level: int) -> Image.Image:
    strength = 0.35 * level / (VIGNETTE_LEVELS - 1)
    yy, xx = np.ogrid[:SIZE, :SIZE]
    d = np.sqrt(((xx - SIZE / 2) / (SIZE / 2)) ** 2 + ((yy - SIZE / 2) / (SIZE / 2)) ** 2) / math.sqrt(2)
    factor = 1 - strength * np.clip(d, 0, 1) ** 2
    return Image.fromarray((factor * 255).astype(np.uint8)).convert("RGB")


def _vignette(img: Image.Image, strength: float) -> Image.Image:
    level = int(round(min(max(strength, 0.0), 0.35) / 0.35 * (VIGNETTE_LEVELS - 1)))
    return img if level == 0 else ImageChops.multiply(img, _vignette_image(level))


# --------------------------------------------------------------------------- drawing helpers
def _jitter(rng: np.random.Generator, c, amount: float = 0.1) -> np.ndarray:
    f = 1 + rng.uniform(-amount, amount, 3)
    return np.clip(np.asarray(c, dtype=np.float32) * f + rng.uniform(-10, 10), 0, 255)


def _rgb(c) -> RGB:
    return tuple(int(v) for v in np.clip(np.asarray(c, dtype=np.float32), 0, 255))  # type: ignore[return-value]


def _gradient_image(top, bottom, w: int, h: int, gamma: float = 1.0) -> Image.Image:
    t = (np.linspace(0.0, 1.0, h, dtype=np.float32) ** gamma)[:, None]
    col = np.asarray(top, dtype=np.float32)[None, :] * (1 - t) + np.asarray(bottom, dtype=np.float32)[None, :] * t
    rows = np.clip(col, 0, 255).astype(np.uint8)[:, None, :]
    return Image.fromarray(np.ascontiguousarray(np.broadcast_to(rows, (h, w, 3))))


def _glow(img: Image.Image, colour, cx: float, cy: float, radius: float, power: float, strength: float) -> Image.Image:
    """Blend a soft radial glow into ``img`` (computed at low resolution, upscaled)."""
    low = SIZE // 4
    yy, xx = np.ogrid[:low, :low]
    d = np.sqrt((xx * 4 - cx) ** 2 + (yy * 4 - cy) ** 2) / radius
    alpha = (np.clip(1 - d, 0, 1) ** power * strength * 255).astype(np.uint8)
    mask = Image.fromarray(alpha).resize((SIZE, SIZE), Image.BILINEAR)
    return Image.composite(Image.new("RGB", img.size, _rgb(colour)), img, mask)


def _soft_overlay(img: Image.Image, draw_fn: Callable[[ImageDraw.ImageDraw, float], None], blur: float) -> Image.Image:
    """Draw translucent shapes on a quarter-size layer, blur it cheaply, composite at full size."""
    from PIL import ImageFilter

    small = Image.new("RGBA", (SIZE // 4, SIZE // 4), (0, 0, 0, 0))
    draw_fn(ImageDraw.Draw(small), 0.25)
    if blur:  # blur premultiplied so transparent pixels do not darken the edges
        small = small.convert("RGBa").filter(ImageFilter.GaussianBlur(blur)).convert("RGBA")
    layer = small.resize((SIZE, SIZE), Image.BILINEAR)
    return Image.composite(layer.convert("RGB"), img, layer.getchannel("A"))


def _hills(draw: ImageDraw.ImageDraw, rng: np.random.Generator, base: float, colour: RGB, amp: float = 30) -> None:
    f1, f2 = rng.uniform(0.004, 0.012), rng.uniform(0.015, 0.03)
    p1, p2 = rng.uniform(0, 6.28, 2)
    pts = [(x, base + amp * math.sin(x * f1 + p1) + amp * 0.4 * math.sin(x * f2 + p2)) for x in range(0, SIZE + 10, 10)]
    draw.polygon(pts + [(SIZE, SIZE), (0, SIZE)], fill=colour)


# --------------------------------------------------------------------------- scene covers
def render_scene(params: dict) -> Image.Image:
    rng = np.random.default_rng(params["seed"])
    looks = list(params.get("looks") or ["calm"])
    main = looks[0] if looks[0] in PALETTES else "calm"
    extra = set(looks[1:])
    variants = PALETTES[main]
    top, bottom, ground = (_jitter(rng, c) for c in variants[int(rng.integers(len(variants)))])
    dark_sky = main in ("night", "dawn", "city", "dark") or "night" in extra
    if "night" in extra and main not in ("night", "dark"):
        top, bottom = top * 0.3 + np.array([5, 8, 35]) * 0.7, bottom * 0.45 + np.array([30, 30, 80]) * 0.55
    if ("rain" in extra or "cloudy" in extra) and main not in ("rain", "cloudy"):
        grey = np.array([120, 126, 134], dtype=np.float32)
        top, bottom = top * 0.45 + grey * 0.55, bottom * 0.45 + grey * 0.55
    if "sunset" in extra and main not in ("night", "dark"):
        bottom = bottom * 0.5 + np.array([250, 150, 90]) * 0.5
    pil = _gradient_image(top, bottom, SIZE, SIZE, gamma=float(rng.uniform(0.7, 1.4)))
    horizon = float(rng.uniform(0.58, 0.8) * SIZE)

    # celestial bodies
    if main in ("sunny", "beach", "morning", "road", "spring") and not dark_sky and rng.random() < 0.85:
        cx, cy, r = rng.uniform(90, 510), rng.uniform(70, horizon * 0.6), rng.uniform(38, 70)
        pil = _glow(pil, (255, 246, 200), cx, cy, r * 4.0, 2.0, 0.7)
        ImageDraw.Draw(pil).ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 250, 225))
    if main in ("sunset", "morning") or "sunset" in extra:
        cx, r = rng.uniform(150, 450), rng.uniform(50, 80)
        pil = _glow(pil, (255, 200, 120), cx, horizon, rng.uniform(150, 260), 1.5, 0.8)
        ImageDraw.Draw(pil).ellipse((cx - r, horizon - r, cx + r, horizon + r), fill=(255, 170, 90))
    if main == "dark":
        glow = (rng.uniform(120, 220), 20, 30) if rng.random() < 0.6 else (90, 60, 160)
        pil = _glow(pil, glow, rng.uniform(150, 450), rng.uniform(150, 450), rng.uniform(220, 380), 2.0, 0.7)
    draw = ImageDraw.Draw(pil)
    if dark_sky and main != "dark":
        n_stars = int(rng.integers(120, 320))
        xs, ys = rng.uniform(0, SIZE, n_stars), rng.uniform(0, horizon, n_stars)
        levels = rng.integers(170, 256, n_stars)
        for x, y, v in zip(xs.tolist(), ys.tolist(), levels.tolist()):
            if v > 240:
                draw.rectangle((x, y, x + 1.5, y + 1.5), fill=(v, v, v))
            else:
                draw.point((x, y), fill=(v, v, v))
    if dark_sky and main in ("night", "dawn") and rng.random() < 0.85:
        mx, my, mr = rng.uniform(100, 500), rng.uniform(60, horizon * 0.5), rng.uniform(26, 48)
        draw.ellipse((mx - mr, my - mr, mx + mr, my + mr), fill=(246, 240, 210))
        off = rng.uniform(0.3, 0.7) * mr
        sky = pil.getpixel((int(min(mx + mr + 5, SIZE - 1)), int(my)))
        draw.ellipse((mx - mr + off, my - mr - off * 0.3, mx + mr + off, my + mr - off * 0.3), fill=sky)

    # ground and scene elements
    g = _rgb(ground)
    if main == "beach":
        sea = (int(rng.integers(20, 50)), int(rng.integers(100, 150)), int(rng.integers(180, 220)))
        draw.rectangle((0, horizon, SIZE, SIZE), fill=sea)
        sand_top = horizon + rng.uniform(70, 140)
        for k in range(int(rng.integers(5, 10))):
            y = horizon + 8 + k * (sand_top - horizon) / 10
            freq = rng.uniform(18, 30)
            draw.line([(x, y + 4 * math.sin(x / freq + k)) for x in range(0, SIZE + 20, 20)], fill=(200, 230, 250), width=2)
        draw.polygon([(0, sand_top), (SIZE, sand_top - rng.uniform(-30, 30)), (SIZE, SIZE), (0, SIZE)], fill=g)
    elif main == "road":
        draw.rectangle((0, horizon, SIZE, SIZE), fill=g)
        vx = rng.uniform(220, 380)
        draw.polygon([(vx - 6, horizon), (vx + 6, horizon), (SIZE * 0.95, SIZE), (SIZE * 0.05, SIZE)], fill=(60, 60, 66))
        for k in range(7):
            t0, t1 = (k / 7) ** 1.8, ((k + 0.5) / 7) ** 1.8
            y0, y1 = horizon + (SIZE - horizon) * t0, horizon + (SIZE - horizon) * t1
            w0, w1 = 1 + 6 * t0, 1 + 6 * t1
            draw.polygon([(vx - w0, y0), (vx + w0, y0), (vx + w1, y1), (vx - w1, y1)], fill=(240, 220, 120))
    elif main == "city" or (main == "night" and rng.random() < 0.35):
        x = 0.0
        while x < SIZE:
            bw, bh = rng.uniform(30, 80), rng.uniform(60, 260)
            shade = int(rng.integers(10, 40))
            draw.rectangle((x, horizon - bh, x + bw, SIZE), fill=(shade, shade, shade + 14))
            for _ in range(int(bh * bw / 500)):
                wx, wy = rng.uniform(x + 4, x + bw - 8), rng.uniform(horizon - bh + 6, horizon + 60)
                if rng.random() < 0.55:
                    draw.rectangle((wx, wy, wx + 4, wy + 6), fill=(255, 220, 130))
            x += bw + rng.uniform(0, 8)
        draw.rectangle((0, horizon + 60, SIZE, SIZE), fill=g)
    elif main == "room":
        draw.rectangle((0, 0, SIZE, SIZE), fill=_rgb(bottom))
        wx0, wy0 = rng.uniform(60, 200), rng.uniform(50, 120)
        wx1, wy1 = wx0 + rng.uniform(220, 320), wy0 + rng.uniform(200, 280)
        window_sky = _gradient_image(_jitter(rng, (120, 180, 235)), _jitter(rng, (220, 236, 250)),
                                     int(wx1 - wx0), int(wy1 - wy0))
        pil.paste(window_sky, (int(wx0), int(wy0)))
        frame = (250, 248, 240)
        draw.rectangle((wx0, wy0, wx1, wy1), outline=frame, width=10)
        draw.line(((wx0 + wx1) / 2, wy0, (wx0 + wx1) / 2, wy1), fill=frame, width=6)
        draw.rectangle((0, SIZE * 0.78, SIZE, SIZE), fill=g)
        cx = rng.uniform(120, 480)
        draw.rounded_rectangle((cx - 30, SIZE * 0.78 - 62, cx + 30, SIZE * 0.78), radius=8, fill=(250, 250, 245))
        draw.arc((cx + 18, SIZE * 0.78 - 50, cx + 50, SIZE * 0.78 - 18), -90, 90, fill=(250, 250, 245), width=7)
    elif main in ("spring", "autumn", "sunny", "morning", "snow") and rng.random() < 0.8:
        _hills(draw, rng, horizon, g)
        if rng.random() < 0.6:
            _hills(draw, rng, horizon + rng.uniform(40, 90), _rgb(ground * 0.85), amp=20)
    elif main == "neon":
        colours = ((255, 60, 200), (60, 240, 255), (255, 230, 60), (140, 80, 255))
        for _ in range(int(rng.integers(4, 9))):
            x0, w = rng.uniform(-200, SIZE), rng.uniform(20, 70)
            draw.polygon([(x0, SIZE), (x0 + w, SIZE), (x0 + w + 300, 0), (x0 + 300, 0)],
                         fill=colours[int(rng.integers(len(colours)))])

    # weather, particles and soft layers
    if main in ("rain", "cloudy", "fog") or "rain" in extra or "cloudy" in extra:
        def clouds(d: ImageDraw.ImageDraw, sc: float) -> None:
            for _ in range(int(rng.integers(5, 10))):
                cx, cy = rng.uniform(-50, 650), rng.uniform(-40, horizon * 0.7)
                rx, ry = rng.uniform(90, 200), rng.uniform(40, 80)
                shade = int(rng.integers(150, 215))
                d.ellipse(((cx - rx) * sc, (cy - ry) * sc, (cx + rx) * sc, (cy + ry) * sc), fill=(shade, shade, shade + 6, 150))
        pil = _soft_overlay(pil, clouds, blur=4)
        draw = ImageDraw.Draw(pil)
    if main == "rain" or "rain" in extra:
        slant = rng.uniform(-0.35, 0.1)
        n = int(rng.integers(160, 320))
        xs, ys, lens = rng.uniform(-50, 650, n), rng.uniform(-20, 600, n), rng.uniform(14, 34, n)
        for x, y, ln in zip(xs.tolist(), ys.tolist(), lens.tolist()):
            draw.line((x, y, x + slant * ln, y + ln), fill=(205, 215, 228), width=1)
    if main == "fog" or "fog" in extra:
        haze = Image.fromarray(np.repeat(np.linspace(50, 190, SIZE, dtype=np.float32).astype(np.uint8)[:, None], SIZE, 1))
        pil = Image.composite(Image.new("RGB", pil.size, (232, 232, 232)), pil, haze)
        draw = ImageDraw.Draw(pil)
    if main == "snow" or "snow" in extra:
        n = int(rng.integers(150, 380))
        for x, y, r in zip(rng.uniform(0, SIZE, n).tolist(), rng.uniform(0, SIZE, n).tolist(), rng.uniform(1.2, 5.5, n).tolist()):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255))
    if main == "spring" or "spring" in extra:
        n = int(rng.integers(50, 120))
        pinks = rng.integers(180, 215, n).tolist()
        for x, y, r, pk in zip(rng.uniform(0, SIZE, n).tolist(), rng.uniform(0, SIZE, n).tolist(), rng.uniform(3, 7, n).tolist(), pinks):
            draw.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=(255, pk, 222))
    if main == "autumn" or "autumn" in extra:
        n = int(rng.integers(40, 100))
        cols = rng.integers(0, 1000, n).tolist()
        for x, y, r, c in zip(rng.uniform(0, SIZE, n).tolist(), rng.uniform(0, SIZE, n).tolist(), rng.uniform(5, 11, n).tolist(), cols):
            draw.ellipse((x - r, y - r * 0.5, x + r, y + r * 0.5), fill=(190 + c % 50, 70 + c % 70, 20 + c % 30))
    if main in ("pastel", "city") or "pastel" in extra or (main == "neon" and rng.random() < 0.5):
        def bokeh(d: ImageDraw.ImageDraw, sc: float) -> None:
            for _ in range(int(rng.integers(14, 32))):
                x, y, r = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(14, 60)
                col = (255, int(rng.integers(200, 256)), int(rng.integers(200, 256)), int(rng.integers(60, 140)))
                d.ellipse(((x - r) * sc, (y - r) * sc, (x + r) * sc, (y + r) * sc), fill=col)
        pil = _soft_overlay(pil, bokeh, blur=1.5)
        draw = ImageDraw.Draw(pil)
        if main == "pastel" and rng.random() < 0.5:
            for _ in range(int(rng.integers(1, 4))):
                hx, hy, hs = rng.uniform(120, 480), rng.uniform(120, 480), rng.uniform(24, 60)
                col = (int(rng.integers(230, 256)), int(rng.integers(90, 150)), int(rng.integers(140, 190)))
                draw.ellipse((hx - hs, hy - hs, hx, hy - hs * 0.1), fill=col)
                draw.ellipse((hx, hy - hs, hx + hs, hy - hs * 0.1), fill=col)
                draw.polygon([(hx - hs, hy - hs * 0.5), (hx + hs, hy - hs * 0.5), (hx, hy + hs * 0.8)], fill=col)
    if main == "calm" and rng.random() < 0.7:
        def blobs(d: ImageDraw.ImageDraw, sc: float) -> None:
            for _ in range(int(rng.integers(2, 5))):
                x, y, r = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(80, 200)
                col = _rgb(_jitter(rng, ground, 0.15)) + (110,)
                d.ellipse(((x - r) * sc, (y - r) * sc, (x + r) * sc, (y + r) * sc), fill=col)
        pil = _soft_overlay(pil, blobs, blur=6)

    # film grain and vignette
    pil = _vignette(pil, float(rng.uniform(0.0, 0.35)))
    return _add_grain(pil, rng, float(rng.uniform(2.0, 7.0)))


# --------------------------------------------------------------------------- text and brand covers
def _fit_font(draw: ImageDraw.ImageDraw, lines: list[str], kind: str, max_w: int, max_h: int, start: int):
    size = start
    while size > 24:
        font = _font(kind, size)
        widths = [draw.textbbox((0, 0), ln, font=font)[2] for ln in lines]
        height = sum(draw.textbbox((0, 0), ln, font=font)[3] for ln in lines) + (len(lines) - 1) * size * 0.25
        if max(widths) <= max_w and height <= max_h:
            return font, size
        size -= 8
    return _font(kind, size), size


def _luminance(c) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def render_text(params: dict) -> Image.Image:
    rng = np.random.default_rng(params["seed"])
    bg = _jitter(rng, TEXT_BACKGROUNDS[int(rng.integers(len(TEXT_BACKGROUNDS)))], 0.06)
    pil = _add_grain(_gradient_image(bg, bg * float(rng.uniform(0.85, 1.0)), SIZE, SIZE), rng, 2.0)
    draw = ImageDraw.Draw(pil)
    light_bg = _luminance(bg) > 140
    ink = (24, 24, 30) if light_bg else (250, 250, 250)
    accent = tuple(int(v) for v in rng.choice([[240, 90, 80], [40, 170, 160], [250, 200, 60], [90, 120, 230]]))
    style = int(rng.integers(3))
    if style == 0:  # badge, like the Editor's Choice cover
        draw.ellipse((90, 90, 510, 510), fill=(248, 244, 232) if not light_bg else (255, 255, 255))
        draw.rectangle((40, 380, 560, 440), fill=accent)
        ink = (30, 30, 36)
    elif style == 1:
        draw.rectangle((40, 40, 560, 560), outline=ink, width=6)
    lines = params["text"].split("\n")
    kind = "korean_bold" if any(ord(ch) > 0x3000 for ch in params["text"]) else "latin_bold"
    font, size = _fit_font(draw, lines, kind, 380 if style == 0 else 460, 260, 150)
    heights = [draw.textbbox((0, 0), ln, font=font)[3] for ln in lines]
    total = sum(heights) + (len(lines) - 1) * size * 0.25
    y = (SIZE - total) / 2 - (30 if style == 0 else 0)
    for ln, h in zip(lines, heights):
        w = draw.textbbox((0, 0), ln, font=font)[2]
        draw.text(((SIZE - w) / 2, y), ln, font=font, fill=ink)
        y += h + size * 0.25
    small = _font("latin_bold", 22)
    draw.text((SIZE / 2 - 30, SIZE - 52), "genie", font=small, fill=ink if style != 0 else (250, 250, 250))
    return pil


def render_brand(params: dict) -> Image.Image:
    rng = np.random.default_rng(params["seed"])
    border = tuple(int(v) for v in _jitter(rng, (84, 90, 110), 0.1))
    bg = tuple(int(v) for v in BRAND_BACKGROUNDS[int(rng.integers(len(BRAND_BACKGROUNDS)))])
    ink = (255, 255, 255) if _luminance(bg) < 140 else (20, 20, 20)
    pil = Image.new("RGB", (SIZE, SIZE), border)
    draw = ImageDraw.Draw(pil)
    pad = int(rng.integers(20, 40))
    draw.rectangle((pad, pad, SIZE - pad, SIZE - pad), fill=bg)
    cx, cy = SIZE / 2 + rng.uniform(-30, 30), SIZE * 0.4
    emblem = int(rng.integers(4))
    if emblem == 0:  # ring with a mountain
        draw.ellipse((cx - 120, cy - 120, cx + 120, cy + 120), outline=ink, width=16)
        draw.polygon([(cx - 90, cy + 60), (cx - 20, cy - 60), (cx + 20, cy), (cx + 45, cy - 30), (cx + 95, cy + 60)], fill=ink)
    elif emblem == 1:  # star
        pts = []
        for k in range(10):
            ang = -math.pi / 2 + k * math.pi / 5
            rad = 120 if k % 2 == 0 else 50
            pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
        draw.polygon(pts, fill=ink)
    elif emblem == 2:  # monogram in a rounded square
        draw.rounded_rectangle((cx - 110, cy - 110, cx + 110, cy + 110), radius=40, fill=ink)
        letter = params["brand"][0]
        font = _font("latin_bold", 170)
        w, h = draw.textbbox((0, 0), letter, font=font)[2:]
        draw.text((cx - w / 2, cy - h / 2 - 10), letter, font=font, fill=bg)
    else:  # an animal-ish silhouette from ellipses, like the kangaroo on the real ad cover
        draw.ellipse((cx - 90, cy - 40, cx + 50, cy + 90), fill=ink)
        draw.ellipse((cx + 20, cy - 110, cx + 90, cy - 40), fill=ink)
        draw.polygon([(cx + 40, cy - 100), (cx + 55, cy - 160), (cx + 70, cy - 100)], fill=ink)
        draw.polygon([(cx - 80, cy + 60), (cx - 200, cy + 120), (cx - 70, cy + 90)], fill=ink)
        draw.rectangle((cx - 10, cy + 80, cx + 60, cy + 100), fill=ink)
    name = params["brand"]
    font, _size = _fit_font(draw, [name], "latin_bold", SIZE - 2 * pad - 60, 80, 90)
    w = draw.textbbox((0, 0), name, font=font)[2]
    draw.text(((SIZE - w) / 2, SIZE * 0.66), name, font=font, fill=ink)
    draw.text((cx - 150, cy + 120), "TM", font=_font("latin_bold", 22), fill=ink)
    px, py = SIZE - pad - 50, SIZE - pad - 50
    draw.ellipse((px - 34, py - 34, px + 34, py + 34), outline=ink, width=5)
    draw.polygon([(px - 10, py - 18), (px - 10, py + 18), (px + 20, py)], fill=ink)
    return pil


# --------------------------------------------------------------------------- album art and templates
def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def render_album_art(album_id: str, size: int) -> Image.Image:
    """Stable abstract album art for an album id (square, ``size`` pixels)."""
    rng = np.random.default_rng(_seed_of(f"album:{album_id}"))
    work = min(size, 200)
    c1, c2, c3 = (rng.uniform(20, 235, 3).astype(np.float32) for _ in range(3))
    style = int(rng.integers(4))
    if style == 0:
        yy, xx = np.mgrid[:work, :work].astype(np.float32) / work
        t = ((xx + yy) / 2)[:, :, None]
        arr = c1 * (1 - t) + c2 * t
    elif style == 1:
        bands = int(rng.integers(3, 7))
        idx = (np.arange(work) * bands // work) % 3
        arr = np.stack([c1, c2, c3])[idx][:, None, :].repeat(work, axis=1)
    elif style == 2:  # soft "photo" blur of a few related colours
        mix = rng.random((4, 4, 1)).astype(np.float32)
        small = np.clip(c1 * mix + c2 * (1 - mix) + rng.uniform(-25, 25, (4, 4, 3)), 0, 255).astype(np.uint8)
        arr = np.asarray(Image.fromarray(small).resize((work, work), Image.BICUBIC), dtype=np.float32)
    else:
        arr = np.broadcast_to(c1, (work, work, 3)).copy()
    pil = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(int(rng.integers(1, 4))):
        x, y, r = rng.uniform(0, work), rng.uniform(0, work), rng.uniform(work * 0.1, work * 0.4)
        col = tuple(int(v) for v in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
        else:
            draw.rectangle((x - r, y - r * 0.5, x + r, y + r * 0.5), fill=col)
    if work != size:
        pil = pil.resize((size, size), Image.BICUBIC)
    return pil


def render_template(params: dict) -> Image.Image:
    number = int(params["template"])
    rng = np.random.default_rng(params["seed"])
    level = _template_background_level(number)
    look = (params.get("looks") or ["calm"])[0]
    variants = PALETTES.get(look, PALETTES["calm"])
    tint = _jitter(rng, variants[int(rng.integers(len(variants)))][1], 0.08)
    # Keep the tint's brightness near the template's background so the structure stays the same.
    lum = max(_luminance(tint), 1.0)
    tint = np.clip(tint * (level * float(rng.uniform(0.95, 1.15)) / lum), 0, 255)
    gray = _template_pil(number)
    ramp = np.arange(256, dtype=np.float32)
    channels = [gray.point(np.clip(ramp * (t / level), 0, 255).astype(np.uint8).tolist()) for t in tint]
    pil = Image.merge("RGB", channels)
    x0, y0, x1, y1 = template_box(number)
    art = render_album_art(str(params["art_album_id"]), max(x1 - x0, y1 - y0))
    pil.paste(art.crop((0, 0, x1 - x0, y1 - y0)), (x0, y0))
    return pil


# --------------------------------------------------------------------------- encoding and the store
def encode_jpeg(img: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def near_duplicate(original_jpeg: bytes, params: dict) -> bytes:
    """The original re-encoded, slightly cropped and brightness-shifted (a re-upload)."""
    rng = np.random.default_rng(params["seed"])
    with Image.open(io.BytesIO(original_jpeg)) as im:
        img = im.convert("RGB")
    crop = float(params.get("crop", 0.04))
    cut = int(SIZE * crop)
    ox, oy = int(rng.integers(0, cut + 1)), int(rng.integers(0, cut + 1))
    img = img.crop((ox, oy, ox + SIZE - cut, oy + SIZE - cut)).resize((SIZE, SIZE), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) * (1 + float(params.get("brightness", 0.0)))
    return encode_jpeg(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), int(params.get("quality", 80)))


def render_cover(pl: Playlist, original_of: Callable[[int], bytes] | None = None) -> bytes:
    """JPEG bytes of a playlist's 600x600 cover. ``original_of(plm_seq)`` serves duplicates."""
    kind = pl.cover_kind
    params = pl.cover_params
    if kind in ("duplicate_exact", "duplicate_near"):
        if original_of is None:
            raise ValueError("duplicate covers need original_of")
        original = original_of(int(params["of"]))
        return original if kind == "duplicate_exact" else near_duplicate(original, params)
    if kind == "scene":
        img = render_scene(params)
    elif kind == "text":
        img = render_text(params)
    elif kind == "ad_brand":
        img = render_brand(params)
    elif kind.startswith("template_"):
        img = render_template(params)
    else:
        raise ValueError(f"unknown cover kind {kind!r}")
    return encode_jpeg(img)


def resize_jpeg(data: bytes, width: int, height: int) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        img = im.convert("RGB").resize((width, height), Image.BILINEAR if width < SIZE else Image.BICUBIC)
    return encode_jpeg(img, 85)


class CoverStore:
    """Encoded covers and album art, cached in memory (LRU) and, for covers, under ``cache_dir``."""

    def __init__(self, seed: int, scale: str, cache_dir: Path | None = None, max_items: int = 2048):
        self.seed, self.scale = seed, scale
        self.cache_dir = (Path(cache_dir) / f"covers-v{RENDER_VERSION}" / f"{seed}-{scale}") if cache_dir else None
        self._lru: OrderedDict[tuple, bytes] = OrderedDict()
        self._max = max_items
        self._lock = threading.Lock()

    def _get(self, key: tuple) -> bytes | None:
        with self._lock:
            data = self._lru.get(key)
            if data is not None:
                self._lru.move_to_end(key)
            return data

    def _put(self, key: tuple, data: bytes) -> None:
        with self._lock:
            self._lru[key] = data
            self._lru.move_to_end(key)
            while len(self._lru) > self._max:
                self._lru.popitem(last=False)

    def cover(self, pl: Playlist, lookup: Callable[[int], Playlist | None]) -> bytes:
        key = ("cover", pl.reg_dt)
        data = self._get(key)
        if data is not None:
            return data
        path = self.cache_dir / f"{pl.reg_dt}.jpg" if self.cache_dir else None
        if path is not None and path.is_file():
            data = path.read_bytes()
        else:
            def original_of(seq: int) -> bytes:
                orig = lookup(seq)
                if orig is None:
                    raise KeyError(f"duplicate cover refers to unknown plm_seq {seq}")
                return self.cover(orig, lookup)

            data = render_cover(pl, original_of)
            if path is not None:
                files.write_bytes(path, data)
        self._put(key, data)
        return data

    def resized(self, pl: Playlist, lookup: Callable[[int], Playlist | None], width: int, height: int) -> bytes:
        key = ("resized", pl.reg_dt, width, height)
        data = self._get(key)
        if data is None:
            data = resize_jpeg(self.cover(pl, lookup), width, height)
            self._put(key, data)
        return data

    def album_art(self, album_id: str, width: int, height: int) -> bytes:
        key = ("album", album_id, width, height)
        data = self._get(key)
        if data is None:
            img = render_album_art(album_id, max(width, height))
            if width != height:
                img = img.resize((width, height), Image.BILINEAR)
            data = encode_jpeg(img, 85)
            self._put(key, data)
        return data
