"""Maintenance removes the Spark scratch killed runs left (blockmgr-*, spark-*, artifacts-*, unpacked native
codecs) once nothing in it changed for a day; a dry run lists it; a running job's own scratch stays."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from scenetune.cli import cli
from warehouse import maintenance

DAY = 24 * 3600


def _age(path, age_s: float) -> None:
    os.utime(path, (time.time() - age_s,) * 2, follow_symlinks=False)


def _folder(root, name: str, age_s: float, inner_age_s: float | None = None, size: int = 100):
    """A scratch folder as Spark leaves it (a hashed subfolder, a block file), last changed ``age_s`` ago."""
    folder = root / name
    (folder / "0a").mkdir(parents=True)
    block = folder / "0a" / "shuffle_0_0_0.data"
    block.write_bytes(b"x" * size)
    _age(block, age_s if inner_age_s is None else inner_age_s)
    for path in (folder / "0a", folder):
        _age(path, age_s)
    return folder


def _file(root, name: str, age_s: float, size: int = 100):
    path = root / name
    path.write_bytes(b"x" * size)
    _age(path, age_s)
    return path


def test_scratch_older_than_the_setting_goes_and_younger_or_other_entries_stay(home, monkeypatch):
    scratch = home / "spark" / "tmp"
    old_blocks = _folder(scratch, "blockmgr-1f2e", 2 * DAY, size=3 * 2**20)
    old_spark = _folder(scratch, "spark-8c1d", 3 * DAY)
    old_artifacts = _folder(scratch, "artifacts-77c1", 3 * DAY)
    old_codec = _file(scratch, "liblz4-java-9463819096035364288.so", 2 * DAY)
    old_codec_lock = _file(scratch, "liblz4-java-9463819096035364288.so.lck", 2 * DAY, size=0)
    fresh = _folder(scratch, "blockmgr-77aa", 3600)
    fresh_codec = _file(scratch, "liblz4-java-1111.so", 60)  # a running JVM's
    in_use = _folder(scratch, "spark-5b5b", 2 * DAY, inner_age_s=60)  # an old folder a running job still writes in
    other = _folder(scratch, "notes", 5 * DAY)
    (scratch / "spark-link").symlink_to(other, target_is_directory=True)
    _age(scratch / "spark-link", 5 * DAY)
    removable = [old_artifacts, old_blocks, old_codec, old_codec_lock, old_spark]
    staying = [fresh, fresh_codec, in_use, other]

    would = maintenance.clean_spark_scratch(scratch, 24, dry_run=True)
    assert [x.name for x in would] == [p.name for p in removable]
    blocks = next(x for x in would if x.name == old_blocks.name)
    assert blocks.bytes == 3 * 2**20 and 47.9 <= blocks.idle_hours <= 48.1
    assert all(p.exists() for p in removable)

    monkeypatch.setenv("SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS", "36")
    dry = CliRunner().invoke(cli, ["maintenance", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would remove 5 Spark scratch folder(s) and file(s) older than 36h (3.0 MiB) in {scratch}" in dry.output
    assert "  blockmgr-1f2e  3.0 MiB, untouched for 48h" in dry.output
    assert all(p.exists() for p in removable) and not any(p.name in dry.output for p in staying)

    done = CliRunner().invoke(cli, ["maintenance"])
    assert done.exit_code == 0, done.output
    assert "removed 5 Spark scratch folder(s) and file(s) older than 36h (3.0 MiB)" in done.output
    assert not any(p.exists() for p in removable)
    assert all(p.exists() for p in staying) and (scratch / "spark-link").is_symlink()
    assert (other / "0a" / "shuffle_0_0_0.data").exists()  # the symlink's target was never followed
    assert "removed 0 Spark scratch folder(s) and file(s) older than 36h\n" in CliRunner().invoke(cli, ["maintenance"]).output


def test_no_scratch_folder_yet_is_nothing_to_do(tmp_path):
    assert maintenance.clean_spark_scratch(tmp_path / "absent", 24) == []


def test_nothing_a_running_driver_may_own_is_removed_however_long_it_idles(tmp_path):
    import subprocess
    import sys

    scratch = tmp_path / "spark" / "tmp"
    before = _folder(scratch, "blockmgr-0001", 2 * DAY)  # a killed run's, from before the driver started
    # A process whose command line says what a driver JVM of this home says (the session factory's option).
    driver = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"-Djava.io.tmpdir={scratch}"])
    try:
        deadline = time.monotonic() + 10
        while maintenance.running_driver_since(scratch) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        since = maintenance.running_driver_since(scratch)
        assert since is not None and abs(since - time.time()) < 10
        time.sleep(0.05)
        own = _folder(scratch, "spark-0002", 0)  # made by the running driver, then idle
        three_days_on = time.time() + 3 * DAY  # both untouched for days by then
        assert [x.name for x in maintenance.clean_spark_scratch(scratch, 24, now=three_days_on)] == ["blockmgr-0001"]
        assert own.exists() and not before.exists()
    finally:
        driver.kill()
        driver.wait()
    assert maintenance.running_driver_since(scratch) is None
    assert [x.name for x in maintenance.clean_spark_scratch(scratch, 24, now=time.time() + 3 * DAY)] == ["spark-0002"]
