"""Maintenance removes the Spark scratch killed runs left (blockmgr-*, spark-*) once it is old enough."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from scenetune.cli import cli
from warehouse import maintenance

DAY = 24 * 3600


def _folder(root, name: str, age_s: float, inner_age_s: float | None = None):
    folder = root / name
    (folder / "0a").mkdir(parents=True)
    block = folder / "0a" / "shuffle_0_0_0.data"
    block.write_bytes(b"x" * 100)
    now = time.time()
    os.utime(block, (now - (age_s if inner_age_s is None else inner_age_s),) * 2)
    for path in (folder / "0a", folder):
        os.utime(path, (now - age_s,) * 2)
    return folder


def test_scratch_older_than_the_setting_goes_and_younger_or_other_folders_stay(home, monkeypatch):
    scratch = home / "spark" / "tmp"
    old_blocks = _folder(scratch, "blockmgr-1f2e", 2 * DAY)
    old_spark = _folder(scratch, "spark-8c1d", 3 * DAY)
    fresh = _folder(scratch, "blockmgr-77aa", 3600)
    in_use = _folder(scratch, "spark-5b5b", 2 * DAY, inner_age_s=60)  # an old folder a running job still writes in
    other = _folder(scratch, "notes", 5 * DAY)
    (scratch / "spark-link").symlink_to(other, target_is_directory=True)
    os.utime(scratch / "spark-link", (time.time() - 5 * DAY,) * 2, follow_symlinks=False)

    assert maintenance.clean_spark_scratch(scratch, 24, dry_run=True) == ["blockmgr-1f2e", "spark-8c1d"]
    assert old_blocks.exists() and old_spark.exists()

    monkeypatch.setenv("SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS", "36")
    done = CliRunner().invoke(cli, ["maintenance"])
    assert done.exit_code == 0, done.output
    assert "removed 2 Spark scratch folder(s) older than 36h" in done.output
    assert not old_blocks.exists() and not old_spark.exists()
    assert fresh.exists() and in_use.exists() and other.exists() and (scratch / "spark-link").is_symlink()
    assert "removed 0 Spark scratch folder(s)" in CliRunner().invoke(cli, ["maintenance"]).output


def test_no_scratch_folder_yet_is_nothing_to_do(tmp_path):
    assert maintenance.clean_spark_scratch(tmp_path / "absent", 24) == []
