"""`scenetune submit / score / status / results` as a user runs them, and the gallery in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from scenetune.cli import cli as scenetune_cli
from schemas.scoring import IMAGE_TAGS, RECOMMENDATIONS
from tests.integration.scoring_helpers import photo_folder, register_head, write_catalogue
from tests.unit.scoring_files import encode, photo
from warehouse import delta

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
CLI = [sys.executable, "-m", "scenetune.cli"]
REPO = Path(__file__).resolve().parents[2]


def cli(args, home: Path, prefix=(), **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SCENETUNE_HOME": str(home), "SPARK_MASTER": "local[2]", **env}
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True, env=environment, cwd=REPO)


def no_read_override() -> list[str]:
    """A prefix that runs a command unable to read a mode-000 file, root included (no CAP_DAC_*)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv cannot be denied a read")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_submit_score_status_results_and_the_gallery(home, spark, tmp_path):
    register_head("20261121T000000Z")
    write_catalogue()
    folder = photo_folder(tmp_path / "photos")
    (folder / "locked.jpg").write_bytes(encode(photo("camera"), "JPEG"))
    (folder / "locked.jpg").chmod(0)
    (folder / "captions.csv").write_text("file,text\ncoffee.JPG,morning coffee at the cafe\n../escape.jpg,x\n")

    done = cli(["submit", str(folder), "--genres", "발라드,pop", "--submitter", "민지"], home, prefix=no_read_override())
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.endswith(": 5 queued, 1 duplicate, 6 rejected"), done.stdout
    submission = first.split()[1].rstrip(":")
    assert "rejected  locked.jpg: cannot be read: permission denied" in done.stdout
    assert "rejected  pipe.jpg: a FIFO (named pipe), not a file" in done.stdout
    assert "'../escape.jpg' is not a file inside the submitted folder: ignored" in done.stdout

    status = cli(["status", submission[:20]], home)  # a unique prefix is enough
    assert status.returncode == 0 and "0/6 images have a verdict" in status.stdout

    # `scenetune score` in this process: it uses the tests' Spark session (a second JVM costs half a minute).
    scored = CliRunner().invoke(scenetune_cli, ["score", "--run-key", "20261122T020000Z"])
    assert scored.exit_code == 0, scored.output
    assert "4 scored, 1 failed" in scored.output and "1 duplicates resolved" in scored.output
    assert "songs: " in scored.output and "recommendations from catalogue 20261120T000000Z" in scored.output
    assert "not published: no catalogue version is live yet" in scored.output  # nothing to publish beside
    status = cli(["status", submission], home)
    assert "6/6 images have a verdict (finished)" in status.stdout
    assert "failed   truncated.jpg: truncated or corrupt JPEG" in status.stdout

    csv_out = cli(["results", submission, "--format", "csv"], home)
    lines = csv_out.stdout.splitlines()
    assert lines[0].startswith("file_name,status,reason,sha256") and len(lines) == 1 + 12
    exported = json.loads(cli(["results", submission, "--format", "json"], home).stdout)
    coffee = next(r for r in exported if r["file_name"] == "coffee.JPG")
    assert coffee["caption"] == "morning coffee at the cafe" and coffee["status"] == "scored"
    # Each group's verdict and the head's weight, as stored, in JSON and CSV; the gallery marks uncertain groups.
    stored = {(t["input_key"], t["label_group"]): t["group_verdict"] for t in delta.read(IMAGE_TAGS).to_pylist()}
    shown = [r for r in exported if r["verdicts"]]
    assert len(shown) == 5 and all(r["verdicts"] == {g: stored[(r["input_key"], g)] for g in ("weather", "mood",
                                                                                                "situation")} for r in shown)
    assert coffee["verdicts"]["situation"] == "confident" and coffee["head_weight"] == 0.0
    header = lines[0].split(",")
    assert {"weather_verdict", "mood_verdict", "situation_verdict", "head_weight"} <= set(header)
    uncertain = sum(v == "uncertain" for r in shown for v in r["verdicts"].values())

    # Both recommenders' songs for every scored photo (and the duplicate, which shares them), in the gallery.
    recs = delta.read(RECOMMENDATIONS).to_pylist()
    assert {r["genre_choice"] for r in recs} == {"발라드,POP"}
    songs_shown = sum(len(songs) for r in exported for songs in r["recommendations"].values())
    assert songs_shown == len(recs) + sum(
        len(s) for r in exported if r["status"] == "duplicate" for s in r["recommendations"].values())
    only_mpic = json.loads(cli(["results", submission, "--format", "json", "--recommender", "mpic_embedding"],
                               home).stdout)
    assert {name for r in only_mpic for name in r["recommendations"]} == {"mpic_embedding"}
    gallery = tmp_path / "gallery" / "index.html"
    done = cli(["results", submission, "--format", "html", "--out", str(gallery)], home)
    assert done.returncode == 0, done.stderr
    page = gallery.read_text()
    assert page.count('<article class="card">') == 5  # photos; the 6 rejected and 1 failed are listed below
    assert page.count("<li><span class=\"name\">") == 6 + 1
    assert page.count("data:image/jpeg;base64,") == 5  # the scored photos and the duplicate; never a file link
    assert 'href="https://www.genie.co.kr/detail/songInfo?xgnm=10' in page and "<b>#" in page
    assert "Rainy Window — Alpha" in page and "“morning coffee at the cafe”" in page
    assert "by tag meaning (MPIC)" in page and "by similar covers (IMGenie)" in page
    assert "http://" not in page and "<script" not in page
    assert page.count('<span class="uncertain"') == uncertain and "from what is in the photo" in page

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is installed by scripts/setup.sh")
    shot = tmp_path / "gallery.png"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--hide-scrollbars", "--window-size=1280,1800"]
    dom = subprocess.run([*flags, "--dump-dom", gallery.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and dom.stdout.count('class="card"') == 5
    assert dom.stdout.count('class="song"') == songs_shown
    subprocess.run([*flags, f"--screenshot={shot}", gallery.as_uri()], capture_output=True, timeout=120, check=True)
    with Image.open(shot) as picture:
        assert picture.size == (1280, 1800)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 5000  # photos were drawn, not only boxes and text
    keep = os.environ.get("SCENETUNE_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_score_before_any_model_is_one_line(home, tmp_path):
    cli(["submit", str(photo_folder(tmp_path / "photos"))], home)
    done = cli(["score"], home)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no tag head trained yet" in done.stderr and "Traceback" not in done.stderr


def test_unknown_submission_and_bad_genre_are_one_line(home, tmp_path):
    done = cli(["status", "20260101T000000Z-nope"], home)
    assert done.returncode == 2 and "no submission" in done.stderr
    (tmp_path / "empty").mkdir()
    done = cli(["submit", str(tmp_path / "empty"), "--genres", "polka"], home)
    assert done.returncode == 2 and "unknown genre 'polka'" in done.stderr


def test_score_publishes_what_it_scored_beside_the_live_catalogue(home, spark, tmp_path):
    from schemas import TABLES
    from tests.integration import catalogue_rows
    from warehouse import versions
    from warehouse.publish import _publish_version

    # A full catalogue, the scoring fixtures over it, published as a refresh would once its gate passed
    # (this mix of fixtures is not one build, so no gate here). Its cleaned covers are not the fixtures'
    # covers: IMGenie finds none and says so by recommending nothing; MPIC recommends.
    pinned = catalogue_rows.write("20261101T000000Z", catalogue_rows.catalogue("20261101T000000Z"))
    register_head("20261121T000000Z")
    write_catalogue()
    pinned = {name: delta.version(TABLES[name]) for name in pinned}
    _publish_version(versions.make_row("20261120T000000Z", versions.run_time("20261120T000000Z"), pinned,
                                       status=versions.PUBLISHED, quality_failures=[], data_docs=None))
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee", "chelsea"):
        (folder / f"{name}.jpg").write_bytes(encode(photo(name), "JPEG"))
    assert cli(["submit", str(folder)], home).returncode == 0

    scored = CliRunner().invoke(scenetune_cli, ["score", "--run-key", "20261122T020000Z"])
    assert scored.exit_code == 0, scored.output
    assert "2 scored, 0 failed" in scored.output and "published to " in scored.output, scored.output
    recs = delta.read(RECOMMENDATIONS).to_pylist()
    assert recs and {r["recommender"] for r in recs} == {"mpic_embedding"}
    counted = cli(["sql", "--format", "csv", "SELECT count(*) AS n FROM recommendations"], home)
    assert counted.returncode == 0 and counted.stdout.splitlines() == ["n", str(len(recs))], counted.stderr
    uploads = cli(["sql", "--format", "csv", "SELECT count(*) AS n FROM image_uploads WHERE status = 'scored'"], home)
    assert uploads.stdout.splitlines() == ["n", "2"], uploads.stderr
