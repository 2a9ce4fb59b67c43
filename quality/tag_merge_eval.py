"""How the automatic tag merges compare with what is known: planted groups, and IMGenie's hand-made map.

- **Planted groups**: the demo site plants co-occurrence groups (ground truth ``planted_tag_groups``:
  antecedent, consequent, the share it planted); a group is recovered when the antecedent's label is
  the consequent's label.
- **IMGenie's map** (73 tags -> 20 labels, merged by hand; a CSV ``old,new,type`` kept outside the
  repository): the adjusted Rand index between the two partitions of the tags both maps hold
  (1 = the same grouping, 0 = as good as chance; it can go below 0), and pair precision / recall
  (of the tag pairs we put under one label, the share IMGenie did too; and the other way round).

Pure Python over plain rows (gold.tag_map as dicts); nothing here reads the demo site's code.
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Iterable, Mapping
from math import comb
from pathlib import Path

from quality.catalogue_eval import contingency, pair_scores


def adjusted_rand_index(pairs: Iterable[tuple[Hashable, Hashable]]) -> float:
    """ARI of two clusterings given as one ``(cluster in A, cluster in B)`` pair per item (Hubert & Arabie)."""
    cells, left, right, n = contingency(pairs)
    if n < 2:
        return 1.0
    index = sum(comb(c, 2) for c in cells.values())
    sum_left = sum(comb(c, 2) for c in left.values())
    sum_right = sum(comb(c, 2) for c in right.values())
    expected = sum_left * sum_right / comb(n, 2)
    maximum = (sum_left + sum_right) / 2
    if maximum == expected:  # both all singletons or both one cluster: identical partitions
        return 1.0
    return (index - expected) / (maximum - expected)


def planted_recovery(tag_map: Iterable[Mapping], planted_groups: Iterable[Mapping]) -> list[dict]:
    """One row per planted group: was the antecedent merged into the consequent's label, and at what share."""
    rows = {r["tag"]: r for r in tag_map}
    out = []
    for group in planted_groups:
        tag, broader = group["antecedent"], group["consequent"]
        ours = rows.get(tag, {})
        out.append({
            "group": f"{tag}→{broader}", "planted_p": group.get("target_p"), "observed_p": group.get("observed_p"),
            "label": ours.get("label"), "p_into_given_tag": ours.get("p_into_given_tag"),
            "recovered": tag in rows and broader in rows and ours["label"] == rows[broader]["label"],
        })
    return out


def read_reference_map(path: Path | str) -> dict[str, str]:
    """``old,new,...`` CSV rows -> {tag: label}."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return {row["old"].strip(): row["new"].strip() for row in csv.DictReader(handle)}


def agreement(tag_map: Iterable[Mapping], reference: Mapping[str, str]) -> dict:
    """ARI between our labels and the reference's over the tags both hold, with the sizes behind it."""
    ours = {r["tag"]: r["label"] for r in tag_map}
    common = sorted(set(ours) & set(reference))
    pairs = pair_scores((ours[t], reference[t]) for t in common)
    return {
        "ari": round(adjusted_rand_index((ours[t], reference[t]) for t in common), 4),
        "pair_precision": round(pairs.precision, 4),
        "pair_recall": round(pairs.recall, 4),
        "tags_compared": len(common),
        "our_labels": len({ours[t] for t in common}),
        "reference_labels": len({reference[t] for t in common}),
        "reference_tags_missing_here": sorted(set(reference) - set(ours)),
    }
