"""Every image gets a verdict: each mode and format decodes upright to RGB; broken files are `unreadable`."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from spark_jobs.covers import classify, decode
from spark_jobs.covers.rules import Rules

LIMIT = 4_000_000


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(mode: str = "RGB", size=(64, 48)) -> Image.Image:
    w, h = size
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    arr[..., 2] = 90
    return Image.fromarray(arr).convert(mode) if mode != "RGB" else Image.fromarray(arr)


def test_every_mode_and_format_decodes_to_rgb():
    cases = {
        "jpeg rgb": encoded(gradient(), "JPEG"),
        "jpeg cmyk": encoded(gradient("CMYK"), "JPEG"),
        "jpeg grayscale": encoded(gradient("L"), "JPEG"),
        "progressive jpeg": encoded(gradient(), "JPEG", progressive=True, quality=80),
        "png palette": encoded(gradient("P"), "PNG"),
        "png rgba": encoded(gradient("RGBA"), "PNG"),
        "png la": encoded(gradient("LA"), "PNG"),
        "png 1-bit": encoded(gradient("1"), "PNG"),
        "png 16-bit": encoded(Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16)), "PNG"),
        "webp": encoded(gradient(), "WEBP"),
        "gif": encoded(gradient("P"), "GIF"),
        "bmp": encoded(gradient(), "BMP"),
        "tiff": encoded(gradient(), "TIFF"),
    }
    for name, data in cases.items():
        cover = decode.decode(data, LIMIT)
        assert cover.image.mode == "RGB" and cover.image.size == (64, 48), name
    assert decode.decode(cases["jpeg cmyk"], LIMIT).mode == "CMYK"
    assert decode.decode(cases["png 16-bit"], LIMIT).image.getextrema()[0][1] > 200  # scaled, not clipped black
    assert decode.decode(cases["jpeg rgb"], LIMIT).plain_jpeg
    assert not decode.decode(cases["jpeg cmyk"], LIMIT).plain_jpeg


def test_alpha_is_flattened_on_white():
    img = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    cover = decode.decode(encoded(img, "PNG"), LIMIT)
    assert cover.image.getpixel((5, 5)) == (255, 255, 255)
    palette = Image.new("P", (10, 10), 0)
    palette.info["transparency"] = 0
    assert decode.decode(encoded(palette, "PNG", transparency=0), LIMIT).image.getpixel((1, 1)) == (255, 255, 255)


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    cover = decode.decode(encoded(gradient(size=(64, 48)), "JPEG", exif=exif), LIMIT)
    assert cover.image.size == (48, 64) and cover.rotated and not cover.plain_jpeg


def test_an_animated_gif_uses_its_first_frame():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    cover = decode.decode(data, LIMIT)
    assert cover.frames == 2 and cover.image.size == (20, 20)


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"<html><body>not found</body></html>", "not an image"),
    (encoded(gradient(size=(300, 300)), "JPEG")[:700], "truncated or corrupt JPEG"),
    (encoded(gradient(size=(300, 300)), "PNG")[:-200], "truncated or corrupt PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image"),
])
def test_broken_files_are_unreadable_with_the_reason(data, reason):
    with pytest.raises(decode.Unreadable, match=reason):
        decode.decode(data, LIMIT)


def test_a_decompression_bomb_is_refused_from_its_header():
    # 20000 x 20000 white PNG: a few hundred KB on disk, 400 MP decoded
    bomb = encoded(Image.new("1", (20000, 20000), 1), "PNG")
    assert len(bomb) < 2_000_000
    with pytest.raises(decode.Unreadable, match="too large: .*400000000 pixels"):
        decode.decode(bomb, LIMIT)


def test_the_batch_gives_every_broken_file_a_verdict_and_goes_on(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.jpg"
    good.write_bytes(encoded(gradient(size=(120, 120)), "JPEG"))
    items = [("empty", None, b""), ("html", None, b"<html>"), ("missing", tmp_path / "nope.jpg", None),
             ("bomb", None, encoded(Image.new("1", (20000, 20000), 1), "PNG")), ("good", good, None)]
    rows = {r["cover_sha1"]: r for r in classify.analyse(items, Rules(max_pixels=LIMIT), home, home / "cleaned")}
    assert [rows[k]["image_kind"] for k in ("empty", "html", "missing", "bomb")] == ["unreadable"] * 4
    assert rows["missing"]["image_reason"].startswith("cover file unreadable")
    assert rows["bomb"]["image_reason"].startswith("too large")
    assert rows["good"]["image_kind"] == "scene" and (home / rows["good"]["cleaned_path"]).is_file()
    assert classify.verdict_of("unreadable") == "unreadable"
