"""Every kind of upload gets a verdict from the real scorer (EfficientNet-Lite0 + a head), one bad file never
costs the others; submit's header check refuses what it can without decoding."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core import settings
from scoring import images
from scoring.encoders import IMAGENET_MEAN, IMAGENET_STD, efficientnet_version
from scoring.models import ModelSpec
from scoring.score_uploads import score_inputs
from tests.unit.scoring_files import every_kind, save_random_head

LABELS = ("비오는날", "밤", "카페")
GROUPS = ("weather", "situation", "situation")
REASONS = {
    "bad_text": "not an image",
    "bad_zero_bytes": "empty file (0 bytes)",
    "bad_corrupt_jpeg": "corrupt",
    "bad_truncated_jpeg": "truncated",
    "bad_bomb_png": "too large",
}


@pytest.fixture(scope="module")
def head_spec(tmp_path_factory) -> ModelSpec:
    """A real head file (random weights) over the real encoder: what a trained head looks like on disk."""
    folder = tmp_path_factory.mktemp("head")
    encoder = efficientnet_version()
    save_random_head(folder, LABELS)
    return ModelSpec("head", "head-test", str(folder), encoder, LABELS, GROUPS, None, str(settings.load().encoder_dir))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[str, dict[str, str]]:
    home = tmp_path_factory.mktemp("home")
    paths = {}
    for name, data in every_kind().items():
        (home / name).write_bytes(data)
        paths[name] = name
    return str(home), paths


def test_every_input_gets_a_verdict_in_one_batch(head_spec, files):
    home, paths = files
    results = {r["input_key"]: r for r in score_inputs(sorted(paths.items()), head_spec, home, 80_000_000)}
    assert set(results) == set(paths)
    for name, result in results.items():
        if name.startswith("ok_"):
            assert result["ok"], (name, result["reason"])
            assert len(result["scores"]) == len(LABELS) and all(0.0 <= x <= 1.0 for x in result["scores"])
        else:
            assert not result["ok"] and result["scores"] is None
            assert REASONS[name] in result["reason"], (name, result["reason"])
    assert (results["ok_exif_rotated"]["width"], results["ok_exif_rotated"]["height"]) == (100, 200)
    assert results["ok_animated_gif"]["format"] == "GIF"
    assert results["ok_webp"]["format"] == "WEBP"


def test_a_missing_stored_copy_fails_alone(head_spec, files):
    home, paths = files
    results = score_inputs([("gone", "no/such/file.jpg"), ("fine", paths["ok_jpeg"])], head_spec, home, 80_000_000)
    assert [r["ok"] for r in results] == [False, True]
    assert "stored copy is missing" in results[0]["reason"]


def test_the_pixel_limit_is_the_setting_given(head_spec, files):
    home, paths = files
    (result,) = score_inputs([("big", paths["ok_jpeg"])], head_spec, home, 10_000)
    assert not result["ok"] and "too large" in result["reason"]


def test_decoding_puts_pictures_upright_and_in_rgb(files):
    home, paths = files
    load = lambda name: images.load(images.Path(home) / paths[name], 80_000_000)  # noqa: E731
    gif = load("ok_animated_gif")
    assert gif.frames == 2 and gif.image.getpixel((5, 5)) == (255, 0, 0)  # the first frame: red
    rotated = load("ok_exif_rotated")
    assert rotated.rotated and rotated.image.size == (100, 200)
    top, bottom = rotated.image.getpixel((50, 10)), rotated.image.getpixel((50, 190))
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]  # the blue half is on top once turned
    for name in ("ok_cmyk_jpeg", "ok_16bit_png", "ok_palette_png", "ok_rgba_png", "ok_la_png", "ok_grayscale_jpeg"):
        assert load(name).image.mode == "RGB", name
    sixteen = np.asarray(load("ok_16bit_png").image)
    assert sixteen.max() > 200  # the 16-bit range was scaled onto 8 bits, not clipped to white or black


@pytest.mark.parametrize("size", [(1, 1), (1, 4000), (4000, 1), (640, 480)])
def test_model_input_is_bounded_whatever_the_aspect_ratio(size):
    picture = images.Image.new("RGB", size, (120, 60, 30))
    arr = images.to_model_input(picture, 224, IMAGENET_MEAN, IMAGENET_STD)
    assert arr.shape == (3, 224, 224) and arr.dtype == np.float32
    expected = (120 / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]
    assert abs(float(arr[0].mean()) - expected) < 1e-3


def test_probe_reads_headers_only():
    kinds = every_kind()
    assert images.probe(kinds["ok_webp"], 80_000_000).extension == ".webp"
    assert images.probe(kinds["ok_exif_rotated"], 80_000_000).format == "JPEG"
    # a header that claims 2.5 gigapixels is refused before a pixel is decoded
    with pytest.raises(images.Unreadable, match="too large"):
        images.probe(kinds["bad_bomb_png"], 80_000_000)
    with pytest.raises(images.Unreadable, match="not an image"):
        images.probe(kinds["bad_text"], 80_000_000)
    with pytest.raises(images.Unreadable, match="empty file"):
        images.probe(b"", 80_000_000)
    iphone = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64  # how a HEIC file starts
    with pytest.raises(images.Unreadable, match="HEIC/HEIF photo .* export it as JPEG"):
        images.probe(iphone, 80_000_000)


def without_read_override(code: str) -> subprocess.CompletedProcess:
    """Run Python code unable to read files it has no permission for (root too: without CAP_DAC_*)."""
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root without setpriv cannot be denied a read")
        caps = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    return subprocess.run(prefix + [sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_an_unreadable_stored_copy_gets_a_reason(tmp_path):
    locked = tmp_path / "locked.jpg"
    locked.write_bytes(every_kind()["ok_jpeg"])
    locked.chmod(0)
    done = without_read_override(
        "from pathlib import Path; from scoring import images\n"
        f"try:\n    images.load(Path({str(locked)!r}), 80_000_000)\n"
        "except images.Unreadable as why:\n    print(why)\n")
    assert done.returncode == 0, done.stderr
    assert "permission denied" in done.stdout
