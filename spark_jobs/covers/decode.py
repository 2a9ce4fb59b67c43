"""Safe cover loading: any bytes in, an upright RGB picture or an :class:`Unreadable` reason out.

Covers come from the web: every mode and format Pillow knows (CMYK, palette, alpha, grayscale,
16-bit, EXIF-rotated, progressive JPEG, WebP, animated GIF), and broken files (corrupt,
truncated, zero bytes, decompression bombs). Pillow's own bomb guard only warns below twice its
limit, so the pixel count is checked here, from the header, before anything is decoded; the
limit is a setting (``SCENETUNE_COVER_MAX_PIXELS``), and Pillow's guard is set to the same value
so that no decoder path can allocate more.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class Unreadable(Exception):
    """The bytes are not a picture we can use; the message is the one-line reason."""


@dataclass(frozen=True)
class DecodedCover:
    image: Image.Image  # RGB, upright (EXIF orientation applied), alpha flattened on white
    format: str  # JPEG, PNG, WEBP, GIF ... as Pillow names it
    mode: str  # the mode the file was stored in (CMYK, P, RGBA, I;16 ...)
    frames: int  # > 1 for animations; the first frame is used
    rotated: bool  # an EXIF orientation turned it
    plain_jpeg: bool  # a baseline-decodable RGB/L JPEG needing no change: its bytes can be kept as they are

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def _reason(err: BaseException) -> str:
    text = _ADDRESS.sub("", " ".join(str(err).split())) or type(err).__name__
    return text[:200]


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # High bit depth: scale the used range onto 8 bits (16-bit PNGs, TIFF-like scans).
        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / top if top > 255 else 1.0
        return Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def decode(data: bytes, max_pixels: int) -> DecodedCover:
    """Decode cover bytes; raise :class:`Unreadable` with the reason for anything unusable."""
    if not data:
        raise Unreadable("empty file (0 bytes)")
    Image.MAX_IMAGE_PIXELS = max_pixels  # deliberate: the same limit for every decoder path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise Unreadable("not an image: no format recognised") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise Unreadable(f"too large: {_reason(err)}") from None
    except Exception as err:  # noqa: BLE001 - Pillow raises many types for bad headers
        raise Unreadable(f"not an image: {_reason(err)}") from None
    with img:
        width, height = img.size
        if width < 1 or height < 1:
            raise Unreadable(f"empty picture: {width}x{height} pixels")
        if width * height > max_pixels:
            raise Unreadable(f"too large: {width}x{height} pixels is over the {max_pixels:,}-pixel limit")
        fmt, stored_mode = img.format or "unknown", img.mode
        frames = int(getattr(img, "n_frames", 1) or 1)
        try:
            if frames > 1:
                img.seek(0)
            img.load()
        except Exception as err:  # noqa: BLE001 - truncated and corrupt data raise OSError, ValueError, SyntaxError ...
            raise Unreadable(f"truncated or corrupt {fmt}: {_reason(err)}") from None
        orientation = img.getexif().get(0x0112, 1) if hasattr(img, "getexif") else 1
        try:
            upright = ImageOps.exif_transpose(img) if orientation not in (None, 1) else img
        except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
            upright, orientation = img, 1
        try:
            rgb = _to_rgb(upright)
        except Exception as err:  # noqa: BLE001 - exotic modes Pillow cannot convert
            raise Unreadable(f"cannot convert mode {stored_mode} to RGB: {_reason(err)}") from None
        plain = fmt == "JPEG" and stored_mode in ("RGB", "L") and orientation in (None, 1)
        return DecodedCover(rgb, fmt, stored_mode, frames, orientation not in (None, 1), plain)
