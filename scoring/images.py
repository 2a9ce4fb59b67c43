"""Uploaded images: a cheap header check at submit, the full safe decode at scoring, model input.

Decoding is ``spark_jobs.covers.decode`` (the cover cleaner's: every mode and format, EXIF rotation,
first frame of animations, a pixel limit checked from the header): photos and covers meet the same
web of broken files. Here: what submit needs before any pixel is decoded (:func:`probe`), and the
square crop + resize + normalisation the encoders take (:func:`to_model_input`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from spark_jobs.covers.decode import DecodedCover, Unreadable, decode

__all__ = ["Unreadable", "Probe", "probe", "load", "to_model_input", "thumbnail", "EXTENSIONS"]

# Formats the scorer takes; the stored copy gets the format's extension (browsers and tools want one).
# MPO: the JPEGs of phones and 3D cameras that carry a second picture.
EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "AVIF": ".avif",
              "BMP": ".bmp", "TIFF": ".tif"}
# iPhone photos: Pillow has no HEIF decoder here; say so instead of "not an image".
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class Probe:
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def probe(data: bytes, max_pixels: int) -> Probe:
    """Format and size from the header only (no pixels decoded); :class:`Unreadable` for what we cannot take."""
    if not data:
        raise Unreadable("empty file (0 bytes)")
    Image.MAX_IMAGE_PIXELS = max_pixels  # as decode() sets it: one limit for every Pillow path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format or "unknown", img.size
    except UnidentifiedImageError:
        if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
            raise Unreadable("a HEIC/HEIF photo (iPhone): not supported yet, export it as JPEG") from None
        raise Unreadable("not an image: no format recognised") from None
    except Image.DecompressionBombError:
        raise Unreadable(f"too large: over twice the {max_pixels:,}-pixel limit (a decompression bomb?)") from None
    except Exception as err:  # noqa: BLE001 - Pillow raises many types for bad headers
        raise Unreadable(f"not an image: {' '.join(str(err).split())[:200]}") from None
    if fmt not in EXTENSIONS:
        raise Unreadable(f"unsupported image format {fmt}: use JPEG, PNG, WebP, AVIF, GIF, BMP or TIFF")
    if width < 1 or height < 1:
        raise Unreadable(f"empty picture: {width}x{height} pixels")
    if width * height > max_pixels:
        raise Unreadable(f"too large: {width}x{height} pixels is over the {max_pixels:,}-pixel limit")
    return Probe(fmt, width, height)


def load(path: Path, max_pixels: int) -> DecodedCover:
    """Read and decode a stored upload; :class:`Unreadable` with the reason for anything unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Unreadable(f"stored copy is missing: {path}") from None
    except PermissionError:
        raise Unreadable(f"stored copy cannot be read: permission denied ({path})") from None
    except OSError as err:
        raise Unreadable(f"stored copy cannot be read: {err.strerror or err}") from None
    return decode(data, max_pixels)


def square_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The centred square: a photo of any aspect ratio (1x1, 10000x10) gives a bounded model input."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def to_model_input(image: Image.Image, size: int, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """RGB picture -> float32 CHW array: centre square, resized to ``size``, normalised per channel."""
    # reducing_gap: shrink big photos in cheap integer steps first (quality is unchanged at this size).
    square = image.resize((size, size), Image.Resampling.BILINEAR, box=square_box(*image.size), reducing_gap=2.0)
    arr = np.asarray(square, dtype=np.float32) / 255.0
    arr = (arr - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def thumbnail(image: Image.Image, longest: int = 360) -> bytes:
    """A small JPEG of the upright picture, for the gallery."""
    copy = image.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=82)
    return out.getvalue()
