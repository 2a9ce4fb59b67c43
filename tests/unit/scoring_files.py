"""Real image files of every kind an upload can be, built from scikit-image's photos."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image
from skimage import data


def photo(name: str = "astronaut", size: int | None = 256) -> Image.Image:
    img = Image.fromarray(getattr(data, name)())
    img = img.convert("RGB") if img.mode != "RGB" else img
    if size:
        img.thumbnail((size, size))
    return img


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def exif_rotated_jpeg() -> bytes:
    """A 200x100 JPEG whose EXIF says 'rotate 90° clockwise to view' (orientation 6): upright it is 100x200."""
    img = Image.new("RGB", (200, 100), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, 100, 100))  # left half blue: after the turn, the top is blue
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(img, "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    """Two frames: red, then blue."""
    red, blue = Image.new("RGB", (64, 48), (255, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 255))
    return encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` x ``height`` (a decompression bomb's calling card)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def every_kind() -> dict[str, bytes]:
    """name -> bytes: the inputs the scorer must take (``ok_*``) or refuse with a reason (the rest)."""
    base = photo()
    jpeg = encode(base, "JPEG", quality=90)
    sixteen = Image.fromarray((np.asarray(base.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))
    palette = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette.info["transparency"] = 0
    return {
        "ok_jpeg": jpeg,
        "ok_progressive_jpeg": encode(base, "JPEG", quality=85, progressive=True),
        "ok_png": encode(base, "PNG"),
        "ok_webp": encode(base, "WEBP", quality=80),
        "ok_cmyk_jpeg": encode(base.convert("CMYK"), "JPEG"),
        "ok_16bit_png": encode(sixteen, "PNG"),
        "ok_palette_png": encode(palette, "PNG"),
        "ok_rgba_png": encode(rgba, "PNG"),
        "ok_la_png": encode(rgba.convert("LA"), "PNG"),
        "ok_grayscale_jpeg": encode(base.convert("L"), "JPEG"),
        "ok_bmp": encode(base, "BMP"),
        "ok_tiny_1x1": encode(Image.new("RGB", (1, 1), (10, 200, 10)), "PNG"),
        "ok_tall_1x4000": encode(Image.new("RGB", (1, 4000), (90, 90, 90)), "PNG"),
        "ok_wide_4000x1": encode(Image.new("RGB", (4000, 1), (90, 90, 90)), "PNG"),
        "ok_animated_gif": animated_gif(),
        "ok_exif_rotated": exif_rotated_jpeg(),
        "bad_text": b"this is a text file, not a picture\n",
        "bad_zero_bytes": b"",
        "bad_corrupt_jpeg": jpeg[:200] + bytes(range(256)) * 20,
        "bad_truncated_jpeg": jpeg[: len(jpeg) // 2],
        "bad_bomb_png": png_claiming(50_000, 50_000),
    }


def save_random_head(folder, labels, seed: int = 0, dim: int = 1280) -> None:
    """What training leaves in a head's folder, with random weights: the head and its familiarity. The training
    features are random unit vectors with negative entries only: a photo's (non-negative, pooled after ReLU) are
    far from all of them, so its head weight is 0 and the zero-shot part carries the answer."""
    from scoring import blend
    from scoring.encoders import efficientnet_version
    from scoring.models import save_head

    rng = np.random.default_rng(seed)
    save_head(folder, rng.normal(0, 0.03, (len(labels), dim)), rng.normal(0, 0.1, len(labels)),
              {"encoder": efficientnet_version(), "dim": dim, "labels": list(labels)})
    train = -np.abs(rng.normal(0, 1, (40, dim))).astype(np.float32)
    train /= np.linalg.norm(train, axis=1, keepdims=True)
    blend.save_familiarity(folder, train, blend.nearest_similarity(train, train, exclude_self=True))
