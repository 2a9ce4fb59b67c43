"""Which tag head scoring uses: the one trained with the live catalogue version, never a rejected refresh's."""

from __future__ import annotations

import pyarrow as pa

from schemas.scoring import TAG_MODELS
from scoring.models import latest_head
from warehouse import delta, versions


def _head(run_key: str) -> None:
    row = {"run_key": run_key, "model_version": f"head-{run_key}", "catalogue_version": run_key, "encoder": "e",
           "path": f"models/tag_head/head-{run_key}", "label_source": "test", "labels": ["비"],
           "label_groups": ["weather"], "image_source": "test", "train_images": 0, "heldout_images": 0,
           "heldout_map": None, "prior_map": None}
    delta.replace_partition(TAG_MODELS, pa.Table.from_pylist([row], schema=TAG_MODELS.arrow_schema()),
                            {"run_key": run_key})


def _version(run_key: str, status: str) -> None:
    failures = ["gold.songs: no songs"] if status == versions.REJECTED else []
    versions.write_row(versions.make_row(run_key, versions.run_time(run_key), {}, status=status,
                                         quality_failures=failures, data_docs=None))


def test_the_live_versions_head_is_used_and_a_rejected_refreshs_head_never(home):
    assert latest_head() is None
    published, rejected, headless = "20261101T000000Z", "20261108T000000Z", "20261115T000000Z"
    _head(published)
    _head(rejected)
    assert latest_head().head_version == f"head-{rejected}"  # nothing published yet: the newest head
    _version(published, versions.PUBLISHED)
    _version(rejected, versions.REJECTED)
    assert latest_head().head_version == f"head-{published}"
    _version(headless, versions.PUBLISHED)  # its refresh had too little to train on: the previous head stays
    assert latest_head().head_version == f"head-{published}"


def test_a_heads_answer_version_names_the_head_and_the_zero_shot_settings(home, monkeypatch):
    _head("20261101T000000Z")
    spec = latest_head()
    assert spec.model_version.startswith("head-20261101T000000Z+zs-") and spec.head_labels == ("비",)
    monkeypatch.setenv("SCENETUNE_UNCERTAIN_MARGIN", "0.2")  # another verdict: stored answers are not reused
    assert latest_head().model_version != spec.model_version
    assert latest_head().head_version == spec.head_version
