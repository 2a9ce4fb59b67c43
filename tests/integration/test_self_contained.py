"""A clone anywhere has what it needs: no ../shared beside it, no SCENETUNE_REFERENCE_DIR."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from core import settings
from demo_site import reference
from demo_site.catalogue import generate
from demo_site.covers import render_cover
assert settings.load().reference_dir is None
catalogue = generate(7, "tiny", 0)
playlist = next(p for p in catalogue.playlists.values() if p.cover_kind.startswith("template_"))
print(json.dumps({
    "demo_site": reference.__file__,
    "templates": str(reference.templates_dir()),
    "songs": len(reference.raw_songs()),
    "playlists": len(catalogue.playlists),
    "template_shape": list(reference.template_image(3).shape),
    "cover_bytes": len(render_cover(playlist)),
}))
"""


def test_a_clone_without_shared_reference_generates_the_demo_site(tmp_path):
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()
    clone = tmp_path / "elsewhere" / "scenetune"
    for name in tracked:
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k != "SCENETUNE_REFERENCE_DIR"}
    env.update(PYTHONPATH=str(clone), SCENETUNE_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["demo_site"]).is_relative_to(clone)  # the copy ran, not this checkout
    assert Path(found["templates"]) == clone / "spark_jobs" / "covers" / "templates"
    assert found["songs"] > 15_000 and found["playlists"] == 50
    assert found["template_shape"] == [600, 600] and found["cover_bytes"] > 1000


def test_no_code_builds_a_path_into_the_shared_folder():
    offenders = [str(p.relative_to(REPO)) for pkg in ("core", "scenetune", "crawlers", "spark_jobs", "schemas",
                                                      "quality", "warehouse", "scoring", "demo_site", "dags", "bench")
                 for p in (REPO / pkg).rglob("*.py") if '"shared"' in p.read_text()]
    assert offenders == []
